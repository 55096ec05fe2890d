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

.PHONY: help setup book test notebooks clean

help:
	@echo "make book       build the course into _build/html (uses the outputs stored in the notebooks)"
	@echo "make test       unit tests, nbval on every notebook (text and figures), strict book build"
	@echo "make notebooks  re-execute the notebooks in place: the only way outputs are produced"
	@echo "make setup      create .venv with the exact pins (book and test do this themselves)"
	@echo "make clean      remove _build and .venv"

$(READY): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

setup: $(READY)

book: $(READY)
	$(BIN)/jupyter-book build .
	@echo "The book is ready: open $(abspath _build/html/index.html)"

test: $(READY)
	$(BIN)/python -m pytest --nbval --nbval-current-env tests $(NOTEBOOK_DIRS)

notebooks: $(READY)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOK_DIRS)

clean:
	rm -rf _build $(VENV)
