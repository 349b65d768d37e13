//! Outbound sends the governance checks count: template sends with their template's status at
//! send time (G5), and failed sends (G8). One row per send, keyed by conversation.

use anyhow::Result;
use polars::prelude::*;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::ingest::schema::{CONVERSATION_KEY, SOURCE_ROW, Table};

/// Template sends at or before `as_of` (messages of kind `template` from the bot or an agent
/// with a `template_name`): `key`, `at`, `template_name`, `status` (the latest status row of
/// that name with `changed_at <= at`, ties to the later row; `unknown` without one) and
/// `blocked` (the status is in `blocked_template_statuses`). `None` when the data has no
/// template status history.
pub fn template_sends(data: &Dataset, config: &Config, as_of: i64) -> Result<Option<LazyFrame>> {
    if !data.has(Table::Templates) {
        return Ok(None);
    }
    // Streamed once here: the in-memory engine would read the kind, sender and template
    // columns of every message at once (3 GiB at 10 M conversations) to keep a few sends.
    let sends = crate::dataset::stream(
        data.table(Table::Messages)?
            .filter(
                col("kind")
                    .eq(lit("template"))
                    .and(
                        col("sender")
                            .eq(lit("bot"))
                            .or(col("sender").eq(lit("agent"))),
                    )
                    .and(col("template_name").is_not_null())
                    .and(col("sent_at").cast(DataType::Int64).lt_eq(lit(as_of))),
            )
            .select([
                col(CONVERSATION_KEY).alias("key"),
                col("sent_at").cast(DataType::Int64).alias("at"),
                col("template_name"),
                col(SOURCE_ROW).alias("send_row"),
            ]),
    )?
    .lazy();
    let history = data.table(Table::Templates)?.select([
        col("template_name"),
        col("changed_at").cast(DataType::Int64).alias("changed_at"),
        col("status"),
        col(SOURCE_ROW).alias("history_row"),
    ]);
    let on = || [col("key"), col("send_row")];
    let status_then = sends
        .clone()
        .join(
            history,
            [col("template_name")],
            [col("template_name")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("changed_at").lt_eq(col("at")))
        .group_by(on())
        .agg([col("status")
            .sort_by(
                [col("changed_at"), col("history_row")],
                SortMultipleOptions::default(),
            )
            .last()
            .alias("status")]);
    let blocked = config
        .governance
        .blocked_template_statuses
        .iter()
        .fold(lit(false), |any, s| {
            any.or(col("status").eq(lit(s.clone())))
        });
    Ok(Some(
        sends
            .join(status_then, on(), on(), JoinArgs::new(JoinType::Left))
            .with_column(col("status").fill_null(lit("unknown")))
            .with_column(blocked.alias("blocked")),
    ))
}

/// Failed sends at or before `as_of`: `key`, `at` (`failed_at`), `error_code` and
/// `since_touch_h`, the hours since the customer's latest touch at or before the failure (null
/// without one). `None` when the data has no `send_failures` table.
pub fn send_failures(
    data: &Dataset,
    as_of: i64,
    touches: &super::CustomerMessages,
) -> Result<Option<LazyFrame>> {
    if !data.has(Table::SendFailures) {
        return Ok(None);
    }
    let mut frame = crate::dataset::stream(
        data.table(Table::SendFailures)?
            .select([
                col(CONVERSATION_KEY).alias("key"),
                col("failed_at").cast(DataType::Int64).alias("at"),
                col("error_code"),
            ])
            .filter(col("at").lt_eq(lit(as_of))),
    )?;
    let since: Vec<Option<f64>> = {
        let keys = frame.column("key")?.u32()?;
        let at = frame.column("at")?.i64()?;
        keys.iter()
            .zip(at.iter())
            .map(|(k, t)| {
                let (k, t) = (k?, t?);
                let last = super::walk::last_at_or_before(&touches.key, &touches.at, k, t)?;
                Some((t - last) as f64 / crate::time::MS_PER_HOUR as f64)
            })
            .collect()
    };
    frame.with_column(Column::new("since_touch_h".into(), since))?;
    Ok(Some(frame.lazy()))
}
