# Two commands on a fresh clone: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Only for the test run; production sets its own SECRET_KEY.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-tests-only-insecure-key}

.PHONY: demo test venv lint typecheck migrations-check pytest pytest-sqlite messages serve bench \
	bench-search bench-booking bench-setup bench-relay bench-flood bench-notes bench-soak \
	bench-churn

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	@test -f "$(REPORT_FONT)" || $(FONT_HINT)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	DEBUG=1 $(BIN)/daphne -b $(HOST) -p $(PORT) --websocket-max-message-size 1048576 --websocket-max-frame-size 1048576 telehealth.asgi:application

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# The layer rules (pyproject.toml [tool.importlinter]); --no-cache writes nothing.
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: venv
	$(TEST_ENV) $(BIN)/mypy

migrations-check: venv
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

# The signed report's PDF needs a font with Vietnamese diacritics (docs/notes.md).
REPORT_FONT := $${REPORT_FONT_PATH:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
FONT_HINT := echo "NOTE: the report PDF font ($(REPORT_FONT)) is missing: PDF downloads answer 503 and the PDF test is skipped. Install it: apt-get install -y fonts-dejavu-core"

pytest: venv
	@test -f "$(REPORT_FONT)" || $(FONT_HINT)
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# The Vietnamese collation and the accent-insensitive search, also on the embedded default
# (SQLite, with no DATABASE_URL): docs/decisions.md 49.
pytest-sqlite: venv
	env -u DATABASE_URL -u REDIS_URL $(TEST_ENV) $(BIN)/pytest -p no:cacheprovider tests/clinics/test_patient_names.py

test: lint typecheck migrations-check pytest pytest-sqlite

# Regenerate translation catalogs (needs GNU gettext); the compiled .mo files are committed.
messages: venv
	# From the project root: LOCALE_PATHS puts the catalog in frontend/locale, and every app's
	# strings are seen (run inside frontend/, --no-obsolete would drop the others').
	DEBUG=1 $(BIN)/python manage.py makemessages -l vi -l en --no-obsolete \
		--ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'artifacts/*'
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore '.venv'

# Benchmarks (docs/testing.md "Benchmarks"): each writes its section of bench/RESULTS.md with
# its floor measured in the same run. They need PostgreSQL and Redis, as in CI:
#   make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/th_bench \
#              BENCH_REDIS_URL=redis://127.0.0.1:6379/12
BENCH_DATABASE_URL ?= $${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/telehealth_bench}
BENCH_REDIS_URL ?= $${REDIS_URL:-redis://127.0.0.1:6379/12}
BENCH_RUN = DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python

bench: bench-search bench-booking bench-setup bench-relay bench-flood bench-notes bench-soak \
	bench-churn

bench-search: venv
	$(BENCH_RUN) bench/scheduling_search.py

bench-booking: venv
	$(BENCH_RUN) bench/scheduling_booking.py

bench-setup: venv
	$(BENCH_RUN) bench/room_setup.py

bench-relay: venv
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BENCH_RUN) bench/room_relay.py

bench-flood: venv
	$(BENCH_RUN) bench/room_flood.py

bench-notes: venv
	$(BENCH_RUN) bench/notes_live.py

bench-soak: venv
	$(BENCH_RUN) bench/soak_connections.py

bench-churn: venv
	$(BENCH_RUN) bench/layer_churn.py
