# The two set-up commands: `make demo` and `make test`. Everything else is installed by them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
JSCLIENT := tests/jsclient

.PHONY: demo test lint bench install node

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "casebot needs Python >= 3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,demo]'
	touch $@

install: $(VENV)/.installed

$(JSCLIENT)/node_modules/.installed: $(JSCLIENT)/package-lock.json
	npm ci --prefix $(JSCLIENT) --no-audit --no-fund --loglevel=error
	touch $@

node: $(if $(wildcard $(JSCLIENT)/package-lock.json),$(JSCLIENT)/node_modules/.installed)

demo: install
	$(PY) -m bot demo

lint: install
	$(PY) -m ruff check .

# Tests run in parallel (pytest-xdist): each worker starts its own Synapse when it first needs
# one. `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 3
test: install node lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

# make bench BENCH_ARGS="--quick" (or "latency burst", "scale --rooms 300"): see bench/RESULTS.md
bench: install
	$(PY) -m bench $(BENCH_ARGS)
