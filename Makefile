# One entry point for everything a change needs. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit demo local synth openapi bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m "not slow"

demo: install
	$(BIN)/sagestep demo

local: install
	$(BIN)/sagestep local up

synth: install
	npm ci --no-audit --no-fund
	CDK_DISABLE_CLI_TELEMETRY=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx cdk synth --no-notices

openapi: install
	$(BIN)/python -m sagestep.openapi > docs/openapi.json

bench: install
	$(BIN)/python -m bench.api_cold_start
	$(BIN)/python -m bench.serving
	$(BIN)/python -m bench.transitions
	$(BIN)/python -m bench.translation
	$(BIN)/python -m bench.documents
	$(BIN)/python -m bench.labeling

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache
