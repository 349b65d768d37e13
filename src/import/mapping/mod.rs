//! `l2lens import mapping`: any other export, described by a mapping file (TOML).
//!
//! Each `[[tables.<canonical>]]` block reads one file and produces rows of one canonical table:
//! `rows` (one output row per input row), `changes` (snapshots → a row when a tracked column
//! changes), `field_history` (long field history pivoted into a carried-forward state) or
//! `group` (one row per key, with first/last/min/max). A value the mapping cannot translate
//! (an enum value outside its map with `other = "error"`, a timestamp not in its format) sends
//! the input row to the import quarantine; everything the mapping writes then goes through
//! ingest's validation like any other file.

mod eval;
mod source;
pub mod spec;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::ImportSummary;
use super::sink::{ImportProblem, OutFormat, TableSink, write_problems};
use crate::ingest::file_name;
use crate::ingest::schema::Table;
use eval::{EvalContext, Value};
use source::Row;
use spec::{Block, Mapping, Mode};

/// Reads the mapping file and checks it; errors name the file and the key.
pub fn load(map_path: &Path) -> Result<Mapping> {
    let text = std::fs::read_to_string(map_path)
        .with_context(|| format!("cannot read the mapping file {}", map_path.display()))?;
    spec::parse(&text).with_context(|| format!("in mapping file {}", map_path.display()))
}

/// Runs the mapping over the files of `input` into the empty folder `dir`.
pub fn import_into(
    map_path: &Path,
    input: &Path,
    text: &std::sync::Arc<crate::ingest::text::TextPass>,
    format: OutFormat,
    dir: &Path,
) -> Result<ImportSummary> {
    let mapping = load(map_path)?;
    if !input.is_dir() {
        bail!(
            "--in {} is not a folder; pass the folder holding the exported files",
            input.display()
        );
    }
    let mut summary = ImportSummary::new("mapping");
    let mut problems = Vec::new();
    let mut lookups = HashMap::new();
    for (name, lookup) in &mapping.lookups {
        let path = input.join(&lookup.file);
        let file = file_name(&path);
        let mut rows: HashMap<String, Row> = HashMap::new();
        source::read(&path, |number, row| {
            match row {
                Ok(row) => {
                    if let Some(key) = row.get(&lookup.key) {
                        rows.entry(key.trim().to_owned()).or_insert(row);
                    }
                }
                Err((column, value, reason)) => problems.push(ImportProblem {
                    file: file.clone(),
                    row: number,
                    column,
                    value,
                    reason,
                }),
            }
            Ok(())
        })
        .with_context(|| format!("lookup `{name}`"))?;
        lookups.insert(name.clone(), rows);
    }
    let ctx = EvalContext {
        mapping: &mapping,
        lookups: &lookups,
    };
    let mut sinks: BTreeMap<Table, (TableSink, Vec<String>)> = BTreeMap::new();
    for table in Table::ALL {
        let blocks: Vec<&Block> = mapping.blocks.iter().filter(|b| b.table == table).collect();
        if blocks.is_empty() && !table.required() {
            continue;
        }
        let mut header: Vec<String> = table
            .core_columns()
            .iter()
            .map(|c| c.name.to_owned())
            .collect();
        for block in &blocks {
            for (name, _) in &block.columns {
                if !header.contains(name) {
                    header.push(name.clone());
                }
            }
        }
        let names: Vec<&str> = header.iter().map(String::as_str).collect();
        let sink = TableSink::create(dir, table.name(), &names)?.with_text(text);
        sinks.insert(table, (sink, header));
    }
    for block in &mapping.blocks {
        let (sink, header) = sinks
            .get_mut(&block.table)
            .expect("a sink per mapped table");
        let mut out = Output {
            sink,
            header,
            summary: &mut summary,
            problems: &mut problems,
            file: String::new(),
        };
        run_block(block, input, &ctx, &mut out).with_context(|| format!("[{}]", block.name))?;
    }
    for (table, (sink, _)) in sinks {
        let rows = sink.finish(format)?;
        summary.written.insert(table.name().to_owned(), rows);
    }
    write_problems(dir, &problems)?;
    Ok(summary)
}

/// Where one block's rows go.
struct Output<'a> {
    sink: &'a mut TableSink,
    header: &'a [String],
    summary: &'a mut ImportSummary,
    problems: &'a mut Vec<ImportProblem>,
    file: String,
}

impl Output<'_> {
    fn problem(&mut self, row: u64, column: &str, value: &str, reason: &str) {
        self.problems.push(ImportProblem {
            file: self.file.clone(),
            row,
            column: column.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        });
    }

    fn write(&mut self, values: &BTreeMap<String, String>) -> Result<()> {
        let cells: Vec<Option<&str>> = self
            .header
            .iter()
            .map(|h| values.get(h).map(String::as_str))
            .collect();
        self.sink.row(&cells)
    }
}

