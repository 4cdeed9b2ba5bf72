# RCM Compendium tasks. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DB     ?= rcm.db
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench bench-1m bench-pg load fuzz browser office pgrum clean help

help:
	@echo "make run    set up .venv, build $(DB) from the shipped compilation if absent, serve http://$(HOST):$(PORT)/"
	@echo "make test   set up .venv and run every test (lint, SQLite, PostgreSQL at RCM_TEST_POSTGRES_URL or 127.0.0.1:5432)"
	@echo "make lint   ruff, ruff format --check, mypy, lint-imports (the floors: docs/architecture.md)"
	@echo "make bench  ingest, suggestion and search benchmarks (search at 10k and 100k statements; bench/)"
	@echo "make bench-1m  the search benchmark at 1M statements (builds a 1 GB database once)"
	@echo "make fuzz   the long fuzzing run: 10,000 inputs per importer, 4,000 questionnaire size bombs, 1,000 per API operation (bench/fuzz.py)"
	@echo "make load   the bounded load run: 11 focal points and the Secretariat on a real server"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@test -f $(DB) || $(BIN)/rcm --db $(DB) ingest
	$(BIN)/rcm --db $(DB) serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench tools
	$(BIN)/ruff format src tests bench tools

# Browser tests use Debian's Chromium; install it when missing and we may (root, apt-get present).
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } || \
		echo "chromium not installed: browser tests will be skipped"

# PDF export uses LibreOffice, its tests poppler-utils; install them when missing and we may.
office:
	@{ command -v soffice && command -v pdftotext; } >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui poppler-utils >/dev/null); } || \
		echo "LibreOffice not installed: PDF export and its tests will be skipped"

# PostgreSQL ranks inside a RUM index where the extension is installed (tests run both paths);
# install Debian's postgresql-15-rum when missing and we may. Without it, GIN is used.
pgrum:
	@{ ! command -v pg_config >/dev/null && ! test -d /usr/share/postgresql/15; } || \
		test -f /usr/share/postgresql/15/extension/rum.control || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-rum >/dev/null); } || \
		echo "postgresql-15-rum not installed: the RUM ranking tests will be skipped"

# The test files are spread over the machine's cores (pytest-xdist; each file stays in one
# process, so its module fixtures are built once): PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= auto
test: $(STAMP) lint browser office pgrum
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_suggest.py
	test -f bench/data/synthetic-10k.db || $(BIN)/python bench/synthetic.py 10000 bench/data/synthetic-10k.db
	test -f bench/data/synthetic-100k.db || $(BIN)/python bench/synthetic.py 100000 bench/data/synthetic-100k.db
	$(BIN)/python bench/bench_search.py bench/data/synthetic-10k.db bench/data/synthetic-100k.db

bench-1m: bench
	test -f bench/data/synthetic-1m.db || $(BIN)/python bench/synthetic.py 1000000 bench/data/synthetic-1m.db
	$(BIN)/python bench/bench_search.py bench/data/synthetic-1m.db

# PostgreSQL search at 10k and 100k statements (BENCH_PG_SIZES="10k 100k 1m" for 1M), loaded by
# COPY into databases rcm_bench_<size> on this server (dropped and created anew), beside the raw
# tsquery; then the tantivy anchor (pip install tantivy: a benchmark-only extra) at 100k.
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432
BENCH_PG_SIZES ?= 10k 100k
bench-pg: bench
	for n in $(BENCH_PG_SIZES); do \
		test -f bench/data/synthetic-$$n.db || $(BIN)/python bench/synthetic.py $$(echo $$n | sed 's/k$$/000/;s/m$$/000000/') bench/data/synthetic-$$n.db; \
		$(BIN)/python bench/pg_load.py bench/data/synthetic-$$n.db $(BENCH_PG)/rcm_bench_$$n --rum || exit 1; done
	$(BIN)/python bench/bench_search_pg.py $(foreach n,$(BENCH_PG_SIZES),$(BENCH_PG)/rcm_bench_$(n)) --json bench/results/search_pg.json
	$(BIN)/python bench/bench_tantivy.py bench/data/synthetic-100k.db --json bench/results/tantivy.json

# The consultation under concurrent load (bench/load.py): its own database on this PostgreSQL
# server, created and dropped; `make load RCM_LOAD_DB=sqlite` for SQLite.
RCM_LOAD_DB ?= postgresql://postgres@127.0.0.1:5432/test
load: $(STAMP)
	$(BIN)/python bench/load.py --db $(RCM_LOAD_DB) --requests 300 --workers 2 --clients-per-country 1

# The long fuzzing run (issue 8): 10,000 examples per importer (1,000 more on PostgreSQL when
# RCM_TEST_POSTGRES_URL is set) and 4,000 questionnaire size bombs (400 more; issue 13), split
# into FUZZ_JOBS parts run side by side (one per core), counts in bench/results/fuzz.json. About
# 85 minutes on 2 cores.
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py --jobs $(FUZZ_JOBS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis src/*.egg-info
