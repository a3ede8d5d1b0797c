# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint install system-deps browser-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Tools the test suite needs from the operating system: Maven fetches the Elasticsearch
# distribution the tests run against.
system-deps:
	@command -v mvn >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq maven; }

# Debian's Chromium for the dashboard's end-to-end tests (Playwright drives it; it never
# downloads a browser of its own).
browser-deps: $(STAMP)
	$(BIN)/python -m tests.support.browser

demo: $(STAMP)
	$(BIN)/tdir demo

# Style and complexity (ruff), and types (mypy: the whole product, strict on the core and the
# search API; see [tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two workers: most of the suite waits on servers, crawls and browsers rather than computing.
# A module's tests stay on one worker, with the module's fixtures.
TEST_WORKERS ?= 2

test: $(STAMP) system-deps browser-deps lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The quick loop while working: unit tests and the embedded backend's, no browser, no
# Elasticsearch, no crawl, service or process (under two minutes); `make test` runs everything.
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
