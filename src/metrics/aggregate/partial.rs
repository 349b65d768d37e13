//! Partial states of the metric rows ([`super::Output::Partial`]): what each partition of the
//! conversations holds of every cell (rows, non-null values, exact sums, a quantile's values),
//! and their merge into the rows one run over all conversations gives.

use anyhow::Result;
use polars::prelude::*;

use super::{
    Cells, Dimension, ExactSum, GroupIds, Kind, metric_columns, quantile, ratio_value, rechunked,
};

/// What one cell of a partition holds of one metric ([`super::Output::Partial`]).
#[derive(Debug, Clone, Default)]
struct State {
    count: u64,
    sum: ExactSum,
    /// A ratio's denominator.
    over: ExactSum,
    values: Vec<f64>,
}

impl<'a> Cells<'a> {
    /// Each cell's partial state of one metric; under a dimension, the quantile values of a
    /// period's `ALL` are left to its groups.
    fn states(
        &self,
        values: &Float64Chunked,
        over: Option<&Float64Chunked>,
        kind: Kind,
        by: Dimension,
    ) -> Vec<State> {
        let mut states = vec![State::default(); self.len()];
        let keep_all = by == Dimension::None;
        self.each(values, |c, v| {
            let state = &mut states[c];
            state.count += 1;
            match kind {
                Kind::Quantile(_) => {
                    if keep_all || self.all_of[c] as usize != c {
                        state.values.push(v);
                    }
                }
                Kind::Mean | Kind::Sum | Kind::Ratio => state.sum.add(v),
            }
        });
        if let Some(over) = over {
            self.each(over, |c, v| states[c].over.add(v));
        }
        states
    }

    fn is_total(&self, cell: usize) -> bool {
        cell % self.stride == self.stride - 1
    }
}

/// The columns of a partial state: the cell (`total` marks a period's `ALL`), how the metric
/// sums up (`kind`: 0 mean, 1 sum, 2 quantile `q`, 3 ratio), the rows `n`, the non-null values
/// `count`, their exact sum in three parts (and a ratio's denominator's, `over_`) and, for a
/// quantile, the values themselves (a period's `ALL`
/// under a dimension keeps none: its values are its groups').
pub(in crate::metrics) fn partial_schema() -> Schema {
    Schema::from_iter([
        Field::new("period_start".into(), DataType::Date),
        Field::new("group".into(), DataType::String),
        Field::new("total".into(), DataType::Boolean),
        Field::new("metric".into(), DataType::String),
        Field::new("kind".into(), DataType::UInt32),
        Field::new("q".into(), DataType::Float64),
        Field::new("n".into(), DataType::UInt64),
        Field::new("count".into(), DataType::UInt64),
        Field::new("sum_high".into(), DataType::Int64),
        Field::new("sum_low".into(), DataType::UInt64),
        Field::new("sum_rest".into(), DataType::Float64),
        Field::new("over_high".into(), DataType::Int64),
        Field::new("over_low".into(), DataType::UInt64),
        Field::new("over_rest".into(), DataType::Float64),
        Field::new("values".into(), DataType::List(Box::new(DataType::Float64))),
    ])
}

/// The `kind` of a partial state: how its metric sums up.
const MEAN: u32 = 0;
const SUM: u32 = 1;
pub(in crate::metrics) const QUANTILE: u32 = 2;
const RATIO: u32 = 3;

fn kind_code(kind: Kind) -> (u32, Option<f64>) {
    match kind {
        Kind::Mean => (MEAN, None),
        Kind::Sum => (SUM, None),
        Kind::Quantile(q) => (QUANTILE, Some(q)),
        Kind::Ratio => (RATIO, None),
    }
}

