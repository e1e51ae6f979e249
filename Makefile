# Two commands do all the set-up on a fresh machine:
#   make demo   - install into .venv and run billdrift on the bundled sample data
#   make test   - install dev tools into .venv and the PostgreSQL/MariaDB server binaries the
#                 DB tests start (scripts/install_test_servers.sh), then lint, type-check and
#                 run every test
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/billdrift demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	bash scripts/install_test_servers.sh
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py
