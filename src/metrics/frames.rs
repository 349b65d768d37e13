//! What a metric family computes from: the facts table and the facts-layer event frames
//! ([`Events`]), each with the `group` column of the dimension ([`Frames`]), and the helpers
//! every family uses to turn a cohort into long rows and drill-down rows.

use anyhow::Result;
use polars::prelude::*;

use super::aggregate::{self, Agg};
use super::{
    ALL, DRILL_COLUMNS, DRILL_RANK, Dimension, DrillGroup, DrillQuery, MetricsOptions, UNKNOWN,
};
use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts::Facts;

/// The facts-layer frames besides the facts table that some metrics count: window snapshots,
/// template sends and send failures; and the groups of the conversations. Computed once per
/// analysis.
#[derive(Clone)]
pub struct Events {
    /// [`crate::facts::snapshots::window`].
    pub window: LazyFrame,
    /// The periods without a window snapshot ([`crate::period::snapshots_within`]).
    pub quiet: crate::period::QuietPeriods,
    /// The open threads' spans, merged ([`crate::period::Snapshots::spans`]).
    pub spans: crate::period::Spans,
    /// [`crate::facts::sends::template_sends`]; `None` without a templates table, or when the
    /// selection has no governance check.
    pub sends: Option<LazyFrame>,
    /// [`crate::facts::sends::send_failures`]; `None` without a send_failures table.
    pub failures: Option<LazyFrame>,
    /// Whether the data has a handoffs table: without one the brief metrics have no rows (not
    /// 0 %).
    pub has_briefs: bool,
    /// The calls at as_of ([`crate::facts::calls`]); `None` without a calls table.
    pub calls: Option<LazyFrame>,
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
        let (window, quiet, spans) = crate::facts::snapshots::window(
            facts,
            options.period,
            options.zone,
            (options.by == Dimension::Owner).then_some(config),
        )?;
        Ok(Events {
            window: window.cache(),
            quiet,
            spans,
            // Read only when a governance check counts them (the report's selection has them).
            sends: match options.select.includes(super::MetricSet::Governance) {
                true => sends::template_sends(data, config, facts.as_of)?,
                false => None,
            },
            failures: sends::send_failures(data, facts.as_of, &facts.customer_messages)?,
            has_briefs: data.has(crate::ingest::schema::Table::Handoffs),
            calls: facts.calls.clone().map(DataFrame::lazy),
            groups: group_ids(facts, options.by)?,
        })
    }

    /// The same frames with the conversations grouped by another dimension, for metrics that
    /// read neither the window snapshots nor the update intervals by that dimension (the
    /// report's bot outcomes by segment, channel and intent).
    pub fn regrouped(&self, facts: &Facts, by: Dimension) -> Result<Events> {
        Ok(Events {
            groups: group_ids(facts, by)?,
            ..self.clone()
        })
    }
}

/// The conversations' group ids under `by`; `None` without a dimension.
fn group_ids(facts: &Facts, by: Dimension) -> Result<Option<std::sync::Arc<aggregate::GroupIds>>> {
    Ok(match by {
        Dimension::None => None,
        by => Some(std::sync::Arc::new(aggregate::GroupIds::of(
            &facts.frame,
            by.fact_column(),
        )?)),
    })
}

/// What an event frame takes from its conversation (facts with their `group`): its group
/// and drill-down columns.
fn conversation_columns(facts: &LazyFrame) -> LazyFrame {
    facts.clone().select([
        col("key"),
        col("group"),
        col("conversation_id"),
        col("lane"),
        col("owner"),
        col("opened_at"),
        col("closed_at"),
        col("last_customer_at"),
    ])
}

/// What a family computes from: the facts table and the facts-layer event frames, nothing
/// else. Every frame has the `group` column of the dimension; event frames (entries, sends,
/// failures) take their conversation's group and drill-down columns.
#[derive(Clone)]
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
    /// The calls at as_of (`at` = placed), when the data has a calls table.
    pub calls: Option<LazyFrame>,
    /// Whether the facts have the cost columns (some message has a `billable` value).
    pub pricing: bool,
    /// The settled update promises (`at` = settled, `interval_lane`, `interval_assignee`,
    /// `breach`, `overshoot_s`); `None` without `[sla]`. Their rows and drill-down take their
    /// group from [`Frames::interval_rows`] and [`Frames::interval_events`].
    pub sla_intervals: Option<LazyFrame>,
    /// The text facts' frames, when the governance facts were computed.
    pub text: Option<TextFrames>,
    /// The group of every conversation, numbered once ([`aggregate::GroupIds`]).
    groups: Option<std::sync::Arc<aggregate::GroupIds>>,
    /// Metric rows, or partial states to merge with other partitions' ([`Frames::partial`]).
    output: aggregate::Output,
    pub as_of: i64,
    pub options: MetricsOptions,
    pub config: &'a Config,
}

