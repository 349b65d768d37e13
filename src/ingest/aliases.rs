//! Customer aliases (whatsapp-2026.md B.1, B.2): the rows that cannot be used are quarantined
//! (repeats, cycles), and every conversation's `customer_id` is replaced by the id its aliases
//! resolve it to, before any fact reads it.
//!
//! The rules owned here:
//! - a row equal to an earlier one in all three columns is a `duplicate_id` (column `alias`);
//! - every row whose edge `alias → customer_id` lies on a directed cycle (its `customer_id`
//!   reaches its `alias`) is an `alias_cycle`, all rows of the cycle alike;
//! - resolution of a conversation opened at `t`, from `x = customer_id`: the rows in effect
//!   for `x` have `alias = x` and `valid_from` null or at or before `t`; none: `x` is resolved;
//!   else the one with the latest `valid_from` (null earliest; ties: the later row) gives the
//!   next `x`. The same `t` applies at every step.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use super::schema::{SOURCE_ROW, Table};
use super::summary::AliasSummary;
use super::validate::{QuarantineLine, Reason, RowCounts};

/// What the quarantine shows of a customer id of an alias row.
pub const WITHHELD: &str = "[customer id withheld]";

/// One usable alias row.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    alias: String,
    customer: String,
    valid_from: Option<i64>,
    source_row: u64,
}

/// The alias rows resolution reads: per alias, its rows by (`valid_from`, null first; input
/// order).
#[derive(Debug, Default)]
pub struct Aliases {
    by_alias: HashMap<String, Vec<(i64, u64, String)>>,
    rows: u64,
}

fn rows_of(frame: &DataFrame) -> Result<Vec<Row>> {
    let alias = frame.column("alias")?.str()?;
    let customer = frame.column("customer_id")?.str()?;
    let valid_from = frame.column("valid_from")?.cast(&DataType::Int64)?;
    let valid_from = valid_from.i64()?;
    let source_row = frame.column(SOURCE_ROW)?.u32()?;
    Ok((0..frame.height())
        .map(|i| Row {
            alias: alias.get(i).unwrap_or_default().to_owned(),
            customer: customer.get(i).unwrap_or_default().to_owned(),
            valid_from: valid_from.get(i),
            source_row: u64::from(source_row.get(i).unwrap_or_default()),
        })
        .collect())
}

/// Quarantines the repeated rows and the rows on cycles of an accepted `customer_aliases`
/// frame, which keeps the rest; returns them, a graph without cycles.
pub fn check(
    frame: &mut DataFrame,
    file: &str,
    quarantine: &mut Vec<QuarantineLine>,
    counts: &mut RowCounts,
) -> Result<Aliases> {
    let rows = rows_of(frame)?;
    let mut lines = Vec::new();
    let line = |row: &Row, column: &str, value: &str, reason: Reason| QuarantineLine {
        table: Table::CustomerAliases,
        file: file.to_owned(),
        row: row.source_row,
        column: column.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Row> = Vec::with_capacity(rows.len());
    for row in rows {
        let key = (row.alias.clone(), row.customer.clone(), row.valid_from);
        if !seen.insert(key) {
            lines.push(line(&row, "alias", WITHHELD, Reason::DuplicateId));
        } else {
            kept.push(row);
        }
    }
    let on_cycle = on_cycles(&kept);
    let mut usable = Vec::with_capacity(kept.len());
    for (row, cyclic) in kept.into_iter().zip(on_cycle) {
        if cyclic {
            lines.push(line(&row, "alias", WITHHELD, Reason::AliasCycle));
        } else {
            usable.push(row);
        }
    }
    lines.sort_by_key(|l| l.row);
    let dropped: std::collections::HashSet<u64> = lines.iter().map(|l| l.row).collect();
    if !dropped.is_empty() {
        let keep: BooleanChunked = frame
            .column(SOURCE_ROW)?
            .u32()?
            .iter()
            .map(|r| Some(!dropped.contains(&u64::from(r.unwrap_or_default()))))
            .collect();
        *frame = frame.filter(&keep)?;
    }
    counts.rows_accepted -= lines.len() as u64;
    counts.rows_quarantined += lines.len() as u64;
    quarantine.extend(lines);
    let mut aliases = Aliases {
        rows: usable.len() as u64,
        ..Aliases::default()
    };
    for row in usable {
        aliases.by_alias.entry(row.alias).or_default().push((
            row.valid_from.unwrap_or(i64::MIN),
            row.source_row,
            row.customer,
        ));
    }
    for rows in aliases.by_alias.values_mut() {
        rows.sort_by_key(|r| (r.0, r.1));
    }
    Ok(aliases)
}

/// Whether each row's edge lies on a directed cycle: its two ends are in one strongly
/// connected component (Tarjan's algorithm, iterative).
fn on_cycles(rows: &[Row]) -> Vec<bool> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut edges: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
    for row in rows {
        let n = ids.len();
        let a = *ids.entry(row.alias.as_str()).or_insert(n);
        let n = ids.len();
        let b = *ids.entry(row.customer.as_str()).or_insert(n);
        edges.push((a, b));
    }
    let n = ids.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &edges {
        out[a].push(b);
    }
    let component = components(&out);
    edges
        .iter()
        .map(|&(a, b)| a != b && component[a] == component[b])
        .collect()
}

