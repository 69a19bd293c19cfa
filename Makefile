# amlocal developer entry points (GNU make).
#
#   make venv        create .venv and install amlocal with the dev, azure, azure-v2 and ui extras
#   make docker      make sure a Docker engine answers (installs/starts it as root)
#   make base-image  find or build a local base image; name -> .amlocal/base-image
#   make test        run the full test suite against real Docker containers
#   make run         train + register the iris example (falls back to the
#                    process backend when Docker is unavailable)
#   make sweep       the sample notebook's HyperDrive sweep, then register the best model
#   make bench       run the benchmarks, results in benchmarks/results (make bench-studio: the studio's)
#   make clean       remove the virtualenv and build artifacts (keeps run history)
#
# Extra pytest arguments: make test PYTEST_ARGS='-k docker -x'

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_PY := $(CURDIR)/$(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
STATE_DIR := .amlocal
BASE_IMAGE_FILE := $(STATE_DIR)/base-image
PYTEST_ARGS ?=

.PHONY: help venv docker base-image browser test run sweep bench bench-studio clean
# Provisioning steps use apt/dpkg locks; keep them sequential.
.NOTPARALLEL:

help:
	@sed -n '3,11s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

# --- virtualenv ------------------------------------------------------------

venv: $(STAMP)

# new backend packages need a fresh editable install (its finder maps packages at install time)
$(STAMP): pyproject.toml $(wildcard backends/*/__init__.py)
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "amlocal: '$(PYTHON) -m venv' is unavailable; installing python3-venv ..."; \
	        export DEBIAN_FRONTEND=noninteractive; \
	        apt-get update -q && apt-get install -y -q python3-venv python3-pip || exit 1; \
	    else \
	        echo "amlocal: ERROR: '$(PYTHON) -m venv' is unavailable; install python3-venv (or set PYTHON=...)." >&2; \
	        exit 1; \
	    fi; \
	fi
	$(PYTHON) -m venv $(VENV)
	@# needed for azure + azure-v2 together: the pip bundled with Python 3.11 (23.2.1) crashes
	@# (resolvelib InconsistentCandidate on opentelemetry-sdk) while backtracking through
	@# azure-ai-ml's exact opentelemetry pins; pip >= 24.2 resolves them
	$(VENV)/bin/python -m pip install -q --upgrade 'pip>=24.2'
	@echo "amlocal: installing amlocal with the dev, azure, azure-v2 and ui extras into $(VENV) (pip's log: $(VENV)/pip.log)"
	@$(VENV)/bin/python -m pip install -e '.[dev,azure,azure-v2,ui]' > $(VENV)/pip.log 2>&1 \
	    || { tail -n 30 $(VENV)/pip.log >&2; echo "amlocal: ERROR: pip install failed (see $(VENV)/pip.log)" >&2; exit 1; }
	@# both Azure SDKs (v1 azureml-core, v2 azure-ai-ml) share azure-core, azure-mgmt-core, PyJWT ...: a venv
	@# reused from an earlier install can keep a version that no longer fits; fail on any conflict
	$(VENV)/bin/python -m pip check
	@touch $@ $(RUN_STAMP)

# `make run` needs amlocal alone (the job's own packages go into its image or venv, not here).
$(RUN_STAMP): pyproject.toml $(wildcard backends/*/__init__.py)
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then touch $@; exit 0; fi; \
	if [ ! -x $(VENV)/bin/python ]; then \
	    $(PYTHON) -m venv $(VENV) || { echo "amlocal: ERROR: '$(PYTHON) -m venv' failed; install python3-venv" >&2; exit 1; }; \
	fi; \
	echo "amlocal: installing amlocal into $(VENV) (pip's log: $(VENV)/pip.log)"; \
	$(VENV)/bin/python -m pip install -e . > $(VENV)/pip.log 2>&1 \
	    || { tail -n 30 $(VENV)/pip.log >&2; echo "amlocal: ERROR: pip install failed (see $(VENV)/pip.log)" >&2; exit 1; }; \
	touch $@

# --- Docker engine and base image ------------------------------------------

docker:
	@scripts/ensure_docker.sh

base-image: docker
	@mkdir -p $(STATE_DIR)
	@img=$$(scripts/ensure_base_image.sh) && [ -n "$$img" ] \
	    && echo "$$img" > $(BASE_IMAGE_FILE).tmp && mv $(BASE_IMAGE_FILE).tmp $(BASE_IMAGE_FILE) \
	    && echo "amlocal: base image $$img (recorded in $(BASE_IMAGE_FILE))"

# --- main targets ------------------------------------------------------------

browser:
	@scripts/ensure_chromium.sh

# Docker and browser tests must run (not skip) here: AMLOCAL_REQUIRE_DOCKER=1, AMLOCAL_REQUIRE_BROWSER=1.
# Most of a test's time is spent waiting on containers and subprocesses: three pytest workers
# (pytest-xdist) keep two cores busy; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 3
test: venv docker base-image browser
	AMLOCAL_BASE_IMAGE="$$(cat $(BASE_IMAGE_FILE))" AMLOCAL_REQUIRE_DOCKER=1 AMLOCAL_REQUIRE_BROWSER=1 \
	    $(VENV_PY) -m pytest -q -n $(TEST_WORKERS) tests $(PYTEST_ARGS)

# Uses Docker when it can be made available; otherwise the process backend
# (AMLOCAL_BASE_IMAGE is then left unset).
run: $(RUN_STAMP)
	@AMLOCAL_ALLOW_NO_DOCKER=1 scripts/ensure_docker.sh
	@set -e; \
	if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then \
	    img=$$(scripts/ensure_base_image.sh); \
	    mkdir -p $(STATE_DIR); echo "$$img" > $(BASE_IMAGE_FILE); \
	    echo "amlocal: running examples/iris with the Docker backend (base image $$img)"; \
	    cd examples/iris && AMLOCAL_BASE_IMAGE="$$img" $(VENV_PY) train_and_register.py; \
	else \
	    echo "amlocal: Docker is not available; running examples/iris with the process backend"; \
	    cd examples/iris && $(VENV_PY) train_and_register.py; \
	fi

# The sample notebook's HyperDrive sweep (12 children, 4 at a time), same backend choice as `make run`.
sweep: $(RUN_STAMP)
	@AMLOCAL_ALLOW_NO_DOCKER=1 scripts/ensure_docker.sh
	@set -e; \
	if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then \
	    img=$$(scripts/ensure_base_image.sh); \
	    cd examples/sweep && AMLOCAL_BASE_IMAGE="$$img" $(VENV_PY) sweep_and_register.py; \
	else \
	    cd examples/sweep && $(VENV_PY) sweep_and_register.py; \
	fi

# Every benchmark runs even when one fails to measure a target; make fails at the end if any did.
BENCHMARKS := run_benchmarks.py queue_bench.py sweep_bench.py

bench: venv docker base-image
	@status=0; for script in $(BENCHMARKS); do \
	    echo "amlocal: benchmarks/$$script"; \
	    AMLOCAL_BASE_IMAGE="$$(cat $(BASE_IMAGE_FILE))" $(VENV_PY) benchmarks/$$script || status=1; \
	done; exit $$status

bench-studio: venv browser
	$(VENV_PY) benchmarks/studio_bench.py

# --- housekeeping --------------------------------------------------------------

# Removes the virtualenv and build/test artifacts. Run history and outputs
# (e.g. examples/iris/outputs, benchmarks/results) are kept.
clean:
	rm -rf $(VENV) build dist .pytest_cache $(BASE_IMAGE_FILE) $(BASE_IMAGE_FILE).tmp
	find . -path ./.git -prune -o \( -name '*.egg-info' -o -name '__pycache__' \) -type d -prune -exec rm -rf {} +
