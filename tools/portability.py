"""Check that every stored output holds on other CPUs: nbval under several CPU code paths.

Usage: python tools/portability.py [VARIANT ...] [NOTEBOOK_OR_FOLDER ...]

``make portability`` runs every variant on ``book/`` and ``solutions/``. Name variants
to run only those, and notebooks or folders to check only those.

PyTorch (ATen), MKL, oneDNN and OpenBLAS each pick their kernels by CPU, and other
kernels add numbers in another order. Each of them can be steered to another code path
with an environment variable, which emulates a machine with another CPU:

* ``ATEN_CPU_CAPABILITY``: PyTorch's own vectorised kernels (``default`` = no SIMD
  beyond SSE2, ``avx2``, ``avx512``).
* ``MKL_CBWR``: MKL's conditional numerical reproducibility branch, used by PyTorch's
  matrix products (``COMPATIBLE`` = the code path every x86-64 CPU can run; ``AVX2``,
  ``AVX512`` and the like are honoured on Intel CPUs only).
* ``ONEDNN_MAX_CPU_ISA``: the newest instruction set oneDNN may use (convolutions).
* ``OPENBLAS_CORETYPE``: the kernels of NumPy's OpenBLAS (matrix products in NumPy).

For each variant, nbval re-runs every notebook of ``book/`` and ``solutions/`` with the
variables set and compares every output with the stored one, figures included. Before
that, a short probe checks that each setting took effect on this CPU; a setting this
CPU does not accept stops the run with a message saying so, rather than testing the
native path twice under another name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDERS = ("book", "solutions")


@dataclass(frozen=True)
class Variant:
    """One emulated machine: a name, what it stands for and the variables that make it."""

    name: str
    emulates: str
    settings: dict[str, str] = field(default_factory=dict)


VARIANTS = (
    Variant(
        "baseline-x86-64",
        "an old or unknown x86-64 CPU: no AVX anywhere, MKL's portable path",
        {
            "ATEN_CPU_CAPABILITY": "default",
            "MKL_CBWR": "COMPATIBLE",
            "ONEDNN_MAX_CPU_ISA": "SSE41",
            "OPENBLAS_CORETYPE": "Nehalem",
        },
    ),
    Variant(
        "avx2",
        "a laptop or cloud CPU with AVX2 but no AVX-512",
        {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "OPENBLAS_CORETYPE": "Haswell"},
    ),
    Variant(
        "avx512-server",
        "an Intel server with AVX-512 (SkylakeX kernels in OpenBLAS)",
        {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "OPENBLAS_CORETYPE": "SkylakeX"},
    ),
    Variant(
        "avx-two-threads",
        "an AVX (Sandy Bridge) CPU whose libraries run two threads, as Colab's do",
        {
            "ATEN_CPU_CAPABILITY": "default",
            "MKL_CBWR": "COMPATIBLE",
            "ONEDNN_MAX_CPU_ISA": "AVX",
            "OPENBLAS_CORETYPE": "Sandybridge",
            "OMP_NUM_THREADS": "2",
            "OPENBLAS_NUM_THREADS": "2",
        },
    ),
)

#: Prints what each library reports it runs, so that a refused setting is seen.
PROBE = r"""
import ctypes, glob, os, numpy, torch
print("ATEN_CPU_CAPABILITY", torch.backends.cpu.get_cpu_capability().lower())
for library in glob.glob(os.path.join(os.path.dirname(numpy.__file__), "..", "numpy.libs", "*openblas*")):
    for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
        if hasattr(ctypes.CDLL(library), symbol):
            corename = getattr(ctypes.CDLL(library), symbol)
            corename.restype = ctypes.c_char_p
            print("OPENBLAS_CORETYPE", corename().decode().lower())
            break
a = torch.ones(8, 8)
a @ a
"""


def environment(variant: Variant) -> dict[str, str]:
    """The caller's environment with the variant's variables set (MKL reports its branch)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **variant.settings, "MKL_VERBOSE": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def refused_settings(variant: Variant) -> list[str]:
    """The settings of ``variant`` that this CPU or these libraries did not take."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment(variant), capture_output=True, text=True, check=True
    )
    reported = dict(
        line.split(" ", 1)
        for line in probe.stdout.splitlines()
        if line.startswith(("ATEN_CPU_CAPABILITY ", "OPENBLAS_CORETYPE "))
    )
    reported["MKL_CBWR"] = next(
        (word.removeprefix("CNR:") for word in probe.stdout.split() if word.startswith("CNR:")), "?"
    )
    refused = []
    for name in ("ATEN_CPU_CAPABILITY", "OPENBLAS_CORETYPE", "MKL_CBWR"):
        wanted = variant.settings.get(name)
        if wanted is not None and reported.get(name, "?").lower() != wanted.lower():
            refused.append(f"{name}={wanted} (runs {reported.get(name, '?')})")
    return refused


def run_nbval(variant: Variant, paths: list[str]) -> tuple[int, float, str]:
    """nbval on the notebooks below ``paths`` under ``variant``: exit status, seconds, summary line."""
    env = environment(variant)
    env.pop("MKL_VERBOSE")
    # The project's configuration (pyproject.toml) loads the figure plugin, wherever the notebooks are.
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--dist",
        "loadfile",
        "--nbval",
        "--nbval-current-env",
        "--nbval-kernel-startup-timeout",
        "300",
        "-q",
        "-rfE",
        *paths,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    print("\n".join(failures) or "", flush=True)
    if result.returncode not in (0, 1):
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
    return result.returncode, seconds, lines[-1] if lines else "no output"


def main(arguments: list[str]) -> int:
    known = {v.name for v in VARIANTS}
    names = [a for a in arguments if a in known]
    paths = [a for a in arguments if a not in known]
    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        raise SystemExit(f"neither a variant nor a notebook or folder: {missing}; variants: {sorted(known)}")
    chosen = [v for v in VARIANTS if not names or v.name in names]
    results = []
    for variant in chosen:
        settings = " ".join(f"{k}={v}" for k, v in variant.settings.items())
        print(f"== {variant.name}: {variant.emulates}\n   {settings}", flush=True)
        refused = refused_settings(variant)
        if refused:
            print(f"   this machine does not take: {', '.join(refused)}")
            return 2
        status, seconds, summary = run_nbval(variant, paths or list(NOTEBOOK_FOLDERS))
        print(f"   {summary} ({seconds:.0f} s)", flush=True)
        results.append((variant.name, status, seconds, summary))
    print("\nportability summary")
    for name, status, seconds, summary in results:
        print(f"  {'ok  ' if status == 0 else 'FAIL'} {name:16} {seconds:5.0f} s  {summary}")
    return 0 if all(status == 0 for _, status, _, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
