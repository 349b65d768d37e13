//! `l2lens sql --dialect duckdb|spark`: the facts table and the default metrics (the ten and
//! metrics 11–12) as one SQL query for another engine, with the configuration inlined (lanes and
//! tiers, trap limit, risk hours, as_of, period, time zone, grouping); with `--select
//! governance` or `all`, the governance checks G5 and G8 as well.
//!
//! The query reads tables named `conversations`, `messages`, `assignments` and `handoffs` (and
//! for G5 and G8 `templates` and `send_failures`) as `l2lens ingest` writes them (typed timestamps, and `source_row`, the input order that breaks
//! ties) and returns rows in the output contract of `l2lens metrics`:
//! `period_start, <group>, metric, value, n`.
//!
//! The rules are written here a second time, in SQL; the tests run this SQL on DuckDB and on
//! Spark and compare it, row for row, with `l2lens metrics` and with the hand-checked fixture.
//! The other governance checks are not exported: see [`NOT_EXPORTED`].

mod dialect;

pub use dialect::Dialect;

use crate::config::Config;
use crate::metrics::OUTSIDE_WINDOW;
use crate::metrics::{Dimension, MetricSet, Period, Selection, Zone};
use crate::time::{MS_PER_HOUR, format_rfc3339};

/// Metrics `l2lens metrics` computes that the export leaves out, and why.
pub const NOT_EXPORTED: &[(&str, &str)] = &[
    (
        "duplicate_rate, ownerless_rate, ping_pong_rate, silent_stall_rate, brief_missing_rate, missed_handoff_rate",
        "stateful walks over each conversation's assignments and messages (ownerless spells merged across lanes, stays, stall intervals, strike counting); expressible as recursive SQL but not exported yet",
    ),
    (
        "business-time metrics (frt_bh_s, tts_bh_s, art_bh_s, …)",
        "need the business-hour calendars, which have no portable SQL form",
    ),
];

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
    /// The ten metrics and 11-12, the governance checks the SQL has (G5 and G8), or both.
    pub select: Selection,
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
        }
    }

    /// The whole script: the preamble, then one query.
    pub fn script(&self) -> String {
        let d = self.dialect;
        let ms = |c: &str| d.ms(c);
        let as_of = match self.as_of {
            Some(t) => format!("SELECT CAST({t} AS BIGINT) AS t"),
            None => format!(
                "SELECT max(t) AS t FROM (\n    SELECT max({}) AS t FROM conversations UNION ALL\n    SELECT max({}) FROM conversations UNION ALL\n    SELECT max({}) FROM messages UNION ALL\n    SELECT max({}) FROM assignments UNION ALL\n    SELECT max({}) FROM handoffs) latest",
                ms("opened_at"),
                ms("closed_at"),
                ms("sent_at"),
                ms("assigned_at"),
                ms("handoff_at")
            ),
        };
        let as_of_note = self.as_of.map_or_else(
            || "the latest timestamp in the tables".to_owned(),
            format_rfc3339,
        );
        let risk_ms = self.config.window_risk_hours * MS_PER_HOUR as f64;
        let group_name = self.by.column();
        let facts = FACTS
            .replace("{AS_OF_QUERY}", &as_of)
            .replace("{OPENED}", &ms("c.opened_at"))
            .replace("{CLOSED}", &ms("c.closed_at"))
            .replace("{SENT}", &ms("m.sent_at"))
            .replace("{ASSIGNED}", &ms("a.assigned_at"))
            .replace("{HANDOFF}", &ms("h.handoff_at"))
            .replace("{TIER}", &self.tier_case("a.lane"))
            .replace("{TRAP_LIMIT}", &self.config.trap_limit.to_string());
        let share = |flag: &str| format!("avg(CASE WHEN {flag} THEN 1E0 ELSE 0E0 END)");
        let q = |value: &str, p: f64| d.quantile(value, p);
        let frt = "(first_reply_at - first_customer_at) / 1000E0";
        let frt_cohort = "first_customer_at IS NOT NULL AND first_reply_at IS NOT NULL";
        let tts = "greatest((specialist_at - first_customer_at) / 1000E0, 0E0)";
        let tts_cohort = "specialist_at IS NOT NULL AND first_customer_at IS NOT NULL";
        let closed = "closed_at IS NOT NULL";
        let art = "(closed_at - opened_at) / 1000E0";
        // Without briefs in the data the brief metrics have no rows, not 0 %.
        let briefs = "specialist_at IS NOT NULL AND EXISTS (SELECT 1 FROM handoffs)";
        let wait = "(first_agent_reply_at - first_human_at) / 1000E0";
        let human = "first_human_at IS NOT NULL AND first_agent_reply_at IS NOT NULL";
        // (metric, value, cohort, cohort time) over the facts.
        let cohorts: Vec<(&str, String, &str, &str)> = vec![
            ("frt_median_s", q(frt, 0.5), frt_cohort, "first_customer_at"),
            ("frt_p90_s", q(frt, 0.9), frt_cohort, "first_customer_at"),
            ("tts_median_s", q(tts, 0.5), tts_cohort, "specialist_at"),
            ("tts_p90_s", q(tts, 0.9), tts_cohort, "specialist_at"),
            (
                "escalation_rate",
                share("escalated_at IS NOT NULL"),
                "bot_handled",
                "opened_at",
            ),
            (
                "bot_trap_index",
                share("trapped"),
                "bot_handled",
                "opened_at",
            ),
            (
                "misroute_rate",
                share("misrouted"),
                "reached_human",
                "opened_at",
            ),
            (
                "transfers_per_resolution",
                "avg(CAST(owner_changes AS DOUBLE))".into(),
                closed,
                "closed_at",
            ),
            ("art_mean_s", format!("avg({art})"), closed, "closed_at"),
            ("art_median_s", q(art, 0.5), closed, "closed_at"),
            (
                "reopen_48h_rate",
                share("repeat_48h"),
                "repeat_48h IS NOT NULL",
                "closed_at",
            ),
            (
                "context_completeness_rate",
                share("context_complete"),
                briefs,
                "specialist_at",
            ),
            (
                "context_score_mean",
                "avg(context_score)".into(),
                briefs,
                "specialist_at",
            ),
            (
                "specialist_rate",
                share("specialist_at IS NOT NULL"),
                "TRUE",
                "opened_at",
            ),
            ("human_frt_median_s", q(wait, 0.5), human, "first_human_at"),
            ("human_frt_p90_s", q(wait, 0.9), human, "first_human_at"),
        ];
        let mut metrics: Vec<String> = Vec::new();
        if self.select.includes(MetricSet::Core) {
            metrics.extend(cohorts.iter().map(|(id, value, cohort, time)| {
                let source = format!("facts WHERE {cohort}");
                self.metric_select(
                    id,
                    value,
                    &self.period_of(time),
                    &self.group("lane"),
                    &source,
                )
            }));
            let expired_ms = 24.0 * MS_PER_HOUR as f64;
            let group = self.group("lane_at_snapshot");
            for (id, value) in [
                (
                    "window_risk_rate",
                    format!("avg(CASE WHEN silence > {risk_ms:e} THEN 1E0 ELSE 0E0 END)"),
                ),
                (
                    "window_expired",
                    format!("sum(CASE WHEN silence > {expired_ms:e} THEN 1E0 ELSE 0E0 END)"),
                ),
            ] {
                metrics.push(self.metric_select(
                    id,
                    &value,
                    "period_start",
                    &group,
                    "window_cohort",
                ));
            }
        }
        // The sends G5 and G8 count, only when they are selected.
        let sends = if self.select.includes(MetricSet::Governance) {
            let period = self.period_of("event_at");
            for (id, value, source) in [
                ("template_blocked_sends", "sum(blocked)", "template_checks"),
                ("window_violation_sends", "sum(violation)", "failure_checks"),
            ] {
                metrics.push(self.metric_select(id, value, &period, &self.group("lane"), source));
            }
            let blocked: Vec<String> = self
                .config
                .governance
                .blocked_template_statuses
                .iter()
                .map(|status| d.quote(status))
                .collect();
            let sends = SENDS
                .replace("{SENT}", &ms("m.sent_at"))
                .replace("{CHANGED}", &ms("h.changed_at"))
                .replace("{FAILED}", &ms("x.failed_at"))
                .replace("{BLOCKED}", &blocked.join(", "))
                .replace("{OUTSIDE_WINDOW}", &d.quote(OUTSIDE_WINDOW));
            format!(",\n{sends}")
        } else {
            String::new()
        };
        let window = WINDOW
            .replace(
                "{FIRST_PERIOD}",
                &self.period_of("(SELECT min(opened_at) FROM facts)"),
            )
            .replace("{LAST_PERIOD}", &self.period_of("(SELECT t FROM params)"))
            .replace(
                "{SERIES}",
                &d.period_series("first_period", "last_period", self.period),
            )
            .replace(
                "{PERIOD_END_MS}",
                &d.midnight_ms(&d.period_next("p.period_start", self.period), self.zone),
            )
            .replace(
                "{PERIOD_START_MS}",
                &d.midnight_ms("p.period_start", self.zone),
            );
        let not_exported: String = NOT_EXPORTED
            .iter()
            .map(|(what, why)| format!("--   {what}: {why}\n"))
            .collect();
        format!(
            "-- l2lens {version}: the facts table and the metrics of `l2lens metrics` as {dialect:?} SQL.\n\
             -- as_of: {as_of_note}; period: {period:?}; time zone: {tz}; grouped by {group_name}.\n\
             -- Reads conversations, messages, assignments and handoffs as `l2lens ingest` writes\n\
             -- them (typed timestamps and source_row). Not exported:\n{not_exported}\
             {preamble}WITH\n{facts},\n{window}{sends}\n\
             SELECT period_start, CASE WHEN grp IS NULL THEN 'ALL' ELSE grp END AS {group_col}, metric, value, n\n\
             FROM (\n{metrics}\n) metric_rows\n\
             ORDER BY period_start, {group_col}, metric;\n",
            version = env!("CARGO_PKG_VERSION"),
            dialect = d,
            period = self.period,
            tz = self.zone.name(),
            preamble = d.preamble(),
            group_col = if self.by == Dimension::None { "`group`".to_owned() } else { group_name.to_owned() },
            metrics = metrics.join("\n  UNION ALL\n"),
        )
        .replace("`group`", match d {
            Dialect::DuckDb => "\"group\"",
            Dialect::Spark => "`group`",
        })
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
        format!(
            "  SELECT {period} AS period_start, {group} AS grp, '{id}' AS metric, {value} AS value, count(*) AS n\n  FROM {source}\n  GROUP BY {grouping}",
            grouping = self.grouping(period, group),
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

/// The sends the governance checks G5 and G8 count, each with its conversation's facts and
/// `event_at`: template sends with `blocked` (the template's status at send time, the latest
/// row with `changed_at <= sent_at`, ties to the later row; `unknown` without one), and failed
/// sends with `violation` (error 131047). Without a templates table (or an empty one) G5 has
/// no rows, as in `l2lens metrics`.
const SENDS: &str = r#"template_sends AS (
  SELECT m.conversation_id, {SENT} AS at, m.template_name, m.source_row AS send_row
  FROM messages m
  WHERE m.kind = 'template' AND m.sender IN ('bot', 'agent') AND m.template_name IS NOT NULL
    AND {SENT} <= (SELECT t FROM params)
),
template_status AS (
  SELECT send_row, status FROM (
    SELECT s.send_row, h.status,
           ROW_NUMBER() OVER (PARTITION BY s.send_row ORDER BY {CHANGED} DESC, h.source_row DESC) AS from_last
    FROM template_sends s JOIN templates h
      ON h.template_name = s.template_name AND {CHANGED} <= s.at) x
  WHERE from_last = 1
),
template_checks AS (
  SELECT f.*, s.at AS event_at,
         CASE WHEN COALESCE(t.status, 'unknown') IN ({BLOCKED}) THEN 1E0 ELSE 0E0 END AS blocked
  FROM template_sends s
  JOIN facts f ON f.conversation_id = s.conversation_id
  LEFT JOIN template_status t ON t.send_row = s.send_row
  WHERE EXISTS (SELECT 1 FROM templates)
),
failure_checks AS (
  SELECT f.*, {FAILED} AS event_at,
         CASE WHEN x.error_code = {OUTSIDE_WINDOW} THEN 1E0 ELSE 0E0 END AS violation
  FROM send_failures x
  JOIN facts f ON f.conversation_id = x.conversation_id
  WHERE {FAILED} <= (SELECT t FROM params)
)"#;

/// The facts table as CTEs (instants as BIGINT milliseconds), ending with `facts`.
const FACTS: &str = r#"params AS ({AS_OF_QUERY}),
conv AS (
  SELECT c.conversation_id, c.customer_id, c.channel, c.segment, c.intent,
         {OPENED} AS opened_at,
         CASE WHEN {CLOSED} > (SELECT t FROM params) THEN NULL ELSE {CLOSED} END AS closed_at
  FROM conversations c
  WHERE {OPENED} <= (SELECT t FROM params)
),
msg AS (
  SELECT m.conversation_id, {SENT} AS ts, m.sender, m.kind, m.is_fallback, m.intent, m.source_row
  FROM messages m JOIN conv USING (conversation_id)
  WHERE {SENT} <= (SELECT t FROM params)
),
firsts AS (
  SELECT conversation_id,
         min(CASE WHEN sender = 'customer' THEN ts END) AS first_customer_at,
         max(CASE WHEN sender = 'customer' THEN ts END) AS last_customer_at,
         min(CASE WHEN sender = 'bot' THEN ts END) AS first_bot_at
  FROM msg GROUP BY conversation_id
),
replies AS (
  SELECT m.conversation_id, min(m.ts) AS first_reply_at
  FROM msg m JOIN firsts f USING (conversation_id)
  WHERE m.sender IN ('bot', 'agent') AND m.kind <> 'internal_note' AND m.ts >= f.first_customer_at
  GROUP BY m.conversation_id
),
routing AS (
  SELECT a.conversation_id, {ASSIGNED} AS ts, a.lane, a.assignee_id, a.reason, a.source_row,
         {TIER} AS tier
  FROM assignments a JOIN conv c USING (conversation_id)
  WHERE {ASSIGNED} <= (SELECT t FROM params)
    AND (c.closed_at IS NULL OR {ASSIGNED} <= c.closed_at)
),
routing_ordered AS (
  SELECT r.*,
         LAG(tier) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS prev_tier,
         LAG(lane) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS prev_lane,
         ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY ts DESC, source_row DESC) AS from_last
  FROM routing r
),
owners AS (
  SELECT conversation_id, assignee_id,
         LAG(assignee_id) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS prev_owner,
         ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY ts DESC, source_row DESC) AS from_last
  FROM routing WHERE assignee_id IS NOT NULL
),
owner_facts AS (
  SELECT conversation_id,
         sum(CASE WHEN prev_owner IS NOT NULL AND prev_owner <> assignee_id THEN 1 ELSE 0 END) AS owner_changes,
         max(CASE WHEN from_last = 1 THEN assignee_id END) AS owner
  FROM owners GROUP BY conversation_id
),
routing_facts AS (
  SELECT r.conversation_id,
         min(CASE WHEN r.tier >= 1 AND r.ts >= f.first_bot_at THEN r.ts END) AS escalated_at,
         min(CASE WHEN r.tier >= 2 THEN r.ts END) AS specialist_at,
         min(CASE WHEN r.tier >= 1 THEN r.ts END) AS first_human_at,
         max(CASE WHEN r.tier >= 1 THEN 1 ELSE 0 END) = 1 AS reached_human,
         max(CASE WHEN r.from_last = 1 THEN r.lane END) AS last_lane,
         max(CASE WHEN r.reason = 'wrong_queue'
                   OR (r.reason IS NULL AND r.prev_tier >= 2 AND r.tier = r.prev_tier AND r.lane <> r.prev_lane)
                  THEN 1 ELSE 0 END) = 1 AS misrouted
  FROM routing_ordered r LEFT JOIN firsts f USING (conversation_id)
  GROUP BY r.conversation_id
),
customer_turns AS (
  SELECT conversation_id, ts, intent,
         LAG(COALESCE(intent, ' ')) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS prev_intent
  FROM msg WHERE sender = 'customer'
),
signals AS (
  SELECT conversation_id, ts FROM msg WHERE sender = 'bot' AND is_fallback
  UNION ALL
  SELECT conversation_id, ts FROM customer_turns WHERE intent IS NOT NULL AND prev_intent = intent
),
traps AS (
  SELECT s.conversation_id, count(*) AS trap_signals
  FROM signals s LEFT JOIN routing_facts r USING (conversation_id)
  WHERE r.escalated_at IS NULL OR s.ts < r.escalated_at
  GROUP BY s.conversation_id
),
briefs AS (
  SELECT h.conversation_id,
         CASE WHEN h.intent IS NOT NULL AND length(trim(h.intent)) > 0 THEN 1 ELSE 0 END AS p_intent,
         CASE WHEN h.key_details IS NOT NULL AND length(trim(h.key_details)) > 0 THEN 1 ELSE 0 END AS p_details,
         CASE WHEN h.attempted_steps IS NOT NULL AND length(trim(h.attempted_steps)) > 0 THEN 1 ELSE 0 END AS p_steps,
         CASE WHEN h.current_status IS NOT NULL AND length(trim(h.current_status)) > 0 THEN 1 ELSE 0 END AS p_status,
         CASE WHEN h.next_action IS NOT NULL AND length(trim(h.next_action)) > 0 THEN 1 ELSE 0 END AS p_next,
         ROW_NUMBER() OVER (PARTITION BY h.conversation_id ORDER BY {HANDOFF} DESC, h.source_row DESC) AS from_last
  FROM handoffs h JOIN routing_facts r USING (conversation_id)
  WHERE {HANDOFF} <= (SELECT t FROM params) AND {HANDOFF} <= r.specialist_at + 60000
),
brief_facts AS (
  SELECT conversation_id,
         p_intent = 1 AND p_steps = 1 AND p_status = 1 AS context_complete,
         (p_intent + p_details + p_steps + p_status + p_next) / 5E0 AS context_score
  FROM briefs WHERE from_last = 1
),
agent_replies AS (
  SELECT m.conversation_id, min(m.ts) AS first_agent_reply_at
  FROM msg m JOIN routing_facts r USING (conversation_id)
  WHERE m.sender = 'agent' AND (m.kind IS NULL OR m.kind <> 'internal_note') AND m.ts >= r.first_human_at
  GROUP BY m.conversation_id
),
eligible AS (
  SELECT conversation_id, customer_id, intent, closed_at FROM conv
  WHERE closed_at IS NOT NULL AND closed_at + 172800000 <= (SELECT t FROM params)
),
wrote_again AS (
  SELECT e.conversation_id, 1 AS hit
  FROM eligible e JOIN msg m ON m.conversation_id = e.conversation_id
  WHERE m.sender = 'customer' AND m.ts > e.closed_at AND m.ts <= e.closed_at + 172800000
  GROUP BY e.conversation_id
),
returned AS (
  SELECT e.conversation_id, 1 AS hit
  FROM eligible e JOIN conv o ON o.customer_id = e.customer_id
  WHERE ((o.intent IS NULL AND e.intent IS NULL) OR o.intent = e.intent)
    AND o.opened_at > e.closed_at AND o.opened_at <= e.closed_at + 172800000
  GROUP BY e.conversation_id
),
repeats AS (
  SELECT e.conversation_id, (w.hit IS NOT NULL OR r.hit IS NOT NULL) AS repeat_48h
  FROM eligible e
  LEFT JOIN wrote_again w ON w.conversation_id = e.conversation_id
  LEFT JOIN returned r ON r.conversation_id = e.conversation_id
),
facts AS (
  SELECT c.*,
         f.first_customer_at, f.last_customer_at, f.first_bot_at, rp.first_reply_at,
         r.escalated_at, r.specialist_at, r.first_human_at, ar.first_agent_reply_at,
         COALESCE(r.reached_human, FALSE) AS reached_human,
         COALESCE(r.last_lane, CASE WHEN f.first_bot_at IS NOT NULL THEN 'automation' ELSE 'unassigned' END) AS lane,
         COALESCE(r.misrouted, FALSE) AS misrouted,
         COALESCE(o.owner_changes, 0) AS owner_changes, o.owner,
         COALESCE(t.trap_signals, 0) AS trap_signals,
         f.first_bot_at IS NOT NULL AS bot_handled,
         f.first_bot_at IS NOT NULL AND COALESCE(t.trap_signals, 0) > {TRAP_LIMIT} AS trapped,
         COALESCE(b.context_complete, FALSE) AS context_complete,
         COALESCE(b.context_score, 0E0) AS context_score,
         rep.repeat_48h
  FROM conv c
  LEFT JOIN firsts f USING (conversation_id)
  LEFT JOIN replies rp USING (conversation_id)
  LEFT JOIN routing_facts r USING (conversation_id)
  LEFT JOIN owner_facts o USING (conversation_id)
  LEFT JOIN traps t USING (conversation_id)
  LEFT JOIN brief_facts b USING (conversation_id)
  LEFT JOIN agent_replies ar USING (conversation_id)
  LEFT JOIN repeats rep USING (conversation_id)
)"#;

