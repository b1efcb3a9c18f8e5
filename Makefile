# One entry point for everything, the same locally and in CI (.ci/run calls `make test`).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ANVIL := node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
STATE := .tessera
# pytest loads ape's plugin by entry point; the suite drives chains itself, so it is switched off.
PYTEST := $(BIN)/python -m pytest -p no:ape_test
CHAIN_PORT ?= 8545
ARGS ?=
SOAK_MINUTES ?= 10
FRONTEND := frontend
CHROMIUM ?= /usr/bin/chromium

.PHONY: help setup test test-contracts fuzz lint chain chain-stop deploy demo bench bench-gas clean abi frontend dashboard browser-deps soak test-faults

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# The venv is rebuilt when pyproject.toml changes. torch is installed first, pinned to the CPU build that
# this machine class carries (a bare `torch` requirement would pull a multi-GB CUDA build).
$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# ape-vyper looks for compilers where vvm installs them; point it at the pip-installed vyper 0.4.3
	@# (vvm would download a binary from outside the package registries).
	mkdir -p $$HOME/.vvm && { [ -x $$HOME/.vvm/vyper-0.4.3 ] || ln -sfn $(CURDIR)/$(BIN)/vyper $$HOME/.vvm/vyper-0.4.3; }
	touch $@

$(ANVIL): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed $(ANVIL) ## Create .venv and install Python and npm dependencies

test: setup $(FRONTEND)/node_modules/.installed browser-deps ## Run the whole test suite (what CI runs)
	$(PYTEST) -n 2 --dist worksteal tests; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-contracts: setup ## Contract tests only
	$(PYTEST) tests/contracts

fuzz: setup ## Deep stateful fuzzing profile (400 examples x 50 steps), and the attacker-strategy property
	HYPOTHESIS_PROFILE=deep $(PYTEST) tests/contracts/stateful tests/contracts/e2e/test_incentive_attacks.py

lint: setup ## ruff check and format check
	$(BIN)/ruff check offchain scripts tests benchmarks
	$(BIN)/ruff format --check offchain scripts tests benchmarks

chain: setup ## Start anvil on 127.0.0.1:$(CHAIN_PORT), chain id 1337, state kept under .tessera/
	$(BIN)/tessera chain up --port $(CHAIN_PORT) --state-dir $(STATE)

chain-stop: ## Stop the anvil started by `make chain`
	@test -x $(BIN)/tessera && $(BIN)/tessera chain down --state-dir $(STATE) || true

deploy: setup ## Deploy to the local chain started by `make chain` (ARGS=--force to redeploy)
	$(BIN)/tessera deploy $(ARGS)

demo: setup ## The main job: local chain, contracts deployed, a job run end to end
	$(BIN)/tessera demo $(ARGS)

bench-gas: setup ## Gas of every operation and of whole job lifecycles, as a table
	$(BIN)/python benchmarks/gas.py

bench: setup ## All benchmarks, each printing a table of ratios against a baseline from the same run
	$(BIN)/python benchmarks/gas.py
	$(BIN)/python benchmarks/cid.py
	$(BIN)/python benchmarks/runner.py
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/worker.py

soak: setup ## 3 workers vs anvil with random faults for $(SOAK_MINUTES) min; prints lost/duplicates
	$(BIN)/python benchmarks/soak.py --minutes $(SOAK_MINUTES)

test-faults: setup ## Fault-injection tests (T17-T28 through the real worker, and the short soak)
	$(PYTEST) -n 2 tests/faults

abi: setup ## Regenerate the frontend kit in abi/ (ABIs, typed index.ts, job-spec schema) from the contracts
	$(BIN)/python scripts/gen_abi.py

$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend: $(FRONTEND)/node_modules/.installed ## Build the dashboard into frontend/build (type-check, vite build)
	cd $(FRONTEND) && npm run build

dashboard: setup frontend ## Serve the dashboard for the deployment on TESSERA_RPC_URL at http://127.0.0.1:8080
	$(BIN)/tessera dashboard $(ARGS)

# Debian's chromium for tests/browser; without it (or without root) those tests skip and say how to enable them.
browser-deps:
	@[ -x $(CHROMIUM) ] || command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then SUDO=; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "note: chromium is not installed and cannot be here; browser tests will be skipped (apt-get install -y chromium)"; exit 0; fi; \
	  $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; } \
	  || echo "note: installing chromium failed; browser tests will be skipped"; }

clean: chain-stop ## Remove build outputs (keeps .venv and node_modules)
	rm -rf .build $(STATE) .pytest_cache .hypothesis
