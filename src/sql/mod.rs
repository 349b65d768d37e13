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

pub use dialect::Dialect;

use crate::config::governance::LaneLimits;
use crate::config::{Config, DuplicateMatch};
use crate::facts::sql::FACTS;
use crate::metrics::{
    Dimension, Family, MetricInfo, MetricSet, OUTSIDE_WINDOW, Period, REGISTRY, Selection, Sql,
    SqlTime, SqlValue, Zone,
};
use crate::time::{MS_PER_HOUR, format_rfc3339};

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
    /// The tier rank of `lane` by the configuration: exact names, then patterns (longest first),
    /// then the default tier, as [`Config::tier`] decides.
    fn tier_case(&self, lane: &str) -> String {
        let d = self.dialect;
        let mut out = String::from("CASE");
        for (name, tier) in &self.config.lanes {
            out.push_str(&format!(
                " WHEN {lane} = {} THEN {}",
                d.quote(name),
                tier.rank()
            ));
        }
        for (pattern, tier) in &self.config.lane_patterns {
            let like: String = pattern
                .chars()
                .map(|c| match c {
                    '*' => "%".to_owned(),
                    '?' => "_".to_owned(),
                    '%' | '_' | '!' => format!("!{c}"),
                    c => c.to_string(),
                })
                .collect();
            out.push_str(&format!(
                " WHEN {lane} LIKE {} ESCAPE '!' THEN {}",
                d.quote(&like),
                tier.rank()
            ));
        }
        out.push_str(&format!(" ELSE {} END", self.config.default_tier.rank()));
        out
    }

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

    /// The export's placeholders and their values: the dialect's timestamps, the configuration
    /// and the small rules. Computed once per script.
    fn placeholders(&self) -> Fill {
        let d = self.dialect;
        let ms = |c: &str| d.ms(c);
        let blocked: Vec<String> = self
            .config
            .governance
            .blocked_template_statuses
            .iter()
            .map(|status| d.quote(status))
            .collect();
        let g = &self.config.governance;
        let asks: Vec<String> = g.human_request_intents.iter().map(|i| d.quote(i)).collect();
        let text = &self.config.text;
        let list = |items: &[String]| -> String {
            if items.is_empty() {
                "NULL".to_owned()
            } else {
                items
                    .iter()
                    .map(|i| d.quote(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let placeholders = list(&text.placeholders);
        let placeholder_n = ["intent", "attempted_steps", "current_status"]
            .iter()
            .map(|field| {
                format!(
                    "CASE WHEN {} IN ({placeholders}) THEN 1 ELSE 0 END",
                    d.normalised_text(&format!("h.{field}"))
                )
            })
            .collect::<Vec<_>>()
            .join(" + ");
        let rates = match &self.config.pricing {
            Some(card) => card
                .rates
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    format!(
                        "SELECT {i} AS rate_no, {} AS category, {} AS market, CAST({} AS BIGINT) AS valid_from, CAST({:e} AS DOUBLE) AS price",
                        d.quote(&r.category),
                        d.quote(&r.market),
                        r.valid_from,
                        r.price
                    )
                })
                .collect::<Vec<_>>()
                .join("\n  UNION ALL\n  "),
            None => "SELECT CAST(NULL AS INT) AS rate_no, CAST(NULL AS STRING) AS category, \
                     CAST(NULL AS STRING) AS market, CAST(NULL AS BIGINT) AS valid_from, \
                     CAST(NULL AS DOUBLE) AS price WHERE 1 = 0"
                .to_owned(),
        };
        let id = "c.customer_id";
        Fill(vec![
            ("{RATES}", rates),
            (
                "{HAS_RATES}",
                if self.config.pricing.is_some() {
                    "TRUE"
                } else {
                    "FALSE"
                }
                .to_owned(),
            ),
            (
                "{FRT_CALL_EVENTS}",
                if self.config.calls.frt {
                    "\n  UNION ALL\n  SELECT conversation_id, placed_at, 'customer', 'call' FROM call_facts\n  \
                     WHERE direction = 'user_initiated'\n  UNION ALL\n  \
                     SELECT conversation_id, answered_at, 'agent', 'call' FROM call_facts\n  \
                     WHERE status = 'answered' AND answered_at IS NOT NULL"
                        .to_owned()
                } else {
                    String::new()
                },
            ),
            ("{PLACED}", ms("k.placed_at")),
            ("{ANSWERED}", ms("k.answered_at")),
            ("{ENDED}", ms("k.ended_at")),
            (
                "{COUNTED_CALL}",
                match self.config.calls.window_refresh {
                    crate::config::WindowRefresh::Any => "TRUE",
                    crate::config::WindowRefresh::Answered => "status = 'answered'",
                    crate::config::WindowRefresh::None => "FALSE",
                }
                .to_owned(),
            ),
            (
                "{IS_BSUID}",
                d.matches(id, "^[A-Z]{2}[.](ENT[.])?[A-Za-z0-9]{1,128}$"),
            ),
            ("{IS_PHONE}", d.matches(id, "^[+]?[0-9]+$")),
            (
                "{PHONE_DIGITS}",
                format!("CASE WHEN substr({id}, 1, 1) = '+' THEN substr({id}, 2) ELSE {id} END"),
            ),
            (
                "{NOT_CLOSING}",
                if self.config.outcomes.closing_intents.is_empty() {
                    "TRUE".to_owned()
                } else {
                    format!(
                        "(m.intent IS NULL OR m.intent NOT IN ({}))",
                        list(&self.config.outcomes.closing_intents)
                    )
                },
            ),
            (
                "{ABANDON_MS}",
                self.config.outcomes.abandon_after_ms.to_string(),
            ),
            (
                "{HORIZON_MS}",
                self.config.outcomes.durable_horizon_ms.to_string(),
            ),
            (
                "{DURABLE_INTENT}",
                match self.config.outcomes.durable_match {
                    crate::config::DurableMatch::CustomerIntent => {
                        "\n      AND (n.intent = p.intent OR (n.intent IS NULL AND p.intent IS NULL))"
                            .to_owned()
                    }
                    crate::config::DurableMatch::Customer => String::new(),
                },
            ),
            (
                "{WINDOW_OWNER}",
                if self.by == Dimension::Owner {
                    "CASE WHEN wo.assignee_id = 'ALL' THEN 'unowned' \
                     WHEN wo.assignee_id IS NOT NULL THEN wo.assignee_id \
                     WHEN w.first_bot_at <= w.s AND COALESCE(wh.human_row, 0) = 0 \
                     AND (w.first_agent_at IS NULL OR w.first_agent_at > w.s) THEN 'bot' \
                     ELSE 'unowned' END"
                        .to_owned()
                } else {
                    "CAST(NULL AS STRING)".to_owned()
                },
            ),
            (
                "{WINDOW_OWNER_JOINS}",
                if self.by == Dimension::Owner {
                    // The owner group at the snapshot: the rows and messages at or before it.
                    "\n  LEFT JOIN (SELECT conversation_id, s, assignee_id FROM (\n    \
                     SELECT w2.conversation_id, w2.s, a.assignee_id,\n           \
                     ROW_NUMBER() OVER (PARTITION BY w2.conversation_id, w2.s ORDER BY a.ts DESC, a.source_row DESC) AS from_last\n    \
                     FROM window_pairs w2 JOIN routing a ON a.conversation_id = w2.conversation_id\n    \
                     WHERE a.ts <= w2.s AND a.tier >= 1 AND a.assignee_id IS NOT NULL) x\n    \
                     WHERE from_last = 1) wo ON wo.conversation_id = w.conversation_id AND wo.s = w.s\n  \
                     LEFT JOIN (SELECT w3.conversation_id, w3.s, max(CASE WHEN a.tier >= 1 THEN 1 ELSE 0 END) AS human_row\n    \
                     FROM window_pairs w3 JOIN routing a ON a.conversation_id = w3.conversation_id\n    \
                     WHERE a.ts <= w3.s GROUP BY w3.conversation_id, w3.s) wh\n    \
                     ON wh.conversation_id = w.conversation_id AND wh.s = w.s"
                        .to_owned()
                } else {
                    String::new()
                },
            ),
            ("{FOUND_AT}", ms("tf.sent_at")),
            ("{NO_TOKENS}", d.without_tokens("next_action")),
            ("{REPEAT_WINDOW_MS}", text.repeat_window_ms.to_string()),
            ("{SENSITIVE_KINDS}", list(&text.sensitive_kinds)),
            ("{PLACEHOLDER_N}", placeholder_n),
            ("{STRIKES}", g.strikes.to_string()),
            (
                "{ASKS_PERSON}",
                if asks.is_empty() {
                    "FALSE".to_owned()
                } else {
                    format!("m.intent IN ({})", asks.join(", "))
                },
            ),
            ("{GRACE_MS}", g.handoff_grace_ms.to_string()),
            (
                "{DUPLICATE_INTENT}",
                match g.duplicate_match {
                    DuplicateMatch::Customer => String::new(),
                    DuplicateMatch::CustomerIntent => {
                        "\n   AND (p.intent = c.intent OR (p.intent IS NULL AND c.intent IS NULL))"
                            .to_owned()
                    }
                },
            ),
            ("{ENTRY_BRIEF_BEFORE_MS}", g.brief_before_ms.to_string()),
            ("{ENTRY_BRIEF_AFTER_MS}", g.brief_after_ms.to_string()),
            (
                "{OWNERLESS_LIMIT}",
                self.lane_limit("spell_lane", |l| l.ownerless_max_ms, g.ownerless_max_ms),
            ),
            ("{LANE_TIER}", self.tier_case("f.lane")),
            (
                "{BRIEF_COMPLETE}",
                crate::facts::BRIEF_COMPLETE_SQL.to_owned(),
            ),
            ("{SCHEDULE_OF_LANE}", self.schedule_case("lane")),
            ("{DEFAULT_SCHEDULE}", self.schedule_case("NULL")),
            ("{WINDOW_MS}", crate::facts::WINDOW_MS.to_string()),
            (
                "{NOW_STALL_LIMIT}",
                self.lane_limit("c.now_lane", |l| l.stall_after_ms, g.stall_after_ms),
            ),
            (
                "{NOW_OWNERLESS_LIMIT}",
                self.lane_limit("spell_lane", |l| l.ownerless_max_ms, g.ownerless_max_ms),
            ),
            (
                "{STALL_LIMIT}",
                self.lane_limit("lane", |l| l.stall_after_ms, g.stall_after_ms),
            ),
            ("{OPENED}", ms("c.opened_at")),
            ("{CLOSED}", ms("c.closed_at")),
            ("{SENT}", ms("m.sent_at")),
            ("{ASSIGNED}", ms("a.assigned_at")),
            ("{HANDOFF}", ms("h.handoff_at")),
            ("{CHANGED}", ms("h.changed_at")),
            ("{FAILED}", ms("x.failed_at")),
            ("{TIER}", self.tier_case("a.lane")),
            ("{TRAP_LIMIT}", self.config.trap_limit.to_string()),
            ("{BRIEF_AFTER_MS}", crate::facts::BRIEF_AFTER_MS.to_string()),
            ("{REPEAT_MS}", crate::facts::REPEAT_HORIZON_MS.to_string()),
            (
                "{RISK_MS}",
                format!("{:e}", self.config.window_risk_hours * MS_PER_HOUR as f64),
            ),
            (
                "{EXPIRED_MS}",
                format!("{:e}", crate::facts::WINDOW_MS as f64),
            ),
            ("{BLOCKED}", blocked.join(", ")),
            ("{OUTSIDE_WINDOW}", d.quote(OUTSIDE_WINDOW)),
            (
                "{FIRST_PERIOD}",
                self.period_of("(SELECT min(opened_at) FROM facts)"),
            ),
            ("{LAST_PERIOD}", self.period_of("(SELECT t FROM params)")),
            (
                "{SERIES}",
                d.period_series("first_period", "last_period", self.period),
            ),
            (
                "{PERIOD_START_MS}",
                d.midnight_ms("p.period_start", self.zone),
            ),
            (
                "{PERIOD_END_MS}",
                d.midnight_ms(&d.period_next("p.period_start", self.period), self.zone),
            ),
        ])
    }

    /// A governance limit of the lane in `column`: the lanes that set their own, else the
    /// default (as [`crate::config::Governance::ownerless_max_ms`] decides).
    fn lane_limit(
        &self,
        column: &str,
        limit: impl Fn(&LaneLimits) -> Option<i64>,
        default: i64,
    ) -> String {
        let mut out = String::from("CASE");
        for (lane, limits) in &self.config.governance.lanes {
            if let Some(ms) = limit(limits) {
                out.push_str(&format!(
                    " WHEN {column} = {} THEN {ms}",
                    self.dialect.quote(lane)
                ));
            }
        }
        if out == "CASE" {
            return default.to_string();
        }
        out.push_str(&format!(" ELSE {default} END"));
        out
    }

    /// The schedule of the lane in `column` as the configuration maps it
    /// ([`crate::config::BusinessHours::schedule_of`]), `NULL` for the built-in always-open one.
    fn schedule_case(&self, column: &str) -> String {
        let Some(hours) = &self.config.business_hours else {
            return "CAST(NULL AS STRING)".to_owned();
        };
        let d = self.dialect;
        let name = |schedule: &str| {
            if hours.schedules.contains_key(schedule) {
                d.quote(schedule)
            } else {
                "CAST(NULL AS STRING)".to_owned()
            }
        };
        let mut out = String::from("CASE");
        for (lane, schedule) in &hours.lanes {
            out.push_str(&format!(
                " WHEN {column} = {} THEN {}",
                d.quote(lane),
                name(schedule)
            ));
        }
        if out == "CASE" {
            return name(&hours.default);
        }
        out.push_str(&format!(" ELSE {} END", name(&hours.default)));
        out
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
        let columns = [
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
        format!(
            "-- l2lens {version}: the board of `l2lens board` as {d:?} SQL: one row per conversation\n\
             -- open at as_of, most urgent first. as_of: {as_of_note}.\n\
             -- Reads conversations, messages, assignments and handoffs as `l2lens ingest` writes them.\n\
             {preamble}WITH\n{facts},\n{board}\n\
             SELECT {columns}\n\
             FROM board\n\
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
        let business = self
            .metrics()
            .any(|(f, _)| f.set == MetricSet::BusinessTime);
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
