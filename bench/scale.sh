#!/usr/bin/env bash
# Benchmark at scale: every step of the weekly job on N generated conversations (default
# 20,000,000; about 6.4 messages each, 52 weeks): sample (Parquet), ingest, metrics (the ten),
# metrics --select all, board, report and facts (Parquet). Prints each step's wall time and
# peak RSS, and the customer partitions the analysis steps chose (one per 2.5 M
# conversations).
#
# With COMPARE=1 it also runs `metrics --select all` in one partition and checks that its
# output is byte-identical (that run's memory grows with the whole history).
#
# Disk: about 0.2 GB per million conversations for the sample and as much for the warehouse,
# plus a temporary copy of the warehouse's tables during the partitioned steps (TMPDIR).
#
#   bench/scale.sh [CONVERSATIONS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"
parquet="$work/scale-parquet-$n"
warehouse="$work/scale-warehouse-$n"
out="$work/scale-out-$n"

cargo build --release --locked --quiet
mkdir -p "$work"
# The steps run a copy of the binary: a build during the run does not change what is measured.
bin="$work/l2lens"
cp "${CARGO_TARGET_DIR:-target}/release/l2lens" "$bin"
rm -rf "$parquet" "$warehouse" "$out"
mkdir -p "$out"

step() {
  local label="$1"
  shift
  python3 bench/measure.py "$label" -- "$@"
}

step "sample $n conversations (parquet)" \
  "$bin" sample --quiet --conversations "$n" --seed 1 --weeks 52 --format parquet --out "$parquet"
du -sh "$parquet"
step "ingest (parquet -> parquet warehouse)" \
  "$bin" ingest --quiet --data "$parquet" --out "$warehouse"
du -sh "$warehouse"
rm -rf "$parquet"
step "metrics (the ten, by lane, weekly)" \
  "$bin" metrics --quiet --data "$warehouse" --out "$out/metrics.csv"
step "metrics --select all" \
  "$bin" metrics --quiet --data "$warehouse" --select all --out "$out/metrics-all.csv"
step "board" \
  "$bin" board --quiet --data "$warehouse" --out "$out/board.csv"
step "report" \
  "$bin" report --quiet --data "$warehouse" --out "$out/reports"
step "facts (parquet)" \
  "$bin" facts --quiet --data "$warehouse" --out "$out/facts.parquet"
du -sh "$out/facts.parquet"
rm -f "$out/facts.parquet"
if [ "${COMPARE:-0}" = 1 ]; then
  step "metrics --select all, one partition" \
    "$bin" metrics --quiet --data "$warehouse" --select all --customer-partitions 1 \
    --out "$out/metrics-all-whole.csv"
  cmp "$out/metrics-all.csv" "$out/metrics-all-whole.csv" && echo "partitioned = one partition: identical"
fi
