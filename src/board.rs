//! The board: the executive test on one screen (spec: governance.md, "The board"). One row per
//! conversation open at `as_of`, most urgent first: who owns it, what the next action is, and
//! when the next customer update is due. Never message text or customer ids.
//!
//! It reads the facts table alone (its state at `as_of`, computed by
//! [`crate::facts::governance`]); the rules of its columns and flags live here.

use anyhow::Result;
use polars::prelude::*;

use crate::config::Config;
use crate::facts::Facts;
use crate::period::hours_ms;

/// The flags, in the order the spec lists them.
pub const FLAGS: &[&str] = &[
    "window_expired",
    "window_risk",
    "stalled",
    "ownerless",
    "unowned",
    "duplicate",
    "no_next_action",
    "sensitive",
];

/// A flag's name for people (the flag itself stays in `board.csv` and in titles).
pub fn flag_name(flag: &str) -> &'static str {
    match flag {
        "window_expired" => "Past the 24-hour window",
        "window_risk" => "24-hour window at risk",
        "stalled" => "Silent past the stall limit",
        "ownerless" => "Unclaimed in a queue",
        "unowned" => "Nobody owns it",
        "duplicate" => "Duplicate of an open case",
        "no_next_action" => "No next action",
        "sensitive" => "Card number or IBAN in the chat",
        _ => "Other",
    }
}

mod output;
pub use output::{instant_text, to_csv, to_frame};

/// The columns of the board, in order.
pub const COLUMNS: &[&str] = &[
    "conversation_id",
    "channel",
    "segment",
    "intent",
    "lane",
    "owner",
    "owner_since",
    "next_action",
    "last_customer_at",
    "window_closes_at",
    "last_agent_at",
    "next_update_due",
    "due_at",
    "flags",
];

/// One open conversation on the board; instants in UTC milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardRow {
    pub conversation_id: String,
    pub channel: Option<String>,
    pub segment: Option<String>,
    pub intent: Option<String>,
    pub lane: String,
    pub owner: Option<String>,
    pub owner_since: Option<i64>,
    pub next_action: Option<String>,
    pub last_customer_at: Option<i64>,
    pub window_closes_at: Option<i64>,
    pub last_agent_at: Option<i64>,
    pub next_update_due: Option<i64>,
    pub due_at: Option<i64>,
    pub flags: Vec<&'static str>,
    /// With `[sla]`: the earliest due instant among the pending promises, and the promises in
    /// breach (`frt`, `human_frt`, `tts`, `update`, `resolution`, in that order).
    pub sla: Option<SlaState>,
}