/// The text facts as the text metrics read them, each with its conversation's group and
/// drill-down columns and an instant `at`.
#[derive(Clone)]
pub struct TextFrames {
    /// Whether any message has text.
    pub has_text: bool,
    /// `text_entries` with the drill-down columns, `at` = the entry.
    pub entries: LazyFrame,
    /// The business items, `at` = their time.
    pub items: LazyFrame,
    /// Conversations with customer text, `at` = `opened_at`, with `exposure_findings` and
    /// `exposure_masked`.
    pub exposed: LazyFrame,
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
        // A frame's group: its lane and owner columns (the snapshots have their own).
        let group = |lane: &str, owner: &str| {
            match options.by {
                Dimension::None => lit(ALL),
                Dimension::Lane => col(lane),
                Dimension::Segment => col("segment"),
                Dimension::Channel => col("channel"),
                Dimension::Intent => col("intent"),
                Dimension::Owner => col(owner),
            }
            .fill_null(lit(UNKNOWN))
            .alias("group")
        };
        let facts_frame = facts
            .frame
            .clone()
            .lazy()
            .with_column(group("lane", "owner_group"));
        let conversation = conversation_columns(&facts_frame);
        let with_conversation = |events: LazyFrame| {
            events.join(
                conversation.clone(),
                [col("key")],
                [col("key")],
                JoinArgs::new(JoinType::Inner),
            )
        };
        let text = facts.text.as_ref().map(|t| {
            let exposed = facts_frame.clone().join(
                t.conversations.clone().lazy().select([
                    col("key"),
                    col("exposure_findings"),
                    col("exposure_masked"),
                ]),
                [col("key")],
                [col("key")],
                JoinArgs::new(JoinType::Inner),
            );
            TextFrames {
                has_text: t.has_text,
                entries: with_conversation(
                    t.entries
                        .clone()
                        .lazy()
                        .with_column(col("entry_at").alias("at")),
                ),
                items: with_conversation(t.items.clone().lazy()),
                exposed: if t.has_text {
                    exposed
                        .filter(col("text_customer_messages").gt(lit(0u32)))
                        .with_column(col("opened_at").alias("at"))
                } else {
                    exposed.filter(lit(false))
                },
            }
        });
        Frames {
            text,
            groups: events.groups.clone(),
            window: events
                .window
                .clone()
                .with_column(group("lane_at_snapshot", "owner_at_snapshot")),
            entries: with_conversation(
                facts
                    .entries
                    .clone()
                    .lazy()
                    .with_column(col("entry_at").alias("at")),
            ),
            sends: events.sends.clone().map(with_conversation),
            failures: events.failures.clone().map(with_conversation),
            calls: events.calls.clone().map(with_conversation),
            pricing: facts.cost.is_some(),
            sla_intervals: facts.sla_intervals.clone().map(|intervals| {
                intervals.lazy().select([
                    col("key"),
                    col("settled_at").alias("at"),
                    col("lane").alias("interval_lane"),
                    col("assignee_id").alias("interval_assignee"),
                    col("breach"),
                    col("overshoot_s"),
                ])
            }),
            has_briefs: events.has_briefs,
            facts: facts_frame,
            output: aggregate::Output::Values,
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

    /// Whether the instant `instant_ms` is in the period starting on `start`: the rows whose
    /// [`Self::period_start`] is `start`, found by two comparisons instead of a local date per
    /// row ([`crate::period::Period::window_ms`]).
    fn in_period(&self, instant_ms: Expr, start: chrono::NaiveDate) -> Expr {
        let (from, to) = self.options.period.window_ms(start, self.options.zone);
        instant_ms
            .clone()
            .gt_eq(lit(from))
            .and(instant_ms.lt(lit(to)))
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
        let mut frame = self
            .facts
            .clone()
            .filter(cohort)
            .filter(self.in_period(time, q.period_start).and(culprit));
        if let Some(group) = q.only_group() {
            frame = frame.filter(col("group").eq(lit(group.to_owned())));
        }
        let silent = crate::facts::hours_silent(lit(self.as_of));
        let rank = if ascending {
            -col("worst").cast(DataType::Float64)
        } else {
            col("worst").cast(DataType::Float64)
        };
        frame
            .with_columns([
                worst.alias("worst"),
                silent.alias("hours_silent"),
                lit(NULL).cast(DataType::String).alias("detail"),
            ])
            .with_column(rank.alias(DRILL_RANK))
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
        let mut frame = events.filter(self.in_period(col("at"), q.period_start).and(culprit));
        if let Some(group) = q.only_group() {
            frame = frame.filter(col("group").eq(lit(group.to_owned())));
        }
        // One row per conversation, or per group and conversation for each group apart.
        let by: &[&str] = match q.group {
            DrillGroup::Each => &["group", "key"],
            DrillGroup::One(_) => &["key"],
        };
        let firsts: Vec<Expr> = DRILL_COLUMNS
            .iter()
            .filter(|c| !by.contains(*c))
            .map(|c| col(*c).first())
            .collect();
        frame
            .with_columns([
                worst.alias("worst"),
                detail.alias("detail"),
                crate::facts::hours_silent(lit(self.as_of)).alias("hours_silent"),
            ])
            .with_column(col("worst").cast(DataType::Float64).alias(DRILL_RANK))
            .sort_by_exprs(
                [col("worst"), col("key")],
                SortMultipleOptions::default()
                    .with_order_descending_multi([true, false])
                    .with_nulls_last(true),
            )
            .group_by_stable(by.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .agg(firsts)
            .select(DRILL_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
    }

    /// The same frames, summing up into partial states ([`aggregate::Output::Partial`]).
    pub fn partial(self) -> Frames<'a> {
        Frames {
            output: aggregate::Output::Partial,
            ..self
        }
    }

    /// [`aggregate::aggregate`] in this context's dimension and output.
    pub fn aggregate(
        &self,
        base: LazyFrame,
        known: Option<std::sync::Arc<aggregate::GroupIds>>,
        values: Vec<(&'static str, Agg)>,
    ) -> LazyFrame {
        aggregate::aggregate_as(base, self.options.by, known, values, self.output)
    }

    /// Long rows for events whose `group` column is their own (not their conversation's),
    /// each placed in a period by its `at`.
    pub fn named_rows(&self, events: LazyFrame, values: Vec<(&'static str, Agg)>) -> LazyFrame {
        let base = events.with_column(self.period_start(col("at")).alias("period_start"));
        self.aggregate(base, None, values)
    }

    /// The group of an update interval that is its own, not its conversation's: its lane
    /// (`--by lane`) or its assignee (`--by owner`).
    fn interval_group(&self) -> Option<Expr> {
        match self.options.by {
            // No dimension: every interval is in `ALL`, as every conversation.
            Dimension::None => Some(lit(ALL)),
            // Categories in the facts ([`crate::facts::sla::compute`]): text as a group.
            Dimension::Lane => Some(col("interval_lane").cast(DataType::String)),
            // `ALL` is reserved: an assignee of that name counts as nobody named.
            Dimension::Owner => {
                let assignee = col("interval_assignee").cast(DataType::String);
                Some(
                    when(assignee.clone().eq(lit(ALL)))
                        .then(lit(crate::facts::outcomes::UNOWNED))
                        .otherwise(assignee),
                )
            }
            _ => None,
        }
    }

    /// Long rows of update intervals ([`Frames::sla_intervals`]), each in the group of
    /// [`Frames::interval_group`], else its conversation's, and in the period of its `at`.
    pub fn interval_rows(
        &self,
        intervals: LazyFrame,
        values: Vec<(&'static str, Agg)>,
    ) -> LazyFrame {
        match self.interval_group() {
            Some(group) => self.named_rows(intervals.with_column(group.alias("group")), values),
            None => self.event_rows(intervals, values),
        }
    }

    /// Update intervals with their conversation's drill-down columns and their group, for
    /// [`Frames::event_drill`].
    pub fn interval_events(&self, intervals: LazyFrame) -> LazyFrame {
        let joined = intervals.join(
            conversation_columns(&self.facts),
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        );
        match self.interval_group() {
            Some(group) => joined.with_column(group.alias("group")),
            None => joined,
        }
    }

    /// Long rows for events (entries, sends, failures), each placed in a period by its `at`.
    pub fn event_rows(&self, events: LazyFrame, values: Vec<(&'static str, Agg)>) -> LazyFrame {
        let base = events.with_column(self.period_start(col("at")).alias("period_start"));
        self.aggregate(base, self.groups.clone(), values)
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
        self.aggregate(base, self.groups.clone(), values)
    }
}
