# Two commands for a fresh machine: `make up` runs the hub with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test bench clean screenshots

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/python -c "from triage import store; store.seed_model()"  # the shipped model, trained once per machine
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/trkv up

test: $(STAMP)
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/ingest.py --quick

screenshots: $(STAMP)  # every page at desktop and phone width, light and dark, into ./screenshots/
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) var
