#!/usr/bin/env bash
# Benchmark at scale: every step on N generated conversations (default 10,000,000; about
# 64 M messages): sample (CSV), ingest, metrics, sql export, sample (Parquet) and ingest of
# the Parquet files. Prints each
# step's wall time and peak RSS. Needs about 25 GB of free disk at 10 M.
#
#   bench/scale.sh [CONVERSATIONS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"
data="$work/scale-data-$n"
parquet="$work/scale-parquet-$n"
warehouse="$work/scale-warehouse-$n"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"
mkdir -p "$work"
rm -rf "$data" "$parquet" "$warehouse" "$warehouse-from-parquet"

python3 bench/measure.py "sample $n conversations (csv)" -- \
  "$bin" sample --quiet --conversations "$n" --seed 1 --weeks 52 --out "$data"
du -sh "$data"
python3 bench/measure.py "ingest $n conversations (csv -> parquet warehouse)" -- \
  "$bin" ingest --quiet --data "$data" --out "$warehouse"
du -sh "$warehouse"
python3 bench/measure.py "metrics $n conversations (by lane, weekly)" -- \
  "$bin" metrics --quiet --data "$warehouse" --by lane --period week --out "$work/scale-metrics-$n.csv"
python3 bench/measure.py "sql export" -- \
  "$bin" sql --quiet --dialect duckdb --data "$warehouse" --out "$work/scale-$n.sql"
rm -rf "$data"
python3 bench/measure.py "sample $n conversations (parquet)" -- \
  "$bin" sample --quiet --conversations "$n" --seed 1 --weeks 52 --format parquet --out "$parquet"
python3 bench/measure.py "ingest $n conversations (parquet -> parquet warehouse)" -- \
  "$bin" ingest --quiet --data "$parquet" --out "$warehouse-from-parquet"
rm -rf "$parquet" "$warehouse-from-parquet"
