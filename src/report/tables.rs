//! The report's group × metric tables: which metrics each table shows (by set; by owner in two
//! tables; the bot outcomes by segment, channel and intent) and their cells, coloured by
//! threshold state.

use super::ReportInput;
use super::html::{Cell, Header, MetricTable, Row, SHOWN_GROUPS, set_headline};
use crate::alert::{Verdict, judge};
use crate::metrics::{self, ALL, Dimension, MetricRow, MetricSet, human};
use crate::units::printable;

pub(super) const BUSINESS_NOTE: &str = "Each duration is charged to the schedule of the lane assigned at \
     each moment ([business_hours] in the configuration); the calendar metrics above are \
     unchanged.";

pub(super) const SLA_NOTE: &str = "Promises kept: hits over hits and breaches, counted when each settled; \
     pending and void promises are left out. Updates count one promise per interval an agent \
     owned the case.";

/// The metrics a person's work is charged to directly: each owned interval's update promise and
/// each stall belong to whoever held the thread then.
const BY_THIS_OWNER: [&str; 2] = ["sla_update_hit_rate", "silent_stall_rate"];

/// The metrics that restate the owner rule by construction (a person's group holds the
/// escalations, `bot` the rest): computed per owner, left out of the owner tables.
const RESTATE_OWNERS: [&str; 2] = ["escalation_rate", "bot_trap_index"];

/// With `--by owner`, the ten, business time, governance and SLA metrics in two tables, so that
/// nobody reads a queue's wait as an agent's work: what each owner did themselves, and what
/// happened on the cases they last held (including waits before they held them).
pub(super) fn owner_tables(
    input: &ReportInput<'_>,
    by_dimension: &dyn Fn(&str) -> String,
) -> Vec<TableSpec> {
    let sets = [
        Some(MetricSet::Core),
        input.business_time.then_some(MetricSet::BusinessTime),
        Some(MetricSet::Governance),
        input.sla.then_some(MetricSet::Sla),
    ];
    let shown: Vec<&'static metrics::MetricInfo> = sets
        .into_iter()
        .flatten()
        .flat_map(set_metrics)
        .filter(|m| !RESTATE_OWNERS.contains(&m.id))
        .collect();
    let (own, held): (Vec<_>, Vec<_>) = shown
        .into_iter()
        .partition(|m| BY_THIS_OWNER.contains(&m.id));
    let mut notes = input.core_notes.clone();
    notes.extend(input.governance_notes.iter().cloned());
    vec![
        TableSpec {
            id: "owner-own-table",
            title: by_dimension("By this owner"),
            notes: vec![
                "Charged to whoever held the thread: each interval an agent owned (was the next \
                 customer update on time? was it left silent past the lane's stall limit?)."
                    .to_owned(),
            ],
            metrics: own,
            by: Dimension::Owner,
            headline: None,
        },
        TableSpec {
            id: "metric-table",
            title: by_dimension("On cases this owner last held"),
            notes: {
                notes.insert(
                    0,
                    "Each conversation counts for the last person who held it in a human lane \
                     (bot: the bot handled it alone; unowned: nobody named held it). These \
                     include waits before that person held the case. Escalation rate and the \
                     bot-trap index restate this rule and are left out."
                        .to_owned(),
                );
                notes
            },
            metrics: held,
            by: Dimension::Owner,
            headline: None,
        },
    ]
}

/// The "Bot outcomes" tables: all groups together with the caption, then by segment, by
/// channel and by intent (by lane or owner the outcomes split by construction, so those groups
/// are not shown).
pub(super) fn outcome_tables(
    input: &ReportInput<'_>,
    period_rows: &[MetricRow],
) -> Vec<MetricTable> {
    let mut tables = Vec::new();
    let all: Vec<MetricRow> = period_rows
        .iter()
        .filter(|r| r.group == ALL)
        .cloned()
        .collect();
    let spec = |id, title: String, by, notes| TableSpec {
        id,
        title,
        notes,
        metrics: set_metrics(MetricSet::Outcomes).collect(),
        by,
        headline: None,
    };
    tables.push(metric_table(
        input,
        &all,
        &[],
        spec(
            "outcomes-table",
            "Bot outcomes".to_owned(),
            Dimension::None,
            input.outcome_notes.clone(),
        ),
    ));
    for (by, rows) in &input.outcomes {
        let rows: Vec<MetricRow> = rows.iter().filter(|r| r.group != ALL).cloned().collect();
        let largest = super::groups_by_volume(&rows);
        let id = match by {
            Dimension::Segment => "outcomes-segment-table",
            Dimension::Channel => "outcomes-channel-table",
            _ => "outcomes-intent-table",
        };
        tables.push(metric_table(
            input,
            &rows,
            &largest,
            spec(
                id,
                format!("Bot outcomes by {}", by.column()),
                *by,
                Vec::new(),
            ),
        ));
    }
    tables
}

