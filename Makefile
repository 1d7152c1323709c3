# Quick start: `make demo` and `make test` each create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test docs lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,rl,examples]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/selfguide demo

test: $(VENV)/.installed
	$(PY) -m pytest -n auto

docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir $(VENV)/site

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check selfguide selfguide_rl tests benchmarks

clean:
	rm -rf $(VENV) site .pytest_cache
