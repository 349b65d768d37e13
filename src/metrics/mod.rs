//! The ten L2 metrics, computed from the facts table per period and group.
//!
//! One file per metric family; [`REGISTRY`] is the one list of them, and drives `--list`, the
//! docs and the report. Every family turns the facts into long rows
//! `period_start, group, metric, value, n` for each group of the chosen dimension and for all
//! groups together (`ALL`). A group whose cohort is empty has no row.

mod aggregate;
mod art_bh;
mod bot_outcomes;
mod bot_trap;
mod brief_missing;
mod calls;
mod compute;
mod context;
mod cost;
pub mod docs;
mod drill;
mod duplicates;
mod escalation;
mod exact_sum;
mod exposure;
mod frames;
mod frt;
mod frt_bh;
mod human_frt;
mod identity;
mod misroute;
mod missed_handoff;
mod ownerless;
mod ping_pong;
mod reopen;
mod repetition;
mod resolution_time;
mod silent_stall;
pub(crate) mod sla;
mod specialist_rate;
mod template_sends;
mod transfers;
mod tts;
mod tts_bh;
mod window_risk;
mod window_violations;

use anyhow::{Context as _, Result};
use polars::prelude::*;

pub use crate::config::Condition;
use crate::config::thresholds::DEFAULT_MIN_N;
pub use crate::config::{ALL, UNKNOWN};
use crate::config::{Config, Rule, Thresholds};
use crate::dataset::Dataset;
pub use crate::ingest::schema::Table;
pub use crate::period::{self, Period, Zone};
pub use crate::units::{Unit, human};
pub use aggregate::{Agg, aggregate, mean, median, p90, ratio, share, sum};
pub use compute::{
    compute, compute_partial, computed, facts_needed, merge, sorted, split_quantiles,
};
pub use drill::{DRILL_COLUMNS, DRILL_RANK, DrillGroup, DrillQuery, empty_drill};
pub use exact_sum::ExactSum;
pub use frames::{Events, Frames};
pub use window_violations::OUTSIDE_WINDOW;

/// Everything about one metric id: what a person calls it, what it means, its default alert
/// thresholds and how the SQL export computes it. The registry holds one per id; `--list`, the
/// docs tables, the report, the alerts and `l2lens sql` all read it from here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    pub id: &'static str,
    /// The metric's name for people ("First response (median)"): titles in the report, the
    /// board and emails.
    pub name: &'static str,
    pub definition: &'static str,
    pub cohort: &'static str,
    pub unit: Unit,
    /// The default thresholds (the spec's alert table); `[alerts]` in the config overrides them.
    pub alert: Alert,
    /// The metric in SQL, for `l2lens sql`.
    pub sql: Sql,
}

/// A metric's default alert thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alert {
    pub warning: Option<Condition>,
    pub critical: Option<Condition>,
    /// Whether the thresholds apply to the `ALL` group only (the escalation band).
    pub all_only: bool,
    /// Lanes with thresholds of their own: `(lane, warning, critical)`.
    pub lanes: &'static [(&'static str, Option<Condition>, Option<Condition>)],
}

impl Alert {
    /// No default threshold: the metric alerts only when the config gives it one.
    pub const NONE: Alert = Alert::new(None, None);

    pub const fn new(warning: Option<Condition>, critical: Option<Condition>) -> Alert {
        Alert {
            warning,
            critical,
            all_only: false,
            lanes: &[],
        }
    }
}

/// How `l2lens sql` computes a metric: an aggregate over the rows of one of the export's
/// tables (the facts, or a table its family adds in [`Family::sql_tables`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sql {
    Rows {
        /// The table (a CTE of the export) whose rows are the cohort; every such table has the
        /// conversation's `lane`, `segment`, `channel` and `intent`.
        from: &'static str,
        /// Which rows are in the cohort (a SQL condition).
        filter: &'static str,
        /// What places a row in a period.
        time: SqlTime,
        value: SqlValue,
    },
    /// Not in the export; the reason is printed in the SQL's header and by `l2lens sql`.
    NotExported(&'static str),
}

