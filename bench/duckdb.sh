#!/usr/bin/env bash
# Benchmark against the obvious alternative: DuckDB running the same definitions as SQL.
# For N conversations (default 1,000,000): generates CSV, ingests it, checks that DuckDB's rows
# equal l2lens's, then alternates RUNS runs (default 3) of
#   - `l2lens metrics --select SELECT` vs DuckDB running `l2lens sql --dialect duckdb --select
#     SELECT` on the same warehouse (SELECT: all by default, or core, governance);
#   - `l2lens ingest` of the CSV vs DuckDB's read_csv + COPY … TO parquet of the same files;
# and, with SPARK_N conversations (default 200,000; 0 skips it), Spark local[2] running
# `l2lens sql --dialect spark` (rows compared, wall time).
# Prints each run, the medians and the ratios. Needs python3 with duckdb (and pyspark, Java 17).
#
#   SELECT=all SPARK_N=200000 bench/duckdb.sh [CONVERSATIONS] [RUNS] [WORK_DIR]
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
select="${SELECT:-all}"
spark_n="${SPARK_N:-200000}"
sql="$work/metrics-$n-$select.sql"
"$bin" sql --dialect duckdb --data "$warehouse" --by lane --period week --select "$select" --quiet --out "$sql"
# Equal rows first: a faster wrong answer is no answer.
"$bin" metrics --data "$warehouse" --by lane --period week --select "$select" --quiet --out "$work/l2lens-$n-$select.csv"
python3 scripts/run_sql.py duckdb "$warehouse" "$sql" "$work/duckdb-$n-$select.csv"
python3 bench/duckdb.py compare "$work/l2lens-$n-$select.csv" "$work/duckdb-$n-$select.csv"
python3 bench/duckdb.py metrics "$bin" "$warehouse" "$sql" "$runs" "$select"
python3 bench/duckdb.py ingest "$bin" "$data" "$work/ingest-$n" "$runs"

if [ "$spark_n" != 0 ]; then
  sdata="$work/data-$spark_n"
  swarehouse="$work/warehouse-$spark_n"
  if [ ! -f "$swarehouse/ingest_summary.json" ]; then
    "$bin" sample --conversations "$spark_n" --seed 1 --weeks 8 --out "$sdata" --quiet
    "$bin" ingest --data "$sdata" --out "$swarehouse" --quiet
  fi
  ssql="$work/spark-$spark_n-$select.sql"
  "$bin" sql --dialect spark --data "$swarehouse" --by lane --period week --select "$select" --quiet --out "$ssql"
  "$bin" metrics --data "$swarehouse" --by lane --period week --select "$select" --quiet --out "$work/l2lens-$spark_n-$select.csv"
  started=$(date +%s.%N)
  python3 scripts/run_sql.py spark "$swarehouse" "$ssql" "$work/spark-$spark_n-$select.csv"
  ended=$(date +%s.%N)
  python3 bench/duckdb.py compare "$work/l2lens-$spark_n-$select.csv" "$work/spark-$spark_n-$select.csv"
  python3 - "$started" "$ended" "$spark_n" <<'PY'
import sys
started, ended, n = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f"spark local[2] on {n} conversations: wall {ended - started:.1f} s (session start included)")
PY
  start_l2=$(date +%s.%N)
  "$bin" metrics --data "$swarehouse" --by lane --period week --select "$select" --quiet --out /dev/null
  end_l2=$(date +%s.%N)
  python3 -c "import sys; print(f'l2lens metrics on {sys.argv[3]} conversations: wall {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$start_l2" "$end_l2" "$spark_n"
fi
