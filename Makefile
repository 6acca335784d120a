# SLA Portal: `make run` starts it with demo data, `make test` checks everything.
#
#   make install   virtualenv in .venv with the app and its test tools (fast when up to date)
#   make run       migrate, load the demo data, serve on http://127.0.0.1:$(PORT)/ with a
#                  task worker beside the server (Procfile; Ctrl-C stops both)
#   make test      ruff, missing migrations, pytest (pass options in PYTEST_ARGS)
#   make fmt       format the code and apply ruff's safe fixes
#   make messages  update the English .po from the source strings and compile the .mo
#   make browsers  install Debian's Chromium and poppler-utils for the browser and PDF tests
#   make bench     measure against the cost floors into bench/results.md (~15 min, see bench/)
#   make clean     remove the virtualenv, caches and build output (keeps var/, your data)

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=
# Test files run in TEST_WORKERS processes (pytest-xdist), each file whole in one of them
# (--dist loadfile: its module-scoped fixtures, its live server); pytest-django gives each
# worker its own test database (test-db.sqlite3_gw0, test_sla_gw0, ...). TEST_WORKERS=0
# runs everything in one process, as before.
TEST_WORKERS ?= 2

VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed

# Both are for a developer's machine: DEBUG on means no secret key is needed and mail goes
# to the console. Production never runs these targets (see README.md).
run test: export DJANGO_DEBUG = 1

.PHONY: install run test fmt messages browsers bench clean

install: $(STAMP)

# The stamp makes a second `make install` a no-op until pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,test]"
	touch $@

run: install
	mkdir -p "$${SLA_VAR_DIR:-var}"
	$(MANAGE) migrate --noinput
	$(MANAGE) create_seal_certificate
	$(MANAGE) load_demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --port $(PORT)

test: install browsers
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
# makemigrations checks the history in the database: without var/ it warns it cannot open it
	mkdir -p "$${SLA_VAR_DIR:-var}"
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# German is the source language, so only English has a catalogue. Needs GNU gettext
# (Debian package gettext). The .mo is committed: a checkout runs in English without it.
# The ignores keep Django's own catalogues in .venv and generated files out.
I18N_IGNORE := --ignore=.venv --ignore=staticfiles --ignore=var --ignore=tests
messages: export DJANGO_DEBUG = 1
messages: install
	$(MANAGE) makemessages -l en --no-obsolete $(I18N_IGNORE)
	$(MANAGE) compilemessages $(I18N_IGNORE)

# The browser tests need /usr/bin/chromium, the PDF tests pdftotext and qpdf (the embedded
# content, read as docs/evidence.md says), the timestamp tests openssl (`openssl ts` is
# their RFC 3161 server). When one is missing,
# apt-get installs it, but only where that is expected: in CI (CI=true) or when you ask
# with `make browsers`, and only as root. Otherwise `make test` says so and those tests
# skip. In CI (or after `make browsers`) a tool still missing afterwards is an error:
# there a skipped browser test would hide a failure.
BROWSER_TOOLS := /usr/bin/chromium:chromium /usr/bin/pdftotext:poppler-utils /usr/bin/qpdf:qpdf \
	/usr/bin/openssl:openssl
IS_CI := $(filter 1 true yes on,$(shell echo '$(CI)' | tr A-Z a-z))
WANT_APT := $(or $(IS_CI),$(filter browsers,$(MAKECMDGOALS)))

browsers:
	@missing=""; \
	for tool in $(BROWSER_TOOLS); do \
	  test -x "$${tool%%:*}" || missing="$$missing $${tool#*:}"; \
	done; \
	if [ -n "$$missing" ] && [ -n "$(WANT_APT)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing with apt-get"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "Please install$$missing (Debian packages); apt-get needs root." >&2; \
	  fi; \
	elif [ -n "$$missing" ]; then \
	  echo "Note: missing$$missing; browser/PDF tests will skip (make browsers installs them)."; \
	fi; \
	for tool in $(BROWSER_TOOLS); do \
	  if ! test -x "$${tool%%:*}" && [ -n "$(WANT_APT)" ]; then \
	    echo "$${tool%%:*} is missing (Debian package $${tool#*:})" >&2; exit 1; \
	  fi; \
	done

# By hand, never in CI: needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), where
# it creates and drops its own database sla_bench, and wrk (Debian package wrk).
# BENCH_ARGS=--quick checks the suite itself in a minute.
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
