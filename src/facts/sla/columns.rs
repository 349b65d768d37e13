//! The columns of the SLA facts ([`super::compute`]): the conversation columns to the detail
//! a run asks, the board's state, and the settled update intervals with their owners.

use anyhow::Result;
use polars::prelude::*;

use super::{Promises, State};
use crate::config::{Clock, Promise};
use crate::facts::walk;

/// The type of the `_state` columns: an enum of the four states.
pub(super) fn state_dtype() -> DataType {
    enum_dtype(State::ALL.map(State::as_str))
}

/// The type of the `_clock` columns: an enum of the two clocks.
pub(super) fn clock_dtype() -> DataType {
    enum_dtype(CLOCKS.map(Clock::as_str))
}

const CLOCKS: [Clock; 2] = [Clock::Calendar, Clock::Business];

fn enum_dtype<const N: usize>(names: [&str; N]) -> DataType {
    let categories = FrozenCategories::new(names).expect("distinct names");
    DataType::from_frozen_categories(categories)
}

/// A column of enum codes (`codes[i]` the index of its category) as an enum column.
fn enum_column(name: String, codes: Vec<Option<u8>>, dtype: &DataType) -> Result<Column> {
    let codes = walk::nullable::<UInt8Type>(&name, &codes);
    Ok(
        Categorical8Chunked::from_cats_and_dtype(codes, dtype.clone())
            .into_series()
            .into_column(),
    )
}

/// The intervals with the `lane` and `assignee_id` of their owning assignment (a row of
/// `assignments`) in place of its position, as categories: a few bytes an interval, where the
/// text would take 16 or more.
pub(super) fn owners(mut intervals: DataFrame, assignments: &DataFrame) -> Result<DataFrame> {
    let rows = intervals.drop_in_place("assignment")?;
    let rows = rows.idx()?;
    let categories = DataType::from_categories(Categories::global());
    for name in ["lane", "assignee_id"] {
        let owners = assignments.column(name)?.cast(&categories)?;
        intervals.with_column(owners.take(rows)?)?;
    }
    Ok(intervals)
}

/// The promises of the conversation-level facts, in column order.
const PROMISES: [Promise; 4] = [
    Promise::Frt,
    Promise::HumanFrt,
    Promise::Tts,
    Promise::Resolution,
];

/// How much of the SLA facts a run builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// What the metrics, their drill-downs and the board read: per promise `sla_<p>_state`,
    /// `_breach`, `_overshoot_s` and `_settled_at`, and the board's [`PENDING_DUE`] and
    /// [`BREACH_MASK`].
    Counted,
    /// Also the rest of the public columns: per promise `_target_s`, `_clock` and `_due_at`,
    /// and the update counts (`facts`, `board` and `query`).
    Public,
}

/// The earliest due instant among a conversation's pending promises (ms; internal).
pub const PENDING_DUE: &str = "sla_pending_due";
/// The promises in breach, bit `i` for `Promise::ALL[i]` (internal).
pub const BREACH_MASK: &str = "sla_breach_mask";

/// The promises named in a [`BREACH_MASK`] value, in `Promise::ALL` order.
pub fn breached(mask: u32) -> Vec<&'static str> {
    Promise::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, p)| p.as_str())
        .collect()
}

#[derive(Default)]
pub(super) struct Builders {
    /// Whether the public-only columns are built ([`Detail::Public`]).
    public: bool,
    promise: [PromiseColumns; 4],
    hits: Vec<Option<u32>>,
    breaches: Vec<Option<u32>>,
    pending_due: Vec<Option<i64>>,
    max_overshoot: Vec<Option<f64>>,
    board_due: Vec<Option<i64>>,
    board_breached: Vec<Option<u32>>,
    intervals: IntervalColumns,
}

#[derive(Default)]
struct PromiseColumns {
    target: Vec<Option<f64>>,
    clock: Vec<Option<u8>>,
    due: Vec<Option<i64>>,
    state: Vec<Option<u8>>,
    breach: Vec<Option<bool>>,
    overshoot: Vec<Option<f64>>,
    settled: Vec<Option<i64>>,
}

/// The settled intervals; each owner as the input position of its assignment (its lane and
/// assignee are taken from there once for all).
#[derive(Default)]
struct IntervalColumns {
    key: Vec<u32>,
    settled: Vec<i64>,
    assignment: Vec<IdxSize>,
    breach: Vec<bool>,
    overshoot: Vec<Option<f64>>,
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub(super) fn clock_code(clock: Clock) -> u8 {
    CLOCKS
        .iter()
        .position(|c| *c == clock)
        .expect("every clock") as u8
}

impl Builders {
    /// Builders for `n` conversations.
    pub(super) fn with_capacity(n: usize, detail: Detail) -> Builders {
        let public = detail == Detail::Public;
        let mut b = Builders {
            public,
            ..Builders::default()
        };
        for cols in &mut b.promise {
            cols.state.reserve(n);
            cols.breach.reserve(n);
            cols.overshoot.reserve(n);
            cols.settled.reserve(n);
            if public {
                cols.target.reserve(n);
                cols.clock.reserve(n);
                cols.due.reserve(n);
            }
        }
        if public {
            b.hits.reserve(n);
            b.breaches.reserve(n);
            b.pending_due.reserve(n);
            b.max_overshoot.reserve(n);
        }
        b.board_due.reserve(n);
        b.board_breached.reserve(n);
        b
    }

