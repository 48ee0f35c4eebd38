# 五五督查 — `make demo` and `make test` on a fresh machine (GNU make, Python 3.11+, Node.js 18+).
#
# Every step is guarded by a stamp or by the files it makes, so a second `make demo` repeats
# nothing slow: the virtualenv is reinstalled only when pyproject.toml changes, node_modules (and
# the files copied from it into static/vendor/) only when package.json/package-lock.json change,
# catalogs only when a .po changes and static files only when a static source changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
PYTEST_ARGS ?=

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
VENDOR_STAMP := static/vendor/.copied
STATIC_STAMP := staticfiles/.collected

PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
# Sources of collectstatic: ours, the apps' (if any) and static/vendor/ (via its stamp).
STATIC_SOURCES := $(shell find static civilaffairs inspections rectification reports \
	-type f -path '*static/*' -not -path 'static/vendor/*' 2>/dev/null)

# The periodic-task schedule is loaded by `manage.py setup_schedules` where an app has it (looked
# up by file: asking `manage.py help` would cost a second Django start on every `make demo`).
SETUP_SCHEDULES := $(wildcard */management/commands/setup_schedules.py)

MESSAGES_IGNORE := --ignore 'node_modules/*' --ignore '.venv/*' --ignore 'staticfiles/*' \
	--ignore 'var/*' --ignore 'static/vendor/*' --ignore 'tests/*'

# `make stop` must not start the embedded servers only to stop them: with DATABASE_URL and
# REDIS_URL unset, settings start them as Django loads. The `embedded` command never uses
# these URLs (it works through var/'s pid files and sockets) and settings connect lazily.
NO_EMBEDDED_START := DATABASE_URL=postgres://unused@127.0.0.1:1/unused \
	REDIS_URL=redis://127.0.0.1:1/0

.PHONY: help venv node setup catalog static demo test lint format messages schema stop clean distclean bench audit

help: ## list the targets
	@echo "五五督查 — make targets:"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) \
		| sed -E 's/^([^:]+):.*## (.*)$$/  \1\t\2/' | expand -t 14
	@echo "Variables: PORT=8000 (demo), PYTEST_ARGS='-k audit -x' (test), PYTHON=python3."

# --- installation -------------------------------------------------------------------------

$(VENV_STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or newer (or run make PYTHON=python3.11 ...)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); 五五督查 needs Python 3.11 or newer (run make PYTHON=python3.11 ...)" >&2; exit 1; }
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		echo "$(VENV) is broken or older than Python 3.11: recreating it"; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(VENV_STAMP) ## create .venv and install the Python packages

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js 18 or newer" >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# The files the pages use, copied from node_modules into static/vendor/ (ignored by git).
$(VENDOR_STAMP): $(NODE_STAMP) | $(VENV_STAMP)
	$(MANAGE) vendor_assets
	touch $@

node: $(VENDOR_STAMP) ## install the pinned front-end packages (npm ci) into static/vendor/

# compile_catalog compiles every out-of-date .mo at once (a second run for another .mo finds
# nothing left to do); it runs only when a .mo is missing or older than its .po.
$(MO_FILES): %.mo: %.po | $(VENV_STAMP)
	$(MANAGE) compile_catalog

catalog: $(MO_FILES) ## compile the gettext catalogs (polib, no GNU gettext needed)

$(STATIC_STAMP): $(STATIC_SOURCES) $(VENDOR_STAMP) $(VENV_STAMP)
	$(MANAGE) collectstatic --noinput -v0
	touch $@

static: $(STATIC_STAMP) ## collect static files into staticfiles/

setup: $(VENV_STAMP) $(VENDOR_STAMP) $(MO_FILES) $(STATIC_STAMP) ## install everything, compile catalogs, collect static files

# --- running ------------------------------------------------------------------------------

demo: setup ## migrate, load the demo city, run web + worker + beat on http://localhost:$PORT/ (8000)
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
ifneq ($(SETUP_SCHEDULES),)
	$(MANAGE) setup_schedules
endif
	exec $(MANAGE) rundemo

schema: $(VENV_STAMP) ## regenerate docs/openapi.yaml (a test checks it is current)
	$(MANAGE) spectacular --file docs/openapi.yaml

stop: ## stop the embedded PostgreSQL and Redis under var/
	@if [ -x $(PY) ]; then $(NO_EMBEDDED_START) $(MANAGE) embedded stop; \
	else echo "no $(VENV): nothing to stop"; fi

# --- checks -------------------------------------------------------------------------------

test: setup ## ruff, catalog check, migrations check, then pytest (PYTEST_ARGS=...)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) check_catalog
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# bandit: every finding is fixed or carries `# nosec <id>` after its reason ([tool.bandit] in
# pyproject.toml). pip-audit asks pypi.org about each installed package (the editable project
# itself excluded); AUDIT_STRICT=1 also fails when a package could not be looked up.
AUDIT_STRICT ?=

audit: $(VENV_STAMP) ## bandit over the four apps, pip-audit of the installed packages (AUDIT_STRICT=1)
	$(BIN)/bandit -c pyproject.toml -r civilaffairs inspections rectification reports -q
	$(BIN)/pip-audit --local --skip-editable --progress-spinner off $(if $(filter 1,$(AUDIT_STRICT)),--strict,)

lint: $(VENV_STAMP) ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV_STAMP) ## ruff check --fix and ruff format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(VENV_STAMP) ## re-extract the zh_Hans catalogs (needs GNU gettext), then translate them
	$(MANAGE) makemessages -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)
	$(MANAGE) makemessages -d djangojs -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)

# BENCH_SCALE=small|medium|city seeds the benchmark dataset first (manage.py bench_seed, when
# that command exists); without it the suite runs on whatever the database holds.
BENCH_SCALE ?=
BENCH_ARGS ?=

bench: setup ## run the benchmark suite and write BENCHMARKS.md (BENCH_SCALE=city, BENCH_ARGS=--quick)
	$(MANAGE) migrate --noinput
ifneq ($(BENCH_SCALE),)
	if ls */management/commands/bench_seed.py >/dev/null 2>&1; then \
		$(MANAGE) bench_seed --scale $(BENCH_SCALE); \
	else echo "bench_seed not available: running on the data in the database"; fi
endif
	$(MANAGE) bench $(BENCH_ARGS)

# --- cleaning -----------------------------------------------------------------------------

clean: ## remove collected static files, compiled catalogs and caches (keeps .venv, node_modules, var/)
	rm -rf staticfiles static/vendor .pytest_cache .ruff_cache .hypothesis build
	find locale -name '*.mo' -delete
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -path ./var -prune \
		-o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean ## clean, and remove .venv and node_modules (var/ keeps the demo data)
	rm -rf $(VENV) node_modules
