# relu-course toolchain. `make book` and `make test` set up everything they need:
# a virtual environment in .venv with the exact pins of requirements.txt and the
# course package installed in editable mode. The set-up runs again only when
# requirements.txt or pyproject.toml change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
NOTEBOOK_DIRS := book solutions

# Notebook kernels and tools run from the environment, whatever the caller's PATH.
export PATH := $(abspath $(BIN)):$(PATH)
# One thread per process: the tests run two processes and their notebook kernels at a
# time on a 2-core machine, and PyTorch's thread pools slow to a crawl when they
# compete for cores. The notebooks ask for one thread themselves, too.
export OMP_NUM_THREADS := 1

.PHONY: help setup book unit lint test portability notebooks exercises clean

help:
	@echo "make book       build the course into _build/html (uses the outputs stored in the notebooks)"
	@echo "make unit       the package's unit tests alone (tests/package), fast"
	@echo "make lint       ruff: lint and format check of the package, the tests and the tools"
	@echo "make test       lint, unit tests, nbval on every notebook (text and figures) as Colab runs it, strict book build"
	@echo "make portability  nbval on book/ and solutions/ under several emulated CPUs (see README)"
	@echo "make notebooks  re-execute the notebooks in place: the only way outputs are produced"
	@echo "make exercises  regenerate exercises/ from solutions/ (make notebooks does it too)"
	@echo "make setup      create .venv with the exact pins (book and test do this themselves)"
	@echo "make clean      remove _build, .venv and .venv-colab"

$(READY): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

setup: $(READY)

# Sphinx copies static files only when it writes a page, so a change to book/_static
# alone (the stylesheet) rebuilds every page: otherwise _build/html keeps the old copy.
STATIC_CHANGED = $(shell find book/_static -newer _build/html/book/intro.html 2>/dev/null | head -n 1)

book: $(READY)
	$(BIN)/jupyter-book build . $(if $(STATIC_CHANGED),--all)
	@echo "The book is ready: open $(abspath _build/html/index.html)"

# The notebooks are checked as Colab would run them: tools/colab_simulation.py installs
# the package's wheel into .venv-colab (numpy, torch, matplotlib and a kernel, nothing
# else) and copies each notebook alone into an empty folder; nbval runs those copies in
# that environment and compares every output with the stored one, figures included.
unit: $(READY)
	$(BIN)/python -m pytest -n 2 tests/package

lint: $(READY)
	$(BIN)/ruff check relu_course tests tools
	$(BIN)/ruff format --check relu_course tests tools

test: $(READY) lint
	$(BIN)/python tools/colab_simulation.py
	JUPYTER_PATH=$(abspath _build/colab) $(BIN)/python -m pytest -n 2 --dist loadfile \
		--nbval --nbval-kernel-name relu-course-colab --nbval-kernel-startup-timeout 300 \
		tests _build/colab/notebooks

# Every stored output must hold on other CPUs too: tools/portability.py re-runs nbval on
# book/ and solutions/ once per emulated CPU (ATEN_CPU_CAPABILITY, MKL_CBWR,
# ONEDNN_MAX_CPU_ISA, OPENBLAS_CORETYPE; the README says what each variant emulates).
portability: $(READY)
	$(BIN)/python tools/portability.py

notebooks: $(READY)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOK_DIRS)
	$(BIN)/python tools/make_exercises.py

# exercises/ is generated from solutions/ (stored unexecuted, solution regions replaced
# by stubs); tests/course/test_exercises.py fails when it differs from what this writes.
exercises: $(READY)
	$(BIN)/python tools/make_exercises.py

clean:
	rm -rf _build $(VENV) .venv-colab
