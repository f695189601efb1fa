# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
WORKERS ?= 1

.PHONY: run test setup lint bench chromium clean

# Installs come from the lock files (every package pinned, with hashes): `make run` takes
# the production lock only, `make test` the development one (production + test tools).
# After changing requirements*.txt: `make lock`, then commit the .lock files.
$(VENV)/.installed-prod: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.installed-prod

# Re-resolve the lock files from requirements*.txt (keeps current pins where they still fit).
.PHONY: lock
lock:
	test -x $(BIN)/pip-compile || $(BIN)/pip install --quiet pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock requirements.txt
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements-dev.lock requirements-dev.txt

# Development defaults: DEBUG on (so no secret key is needed), SQLite, local uploads.
setup: export DJANGO_DEBUG ?= 1
setup: $(VENV)/.installed-prod
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: export DJANGO_DEBUG ?= 1
run: setup
	$(BIN)/python -m chatdesk.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# Browser tests drive Debian's chromium; install it if it is missing (never a downloaded build).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'; }

test: export DJANGO_DEBUG ?= 1
test: $(VENV)/.installed setup chromium lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Re-extract the pages' texts into locale/tr/LC_MESSAGES/*.po and compile the .mo files
# (needs gettext; the compiled .mo files are committed, so `make run` never does).
.PHONY: messages
messages: export DJANGO_DEBUG ?= 1
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l tr -i ".venv/*" -i "staticfiles/*" -i "tests/*" -i "bench/*"
	$(BIN)/python manage.py makemessages -d djangojs -l tr -i ".venv/*" -i "staticfiles/*" -i "static/vendor/*" -i "node_modules/*" -i "bench/*"
	$(BIN)/python manage.py compilemessages -l tr

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Mutation testing of the core modules (issue 19): mutmut plants small bugs in the domain
# services and validation, keyset paging, upload sniffing, the OTP module, the Telegram
# sender's pacer and ordering and the inbound reply lookup, and runs the fast unit layer
# (tests/unit) against each. Slow (tens of minutes on 2 cores): on demand, not in `make test`.
# Prints the score per module and every surviving mutant; docs/testing.md keeps the last
# score and why each survivor is equivalent or which test now kills it. The selection is
# [tool.mutmut] in pyproject.toml plus MUTANTS in tests/mutation_report.py.
.PHONY: mutate
mutate: export DJANGO_DEBUG ?= 1
mutate: $(VENV)/.installed
	rm -rf mutants
	set -f; $(BIN)/mutmut run $$($(BIN)/python -c "from tests.mutation_report import MUTANTS; print(*MUTANTS)")
	$(BIN)/python -m tests.mutation_report

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The 30-minute soak (issue 16): 1,000 visitors on two daphne processes (PostgreSQL + Redis);
# prints each process's RSS growth over the last 20 minutes (target < 5%) and draws the
# curve into bench/soak-memory.png (bench/README.md, "Memory over a 30-minute soak").
.PHONY: soak
soak: $(VENV)/.installed
	$(BIN)/python -m tests.soak.soak --visitors 1000 --admins 2 --minutes 30 \
		--plot bench/soak-memory.png --json bench/results/soak-memory.json $(SOAK_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
