# The README's first two commands are `make demo` and `make test`; both build .venv if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-under-load lint bench eval clean snapshot-update fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/loadmon demo

test: install
	$(PY) -m pytest -q

# `make test` RUNS times beside two CPU-bound processes, pass/fail per run (TESTS: a subset).
RUNS ?= 20
TESTS ?=
test-under-load: install
	PY=$(PY) benchmarks/under_load.sh $(RUNS) $(TESTS)

# Hostile input: every parser fuzzed with FUZZ_EXAMPLES cases (make test runs 40 of each).
FUZZ_EXAMPLES ?= 2000
fuzz: install
	LOADMON_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider \
		tests/test_fuzz.py --hypothesis-show-statistics

lint: install
	$(VENV)/bin/ruff check loadmon tests benchmarks
	$(VENV)/bin/mypy

bench: install
	$(PY) benchmarks/run_all.py

eval: install
	$(PY) -m tests.evaluate

snapshot-update: install
	$(PY) -m pytest -q tests/tui --snapshot-update

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
