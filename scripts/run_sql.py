#!/usr/bin/env python3
"""Runs SQL exported by `l2lens sql` on a real engine over a warehouse written by
`l2lens ingest`, and writes the result as CSV.

Usage: run_sql.py duckdb|spark WAREHOUSE_DIR SQL_FILE OUT_CSV [WAREHOUSE_DIR SQL_FILE OUT_CSV ...]

Each warehouse's conversations, messages, assignments, handoffs, templates and send_failures
Parquet files (and calendar.parquet, when there) are registered under those names. DuckDB runs
the jobs in one process; Spark (local[2], UI off, a 4 GB driver) runs each job in a driver of
its own, two at a time.
"""
import csv
import os
import sys
import tempfile

# The optional tables: a warehouse of data without them has no file, and an empty table with
# their columns stands in (the metrics that read them then have no rows, as in `l2lens metrics`).
EMPTY = {
    "handoffs": "conversation_id VARCHAR, handoff_at TIMESTAMP, intent VARCHAR, key_details VARCHAR, "
    "attempted_steps VARCHAR, current_status VARCHAR, next_action VARCHAR, source_row INT",
    "templates": "template_name VARCHAR, status VARCHAR, changed_at TIMESTAMP, source_row INT",
    "send_failures": "message_id VARCHAR, conversation_id VARCHAR, failed_at TIMESTAMP, "
    "error_code VARCHAR, error_title VARCHAR, template_name VARCHAR, sender VARCHAR, source_row INT",
}
TABLES = ["conversations", "messages", "assignments", "handoffs", "templates", "send_failures"]
# Written by `l2lens calendar` for business time; registered when the warehouse folder has it.
CALENDAR = "calendar"


def empty(table):
    columns = [c.strip().split(" ") for c in EMPTY[table].split(",")]
    return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in columns) + " WHERE 1 = 0"


def statements(path):
    """The statements of a file split naively on `;`, as many tools do (comments are kept with
    the statement that follows them; a piece holding only comments is not a statement)."""
    text = open(path, encoding="utf-8").read()
    pieces = [p.strip() for p in text.split(";")]
    return [
        p for p in pieces
        if any(l.strip() and not l.lstrip().startswith("--") for l in p.splitlines())
    ]


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
                con.execute(f"CREATE VIEW {table} AS {empty(table)}")
        calendar = os.path.join(warehouse, f"{CALENDAR}.parquet")
        if os.path.exists(calendar):
            con.execute(f"CREATE VIEW {CALENDAR} AS SELECT * FROM read_parquet('{calendar}')")
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
        # Planning the --select all script (some forty aggregations over shared CTEs, which
        # Spark copies into each reference) needs more than the default 1 GB of driver heap.
        .config("spark.driver.memory", "4g")
        # The status store keeps every query's plan description (huge for these plans) for the
        # UI; keeping a few lets one session run several scripts.
        .config("spark.sql.ui.retainedExecutions", "2")
        .config("spark.ui.retainedJobs", "10")
        .config("spark.ui.retainedStages", "10")
        # Spark would otherwise create spark-warehouse/ in the working directory.
        .config("spark.sql.warehouse.dir", os.path.join(tempfile.gettempdir(), "l2lens-spark-warehouse"))
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
                    spark.sql(empty(table).replace("VARCHAR", "STRING")).createOrReplaceTempView(table)
            calendar = os.path.join(warehouse, f"{CALENDAR}.parquet")
            if os.path.exists(calendar):
                spark.read.parquet(calendar).createOrReplaceTempView(CALENDAR)
            frame = None
            for statement in statements(sql):
                frame = spark.sql(statement)
            rows = [tuple(r) for r in frame.collect()]
            spark.catalog.clearCache()
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
    if engine == "spark" and len(jobs) > 1:
        # One driver per script: a driver that has planned one --select all script keeps
        # enough of it that the next one can exhaust a 4 GB heap. Two at a time on two cores.
        import concurrent.futures
        import subprocess

        def one(job):
            return subprocess.run([sys.executable, __file__, "spark", *job]).returncode

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            codes = list(pool.map(one, jobs))
        return max(codes)
    {"duckdb": run_duckdb, "spark": run_spark}[engine](jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
