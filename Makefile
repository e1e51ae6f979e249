# Two commands do all the set-up on a fresh machine:
#   make demo   - install into .venv and run billdrift on the bundled sample data
#   make test   - install dev tools into .venv and the PostgreSQL/MariaDB server binaries the
#                 DB tests start (scripts/install_test_servers.sh), then lint, type-check and
#                 run every test (the fuzz campaign as a small sample: 100 inputs per parser)
#   make fuzz   - the full fuzz campaign (tests/fuzz): FUZZ_EXAMPLES inputs per parser,
#                 10,000 by default, random seeds
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench fuzz

#: Inputs per parser in `make fuzz` (shared by that parser's generated, planted and mutated tests).
FUZZ_EXAMPLES ?= 10000

# The demo needs billdrift's runtime only; tests, lint, fuzz and benchmarks add the dev tools.
$(BIN)/.installed-runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed: $(BIN)/.installed-runtime
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed-runtime
	$(BIN)/billdrift demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	bash scripts/install_test_servers.sh
	$(BIN)/pytest

fuzz: $(BIN)/.installed
	BILLDRIFT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -m fuzz tests/fuzz

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py
