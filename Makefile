# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test lint serve clean

# The demo needs only the runtime dependencies; the tests also need the dev tools.
$(BIN)/.installed-runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(BIN)/.installed-runtime

## Install into .venv, build a demo database and serve it on http://127.0.0.1:$(PORT)
demo: $(BIN)/.installed-runtime
	$(BIN)/ringtrail demo --port $(PORT)

## Lint, type-check, check the import contracts and run the suite on SQLite and PostgreSQL,
## on parallel pytest-xdist workers (`.venv/bin/pytest -n 0` runs it serially)
test: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

serve: $(BIN)/.installed-runtime
	$(BIN)/ringtrail serve --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
