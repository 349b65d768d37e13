#!/usr/bin/env bash
# Benchmark: `l2lens metrics --by lane --period week` on N generated conversations (default
# 1,000,000), read from an ingested Parquet warehouse: the ten metrics, then every metric with
# the governance checks. Prints wall time and peak RSS of each.
#
#   bench/metrics.sh [CONVERSATIONS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"
data="$work/data-$n"
warehouse="$work/warehouse-$n"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"

mkdir -p "$work"
if [ ! -f "$warehouse/ingest_summary.json" ]; then
  "$bin" sample --conversations "$n" --seed 1 --weeks 8 --out "$data" --quiet
  "$bin" ingest --data "$data" --out "$warehouse" --quiet
fi
python3 bench/measure.py "metrics $n conversations (parquet warehouse, by lane, weekly)" -- \
  "$bin" metrics --data "$warehouse" --by lane --period week --out "$work/metrics-$n.csv" --quiet
python3 bench/measure.py "metrics --select all (the ten and G1-G8) $n conversations" -- \
  "$bin" metrics --data "$warehouse" --by lane --period week --select all \
  --out "$work/metrics-all-$n.csv" --quiet
wc -l "$work/metrics-$n.csv" "$work/metrics-all-$n.csv"