/// What places a row of a SQL cohort in a period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlTime {
    /// An instant column (UTC milliseconds): its local date's period.
    Instant(&'static str),
    /// The table's own `period_start` column (the window snapshots).
    Period,
}

/// A SQL aggregate over a cohort's rows; the expressions may use the export's placeholders
/// (`{RISK_MS}`, `{EXPIRED_MS}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlValue {
    Median(&'static str),
    P90(&'static str),
    Mean(&'static str),
    /// The share of rows for which a condition holds.
    Share(&'static str),
    /// The sum of a numeric expression (counts are sums of 1E0/0E0).
    Sum(&'static str),
    /// The sum of the first expression over the sum of the second; no row when the second
    /// sums to 0.
    Ratio(&'static str, &'static str),
}

/// A family of metrics sharing a cohort (e.g. the FRT median and p90): how to compute it, and
/// which conversations are behind a value that broke a threshold.
pub struct Family {
    pub set: MetricSet,
    pub metrics: &'static [MetricInfo],
    /// The optional input tables without which the family has no rows (not zeros).
    pub needs: &'static [Table],
    /// The SQL tables the family's SQL reads: pieces of CTEs (comma-separated, after the facts)
    /// with the export's placeholders, each added to a script once however many families read
    /// it; none when it reads only the facts.
    pub sql_tables: &'static [&'static str],
    pub rows: fn(&Frames<'_>) -> Result<LazyFrame>,
    /// The conversations behind one (period, group, metric) value, worst first, with the
    /// columns of [`DRILL_COLUMNS`].
    pub drill: fn(&Frames<'_>, &DrillQuery) -> Result<LazyFrame>,
}

/// Which set a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSet {
    /// The ten L2 metrics (metrics.md).
    Core,
    /// The governance checks G1–G8 (governance.md).
    Governance,
    /// Business-time twins of FRT, TTS and resolution time (business-hours.md); computed only
    /// when the configuration has `[business_hours]`.
    BusinessTime,
    /// Whether the context survived the handoff, and card numbers in the chat (text.md):
    /// read from the findings of message text.
    Text,
    /// Calls in the thread, customers known only by a business-scoped id, and what messages
    /// cost (whatsapp-2026.md).
    WhatsApp,
    /// What the bot really resolved (outcomes-sla.md A).
    Outcomes,
    /// SLA attainment (outcomes-sla.md B); computed only when the configuration has `[sla]`.
    Sla,
}

impl MetricSet {
    /// Every set, in the order of the docs and the report.
    pub const ALL: [MetricSet; 7] = [
        MetricSet::Core,
        MetricSet::BusinessTime,
        MetricSet::Governance,
        MetricSet::Text,
        MetricSet::WhatsApp,
        MetricSet::Outcomes,
        MetricSet::Sla,
    ];

    /// Whether the metrics of this set exist under `config`.
    pub fn available(self, config: &Config) -> bool {
        match self {
            MetricSet::BusinessTime => config.business_hours.is_some(),
            MetricSet::Sla => config.sla.is_some(),
            _ => true,
        }
    }
}

/// Which metrics a run computes. `l2lens metrics` prints the ten by default; the report, the
/// alerts and SQL always have every metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    Core,
    Governance,
    Text,
    WhatsApp,
    Outcomes,
    Sla,
    All,
}

impl Selection {
    pub fn includes(self, set: MetricSet) -> bool {
        match self {
            Selection::All => true,
            Selection::Core => matches!(set, MetricSet::Core | MetricSet::BusinessTime),
            Selection::Governance => set == MetricSet::Governance,
            Selection::Text => set == MetricSet::Text,
            Selection::WhatsApp => set == MetricSet::WhatsApp,
            Selection::Outcomes => set == MetricSet::Outcomes,
            Selection::Sla => set == MetricSet::Sla,
        }
    }
}

pub fn family_of(metric: &str) -> Option<&'static Family> {
    REGISTRY
        .iter()
        .find(|f| f.metrics.iter().any(|m| m.id == metric))
}

/// The registry: every metric, in the spec's order.
pub const REGISTRY: &[Family] = &[
    frt::FAMILY,
    tts::FAMILY,
    window_risk::FAMILY,
    escalation::FAMILY,
    bot_trap::FAMILY,
    misroute::FAMILY,
    transfers::FAMILY,
    resolution_time::FAMILY,
    reopen::FAMILY,
    context::FAMILY,
    specialist_rate::FAMILY,
    human_frt::FAMILY,
    frt_bh::FAMILY,
    tts_bh::FAMILY,
    art_bh::FAMILY,
    duplicates::FAMILY,
    ownerless::FAMILY,
    ping_pong::FAMILY,
    missed_handoff::FAMILY,
    template_sends::FAMILY,
    silent_stall::FAMILY,
    brief_missing::FAMILY,
    window_violations::FAMILY,
    repetition::FAMILY,
    exposure::FAMILY,
    calls::FAMILY,
    identity::FAMILY,
    cost::FAMILY,
    bot_outcomes::FAMILY,
    sla::FAMILY,
];

/// For each family that needs an input table the data lacks, one sentence: its ids and what
/// is missing ("brief_missing_rate: no handoff briefs in the data (no handoffs table)").
pub fn missing_inputs(data: &Dataset) -> Vec<(MetricSet, String)> {
    let mut out = Vec::new();
    for family in REGISTRY {
        for &table in family.needs.iter().filter(|&&t| !data.has(t)) {
            let ids: Vec<&str> = family.metrics.iter().map(|m| m.id).collect();
            let what = match table {
                Table::Handoffs => "no handoff briefs in the data",
                Table::Templates => "no template status history in the data",
                Table::SendFailures => "no send failures in the data",
                Table::Calls => "no calls in the data",
                _ => "a table it needs is missing",
            };
            out.push((
                family.set,
                format!("{}: {what} (no {} table)", ids.join(", "), table.name()),
            ));
        }
    }
    out
}

/// The default alert rules, as each registry entry states them (the spec's alert table).
pub fn default_thresholds() -> Thresholds {
    let rule = |warning, critical, all_only: bool| Rule {
        warning,
        critical,
        min_n: DEFAULT_MIN_N,
        groups: all_only.then(|| vec![ALL.to_owned()]),
    };
    let mut t = Thresholds::default();
    for m in all_metrics() {
        let a = m.alert;
        if a.warning.is_some() || a.critical.is_some() {
            t.metrics
                .insert(m.id.to_owned(), rule(a.warning, a.critical, a.all_only));
        }
        for &(lane, warning, critical) in a.lanes {
            t.lanes
                .entry(lane.to_owned())
                .or_default()
                .insert(m.id.to_owned(), rule(warning, critical, false));
        }
    }
    t
}

/// The alert rules of a run: the registry's defaults with the config's `[alerts]` applied.
pub fn thresholds(config: &Config) -> Result<Thresholds> {
    config
        .alerts
        .resolve(default_thresholds())
        .with_context(|| match &config.source {
            Some(path) => format!("in config file {}", path.display()),
            None => "in the alert thresholds".to_owned(),
        })
}

pub fn all_metrics() -> impl Iterator<Item = &'static MetricInfo> {
    REGISTRY.iter().flat_map(|f| f.metrics.iter())
}

pub fn find(id: &str) -> Option<&'static MetricInfo> {
    all_metrics().find(|m| m.id == id)
}

