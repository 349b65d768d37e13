//! The ten L2 metrics, computed from the facts table per period and group.
//!
//! One file per metric family; [`REGISTRY`] is the one list of them, and drives `--list`, the
//! docs and the report. Every family turns the facts into long rows
//! `period_start, group, metric, value, n` for each group of the chosen dimension and for all
//! groups together (`ALL`). A group whose cohort is empty has no row.

mod aggregate;
mod art_bh;
mod bot_trap;
mod brief_missing;
mod context;
pub mod docs;
mod duplicates;
mod escalation;
mod frt;
mod frt_bh;
mod human_frt;
mod misroute;
mod missed_handoff;
mod ownerless;
mod ping_pong;
mod reopen;
mod resolution_time;
mod silent_stall;
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
use crate::facts::Facts;
pub use crate::ingest::schema::Table;
pub use crate::period::{self, Period, Zone};
pub use crate::units::{Unit, human};
pub use aggregate::{Agg, aggregate, mean, median, p90, share, sum};
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
}

/// A family of metrics sharing a cohort (e.g. the FRT median and p90): how to compute it, and
/// which conversations are behind a value that broke a threshold.
pub struct Family {
    pub set: MetricSet,
    pub metrics: &'static [MetricInfo],
    /// The optional input tables without which the family has no rows (not zeros).
    pub needs: &'static [Table],
    /// The SQL tables (CTEs, comma-separated, after the facts) the family's SQL reads, with the
    /// export's placeholders; empty when it reads only the facts.
    pub sql_tables: &'static str,
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
}

impl MetricSet {
    /// Whether the metrics of this set exist under `config`.
    pub fn available(self, config: &Config) -> bool {
        self != MetricSet::BusinessTime || config.business_hours.is_some()
    }
}

/// Which metrics a run computes. `l2lens metrics` prints the ten by default; the report, the
/// alerts and SQL always have every metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    Core,
    Governance,
    All,
}

impl Selection {
    pub fn includes(self, set: MetricSet) -> bool {
        match self {
            Selection::All => true,
            Selection::Core => matches!(set, MetricSet::Core | MetricSet::BusinessTime),
            Selection::Governance => set == MetricSet::Governance,
        }
    }
}

/// Which value to explain.
#[derive(Debug, Clone)]
pub struct DrillQuery {
    pub metric: String,
    pub period_start: chrono::NaiveDate,
    pub group: String,
    pub value: f64,
    /// The broken condition, when there is one (the escalation band looks at its side).
    pub condition: Option<crate::config::Condition>,
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
];

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

/// The grouping dimension of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dimension {
    #[default]
    Lane,
    Segment,
    Channel,
    Intent,
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
            Dimension::None => "group",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct MetricsOptions {
    pub period: Period,
    pub zone: Zone,
    pub by: Dimension,
    pub select: Selection,
}

/// The facts-layer frames besides the facts table that some metrics count: window snapshots,
/// template sends and send failures; and the groups of the conversations. Computed once per
/// analysis.
#[derive(Clone)]
pub struct Events {
    /// [`crate::facts::snapshots::window`].
    pub window: LazyFrame,
    /// [`crate::facts::sends::template_sends`]; `None` without a templates table.
    pub sends: Option<LazyFrame>,
    /// [`crate::facts::sends::send_failures`]; `None` without a send_failures table.
    pub failures: Option<LazyFrame>,
    /// Whether the data has a handoffs table: without one the brief metrics have no rows (not
    /// 0 %).
    pub has_briefs: bool,
    /// The group of every conversation under the dimension, numbered once
    /// ([`aggregate::GroupIds`]); `None` without a dimension.
    groups: Option<std::sync::Arc<aggregate::GroupIds>>,
}

impl Events {
    pub fn build(
        data: &Dataset,
        facts: &Facts,
        config: &Config,
        options: MetricsOptions,
    ) -> Result<Events> {
        use crate::facts::sends;
        Ok(Events {
            window: crate::facts::snapshots::window(facts, options.period, options.zone)?.cache(),
            sends: sends::template_sends(data, config, facts.as_of)?.map(LazyFrame::cache),
            failures: sends::send_failures(data, facts.as_of)?,
            has_briefs: data.has(crate::ingest::schema::Table::Handoffs),
            groups: match options.by {
                Dimension::None => None,
                by => Some(std::sync::Arc::new(aggregate::GroupIds::of(
                    &facts.frame,
                    by.column(),
                )?)),
            },
        })
    }
}

