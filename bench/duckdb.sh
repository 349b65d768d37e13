#!/usr/bin/env bash
# Benchmark against the obvious alternative: DuckDB running the same definitions as SQL.
# For N conversations (default 1,000,000): generates CSV, ingests it, then alternates RUNS
# runs (default 3) of
#   - `l2lens metrics` vs DuckDB running `l2lens sql --dialect duckdb` on the same warehouse;
#   - `l2lens ingest` of the CSV vs DuckDB's read_csv + COPY … TO parquet of the same files.
# Prints each run, the medians and the ratios. Needs python3 with duckdb (pip install duckdb).
#
#   bench/duckdb.sh [CONVERSATIONS] [RUNS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
runs="${2:-3}"
work="${3:-${TMPDIR:-/tmp}/l2lens-bench}"
data="$work/data-$n"
warehouse="$work/warehouse-$n"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"

mkdir -p "$work"
if [ ! -f "$data/messages.csv" ]; then
  "$bin" sample --conversations "$n" --seed 1 --weeks 8 --out "$data" --quiet
fi
du -sh "$data"
if [ ! -f "$warehouse/ingest_summary.json" ]; then
  "$bin" ingest --data "$data" --out "$warehouse" --quiet
fi
"$bin" sql --dialect duckdb --data "$warehouse" --by lane --period week --quiet --out "$work/metrics-$n.sql"
python3 bench/duckdb.py metrics "$bin" "$warehouse" "$work/metrics-$n.sql" "$runs"
python3 bench/duckdb.py ingest "$bin" "$data" "$work/ingest-$n" "$runs"
