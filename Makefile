# Set-up commands. Each creates .venv with everything the project needs on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
DEMO_PORT ?= 8765
MUTATE_WORKERS ?= 2

# AIRFLOW=<version> selects one cell of the version matrix: its own .venv-<version>, installed with the
# pinned constraints/airflow-<version>.txt. Without it, .venv holds the newest Airflow 3 release.
AIRFLOW ?=
ifeq ($(strip $(AIRFLOW)),)
VENV ?= .venv
CONSTRAINTS :=
else
VENV := .venv-$(AIRFLOW)
CONSTRAINTS := constraints/airflow-$(AIRFLOW).txt
endif
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The version matrix. The newest release (plain `make test`) and the lowest run everything, end-to-end
# tests included; the newest patch of each minor release in between runs everything but the e2e suite.
MATRIX_LOWEST := 3.0.6
MATRIX_BETWEEN := 3.1.8 3.2.2

DOCS_STAMP := $(VENV)/.installed-docs
LINT_STAMP := $(VENV)/.installed-lint

.PHONY: venv test test-older test-matrix constraints demo emulator docs check format clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip uv; }
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]' $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	touch $(STAMP)

## Run the whole test suite (unit, contract and integration tests against the emulator).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The version matrix cells other than the newest release, one at a time: the whole suite on the lowest
## supported release, the suite without the e2e tests on the newest patch of each minor in between.
test-older:
	@set -e; for version in $(MATRIX_LOWEST) $(MATRIX_BETWEEN); do \
		if [ "$$version" = "$(MATRIX_LOWEST)" ]; then args=''; else args='-m "not e2e"'; fi; \
		started=$$(date +%s); \
		$(MAKE) test AIRFLOW=$$version PYTEST_ARGS="$$args $(PYTEST_ARGS)"; \
		echo "matrix: Airflow $$version ($${args:-whole suite}) passed in $$(( $$(date +%s) - started )) s"; \
	done

## Every cell of the version matrix (newest first).
test-matrix: test test-older

## Re-pin constraints/airflow-<version>.txt for every matrix release (or VERSIONS="3.1.8").
constraints: $(if $(CONSTRAINTS),,$(STAMP))
	UV=$(BIN)/uv scripts/compile-constraints.sh $(VERSIONS)

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

## Formatting, lint (ruff) and static types (mypy, strict on the package); installs the lint extra into .venv.
check: $(LINT_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

## Rewrite the code in the project's format and apply ruff's safe fixes.
format: $(LINT_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(LINT_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,lint]'
	touch $(LINT_STAMP)

clean:
	rm -rf .venv .venv-3.* .pytest_cache .hypothesis site

## Run the benchmarks in their own venv (.venv-bench: the project plus the HTTP provider and the official
## launchdarkly-api client, never project dependencies); writes benchmarks/results/latest.{md,json}.
.PHONY: bench
bench:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x .venv-bench/bin/uv || { $(PYTHON) -m venv .venv-bench && .venv-bench/bin/python -m pip install --quiet --upgrade pip uv; }
	.venv-bench/bin/uv pip install --quiet --compile-bytecode --python .venv-bench/bin/python -e . apache-airflow-providers-http launchdarkly-api
	.venv-bench/bin/python -m benchmarks $(BENCH_ARGS)

## Mutation testing over the core modules (see docs/mutation-testing.md), in its own .venv-mutation; regenerates
## docs/mutation-testing.md, listing every surviving mutant that is neither killed nor explained.
.PHONY: mutate
mutate:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x .venv-mutation/bin/uv || { $(PYTHON) -m venv .venv-mutation && .venv-mutation/bin/python -m pip install --quiet --upgrade pip uv; }
	.venv-mutation/bin/uv pip install --quiet --python .venv-mutation/bin/python -e '.[test,mutation]'
	started=$$(date +%s); .venv-mutation/bin/mutmut run --max-children $(MUTATE_WORKERS) $(MUTATE_ARGS) \
		&& echo $$(( $$(date +%s) - started )) > mutants/run-seconds
	.venv-mutation/bin/python scripts/mutation_report.py

## The end-to-end suite on the CeleryExecutor: installs Debian's redis-server (scripts/install-redis.sh),
## then starts Redis, two Celery workers, the triggerer, scheduler, DAG processor and API server.
.PHONY: e2e-celery
e2e-celery: $(STAMP)
	bash scripts/install-redis.sh
	E2E_CELERY=1 $(BIN)/python -m pytest tests/e2e_celery $(PYTEST_ARGS)