/// A metric of the registry, as rows and alerts name it: compared, ordered and written by its
/// id, which is only turned into text at the edges (CSV, JSON, HTML).
#[derive(Clone, Copy)]
pub struct MetricRef(&'static MetricInfo);

impl MetricRef {
    /// The registry's metric with this id; an error naming the known ids otherwise.
    pub fn parse(id: &str) -> anyhow::Result<MetricRef> {
        find(id).map(MetricRef).ok_or_else(|| {
            let known: Vec<&str> = all_metrics().map(|m| m.id).collect();
            anyhow::anyhow!("unknown metric `{id}`; known metrics: {}", known.join(", "))
        })
    }

    pub fn id(self) -> &'static str {
        self.0.id
    }

    pub fn info(self) -> &'static MetricInfo {
        self.0
    }
}

impl From<&'static MetricInfo> for MetricRef {
    fn from(info: &'static MetricInfo) -> MetricRef {
        MetricRef(info)
    }
}

impl PartialEq for MetricRef {
    fn eq(&self, other: &MetricRef) -> bool {
        self.id() == other.id()
    }
}

impl Eq for MetricRef {}

impl PartialOrd for MetricRef {
    fn partial_cmp(&self, other: &MetricRef) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MetricRef {
    fn cmp(&self, other: &MetricRef) -> std::cmp::Ordering {
        self.id().cmp(other.id())
    }
}

impl std::hash::Hash for MetricRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl std::fmt::Debug for MetricRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl std::fmt::Display for MetricRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl PartialEq<str> for MetricRef {
    fn eq(&self, other: &str) -> bool {
        self.id() == other
    }
}

impl PartialEq<&str> for MetricRef {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

impl serde::Serialize for MetricRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// The grouping dimension of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dimension {
    #[default]
    Lane,
    Segment,
    Channel,
    Intent,
    /// The owner group (outcomes-sla.md C): the last person who held the conversation, `bot`
    /// or `unowned`.
    Owner,
    None,
}

impl Dimension {
    /// The name of the group column in the output.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Lane => "lane",
            Dimension::Segment => "segment",
            Dimension::Channel => "channel",
            Dimension::Intent => "intent",
            Dimension::Owner => "owner",
            Dimension::None => "group",
        }
    }

    /// The facts column that holds a conversation's group.
    pub fn fact_column(self) -> &'static str {
        match self {
            Dimension::Owner => "owner_group",
            other => other.column(),
        }
    }
}