fn run_block(
    block: &Block,
    input: &Path,
    ctx: &EvalContext<'_>,
    out: &mut Output<'_>,
) -> Result<()> {
    let path = input.join(&block.file);
    out.file = file_name(&path);
    let event = format!("{}:{}", block.table.name(), out.file);
    // Rows after explode and where, with their input row numbers.
    let mut kept: Vec<(u64, Row)> = Vec::new();
    let streaming = matches!(block.mode, Mode::Rows);
    source::read(&path, |number, row| {
        out.summary.lines_read += 1;
        let row = match row {
            Ok(row) => row,
            Err((column, value, reason)) => {
                out.summary.event(&event);
                out.summary.skip("quarantined");
                out.problem(number, &column, &value, &reason);
                return Ok(());
            }
        };
        let rows = match &block.explode {
            Some(path) => row.explode(path),
            None => vec![row],
        };
        for row in rows {
            out.summary.event(&event);
            if !ctx.matches(&row, &block.filter) {
                out.summary.skip("filtered_out");
                continue;
            }
            if streaming {
                match ctx.row_values(block, &row) {
                    Ok(values) => {
                        out.write(&values)?;
                    }
                    Err(errors) => {
                        out.summary.skip("quarantined");
                        for (column, value, reason) in errors {
                            out.problem(number, &column, &value, &reason);
                        }
                    }
                }
            } else {
                kept.push((number, row));
            }
        }
        Ok(())
    })?;
    match &block.mode {
        Mode::Rows => Ok(()),
        Mode::Changes { key, order, track } => changes(block, ctx, out, kept, key, order, track),
        Mode::FieldHistory { .. } => eval::field_history(block, ctx, out, kept),
        Mode::Group { key } => group(block, ctx, out, kept, key),
    }
}

/// Rows grouped by the value of `key`, in order of first appearance; rows without a key are
/// quarantined.
fn by_key(
    out: &mut Output<'_>,
    rows: Vec<(u64, Row)>,
    key: &str,
    ctx: &EvalContext<'_>,
) -> Vec<Vec<(u64, Row)>> {
    let mut groups: Vec<Vec<(u64, Row)>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (number, row) in rows {
        let Some(k) = row.get(key).filter(|k| !ctx.is_null(k)) else {
            out.summary.skip("quarantined");
            out.problem(number, key, "", "missing_value: no key");
            continue;
        };
        let i = *index.entry(k).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push((number, row));
    }
    groups
}

fn changes(
    block: &Block,
    ctx: &EvalContext<'_>,
    out: &mut Output<'_>,
    rows: Vec<(u64, Row)>,
    key: &str,
    order: &str,
    track: &[String],
) -> Result<()> {
    let has_reason = block.columns.iter().any(|(n, _)| n == "reason");
    for mut group in by_key(out, rows, key, ctx) {
        group.sort_by(|(na, a), (nb, b)| {
            eval::compare_order(a.get(order), b.get(order)).then(na.cmp(nb))
        });
        let mut previous: Option<Vec<Option<String>>> = None;
        for (number, row) in group {
            let mut values = match ctx.row_values(block, &row) {
                Ok(values) => values,
                Err(errors) => {
                    out.summary.skip("quarantined");
                    for (column, value, reason) in errors {
                        out.problem(number, &column, &value, &reason);
                    }
                    continue;
                }
            };
            let tracked: Vec<Option<String>> =
                track.iter().map(|t| values.get(t).cloned()).collect();
            if previous.as_ref() == Some(&tracked) {
                out.summary.skip("unchanged_snapshots");
                continue;
            }
            if previous.is_none() && !has_reason && block.table == Table::Assignments {
                values.insert("reason".to_owned(), "initial".to_owned());
            }
            previous = Some(tracked);
            out.write(&values)?;
        }
    }
    Ok(())
}

fn group(
    block: &Block,
    ctx: &EvalContext<'_>,
    out: &mut Output<'_>,
    rows: Vec<(u64, Row)>,
    key: &str,
) -> Result<()> {
    for group in by_key(out, rows, key, ctx) {
        let mut values = BTreeMap::new();
        for (name, spec) in &block.columns {
            let mut picked: Option<Value> = None;
            for (number, row) in &group {
                if !ctx.matches(row, &spec.when) {
                    continue;
                }
                let value = match ctx.value(spec, row) {
                    Ok(Some(v)) => v,
                    Ok(None) => continue,
                    Err((value, reason)) => {
                        out.problem(*number, name, &value, &reason);
                        continue;
                    }
                };
                picked = Some(match (picked, spec.aggregate) {
                    (None, _) => value,
                    (Some(p), Some(spec::Aggregate::First)) => p,
                    (Some(_), Some(spec::Aggregate::Last)) => value,
                    (Some(p), Some(spec::Aggregate::Min)) => p.min(value),
                    (Some(p), _) => p.max(value),
                });
            }
            if let Some(v) = picked {
                values.insert(name.clone(), v.text());
            }
        }
        out.summary.skip_n("grouped_rows", group.len() as u64 - 1);
        out.write(&values)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