/// The strongly connected component of every node (Tarjan, with an explicit stack).
fn components(out: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = out.len();
    let (mut index, mut low) = (vec![UNSEEN; n], vec![0; n]);
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; n];
    let (mut next_index, mut next_component) = (0, 0);
    for start in 0..n {
        if index[start] != UNSEEN {
            continue;
        }
        // (node, next edge to look at)
        let mut calls = vec![(start, 0usize)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
            if let Some(&w) = out[v].get(*edge) {
                *edge += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

impl Aliases {
    /// The id `customer` resolves to for a conversation opened at `opened`, and whether a step
    /// had rows in effect with different targets (the alias of that step).
    pub fn resolve<'a>(&'a self, customer: &'a str, opened: i64) -> (&'a str, Option<&'a str>) {
        let mut x = customer;
        let mut conflict = None;
        // The graph has no cycle: a chain is at most as long as the rows.
        for _ in 0..=self.rows {
            let Some(rows) = self.by_alias.get(x) else {
                break;
            };
            let in_effect = &rows[..rows.partition_point(|r| r.0 <= opened)];
            let Some(chosen) = in_effect.last() else {
                break;
            };
            if conflict.is_none() && in_effect.iter().any(|r| r.2 != chosen.2) {
                conflict = Some(x);
            }
            x = &chosen.2;
        }
        (x, conflict)
    }

    /// Replaces the `customer_id` of every conversation of `frame` by its resolved id
    /// (`source_customer_id` keeps the export's).
    pub fn apply(&self, frame: &mut DataFrame) -> Result<AliasSummary> {
        let source = frame.column("customer_id")?.str()?.clone();
        let opened = frame.column("opened_at")?.cast(&DataType::Int64)?;
        let opened = opened.i64()?;
        let mut conflicting = std::collections::BTreeSet::new();
        let mut changed = 0u64;
        let resolved: StringChunked = source
            .iter()
            .zip(opened.iter())
            .map(|(id, at)| {
                let (id, at) = (id?, at?);
                let (to, conflict) = self.resolve(id, at);
                if let Some(alias) = conflict {
                    conflicting.insert(alias.to_owned());
                }
                if to != id {
                    changed += 1;
                }
                Some(to.to_owned())
            })
            .collect();
        frame.replace(
            "customer_id",
            resolved.with_name("customer_id".into()).into_column(),
        )?;
        Ok(AliasSummary {
            rows_used: self.rows,
            conversations_resolved: changed,
            conflicting_targets: conflicting.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(edges: &[(&str, &str, Option<i64>)]) -> Vec<Row> {
        edges
            .iter()
            .enumerate()
            .map(|(i, (a, c, v))| Row {
                alias: (*a).to_owned(),
                customer: (*c).to_owned(),
                valid_from: *v,
                source_row: i as u64 + 1,
            })
            .collect()
    }

    fn aliases(edges: &[(&str, &str, Option<i64>)]) -> Aliases {
        let mut a = Aliases {
            rows: edges.len() as u64,
            ..Aliases::default()
        };
        for r in rows(edges) {
            a.by_alias.entry(r.alias).or_default().push((
                r.valid_from.unwrap_or(i64::MIN),
                r.source_row,
                r.customer,
            ));
        }
        for v in a.by_alias.values_mut() {
            v.sort_by_key(|r| (r.0, r.1));
        }
        a
    }

    #[test]
    fn every_row_of_a_cycle_and_none_outside_it_is_on_a_cycle() {
        let r = rows(&[
            ("a", "b", None),
            ("b", "c", None),
            ("c", "a", None),
            ("c", "d", None),
            ("x", "y", None),
            ("y", "x", None),
            ("p", "q", None),
        ]);
        assert_eq!(on_cycles(&r), [true, true, true, false, true, true, false]);
    }

    #[test]
    fn resolution_is_transitive_and_reads_valid_from_at_the_opening() {
        let a = aliases(&[
            ("DE.Xyz", "4999", None),
            ("4999", "4202", Some(100)),
            ("4203", "4204", Some(500)),
        ]);
        assert_eq!(a.resolve("DE.Xyz", 200).0, "4202");
        assert_eq!(a.resolve("DE.Xyz", 50).0, "4999");
        assert_eq!(a.resolve("4203", 499).0, "4203");
        assert_eq!(a.resolve("4203", 500).0, "4204");
        assert_eq!(a.resolve("nobody", 0).0, "nobody");
    }

    #[test]
    fn the_latest_valid_from_wins_then_the_later_row_and_a_conflict_is_reported() {
        let a = aliases(&[
            ("old", "first", None),
            ("old", "second", Some(10)),
            ("old", "third", Some(10)),
        ]);
        assert_eq!(a.resolve("old", 5), ("first", None));
        assert_eq!(a.resolve("old", 10), ("third", Some("old")));
        let same = aliases(&[("old", "one", None), ("old", "one", Some(3))]);
        assert_eq!(same.resolve("old", 5), ("one", None));
    }
}