/// The earliest due instant among the pending promises, and the promises in breach.
pub type SlaState = (Option<i64>, Vec<&'static str>);

/// The SLA columns of the board, after `due_at`, with `[sla]`.
pub const SLA_COLUMNS: &[&str] = &["sla_due_at", "sla_breached"];

/// The SLA state of every facts row: the earliest pending due instant and the breached
/// promises; `None` without the SLA facts.
fn sla_states(f: &DataFrame) -> Result<Option<Vec<SlaState>>> {
    use crate::facts::sla::{BREACH_MASK, PENDING_DUE, breached};
    let (Ok(due), Ok(mask)) = (f.column(PENDING_DUE), f.column(BREACH_MASK)) else {
        return Ok(None);
    };
    Ok(Some(
        due.i64()?
            .iter()
            .zip(mask.u32()?.iter())
            .map(|(due, mask)| (due, breached(mask.unwrap_or(0))))
            .collect(),
    ))
}

/// Conversations with a customer exposure or a business item carrying a card number or CVV.
fn sensitive_keys(facts: &Facts) -> Result<std::collections::HashSet<u32>> {
    let mut keys = std::collections::HashSet::new();
    let Some(text) = &facts.text else {
        return Ok(keys);
    };
    let c = &text.conversations;
    for (key, at) in c
        .column("key")?
        .u32()?
        .iter()
        .zip(c.column("exposure_at")?.i64()?.iter())
    {
        if let (Some(key), Some(_)) = (key, at) {
            keys.insert(key);
        }
    }
    let items = &text.items;
    for (key, flagged) in items
        .column("key")?
        .u32()?
        .iter()
        .zip(items.column("flagged")?.bool()?.iter())
    {
        if let (Some(key), Some(true)) = (key, flagged) {
            keys.insert(key);
        }
    }
    Ok(keys)
}

/// The board at the facts' `as_of`, most urgent first: `window_expired` rows, then `due_at`
/// ascending (nulls last), then the conversation id.
pub fn build(facts: &Facts, config: &Config) -> Result<Vec<BoardRow>> {
    let f = &facts.frame;
    let as_of = facts.as_of;
    let g = &config.governance;
    let text = |name: &str| f.column(name).and_then(|c| c.str().cloned());
    let instant = |name: &str| f.column(name).and_then(|c| c.i64().cloned());
    let (ids, channels, segments, intents, lanes) = (
        text("conversation_id")?,
        text("channel")?,
        text("segment")?,
        text("intent")?,
        text("lane")?,
    );
    let (owners, now_lanes, spell_lanes, next_actions) = (
        text("now_owner")?,
        text("now_lane")?,
        text("now_spell_lane")?,
        text("now_next_action")?,
    );
    let (closed, last_customer, owner_since, assigned_at, spell_start, last_agent) = (
        instant("closed_at")?,
        instant("last_customer_at")?,
        instant("now_owner_since")?,
        instant("now_assigned_at")?,
        instant("now_spell_start")?,
        instant("now_last_agent_at")?,
    );
    let bot_handled = f.column("bot_handled")?.bool()?;
    let keys = f.column("key")?.u32()?;
    let sensitive = sensitive_keys(facts)?;
    // The brief's next action as the board shows it: redacted, markers without tokens, under
    // every storage mode.
    let detector = crate::text::detector(&config.text, None)?;
    let duplicate_open = f.column("now_duplicate_open")?.bool()?;
    let risk_line = hours_ms(config.window_risk_hours);
    let sla = sla_states(f)?;

    let mut rows = Vec::new();
    for i in 0..f.height() {
        // Open at as_of (a close after as_of is already null in the facts).
        if closed.get(i).is_some() {
            continue;
        }
        let lane = lanes.get(i).unwrap_or_default().to_owned();
        let whatsapp = channels.get(i) == Some("whatsapp");
        let now_lane = now_lanes.get(i);
        let owner = owners.get(i).map(str::to_owned);
        let agent_owned = owner.is_some() && now_lane.is_some_and(|l| config.tier(l).is_human());
        let last_customer_at = last_customer.get(i);
        let window_closes_at = last_customer_at
            .filter(|_| whatsapp)
            .map(|t| t + crate::facts::WINDOW_MS);
        let last_agent_at = last_agent.get(i);
        // The owner's clock restarts at their last visible message or the latest routing.
        let owner_clock = agent_owned.then(|| {
            last_agent_at
                .unwrap_or(i64::MIN)
                .max(assigned_at.get(i).unwrap_or(i64::MIN))
        });
        let stall_limit = now_lane.map_or(g.stall_after_ms, |l| g.stall_after_ms(l));
        let next_update_due = owner_clock.map(|t| t + stall_limit);
        let due_at = match (window_closes_at, next_update_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let next_action = next_actions
            .get(i)
            .map(|t| detector.redact_without_tokens(t));

        let mut flags = Vec::new();
        if window_closes_at.is_some_and(|t| t <= as_of) {
            flags.push("window_expired");
        }
        if whatsapp && last_customer_at.is_some_and(|t| (as_of - t) as f64 > risk_line) {
            flags.push("window_risk");
        }
        if owner_clock.is_some_and(|t| as_of - t > stall_limit) {
            flags.push("stalled");
        }
        if let (Some(start), Some(spell_lane)) = (spell_start.get(i), spell_lanes.get(i))
            && as_of - start > g.ownerless_max_ms(spell_lane)
        {
            flags.push("ownerless");
        }
        if assigned_at.get(i).is_none() && !bot_handled.get(i).unwrap_or(false) {
            flags.push("unowned");
        }
        if duplicate_open.get(i).unwrap_or(false) {
            flags.push("duplicate");
        }
        if config.tier(&lane).is_specialist() && next_action.is_none() {
            flags.push("no_next_action");
        }
        if keys.get(i).is_some_and(|k| sensitive.contains(&k)) {
            flags.push("sensitive");
        }
        rows.push(BoardRow {
            conversation_id: ids.get(i).unwrap_or_default().to_owned(),
            channel: channels.get(i).map(str::to_owned),
            segment: segments.get(i).map(str::to_owned),
            intent: intents.get(i).map(str::to_owned),
            lane,
            owner_since: owner.as_ref().and(owner_since.get(i)),
            owner,
            next_action,
            last_customer_at,
            window_closes_at,
            last_agent_at,
            next_update_due,
            due_at,
            flags,
            sla: sla.as_ref().map(|s| s[i].clone()),
        });
    }
    sort(&mut rows);
    Ok(rows)
}

/// The board's order: expired windows first, then by due instant (none last), then by
/// conversation id.
pub fn sort(rows: &mut [BoardRow]) {
    rows.sort_by(|a, b| {
        let expired = |r: &BoardRow| !r.flags.contains(&"window_expired");
        expired(a)
            .cmp(&expired(b))
            .then_with(|| match (a.due_at, b.due_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.conversation_id.cmp(&b.conversation_id))
    });
}

/// What to show: rows of one lane, one owner, or with one flag.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub lane: Option<String>,
    pub owner: Option<String>,
    pub flag: Option<String>,
}

impl Filter {
    pub fn keeps(&self, row: &BoardRow) -> bool {
        self.lane.as_ref().is_none_or(|l| *l == row.lane)
            && self
                .owner
                .as_ref()
                .is_none_or(|o| row.owner.as_ref() == Some(o))
            && self
                .flag
                .as_ref()
                .is_none_or(|f| row.flags.iter().any(|x| x == f))
    }
}

/// Counts per flag, in flag order (for the report's header).
pub fn flag_counts(rows: &[BoardRow]) -> Vec<(&'static str, usize)> {
    FLAGS
        .iter()
        .map(|f| (*f, rows.iter().filter(|r| r.flags.contains(f)).count()))
        .collect()
}

/// One template at `as_of`, for the report's templates table.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateLine {
    pub name: String,
    /// The latest status row at or before `as_of` (`unknown` without one).
    pub status: String,
    /// That row's `changed_at`.
    pub since: Option<i64>,
    /// Sends in the report period, and the blocked ones among them.
    pub sends: u64,
    pub blocked: u64,
}

/// Every template seen in the status history or in a send, with its status at `as_of` and its
/// sends in `[from, to)`. `None` without a status history (`sends` is then `None` too).
pub fn templates(
    data: &crate::dataset::Dataset,
    sends: Option<&LazyFrame>,
    as_of: i64,
    from: i64,
    to: i64,
) -> Result<Option<Vec<TemplateLine>>> {
    use std::collections::BTreeMap;
    let Some(sends) = sends else {
        return Ok(None);
    };
    let history = data
        .table(crate::ingest::schema::Table::Templates)?
        .select([
            col("template_name"),
            col("changed_at").cast(DataType::Int64),
            col("status"),
            col(crate::ingest::schema::SOURCE_ROW),
        ])
        .filter(col("changed_at").lt_eq(lit(as_of)))
        .sort(
            ["changed_at", crate::ingest::schema::SOURCE_ROW],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let mut lines: BTreeMap<String, TemplateLine> = BTreeMap::new();
    let line = |name: &str| TemplateLine {
        name: name.to_owned(),
        status: "unknown".to_owned(),
        since: None,
        sends: 0,
        blocked: 0,
    };
    let names = history.column("template_name")?.str()?;
    let changed = history.column("changed_at")?.i64()?;
    let statuses = history.column("status")?.str()?;
    // In time (then input) order, so the last row of a name is its status at as_of.
    for i in 0..history.height() {
        let name = names.get(i).unwrap_or_default();
        let entry = lines.entry(name.to_owned()).or_insert_with(|| line(name));
        entry.status = statuses.get(i).unwrap_or("unknown").to_owned();
        entry.since = changed.get(i);
    }
    // Every template ever sent is listed; its counts are those of the period.
    let in_window = col("at").gt_eq(lit(from)).and(col("at").lt(lit(to)));
    let in_period = sends
        .clone()
        .group_by([col("template_name")])
        .agg([
            in_window
                .clone()
                .cast(DataType::UInt64)
                .sum()
                .alias("sends"),
            in_window
                .and(col("blocked"))
                .cast(DataType::UInt64)
                .sum()
                .alias("blocked"),
        ])
        .collect()?;
    let names = in_period.column("template_name")?.str()?;
    let counts = in_period.column("sends")?.u64()?;
    let blocked = in_period.column("blocked")?.u64()?;
    for i in 0..in_period.height() {
        let name = names.get(i).unwrap_or_default();
        let entry = lines.entry(name.to_owned()).or_insert_with(|| line(name));
        entry.sends = counts.get(i).unwrap_or(0);
        entry.blocked = blocked.get(i).unwrap_or(0);
    }
    Ok(Some(lines.into_values().collect()))
}

/// The template lines of several partitions of the conversations as one: the same status
/// history, their sends added up.
pub fn merge_templates(parts: Vec<Option<Vec<TemplateLine>>>) -> Option<Vec<TemplateLine>> {
    use std::collections::BTreeMap;
    let mut out: Option<BTreeMap<String, TemplateLine>> = None;
    for lines in parts.into_iter().flatten() {
        let merged = out.get_or_insert_with(BTreeMap::new);
        for line in lines {
            match merged.get_mut(&line.name) {
                Some(seen) => {
                    seen.sends += line.sends;
                    seen.blocked += line.blocked;
                }
                None => {
                    merged.insert(line.name.clone(), line);
                }
            }
        }
    }
    out.map(|lines| lines.into_values().collect())
}

/// The board in SQL, for `l2lens sql --board`: CTEs after the facts table's (they read
/// `routing`, `msg`, `conv` and `facts`), ending with `board`, whose rows and order are
/// [`build`]'s. The export fills the placeholders (lane limits, tiers, the window, the risk
/// line, the duplicate rule); the tests run it on DuckDB and Spark against `l2lens board`. The
/// flags are joined with `chr(59)`, a `;`: a literal `';'` would break tools that split the file
/// on semicolons.
pub const SQL: &str = r#"board_owner_runs AS (
  SELECT conversation_id, ts, assignee_id,
         SUM(CASE WHEN prev_row IS NULL
                    OR NOT (COALESCE(assignee_id = prev_assignee, FALSE)
                            OR (assignee_id IS NULL AND prev_assignee IS NULL))
                  THEN 1 ELSE 0 END)
           OVER (PARTITION BY conversation_id ORDER BY ts, source_row ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS owner_run,
         ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY ts DESC, source_row DESC) AS from_last
  FROM (
    SELECT r.*,
           LAG(r.source_row) OVER (PARTITION BY r.conversation_id ORDER BY r.ts, r.source_row) AS prev_row,
           LAG(r.assignee_id) OVER (PARTITION BY r.conversation_id ORDER BY r.ts, r.source_row) AS prev_assignee
    FROM routing r) x
),
board_current AS (
  SELECT conversation_id, ts AS now_assigned_at, lane AS now_lane, tier AS now_tier,
         assignee_id AS now_owner,
         CASE WHEN tier >= 1 AND assignee_id IS NULL THEN 1 ELSE 0 END AS now_queued
  FROM routing_ordered WHERE from_last = 1
),
board_owner AS (
  SELECT b.conversation_id, min(b.ts) AS owner_since
  FROM board_owner_runs b JOIN board_owner_runs c
    ON c.conversation_id = b.conversation_id AND c.from_last = 1 AND c.owner_run = b.owner_run
  WHERE c.assignee_id IS NOT NULL
  GROUP BY b.conversation_id
),
board_spell AS (
  -- The spell the current assignment is part of: the one running to the last row.
  SELECT conversation_id, start_ts AS spell_start, spell_lane FROM spells WHERE next_ts IS NULL
),
board_agent AS (
  SELECT conversation_id, max(ts) AS last_agent_at
  FROM msg WHERE sender = 'agent' AND (kind IS NULL OR kind <> 'internal_note')
  GROUP BY conversation_id
),
board_brief AS (
  SELECT conversation_id,
         CASE WHEN next_action IS NULL OR length(trim(next_action)) = 0 THEN NULL
              ELSE {NO_TOKENS} END AS next_action
  FROM (
    SELECT h.conversation_id, h.next_action,
           ROW_NUMBER() OVER (PARTITION BY h.conversation_id ORDER BY {HANDOFF} DESC, h.source_row DESC) AS from_last
    FROM handoffs h
    WHERE {HANDOFF} <= (SELECT t FROM params)) x
  WHERE from_last = 1
),
board_sensitive AS (
  SELECT DISTINCT tf.conversation_id FROM text_findings tf
  WHERE {FOUND_AT} <= (SELECT t FROM params)
    AND ((tf.source = 'message' AND tf.sender = 'customer' AND tf.kind IN ({SENSITIVE_KINDS}))
      OR (tf.kind IN ('pan', 'cvv') AND (tf.source = 'handoff' OR tf.sender IN ('bot', 'agent'))))
),
board_state AS (
  SELECT f.conversation_id, f.channel, f.segment, f.intent, f.lane, f.bot_handled, f.last_customer_at,
         {LANE_TIER} AS lane_tier,
         c.now_assigned_at, c.now_lane, c.now_owner, c.now_queued,
         o.owner_since, s.spell_start, s.spell_lane, a.last_agent_at, b.next_action,
         d.conversation_id IS NOT NULL AND d.duplicate_closed_at IS NULL AS duplicate_open,
         x.conversation_id IS NOT NULL AS sensitive,
         CASE WHEN f.channel = 'whatsapp' THEN f.last_customer_at + {WINDOW_MS} END AS window_closes_at,
         CASE WHEN c.now_owner IS NOT NULL AND c.now_tier >= 1
              THEN CASE WHEN a.last_agent_at IS NOT NULL AND a.last_agent_at > c.now_assigned_at
                        THEN a.last_agent_at ELSE c.now_assigned_at END END AS owner_clock,
         {NOW_STALL_LIMIT} AS stall_limit
  FROM facts f
  LEFT JOIN board_current c ON c.conversation_id = f.conversation_id
  LEFT JOIN board_owner o ON o.conversation_id = f.conversation_id
  LEFT JOIN board_spell s ON s.conversation_id = f.conversation_id
  LEFT JOIN board_agent a ON a.conversation_id = f.conversation_id
  LEFT JOIN board_brief b ON b.conversation_id = f.conversation_id
  LEFT JOIN duplicate_links d ON d.conversation_id = f.conversation_id
  LEFT JOIN board_sensitive x ON x.conversation_id = f.conversation_id
  WHERE f.closed_at IS NULL
),
board_due AS (
  SELECT b.*, owner_clock + stall_limit AS next_update_due,
         CASE WHEN window_closes_at IS NULL THEN owner_clock + stall_limit
              WHEN owner_clock IS NULL THEN window_closes_at
              WHEN window_closes_at <= owner_clock + stall_limit THEN window_closes_at
              ELSE owner_clock + stall_limit END AS due_at
  FROM board_state b
),
board AS (
  SELECT conversation_id, channel, segment, intent, lane,
         now_owner AS owner,
         CASE WHEN now_owner IS NOT NULL THEN owner_since END AS owner_since,
         next_action, last_customer_at, window_closes_at, last_agent_at, next_update_due, due_at,
         concat_ws(chr(59),
           CASE WHEN window_closes_at <= (SELECT t FROM params) THEN 'window_expired' END,
           CASE WHEN channel = 'whatsapp' AND (SELECT t FROM params) - last_customer_at > {RISK_MS} THEN 'window_risk' END,
           CASE WHEN (SELECT t FROM params) - owner_clock > stall_limit THEN 'stalled' END,
           CASE WHEN now_queued = 1 AND (SELECT t FROM params) - spell_start > {NOW_OWNERLESS_LIMIT} THEN 'ownerless' END,
           CASE WHEN now_assigned_at IS NULL AND NOT bot_handled THEN 'unowned' END,
           CASE WHEN duplicate_open THEN 'duplicate' END,
           CASE WHEN lane_tier >= 2 AND next_action IS NULL THEN 'no_next_action' END,
           CASE WHEN sensitive THEN 'sensitive' END) AS flags,
         CASE WHEN window_closes_at <= (SELECT t FROM params) THEN 0 ELSE 1 END AS expired_last
  FROM board_due
)"#;
