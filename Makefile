# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint check-html test-production prod-local prod-down install install-dev \
	install-precheck install-bench db demo bench bench-images bench-review bench-precheck \
	bench-import bench-surge bench-faults clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# The pre-check engines (optional for the app, needed by their tests): everything but rapidocr
# first, then rapidocr alone without its declared dependencies (see requirements-precheck.txt).
$(VENV)/.installed-precheck: requirements-precheck.txt $(VENV)/.installed
	grep -v '^rapidocr' requirements-precheck.txt | $(BIN)/pip install -q -r /dev/stdin
	$(BIN)/pip install -q --no-deps $$(grep '^rapidocr' requirements-precheck.txt)
	touch $@

# The Nu Html Checker (vnu.jar from npm; Java runs it) for tests/test_html_valid.py. Its
# postinstall script would download a Java of its own: not run, the system's Java is used.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: tests/test_html_valid.py will skip (apt-get install npm)"; fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed
install-precheck: $(VENV)/.installed-precheck

# The load generator (locust) and py-spy live in a virtualenv of their own: see bench/requirements.txt.
.venv-bench/.installed: bench/requirements.txt
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q --upgrade pip
	.venv-bench/bin/pip install -q -r bench/requirements.txt
	touch $@

install-bench: .venv-bench/.installed

db: install
	$(FLASK) db upgrade
	$(FLASK) regions load

# PORT=8000 make run, if 5000 is taken.
PORT ?= 5000
run: db
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Demo data: applications across Yunnan (with generated photos), a reviewer per county.
demo: db
	$(FLASK) demo seed

lint: install-dev
	$(BIN)/ruff check .

test: install-dev install-precheck lint
	$(BIN)/python -m pytest

# The main pages through vnu (also part of `make test`, about 5 s).
check-html: install-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_html_valid.py

# The production shape on this machine (nginx, gunicorn, the RQ worker, PostgreSQL, Redis) in
# staging mode, and the end-to-end test through it.
prod-local: install
	deploy/local/up.sh

prod-down:
	deploy/local/down.sh

# A person registers and resets within the minute here: more than one code a minute per phone.
test-production: install-dev
	PROD_LOCAL_FRESH=1 SMS_PHONE_LIMITS="3 per minute;10 per hour;20 per day" deploy/local/up.sh
	PROD_LOCAL=1 $(BIN)/python -m pytest tests/production -p no:cacheprovider; status=$$?; \
	deploy/local/down.sh; exit $$status

bench: install-dev
	$(BIN)/python bench/http_bench.py

bench-images: install-dev
	$(BIN)/python bench/image_bench.py

bench-review: install-dev
	$(BIN)/python bench/review_bench.py

bench-precheck: install-dev install-precheck
	$(BIN)/python bench/precheck_bench.py

bench-import: install-dev
	$(BIN)/python bench/import_bench.py

# The deadline surge and the faults against `make prod-local` on their own ports and database
# (bench/surge/shape.py: 9443, kjxx_surge, Redis db 4); each prints its numbers (bench/README.md).
bench-surge: install-dev install-bench
	$(BIN)/python bench/surge/surge.py $(SURGE_ARGS)

bench-faults: install-dev install-bench
	$(BIN)/python bench/surge/faults.py $(or $(FAULTS),all) $(FAULT_ARGS)

clean:
	rm -rf $(VENV) .venv-bench node_modules instance test-results .pytest_cache
