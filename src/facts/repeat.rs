//! Repeat contacts within 48 hours of a close (`repeat_48h`): the customer wrote again in
//! the same conversation (found by the pass over its messages, [`super::core`]), or opened
//! another conversation with the same entry intent (two missing intents count as the same
//! issue) in `(closed_at, closed_at + 48 h]`.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use polars::prelude::*;
use rayon::prelude::*;

use super::inputs::Conversations;
use super::rules::REPEAT_HORIZON_MS;

/// Conversations that can be judged: closed, with 48 hours of hindsight before `as_of`.
pub(super) fn eligible(as_of: i64) -> Expr {
    col("closed_at")
        .is_not_null()
        .and((col("closed_at") + lit(REPEAT_HORIZON_MS)).lt_eq(lit(as_of)))
}

/// Repeat contact (b) of every conversation of `c`: another conversation of the same customer
/// and entry intent (two missing intents count as the same issue) opened in
/// `(closed_at, closed_at + 48 h]`.
pub(super) fn returned(c: &Conversations<'_>) -> Vec<bool> {
    returned_within(c, REPEAT_HORIZON_MS, true)
        .into_iter()
        .map(|at| at.is_some())
        .collect()
}

/// For every closed conversation of `c`: when the first other conversation of the same
/// customer (and entry intent, with `by_intent`; two missing intents match) opened in
/// `(closed_at, closed_at + horizon]`, if one did.
pub(super) fn returned_within(
    c: &Conversations<'_>,
    horizon: i64,
    by_intent: bool,
) -> Vec<Option<i64>> {
    let n = c.len();
    let issue = |i: usize| (c.customer.get(i), c.intent.get(i).filter(|_| by_intent));
    // Each issue's conversations by opening time: the next open after a close is found by a
    // binary search in its run. Sorting by a hash of the issue is much cheaper than by its
    // strings; a hash collision only puts two issues in one run, where the exact comparison
    // tells them apart.
    let mut order: Vec<(u64, i64, u32)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (customer, intent) = issue(i);
            let hash = |text: Option<&str>, seed: u64| match text {
                Some(text) => xxh3_64_with_seed(text.as_bytes(), seed),
                None => seed,
            };
            let h = hash(customer, 0) ^ hash(intent, 1).rotate_left(29);
            (h, c.opened[i], i as u32)
        })
        .collect();
    order.par_sort_unstable();
    let mut out = vec![None; n];
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        for &(_, _, i) in run {
            let i = i as usize;
            let Some(close) = c.closed(i) else {
                continue;
            };
            let after = run.partition_point(|&(_, opened, _)| opened <= close);
            out[i] = run[after..]
                .iter()
                .find(|&&(_, _, o)| issue(o as usize) == issue(i))
                .map(|&(_, opened, _)| opened)
                .filter(|&opened| opened <= close.saturating_add(horizon));
        }
    }
    out
}
