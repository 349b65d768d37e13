//! Metric values per period and group: polars evaluates each conversation's (or event's)
//! value, and one pass here sums them up per period, per group and for all groups together.
//!
//! The aggregations are the four the metrics use, with polars' semantics: a mean or a
//! quantile skips nulls and is null when every value is; a sum of no values is 0; `n` counts
//! the cohort's rows, nulls included. Quantiles interpolate linearly between the two order
//! statistics around `(count - 1) × q`, as polars' `QuantileMethod::Linear` does.

use std::sync::Arc;

use anyhow::Result;
use polars::prelude::*;

use super::exact_sum::ExactSum;
use super::{ALL, Dimension};

mod partial;
pub use partial::merge;
use partial::partial_rows;
pub(super) use partial::{QUANTILE, partial_schema};

/// How one metric sums up its rows: each row's value, and the aggregation.
#[derive(Clone)]
pub struct Agg {
    value: Expr,
    /// The denominator of a ratio.
    over: Option<Expr>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Mean,
    Sum,
    Quantile(f64),
    /// The sum of the value over the sum of `over`; no row where that is 0.
    Ratio,
}

/// The mean of a value.
pub fn mean(value: Expr) -> Agg {
    Agg {
        value,
        over: None,
        kind: Kind::Mean,
    }
}

/// The sum of a value.
pub fn sum(value: Expr) -> Agg {
    Agg {
        value,
        over: None,
        kind: Kind::Sum,
    }
}

/// Share of rows where a boolean column is true.
pub fn share(column: &str) -> Agg {
    mean(col(column))
}

/// The sum of `value` over the sum of `over` (a share of a total, say); a cell where the sum
/// of `over` is 0 has no row.
pub fn ratio(value: Expr, over: Expr) -> Agg {
    Agg {
        value,
        over: Some(over),
        kind: Kind::Ratio,
    }
}

pub fn median(value: Expr) -> Agg {
    Agg {
        value,
        over: None,
        kind: Kind::Quantile(0.5),
    }
}

pub fn p90(value: Expr) -> Agg {
    Agg {
        value,
        over: None,
        kind: Kind::Quantile(0.9),
    }
}

/// The group of every conversation under one dimension, numbered once for a run: the facts'
/// families look their rows' groups up by conversation key instead of hashing group names.
#[derive(Debug)]
pub struct GroupIds {
    /// The group number of each conversation key ([`u32::MAX`]: no conversation).
    by_key: Vec<u32>,
    names: Vec<String>,
}

impl GroupIds {
    /// The groups of `frame` (one row per conversation, with `key`), named by `group` (a
    /// String column, nulls counting as `unknown`).
    pub fn of(frame: &DataFrame, group: &str) -> Result<GroupIds> {
        let keys = frame.column("key")?.u32()?;
        let groups = frame.column(group)?.str()?;
        let (numbers, names) = number(groups.iter().map(|g| g.unwrap_or(super::UNKNOWN)));
        let size = keys.max().map_or(0, |k| k as usize + 1);
        let mut by_key = vec![u32::MAX; size];
        for (key, id) in keys.iter().zip(numbers) {
            if let Some(key) = key {
                by_key[key as usize] = id;
            }
        }
        Ok(GroupIds {
            by_key,
            names: names.into_iter().map(str::to_owned).collect(),
        })
    }
}

/// Groups `base` (which has `period_start`, and `group`, or `key` when the groups are `known`)
/// per period and group, and per period for `ALL`, into long rows `period_start, group, metric,
/// value, n`.
pub fn aggregate(
    base: LazyFrame,
    by: Dimension,
    known: Option<Arc<GroupIds>>,
    values: Vec<(&'static str, Agg)>,
) -> LazyFrame {
    aggregate_as(base, by, known, values, Output::Values)
}

/// What [`aggregate_as`] makes of the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The metric rows.
    Values,
    /// Partial states ([`partial_schema`]), to be merged with those of other partitions of
    /// the conversations by [`merge`].
    Partial,
}

