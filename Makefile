# infradex: a new user needs two commands, `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# the PostgreSQL suite's database (CI starts the server if it is not running)
INFRADEX_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export INFRADEX_TEST_POSTGRES_URL

.PHONY: run mail test test-pg test-slow test-browser lint ci bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One stamp per set of extras; pyproject.toml changes reinstall.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

## run: serve the PSF example (or $$INFRADEX_CATALOG) on http://$(HOST):$(PORT)
run: $(VENV)/.installed-run
	$(BIN)/infradex serve --host $(HOST) --port $(PORT)

## mail: a mail catcher on 127.0.0.1:8025 that prints every message (for INFRADEX_SMTP_URL)
mail: $(VENV)/.installed-run
	@$(BIN)/python -c "import aiosmtpd" 2>/dev/null || $(BIN)/pip install --quiet aiosmtpd
	@echo "printing mail sent to smtp://127.0.0.1:8025 (Ctrl-C stops)"
	$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:8025

## test: the whole suite on SQLite; installs the Debian programs some tests run (BIND, ngIRCd,
## promtool, Graphviz) when it can, and otherwise skips those tests, naming the package
test: $(VENV)/.installed-test
	@$(BIN)/python tests/system_tools.py install
	$(BIN)/pytest -q -m "not browser and not slow"

## test-browser: click through the UI in Debian's Chromium, parse the Mermaid diagrams in Mermaid (both
## installed when they can be: Chromium from Debian, Mermaid from npm into .cache/npm/; screenshots
## in test-artifacts/)
test-browser: $(VENV)/.installed-test
	@$(BIN)/python tests/system_tools.py install --browser
	$(BIN)/pytest -q -m browser tests/browser

## test-pg: the store and server tests again on PostgreSQL ($$INFRADEX_TEST_POSTGRES_URL)
test-pg: $(VENV)/.installed-test
	$(BIN)/pytest -q --db postgresql -m "not slow" tests/integration/server

## test-slow: the repeated end-to-end runs (failover 20 times on PostgreSQL; minutes)
test-slow: $(VENV)/.installed-test
	$(BIN)/pytest -q --db postgresql -m slow tests/integration/server

## lint: ruff (lint and format) and mypy --strict
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## ci: everything .ci/run runs
ci: lint test test-pg test-browser test-slow

## bench: catalog scale benchmark against check-jsonschema (results in docs/benchmarks.md)
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/catalog_scale.py

## docs: write the PSF overview as Markdown, reStructuredText and HTML under out/
docs: $(VENV)/.installed-run
	$(BIN)/infradex docs build out/markdown --format markdown
	$(BIN)/infradex docs build out/rst --format rst
	$(BIN)/infradex docs build out/html --format html

clean:
	rm -rf $(VENV) build dist out .pytest_cache .mypy_cache .ruff_cache .hypothesis
