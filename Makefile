# Two commands on a fresh machine with Python 3.11+ and make:
#   make run    create .venv, install, serve connector.yaml with the embedded commercetools stand-in
#   make test   create .venv, install (with test tools), lint, type-check, run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml tests/fixtures/*/pyproject.toml examples/*/pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)

.PHONY: run test lint check bench clean

$(STAMP):
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	for d in tests/fixtures/*/ examples/*/; do [ -f "$$d/pyproject.toml" ] && $(PY) -m pip install --quiet --disable-pip-version-check -e "$$d"; done; true
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/connector-host serve --config connector.yaml

lint: $(STAMP)
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

check: $(STAMP)
	$(VENV)/bin/connector-host check --config connector.yaml

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV)
