# SLA Portal: `make run` starts it with demo data, `make test` checks everything.
#
#   make install   virtualenv in .venv with the app and its test tools (fast when up to date)
#   make run       migrate, load the demo data, serve on http://127.0.0.1:$(PORT)/
#   make test      ruff, missing migrations, pytest (pass options in PYTEST_ARGS)
#   make fmt       format the code and apply ruff's safe fixes
#   make browsers  install Debian's Chromium and poppler-utils for the browser and PDF tests
#   make clean     remove the virtualenv, caches and build output (keeps var/, your data)

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed

# Both are for a developer's machine: DEBUG on means no secret key is needed and mail goes
# to the console. Production never runs these targets (see README.md).
run test: export DJANGO_DEBUG = 1

.PHONY: install run test fmt browsers clean

install: $(STAMP)

# The stamp makes a second `make install` a no-op until pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: install
	mkdir -p "$${SLA_VAR_DIR:-var}"
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) create_seal_certificate
	$(MANAGE) runserver 127.0.0.1:$(PORT)

test: install browsers
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The browser tests need /usr/bin/chromium, the PDF tests pdftotext. When one is missing,
# apt-get installs it, but only where that is expected: in CI (CI=true) or when you ask
# with `make browsers`, and only as root. Otherwise `make test` says so and those tests
# skip. In CI (or after `make browsers`) a tool still missing afterwards is an error:
# there a skipped browser test would hide a failure.
BROWSER_TOOLS := /usr/bin/chromium:chromium /usr/bin/pdftotext:poppler-utils
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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