/// [`aggregate`], or its partial states with [`Output::Partial`].
pub fn aggregate_as(
    base: LazyFrame,
    by: Dimension,
    known: Option<Arc<GroupIds>>,
    values: Vec<(&'static str, Agg)>,
    output: Output,
) -> LazyFrame {
    let group = match known {
        Some(_) => col("key"),
        None => col("group").cast(DataType::String),
    };
    let mut columns = vec![col("period_start").cast(DataType::Int32), group];
    for (i, (_, agg)) in values.iter().enumerate() {
        columns.push(
            agg.value
                .clone()
                .cast(DataType::Float64)
                .alias(value_column(i)),
        );
        if let Some(over) = &agg.over {
            columns.push(over.clone().cast(DataType::Float64).alias(over_column(i)));
        }
    }
    let schema: SchemaRef = match output {
        Output::Values => Arc::new(Schema::from_iter([
            Field::new("period_start".into(), DataType::Date),
            Field::new("group".into(), DataType::String),
            Field::new("metric".into(), DataType::String),
            Field::new("value".into(), DataType::Float64),
            Field::new("n".into(), DataType::UInt64),
        ])),
        Output::Partial => Arc::new(partial_schema()),
    };
    let specs: Vec<(&'static str, Kind)> = values.iter().map(|(id, agg)| (*id, agg.kind)).collect();
    base.select(columns).map(
        move |frame| {
            match output {
                Output::Values => long_rows(&frame, by, known.as_deref(), &specs),
                Output::Partial => partial_rows(&frame, by, known.as_deref(), &specs),
            }
            .map_err(|e| polars_err!(ComputeError: "{e:#}"))
        },
        OptFlags::empty(),
        Some(Arc::new(move |_: &Schema| Ok(schema.clone()))),
        Some("metric rows"),
    )
}

/// The column of the `i`th metric's row values.
fn value_column(i: usize) -> PlSmallStr {
    format!("value_{i}").into()
}

/// The column of the `i`th metric's denominators (a ratio's).
fn over_column(i: usize) -> PlSmallStr {
    format!("over_{i}").into()
}

/// The `i`th metric's values, and its denominators for a ratio.
fn metric_columns(
    frame: &DataFrame,
    i: usize,
) -> Result<(&Float64Chunked, Option<&Float64Chunked>)> {
    let over = match frame.column(&over_column(i)) {
        Ok(c) => Some(c.f64()?),
        Err(_) => None,
    };
    Ok((frame.column(&value_column(i))?.f64()?, over))
}

/// The cells of a frame: (period, group) pairs, and (period, `ALL`), numbered
/// `period × stride + group` with `ALL` the last group of each period.
struct Cells<'a> {
    /// The cell of each row's group (its period's `ALL` without a dimension).
    own: Vec<u32>,
    /// The `ALL` cell of each cell's period.
    all_of: Vec<u32>,
    /// The periods (days since the epoch; null for rows without an instant) and groups.
    periods: Vec<Option<i32>>,
    groups: Vec<&'a str>,
    stride: usize,
    /// The rows of each cell.
    n: Vec<u64>,
}

/// Dense numbers for the distinct values of `items`, in order of appearance: each item's
/// number, and the distinct values. Consecutive repeats (runs of one period) skip the hash.
fn number<T: Copy + Eq + std::hash::Hash>(items: impl Iterator<Item = T>) -> (Vec<u32>, Vec<T>) {
    let mut ids: PlHashMap<T, u32> = PlHashMap::new();
    let mut distinct = Vec::new();
    let mut last: Option<(T, u32)> = None;
    let numbers = items
        .map(|item| match last {
            Some((seen, id)) if seen == item => id,
            _ => {
                let id = *ids.entry(item).or_insert_with(|| {
                    distinct.push(item);
                    (distinct.len() - 1) as u32
                });
                last = Some((item, id));
                id
            }
        })
        .collect();
    (numbers, distinct)
}

/// Where a frame's groups come from.
enum Groups<'a> {
    /// A `group` column of names.
    Names(&'a StringChunked),
    /// A `key` column, and the groups of the keys.
    Known(&'a UInt32Chunked, &'a GroupIds),
}

impl<'a> Cells<'a> {
    fn of(periods: &Int32Chunked, groups: Groups<'a>, by: Dimension) -> Cells<'a> {
        let no_nulls = periods.null_count() == 0;
        let (period_ids, periods) = match periods.downcast_iter().next() {
            Some(a) if no_nulls => number(a.values().iter().map(|&p| Some(p))),
            Some(a) => number(a.iter().map(|p| p.copied())),
            None => (Vec::new(), Vec::new()),
        };
        let (group_ids, groups) = match groups {
            _ if by == Dimension::None => (Vec::new(), Vec::new()),
            Groups::Names(names) => match names.downcast_iter().next() {
                Some(a) if names.null_count() == 0 => number(a.values_iter()),
                Some(a) => number(a.iter().map(Option::unwrap_or_default)),
                None => (Vec::new(), Vec::new()),
            },
            Groups::Known(keys, known) => {
                let id = |key: Option<u32>| {
                    key.and_then(|k| known.by_key.get(k as usize).copied())
                        .filter(|&id| id != u32::MAX)
                };
                let ids = keys
                    .iter()
                    .map(|k| id(k).unwrap_or(known.names.len() as u32))
                    .collect();
                let mut names: Vec<&str> = known.names.iter().map(String::as_str).collect();
                // A key without a conversation would be a bug upstream; it stays visible.
                names.push(super::UNKNOWN);
                (ids, names)
            }
        };
        let stride = groups.len() + 1;
        let all_of: Vec<u32> = (0..periods.len() * stride)
            .map(|cell| ((cell / stride + 1) * stride - 1) as u32)
            .collect();
        let own: Vec<u32> = if by == Dimension::None {
            period_ids
                .iter()
                .map(|&p| all_of[p as usize * stride])
                .collect()
        } else {
            period_ids
                .iter()
                .zip(&group_ids)
                .map(|(&p, &g)| (p as usize * stride + g as usize) as u32)
                .collect()
        };
        let mut n = vec![0u64; all_of.len()];
        for &cell in &own {
            n[cell as usize] += 1;
            let all = all_of[cell as usize];
            if all != cell {
                n[all as usize] += 1;
            }
        }
        Cells {
            own,
            all_of,
            periods,
            groups,
            stride,
            n,
        }
    }

    /// Calls `f(cell, value)` for the non-null value of every row, once for the row's cell
    /// and once for its period's `ALL`.
    fn each(&self, values: &Float64Chunked, mut f: impl FnMut(usize, f64)) {
        let mut put = |own: u32, v: f64| {
            f(own as usize, v);
            let all = self.all_of[own as usize];
            if all != own {
                f(all as usize, v);
            }
        };
        match values.downcast_iter().next() {
            None => {}
            Some(a) if values.null_count() == 0 => {
                for (&own, &v) in self.own.iter().zip(a.values().iter()) {
                    put(own, v);
                }
            }
            Some(a) => {
                for (&own, v) in self.own.iter().zip(a.iter()) {
                    if let Some(&v) = v {
                        put(own, v);
                    }
                }
            }
        }
    }

    /// The period and group of a cell.
    fn key(&self, cell: usize) -> (Option<i32>, &'a str) {
        let group = cell % self.stride;
        let name = self.groups.get(group).copied().unwrap_or(ALL);
        (self.periods[cell / self.stride], name)
    }

    fn len(&self) -> usize {
        self.n.len()
    }

    /// Each cell's value of one metric (`None`: the cell has no row of it).
    fn values(
        &self,
        values: &Float64Chunked,
        over: Option<&Float64Chunked>,
        kind: Kind,
    ) -> Vec<Option<Option<f64>>> {
        let cells = self.len();
        match kind {
            Kind::Sum => {
                let mut sums = vec![ExactSum::default(); cells];
                self.each(values, |c, v| sums[c].add(v));
                sums.into_iter().map(|s| Some(Some(s.value()))).collect()
            }
            Kind::Ratio => {
                let mut sums = vec![ExactSum::default(); cells];
                let mut overs = vec![ExactSum::default(); cells];
                self.each(values, |c, v| sums[c].add(v));
                if let Some(over) = over {
                    self.each(over, |c, v| overs[c].add(v));
                }
                sums.into_iter()
                    .zip(overs)
                    .map(|(s, o)| ratio_value(s, o))
                    .collect()
            }
            Kind::Mean => {
                let (mut sums, mut counts) = (vec![ExactSum::default(); cells], vec![0u64; cells]);
                self.each(values, |c, v| {
                    sums[c].add(v);
                    counts[c] += 1;
                });
                sums.into_iter()
                    .zip(counts)
                    .map(|(s, c)| Some((c > 0).then(|| s.value() / c as f64)))
                    .collect()
            }
            Kind::Quantile(q) => {
                // The non-null values laid out cell by cell (a counting sort).
                let mut start = vec![0usize; cells + 1];
                self.each(values, |c, _| start[c + 1] += 1);
                for c in 0..cells {
                    start[c + 1] += start[c];
                }
                let mut next = start.clone();
                let mut laid = vec![0.0; start[cells]];
                self.each(values, |c, v| {
                    laid[next[c]] = v;
                    next[c] += 1;
                });
                (0..cells)
                    .map(|c| Some(quantile(&mut laid[start[c]..start[c + 1]], q)))
                    .collect()
            }
        }
    }
}

/// A ratio cell's value: none (no row) when the denominator sums to 0.
fn ratio_value(sum: ExactSum, over: ExactSum) -> Option<Option<f64>> {
    let over = over.value();
    (over != 0.0).then(|| Some(sum.value() / over))
}

/// The linear-interpolation quantile of `values` (reordered in place); null when empty.
pub(super) fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    match values.len() {
        0 => return None,
        1 => return Some(values[0]),
        _ => {}
    }
    let float_idx = (values.len() - 1) as f64 * q;
    let idx = (float_idx as usize).min(values.len() - 1);
    let top = float_idx.ceil() as usize;
    let (_, lower, above) = values.select_nth_unstable_by(idx, f64::total_cmp);
    let lower = *lower;
    if idx == top {
        return Some(lower);
    }
    let upper = above.iter().copied().min_by(f64::total_cmp)?;
    if lower == upper {
        return Some(lower);
    }
    Some((float_idx - idx as f64) * (upper - lower) + lower)
}

/// `frame` in one chunk per column, for reading by position.
fn rechunked(frame: &DataFrame) -> DataFrame {
    let mut frame = frame.clone();
    frame.rechunk_mut_par();
    frame
}

impl<'a> Cells<'a> {
    /// The cells of a frame of `period_start` (Int32 days) and `group`, or `key` when the
    /// groups are `known`.
    fn of_frame(
        frame: &'a DataFrame,
        by: Dimension,
        known: Option<&'a GroupIds>,
    ) -> Result<Cells<'a>> {
        let periods = frame.column("period_start")?.i32()?;
        let groups = match known {
            Some(known) => Groups::Known(frame.column("key")?.u32()?, known),
            None => Groups::Names(frame.column("group")?.str()?),
        };
        Ok(Cells::of(periods, groups, by))
    }
}

