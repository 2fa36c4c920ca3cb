# Two commands on a fresh machine with Python 3.11+ and make:
#   make run    create .venv, install connector-host and its runtime dependencies only, serve connector.yaml
#               with the embedded commercetools stand-in
#   make test   also install the test and lint tools and the test plugins, lint, type-check, run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Installed by `make test` next to the host, editable: the test plugins and the example plugin.
TEST_PROJECTS := $(patsubst %/pyproject.toml,%,$(wildcard tests/fixtures/*/pyproject.toml examples/*/pyproject.toml))
# One stamp per install level, named after what the install read: a changed pyproject.toml installs again.
# `make test` leaves both stamps, so a later `make run` installs nothing; a venv made by `make run` lacks the
# test stamp, so `make test` adds the test tools to it.
HASH := $(shell cat pyproject.toml $(addsuffix /pyproject.toml,$(TEST_PROJECTS)) 2>/dev/null | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)

.PHONY: run test lint check bench clean venv

venv:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(PY) || { printf '==> creating %s with %s\n' "$(VENV)" "$$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }

$(RUN_STAMP): | venv
	@echo "==> upgrading pip in $(VENV)"
	@$(PIP) install --quiet --upgrade pip
	@echo "==> installing connector-host and its runtime dependencies (no test tools)"
	@# --no-compile: Python compiles what the host imports as it starts, not every module of every package
	@$(PIP) install --quiet --no-compile -e .
	@rm -f $(VENV)/.installed-* && touch $@

# make test's install steps, one line each (an echo may say what comes), after the runtime install.
$(TEST_STAMP): $(RUN_STAMP)
	@echo "==> installing the test and lint tools and the test plugins"
	@$(PIP) install --quiet -e '.[dev]' $(addprefix -e ,$(TEST_PROJECTS))
	@touch $@

run: $(RUN_STAMP)
	$(VENV)/bin/connector-host serve --config connector.yaml

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check host plugins emulator tests examples
	$(VENV)/bin/mypy
	MYPYPATH=examples/bank_transfer $(VENV)/bin/mypy --strict -p bank_transfer

# the independent commercetools judge (tests/judge: @labdigital/commercetools-mock, pinned by its lock file)
tests/judge/node_modules/.installed: tests/judge/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs Node.js 20+ and npm for the commercetools judge (tests/judge): install them, e.g. apt-get install nodejs npm" >&2; exit 1; }
	cd tests/judge && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

test: lint tests/judge/node_modules/.installed chromium
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq haproxy >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }; } || { echo "make test: tests/deploy/test_topology.py needs HAProxy (the load balancer) and it could not be installed; run: sudo apt-get install haproxy" >&2; exit 1; }
	$(PY) -m pytest -q
	$(PY) -m pytest -q examples/bank_transfer

.PHONY: chromium
chromium:
	sh tests/browser/ensure-chromium.sh

check: $(RUN_STAMP)
	$(VENV)/bin/connector-host check --config connector.yaml

bench: $(TEST_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV)