    /// Adds a conversation's promises; `first_row` is the input position of its first
    /// assignment.
    pub(super) fn push(&mut self, key: u32, p: &Promises<'_>, first_row: usize) {
        let judged = [&p.frt, &p.human_frt, &p.tts, &p.resolution];
        for (cols, j) in self.promise.iter_mut().zip(judged) {
            cols.state.push(j.as_ref().map(|j| j.state as u8));
            cols.breach.push(j.as_ref().and_then(|j| match j.state {
                State::Hit => Some(false),
                State::Breach => Some(true),
                _ => None,
            }));
            cols.overshoot
                .push(j.as_ref().and_then(|j| j.overshoot_ms.map(seconds)));
            cols.settled.push(j.as_ref().and_then(|j| j.settled_at));
            if self.public {
                cols.target.push(j.as_ref().map(|j| seconds(j.target_ms)));
                cols.clock.push(j.as_ref().map(|j| clock_code(j.clock)));
                cols.due.push(j.as_ref().and_then(|j| j.due_at));
            }
        }
        let updates = p.updates.as_deref().unwrap_or_default();
        let update_pending = updates
            .iter()
            .find(|i| i.judged.state == State::Pending)
            .and_then(|i| i.judged.due_at);
        let update_breaches = updates
            .iter()
            .filter(|i| i.judged.state == State::Breach)
            .count();
        // The board: the earliest due among the pending promises, and the promises in breach.
        let mut due: Option<i64> = None;
        let mut mask = 0u32;
        let by_promise = [
            (p.frt.as_ref(), None),
            (p.human_frt.as_ref(), None),
            (p.tts.as_ref(), None),
            (None, Some((update_pending, update_breaches > 0))),
            (p.resolution.as_ref(), None),
        ];
        for (bit, (judged, update)) in by_promise.into_iter().enumerate() {
            let (pending_due, breach) = match (judged, update) {
                (Some(j), _) => (
                    (j.state == State::Pending).then_some(j.due_at).flatten(),
                    j.state == State::Breach,
                ),
                (None, Some(u)) => u,
                (None, None) => (None, false),
            };
            if let Some(d) = pending_due {
                due = Some(due.map_or(d, |e| e.min(d)));
            }
            if breach {
                mask |= 1 << bit;
            }
        }
        self.board_due.push(due);
        self.board_breached.push(Some(mask));
        if self.public {
            match &p.updates {
                None => {
                    self.hits.push(None);
                    self.breaches.push(None);
                    self.pending_due.push(None);
                    self.max_overshoot.push(None);
                }
                Some(intervals) => {
                    let hits = intervals
                        .iter()
                        .filter(|i| i.judged.state == State::Hit)
                        .count();
                    self.hits.push(Some(hits as u32));
                    self.breaches.push(Some(update_breaches as u32));
                    self.pending_due.push(update_pending);
                    self.max_overshoot.push(
                        intervals
                            .iter()
                            .filter_map(|i| i.judged.overshoot_ms)
                            .max()
                            .map(seconds),
                    );
                }
            }
        }
        for i in updates {
            let (true, Some(settled)) = (i.judged.state.is_settled(), i.judged.settled_at) else {
                continue;
            };
            let c = &mut self.intervals;
            c.key.push(key);
            c.settled.push(settled);
            c.assignment.push((first_row + i.row) as IdxSize);
            c.breach.push(i.judged.state == State::Breach);
            c.overshoot.push(i.judged.overshoot_ms.map(seconds));
        }
    }

    /// The conversation columns and the settled intervals (`key`, `settled_at`, `assignment`,
    /// `breach`, `overshoot_s`).
    pub(super) fn finish(self) -> Result<(DataFrame, DataFrame)> {
        let (states, clocks) = (state_dtype(), clock_dtype());
        let f64s =
            |name: &str, v: &[Option<f64>]| walk::nullable::<Float64Type>(name, v).into_column();
        let i64s =
            |name: &str, v: &[Option<i64>]| walk::nullable::<Int64Type>(name, v).into_column();
        let u32s =
            |name: &str, v: &[Option<u32>]| walk::nullable::<UInt32Type>(name, v).into_column();
        let mut columns = Vec::new();
        for (p, cols) in PROMISES.iter().zip(self.promise) {
            let name = |what: &str| format!("sla_{}_{what}", p.as_str());
            if self.public {
                columns.push(f64s(&name("target_s"), &cols.target));
                columns.push(enum_column(name("clock"), cols.clock, &clocks)?);
                columns.push(i64s(&name("due_at"), &cols.due));
            }
            columns.push(enum_column(name("state"), cols.state, &states)?);
            columns.push(Column::new(name("breach").into(), cols.breach));
            columns.push(f64s(&name("overshoot_s"), &cols.overshoot));
            columns.push(i64s(&name("settled_at"), &cols.settled));
        }
        if self.public {
            columns.push(u32s("sla_update_hits", &self.hits));
            columns.push(u32s("sla_update_breaches", &self.breaches));
            columns.push(i64s("sla_update_pending_due_at", &self.pending_due));
            columns.push(f64s("sla_update_max_overshoot_s", &self.max_overshoot));
        }
        columns.push(i64s(PENDING_DUE, &self.board_due));
        columns.push(u32s(BREACH_MASK, &self.board_breached));
        let i = self.intervals;
        let intervals = DataFrame::new_infer_height(vec![
            Column::new("key".into(), i.key),
            Column::new("settled_at".into(), i.settled),
            IdxCa::from_vec("assignment".into(), i.assignment).into_column(),
            Column::new("breach".into(), i.breach),
            f64s("overshoot_s", &i.overshoot),
        ])?;
        Ok((DataFrame::new_infer_height(columns)?, intervals))
    }
}