impl std::fmt::Display for Dimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.column())
    }
}

impl serde::Serialize for Dimension {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.column())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct MetricsOptions {
    pub period: Period,
    pub zone: Zone,
    pub by: Dimension,
    pub select: Selection,
}

/// One row of the metrics' long format.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub period_start: chrono::NaiveDate,
    pub group: String,
    pub metric: MetricRef,
    pub value: f64,
    pub n: u64,
}

/// Reads the long metric rows (`period_start`, group column, `metric`, `value`, `n`).
pub fn read_rows(frame: &DataFrame) -> anyhow::Result<Vec<MetricRow>> {
    let names = frame.get_column_names();
    let group_name = names
        .get(1)
        .ok_or_else(|| anyhow::anyhow!("metric rows need a group column"))?
        .to_string();
    let days = frame.column("period_start")?.cast(&DataType::Int32)?;
    let days = days.i32()?;
    let groups = frame.column(&group_name)?.str()?;
    let metrics = frame.column("metric")?.str()?;
    let values = frame.column("value")?.f64()?;
    let ns = frame.column("n")?.u64()?;
    (0..frame.height())
        .map(|i| {
            Ok(MetricRow {
                period_start: epoch()
                    + chrono::TimeDelta::days(i64::from(days.get(i).unwrap_or(0))),
                group: groups.get(i).unwrap_or_default().to_owned(),
                metric: MetricRef::parse(metrics.get(i).unwrap_or_default())?,
                value: values.get(i).unwrap_or(f64::NAN),
                n: ns.get(i).unwrap_or(0),
            })
        })
        .collect()
}

pub use crate::time::epoch_date as epoch;

/// No rows, with the schema of metric rows (before the group column is renamed).
pub fn empty_rows() -> LazyFrame {
    let frame = df!(
        "period_start" => Vec::<i32>::new(),
        "group" => Vec::<String>::new(),
        "metric" => Vec::<String>::new(),
        "value" => Vec::<f64>::new(),
        "n" => Vec::<u64>::new(),
    )
    .expect("a fixed schema");
    frame
        .lazy()
        .with_column(col("period_start").cast(DataType::Date))
}

#[cfg(test)]
#[path = "tests.rs"]
mod rule_tests;
