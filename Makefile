# Retouch: `make run` starts the local stack, `make test` runs every test tier.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOOLS  := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
# Scripts run as modules from the repository root (so `scripts`, `tooling`, `local` and `tests` import without sys.path
# edits), with this checkout's `retouch` first, as pytest's `pythonpath` puts it.
SCRIPT := PYTHONPATH=layers/common $(BIN)/python -m
# The official OpenAI JS SDK the end-to-end tests also run (tests/e2e/js), installed from npm as its lock pins it.
JS_E2E := tests/e2e/js
JS_STAMP := $(JS_E2E)/node_modules/.installed
# The console (console/, docs/console.md): its npm toolchain as its lock pins it, and its build, redone only when a
# source changed (the built index.html is the stamp).
CONSOLE_STAMP := console/node_modules/.installed
CONSOLE_BUILD := console/dist/index.html
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) \
                   console/index.html console/vite.config.ts console/tsconfig.json
# The browser tests' headless Chromium, from Debian's packages (tests/e2e/test_console_browser.py; never a download).
CHROMIUM := /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help run test test-unit test-integration test-e2e lint lint-template package bench bench-upstreams load-figures clean \
        console console-budget

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements-dev.txt layers/common/requirements.txt layers/images/requirements.txt \
          layers/mcp/requirements.txt layers/payments/requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -e .
	@touch $(STAMP)

run: $(STAMP) console ## start the whole stack on 127.0.0.1 (PORT, default 3000)
	$(BIN)/python -m local

$(JS_STAMP): $(JS_E2E)/package.json $(JS_E2E)/package-lock.json
	npm ci --prefix $(JS_E2E) --no-audit --no-fund
	@touch $(JS_STAMP)

# The end-to-end tier in two runs: its modules two at a time (each pytest-xdist worker starts its own stack), handed out
# in collection order, the longest first (tests/e2e/conftest.py), then the tests marked `alone` (the fair-share latency
# ratio), whose figures would measure the other worker's load.
E2E_SHARED := $(BIN)/python -m pytest tests/e2e -m "not alone" -n 2 --dist loadfile --no-loadscope-reorder
E2E_ALONE  := $(BIN)/python -m pytest tests/e2e -m alone

test: $(STAMP) $(JS_STAMP) console $(CHROMIUM) ## run unit, integration, template and end-to-end tests
	$(SCRIPT) scripts.console_budget
	$(BIN)/python -m pytest tests/unit tests/integration -n 2
	$(E2E_SHARED)
	$(E2E_ALONE)

test-unit: $(STAMP) ## unit tier only
	$(BIN)/python -m pytest tests/unit -n 2

test-integration: $(STAMP) ## integration tier only
	$(BIN)/python -m pytest tests/integration -n 2

test-e2e: $(STAMP) $(JS_STAMP) console $(CHROMIUM) ## end-to-end tier only
	$(E2E_SHARED)
	$(E2E_ALONE)

lint: $(STAMP) console ## ruff, mypy --strict on layers/ and functions/ (pyproject.toml), the console's asset budget
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy
	$(SCRIPT) scripts.console_budget

$(CONSOLE_STAMP): console/package.json console/package-lock.json
	npm ci --prefix console --no-audit --no-fund
	@touch $(CONSOLE_STAMP)

$(CONSOLE_BUILD): $(CONSOLE_STAMP) $(CONSOLE_SOURCES)
	npm run --prefix console build
	@touch $(CONSOLE_BUILD)

console: $(CONSOLE_BUILD) ## build the console (console/dist: type-check, then vite build) when its sources changed

console-budget: $(STAMP) console ## print the console's shipped JS and CSS sizes (raw, gzip); fail over the budget
	$(SCRIPT) scripts.console_budget

# CI runs as root on Debian: install the distribution's Chromium when it is missing (the browser tests drive it).
$(CHROMIUM):
	apt-get update && apt-get install -y chromium chromium-driver

$(TOOLS_STAMP): requirements-tools.txt
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/bin/python -m pip install -q -r requirements-tools.txt
	@touch $(TOOLS_STAMP)

lint-template: $(TOOLS_STAMP) ## sam validate --lint, cfn-lint and checkov on template.yaml (own venv)
	SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam validate --lint --template template.yaml --region us-east-1
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

package: $(STAMP) ## build the layers and functions for python3.13 arm64, print sizes, fail over budget
	$(SCRIPT) scripts.package

bench: $(STAMP) ## overhead, latency, throughput, cold init, worker memory and cost figures; also bench.json (BENCH_JSON)
	$(SCRIPT) scripts.bench --json $(or $(BENCH_JSON),bench.json)

bench-upstreams: $(STAMP) ## print the worker's billed time per job for a 60 s model call, sync vs async upstream
	$(SCRIPT) scripts.bench_upstream_idle

load-figures: $(STAMP) ## reliability figures: throughput at 1/8/32, moto's memory over 500 jobs, kill recovery
	$(SCRIPT) scripts.load_figures

clean: ## remove the venvs, caches and build output
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache build console/dist console/node_modules
