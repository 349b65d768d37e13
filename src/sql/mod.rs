//! `l2lens sql --dialect duckdb|spark`: the metrics of a selection as one SQL query for another
//! engine, with the configuration inlined (lanes and tiers, trap limit, risk hours, governance
//! limits, as_of, period, time zone, grouping).
//!
//! This module only assembles: the facts table's SQL lives with the facts
//! ([`crate::facts::sql`]), and each metric's SQL in its registry entry ([`MetricInfo::sql`]),
//! with the tables its family adds ([`Family::sql_tables`]). A metric the export cannot compute
//! says why in its entry, and the script's header and `l2lens sql` say so.
//!
//! The query reads tables named `conversations`, `messages`, `assignments`, `handoffs`,
//! `templates` and `send_failures` as `l2lens ingest` writes them (typed timestamps, and
//! `source_row`, the input order that breaks ties) and returns rows in the output contract of
//! `l2lens metrics`: `period_start, <group>, metric, value, n`. The tests run it on DuckDB and on
//! Spark and compare it, row for row, with `l2lens metrics` and with the hand-checked fixtures.

mod dialect;
mod fill;

pub use dialect::Dialect;

use crate::config::Config;
use crate::facts::sql::FACTS;
use crate::metrics::{
    Dimension, Family, MetricInfo, MetricSet, OUTSIDE_WINDOW, Period, REGISTRY, Selection, Sql,
    SqlTime, SqlValue, Zone,
};
use crate::time::format_rfc3339;

/// The export's placeholders (`{SENT}`, `{TIER}`, …) with their values.
struct Fill(Vec<(&'static str, String)>);

impl Fill {
    /// `text` with every placeholder replaced.
    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (placeholder, value) in &self.0 {
            out = out.replace(placeholder, value);
        }
        out
    }
}

/// A reason made safe for a `--` comment line: no line breaks, and no `;`, so that a tool that
/// splits the file on `;` still finds whole statements.
fn comment_safe(text: &str) -> String {
    text.replace([';', '\n', '\r'], ",")
}

/// What the export inlines.
#[derive(Debug, Clone)]
pub struct Export<'a> {
    pub dialect: Dialect,
    pub config: &'a Config,
    /// The instant the numbers are true at; `None`: the latest timestamp in the tables, computed
    /// by the query.
    pub as_of: Option<i64>,
    pub period: Period,
    pub zone: Zone,
    pub by: Dimension,
    /// The ten metrics and 11-12 (with business time when configured), the governance checks,
    /// or both.
    pub select: Selection,
    /// The board at as_of instead of metrics (`l2lens sql --board`).
    pub board: bool,
}