/// What one metric table shows: its metrics, the dimension of its groups, and whether it
/// carries its set's headline strip.
pub(super) struct TableSpec {
    id: &'static str,
    title: String,
    notes: Vec<String>,
    metrics: Vec<&'static metrics::MetricInfo>,
    by: Dimension,
    /// The set whose headline the table carries (none for the ten, at the top of the page).
    headline: Option<MetricSet>,
}

impl TableSpec {
    /// The table of one metric set by the report's dimension.
    pub(super) fn set(
        input: &ReportInput<'_>,
        set: MetricSet,
        id: &'static str,
        title: &str,
    ) -> TableSpec {
        TableSpec {
            id,
            title: title.to_owned(),
            notes: Vec::new(),
            metrics: set_metrics(set).collect(),
            by: input.by,
            headline: (set != MetricSet::Core).then_some(set),
        }
    }

    pub(super) fn notes(mut self, notes: Vec<String>) -> TableSpec {
        self.notes = notes;
        self
    }
}

/// The metrics of a set, in registry order.
pub(super) fn set_metrics(set: MetricSet) -> impl Iterator<Item = &'static metrics::MetricInfo> {
    metrics::REGISTRY
        .iter()
        .filter(move |f| f.set == set)
        .flat_map(|f| f.metrics.iter())
}

/// A metric table by group: the value and `n` of each metric this period, coloured by its
/// threshold state.
pub(super) fn metric_table(
    input: &ReportInput<'_>,
    period_rows: &[MetricRow],
    largest: &[&str],
    spec: TableSpec,
) -> MetricTable {
    let by = spec.by;
    let headers: Vec<Header> = spec
        .metrics
        .iter()
        .map(|m| Header {
            id: m.id,
            name: m.name,
            unit: m.unit.as_str(),
            definition: m.definition,
        })
        .collect();
    // `ALL` first, then the groups with a value here, largest first.
    let present: std::collections::BTreeSet<&str> = period_rows
        .iter()
        .filter(|r| headers.iter().any(|h| r.metric == h.id))
        .map(|r| r.group.as_str())
        .collect();
    let groups: Vec<&str> = present
        .contains(ALL)
        .then_some(ALL)
        .into_iter()
        .chain(largest.iter().copied().filter(|g| present.contains(g)))
        .collect();
    let cell_rows: std::collections::HashMap<(&str, &str), &MetricRow> = period_rows
        .iter()
        .map(|r| ((r.group.as_str(), r.metric.id()), r))
        .collect();
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|group| Row {
            group: printable(group),
            cells: headers
                .iter()
                .map(|h| match cell_rows.get(&(group, h.id)).copied() {
                    None => Cell {
                        text: "–".to_owned(),
                        n: String::new(),
                        state: "empty",
                        title: "no conversations in this cohort".to_owned(),
                    },
                    Some(r) => {
                        let (state, condition) = judge(input.thresholds, by, r);
                        let (state, title) = match state {
                            Verdict::Unwatched => ("unwatched", "no threshold".to_owned()),
                            Verdict::TooFew => {
                                ("few", "too few conversations for an alert".to_owned())
                            }
                            Verdict::Ok => ("ok", "within thresholds".to_owned()),
                            Verdict::Broken(s) => (
                                s.as_str(),
                                format!(
                                    "{}: {}",
                                    s.as_str(),
                                    condition
                                        .map(|c| c.human(r.metric.info().unit))
                                        .unwrap_or_default()
                                ),
                            ),
                        };
                        Cell {
                            text: human(r.value, r.metric.info().unit),
                            n: format!("n={}", r.n),
                            state,
                            title,
                        }
                    }
                })
                .collect(),
        })
        .collect();
    let folded = rows.split_off(rows.len().min(1 + SHOWN_GROUPS));
    MetricTable {
        id: spec.id,
        title: spec.title,
        dimension: match by {
            Dimension::None => "group".to_owned(),
            other => other.column().to_owned(),
        },
        headers,
        rows,
        folded,
        headline: spec
            .headline
            .map(|set| set_headline(input, set))
            .unwrap_or_default(),
        notes: spec.notes,
    }
}
