//! Repeat contacts within 48 hours of a close (`repeat_48h`): the customer wrote again in
//! the same conversation, or opened another conversation with the same entry intent (two
//! missing intents count as the same issue) in `(closed_at, closed_at + 48 h]`.

use anyhow::Result;
use polars::prelude::*;

use super::{inner, sorted};

const MS_48H: i64 = 48 * 3_600_000;

/// Conversations that can be judged: closed, with 48 hours of hindsight before `as_of`.
pub(super) fn eligible(as_of: i64) -> Expr {
    col("closed_at")
        .is_not_null()
        .and((col("closed_at") + lit(MS_48H)).lt_eq(lit(as_of)))
}

/// `(key, wrote_again)` and `(key, returned)` of the eligible conversations.
pub(super) fn contacts(
    conversations: &LazyFrame,
    messages: &LazyFrame,
    firsts: &LazyFrame,
    as_of: i64,
) -> Result<(LazyFrame, LazyFrame)> {
    // Repeat contact (a): the customer wrote in this conversation within 48 h of the close.
    // Only conversations whose last customer message is after the close can qualify, so
    // only their messages are looked at.
    let eligible = eligible(as_of);
    let closes = inner(
        conversations
            .clone()
            .filter(eligible.clone())
            .select([col("key"), col("closed_at")]),
        firsts.clone().select([col("key"), col("last_customer_at")]),
        "key",
    )
    .filter(col("last_customer_at").gt(col("closed_at")))
    .select([col("key"), col("closed_at")]);
    let wrote_again = inner(
        messages
            .clone()
            .filter(col("is_customer"))
            .select([col("key"), col("at")]),
        closes,
        "key",
    )
    .filter(
        col("at")
            .gt(col("closed_at"))
            .and(col("at").lt_eq(col("closed_at") + lit(MS_48H))),
    )
    .group_by([col("key")])
    .agg([len().gt(lit(0)).alias("wrote_again")]);

    // Repeat contact (b): another conversation of the same customer and intent (nulls equal)
    // opened in (closed_at, closed_at + 48 h]. Each (customer, intent) pair gets an integer
    // issue id; opens and closes are sorted by (issue, time, opens first) and the next open
    // after a close is found by a backward fill.
    let issue_keys = || [col("customer_id"), col("intent_null"), col("intent_value")];
    let with_issue = conversations.clone().select([
        col("key"),
        col("opened_at"),
        col("closed_at"),
        col("customer_id"),
        col("intent").is_null().alias("intent_null"),
        col("intent").fill_null(lit("")).alias("intent_value"),
    ]);
    let issues = with_issue
        .clone()
        .group_by(issue_keys())
        .agg([col("key").min().alias("issue")]);
    let with_issue = with_issue
        .join(
            issues,
            issue_keys(),
            issue_keys(),
            JoinArgs::new(JoinType::Inner),
        )
        .select([col("key"), col("opened_at"), col("closed_at"), col("issue")])
        .cache();
    let events = concat(
        [
            with_issue.clone().select([
                col("key"),
                col("issue"),
                col("opened_at").alias("t"),
                lit(false).alias("is_close"),
            ]),
            with_issue.filter(eligible.clone()).select([
                col("key"),
                col("issue"),
                col("closed_at").alias("t"),
                lit(true).alias("is_close"),
            ]),
        ],
        UnionArgs::default(),
    )?;
    let next_open = |name: &str| {
        when(col("is_close").not())
            .then(col(name))
            .otherwise(lit(NULL))
            .fill_null_with_strategy(FillNullStrategy::Backward(None))
    };
    let returned = sorted(events, &["issue", "t", "is_close"])
        .with_columns([
            next_open("t").alias("next_t"),
            next_open("issue").alias("next_issue"),
        ])
        .filter(col("is_close"))
        .select([
            col("key"),
            col("next_issue")
                .eq(col("issue"))
                .and(col("next_t").lt_eq(col("t") + lit(MS_48H)))
                .fill_null(lit(false))
                .alias("returned"),
        ]);
    Ok((wrote_again, returned))
}