impl Export<'_> {
    fn period_of(&self, ms: &str) -> String {
        let d = self.dialect;
        d.period_floor(&d.local_date(ms, self.zone), self.period)
    }

    fn group(&self, lane: &str) -> String {
        match self.by {
            Dimension::None => "'ALL'".to_owned(),
            Dimension::Lane => format!("COALESCE({lane}, 'unknown')"),
            Dimension::Segment => "COALESCE(segment, 'unknown')".to_owned(),
            Dimension::Channel => "COALESCE(channel, 'unknown')".to_owned(),
            Dimension::Intent => "COALESCE(intent, 'unknown')".to_owned(),
            Dimension::Owner => "COALESCE(owner_group, 'unknown')".to_owned(),
        }
    }

    /// The metrics of the selection, in registry order, with how the export computes them.
    pub fn metrics(&self) -> impl Iterator<Item = (&'static Family, &'static MetricInfo)> + '_ {
        self.families()
            .flat_map(|f| f.metrics.iter().map(move |m| (f, m)))
    }

    /// The families of the selection, in registry order.
    fn families(&self) -> impl Iterator<Item = &'static Family> + '_ {
        REGISTRY
            .iter()
            .filter(|f| self.select.includes(f.set) && f.set.available(self.config))
    }

    /// The selected metrics the export leaves out, with why: `l2lens sql` says them on stderr
    /// and in the SQL's header.
    pub fn not_exported(&self) -> Vec<(&'static str, &'static str)> {
        self.metrics()
            .filter_map(|(_, m)| match m.sql {
                Sql::NotExported(why) => Some((m.id, why)),
                Sql::Rows { .. } => None,
            })
            .collect()
    }

    /// A metric's aggregate in this dialect.
    fn value(&self, value: SqlValue, fill: &Fill) -> String {
        let d = self.dialect;
        let v = match value {
            SqlValue::Median(e) => d.quantile(e, 0.5),
            SqlValue::P90(e) => d.quantile(e, 0.9),
            SqlValue::Mean(e) => format!("avg({e})"),
            SqlValue::Share(c) => format!("avg(CASE WHEN {c} THEN 1E0 ELSE 0E0 END)"),
            SqlValue::Sum(e) => format!("sum({e})"),
            SqlValue::Ratio(a, b) => format!("sum({a}) / sum({b})"),
        };
        fill.apply(&v)
    }

    /// The board at as_of: the facts' CTEs, the board's, then its rows, most urgent first.
    fn board_script(
        &self,
        facts: String,
        as_of_note: &str,
        as_of_preamble: &str,
        fill: &Fill,
    ) -> String {
        let d = self.dialect;
        let instant = |c: &str| format!("{} AS {c}", d.timestamp_of_ms(c));
        let mut columns = vec![
            "conversation_id".to_owned(),
            "channel".to_owned(),
            "segment".to_owned(),
            "intent".to_owned(),
            "lane".to_owned(),
            "owner".to_owned(),
            instant("owner_since"),
            "next_action".to_owned(),
            instant("last_customer_at"),
            instant("window_closes_at"),
            instant("last_agent_at"),
            instant("next_update_due"),
            instant("due_at"),
            "flags".to_owned(),
        ];
        // With `[sla]`, the earliest due promise still pending and the broken ones, after due_at.
        let (sla, from) = if self.config.sla.is_some() {
            columns.insert(13, instant("sla_due_at"));
            columns.insert(14, "sla_breached".to_owned());
            let tables: Vec<String> = crate::metrics::sla::FAMILY
                .sql_tables
                .iter()
                .map(|t| fill.apply(t))
                .filter(|t| !t.is_empty())
                .collect();
            (
                format!(
                    ",\n{},\n{}",
                    tables.join(",\n"),
                    crate::metrics::sla::SQL_BOARD
                ),
                "(SELECT b.*, s.sla_due_at, s.sla_breached \
                 FROM board b LEFT JOIN board_sla s ON s.conversation_id = b.conversation_id) board",
            )
        } else {
            (String::new(), "board")
        };
        format!(
            "-- l2lens {version}: the board of `l2lens board` as {d:?} SQL: one row per conversation\n\
             -- open at as_of, most urgent first. as_of: {as_of_note}.\n\
             -- Reads conversations, messages, assignments and handoffs as `l2lens ingest` writes them.\n\
             {preamble}WITH\n{facts},\n{board}{sla}\n\
             SELECT {columns}\n\
             FROM {from}\n\
             ORDER BY expired_last, CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, conversation_id;\n",
            version = env!("CARGO_PKG_VERSION"),
            preamble = d.preamble().to_owned() + as_of_preamble,
            board = fill.apply(crate::board::SQL),
            columns = columns.join(", "),
        )
    }

    /// The whole script: the preamble, then one query.
    pub fn script(&self) -> String {
        let d = self.dialect;
        let ms = |c: &str| d.ms(c);
        let latest = format!(
            "SELECT max(t) AS t FROM (\n    SELECT max({}) AS t FROM conversations UNION ALL\n    SELECT max({}) FROM conversations UNION ALL\n    SELECT max({}) FROM messages UNION ALL\n    SELECT max({}) FROM assignments UNION ALL\n    SELECT max({}) FROM handoffs UNION ALL\n    SELECT max({}) FROM calls) latest",
            ms("opened_at"),
            ms("closed_at"),
            ms("sent_at"),
            ms("assigned_at"),
            ms("handoff_at"),
            ms("placed_at")
        );
        // Spark copies a CTE into every place that reads it: computed once into a session
        // variable, the default as_of is one value instead of six table scans in each copy.
        let (as_of_preamble, as_of) = match (self.as_of, d) {
            (Some(t), _) => (String::new(), format!("SELECT CAST({t} AS BIGINT) AS t")),
            (None, Dialect::Spark) => (
                format!(
                    "DECLARE OR REPLACE VARIABLE l2lens_as_of BIGINT;\nSET VAR (l2lens_as_of) = ({latest});\n"
                ),
                "SELECT l2lens_as_of AS t".to_owned(),
            ),
            (None, Dialect::DuckDb) => (String::new(), latest.clone()),
        };
        let as_of_note = self.as_of.map_or_else(
            || "the latest timestamp in the tables".to_owned(),
            format_rfc3339,
        );
        let fill = self.placeholders();
        let facts = fill.apply(&FACTS.replace("{AS_OF_QUERY}", &as_of));
        if self.board {
            return self.board_script(facts, &as_of_note, &as_of_preamble, &fill);
        }
        let group_name = self.by.column();
        let mut tables = vec![facts];
        let mut metrics: Vec<String> = Vec::new();
        for family in self.families() {
            // Families may share tables (the business-time twins, the specialist entries): each
            // once.
            for piece in family.sql_tables {
                let added = fill.apply(piece);
                if !added.is_empty() && !tables.contains(&added) {
                    tables.push(added);
                }
            }
            for metric in family.metrics {
                let Sql::Rows {
                    from,
                    filter,
                    time,
                    value,
                } = metric.sql
                else {
                    continue;
                };
                let period = match time {
                    SqlTime::Instant(column) => self.period_of(column),
                    SqlTime::Period => "period_start".to_owned(),
                };
                let having = match value {
                    SqlValue::Ratio(_, b) => format!("\n  HAVING sum({}) <> 0", fill.apply(b)),
                    _ => String::new(),
                };
                metrics.push(
                    self.metric_select(
                        metric.id,
                        &self.value(value, &fill),
                        &period,
                        &self.group("lane"),
                        &format!("{from} x WHERE {}", fill.apply(filter)),
                    ) + &having,
                );
            }
        }
        let not_exported: String = self
            .not_exported()
            .iter()
            .map(|(id, why)| format!("--   {id}: {}\n", comment_safe(why)))
            .collect();
        let sla_business = self
            .config
            .sla
            .as_ref()
            .is_some_and(|s| s.uses_business_clock());
        let business = self.metrics().any(|(f, _)| {
            f.set == MetricSet::BusinessTime || (f.set == MetricSet::Sla && sla_business)
        });
        let calendar_note = if business {
            "-- Business time reads a table named calendar, written by `l2lens calendar` for the\n\
             -- same configuration over dates covering every instant of the data.\n"
        } else {
            ""
        };
        let not_exported = if not_exported.is_empty() {
            "-- Every selected metric is exported.\n".to_owned()
        } else {
            format!("-- Not exported (l2lens metrics computes them):\n{not_exported}")
        };
        let header = format!(
            "-- l2lens {version}: the facts table and the metrics of `l2lens metrics` as {dialect} SQL.\n\
             -- as_of: {as_of_note}, period: {period}, time zone: {tz}, grouped by {group_name}.\n\
             -- Reads conversations, messages, assignments, handoffs, templates, send_failures,\n\
             -- text_findings and calls as `l2lens ingest` writes them (typed timestamps and\n\
             -- source_row).\n\
             {calendar_note}{not_exported}",
            version = env!("CARGO_PKG_VERSION"),
            dialect = match d {
                Dialect::DuckDb => "DuckDB",
                Dialect::Spark => "Spark",
            },
            period = self.period,
            tz = self.zone.name(),
        );
        let group_col = match (self.by, d) {
            (Dimension::None, Dialect::DuckDb) => "\"group\"".to_owned(),
            (Dimension::None, Dialect::Spark) => "`group`".to_owned(),
            _ => group_name.to_owned(),
        };
        let tables = tables.join(",\n");
        let select = format!(
            "SELECT period_start, CASE WHEN grp IS NULL THEN 'ALL' ELSE grp END AS {group_col}, metric, value, n\n\
             FROM metric_rows\n\
             ORDER BY period_start, {group_col}, metric;\n"
        );
        let body = format!(
            "WITH\n{tables},\nmetric_rows AS (\n{}\n)\n{select}",
            metrics.join("\n  UNION ALL\n")
        );
        format!("{header}{}{as_of_preamble}{body}", d.preamble())
    }

    /// One metric's rows: `value` and `count(*)` per period and group of `source` (a table and
    /// its filter), and for all groups together.
    fn metric_select(
        &self,
        id: &str,
        value: &str,
        period: &str,
        group: &str,
        source: &str,
    ) -> String {
        // The period and group are computed once per row, in a subquery, and grouped by name:
        // an engine that copies expressions into every grouping set (Spark) plans far less.
        let grp = if self.by == Dimension::None {
            "'ALL'"
        } else {
            "metric_group"
        };
        format!(
            "  SELECT metric_period AS period_start, {grp} AS grp, '{id}' AS metric, {value} AS value, count(*) AS n\n  \
             FROM (SELECT {period} AS metric_period, {group} AS metric_group, x.* FROM {source}) m\n  \
             GROUP BY {grouping}",
            grouping = self.grouping("metric_period", "metric_group"),
        )
    }

    /// `GROUP BY` for the rows of every group and of all groups together (`grp` null → `ALL`).
    fn grouping(&self, period: &str, group: &str) -> String {
        match self.by {
            Dimension::None => period.to_owned(),
            _ => format!("GROUPING SETS (({period}, {group}), ({period}))"),
        }
    }
}