/// The window snapshots: one per period from the earliest conversation's to the one holding
/// as_of, at the period's end or at as_of if earlier; the open WhatsApp threads with a customer
/// message at each.
const WINDOW: &str = r#"bounds AS (
  SELECT {FIRST_PERIOD} AS first_period, {LAST_PERIOD} AS last_period
),
periods AS (
  SELECT p.period_start,
         {PERIOD_START_MS} AS start_ms,
         LEAST({PERIOD_END_MS}, (SELECT t FROM params)) AS s
  FROM ({SERIES} FROM bounds) p
),
snapshots AS (
  SELECT period_start, s FROM periods WHERE start_ms < (SELECT t FROM params)
),
window_pairs AS (
  SELECT f.conversation_id, f.segment, f.channel, f.intent, f.first_bot_at, p.period_start, p.s
  FROM facts f JOIN snapshots p
    ON f.opened_at < p.s AND f.first_customer_at <= p.s AND (f.closed_at IS NULL OR p.s < f.closed_at)
  WHERE f.channel = 'whatsapp'
),
window_silence AS (
  SELECT w.conversation_id, w.s, max(m.ts) AS last_customer_at
  FROM window_pairs w JOIN msg m ON m.conversation_id = w.conversation_id
  WHERE m.sender = 'customer' AND m.ts <= w.s
  GROUP BY w.conversation_id, w.s
),
window_lanes AS (
  SELECT conversation_id, s, lane FROM (
    SELECT w.conversation_id, w.s, a.lane,
           ROW_NUMBER() OVER (PARTITION BY w.conversation_id, w.s ORDER BY a.ts DESC, a.source_row DESC) AS from_last
    FROM window_pairs w JOIN routing a ON a.conversation_id = w.conversation_id
    WHERE a.ts <= w.s) x
  WHERE from_last = 1
),
window_cohort AS (
  SELECT w.period_start, w.segment, w.channel, w.intent,
         COALESCE(l.lane, CASE WHEN w.first_bot_at <= w.s THEN 'automation' ELSE 'unassigned' END) AS lane_at_snapshot,
         w.s - ws.last_customer_at AS silence
  FROM window_pairs w
  JOIN window_silence ws ON ws.conversation_id = w.conversation_id AND ws.s = w.s
  LEFT JOIN window_lanes l ON l.conversation_id = w.conversation_id AND l.s = w.s
)"#;
