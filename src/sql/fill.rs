//! The export's placeholders (`{SENT}`, `{TIER}`, …) and their values: the dialect's
//! timestamps, the configuration and the small rules, computed once per script.

use super::{Export, Fill, OUTSIDE_WINDOW};
use crate::config::DuplicateMatch;
use crate::config::governance::LaneLimits;
use crate::config::outcomes::{Block, Clock, Promise};
use crate::metrics::Dimension;
use crate::time::MS_PER_HOUR;

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

    /// The export's placeholders and their values: the dialect's timestamps, the configuration
    /// and the small rules. Computed once per script.
    pub(super) fn placeholders(&self) -> Fill {
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
        let mut fill = self.sla_placeholders();
        fill.extend(vec![
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
                "{ACTIVE_PERIODS}",
                format!(
                    "SELECT {} AS period_start FROM facts UNION SELECT {} FROM facts WHERE \
                     closed_at IS NOT NULL",
                    self.period_of("opened_at"),
                    self.period_of("closed_at")
                ),
            ),
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
        ]);
        Fill(fill)
    }

    /// `[sla]`'s placeholders, first (their values hold others): per promise the target (ms) and
    /// its clock over the lookup lane `lk` and `segment`, as [`crate::config::Sla::target`]
    /// decides; the business schedule spans and due instants when a target runs on the business
    /// clock.
    fn sla_placeholders(&self) -> Vec<(&'static str, String)> {
        let d = self.dialect;
        let business = self
            .config
            .sla
            .as_ref()
            .is_some_and(|s| s.uses_business_clock() && self.config.business_hours.is_some());
        let mut out = vec![
            (
                "{SLA_BH_SPANS}",
                if business {
                    crate::facts::sql::BH_SPANS.to_owned()
                } else {
                    String::new()
                },
            ),
            (
                "{SLA_BUSINESS_DUES}",
                if business {
                    crate::metrics::sla::SQL_BUSINESS_DUES
                } else {
                    crate::metrics::sla::SQL_NO_BUSINESS_DUES
                }
                .to_owned(),
            ),
        ];
        for promise in Promise::ALL {
            let (target, clock) = match promise {
                Promise::Frt => ("{SLA_FRT_TARGET}", "{SLA_FRT_CLOCK}"),
                Promise::HumanFrt => ("{SLA_HUMAN_FRT_TARGET}", "{SLA_HUMAN_FRT_CLOCK}"),
                Promise::Tts => ("{SLA_TTS_TARGET}", "{SLA_TTS_CLOCK}"),
                Promise::Update => ("{SLA_UPDATE_TARGET}", "{SLA_UPDATE_CLOCK}"),
                Promise::Resolution => ("{SLA_RESOLUTION_TARGET}", "{SLA_RESOLUTION_CLOCK}"),
            };
            let Some(sla) = &self.config.sla else {
                out.push((target, "CAST(NULL AS BIGINT)".to_owned()));
                out.push((clock, "CAST(NULL AS STRING)".to_owned()));
                continue;
            };
            // The blocks in lookup order, with the condition that selects each.
            let mut blocks: Vec<(String, &Block)> = Vec::new();
            for ((lane, segment), block) in &sla.lane_segments {
                blocks.push((
                    format!(
                        "lower(lk) = {} AND segment = {}",
                        d.quote(lane),
                        d.quote(segment)
                    ),
                    block,
                ));
            }
            for (lane, block) in &sla.lanes {
                blocks.push((format!("lower(lk) = {}", d.quote(lane)), block));
            }
            for (segment, block) in &sla.segments {
                blocks.push((format!("segment = {}", d.quote(segment)), block));
            }
            let (mut targets, mut clocks) = (String::from("CASE"), String::from("CASE"));
            for (when, block) in blocks {
                if let Some(ms) = block.targets.get(&promise) {
                    let on = block.clock.or(sla.default.clock).unwrap_or(Clock::Calendar);
                    targets.push_str(&format!(" WHEN {when} THEN CAST({ms} AS BIGINT)"));
                    clocks.push_str(&format!(" WHEN {when} THEN '{}'", on.as_str()));
                }
            }
            let (default_target, default_clock) = match sla.default.targets.get(&promise) {
                Some(ms) => (
                    format!("CAST({ms} AS BIGINT)"),
                    format!(
                        "'{}'",
                        sla.default.clock.unwrap_or(Clock::Calendar).as_str()
                    ),
                ),
                None => (
                    "CAST(NULL AS BIGINT)".to_owned(),
                    "CAST(NULL AS STRING)".to_owned(),
                ),
            };
            if targets == "CASE" {
                out.push((target, default_target));
                out.push((clock, default_clock));
            } else {
                targets.push_str(&format!(" ELSE {default_target} END"));
                clocks.push_str(&format!(" ELSE {default_clock} END"));
                out.push((target, targets));
                out.push((clock, clocks));
            }
        }
        out
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
}
