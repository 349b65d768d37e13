//! The facts table in SQL, for `l2lens sql`: the same rules as [`super::core`] and
//! [`super::repeat`], with the small rules ([`super::rules`]) and the configuration filled in by
//! the export's placeholders. The tests run it on DuckDB and Spark against `l2lens facts`'
//! metrics, row for row.

/// The facts table as CTEs (instants as BIGINT milliseconds), ending with `facts`.
pub const FACTS: &str = r#"params AS (
  {AS_OF_QUERY}
),
conv AS (
  SELECT c.conversation_id, c.customer_id, c.source_customer_id, c.customer_id_kind AS own_kind,
         c.market AS own_market, c.channel, c.segment, c.intent, c.source_row,
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
-- The calls at as_of (whatsapp-2026.md A.1): an answer or end after as_of is unknown, and the
-- status then follows the answer, and a call with an answer time and no status was answered.
call_rows AS (
  SELECT k.call_id, k.conversation_id, k.direction, {PLACED} AS placed_at, k.status AS given,
         CASE WHEN {ANSWERED} > (SELECT t FROM params) THEN NULL ELSE {ANSWERED} END AS answered_at,
         COALESCE({ANSWERED} > (SELECT t FROM params), FALSE)
           OR COALESCE({ENDED} > (SELECT t FROM params), FALSE) AS late
  FROM calls k JOIN conv c ON c.conversation_id = k.conversation_id
  WHERE {PLACED} <= (SELECT t FROM params)
),
call_facts AS (
  SELECT call_id, conversation_id, direction, placed_at, answered_at,
         CASE WHEN late OR given IS NULL THEN CASE WHEN answered_at IS NOT NULL THEN 'answered' END
              ELSE given END AS status
  FROM call_rows
),
-- The customer's touches: messages, and the user calls `[calls] window_refresh` counts.
touches AS (
  SELECT conversation_id, ts FROM msg WHERE sender = 'customer'
  UNION ALL
  SELECT conversation_id, placed_at AS ts FROM call_facts
  WHERE direction = 'user_initiated' AND {COUNTED_CALL}
),
touch_facts AS (
  SELECT conversation_id, min(ts) AS first_touch_at, max(ts) AS last_customer_at
  FROM touches GROUP BY conversation_id
),
-- What first response reads: the messages, and with `[calls] frt` the user calls (as customer
-- messages) and the answer times of answered calls (as agent replies).
frt_events AS (
  SELECT conversation_id, ts, sender, kind FROM msg{FRT_CALL_EVENTS}
),
firsts AS (
  SELECT conversation_id,
         min(CASE WHEN sender = 'customer' THEN ts END) AS first_customer_at,
         min(CASE WHEN sender = 'bot' THEN ts END) AS first_bot_at
  FROM frt_events GROUP BY conversation_id
),
replies AS (
  SELECT m.conversation_id, min(m.ts) AS first_reply_at
  FROM frt_events m JOIN firsts f USING (conversation_id)
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
stays AS (
  SELECT conversation_id, ts, source_row, lane, tier,
         LAG(lane, 2) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS lane_two_before
  FROM (
    SELECT r.*, LAG(lane) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS prev_lane
    FROM routing r) x
  WHERE prev_lane IS NULL OR prev_lane <> lane
),
-- Ownerless spells as gaps and islands: a spell starts at a human-lane row with no assignee
-- whose previous row is not one, and ends at the row after its last row, the close or as_of
-- (next_ts is null when the spell runs to the last row).
queue_rows AS (
  SELECT conversation_id, ts, source_row, lane,
         CASE WHEN tier >= 1 AND assignee_id IS NULL THEN 1 ELSE 0 END AS queued
  FROM routing
),
queue_steps AS (
  SELECT q.*,
         COALESCE(LAG(queued) OVER (PARTITION BY conversation_id ORDER BY ts, source_row), 0) AS prev_queued,
         COALESCE(LEAD(queued) OVER (PARTITION BY conversation_id ORDER BY ts, source_row), 0) AS next_queued,
         LEAD(ts) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS next_ts
  FROM queue_rows q
),
queue_spells AS (
  SELECT s.*,
         SUM(CASE WHEN queued = 1 AND prev_queued = 0 THEN 1 ELSE 0 END)
           OVER (PARTITION BY conversation_id ORDER BY ts, source_row ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS spell
  FROM queue_steps s
),
spells AS (
  SELECT q.conversation_id, q.spell, min(q.ts) AS start_ts,
         max(CASE WHEN q.prev_queued = 0 THEN q.lane END) AS spell_lane,
         max(CASE WHEN q.next_queued = 0 THEN q.next_ts END) AS next_ts,
         max(COALESCE(c.closed_at, (SELECT t FROM params))) AS end_ts
  FROM queue_spells q JOIN conv c USING (conversation_id)
  WHERE q.queued = 1
  GROUP BY q.conversation_id, q.spell
),
-- duplicate_of: the earliest earlier conversation (by opened_at, then input order) of the same
-- customer and channel (and intent, when configured, two nulls equal) open at this one's
-- opened_at, with its close.
duplicate_links AS (
  SELECT conversation_id, duplicate_of, duplicate_closed_at FROM (
    SELECT c.conversation_id, p.conversation_id AS duplicate_of, p.closed_at AS duplicate_closed_at,
           ROW_NUMBER() OVER (PARTITION BY c.conversation_id ORDER BY p.opened_at, p.source_row) AS k
    FROM conv c JOIN conv p
      ON p.customer_id = c.customer_id
     AND (p.channel = c.channel OR (p.channel IS NULL AND c.channel IS NULL)){DUPLICATE_INTENT}
     AND (p.opened_at < c.opened_at OR (p.opened_at = c.opened_at AND p.source_row < c.source_row))
     AND (p.closed_at IS NULL OR p.closed_at > c.opened_at)) x
  WHERE k = 1
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
         {BRIEF_COMPLETE} AS complete,
         ROW_NUMBER() OVER (PARTITION BY h.conversation_id ORDER BY {HANDOFF} DESC, h.source_row DESC) AS from_last
  FROM handoffs h JOIN routing_facts r USING (conversation_id)
  WHERE {HANDOFF} <= (SELECT t FROM params) AND {HANDOFF} <= r.specialist_at + {BRIEF_AFTER_MS}
),
brief_facts AS (
  SELECT conversation_id,
         complete AS context_complete,
         (p_intent + p_details + p_steps + p_status + p_next) / 5E0 AS context_score
  FROM briefs WHERE from_last = 1
),
agent_replies AS (
  SELECT m.conversation_id, min(m.ts) AS first_agent_reply_at
  FROM frt_events m JOIN routing_facts r USING (conversation_id)
  WHERE m.sender = 'agent' AND (m.kind IS NULL OR m.kind <> 'internal_note') AND m.ts >= r.first_human_at
  GROUP BY m.conversation_id
),
eligible AS (
  SELECT conversation_id, customer_id, intent, closed_at FROM conv
  WHERE closed_at IS NOT NULL AND closed_at + {REPEAT_MS} <= (SELECT t FROM params)
),
wrote_again AS (
  SELECT e.conversation_id, 1 AS hit
  FROM eligible e JOIN msg m ON m.conversation_id = e.conversation_id
  WHERE m.sender = 'customer' AND m.ts > e.closed_at AND m.ts <= e.closed_at + {REPEAT_MS}
  GROUP BY e.conversation_id
),
returned AS (
  SELECT e.conversation_id, 1 AS hit
  FROM eligible e JOIN conv o ON o.customer_id = e.customer_id
  WHERE ((o.intent IS NULL AND e.intent IS NULL) OR o.intent = e.intent)
    AND o.opened_at > e.closed_at AND o.opened_at <= e.closed_at + {REPEAT_MS}
  GROUP BY e.conversation_id
),
repeats AS (
  SELECT e.conversation_id, (w.hit IS NOT NULL OR r.hit IS NOT NULL) AS repeat_48h
  FROM eligible e
  LEFT JOIN wrote_again w ON w.conversation_id = e.conversation_id
  LEFT JOIN returned r ON r.conversation_id = e.conversation_id
),
-- The owner group (outcomes-sla.md C): the last person in a human lane, else the bot when no
-- person touched a bot conversation, else nobody named.
owner_rows AS (
  SELECT conversation_id, assignee_id FROM (
    SELECT conversation_id, assignee_id,
           ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY ts DESC, source_row DESC) AS from_last
    FROM routing WHERE tier >= 1 AND assignee_id IS NOT NULL) x
  WHERE from_last = 1
),
agent_firsts AS (
  SELECT conversation_id, min(ts) AS first_agent_at
  FROM msg WHERE sender = 'agent' AND (kind IS NULL OR kind <> 'internal_note')
  GROUP BY conversation_id
),
-- The kind and market digits of the customer (whatsapp-2026.md B.4): the conversation's own
-- columns when the aliases kept its id, else those of the first conversation whose own id is the
-- resolved one, else recognised from the resolved id.
root_kinds AS (
  SELECT source_customer_id, own_kind, own_market FROM (
    SELECT source_customer_id, own_kind, own_market,
           ROW_NUMBER() OVER (PARTITION BY source_customer_id ORDER BY source_row) AS k
    FROM conv WHERE own_kind IS NOT NULL) x
  WHERE k = 1
),
customer_kinds AS (
  SELECT c.conversation_id,
         CASE WHEN c.customer_id = c.source_customer_id AND c.own_kind IS NOT NULL THEN c.own_kind
              WHEN c.customer_id <> c.source_customer_id AND r.own_kind IS NOT NULL THEN r.own_kind
              WHEN {IS_BSUID} THEN 'bsuid' WHEN {IS_PHONE} THEN 'phone' ELSE 'other' END AS customer_kind,
         CASE WHEN c.customer_id = c.source_customer_id AND c.own_kind IS NOT NULL
                THEN CASE WHEN c.own_kind = 'phone' THEN c.own_market END
              WHEN c.customer_id <> c.source_customer_id AND r.own_kind IS NOT NULL
                THEN CASE WHEN r.own_kind = 'phone' THEN r.own_market END
              WHEN {IS_BSUID} THEN NULL WHEN {IS_PHONE} THEN {PHONE_DIGITS} END AS market
  FROM conv c LEFT JOIN root_kinds r ON r.source_customer_id = c.customer_id
),
facts AS (
  SELECT c.conversation_id, c.customer_id, c.channel, c.segment, c.intent, c.source_row,
         c.opened_at, c.closed_at, ck.customer_kind, ck.market,
         f.first_customer_at, tf.last_customer_at, tf.first_touch_at, f.first_bot_at, rp.first_reply_at,
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
         rep.repeat_48h,
         CASE WHEN ow.assignee_id = 'ALL' THEN 'unowned'
              WHEN ow.assignee_id IS NOT NULL THEN ow.assignee_id
              WHEN f.first_bot_at IS NOT NULL AND NOT COALESCE(r.reached_human, FALSE)
                   AND af.first_agent_at IS NULL THEN 'bot'
              ELSE 'unowned' END AS owner_group,
         af.first_agent_at
  FROM conv c
  LEFT JOIN firsts f USING (conversation_id)
  LEFT JOIN replies rp USING (conversation_id)
  LEFT JOIN routing_facts r USING (conversation_id)
  LEFT JOIN owner_facts o USING (conversation_id)
  LEFT JOIN traps t USING (conversation_id)
  LEFT JOIN brief_facts b USING (conversation_id)
  LEFT JOIN agent_replies ar USING (conversation_id)
  LEFT JOIN repeats rep USING (conversation_id)
  LEFT JOIN touch_facts tf USING (conversation_id)
  LEFT JOIN customer_kinds ck USING (conversation_id)
  LEFT JOIN owner_rows ow USING (conversation_id)
  LEFT JOIN agent_firsts af USING (conversation_id)
)"#;

/// Business time in SQL (`frt_bh_s`, `tts_bh_s`, `art_bh_s`, as [`super::business`]): each
/// duration is cut at the conversation's assignment instants, each piece charged to the
/// schedule of the lane current at its start (the default before the first assignment; `NULL`
/// is always open), and a schedule's open time up to an instant, F(t), is read from the table
/// `calendar` that `l2lens calendar` writes: per schedule and UTC day (`day`, days since
/// 1970-01-01), an anchor row at midnight and the day's open intervals, each with the open
/// milliseconds before it. An instant the calendar does not cover has no business time (null).
pub const BH_SPANS: &str = r#"bh_spans AS (
  SELECT conversation_id, ts AS span_start,
         LEAD(ts) OVER (PARTITION BY conversation_id ORDER BY ts, source_row) AS span_end,
         {SCHEDULE_OF_LANE} AS schedule
  FROM routing
  UNION ALL
  SELECT c.conversation_id, CAST(NULL AS BIGINT) AS span_start, r.first_ts AS span_end,
         {DEFAULT_SCHEDULE} AS schedule
  FROM conv c LEFT JOIN (SELECT conversation_id, min(ts) AS first_ts FROM routing GROUP BY conversation_id) r
    ON r.conversation_id = c.conversation_id
)"#;

/// The business durations of the facts, over [`BH_SPANS`].
pub const BUSINESS: &str = r#"bh_durations AS (
  SELECT conversation_id, 'frt' AS what, first_customer_at AS a, first_reply_at AS b FROM facts
  WHERE first_customer_at IS NOT NULL AND first_reply_at IS NOT NULL
  UNION ALL
  SELECT conversation_id, 'tts', first_customer_at, specialist_at FROM facts
  WHERE first_customer_at IS NOT NULL AND specialist_at IS NOT NULL
  UNION ALL
  SELECT conversation_id, 'art', opened_at, closed_at FROM facts WHERE closed_at IS NOT NULL
),
bh_pieces AS (
  SELECT d.conversation_id, d.what, s.schedule,
         CASE WHEN s.span_start IS NULL OR s.span_start < d.a THEN d.a ELSE s.span_start END AS p_from,
         CASE WHEN s.span_end IS NULL OR s.span_end > d.b THEN d.b ELSE s.span_end END AS p_to
  FROM bh_durations d JOIN bh_spans s ON s.conversation_id = d.conversation_id
  WHERE d.b > d.a
    AND (s.span_start IS NULL OR s.span_start < d.b)
    AND (s.span_end IS NULL OR s.span_end > d.a)
),
bh_instants AS (
  SELECT DISTINCT schedule, t FROM (
    SELECT schedule, p_from AS t FROM bh_pieces
    UNION ALL
    SELECT schedule, p_to AS t FROM bh_pieces) x
  WHERE schedule IS NOT NULL
),
bh_open AS (
  SELECT i.schedule, i.t,
         max(k.open_before_ms + CASE WHEN i.t < k.end_ms THEN i.t ELSE k.end_ms END - k.start_ms) AS open_ms
  FROM bh_instants i JOIN calendar k
    ON k.schedule = i.schedule AND k.day = CAST(floor(i.t / 86400000E0) AS BIGINT) AND k.start_ms <= i.t
  GROUP BY i.schedule, i.t
),
bh_charged AS (
  SELECT p.conversation_id, p.what,
         CASE WHEN p.schedule IS NULL THEN p.p_to - p.p_from ELSE t.open_ms - f.open_ms END AS ms
  FROM bh_pieces p
  LEFT JOIN bh_open f ON f.schedule = p.schedule AND f.t = p.p_from
  LEFT JOIN bh_open t ON t.schedule = p.schedule AND t.t = p.p_to
),
bh_totals AS (
  SELECT conversation_id, what,
         CASE WHEN count(*) = count(ms) THEN sum(ms) END AS ms
  FROM bh_charged GROUP BY conversation_id, what
),
business_facts AS (
  SELECT f.*,
         CASE WHEN f.first_customer_at IS NOT NULL AND f.first_reply_at IS NOT NULL
              THEN CASE WHEN fr.conversation_id IS NULL THEN 0E0 ELSE fr.ms / 1000E0 END END AS frt_bh_s,
         CASE WHEN f.first_customer_at IS NOT NULL AND f.specialist_at IS NOT NULL
              THEN CASE WHEN f.specialist_at <= f.first_customer_at THEN 0E0 ELSE ts.ms / 1000E0 END END AS tts_bh_s,
         CASE WHEN f.closed_at IS NOT NULL
              THEN CASE WHEN ar.conversation_id IS NULL THEN 0E0 ELSE ar.ms / 1000E0 END END AS art_bh_s
  FROM facts f
  LEFT JOIN bh_totals fr ON fr.conversation_id = f.conversation_id AND fr.what = 'frt'
  LEFT JOIN bh_totals ts ON ts.conversation_id = f.conversation_id AND ts.what = 'tts'
  LEFT JOIN bh_totals ar ON ar.conversation_id = f.conversation_id AND ar.what = 'art'
)"#;
