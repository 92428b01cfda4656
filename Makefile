# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install install-dev db bench bench-images bench-review clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

db: install
	$(FLASK) db upgrade
	$(FLASK) regions load

run: db
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python bench/http_bench.py

bench-images: install-dev
	$(BIN)/python bench/image_bench.py

bench-review: install-dev
	$(BIN)/python bench/review_bench.py

clean:
	rm -rf $(VENV) instance test-results .pytest_cache
