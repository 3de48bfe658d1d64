# apiforge. Needs only python3 >= 3.11 (and, for `make test`, PostgreSQL and Redis: running, or
# their Debian packages, which `apiforge services` starts or installs).
#   make run [PORT=8001]   serve the shop on SQLite in development mode, with demo data
#   make test              format check, lint, types, import contracts, the docs, the audit, then the tests
#   make docs              the guide (docs/, mkdocs.yml) built strict into build/docs/
#   make bench             the shop against the bare FastAPI baseline (BENCHMARKS.md)
#   make reliability       the long fault runs: slow clients on both servers, the 10-minute soak
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
# Two xdist workers measured fastest on the 2-core machine (44 s against 55 s serial, ~1,000
# tests); coverage costs ~10-20 % on top (COV= turns it off). PYTEST_ARGS adds e.g. -x or -k.
PYTEST_WORKERS ?= 2
COV ?= --cov
PYTEST_ARGS ?=
UV_VERSION := 0.13.9

VENV := .venv
BIN := $(VENV)/bin
# Touched after an install: the venv is re-synced only when the lock or pyproject.toml changes.
STAMP := $(VENV)/.installed
SERVICES_ENV := .services/env

.PHONY: help install lock run services tools test lint docs audit fmt clean bench reliability

help:
	@echo "make run [PORT=8000]  serve the shop with demo data at http://127.0.0.1:\$$PORT"
	@echo "make test             every check CI runs (starts PostgreSQL/Redis if needed)"
	@echo "make lint | fmt       checks only | format and fix"
	@echo "make docs             build the guide into build/docs/ (open build/docs/index.html)"
	@echo "make audit            known vulnerabilities in requirements.lock (pip-audit)"
	@echo "make install          create/update .venv from requirements.lock"
	@echo "make lock             re-resolve requirements.lock from pyproject.toml"
	@echo "make services         make sure PostgreSQL and Redis answer for the tests"
	@echo "make bench            benchmark every scenario (BENCH_ARGS=\"catalog --duration 5s\")"
	@echo "make reliability      slow clients on both servers and the soak (SOAK_SECONDS=600)"
	@echo "make clean            stop throwaway services, remove .venv and caches"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "apiforge needs Python >= 3.11; $(PYTHON) is older (make PYTHON=python3.12 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Exactly the lock (sync removes strays), then the project itself, editable and without deps.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(STAMP)

lock: | $(BIN)/uv
	$(BIN)/uv pip compile --quiet pyproject.toml --all-extras --universal --python-version 3.11 \
		-o requirements.lock

run: install
	@export APIFORGE_ENVIRONMENT=development APIFORGE_LOG_FORMAT=console; \
	$(BIN)/apiforge db upgrade; \
	$(BIN)/apiforge db seed; \
	echo; \
	echo "apiforge shop: http://127.0.0.1:$(PORT)/api  docs: http://127.0.0.1:$(PORT)/docs"; \
	echo "Stop with Ctrl-C."; \
	echo; \
	exec $(BIN)/apiforge serve --host 127.0.0.1 --port $(PORT)

services: install
	@$(BIN)/apiforge services

tools:
	@bash scripts/tools.sh

lint: install
	$(BIN)/ruff format --check
	$(BIN)/ruff check
	$(BIN)/mypy
	$(BIN)/lint-imports

# Strict: a broken cross-reference, link or anchor fails the build (and so `make test`).
# Offline: no web fonts, no plugin that fetches. The site goes to mkdocs.yml's site_dir,
# build/docs/ (ignored by git); NO_MKDOCS_2_WARNING silences Material's banner.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Fails on a known vulnerability; an unreachable vulnerability service is a loud warning only
# (scripts/audit.sh says why).
audit: install
	@bash scripts/audit.sh

# The audit (~20 s of network waits) runs beside the tests; its verdict counts as much.
AUDIT_LOG := .audit.log
test: install services tools lint docs
	@bash scripts/audit.sh > $(AUDIT_LOG) 2>&1 & audit=$$!; \
	set -a && source $(SERVICES_ENV) && set +a && \
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(COV) -m "not reliability" $(PYTEST_ARGS); \
	if wait $$audit; then cat $(AUDIT_LOG); else cat $(AUDIT_LOG); exit 1; fi

# wrk via scripts/tools.sh (Debian package when missing); then every scenario in bench/scenarios
# against PostgreSQL and Redis from `apiforge services`. Results land in bench/runs/ (ignored by
# git); BENCH_ARGS="--keep ..." writes them into the committed bench/results/.
BENCH_ARGS ?=
bench: install services tools
	@set -a && source $(SERVICES_ENV) && set +a && \
	APIFORGE_REDIS_URL=$${APIFORGE_REDIS_URL:-$$APIFORGE_TEST_REDIS_URL} \
	$(BIN)/apiforge bench $(BENCH_ARGS)

# The long fault runs (tests marked `reliability`), one after the other so that each has the
# machine to itself: ~1.5 min of slow clients, then the soak (SOAK_SECONDS, 10 min by default).
# Figures land in build/reliability/ (RELIABILITY.md quotes them).
SOAK_SECONDS ?= 600
reliability: install services
	@set -a && source $(SERVICES_ENV) && set +a && \
	APIFORGE_TEST_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest -n 0 -s -m reliability $(PYTEST_ARGS) \
		tests/faults/test_slow_clients.py tests/faults/test_soak.py

fmt: install
	$(BIN)/ruff format
	$(BIN)/ruff check --fix

clean:
	@if [ -x $(BIN)/apiforge ]; then $(BIN)/apiforge services stop; fi
	rm -rf $(VENV) .services .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache \
		.coverage .coverage.* htmlcov build dist
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
