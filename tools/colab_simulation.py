"""Prepare the notebooks to run as they would in Colab: the package alone, from its wheel.

Usage: python tools/colab_simulation.py      (``make test`` runs it before the tests)

1. ``.venv-colab``: an environment holding only numpy, torch, matplotlib and an IPython
   kernel, at the versions requirements.txt pins (made once, again when that file changes).
2. The package's wheel is built from the working tree. A pip dry run records what
   installing it would add to that environment (``_build/colab/install-report.json``;
   tests/course/test_colab_environment.py checks it adds nothing but the package), then the
   wheel is installed.
3. Every notebook is copied alone into an empty folder under ``_build/colab/notebooks``.
4. A kernel spec ``relu-course-colab`` for that environment is written under
   ``_build/colab/kernels``; with ``JUPYTER_PATH=_build/colab``, nbval runs the copies in it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB_VENV = ROOT / ".venv-colab"
COLAB_PYTHON = COLAB_VENV / "bin" / "python"
OUTPUT = ROOT / "_build" / "colab"
NOTEBOOK_COPIES = OUTPUT / "notebooks"
INSTALL_REPORT = OUTPUT / "install-report.json"
WHEELS = ROOT / "_build" / "dist"
KERNEL_NAME = "relu-course-colab"
#: What Colab already has, as far as the course is concerned, plus the kernel.
PREINSTALLED = ("numpy", "torch", "matplotlib", "ipykernel")
NOTEBOOK_FOLDERS = ("book", "exercises", "solutions")


def run(*command: str | Path) -> None:
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT)


def requirements_fingerprint() -> str:
    return hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()


def ensure_environment() -> None:
    """Create .venv-colab with the preinstalled packages, pinned by requirements.txt."""
    stamp = COLAB_VENV / ".fingerprint"
    if stamp.exists() and stamp.read_text() == requirements_fingerprint():
        return
    shutil.rmtree(COLAB_VENV, ignore_errors=True)
    run(sys.executable, "-m", "venv", COLAB_VENV)
    run(COLAB_PYTHON, "-m", "pip", "install", "--quiet", *PREINSTALLED, "--constraint", ROOT / "requirements.txt")
    stamp.write_text(requirements_fingerprint())


def build_wheel() -> Path:
    """Build the package's wheel from the working tree into _build/dist."""
    shutil.rmtree(WHEELS, ignore_errors=True)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        WHEELS,
        ROOT,
    )
    (wheel,) = WHEELS.glob("relu_course-*.whl")
    return wheel


def install_wheel(wheel: Path) -> None:
    """Record what a plain install would add, then install the wheel."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    run(COLAB_PYTHON, "-m", "pip", "uninstall", "-qq", "--yes", "relu-course")
    run(COLAB_PYTHON, "-m", "pip", "install", "--quiet", "--dry-run", "--report", INSTALL_REPORT, wheel)
    run(COLAB_PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", wheel)


def copy_notebooks_alone() -> int:
    """Copy each notebook into an empty folder of its own; return how many."""
    shutil.rmtree(NOTEBOOK_COPIES, ignore_errors=True)
    count = 0
    for folder in NOTEBOOK_FOLDERS:
        for notebook in sorted((ROOT / folder).glob("*.ipynb")):
            destination = NOTEBOOK_COPIES / folder / notebook.stem
            destination.mkdir(parents=True)
            shutil.copy2(notebook, destination / notebook.name)
            count += 1
    return count


def write_kernel_spec() -> None:
    spec = {
        "argv": [str(COLAB_PYTHON), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "relu-course (Colab simulation)",
        "language": "python",
    }
    folder = OUTPUT / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def main() -> int:
    ensure_environment()
    install_wheel(build_wheel())
    count = copy_notebooks_alone()
    write_kernel_spec()
    print(
        f"Colab simulation ready: {count} notebook(s) under {NOTEBOOK_COPIES.relative_to(ROOT)}, kernel {KERNEL_NAME}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
