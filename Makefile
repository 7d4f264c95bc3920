# Every target creates or reuses .venv itself.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-data
HOST ?= 127.0.0.1
PORT ?= 8000
API_PORT ?= 8100

.PHONY: venv test check lint types format demo bench messages clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools

format: $(STAMP)
	$(VENV)/bin/ruff format src tests bench tools
	$(VENV)/bin/ruff check --fix src tests bench tools

types: $(STAMP)
	$(VENV)/bin/mypy

check: lint types test

demo: $(STAMP)
	$(VENV)/bin/tokenusage demo --data-dir $(DEMO_DIR) --host $(HOST) --port $(PORT) \
	  --api-port $(API_PORT)

bench: $(STAMP)
	@for script in bench/bench_*.py; do \
	  echo "== $$script"; $(PY) $$script || exit 1; \
	done

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
