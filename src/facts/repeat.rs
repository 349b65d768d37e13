//! Repeat contacts within 48 hours of a close (`repeat_48h`): the customer wrote again in
//! the same conversation (found by the pass over its messages, [`super::core`]), or opened
//! another conversation with the same entry intent (two missing intents count as the same
//! issue) in `(closed_at, closed_at + 48 h]`.

use std::hash::{Hash, Hasher};

use anyhow::Result;
use polars::prelude::*;
use rayon::slice::ParallelSliceMut;

pub(super) const MS_48H: i64 = 48 * 3_600_000;

/// Conversations that can be judged: closed, with 48 hours of hindsight before `as_of`.
pub(super) fn eligible(as_of: i64) -> Expr {
    col("closed_at")
        .is_not_null()
        .and((col("closed_at") + lit(MS_48H)).lt_eq(lit(as_of)))
}

/// Repeat contact (b) of every conversation of `conversations`: another conversation of the
/// same customer and entry intent (two missing intents count as the same issue) opened in
/// `(closed_at, closed_at + 48 h]`.
pub(super) fn returned(conversations: &DataFrame) -> Result<Vec<bool>> {
    let customers = conversations.column("customer_id")?.str()?;
    let intents = conversations.column("intent")?.str()?;
    let opened = conversations.column("opened_at")?.i64()?;
    let closed: Vec<Option<i64>> = conversations.column("closed_at")?.i64()?.iter().collect();
    let n = conversations.height();
    let customer: Vec<&str> = customers.iter().map(Option::unwrap_or_default).collect();
    let intent: Vec<Option<&str>> = intents.iter().collect();
    let opened: Vec<i64> = opened.iter().map(|v| v.unwrap_or(i64::MIN)).collect();
    // Each issue's conversations by opening time: the next open after a close is found by a
    // binary search in its run. Sorting by a hash of the issue is much cheaper than by its
    // strings; a hash collision only puts two issues in one run, where the exact comparison
    // tells them apart.
    let same_issue = |a: usize, b: usize| customer[a] == customer[b] && intent[a] == intent[b];
    let mut order: Vec<(u64, i64, u32)> = (0..n)
        .map(|i| {
            let mut h = std::hash::DefaultHasher::new();
            (customer[i], intent[i]).hash(&mut h);
            (h.finish(), opened[i], i as u32)
        })
        .collect();
    order.par_sort_unstable();
    let mut out = vec![false; n];
    let mut start = 0;
    while start < n {
        let mut stop = start + 1;
        while stop < n && order[stop].0 == order[start].0 {
            stop += 1;
        }
        let run = &order[start..stop];
        for &(_, _, c) in run {
            let c = c as usize;
            let Some(close) = closed[c] else {
                continue;
            };
            let after = run.partition_point(|&(_, opened, _)| opened <= close);
            out[c] = run[after..]
                .iter()
                .find(|&&(_, _, o)| same_issue(o as usize, c))
                .is_some_and(|&(_, opened, _)| opened <= close + MS_48H);
        }
        start = stop;
    }
    Ok(out)
}
