# Two commands for a fresh machine: `make up` runs the hub with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test test-quick lint bench chaos soak two-hosts clean screenshots

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/python -c "from triage import store; store.seed_model()"  # the shipped model, trained once per machine
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/trkv up

# Starts (and as root installs) the services the suite talks to, as .ci/run does; what it cannot
# provide, the run names at its end.
test: $(STAMP)
	bash tools/services.sh
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -ra --durations=15 $(PYTEST_ARGS)

# The inner loop: SQLite and the embedded broker only, no browser, no IMAP server.
test-quick: $(STAMP)
	$(BIN)/lint-imports
	TRKV_TEST_QUICK=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/ingest.py --quick

screenshots: $(STAMP)  # every page at desktop and phone width, light and dark, into ./screenshots/
	$(BIN)/python tools/screenshots.py

# Faults with figures (not part of `make test`; tests/test_chaos.py is the small CI run):
# 10,000 mails while RabbitMQ and PostgreSQL restart, the worker and the connector are
# SIGKILLed and the IMAP server stops for a minute; writes bench/results/chaos.json.
chaos: $(STAMP)
	$(BIN)/python tools/chaos.py $(CHAOS_ARGS)

# An hour at a steady rate (worker RSS, open fds, queue depth, latency); bench/results/soak.json.
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

# Two hubs on one PostgreSQL and RabbitMQ, 2,000 messages; bench/results/two_hosts.json.
two-hosts: $(STAMP)
	$(BIN)/python bench/two_hosts.py $(TWO_HOSTS_ARGS)

clean:
	rm -rf $(VENV) var
