//! Ad-hoc SQL over l2lens's tables (polars SQL).
//!
//! Registered tables:
//! - `conversations`, `messages`, `assignments`, `handoffs`, `templates` (when present): the
//!   validated input, timestamps in UTC, with `source_row` and `conversation_key`;
//! - `lanes`: every lane the configuration names or the data holds, with its resolved tier
//!   (patterns and `default_tier` applied) and `in_data`;
//! - `facts`: the facts table (instants as UTC timestamps) plus ready-made columns, because the
//!   SQL dialect has no date truncation or interval extraction: `opened_period`,
//!   `closed_period`, `first_customer_period`, `specialist_period` (the period start dates of
//!   the metric cohorts' times), `frt_s`, `tts_s`,
//!   `art_s` (seconds), `hours_silent` (hours since the customer's last message, for open
//!   conversations, at `as_of`) and `as_of`;
//! - `metrics`: the long metric rows (`period_start, <dimension>, metric, value, n`);
//! - `board`: the open conversations at `as_of` with owner, next action and due times
//!   (see `l2lens board`);
//! - `text_findings`, `text_entries`: the findings of message text at or before `as_of` (kinds,
//!   masked forms and keyed tokens, never text) and the specialist entries with what the
//!   customer repeated and the brief carried (text.md section 4).
//!
//! A query reads these tables and nothing else ([`guard`]: no table functions, one `SELECT`,
//! long `OR` chains of equalities rewritten to `IN`, nesting bounded).

use anyhow::{Context as _, Result};
use polars::prelude::*;
use polars::sql::SQLContext;

use crate::analysis::Analysis;
use crate::facts;
use crate::ingest::schema::Table;
use crate::ingest::schema::timestamp_dtype;

mod guard;

/// The facts as analysts see them: public columns plus ready-made period and duration
/// columns.
pub fn facts_view(analysis: &Analysis) -> Result<LazyFrame> {
    let ctx = analysis.frames()?;
    let (facts, _) = analysis.whole()?;
    let as_of = facts.as_of;
    let frame = facts.frame.clone().lazy().with_columns([
        ctx.period_start(col("opened_at")).alias("opened_period"),
        ctx.period_start(col("closed_at")).alias("closed_period"),
        ctx.period_start(col("first_customer_at"))
            .alias("first_customer_period"),
        ctx.period_start(col("specialist_at"))
            .alias("specialist_period"),
        facts::frt_seconds().alias("frt_s"),
        facts::tts_seconds().alias("tts_s"),
        facts::art_seconds().alias("art_s"),
        facts::hours_silent(lit(as_of)).alias("hours_silent"),
    ]);
    Ok(facts::public(frame).with_column(lit(as_of).cast(timestamp_dtype()).alias("as_of")))
}

