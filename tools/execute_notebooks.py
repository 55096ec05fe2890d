"""Re-execute the course notebooks in place: the only way their outputs are produced.

Usage: python tools/execute_notebooks.py [NOTEBOOK_OR_FOLDER ...]   (``make notebooks``)

For each notebook: stamp the Colab install cell, run every cell top to bottom in a
fresh kernel whose working directory is the notebook's folder, store the outputs, and
drop the metadata that changes from run to run (execution timestamps).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbclient
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.colab import stamp_install_cell  # noqa: E402

KERNEL_NAME = "python3"
CELL_TIMEOUT_SECONDS = 300


def find_notebooks(paths: list[str]) -> list[Path]:
    """Every ``.ipynb`` named, or found below a named folder (checkpoints skipped)."""
    notebooks: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            notebooks += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.suffix == ".ipynb":
            notebooks.append(path)
        else:
            raise SystemExit(f"not a notebook or folder: {name}")
    return notebooks


def execute_in_place(path: Path) -> float:
    """Stamp, execute and save one notebook; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    stamp_install_cell(notebook)
    start = time.perf_counter()
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_SECONDS,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    notebook.metadata.kernelspec = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str]) -> int:
    notebooks = find_notebooks(argv or ["book", "solutions"])
    for path in notebooks:
        print(f"executing {path} ...", flush=True)
        print(f"  done in {execute_in_place(path):.1f} s", flush=True)
    print(f"{len(notebooks)} notebook(s) executed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