/// What a family computes from: the facts table and the facts-layer event frames, nothing
/// else. Every frame has the `group` column of the dimension; event frames (entries, sends,
/// failures) take their conversation's group and drill-down columns.
pub struct Frames<'a> {
    /// The facts (instants as Int64 ms) with a `group` column for the dimension.
    pub facts: LazyFrame,
    /// The window snapshots with a `group` column; for lanes, the lane at the snapshot.
    pub window: LazyFrame,
    /// The specialist entries (`entry_at`, `entry_lane`, `brief`).
    pub entries: LazyFrame,
    /// Template sends (`at`, `template_name`, `status`, `blocked`), when the data has a
    /// template status history.
    pub sends: Option<LazyFrame>,
    /// Send failures (`at`, `error_code`), when the data has them.
    pub failures: Option<LazyFrame>,
    /// Whether the data has handoff briefs at all.
    pub has_briefs: bool,
    /// The group of every conversation, numbered once ([`aggregate::GroupIds`]).
    groups: Option<std::sync::Arc<aggregate::GroupIds>>,
    pub as_of: i64,
    pub options: MetricsOptions,
    pub config: &'a Config,
}

impl<'a> Frames<'a> {
    /// The context of computing metrics from `facts` and its `events`: every frame gains the
    /// `group` column of the dimension (a missing value is the group `unknown`; with no
    /// dimension, `ALL`).
    pub fn new(
        facts: &Facts,
        events: &Events,
        config: &'a Config,
        options: MetricsOptions,
    ) -> Frames<'a> {
        let group = |lane: &str| {
            match options.by {
                Dimension::None => lit(ALL),
                Dimension::Lane => col(lane),
                Dimension::Segment => col("segment"),
                Dimension::Channel => col("channel"),
                Dimension::Intent => col("intent"),
            }
            .fill_null(lit(UNKNOWN))
            .alias("group")
        };
        let facts_frame = facts.frame.clone().lazy().with_column(group("lane"));
        // What an event frame takes from its conversation: its group and drill-down columns.
        let conversation = facts_frame.clone().select([
            col("key"),
            col("group"),
            col("conversation_id"),
            col("lane"),
            col("owner"),
            col("opened_at"),
            col("closed_at"),
            col("last_customer_at"),
        ]);
        let with_conversation = |events: LazyFrame| {
            events.join(
                conversation.clone(),
                [col("key")],
                [col("key")],
                JoinArgs::new(JoinType::Inner),
            )
        };
        Frames {
            groups: events.groups.clone(),
            window: events.window.clone().with_column(group("lane_at_snapshot")),
            entries: with_conversation(
                facts
                    .entries
                    .clone()
                    .lazy()
                    .with_column(col("entry_at").alias("at")),
            ),
            sends: events.sends.clone().map(with_conversation),
            failures: events.failures.clone().map(with_conversation),
            has_briefs: events.has_briefs,
            facts: facts_frame,
            as_of: facts.as_of,
            options,
            config,
        }
    }

    /// The context for `facts` read from `data`: computes the event frames first.
    pub fn build(
        facts: &Facts,
        data: &Dataset,
        config: &'a Config,
        options: MetricsOptions,
    ) -> Result<Frames<'a>> {
        let events = Events::build(data, facts, config, options)?;
        Ok(Frames::new(facts, &events, config, options))
    }

    pub fn period_start(&self, instant_ms: Expr) -> Expr {
        self.options
            .period
            .start_expr(instant_ms, self.options.zone)
    }

    /// The conversations of a cohort in one period and group that match `culprit`, ordered
    /// by `worst` (descending unless `ascending`), as drill-down rows. Hours silent are
    /// counted at `as_of` for conversations still open.
    pub fn drill_rows(
        &self,
        q: &DrillQuery,
        cohort: Expr,
        time: Expr,
        culprit: Expr,
        worst: Expr,
        ascending: bool,
    ) -> LazyFrame {
        let days = (q.period_start - epoch()).num_days() as i32;
        let mut frame = self.facts.clone().filter(cohort).filter(
            self.period_start(time)
                .eq(lit(days).cast(DataType::Date))
                .and(culprit),
        );
        if q.group != ALL {
            frame = frame.filter(col("group").eq(lit(q.group.clone())));
        }
        let silent = crate::facts::hours_silent(lit(self.as_of));
        frame
            .with_columns([
                worst.alias("worst"),
                silent.alias("hours_silent"),
                lit(NULL).cast(DataType::String).alias("detail"),
            ])
            .sort_by_exprs(
                [col("worst"), col("key")],
                SortMultipleOptions::default()
                    .with_order_descending_multi([!ascending, false])
                    .with_nulls_last(true),
            )
            .select(DRILL_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
    }

    /// Drill-down rows of an event frame (entries, sends, failures: one row per event with its
    /// conversation's columns and its instant `at`): the events of the period and group that
    /// match `culprit`, one row per conversation, ordered by `worst` descending.
    pub fn event_drill(
        &self,
        events: LazyFrame,
        q: &DrillQuery,
        culprit: Expr,
        worst: Expr,
        detail: Expr,
    ) -> LazyFrame {
        let days = (q.period_start - epoch()).num_days() as i32;
        let mut frame = events.filter(
            self.period_start(col("at"))
                .eq(lit(days).cast(DataType::Date))
                .and(culprit),
        );
        if q.group != ALL {
            frame = frame.filter(col("group").eq(lit(q.group.clone())));
        }
        let mut firsts: Vec<Expr> = DRILL_COLUMNS.iter().map(|c| col(*c).first()).collect();
        firsts.push(col("worst").first());
        frame
            .with_columns([
                worst.alias("worst"),
                detail.alias("detail"),
                crate::facts::hours_silent(lit(self.as_of)).alias("hours_silent"),
            ])
            .sort_by_exprs(
                [col("worst"), col("key")],
                SortMultipleOptions::default()
                    .with_order_descending_multi([true, false])
                    .with_nulls_last(true),
            )
            .group_by_stable([col("key")])
            .agg(firsts)
            .select(DRILL_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
    }

    /// Long rows for events (entries, sends, failures), each placed in a period by its `at`.
    pub fn event_rows(&self, events: LazyFrame, values: Vec<(&'static str, Agg)>) -> LazyFrame {
        let base = events.with_column(self.period_start(col("at")).alias("period_start"));
        aggregate(base, self.options.by, self.groups.clone(), values)
    }

    /// Long rows for a cohort: `cohort` selects the conversations, `time` places each in a
    /// period, and each `(metric id, aggregation)` gives one row per period and group.
    pub fn cohort_rows(
        &self,
        cohort: Expr,
        time: Expr,
        values: Vec<(&'static str, Agg)>,
    ) -> LazyFrame {
        let base = self
            .facts
            .clone()
            .filter(cohort)
            .with_column(self.period_start(time).alias("period_start"));
        aggregate(base, self.options.by, self.groups.clone(), values)
    }
}

/// One row of the metrics' long format.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub period_start: chrono::NaiveDate,
    pub group: String,
    pub metric: String,
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
    Ok((0..frame.height())
        .map(|i| MetricRow {
            period_start: epoch() + chrono::TimeDelta::days(i64::from(days.get(i).unwrap_or(0))),
            group: groups.get(i).unwrap_or_default().to_owned(),
            metric: metrics.get(i).unwrap_or_default().to_owned(),
            value: values.get(i).unwrap_or(f64::NAN),
            n: ns.get(i).unwrap_or(0),
        })
        .collect())
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

/// No drill-down rows, with the schema of [`DRILL_COLUMNS`].
pub fn empty_drill() -> LazyFrame {
    df!(
        "conversation_id" => Vec::<String>::new(),
        "lane" => Vec::<String>::new(),
        "owner" => Vec::<String>::new(),
        "hours_silent" => Vec::<f64>::new(),
        "opened_at" => Vec::<i64>::new(),
        "detail" => Vec::<String>::new(),
    )
    .expect("a fixed schema")
    .lazy()
}

/// Computes every metric: long rows `period_start (Date), group, metric, value, n`, sorted by
/// period, group and metric.
pub fn compute(ctx: &Frames<'_>) -> Result<DataFrame> {
    let options = ctx.options;
    let mut parts = Vec::with_capacity(REGISTRY.len());
    for family in REGISTRY
        .iter()
        .filter(|f| options.select.includes(f.set) && f.set.available(ctx.config))
    {
        parts.push((family.rows)(ctx)?);
    }
    let rows = concat(parts, UnionArgs::default())?
        .sort(
            ["period_start", "group", "metric"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .rename(["group"], [options.by.column()], true)
        .collect()
        .map_err(anyhow::Error::from)
        .context("computing the metrics")?;
    Ok(rows)
}

#[cfg(test)]
#[path = "tests.rs"]
mod rule_tests;
