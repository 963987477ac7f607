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

## npm packages the browser tests use (bpmn-js to open every diagram, axe-core for accessibility); skipped without npm.
JS_STAMP := tests/js/node_modules/.installed-stamp
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/js --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the browser tests that need npm packages will be skipped"; fi

## The main job: database, the procedures in processes/, and a sample dossier walked through the CLI.
demo: $(STAMP)
	MOTCUA_BIN=$(BIN)/motcua bash scripts/demo.sh

## Every test: unit, SQLite and PostgreSQL (skipped without a server unless MOTCUA_REQUIRE_PG=1).
test: $(STAMP) $(JS_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (not tests): each prints a table and, last, one JSON line.
bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/engine_floor.py
	$(BIN)/python bench/rest.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/portal.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/console.py

clean:
	rm -rf $(VENV) var .pytest_cache
