#!/usr/bin/env python3
"""Side by side with DuckDB on the same data, alternating, N runs each: prints each run, the
medians and the ratios of wall time and peak RSS (l2lens / DuckDB).

Usage: duckdb.py metrics BIN WAREHOUSE SQL_FILE [RUNS] [SELECT]
       duckdb.py ingest BIN DATA_DIR WORK_DIR [RUNS]
       duckdb.py compare EXPECTED.csv GOT.csv

metrics: `l2lens metrics --by lane --period week --select SELECT` (default all) against DuckDB
running the SQL of `l2lens sql --dialect duckdb --select SELECT` on the same Parquet warehouse.
compare: the two metric CSVs row for row (values within 1e-9, relative above 1); exit 1 when
they differ.
ingest: `l2lens ingest` of the CSV directory against DuckDB's read_csv + COPY … TO parquet of
the same files (no validation).
Each run is a separate process, measured with its children (wait4 rusage).
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(command):
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"{command[0]} failed with status {status}")
    return wall, usage.ru_maxrss / 1024 / 1024  # GiB


DUCKDB_METRICS = """
import duckdb, sys
warehouse, sql = sys.argv[1], sys.argv[2]
con = duckdb.connect()
import os
for t in ["conversations", "messages", "assignments", "handoffs", "templates", "send_failures",
          "text_findings"]:
    if os.path.exists(f"{warehouse}/{t}.parquet"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{warehouse}/{t}.parquet')")
text = "\\n".join(l for l in open(sql) if not l.lstrip().startswith("--"))
rows = con.execute(text.strip().rstrip(";")).fetchall()
print(len(rows))
"""

DUCKDB_INGEST = """
import duckdb, sys, os
data, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
for t in ["conversations", "messages", "assignments", "handoffs", "templates", "send_failures"]:
    path = os.path.join(data, t + ".csv")
    if os.path.exists(path):
        con.execute(f"COPY (SELECT * FROM read_csv('{path}')) TO '{out}/{t}.parquet' (FORMAT parquet)")
"""


def read_rows(path):
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return {(r[0], r[1], r[2]): (float(r[3]) if r[3] not in ("", "None", "nan") else float("nan"), int(float(r[4])))
                for r in reader}


def compare(expected_path, got_path):
    expected, got = read_rows(expected_path), read_rows(got_path)
    problems = []
    for key in sorted(set(expected) | set(got)):
        a, b = expected.get(key), got.get(key)
        if a is None or b is None or a[1] != b[1] or abs(a[0] - b[0]) > 1e-9 * max(1.0, abs(a[0])):
            if not (a and b and a[0] != a[0] and b[0] != b[0] and a[1] == b[1]):
                problems.append((key, a, b))
    print(f"compared {len(expected)} rows of l2lens with {len(got)} rows of the engine: "
          f"{len(problems)} differ")
    for p in problems[:10]:
        print("  ", p)
    return 1 if problems or not expected else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3])
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    mode, binary, source, extra = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    select = sys.argv[6] if len(sys.argv) > 6 else "all"
    if mode == "metrics":
        ours = [binary, "metrics", "--quiet", "--data", source, "--by", "lane", "--period", "week",
                "--select", select, "--out", os.devnull]
        theirs = [sys.executable, "-c", DUCKDB_METRICS, source, extra]
    elif mode == "ingest":
        ours = [binary, "ingest", "--quiet", "--data", source, "--out", os.path.join(extra, "l2lens-warehouse")]
        theirs = [sys.executable, "-c", DUCKDB_INGEST, source, os.path.join(extra, "duckdb-parquet")]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    results = {"l2lens": [], "duckdb": []}
    for run in range(runs):
        for name, command in (("l2lens", ours), ("duckdb", theirs)):
            wall, rss = measure(command)
            results[name].append((wall, rss))
            print(f"{mode} run {run + 1} {name}: wall {wall:.2f} s, peak RSS {rss:.2f} GiB", flush=True)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for k, v in results.items()}
    for k, (w, r) in med.items():
        print(f"{mode} median {k}: wall {w:.2f} s, peak RSS {r:.2f} GiB")
    print(f"{mode} ratio l2lens/duckdb: wall {med['l2lens'][0] / med['duckdb'][0]:.2f}x, "
          f"peak RSS {med['l2lens'][1] / med['duckdb'][1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