/// `lanes`: every lane the configuration names or the data holds (assignments, and the facts'
/// `automation`/`unassigned` fallbacks), with the tier [`crate::config::Config::tier`] resolves
/// (exact name, then patterns, then `default_tier`), and whether the data holds it. Patterns
/// are not rows: a lane matched by one appears under its own name.
pub fn lanes(analysis: &Analysis) -> Result<DataFrame> {
    let config = &analysis.config;
    let mut seen = std::collections::BTreeSet::new();
    let assigned = analysis
        .data
        .table(Table::Assignments)?
        .select([col("lane")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let facts_lanes = analysis.whole()?.0.frame.column("lane")?.unique()?;
    for column in [assigned.column("lane")?, &facts_lanes] {
        seen.extend(column.str()?.iter().flatten().map(str::to_owned));
    }
    let mut all: std::collections::BTreeSet<String> = config.lanes.keys().cloned().collect();
    all.extend(seen.iter().cloned());
    let tiers: Vec<&str> = all.iter().map(|l| config.tier(l).as_str()).collect();
    let in_data: Vec<bool> = all.iter().map(|l| seen.contains(l)).collect();
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    Ok(df!("lane" => names, "tier" => tiers, "in_data" => in_data)?)
}

/// A SQL context with every table registered.
pub fn context(analysis: &Analysis) -> Result<SQLContext> {
    let sql = SQLContext::new();
    // An optional table the data lacks is an empty table, so that one query runs on every
    // export.
    for table in Table::ALL {
        sql.register(table.name(), analysis.data.table(table)?);
    }
    sql.register("lanes", lanes(analysis)?.lazy());
    sql.register("facts", facts_view(analysis)?);
    sql.register("metrics", analysis.frame.clone().lazy());
    let board = crate::board::build(analysis.whole()?.0, &analysis.config)?;
    sql.register("board", crate::board::to_frame(&board)?.lazy());
    sql.register("text_findings", text_findings(analysis)?);
    sql.register("text_entries", text_entries(analysis)?);
    Ok(sql)
}

/// `text_findings` as the metrics see it: rows at or before `as_of`, of conversations kept
/// at `as_of`.
pub fn text_findings(analysis: &Analysis) -> Result<LazyFrame> {
    let kept = analysis
        .whole()?
        .0
        .frame
        .clone()
        .lazy()
        .select([col("conversation_id")]);
    Ok(analysis
        .data
        .text_findings
        .clone()
        .filter(
            col("sent_at")
                .cast(DataType::Int64)
                .lt_eq(lit(analysis.as_of)),
        )
        .join(
            kept,
            [col("conversation_id")],
            [col("conversation_id")],
            JoinArgs::new(JoinType::Semi),
        ))
}

/// `text_entries`: one row per specialist entry (text.md section 4), in the spec's columns.
pub fn text_entries(analysis: &Analysis) -> Result<LazyFrame> {
    let (facts, _) = analysis.whole()?;
    let entries = match &facts.text {
        Some(text) => text.entries.clone().lazy(),
        None => crate::facts::text::TextFacts::empty_entries()?.lazy(),
    };
    let ids = facts
        .frame
        .clone()
        .lazy()
        .select([col("key"), col("conversation_id")]);
    Ok(entries
        .join(
            ids,
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col("conversation_id"),
            col("entry_at").cast(timestamp_dtype()),
            col("entry_lane").alias("lane"),
            col("brief_state"),
            col("before_n"),
            col("repeated"),
            col("recall"),
            col("placeholder_fields"),
        ]))
}

/// Runs one query; `source` names it in errors (a file name or `--sql`).
///
/// Planning a query recurses once per nested expression: [`guard::prepare`] bounds the nesting
/// (rewriting `OR` chains of equalities, refusing deeper expressions), and the query runs on a
/// thread of its own with a large stack, so a deep query is refused, never an abort.
pub fn run(analysis: &Analysis, sql: &str, source: &str) -> Result<DataFrame> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("l2lens-query".to_owned())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(scope, || run_here(analysis, sql, source))
            .context("cannot start the query thread")?
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("query {source} failed inside the engine")))
    })
}

/// The stack of the query thread: address space reserved, touched only as deep as a query goes.
const QUERY_STACK_BYTES: usize = 1 << 30;

fn run_here(analysis: &Analysis, sql: &str, source: &str) -> Result<DataFrame> {
    let sql = guard::prepare(sql, source)?;
    let mut context = context(analysis)?;
    let plan = context
        .execute(&sql)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("query {source} is not valid SQL for l2lens"))?;
    plan.collect()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("query {source} failed"))
}

