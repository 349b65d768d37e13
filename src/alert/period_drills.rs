//! The drill-down rows of every alert a report period could raise, gathered before the
//! period's metrics are known: a run over partitions of the conversations lists them in the
//! same pass that counts the metrics, instead of computing every partition's facts again once
//! the alerts are known.
//!
//! For each metric that some rule watches, and each side its rules can break (`outside` can
//! break on both), the lists are those of all groups together and of each group apart, each
//! cut to [`MAX_CONVERSATIONS`] rows. An alert's list is then looked up by its metric, side
//! and group: the rows [`super::drills`] gives it, since the first rows of the union of
//! partitions' first rows are the first rows of all.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::{Alert, MAX_CONVERSATIONS, high_side, top};
use crate::config::{Condition, Thresholds};
use crate::metrics::{self, ALL, DrillGroup, DrillQuery, Frames, MetricRef, MetricsOptions};

/// The most lists kept (metric, side and group; about 50 rows each): past it, as with
/// thousands of owners as groups, the lists are not gathered and the conversations behind the
/// alerts are listed once the alerts are known.
pub const MAX_LISTS: usize = 4096;

/// A watched metric and a side its rules can break.
pub type Candidate = (MetricRef, bool);

/// The lists of one period by (metric id, side, group).
#[derive(Debug, Default)]
pub struct PeriodDrills {
    lists: BTreeMap<ListKey, DataFrame>,
}

/// Every metric a run with `options` computes and some rule of `thresholds` watches, with
/// each side its conditions can break.
pub fn candidates(
    thresholds: &Thresholds,
    options: MetricsOptions,
    config: &crate::config::Config,
) -> Vec<Candidate> {
    let computed: Vec<&str> = metrics::computed(options, config)
        .flat_map(|family| family.metrics.iter().map(|m| m.id))
        .collect();
    let mut sides: BTreeMap<&str, [bool; 2]> = BTreeMap::new();
    let rules = thresholds
        .metrics
        .iter()
        .chain(thresholds.lanes.values().flat_map(|rules| rules.iter()));
    for (id, rule) in rules {
        let Some(&id) = computed.iter().find(|c| **c == id.as_str()) else {
            continue;
        };
        for condition in [rule.warning, rule.critical].into_iter().flatten() {
            let entry = sides.entry(id).or_default();
            for high in sides_of(condition) {
                entry[usize::from(high)] = true;
            }
        }
    }
    sides
        .into_iter()
        .flat_map(|(id, sides)| {
            let metric = MetricRef::parse(id).expect("a registry id");
            [false, true]
                .into_iter()
                .filter(move |&high| sides[usize::from(high)])
                .map(move |high| (metric, high))
        })
        .collect()
}

/// The sides a value breaking `condition` can be on ([`high_side`]).
fn sides_of(condition: Condition) -> Vec<bool> {
    match condition {
        // Below the lower bound or above the upper one.
        Condition::Outside(..) => vec![false, true],
        // One side whatever the value.
        other => vec![high_side(Some(other), 0.0)],
    }
}

