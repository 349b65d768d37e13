//! Business-time facts (spec: business-hours.md): `frt_bh_s`, `tts_bh_s` and `art_bh_s`, the
//! same endpoints as FRT, TTS (clamped at 0) and resolution time, in business seconds. Each
//! duration is split at the conversation's assignment instants and every piece is charged to
//! the schedule of the lane assigned at its start ([`crate::calendar::business_between`]).
//! Present only when the configuration has `[business_hours]`.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use super::inputs::Inputs;
use crate::calendar::{Calendar, business_between};
use crate::config::Config;

/// The business-time columns, in the row order of `facts` (sorted by `key`), or `None` without
/// `[business_hours]`. The assignments come from the facts' sorted `inputs`.
pub(super) fn compute(
    config: &Config,
    facts: &DataFrame,
    inputs: &Inputs,
    as_of: i64,
) -> Result<Option<Vec<Column>>> {
    let Some(hours) = &config.business_hours else {
        return Ok(None);
    };
    let i64s = |name: &str| super::walk::one_chunk(facts, name);
    let keys = facts.column("key")?.u32()?.rechunk();
    let keys = super::walk::slice(&keys)?;
    let opened = i64s("opened_at")?;
    let closed = i64s("closed_at")?;
    let first_customer = i64s("first_customer_at")?;
    let first_reply = i64s("first_reply_at")?;
    let specialist = i64s("specialist_at")?;
    let get = super::walk::at;

    // One calendar per schedule, over every instant a duration can touch.
    let earliest = opened
        .min()
        .into_iter()
        .chain(first_customer.min())
        .min()
        .unwrap_or(as_of);
    let calendars: HashMap<&str, Calendar> = hours
        .schedules
        .iter()
        .map(|(name, s)| (name.as_str(), Calendar::build(s, earliest, as_of)))
        .collect();
    let calendar_of = |lane: Option<&str>| {
        hours
            .schedule_of(lane)
            .and_then(|s| calendars.get(s.name.as_str()))
    };
    let default = calendar_of(None);

    let view = inputs.view()?;
    let parts = super::walk::in_chunks(keys.len(), |range| {
        let mut lane_calendars: PlHashMap<&str, Option<&Calendar>> = PlHashMap::new();
        let n = range.len();
        let (mut frt, mut tts, mut art) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut cursor = view.cursor(keys.get(range.start).copied().unwrap_or_default());
        let mut lanes: Vec<(i64, Option<&Calendar>)> = Vec::new();
        for i in range {
            let close = get(&closed, i);
            lanes.clear();
            // Routing after the close is not handling (as in every fact).
            for row in cursor.events(keys[i]).rows(close) {
                let calendar = *lane_calendars
                    .entry(row.lane)
                    .or_insert_with(|| calendar_of(Some(row.lane)));
                lanes.push((row.at, calendar));
            }
            let seconds = |a: Option<i64>, b: Option<i64>| {
                Some(business_between(a?, b?, &lanes, default) as f64 / 1000.0)
            };
            let customer = get(&first_customer, i);
            frt.push(seconds(customer, get(&first_reply, i)));
            tts.push(seconds(customer, get(&specialist, i)));
            art.push(seconds(get(&opened, i), close));
        }
        let column = |name: &str, v: &[Option<f64>]| {
            super::walk::nullable::<Float64Type>(name, v).into_column()
        };
        DataFrame::new_infer_height(vec![
            column("frt_bh_s", &frt),
            column("tts_bh_s", &tts),
            column("art_bh_s", &art),
        ])
        .map_err(anyhow::Error::from)
    })?;
    Ok(Some(super::walk::stack(parts)?.columns().to_vec()))
}
