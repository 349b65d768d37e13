#!/usr/bin/env bash
# Benchmark: what business hours add. `l2lens metrics --by lane --period week` on N generated
# conversations (default 1,000,000, eight weeks) from an ingested warehouse, without and with a
# configuration of three schedules (an office week with a lunch break and holidays, an overnight
# desk across a change of clocks, a weekend desk) mapped to lanes. Prints wall time and peak RSS.
#
#   bench/business.sh [CONVERSATIONS] [WORK_DIR]
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
cat > "$work/business.toml" <<'TOML'
[schedules.office]
timezone = "Europe/Berlin"
mon = ["09:00-12:30", "13:30-17:00"]
tue = ["09:00-12:30", "13:30-17:00"]
wed = ["09:00-12:30", "13:30-17:00"]
thu = ["09:00-12:30", "13:30-17:00"]
fri = ["09:00-16:00"]
holidays = ["2026-10-03", "2026-11-01", "2026-12-25"]

[schedules.night_desk]
timezone = "America/New_York"
everyday = ["22:00-06:00"]

[schedules.weekend]
timezone = "Asia/Kolkata"
sat = ["10:00-18:00"]
sun = ["10:00-18:00"]

[business_hours]
default = "24x7"
[business_hours.lanes]
technical_l2 = "office"
revenue_protection = "office"
retention = "office"
compliance = "night_desk"
customer_recovery = "weekend"
TOML
for run in 1 2 3; do
  python3 bench/measure.py "calendar metrics, $n conversations (run $run)" -- \
    "$bin" metrics --data "$warehouse" --by lane --period week --out "$work/cal-$n.csv" --quiet
  python3 bench/measure.py "with business hours, $n conversations (run $run)" -- \
    "$bin" metrics --data "$warehouse" --config "$work/business.toml" --by lane --period week \
    --out "$work/bh-$n.csv" --quiet
done
wc -l "$work/cal-$n.csv" "$work/bh-$n.csv"
