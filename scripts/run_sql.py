#!/usr/bin/env python3
"""Runs SQL exported by `l2lens sql` on a real engine over a warehouse written by
`l2lens ingest`, and writes the result as CSV.

Usage: run_sql.py duckdb|spark WAREHOUSE_DIR SQL_FILE OUT_CSV [WAREHOUSE_DIR SQL_FILE OUT_CSV ...]

Each warehouse's conversations, messages, assignments and handoffs Parquet files are registered
under those names. Several jobs share one engine session (Spark starts once, in local[2] mode
with the UI off).
"""
import csv
import os
import sys

TABLES = ["conversations", "messages", "assignments", "handoffs"]

# A warehouse of data without handoff briefs has no handoffs file: an empty table stands in
# (the brief metrics then have no rows, as in `l2lens metrics`).
EMPTY_HANDOFFS = (
    "SELECT CAST(NULL AS VARCHAR) AS conversation_id, CAST(NULL AS TIMESTAMP) AS handoff_at, "
    "CAST(NULL AS VARCHAR) AS intent, CAST(NULL AS VARCHAR) AS key_details, "
    "CAST(NULL AS VARCHAR) AS attempted_steps, CAST(NULL AS VARCHAR) AS current_status, "
    "CAST(NULL AS VARCHAR) AS next_action, CAST(NULL AS INT) AS source_row WHERE 1 = 0"
)


def statements(path):
    text = open(path, encoding="utf-8").read()
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def write(out, header, rows):
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])


def run_duckdb(jobs):
    import duckdb

    for warehouse, sql, out in jobs:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        for table in TABLES:
            path = os.path.join(warehouse, f"{table}.parquet")
            if os.path.exists(path):
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
            else:
                con.execute(f"CREATE VIEW {table} AS {EMPTY_HANDOFFS}")
        result = None
        for statement in statements(sql):
            result = con.execute(statement)
        header = [d[0] for d in result.description]
        write(out, header, result.fetchall())
        con.close()


def run_spark(jobs):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("l2lens-sql-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for warehouse, sql, out in jobs:
            for table in TABLES:
                path = os.path.join(warehouse, f"{table}.parquet")
                if os.path.exists(path):
                    spark.read.parquet(path).createOrReplaceTempView(table)
                else:
                    spark.sql(EMPTY_HANDOFFS.replace("VARCHAR", "STRING")).createOrReplaceTempView(table)
            frame = None
            for statement in statements(sql):
                frame = spark.sql(statement)
            rows = [tuple(r) for r in frame.collect()]
            write(out, frame.columns, [tuple(str(v) if hasattr(v, "isoformat") else v for v in r) for r in rows])
    finally:
        spark.stop()


def main():
    if len(sys.argv) < 5 or (len(sys.argv) - 2) % 3 != 0:
        print(__doc__, file=sys.stderr)
        return 2
    engine = sys.argv[1]
    args = sys.argv[2:]
    jobs = [tuple(args[i:i + 3]) for i in range(0, len(args), 3)]
    {"duckdb": run_duckdb, "spark": run_spark}[engine](jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
