# codekg — two commands matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
REPO ?= .
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run index serve test lint typecheck contracts schema bench services-up services-down clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(UV) pip install --python $(BIN)/python -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/kg index $(REPO)
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

index: install
	$(BIN)/kg index $(REPO)

serve: install
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

schema: install
	$(BIN)/python -m api.schema_export > schema.graphql

test: install
	bash scripts/test.sh

bench: install  # `make bench SUITES="index stores"` for some
	$(BIN)/python -m bench $(SUITES)

clean:
	rm -rf .kg .pytest_cache .mypy_cache .ruff_cache
