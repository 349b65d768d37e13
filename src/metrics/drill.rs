//! The drill-down contract: which conversations a family lists behind one (period, group,
//! metric) value, and the columns and order of the list.

use polars::prelude::*;

use super::{ALL, MetricRef};

/// Which value to explain.
#[derive(Debug, Clone)]
pub struct DrillQuery {
    pub metric: MetricRef,
    pub period_start: chrono::NaiveDate,
    pub group: DrillGroup,
    /// Whether the value broke its rule on the high side (above a bound): the escalation band
    /// lists the escalated conversations then, the unescalated ones otherwise.
    pub high: bool,
}

/// Whose conversations a drill-down lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillGroup {
    /// One group's; [`ALL`]: every group's together.
    One(String),
    /// Each group's apart, by the `group` column: a conversation whose events fall in two
    /// groups is listed in each, as in each group's own list.
    Each,
}

impl DrillQuery {
    /// The one group whose rows the drill-down keeps; `None` keeps every group's.
    pub fn only_group(&self) -> Option<&str> {
        match &self.group {
            DrillGroup::One(group) if group != ALL => Some(group),
            _ => None,
        }
    }
}

/// The columns of a drill-down: never message text, never customer identifiers. `detail` says
/// what about the conversation broke the rule when the metric counts events (the template and
/// its status, the specialist lane entered); it is null otherwise.
pub const DRILL_COLUMNS: &[&str] = &[
    "conversation_id",
    "lane",
    "owner",
    "hours_silent",
    "opened_at",
    "detail",
    DRILL_RANK,
    "key",
    "group",
];

/// A drill-down row's place: its `worst` value (negated where the least is the worst), so that
/// the rows are in order by this, descending with nulls last, then by conversation `key`. Rows
/// of several partitions of the conversations sorted so are in the order of one run.
pub const DRILL_RANK: &str = "drill_rank";

/// No drill-down rows, with the schema of [`DRILL_COLUMNS`].
pub fn empty_drill() -> LazyFrame {
    df!(
        "conversation_id" => Vec::<String>::new(),
        "lane" => Vec::<String>::new(),
        "owner" => Vec::<String>::new(),
        "hours_silent" => Vec::<f64>::new(),
        "opened_at" => Vec::<i64>::new(),
        "detail" => Vec::<String>::new(),
        DRILL_RANK => Vec::<f64>::new(),
        "key" => Vec::<u32>::new(),
        "group" => Vec::<String>::new(),
    )
    .expect("a fixed schema")
    .lazy()
}
