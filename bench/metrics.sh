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
# The same with SLA targets on every lane (a default block, and a block per lane with its own
# targets and the business clock on two of them), then every metric by owner.
sla="$work/sla.toml"
{
  cat sample_data/l2lens.toml
  cat <<'TOML'

[sla]
frt_s = 300
human_frt_s = 600
tts_s = 900
update_s = 14400
resolution_s = 86400

[sla.lanes.general]
frt_s = 120
[sla.lanes.vip_fast_lane]
tts_s = 30
human_frt_s = 60
[sla.lanes.revenue_protection]
resolution_s = 43200
[sla.lanes.retention]
update_s = 7200
[sla.lanes.technical_l2]
resolution_s = 28800
clock = "business"
[sla.lanes.customer_recovery]
tts_s = 600
[sla.lanes.compliance]
update_s = 3600
clock = "business"
[sla.segments.enterprise]
frt_s = 60

[schedules.office]
timezone = "Europe/Berlin"
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]

[business_hours]
default = "24x7"
[business_hours.lanes]
technical_l2 = "office"
compliance = "office"
TOML
} > "$sla"
python3 bench/measure.py "metrics --select all with [sla] on every lane $n conversations" -- \
  "$bin" metrics --data "$warehouse" --by lane --period week --select all --config "$sla" \
  --out "$work/metrics-sla-$n.csv" --quiet
python3 bench/measure.py "metrics --select all with [sla], by owner, $n conversations" -- \
  "$bin" metrics --data "$warehouse" --by owner --period week --select all --config "$sla" \
  --out "$work/metrics-owner-$n.csv" --quiet
wc -l "$work/metrics-$n.csv" "$work/metrics-all-$n.csv" "$work/metrics-sla-$n.csv" \
  "$work/metrics-owner-$n.csv"
