#!/usr/bin/env python3
"""Runs SQL exported by `l2lens sql` on a real engine over a warehouse written by
`l2lens ingest`, and writes the result as CSV.

Usage: run_sql.py ENGINE WAREHOUSE_DIR SQL_FILE OUT_CSV [WAREHOUSE_DIR SQL_FILE OUT_CSV ...]

ENGINE is one of
  duckdb     DuckDB's Python API, the file split on `;` as many tools do;
  spark      PySpark (local[2], UI off, an 8 GB driver), split the same way, each job in a
             driver of its own, one at a time;
  duckdb-cli DuckDB's own shell (`duckdb`, PyPI `duckdb-cli`): the file as is, with `.read`;
  spark-sql  Spark's SQL shell (`spark-sql`, shipped with PyPI `pyspark`): the file as is,
             with `-f`.

Each warehouse's conversations, messages, assignments, handoffs, templates, send_failures,
text_findings, calls and customer_aliases Parquet files (and calendar.parquet, when there) are registered under those
names.
"""
import csv
import os
import shutil
import subprocess
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
    "calls": "call_id VARCHAR, conversation_id VARCHAR, direction VARCHAR, placed_at TIMESTAMP, "
    "status VARCHAR, answered_at TIMESTAMP, ended_at TIMESTAMP, duration_s DOUBLE, agent_id VARCHAR, "
    "error_code VARCHAR, source_row INT",
    "customer_aliases": "alias VARCHAR, customer_id VARCHAR, valid_from TIMESTAMP, source_row INT",
    # Written by ingest since text findings exist; an older warehouse has none.
    "text_findings": "conversation_id VARCHAR, source VARCHAR, message_id VARCHAR, handoff_row INT, "
    "field VARCHAR, sent_at TIMESTAMP, sender VARCHAR, ordinal INT, kind VARCHAR, token VARCHAR, "
    "masked VARCHAR",
}
TABLES = ["conversations", "messages", "assignments", "handoffs", "templates", "send_failures",
          "text_findings", "calls", "customer_aliases"]
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
        # The plans hold hundreds of aggregations at once: more of the heap for execution.
        .config("spark.memory.fraction", "0.8")
        # Planning the --select all script (some sixty aggregations over shared CTEs, which
        # Spark copies into each reference) needs far more than the default 1 GB of driver
        # heap.
        .config("spark.driver.memory", "8g")
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


def views(warehouse, dialect):
    """The statements that register a warehouse's tables in a shell: a view per Parquet file,
    an empty view with the table's columns for an absent optional table."""
    out = []
    for table in TABLES + [CALENDAR]:
        path = os.path.join(warehouse, f"{table}.parquet")
        if os.path.exists(path):
            if dialect == "duckdb":
                out.append(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}');")
            else:
                out.append(f"CREATE TEMPORARY VIEW {table} USING parquet OPTIONS (path '{path}');")
        elif table in EMPTY:
            body = empty(table)
            if dialect == "duckdb":
                out.append(f"CREATE VIEW {table} AS {body};")
            else:
                body = body.replace("VARCHAR", "STRING")
                out.append(f"CREATE TEMPORARY VIEW {table} AS {body};")
    return "\n".join(out) + "\n"


def run_duckdb_cli(jobs):
    shell = shutil.which("duckdb")
    if shell is None:
        sys.exit("no `duckdb` shell on the PATH (pip install duckdb-cli)")
    for warehouse, sql, out in jobs:
        driver = (
            "SET TimeZone = 'UTC';\n"
            + views(warehouse, "duckdb")
            + f".headers on\n.mode csv\n.output {out}\n.read {sql}\n"
        )
        done = subprocess.run([shell, "-batch", ":memory:"], input=driver, text=True)
        if done.returncode != 0:
            sys.exit(f"duckdb failed on {sql}")


def spark_sql_shell():
    found = shutil.which("spark-sql")
    if found:
        return found
    import pyspark

    return os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-sql")


def run_spark_sql(jobs):
    shell = spark_sql_shell()
    for warehouse, sql, out in jobs:
        # The shell writes metastore_db/ and derby.log to its working directory.
        with tempfile.TemporaryDirectory(prefix="l2lens-spark-sql-") as cwd:
            init = os.path.join(cwd, "init.sql")
            with open(init, "w", encoding="utf-8") as f:
                f.write(views(warehouse, "spark"))
            done = subprocess.run(
                [
                    shell, "--master", "local[2]", "--driver-memory", "8g",
                    "--conf", "spark.ui.enabled=false",
                    "--conf", "spark.sql.session.timeZone=UTC",
                    "--conf", "spark.hadoop.hive.cli.print.header=true",
                    "--conf", f"spark.sql.warehouse.dir={os.path.join(cwd, 'warehouse')}",
                    "-i", init, "-f", sql,
                ],
                cwd=cwd, capture_output=True, text=True,
            )
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4000:])
            sys.exit(f"spark-sql failed on {sql}")
        # The shell prints every statement's result (the SET's too), tab-separated, each with
        # its header: keep the last result, the one after the last header line.
        lines = done.stdout.splitlines()
        starts = [i for i, l in enumerate(lines) if l.startswith("period_start\t") or l.startswith("conversation_id\t")]
        if not starts:
            sys.exit(f"spark-sql printed no result for {sql}")
        rows = [l.split("\t") for l in lines[starts[-1]:] if l]
        write(out, rows[0], [["" if v == "NULL" else v for v in r] for r in rows[1:]])


def main():
    if len(sys.argv) < 5 or (len(sys.argv) - 2) % 3 != 0:
        print(__doc__, file=sys.stderr)
        return 2
    engine = sys.argv[1]
    args = sys.argv[2:]
    jobs = [tuple(args[i:i + 3]) for i in range(0, len(args), 3)]
    if engine == "spark" and len(jobs) > 1:
        # One driver per script: a driver that has planned one --select all script keeps
        # enough of it that the next one can exhaust its heap. One at a time: two 8 GB
        # drivers and the tests beside them do not fit a 24 GB machine.
        import concurrent.futures
        import subprocess

        def one(job):
            return subprocess.run([sys.executable, __file__, "spark", *job]).returncode

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            codes = list(pool.map(one, jobs))
        return max(codes)
    engines = {
        "duckdb": run_duckdb,
        "spark": run_spark,
        "duckdb-cli": run_duckdb_cli,
        "spark-sql": run_spark_sql,
    }
    if engine not in engines:
        print(__doc__, file=sys.stderr)
        return 2
    engines[engine](jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
