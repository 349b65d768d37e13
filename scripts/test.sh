#!/usr/bin/env bash
# Runs every check l2lens has: formatting, lints, unit and integration tests (including the
# report in a real headless browser and alert emails through a real SMTP server). One profile (release) for everything, so polars
# compiles once for tests and runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser test needs Chromium. Install it when missing and we can (root on Debian);
# otherwise that test is skipped locally and fails under CI=true.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the browser test..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: no chromium (Debian: apt-get install chromium); the browser test will be skipped" >&2
  fi
fi

# The email tests talk to a real SMTP server: Python's aiosmtpd, from PyPI.
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "installing aiosmtpd for the email tests..." >&2
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd >&2 ||
    echo "note: could not install aiosmtpd; the email tests will be skipped (they fail under CI=true)" >&2
fi

# The SQL export is run by real engines: DuckDB and Apache Spark (local mode; needs Java 17),
# both from PyPI.
for module in duckdb pyspark; do
  if ! python3 -c "import $module" >/dev/null 2>&1; then
    echo "installing $module for the SQL export tests..." >&2
    python3 -m pip install --quiet --disable-pip-version-check "$module" >&2 ||
      echo "note: could not install $module; its SQL test will be skipped (it fails under CI=true)" >&2
  fi
done
# DuckDB's own shell, to run the exported file as a user would (`.read`); spark-sql ships with
# pyspark.
if ! command -v duckdb >/dev/null 2>&1; then
  echo "installing the duckdb shell for the SQL export tests..." >&2
  python3 -m pip install --quiet --disable-pip-version-check duckdb-cli >&2 ||
    echo "note: could not install duckdb-cli; its shell test will be skipped (it fails under CI=true)" >&2
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Java 17 for the Spark test..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  fi
fi

cargo fmt --all -- --check
cargo clippy --release --all-targets --locked -- -D warnings
cargo test --release --locked