/// A result as an aligned text table for a terminal.
pub fn to_table(frame: &DataFrame) -> Result<String> {
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut columns: Vec<Vec<String>> = Vec::with_capacity(names.len());
    let mut numeric = Vec::with_capacity(names.len());
    for column in frame.columns() {
        numeric.push(column.dtype().is_primitive_numeric());
        let text = column.cast(&DataType::String)?;
        let text = text.str()?;
        columns.push(
            text.iter()
                .map(|v| v.map_or_else(|| "null".to_owned(), str::to_owned))
                .collect(),
        );
    }
    let widths: Vec<usize> = names
        .iter()
        .zip(&columns)
        .map(|(n, values)| {
            values
                .iter()
                .map(|v| v.chars().count())
                .chain([n.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<String>| cells.join("  ").trim_end().to_owned() + "\n";
    out.push_str(&line(
        names
            .iter()
            .zip(&widths)
            .map(|(n, w)| format!("{n:<w$}"))
            .collect(),
    ));
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    for row in 0..frame.height() {
        out.push_str(&line(
            columns
                .iter()
                .zip(&widths)
                .zip(&numeric)
                .map(|((values, w), num)| {
                    if *num {
                        format!("{:>w$}", values[row])
                    } else {
                        format!("{:<w$}", values[row])
                    }
                })
                .collect(),
        ));
    }
    out.push_str(&format!(
        "({} row{})\n",
        frame.height(),
        if frame.height() == 1 { "" } else { "s" }
    ));
    Ok(out)
}

/// Writes a table, given in blocks of rows, as Hive-partitioned Parquet under `dir`: one
/// `<column>=YYYY-MM-DD/part-N.parquet` per value of the Date column `column` in block `N`
/// (not repeated inside the files, as Hive layouts expect; a table of one block has only
/// `part-0.parquet` files). The folder is replaced whole ([`crate::atomic::replace_dir`]):
/// never the working directory, the data (`keep`) or a folder l2lens did not write. Returns
/// the number of partitions.
pub fn write_partitioned(
    blocks: impl IntoIterator<Item = Result<DataFrame>>,
    column: &str,
    dir: &std::path::Path,
    what: &str,
    keep: &[&std::path::Path],
) -> Result<usize> {
    let epoch = crate::time::epoch_date();
    let mut folders = std::collections::BTreeSet::new();
    crate::atomic::replace_dir(dir, what, keep, |tmp| {
        for (index, frame) in blocks.into_iter().enumerate() {
            let frame = frame?;
            let values = frame
                .column(column)?
                .unique_stable()?
                .cast(&DataType::Int32)?;
            for value in values.i32()?.iter() {
                let (label, predicate) = match value {
                    Some(days) => (
                        (epoch + chrono::TimeDelta::days(i64::from(days))).to_string(),
                        col(column).cast(DataType::Int32).eq(lit(days)),
                    ),
                    // Hive's name for a missing partition value.
                    None => (
                        "__HIVE_DEFAULT_PARTITION__".to_owned(),
                        col(column).is_null(),
                    ),
                };
                let mut part = frame
                    .clone()
                    .lazy()
                    .filter(predicate)
                    .drop(Selector::ByName {
                        names: [column.into()].into(),
                        strict: true,
                    })
                    .collect()?;
                let folder = tmp.join(format!("{column}={label}"));
                std::fs::create_dir_all(&folder)?;
                crate::warehouse::write_parquet(
                    &folder.join(format!("part-{index}.parquet")),
                    &mut part,
                )?;
                folders.insert(label);
            }
        }
        Ok(())
    })?;
    Ok(folders.len())
}

/// The public facts with the period of `opened_at` as `period_start`, for partitioning.
pub fn facts_with_period(
    frame: &DataFrame,
    period: crate::period::Period,
    zone: crate::period::Zone,
) -> Result<DataFrame> {
    let with_period = frame.clone().lazy().with_column(
        period
            .start_expr(col("opened_at"), zone)
            .alias("period_start"),
    );
    Ok(facts::public(with_period).collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_in_blocks_writes_one_file_per_period_and_block() {
        let dir = crate::partition::Scratch::new("hive-blocks").unwrap();
        let out = dir.path.join("lake");
        let block = |days: &[i32], n: &[i64]| {
            let mut frame = df!("period_start" => days, "n" => n).unwrap();
            let dates = frame
                .column("period_start")
                .unwrap()
                .cast(&DataType::Date)
                .unwrap();
            frame.with_column(dates).unwrap();
            Ok(frame)
        };
        let parts = write_partitioned(
            [block(&[0, 7, 0], &[1, 2, 3]), block(&[7, 14], &[4, 5])],
            "period_start",
            &out,
            "the test lake",
            &[],
        )
        .unwrap();
        assert_eq!(parts, 3);
        let read = |folder: &str, file: &str| -> Vec<i64> {
            let path = out.join(format!("period_start={folder}")).join(file);
            let frame = ParquetReader::new(std::fs::File::open(&path).unwrap())
                .finish()
                .unwrap();
            assert_eq!(frame.get_column_names(), ["n"], "{}", path.display());
            frame
                .column("n")
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        assert_eq!(read("1970-01-01", "part-0.parquet"), [1, 3]);
        assert_eq!(read("1970-01-08", "part-0.parquet"), [2]);
        assert_eq!(read("1970-01-08", "part-1.parquet"), [4]);
        assert_eq!(read("1970-01-15", "part-1.parquet"), [5]);
        let files = |folder: &str| std::fs::read_dir(out.join(folder)).unwrap().count();
        assert_eq!(files("period_start=1970-01-01"), 1);
        assert_eq!(files("period_start=1970-01-15"), 1);
    }
}
