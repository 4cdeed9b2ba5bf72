# RCM Compendium tasks. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DB     ?= rcm.db

.PHONY: run test lint format bench clean help

help:
	@echo "make run    set up .venv, build $(DB) from the shipped compilation if absent, show stats"
	@echo "make test   set up .venv and run every test (lint, SQLite, PostgreSQL if RCM_TEST_POSTGRES_URL)"
	@echo "make lint   ruff, ruff format --check, mypy"
	@echo "make bench  ingest benchmark (bench/)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@test -f $(DB) || $(BIN)/rcm --db $(DB) ingest
	$(BIN)/rcm --db $(DB) stats

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

test: $(STAMP) lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis src/*.egg-info
