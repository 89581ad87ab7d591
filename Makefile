# The two commands of the README: `make demo` and `make test`; `make check`
# runs the checks of .pre-commit-config.yaml on every file.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=true
# What the venv was last installed from; installing again only when one changed.
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# One pytest-xdist worker per core (two on the project's machines); XDIST=-n0
# runs the suite in this process, ARGS picks tests:
# make test ARGS=tests/test_pdf.py
XDIST ?= -n auto
ARGS ?=

.PHONY: demo test install messages translations system-packages test-packages lint check format lock lock-check

$(BIN)/python: | system-packages
	$(PYTHON) -m venv $(VENV)

# CI and every machine install exactly what the lock pins (uv: seconds, where
# pip takes minutes), then the project itself. --build-constraints:
# XStatic-Bootstrap's sdist needs a setuptools with pkg_resources.
$(STAMP): pyproject.toml $(LOCK) build-constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $$(grep -o '^uv==[^ ]*' $(LOCK))
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --build-constraints build-constraints.txt $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --build-constraints build-constraints.txt \
		--no-deps -e .
	touch $@

install: $(STAMP) translations

# The translations the app runs with: each catalogue compiled (.mo, not kept in
# git) beside its .po whenever the .po changes. --check-format: a translation
# whose placeholders differ from the English would fail at run time.
MO := $(patsubst %.po,%.mo,$(wildcard mentorship/locale/*/LC_MESSAGES/django.po))
translations: $(MO)
%.mo: %.po | system-packages
	msgfmt --check-format -o $@ $<

# After marking or changing strings: adds them to every catalogue, to be
# translated before tests pass (tests/test_translations.py; docs/languages.md).
messages: install
	$(DEV) $(BIN)/python manage.py makemessages --all --no-obsolete --add-location file

# After a change to the ranges in pyproject.toml: pins again only what must
# change (add --upgrade, or --upgrade-package NAME, to move pins on).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	--build-constraints build-constraints.txt --generate-hashes --custom-compile-command "make lock" \
	--quiet
lock: $(BIN)/python
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) $(UV_ARGS) -o $(LOCK)

# Fails when the lock no longer satisfies pyproject.toml (run `make lock`).
lock-check: install
	@tmp=$$(mktemp) && cp $(LOCK) $$tmp && $(UV_COMPILE) -o $$tmp && \
	if ! cmp -s $(LOCK) $$tmp; then \
		diff -u $(LOCK) $$tmp | head -40; rm -f $$tmp; \
		echo "$(LOCK) is out of date with pyproject.toml: run make lock." >&2; exit 1; \
	fi; rm -f $$tmp

# Installs what is missing from the listed apt files (needs root, or sudo).
define apt_install
	@missing=$$(cat $(1) | grep -v '^#' | xargs -n1 sh -c 'dpkg -s "$$0" >/dev/null 2>&1 || echo "$$0"'); \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-packages:
	$(call apt_install,apt-packages.txt)

test-packages:
	$(call apt_install,apt-packages.txt apt-packages-test.txt)

# The demo sends no email: Django's file backend writes each one under
# var/mail/ (EMAIL_FILE_PATH), where the Sent emails page reads them.
DEMO_EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend
DEMO := $(DEV) EMAIL_BACKEND=$(DEMO_EMAIL_BACKEND)
WORKER_LOG := var/log/worker.log

# The task worker (emails, sealing signed PDFs, draft PDFs) runs beside the dev
# server, is started again if it dies, and stops with it: its process group is
# killed outright (a SIGTERM to all of it can leave django-q2 hanging), and a
# task cut short is delivered again TASK_RETRY seconds after it was taken. Its
# output goes to WORKER_LOG and these lines are not echoed, so the box
# seed_demo prints (the address, the logins, where emails are) stays in view
# just above the server's own lines.
demo: system-packages install
	@mkdir -p $(dir $(WORKER_LOG))
	$(DEMO) $(BIN)/python manage.py migrate --verbosity 0
	test -f var/seal/seal-key.pem || $(DEV) $(BIN)/python manage.py create_seal_keys
	$(DEMO) $(BIN)/python manage.py seed_demo --worker-log $(WORKER_LOG)
	@setsid sh -c 'while :; do $(DEMO) $(BIN)/python manage.py qcluster >>$(WORKER_LOG) 2>&1; \
		echo "The task worker stopped; starting it again (its log: $(WORKER_LOG))." >&2; \
		sleep 2; done' & \
	trap 'kill -KILL -$$! 2>/dev/null' EXIT INT TERM; \
	$(DEMO) $(BIN)/python manage.py runserver 127.0.0.1:8000

# The quick part of `make check`, run before every `make test`.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# On SQLite: the check needs no server, whatever DATABASE_URL says.
	env -u DATABASE_URL $(DEV) $(BIN)/python manage.py makemigrations --check --dry-run

# Every hook of .pre-commit-config.yaml on every tracked file, as CI runs them.
check: install
	$(BIN)/pre-commit run --all-files

# Fixes what the checks can fix: lint autofixes, formatting, template indentation.
format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djhtml templates
	git ls-files -z '*.py' | xargs -0 $(BIN)/django-upgrade --target-version 5.2 \
		--exit-zero-even-if-changed

test: test-packages install lint
	$(BIN)/pytest $(XDIST) $(ARGS)
