# Two commands on a fresh machine: `make run` (the cluster on 127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE := 1
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: install run serve-local migrate test test-fast lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch==2.13.0 is pinned in pyproject: pip takes the CPU build on disk here.
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/lorekeeper db upgrade

run: install
	$(BIN)/lorekeeper run

serve-local: install  ## the same gateway + domain code under bare uvicorn (no Ray)
	$(BIN)/lorekeeper serve-local

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -ra

test-fast: install  ## everything but the end-to-end Serve tests
	$(BIN)/python -m pytest -q -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python benchmarks/validation_throughput.py
	$(BIN)/python -m benchmarks.serve_latency

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
