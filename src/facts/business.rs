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
    let keys = facts.column("key")?.u32()?;
    let opened = facts.column("opened_at")?.i64()?;
    let closed = facts.column("closed_at")?.i64()?;
    let first_customer = facts.column("first_customer_at")?.i64()?;
    let first_reply = facts.column("first_reply_at")?.i64()?;
    let specialist = facts.column("specialist_at")?.i64()?;

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
    let mut lane_calendars: HashMap<&str, Option<&Calendar>> = HashMap::new();

    let n = facts.height();
    let (mut frt, mut tts, mut art) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut cursor = view.cursor(keys.get(0).unwrap_or_default());
    let mut lanes: Vec<(i64, Option<&Calendar>)> = Vec::new();
    for i in 0..n {
        let key = keys.get(i).unwrap_or_default();
        let close = closed.get(i);
        lanes.clear();
        // Routing after the close is not handling (as in every fact).
        for row in cursor.events(key).rows(close) {
            let calendar = *lane_calendars
                .entry(row.lane)
                .or_insert_with(|| calendar_of(Some(row.lane)));
            lanes.push((row.at, calendar));
        }
        let seconds = |a: Option<i64>, b: Option<i64>| {
            Some(business_between(a?, b?, &lanes, default) as f64 / 1000.0)
        };
        frt.push(seconds(first_customer.get(i), first_reply.get(i)));
        tts.push(seconds(first_customer.get(i), specialist.get(i)));
        art.push(seconds(opened.get(i), close));
    }
    Ok(Some(vec![
        Column::new("frt_bh_s".into(), frt),
        Column::new("tts_bh_s".into(), tts),
        Column::new("art_bh_s".into(), art),
    ]))
}
