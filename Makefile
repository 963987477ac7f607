# motcua: every target sets up its own virtualenv (.venv) and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export MOTCUA_VAR_DIR ?= $(CURDIR)/var

.PHONY: demo test bench install clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## bpmn-js (Camunda Modeler's library) for the test that opens every diagram in a browser; skipped without npm.
MODELER_STAMP := tests/modeler/node_modules/.installed-stamp
$(MODELER_STAMP): tests/modeler/package.json tests/modeler/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/modeler --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the modeler test will be skipped"; fi

## The main job: database, the procedures in processes/, and a sample dossier walked through the CLI.
demo: $(STAMP)
	MOTCUA_BIN=$(BIN)/motcua bash scripts/demo.sh

## Every test: unit, SQLite and PostgreSQL (skipped without a server unless MOTCUA_REQUIRE_PG=1).
test: $(STAMP) $(MODELER_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (not tests): each prints a table and, last, one JSON line.
bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/rest.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/timers.py

clean:
	rm -rf $(VENV) var .pytest_cache
