#!/usr/bin/env bash
# Benchmark: `ingest --append` of one week into a warehouse of N conversations (default
# 10,000,000 over 52 weeks), against a full re-ingest of everything. The generated export is
# cut at the start of its last week (a row goes to the last week's export when its own instant
# or its conversation's opening is in that week, as weekly exports with late rows do); the
# rest is ingested, then the last week appended. Prints wall time and peak RSS of each step and
# checks that the appended warehouse gives the same metrics as the full ingest. Needs DuckDB's
# Python package (to cut the Parquet files) and about 12 GB of free disk at 10 M.
#
#   bench/append.sh [CONVERSATIONS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"
full="$work/append-full-$n"
base="$work/append-base-$n"
week="$work/append-week-$n"
warehouse="$work/append-warehouse-$n"
fresh="$work/append-fresh-$n"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"
mkdir -p "$work"
rm -rf "$full" "$base" "$week" "$warehouse" "$fresh"

"$bin" sample --quiet --conversations "$n" --seed 1 --weeks 52 --format parquet --out "$full"
python3 - "$full" "$base" "$week" <<'PY'
import os, shutil, sys
import duckdb
full, base, week = sys.argv[1:]
os.makedirs(base)
os.makedirs(week)
for d in (base, week):
    if os.path.exists(os.path.join(full, "l2lens.toml")):
        shutil.copy(os.path.join(full, "l2lens.toml"), d)
times = {"conversations": "opened_at", "messages": "sent_at", "assignments": "assigned_at",
         "handoffs": "handoff_at", "send_failures": "failed_at", "templates": "changed_at"}
db = duckdb.connect()
conv = os.path.join(full, "conversations.parquet")
cut = db.execute(f"SELECT date_trunc('week', max(opened_at)) FROM '{conv}'").fetchone()[0]
print(f"last week from {cut}")
for table, time in times.items():
    path = os.path.join(full, f"{table}.parquet")
    if not os.path.exists(path):
        continue
    cols = [r[0] for r in db.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
    if "conversation_id" in cols and table != "conversations":
        late = (f"greatest(t.{time}, c.opened_at) >= TIMESTAMP '{cut}'")
        source = (f"(SELECT t.*, {late} AS late FROM '{path}' t "
                  f"LEFT JOIN (SELECT conversation_id, opened_at FROM '{conv}') c USING (conversation_id))")
    else:
        source = f"(SELECT *, {time} >= TIMESTAMP '{cut}' AS late FROM '{path}')"
    for out, cond in ((base, "NOT late"), (week, "late")):
        db.execute(f"COPY (SELECT * EXCLUDE (late) FROM {source} WHERE {cond}) "
                   f"TO '{os.path.join(out, table + '.parquet')}' (FORMAT parquet)")
PY
python3 bench/measure.py "ingest the first 51 weeks" -- \
  "$bin" ingest --quiet --data "$base" --out "$warehouse"
python3 bench/measure.py "ingest --append of the last week" -- \
  "$bin" ingest --quiet --append --data "$week" --out "$warehouse"
python3 bench/measure.py "full re-ingest of all 52 weeks" -- \
  "$bin" ingest --quiet --data "$full" --out "$fresh"
"$bin" metrics --quiet --data "$warehouse" --select all --out "$work/append-metrics.csv"
"$bin" metrics --quiet --data "$fresh" --select all --out "$work/append-metrics-fresh.csv"
if cmp -s "$work/append-metrics.csv" "$work/append-metrics-fresh.csv"; then
  echo "metrics --select all: appended warehouse = full ingest"
else
  echo "metrics --select all: appended warehouse DIFFERS from full ingest" >&2
  exit 1
fi
rm -rf "$full" "$base" "$week" "$warehouse" "$fresh"
