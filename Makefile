# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=true

.PHONY: demo test install system-packages test-packages lint

$(BIN)/python: | system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# --build-constraint: XStatic-Bootstrap's sdist needs a setuptools with pkg_resources.
install: $(BIN)/python
	$(BIN)/pip install --quiet --build-constraint build-constraints.txt -e ".[test]"

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

# The task worker (emails, sealing signed PDFs, draft PDFs) runs beside the dev
# server, is started again if it dies, and stops with it: its process group is
# killed outright (a SIGTERM to all of it can leave django-q2 hanging), and a
# task cut short is delivered again TASK_RETRY seconds after it was taken.
demo: system-packages install
	$(DEV) $(BIN)/python manage.py migrate --verbosity 0
	test -f var/seal/seal-key.pem || $(DEV) $(BIN)/python manage.py create_seal_keys
	$(DEV) $(BIN)/python manage.py seed_demo
	setsid sh -c 'while :; do $(DEV) $(BIN)/python manage.py qcluster; \
		echo "The task worker stopped; starting it again." >&2; sleep 2; done' & \
	trap 'kill -KILL -$$! 2>/dev/null' EXIT INT TERM; \
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# On SQLite: the check needs no server, whatever DATABASE_URL says.
	env -u DATABASE_URL $(DEV) $(BIN)/python manage.py makemigrations --check --dry-run

test: test-packages install lint
	$(BIN)/pytest