/// A list's metric id, side and group.
type ListKey = (&'static str, bool, String);

/// The lists of `metric` on one side in `ctx`: all groups together and each group apart.
fn lists_of(
    ctx: &Frames<'_>,
    period_start: NaiveDate,
    metric: MetricRef,
    high: bool,
) -> Result<Vec<(ListKey, DataFrame)>> {
    let family = metrics::family_of(metric.id()).expect("a registry metric");
    let query = |group| DrillQuery {
        metric,
        period_start,
        group,
        high,
    };
    let context = || format!("listing the conversations behind {metric}");
    let all = (family.drill)(ctx, &query(DrillGroup::One(ALL.to_owned())))?
        .limit(MAX_CONVERSATIONS as IdxSize)
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(context)?;
    let mut lists = vec![((metric.id(), high, ALL.to_owned()), all)];
    let each = (family.drill)(ctx, &query(DrillGroup::Each))?
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(context)?;
    for mut group in each.partition_by_stable(["group"], true)? {
        let name = group.column("group")?.str()?.get(0).unwrap_or_default();
        // Without a dimension every row's group is `ALL`, whose list is above.
        if name == ALL {
            continue;
        }
        let name = name.to_owned();
        // A group's rows are in the drill-down's order: its first rows are its list.
        group = group.head(Some(MAX_CONVERSATIONS));
        lists.push(((metric.id(), high, name), group));
    }
    Ok(lists)
}

impl PeriodDrills {
    /// The lists of `period_start` in `ctx` (all conversations, or one partition of them);
    /// `None` past [`MAX_LISTS`].
    pub fn gather(
        ctx: &Frames<'_>,
        period_start: NaiveDate,
        candidates: &[Candidate],
    ) -> Result<Option<PeriodDrills>> {
        // The metrics' lists are independent queries of the same frames: they run side by
        // side.
        let each_metric: Vec<Vec<(ListKey, DataFrame)>> = candidates
            .par_iter()
            .map(|&(metric, high)| lists_of(ctx, period_start, metric, high))
            .collect::<Result<_>>()?;
        let mut lists = BTreeMap::new();
        for list in each_metric {
            lists.extend(list);
            if lists.len() > MAX_LISTS {
                return Ok(None);
            }
        }
        Ok(Some(PeriodDrills { lists }))
    }

    /// Adds the lists of other conversations; `false` (and nothing kept) past [`MAX_LISTS`].
    pub fn merge(&mut self, other: PeriodDrills) -> Result<bool> {
        for (key, frame) in other.lists {
            match self.lists.get_mut(&key) {
                Some(list) => {
                    list.vstack_mut_owned(frame)?;
                    *list = top(std::mem::take(list))?;
                }
                None => {
                    self.lists.insert(key, frame);
                }
            }
        }
        if self.lists.len() > MAX_LISTS {
            self.lists.clear();
            return Ok(false);
        }
        Ok(true)
    }

    /// The drill-down rows of each alert, as [`super::drills`] over the same conversations
    /// gives them.
    pub fn of(&self, alerts: &[Alert]) -> Result<Vec<DataFrame>> {
        alerts
            .iter()
            .map(|alert| {
                let key = (
                    alert.metric.id(),
                    high_side(alert.condition, alert.value),
                    alert.group.clone(),
                );
                match self.lists.get(&key) {
                    Some(list) => top(list.clone()),
                    None => Ok(metrics::empty_drill().collect()?),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::alert::{Severity, drills};
    use crate::config::Config;
    use crate::dataset::Dataset;
    use crate::facts::{self, Known};
    use crate::ingest::IngestOptions;
    use crate::metrics::{Dimension, Events, MetricsOptions, Period, Selection, Zone};
    use crate::progress::Progress;

    fn load(dir: &Path) -> (Config, Dataset) {
        let config = Config::resolve(None, Some(dir)).expect("the fixture's config");
        let options = IngestOptions {
            epoch_unit: None,
            known_lanes: config.known_lanes(),
            input: config.input.clone(),
            text: std::sync::Arc::new(
                crate::ingest::text::TextPass::new(&config.text, None).expect("a valid [text]"),
            ),
        };
        let data = Dataset::load(dir, &options, &Progress::silent()).expect("the fixture");
        (config, data)
    }

    fn alert(row: &crate::metrics::MetricRow, high: bool) -> Alert {
        // A condition broken on the side asked for, whatever the value.
        let condition = match high {
            true => Condition::Above(f64::MIN),
            false => Condition::Below(f64::MAX),
        };
        Alert {
            period_start: row.period_start,
            dimension: Dimension::Lane,
            group: row.group.clone(),
            metric: row.metric,
            value: row.value,
            threshold: condition.to_string(),
            threshold_human: String::new(),
            condition: Some(condition),
            severity: Severity::Warning,
            n: row.n,
            conversations: Vec::new(),
            drill: Vec::new(),
        }
    }

    /// Every metric, group, side and period of the fixtures (events in two lanes, window
    /// snapshots, sends, calls): the list gathered ahead is the list the alert's own query
    /// gives.
    #[test]
    fn the_lists_gathered_ahead_are_the_alerts_own() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dirs = [
            root.join("tests/fixtures/golden"),
            root.join("tests/fixtures/governance"),
            root.join("tests/fixtures/whatsapp2026"),
            root.join("tests/fixtures/outcomes"),
            root.join("sample_data"),
        ];
        let mut compared = 0;
        for dir in dirs {
            let (config, data) = load(&dir);
            for by in [Dimension::Lane, Dimension::Segment, Dimension::None] {
                let options = MetricsOptions {
                    period: Period::Week,
                    zone: Zone::default(),
                    by,
                    select: Selection::All,
                };
                let (scope, sla) = crate::metrics::facts_needed(options, false);
                let facts = facts::compute_scoped(&data, &config, Known::AsOf(None), scope, sla)
                    .expect("facts");
                let events = Events::build(&data, &facts, &config, options).expect("events");
                let frames = Frames::new(&facts, &events, &config, options);
                let rows =
                    crate::metrics::read_rows(&crate::metrics::compute(&frames).unwrap()).unwrap();
                let periods: std::collections::BTreeSet<NaiveDate> =
                    rows.iter().map(|r| r.period_start).collect();
                let every: Vec<Candidate> = metrics::computed(options, &config)
                    .flat_map(|f| f.metrics.iter())
                    .flat_map(|m| [false, true].map(|h| (MetricRef::parse(m.id).unwrap(), h)))
                    .collect();
                for period in periods {
                    let ahead = PeriodDrills::gather(&frames, period, &every)
                        .unwrap()
                        .expect("under the limit");
                    let alerts: Vec<Alert> = rows
                        .iter()
                        .filter(|r| r.period_start == period)
                        .flat_map(|r| [alert(r, false), alert(r, true)])
                        .collect();
                    let want = drills(&frames, &alerts).unwrap();
                    let got = ahead.of(&alerts).unwrap();
                    for ((alert, want), got) in alerts.iter().zip(&want).zip(&got) {
                        let drop = |f: &DataFrame| f.drop("group").unwrap();
                        assert!(
                            drop(want).equals_missing(&drop(got)),
                            "{} {} {} {}: {want} {got}",
                            dir.display(),
                            alert.metric,
                            alert.group,
                            period
                        );
                        compared += usize::from(want.height() > 0);
                    }
                }
            }
        }
        assert!(compared > 1000, "{compared}");
    }

    /// Two lists' union keeps the first rows of both; past the limit nothing is kept.
    #[test]
    fn merged_lists_keep_the_first_rows_and_stop_past_the_limit() {
        let list = |keys: &[u32], ranks: &[Option<f64>]| {
            metrics::empty_drill()
                .collect()
                .unwrap()
                .vstack(
                    &df!(
                        "conversation_id" => keys.iter().map(|k| format!("c{k}")).collect::<Vec<_>>(),
                        "lane" => vec![Some("billing"); keys.len()],
                        "owner" => vec![None::<&str>; keys.len()],
                        "hours_silent" => vec![None::<f64>; keys.len()],
                        "opened_at" => vec![0i64; keys.len()],
                        "detail" => vec![None::<&str>; keys.len()],
                        metrics::DRILL_RANK => ranks.to_vec(),
                        "key" => keys.to_vec(),
                        "group" => vec!["billing"; keys.len()],
                    )
                    .unwrap(),
                )
                .unwrap()
        };
        let metric = MetricRef::parse("frt_median_s").unwrap();
        let one = |frame: DataFrame| PeriodDrills {
            lists: BTreeMap::from([((metric.id(), false, "billing".to_owned()), frame)]),
        };
        let first: Vec<u32> = (0..40).collect();
        let second: Vec<u32> = (40..80).collect();
        let mut merged = one(list(&first, &vec![Some(1.0); 40]));
        let mut ranks = vec![Some(2.0); 39];
        ranks.push(None);
        assert!(merged.merge(one(list(&second, &ranks))).unwrap());
        let key = (metric.id(), false, "billing".to_owned());
        let keys: Vec<u32> = merged.lists[&key]
            .column("key")
            .unwrap()
            .u32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        // The 39 of rank 2, then the first 11 of rank 1 by key; the null rank is last.
        let want: Vec<u32> = (40..79).chain(0..11).collect();
        assert_eq!(keys, want);

        let many = PeriodDrills {
            lists: (0..=MAX_LISTS)
                .map(|i| ((metric.id(), false, format!("g{i}")), DataFrame::default()))
                .collect(),
        };
        assert!(!merged.merge(many).unwrap());
        assert!(merged.lists.is_empty());
    }
}
