#!/usr/bin/env bash
# The Spark parity test (tests/test_spark_parity.py) needs Java 17 and the [spark] extra (dbt-spark, pyspark).
# Java: Debian's openjdk-17-jre-headless, installed here when missing and run as root. The extra is installed
# into the venv once (a stamp beside it; pyspark builds from a ~456 MB sdist, about a minute on 2 cores, and
# pip caches the built wheel). Anything missing: the parity test skips and says why; nothing here fails.
set -u
PY="${1:-.venv/bin/python}"
STAMP="$(dirname "$PY")/../.spark-installed"
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
      || echo "could not install Java: the Spark parity test will be skipped" >&2
  fi
  if ! command -v java >/dev/null 2>&1; then
    echo "java not on PATH (and not root): the Spark parity test will be skipped" >&2
    exit 0
  fi
fi
if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ]; then
  exit 0
fi
started=$(date +%s)
if "$PY" -m pip install --quiet -e ".[test,spark]"; then
  touch "$STAMP"
  echo "installed the [spark] extra in $(( $(date +%s) - started )) s" >&2
else
  echo "could not install the [spark] extra: the Spark parity test will be skipped" >&2
fi
exit 0
