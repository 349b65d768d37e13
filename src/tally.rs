//! What the report's calls and cost lines read of a period's conversations: sums over the
//! conversations, computed beside the alerts' drill-downs and the board, whole or one
//! partition at a time.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;

use crate::config::Config;
use crate::facts::Facts;
use crate::facts::whatsapp::CostNotes;
use crate::metrics::{ALL, Dimension, ExactSum, MetricsOptions, Period, Zone};

/// Billable messages sent and their spend, per group.
pub type Spend = BTreeMap<String, (u64, ExactSum)>;

/// What the lines read of the facts: sums over the conversations, so that those of several
/// partitions of them add up ([`Tally::merge`]).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// With a calls table: whether some call was business-initiated.
    pub calls: Option<bool>,
    pub window_violations_after_calls: Option<u64>,
    /// With pricing data: the notes, and, with a rate card, the billable messages and spend of
    /// the period per group.
    pub cost: Option<(CostNotes, Option<Spend>)>,
}

impl Tally {
    /// The tally of the report period `period_start` of `facts`.
    pub fn of(
        facts: &Facts,
        config: &Config,
        period_start: NaiveDate,
        options: MetricsOptions,
    ) -> Result<Tally> {
        let view = (options.period, options.zone, options.by);
        let calls = match &facts.calls {
            Some(calls) => Some(
                calls
                    .column("user")?
                    .bool()?
                    .iter()
                    .any(|u| u == Some(false)),
            ),
            None => None,
        };
        let cost = match &facts.cost {
            Some((messages, notes)) => {
                let spend = match config.pricing {
                    Some(_) => Some(spend(facts, messages, period_start, view)?),
                    None => None,
                };
                Some((notes.clone(), spend))
            }
            None => None,
        };
        Ok(Tally {
            calls,
            window_violations_after_calls: facts.window_violations_after_calls,
            cost,
        })
    }

    /// Adds the tally of other conversations.
    pub fn merge(&mut self, other: Tally) {
        self.calls = match (self.calls, other.calls) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        self.window_violations_after_calls = match (
            self.window_violations_after_calls,
            other.window_violations_after_calls,
        ) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.cost = match (self.cost.take(), other.cost) {
            (Some((mut notes, spend)), Some((more, more_spend))) => {
                notes.merge(more);
                let spend = match (spend, more_spend) {
                    (Some(mut spend), Some(more)) => {
                        for (group, (n, sum)) in more {
                            let entry = spend.entry(group).or_default();
                            entry.0 += n;
                            entry.1.merge(sum);
                        }
                        Some(spend)
                    }
                    (a, b) => a.or(b),
                };
                Some((notes, spend))
            }
            (a, b) => a.or(b),
        };
    }
}

/// The billable messages and spend of the period per group (and `ALL` under a dimension).
fn spend(
    facts: &Facts,
    messages: &polars::prelude::DataFrame,
    period_start: NaiveDate,
    (period, zone, by): (Period, Zone, Dimension),
) -> Result<Spend> {
    let (from, to) = period.window_ms(period_start, zone);
    let column = match by {
        Dimension::None => None,
        other => Some(other.column()),
    };
    let groups: Vec<Option<String>> = match column {
        Some(c) => facts
            .frame
            .column(c)?
            .str()?
            .iter()
            .map(|g| g.map(str::to_owned))
            .collect(),
        None => vec![None; facts.frame.height()],
    };
    let keys = facts.frame.column("key")?.u32()?;
    let row_of: std::collections::HashMap<u32, usize> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((k?, i)))
        .collect();
    let mut spend = Spend::new();
    let (m_key, m_at, m_price) = (
        messages.column("key")?.u32()?,
        messages.column("at")?.i64()?,
        messages.column("price")?.f64()?,
    );
    for i in 0..messages.height() {
        let (Some(k), Some(at)) = (m_key.get(i), m_at.get(i)) else {
            continue;
        };
        if at < from || at >= to {
            continue;
        }
        let group = match (column, row_of.get(&k)) {
            (None, _) => ALL.to_owned(),
            (Some(_), Some(&row)) => groups[row]
                .clone()
                .unwrap_or_else(|| crate::metrics::UNKNOWN.to_owned()),
            (Some(_), None) => continue,
        };
        let price = m_price.get(i).unwrap_or(0.0);
        let mut add = |g: &str| {
            let e = spend.entry(g.to_owned()).or_default();
            e.0 += 1;
            e.1.add(price);
        };
        add(&group);
        // With a dimension the message also counts for all groups together.
        if column.is_some() {
            add(ALL);
        }
    }
    Ok(spend)
}
