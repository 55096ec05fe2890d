"""Course tooling for maintainers: executing notebooks and stamping their Colab cell."""