/// The long rows of a frame of `period_start` (Int32 days), `group` and one value column per
/// metric.
fn long_rows(
    frame: &DataFrame,
    by: Dimension,
    known: Option<&GroupIds>,
    specs: &[(&'static str, Kind)],
) -> Result<DataFrame> {
    let frame = rechunked(frame);
    let cells = Cells::of_frame(&frame, by, known)?;
    let mut period = Vec::with_capacity(cells.len() * specs.len());
    let mut group = Vec::with_capacity(period.capacity());
    let mut metric = Vec::with_capacity(period.capacity());
    let mut value = Vec::with_capacity(period.capacity());
    let mut n = Vec::with_capacity(period.capacity());
    for (i, (id, kind)) in specs.iter().enumerate() {
        let (values, over) = metric_columns(&frame, i)?;
        for (cell, v) in cells.values(values, over, *kind).into_iter().enumerate() {
            let Some(v) = v.filter(|_| cells.n[cell] > 0) else {
                continue;
            };
            let (p, g) = cells.key(cell);
            period.push(p);
            group.push(g);
            metric.push(*id);
            value.push(v);
            n.push(cells.n[cell]);
        }
    }
    let period = Int32Chunked::from_iter_options("period_start".into(), period.into_iter())
        .into_date()
        .into_column();
    Ok(DataFrame::new_infer_height(vec![
        period,
        Column::new("group".into(), group),
        Column::new("metric".into(), metric),
        Column::new("value".into(), value),
        Column::new("n".into(), n),
    ])?)
}

#[cfg(test)]
mod tests;
