#!/usr/bin/env python3
"""Side by side with DuckDB on the same data, alternating, N runs each: prints each run, the
medians and the ratios of wall time and peak RSS (l2lens / DuckDB).

Usage: duckdb.py metrics BIN WAREHOUSE SQL_FILE [RUNS]
       duckdb.py ingest BIN DATA_DIR WORK_DIR [RUNS]

metrics: `l2lens metrics --by lane --period week` against DuckDB running the SQL of
`l2lens sql --dialect duckdb` on the same Parquet warehouse.
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
for t in ["conversations", "messages", "assignments", "handoffs"]:
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


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    mode, binary, source, extra = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    if mode == "metrics":
        ours = [binary, "metrics", "--quiet", "--data", source, "--by", "lane", "--period", "week",
                "--out", os.devnull]
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
