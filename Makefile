# Two commands do all the set-up on a fresh machine:
#   make demo   - install into .venv and run billdrift on the bundled sample data
#   make test   - install dev tools into .venv and the PostgreSQL/MariaDB server binaries the
#                 DB tests start (scripts/install_test_servers.sh), then lint, type-check and
#                 run every test (the fuzz campaign as a small sample: 100 inputs per parser)
#   make fuzz   - the full fuzz campaign (tests/fuzz): FUZZ_EXAMPLES inputs per parser,
#                 10,000 by default, random seeds
#   make mutate - mutation testing (mutmut) of the rules, the engine's guards, the read-only
#                 connections, secret scrubbing and alert signing; not part of `make test`.
#                 Results and every survivor judged harmless: docs/testing.md
#   make spark-identity - every labelled rule test run in-process and on Spark (local
#                 mode), reports compared row for row; `make test` runs a fixed subset
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench fuzz mutate spark-identity

#: Parallel mutant runs in `make mutate` (each one a pytest process; they run at low priority).
MUTATE_CHILDREN ?= 2

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

spark-identity: $(BIN)/.installed
	bash scripts/install_test_servers.sh
	BILLDRIFT_SPARK_IDENTITY=1 $(BIN)/pytest -q tests/pushdown/test_spark_identity.py

fuzz: $(BIN)/.installed
	BILLDRIFT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -m fuzz tests/fuzz

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

# mutmut copies src/ and tests/ into mutants/ and imports the package from there; what to
# mutate and which tests to run are in pyproject.toml ([tool.mutmut]). Results are kept in
# mutants/, so a second run only re-tests what changed.
mutate: $(BIN)/.installed
	bash scripts/install_test_servers.sh
	nice -n 10 $(BIN)/mutmut run --max-children $(MUTATE_CHILDREN)
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	cat mutants/mutmut-cicd-stats.json