/// The partial states ([`partial_schema`]) of a frame of `period_start` (Int32 days), `group`
/// and one value column per metric.
pub(super) fn partial_rows(
    frame: &DataFrame,
    by: Dimension,
    known: Option<&GroupIds>,
    specs: &[(&'static str, Kind)],
) -> Result<DataFrame> {
    let frame = rechunked(frame);
    let cells = Cells::of_frame(&frame, by, known)?;
    let mut rows = PartialRows::default();
    for (i, (id, kind)) in specs.iter().enumerate() {
        let (values, over) = metric_columns(&frame, i)?;
        for (cell, state) in cells
            .states(values, over, *kind, by)
            .into_iter()
            .enumerate()
        {
            if cells.n[cell] == 0 {
                continue;
            }
            let (p, g) = cells.key(cell);
            rows.push(
                (p, g, cells.is_total(cell), id),
                *kind,
                cells.n[cell],
                state,
            );
        }
    }
    rows.frame()
}

/// Partial-state rows being built.
#[derive(Default)]
struct PartialRows {
    period: Vec<Option<i32>>,
    group: Vec<String>,
    total: Vec<bool>,
    metric: Vec<String>,
    kind: Vec<u32>,
    q: Vec<Option<f64>>,
    n: Vec<u64>,
    count: Vec<u64>,
    high: Vec<i64>,
    low: Vec<u64>,
    rest: Vec<f64>,
    over_high: Vec<i64>,
    over_low: Vec<u64>,
    over_rest: Vec<f64>,
    values: Vec<Option<Vec<f64>>>,
}

impl PartialRows {
    fn push(&mut self, cell: (Option<i32>, &str, bool, &str), kind: Kind, n: u64, state: State) {
        let (code, q) = kind_code(kind);
        let (high, low, rest) = state.sum.parts();
        self.period.push(cell.0);
        self.group.push(cell.1.to_owned());
        self.total.push(cell.2);
        self.metric.push(cell.3.to_owned());
        self.kind.push(code);
        self.q.push(q);
        self.n.push(n);
        self.count.push(state.count);
        self.high.push(high);
        self.low.push(low);
        self.rest.push(rest);
        let (high, low, rest) = state.over.parts();
        self.over_high.push(high);
        self.over_low.push(low);
        self.over_rest.push(rest);
        self.values
            .push(matches!(kind, Kind::Quantile(_)).then_some(state.values));
    }

    fn frame(self) -> Result<DataFrame> {
        let period =
            Int32Chunked::from_iter_options("period_start".into(), self.period.into_iter())
                .into_date()
                .into_column();
        let mut values = ListPrimitiveChunkedBuilder::<Float64Type>::new(
            "values".into(),
            self.values.len(),
            self.values.iter().flatten().map(Vec::len).sum(),
            DataType::Float64,
        );
        for v in &self.values {
            match v {
                Some(v) => values.append_slice(v),
                None => values.append_null(),
            }
        }
        Ok(DataFrame::new_infer_height(vec![
            period,
            Column::new("group".into(), self.group),
            Column::new("total".into(), self.total),
            Column::new("metric".into(), self.metric),
            Column::new("kind".into(), self.kind),
            Column::new("q".into(), self.q),
            Column::new("n".into(), self.n),
            Column::new("count".into(), self.count),
            Column::new("sum_high".into(), self.high),
            Column::new("sum_low".into(), self.low),
            Column::new("sum_rest".into(), self.rest),
            Column::new("over_high".into(), self.over_high),
            Column::new("over_low".into(), self.over_low),
            Column::new("over_rest".into(), self.over_rest),
            values.finish().into_column(),
        ])?)
    }
}

/// The metric rows of the partial states of every partition ([`super::Output::Partial`], in any
/// order): each cell's states added up, a period's `ALL` quantile computed from its groups'
/// values under a dimension; sorted as [`super::compute`] sorts (a group named `ALL` before
/// the total).
pub fn merge(partials: &DataFrame, by: Dimension) -> Result<DataFrame> {
    type Cell = (Option<i32>, String, String, bool);
    struct Merged {
        kind: u32,
        q: Option<f64>,
        n: u64,
        count: u64,
        sum: ExactSum,
        over: ExactSum,
        values: Vec<f64>,
    }
    let mut partials = partials.clone();
    partials.rechunk_mut_par();
    let period = partials.column("period_start")?.date()?.physical().clone();
    let group = partials.column("group")?.str()?;
    let total = partials.column("total")?.bool()?;
    let metric = partials.column("metric")?.str()?;
    let kind = partials.column("kind")?.u32()?;
    let q = partials.column("q")?.f64()?;
    let n = partials.column("n")?.u64()?;
    let count = partials.column("count")?.u64()?;
    let high = partials.column("sum_high")?.i64()?;
    let low = partials.column("sum_low")?.u64()?;
    let rest = partials.column("sum_rest")?.f64()?;
    let over_high = partials.column("over_high")?.i64()?;
    let over_low = partials.column("over_low")?.u64()?;
    let over_rest = partials.column("over_rest")?.f64()?;
    let values = partials.column("values")?.list()?;
    let mut cells: std::collections::BTreeMap<Cell, Merged> = std::collections::BTreeMap::new();
    for (i, list) in values.amortized_iter().enumerate() {
        let cell = (
            period.get(i),
            group.get(i).unwrap_or_default().to_owned(),
            metric.get(i).unwrap_or_default().to_owned(),
            total.get(i).unwrap_or_default(),
        );
        let merged = cells.entry(cell).or_insert_with(|| Merged {
            kind: kind.get(i).unwrap_or_default(),
            q: q.get(i),
            n: 0,
            count: 0,
            sum: ExactSum::default(),
            over: ExactSum::default(),
            values: Vec::new(),
        });
        merged.n += n.get(i).unwrap_or_default();
        merged.count += count.get(i).unwrap_or_default();
        merged.sum.merge(ExactSum::from_parts(
            high.get(i).unwrap_or_default(),
            low.get(i).unwrap_or_default(),
            rest.get(i).unwrap_or_default(),
        ));
        merged.over.merge(ExactSum::from_parts(
            over_high.get(i).unwrap_or_default(),
            over_low.get(i).unwrap_or_default(),
            over_rest.get(i).unwrap_or_default(),
        ));
        if let Some(list) = list {
            merged
                .values
                .extend(list.as_ref().f64()?.into_no_null_iter());
        }
    }
    // Under a dimension, each period's `ALL` quantile holds its groups' values.
    if by != Dimension::None {
        let mut pooled: PlHashMap<(Option<i32>, String), Vec<f64>> = PlHashMap::new();
        for ((p, _, m, total), merged) in &cells {
            if !total && merged.kind == QUANTILE {
                pooled
                    .entry((*p, m.clone()))
                    .or_default()
                    .extend_from_slice(&merged.values);
            }
        }
        for ((p, _, m, total), merged) in cells.iter_mut() {
            if *total && merged.kind == QUANTILE {
                merged.values = pooled.remove(&(*p, m.clone())).unwrap_or_default();
            }
        }
    }
    let mut out_period = Vec::with_capacity(cells.len());
    let mut out_group = Vec::with_capacity(cells.len());
    let mut out_metric = Vec::with_capacity(cells.len());
    let mut out_value = Vec::with_capacity(cells.len());
    let mut out_n = Vec::with_capacity(cells.len());
    for ((p, g, m, _), mut merged) in cells {
        let value = match merged.kind {
            MEAN => (merged.count > 0).then(|| merged.sum.value() / merged.count as f64),
            SUM => Some(merged.sum.value()),
            QUANTILE => quantile(&mut merged.values, merged.q.unwrap_or(0.5)),
            _ => match ratio_value(merged.sum, merged.over) {
                Some(value) => value,
                None => continue,
            },
        };
        out_period.push(p);
        out_group.push(g);
        out_metric.push(m);
        out_value.push(value);
        out_n.push(merged.n);
    }
    let period = Int32Chunked::from_iter_options("period_start".into(), out_period.into_iter())
        .into_date()
        .into_column();
    Ok(DataFrame::new_infer_height(vec![
        period,
        Column::new(by.column().into(), out_group),
        Column::new("metric".into(), out_metric),
        Column::new("value".into(), out_value),
        Column::new("n".into(), out_n),
    ])?)
}
