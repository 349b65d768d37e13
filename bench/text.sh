#!/usr/bin/env bash
# Benchmark of message text: N conversations (default 1,000,000) generated with and without a
# `text` column (`sample --text`: support-chat sentences, a few order numbers, e-mail
# addresses, phones, cards and IBANs per thousand messages), each ingested with a key and then
# measured with `metrics --select all`. Prints wall time, CPU time and peak RSS of each step,
# the ratio of ingest with text to ingest without, and the detection throughput: bytes of text
# per second of the extra CPU time ingest spends with text (one core).
#
#   bench/text.sh [CONVERSATIONS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"
export L2LENS_TEXT_KEY="${L2LENS_TEXT_KEY:-bench-key-0123456789abcdef}"

mkdir -p "$work"
log="$work/text-$n.log"
: > "$log"
for variant in plain text; do
  data="$work/data-$n-$variant"
  out="$work/warehouse-$n-$variant"
  flag=""
  [ "$variant" = text ] && flag="--text"
  if [ ! -f "$data/messages.csv" ]; then
    "$bin" sample --conversations "$n" --seed 1 --weeks 8 --out "$data" --quiet $flag
  fi
  rm -rf "$out"
  python3 bench/measure.py "ingest $n ($variant)" -- \
    "$bin" ingest --data "$data" --out "$out" --quiet | tee -a "$log"
  python3 bench/measure.py "metrics --select all $n ($variant)" -- \
    "$bin" metrics --data "$out" --select all --quiet --out "$work/metrics-$n-$variant.csv" | tee -a "$log"
done
python3 - "$work/data-$n-text/messages.csv" "$log" <<'PY'
import csv, re, sys
path, log = sys.argv[1], sys.argv[2]
text_bytes = 0
messages = 0
with open(path, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        messages += 1
        text_bytes += len((row.get("text") or "").encode("utf-8"))
lines = open(log).read()
def grab(label, what):
    m = re.search(re.escape(label) + r": wall ([0-9.]+) s, cpu ([0-9.]+) s, peak RSS ([0-9.]+) GiB", lines)
    return float(m.group({"wall": 1, "cpu": 2, "rss": 3}[what]))
n = re.search(r"ingest (\d+) \(plain\)", lines).group(1)
plain_wall, text_wall = grab(f"ingest {n} (plain)", "wall"), grab(f"ingest {n} (text)", "wall")
plain_cpu, text_cpu = grab(f"ingest {n} (plain)", "cpu"), grab(f"ingest {n} (text)", "cpu")
plain_rss, text_rss = grab(f"ingest {n} (plain)", "rss"), grab(f"ingest {n} (text)", "rss")
extra = max(text_cpu - plain_cpu, 1e-9)
print(f"text: {messages} messages, {text_bytes / 1e6:.1f} MB of text")
print(f"ingest with text / without: wall {text_wall / plain_wall:.2f}x, peak RSS {text_rss / plain_rss:.2f}x")
print(f"detection: {text_bytes / 1e6 / extra:.0f} MB/s of text per core (extra CPU {extra:.2f} s)")
PY
