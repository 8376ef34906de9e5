# Set-up commands. Each creates .venv with everything the project needs on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PORT ?= 8765

DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: venv test test-lowest demo emulator docs clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]'
	touch $(STAMP)

## Run the whole test suite (unit, contract and integration tests against the emulator).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Run the whole suite again on the lowest Airflow release pyproject.toml admits, in its own .venv-lowest.
LOWEST_AIRFLOW ?= apache-airflow==3.3.0
test-lowest:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x .venv-lowest/bin/uv || { $(PYTHON) -m venv .venv-lowest && .venv-lowest/bin/python -m pip install --quiet --upgrade pip uv; }
	.venv-lowest/bin/uv pip install --quiet --python .venv-lowest/bin/python -e '.[test]' '$(LOWEST_AIRFLOW)'
	.venv-lowest/bin/python -m pytest $(PYTEST_ARGS)

## Run the demo against the bundled LaunchDarkly API emulator (no account needed).
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## Start the emulator in the foreground (Ctrl-C stops it).
emulator: $(STAMP)
	$(BIN)/python -m airflow_provider_ld.testing.emulator --port $(DEMO_PORT) --token demo-token

## Build the documentation site into site/ (warnings are errors); installs the docs extra into .venv.
docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict

$(DOCS_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,docs]'
	touch $(DOCS_STAMP)

clean:
	rm -rf $(VENV) .venv-lowest .pytest_cache .hypothesis site

## Run the benchmarks in their own venv (.venv-bench: the project plus the HTTP provider and the official
## launchdarkly-api client, never project dependencies); writes benchmarks/results/latest.{md,json}.
.PHONY: bench
bench:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x .venv-bench/bin/uv || { $(PYTHON) -m venv .venv-bench && .venv-bench/bin/python -m pip install --quiet --upgrade pip uv; }
	.venv-bench/bin/uv pip install --quiet --compile-bytecode --python .venv-bench/bin/python -e . apache-airflow-providers-http launchdarkly-api
	.venv-bench/bin/python -m benchmarks $(BENCH_ARGS)

## The end-to-end suite on the CeleryExecutor: installs Debian's redis-server (scripts/install-redis.sh),
## then starts Redis, two Celery workers, the triggerer, scheduler, DAG processor and API server.
.PHONY: e2e-celery
e2e-celery: $(STAMP)
	bash scripts/install-redis.sh
	E2E_CELERY=1 $(BIN)/python -m pytest tests/e2e_celery $(PYTEST_ARGS)
