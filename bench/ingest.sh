#!/usr/bin/env bash
# Benchmark: generate N conversations (default 1,000,000) as CSV, then ingest them into a
# Parquet warehouse. Prints wall time and peak RSS of each step.
#
#   bench/ingest.sh [CONVERSATIONS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"
data="$work/data-$n"
out="$work/warehouse-$n"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"

mkdir -p "$work"
python3 bench/measure.py "sample $n conversations (csv)" -- \
  "$bin" sample --conversations "$n" --seed 1 --weeks 8 --out "$data" --quiet
du -sh "$data"/*.csv
rm -rf "$out"
python3 bench/measure.py "ingest $n conversations csv -> parquet" -- \
  "$bin" ingest --data "$data" --out "$out"
du -sh "$out"
