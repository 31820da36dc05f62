# gongkai — two commands on a fresh machine: `make run` (main job on the bundled sample) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test ui docs prepare browser spark clean sample bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

prepare: $(STAMP)
	$(PY) -m dagster_project.cli prepare

## Materialise every asset (ingest → dbt → quality → publish) on $GONGKAI_RAW_DIR (default data/raw).
## YEAR=2019: the same job for one fiscal-year partition (that year re-published, the others carried over).
run: $(STAMP)
	$(PY) -m dagster_project.cli run $(if $(YEAR),--fiscal-year $(YEAR))

## Run the test suite (the same command CI runs) on three pytest-xdist workers on the 2 cores (the Spark parity module
## holds one for ≈ 3.7 min; three finish closer together: README), one module per worker at a time, the longest
## modules first. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3
test: $(STAMP) browser spark
	$(PY) -m dagster_project.cli prepare
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=20

## Dagster UI on http://127.0.0.1:3000
ui: $(STAMP)
	$(PY) -m dagster_project.cli ui

## dbt docs + GX Data Docs (offline pages) built with the settings of paths.py, served on http://127.0.0.1:$(DOCS_PORT)
DOCS_PORT ?= 8080
docs: $(STAMP)
	$(PY) -m dagster_project.cli docs --port $(DOCS_PORT)

## Headless Chromium + CJK fonts for the browser tests (Debian packages; needs root, skipped otherwise).
browser:
	@bash scripts/ensure_browser.sh

## Java 17 + the [spark] extra for the Spark parity test (Java from Debian when root; skipped with a message otherwise).
spark: $(STAMP)
	@bash scripts/ensure_spark.sh $(PY)

## Regenerate the bundled sample (deterministic).
sample: $(STAMP)
	$(PY) -m dagster_project.sample --seed 20181 --scale 1 --years 2017-2019 --out data/raw --force

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf data/out data/tmp data/*.duckdb data/*.duckdb.wal dbt/target dbt/logs
