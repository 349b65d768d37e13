//! The HTML page: a view model built here, rendered by `templates/report.html` (askama,
//! compile-time checked, every value HTML-escaped). The page is self-contained: styles inline,
//! charts as relative links to PNG files beside it, no scripts, no remote resources.

use askama::Template;

use super::ReportInput;
use crate::alert::{Severity, State, judge};
use crate::metrics::{self, ALL, Dimension, MetricRow, Unit, human};
use crate::units::printable;

pub struct Quality {
    pub conversations: usize,
    pub rows_quarantined: u64,
    pub quarantine_link: Option<String>,
    pub unknown_lanes: Vec<(String, u64)>,
}

pub struct DrillLine {
    pub id: String,
    pub lane: String,
    pub owner: String,
    pub hours_silent: String,
    pub opened_at: String,
}

pub struct Card {
    pub severity: &'static str,
    pub metric: String,
    pub definition: String,
    pub group: String,
    pub value: String,
    pub threshold: String,
    pub n: u64,
    pub drill: Vec<DrillLine>,
}

pub struct Header {
    pub id: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
}

pub struct Cell {
    pub text: String,
    pub n: String,
    /// `ok`, `warning`, `critical`, `few`, `unwatched` or `empty`.
    pub state: &'static str,
    pub title: String,
}

pub struct Row {
    pub group: String,
    pub cells: Vec<Cell>,
}

pub struct Chart {
    pub file: String,
    pub metric: &'static str,
    pub alt: String,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub period_kind: String,
    pub period_start: String,
    pub as_of: String,
    pub generated_at: String,
    pub dimension: String,
    pub critical: usize,
    pub warning: usize,
    pub quality: Quality,
    pub cards: Vec<Card>,
    pub headers: Vec<Header>,
    pub rows: Vec<Row>,
    pub charts: Vec<Chart>,
    pub weeks_back: usize,
}

/// Builds the page model of one report.
pub fn page(
    input: &ReportInput<'_>,
    period_rows: &[MetricRow],
    charts: Vec<Chart>,
    quality: Quality,
) -> ReportPage {
    let by = input.by;
    let alerts = input.alerts;
    let unit_of = |id: &str| metrics::find(id).map_or(Unit::Rate, |m| m.unit);
    let cards = alerts
        .alerts
        .iter()
        .map(|a| Card {
            severity: a.severity.as_str(),
            metric: a.metric.clone(),
            definition: metrics::find(&a.metric)
                .map(|m| m.definition.to_owned())
                .unwrap_or_default(),
            group: printable(&a.group),
            value: human(a.value, unit_of(&a.metric)),
            threshold: a.threshold_human.clone(),
            n: a.n,
            drill: a
                .drill
                .iter()
                .map(|d| DrillLine {
                    id: printable(&d.conversation_id),
                    lane: printable(d.lane.as_deref().unwrap_or_default()),
                    owner: d
                        .owner
                        .as_deref()
                        .map_or_else(|| "(queue)".to_owned(), printable),
                    hours_silent: d
                        .hours_silent
                        .map(|h| format!("{h:.1}"))
                        .unwrap_or_default(),
                    opened_at: d.opened_at.clone(),
                })
                .collect(),
        })
        .collect();
    let headers: Vec<Header> = metrics::all_metrics()
        .map(|m| Header {
            id: m.id,
            unit: m.unit.as_str(),
            definition: m.definition,
        })
        .collect();
    let mut groups: Vec<&str> = period_rows.iter().map(|r| r.group.as_str()).collect();
    groups.sort_unstable_by_key(|g| (*g != ALL, *g));
    groups.dedup();
    let rows = groups
        .into_iter()
        .map(|group| Row {
            group: printable(group),
            cells: headers
                .iter()
                .map(|h| {
                    match period_rows
                        .iter()
                        .find(|r| r.group == group && r.metric == h.id)
                    {
                        None => Cell {
                            text: "–".to_owned(),
                            n: String::new(),
                            state: "empty",
                            title: "no conversations in this cohort".to_owned(),
                        },
                        Some(r) => {
                            let (state, condition) = judge(input.thresholds, by, r);
                            let (state, title) = match state {
                                State::Unwatched => ("unwatched", "no threshold".to_owned()),
                                State::TooFew => {
                                    ("few", "too few conversations for an alert".to_owned())
                                }
                                State::Ok => ("ok", "within thresholds".to_owned()),
                                State::Broken(s) => (
                                    s.as_str(),
                                    format!(
                                        "{}: {}",
                                        s.as_str(),
                                        condition
                                            .map(|c| c.human(unit_of(&r.metric)))
                                            .unwrap_or_default()
                                    ),
                                ),
                            };
                            Cell {
                                text: human(r.value, unit_of(&r.metric)),
                                n: format!("n={}", r.n),
                                state,
                                title,
                            }
                        }
                    }
                })
                .collect(),
        })
        .collect();
    ReportPage {
        period_kind: alerts.period.clone(),
        period_start: alerts.period_start.clone(),
        as_of: alerts.as_of.clone(),
        generated_at: input.generated_at.clone(),
        dimension: match by {
            Dimension::None => "group".to_owned(),
            other => other.column().to_owned(),
        },
        critical: alerts.count(Severity::Critical),
        warning: alerts.count(Severity::Warning),
        quality,
        cards,
        headers,
        rows,
        charts,
        weeks_back: input.periods.len(),
    }
}
