# Every target creates or reuses .venv itself, installing exact versions (with hashes) from
# requirements/*.lock; `make lock` re-resolves them from pyproject.toml on purpose.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEMO_DIR ?= demo-data
HOST ?= 127.0.0.1
PORT ?= 8000
API_PORT ?= 8100
UV_VERSION := 0.13.9
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --no-header --quiet

.PHONY: venv test check lint types format demo bench bench-scale audit lock messages clean

venv: $(STAMP)

# The runtime only: what `make demo` (and a production install) needs.
$(RUNTIME_STAMP): requirements/runtime.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes --no-deps -r requirements/runtime.lock
	$(PIP) --no-deps --no-build-isolation -e .
	touch $(RUNTIME_STAMP)

# Runtime plus the PostgreSQL driver and the test and lint tools.
$(STAMP): $(RUNTIME_STAMP) requirements/dev.lock
	$(PIP) --require-hashes --no-deps -r requirements/dev.lock
	touch $(STAMP)

# Re-resolve both locks from pyproject.toml's ranges. The runtime lock is constrained by the
# dev lock, so the two never disagree on a version.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile pyproject.toml requirements/build.in --extra postgres \
	  --extra test $(LOCK_FLAGS) -o requirements/dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml requirements/build.in -c requirements/dev.lock \
	  $(LOCK_FLAGS) -o requirements/runtime.lock

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) tools/check_imports.py
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools

format: $(STAMP)
	$(VENV)/bin/ruff format src tests bench tools
	$(VENV)/bin/ruff check --fix src tests bench tools

types: $(STAMP)
	$(VENV)/bin/mypy

check: lint types test

demo: $(RUNTIME_STAMP)
	$(VENV)/bin/tokenusage demo --data-dir $(DEMO_DIR) --host $(HOST) --port $(PORT) \
	  --api-port $(API_PORT)

bench: $(STAMP)
	@for script in bench/bench_*.py; do \
	  echo "== $$script"; $(PY) $$script || exit 1; \
	done

# Issue 12: 1M and 10M-row ledgers, each mirrored into SQLite and PostgreSQL, and the 10M / 1M
# ratio of every cost (about 20 minutes and 12 GB of disk on 2 cores). Not part of `make bench`.
# BENCH_SCALE_ARGS passes options, e.g. --sizes 100000,1000000 or --dir /big/disk.
bench-scale: $(STAMP)
	$(PY) bench/scale.py $(BENCH_SCALE_ARGS)

# Issue 11: Lighthouse 12.2.3 (pinned in tools/audit/package-lock.json; 13.x needs a newer Node)
# on /usr/bin/chromium, desktop and mobile, on the low-balance overview and a deep history page
# of a dashboard it starts itself. Prints the scores and the failing audits; fails when
# accessibility or best practices is below 100, or mobile performance below 95. Needs npm.
# Not part of `make test`. AUDIT_ARGS passes options, e.g. --page overview --preset mobile.
AUDIT_NPM := tools/audit/node_modules/.installed

$(AUDIT_NPM): tools/audit/package.json tools/audit/package-lock.json
	npm ci --prefix tools/audit --no-audit --no-fund --loglevel=error
	touch $(AUDIT_NPM)

audit: $(STAMP) $(AUDIT_NPM)
	$(PY) tools/audit/lighthouse.py $(AUDIT_ARGS)

# Re-extract the dashboard's strings and merge them into the pt_BR catalog, then translate the
# new entries in src/tokenusage/locale/pt_BR/LC_MESSAGES/messages.po. `--ignore-dirs '.*'`
# replaces Babel's default, which also skips `_*` folders such as templates/_partials.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --ignore-dirs '.*' --no-wrap --sort-by-file \
	  --project tokenusage -o $(VENV)/messages.pot src
	$(VENV)/bin/pybabel update -i $(VENV)/messages.pot -d src/tokenusage/locale -l pt_BR \
	  --no-wrap --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
