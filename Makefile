# The two commands in the README: `make demo` and `make test`. Each sets itself up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tam-widgets-installed
SHARED := $(abspath ../shared)
export NLTK_DATA ?= $(SHARED)/nltk_data

.PHONY: demo test bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m tam_widgets demo --out tam_demo.png

test: $(STAMP)
	$(PY) -m ruff check tam_widgets tests benchmarks
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_explain.py

clean:
	rm -rf $(VENV) build dist *.egg-info tam_demo.png
