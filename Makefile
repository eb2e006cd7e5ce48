# The whole dev loop. `make run` and `make test` work on a fresh machine: they create the
# virtualenv and install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test test-fast lint format bench system-deps clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Start the product: embedded Redis, workers, reconciler, UI on http://localhost:8501
run: $(STAMP)
	$(BIN)/python -m pipeline up

## Every test, slow ones included (what CI runs), in two processes: most tests wait on workers,
## a browser or a server, so two at a time keep both cores busy. Work stealing hands out tests by
## their place in the collection: the file- and scope-based modes hand them out by node id, and
## schemathesis gives every route's test the same one (all but one route would not run).
PYTEST_PARALLEL ?= -n 2 --dist worksteal
test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

## Skip the slow tests while developing
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

## Chromium for the browser tests (Debian package; Playwright's own download does not work offline)
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

## ruff, and the import contracts in pyproject.toml (layers, no import loops, who imports what)
lint: $(STAMP)
	$(BIN)/ruff check pipeline tests bench app.py pages workbench
	$(BIN)/ruff format --check pipeline tests bench app.py pages workbench
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format pipeline tests bench app.py pages workbench
	$(BIN)/ruff check --fix pipeline tests bench app.py pages workbench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
