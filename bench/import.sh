#!/usr/bin/env bash
# Benchmark: generate N WhatsApp webhook bodies (default 1,000,000), then import them.
# Prints the generator's time, and the import's wall time, bodies per second and peak RSS.
# The stream has per-message pricing and a customer call in one thread in ten; CALLS=0
# generates it without calls.
#
#   bench/import.sh [BODIES] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="${2:-${TMPDIR:-/tmp}/l2lens-bench}"
calls="${CALLS:-1}"
input="$work/webhooks-$n-calls$calls.jsonl"
out="$work/imported-$n"

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/l2lens"

mkdir -p "$work"
if [ ! -f "$input" ]; then
  python3 bench/measure.py "generate $n webhook bodies" -- python3 bench/gen_webhooks.py "$n" "$input"
fi
du -sh "$input"
rm -rf "$out"
started=$(date +%s.%N)
python3 bench/measure.py "import whatsapp $n bodies" -- \
  "$bin" import whatsapp --quiet --in "$input" --out "$out"
ended=$(date +%s.%N)
python3 -c "print(f'bodies per second: {$n / ($ended - $started):,.0f}')"
python3 -c "import json; s = json.load(open('$out/import_summary.json')); print('written', s['written'], 'built', s['derived'])"
