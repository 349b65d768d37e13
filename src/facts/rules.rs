//! The small rules every consumer of the facts shares, each with one owner: the lane
//! fallback, the three durations, "hours silent", the 24-hour window, the repeat horizon and the
//! brief's grace after a specialist entry. The facts, the metrics, their drill-downs
//! and the SQL view all call these.

use polars::prelude::*;

use crate::time::MS_PER_HOUR;

/// WhatsApp's customer service window: free-form replies only within 24 h of the customer's
/// last message.
pub const WINDOW_MS: i64 = 24 * MS_PER_HOUR;

/// The repeat-contact horizon of `repeat_48h`: a customer back within 48 h of a close.
pub const REPEAT_HORIZON_MS: i64 = 48 * MS_PER_HOUR;

/// Whether a brief is complete: its intent, attempted steps and current status are filled in
/// (`present`: intent, key details, attempted steps, current status, next action). Read by
/// `context_complete` and by the specialist entries' brief state alike.
pub fn brief_complete(present: &[bool; 5]) -> bool {
    let [intent, _details, steps, status, _next] = *present;
    intent && steps && status
}

/// The same rule in SQL, over a handoff row aliased `h`.
pub const BRIEF_COMPLETE_SQL: &str = "h.intent IS NOT NULL AND length(trim(h.intent)) > 0 \
     AND h.attempted_steps IS NOT NULL AND length(trim(h.attempted_steps)) > 0 \
     AND h.current_status IS NOT NULL AND length(trim(h.current_status)) > 0";

/// How long after the first specialist assignment a handoff still counts as its brief
/// (`context_complete`, `context_score`).
pub const BRIEF_AFTER_MS: i64 = 60_000;

/// The lane rule: the lane of the latest assignment, else `automation` when the bot has
/// spoken, else `unassigned`. The facts table applies it at `as_of`, the window snapshots at
/// each snapshot.
pub fn lane_or_fallback(latest_lane: Expr, bot_spoke: Expr) -> Expr {
    latest_lane.fill_null(
        when(bot_spoke.fill_null(lit(false)))
            .then(lit("automation"))
            .otherwise(lit("unassigned")),
    )
}

/// A duration between two Int64-ms columns, in seconds.
pub fn seconds_between(from: &str, to: &str) -> Expr {
    (col(to) - col(from)).cast(DataType::Float64) / lit(1000.0)
}

/// First response time in seconds (metric 1).
pub fn frt_seconds() -> Expr {
    seconds_between("first_customer_at", "first_reply_at")
}

/// Time to specialist in seconds, clamped at 0 when the specialist came before the
/// customer's first message (metric 2).
pub fn tts_seconds() -> Expr {
    seconds_between("first_customer_at", "specialist_at").clip_min(lit(0.0))
}

/// Resolution time in seconds (metric 8).
pub fn art_seconds() -> Expr {
    seconds_between("opened_at", "closed_at")
}

/// Milliseconds from the customer's last message to `at`, as Float64.
pub fn silence_ms(at: Expr) -> Expr {
    (at - col("last_customer_at")).cast(DataType::Float64)
}

/// Hours since the customer's last message at `at`, for a thread still open (null for closed
/// threads and threads the customer never wrote in): every "hours silent" column.
pub fn hours_silent(at: Expr) -> Expr {
    when(
        col("closed_at")
            .is_null()
            .and(col("last_customer_at").is_not_null()),
    )
    // Times the reciprocal, as polars divides a column by a number: the same bits for one row
    // as for many.
    .then(silence_ms(at) * lit(1.0 / crate::time::MS_PER_HOUR as f64))
    .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The error code of a send refused because the 24-hour window had closed (governance G8).
pub const OUTSIDE_WINDOW: &str = "131047";

#[cfg(test)]
mod tests {
    use super::brief_complete;

    #[test]
    fn a_brief_is_complete_with_intent_steps_and_status_whatever_else() {
        // intent, key details, attempted steps, current status, next action
        assert!(brief_complete(&[true, false, true, true, false]));
        assert!(
            !brief_complete(&[true, true, false, true, true]),
            "no steps"
        );
        assert!(
            !brief_complete(&[false, true, true, true, true]),
            "no intent"
        );
        assert!(
            !brief_complete(&[true, true, true, false, true]),
            "no status"
        );
    }
}
