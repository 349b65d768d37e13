//! The weekly report: renderers return bytes; [`write`] puts them on disk atomically.
//!
//! `<out>/<period_start>/` holds `index.html`, `board.html` and `board.csv` (the open
//! conversations at as_of), `charts/<metric>.png`, `metrics.csv` (the periods the charts show),
//! `alerts.json` and, when rows were quarantined while reading a raw data directory,
//! `quarantine.csv`. Rerunning on the same input gives the same files except
//! the generation time printed in `index.html`.

pub mod charts;
pub mod headline;
pub mod html;
mod tables;
pub mod weekly;
pub mod whatsapp;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use askama::Template;
use chrono::NaiveDate;

use crate::alert::AlertReport;
use crate::config::Thresholds;
use crate::ingest::validate::QuarantineLine;
use crate::metrics::{self, Dimension, MetricRow};
use crate::output::metrics_csv;
use crate::warehouse::quarantine_csv;

/// What a report shows: the view model the command builds from its analysis.
pub struct ReportInput<'a> {
    /// Metric rows of every period the trend charts show (oldest first in `periods`).
    pub rows: &'a [MetricRow],
    /// The periods the charts show, ending with the reported one.
    pub periods: Vec<NaiveDate>,
    pub period_start: NaiveDate,
    pub alerts: &'a AlertReport,
    pub thresholds: &'a Thresholds,
    pub by: Dimension,
    /// Conversations in the facts table.
    pub conversations: usize,
    pub rows_quarantined: u64,
    /// The quarantine of a raw data directory (a warehouse keeps its own file).
    pub quarantine: &'a [QuarantineLine],
    pub unknown_lanes: Vec<(String, u64)>,
    pub generated_at: String,
    /// The open conversations at as_of, most urgent first.
    pub board: &'a [crate::board::BoardRow],
    /// Every template at as_of with its sends in the period; `None` without a status history.
    pub templates: Option<Vec<crate::board::TemplateLine>>,
    /// What the data lacks for the governance checks ("no template status history").
    pub governance_notes: Vec<String>,
    /// What the data lacks for the ten metrics ("no handoff briefs").
    pub core_notes: Vec<String>,
    /// What was read of message text, or that there is none (the text section's notes).
    pub text_notes: Vec<String>,
    /// Calls, customer ids and cost: data-quality lines, notes and the "Cost" section.
    pub whatsapp: whatsapp::WhatsAppLines,
    /// Whether the configuration has `[business_hours]` (the business-time metrics exist).
    pub business_time: bool,
    /// Whether the configuration has `[sla]` (the SLA metrics exist).
    pub sla: bool,
    /// The caption of the bot outcomes: the cohort, the closing intents skipped, the durable
    /// rule and its horizon.
    pub outcome_notes: Vec<String>,
    /// The bot outcome rows of the report period by segment, by channel and by intent.
    pub outcomes: Vec<(Dimension, Vec<MetricRow>)>,
    /// Why this period (a fallback from an empty default) or that it has no data.
    pub period_note: Option<String>,
}

/// A report as files: (path relative to the report folder, bytes).
pub struct ReportFiles {
    pub period_start: NaiveDate,
    pub files: Vec<(String, Vec<u8>)>,
}

/// The groups of one period's rows (not `ALL`), largest first: by the conversations opened in
/// the period (the cohort of `specialist_rate`), else by the largest cohort of any metric, then
/// by name.
pub fn groups_by_volume(period_rows: &[MetricRow]) -> Vec<&str> {
    let mut volume: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for r in period_rows.iter().filter(|r| r.group != metrics::ALL) {
        let v = volume.entry(r.group.as_str()).or_default();
        if r.metric == "specialist_rate" {
            v.0 = r.n;
        }
        v.1 = v.1.max(r.n);
    }
    let mut groups: Vec<(&str, (u64, u64))> = volume.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    groups.into_iter().map(|(g, _)| g).collect()
}

/// The warning and critical lines of a metric for the group ALL, to draw on its chart.
fn threshold_lines(input: &ReportInput<'_>, metric: &metrics::MetricInfo) -> Vec<(String, f64)> {
    use crate::config::Condition;
    let Some(rule) =
        input
            .thresholds
            .rule_for(metric.id, metrics::ALL, input.by == Dimension::Lane)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (level, condition) in [("warning", rule.warning), ("critical", rule.critical)] {
        let Some(c) = condition else { continue };
        let label = format!("{level} {}", c.human(metric.unit));
        match c {
            Condition::Outside(lo, hi) => {
                out.push((label.clone(), lo));
                out.push((label, hi));
            }
            Condition::Above(t)
            | Condition::AtLeast(t)
            | Condition::Below(t)
            | Condition::AtMost(t)
            | Condition::Equal(t) => out.push((label, t)),
        }
    }
    out
}

/// Renders every file of a report.
pub fn build(input: &ReportInput<'_>) -> Result<ReportFiles> {
    let periods = &input.periods;
    let period_start = input.period_start;
    let shown: Vec<MetricRow> = input
        .rows
        .iter()
        .filter(|r| periods.contains(&r.period_start))
        .cloned()
        .collect();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut charts = Vec::new();
    let period_rows: Vec<MetricRow> = shown
        .iter()
        .filter(|r| r.period_start == period_start)
        .cloned()
        .collect();
    let largest = groups_by_volume(&period_rows);
    let shown_metrics = metrics::REGISTRY
        .iter()
        .filter(|f| input.business_time || f.set != metrics::MetricSet::BusinessTime)
        .filter(|f| input.sla || f.set != metrics::MetricSet::Sla)
        .flat_map(|f| f.metrics.iter());
    let grouped = crate::alert::groups::by_metric(input.alerts, input.rows);
    let previous = periods.len().checked_sub(2).map(|i| periods[i]);
    for metric in shown_metrics {
        let breaching: Vec<&str> = grouped
            .iter()
            .find(|g| g.metric.id() == metric.id)
            .map(|g| g.groups().map(|a| a.group.as_str()).collect())
            .unwrap_or_default();
        let order = charts::chart_groups(&shown, metric.id, period_start, previous, &breaching);
        let mut trend = charts::trends(&shown, metric, periods, &order);
        trend.thresholds = threshold_lines(input, metric);
        let file = format!("charts/{}.png", metric.id);
        files.push((file.clone(), charts::render(&trend)?));
        charts.push(html::Chart {
            file,
            alt: format!(
                "{} by {}: {}",
                metric.name,
                input.by.column(),
                metric.definition
            ),
        });
    }
    let quarantine_link = (!input.quarantine.is_empty()).then(|| "quarantine.csv".to_owned());
    let quality = html::Quality {
        conversations: input.conversations,
        rows_quarantined: input.rows_quarantined,
        quarantine_link,
        unknown_lanes: input
            .unknown_lanes
            .iter()
            .map(|(lane, n)| (crate::units::printable(lane), *n))
            .collect(),
        lines: input.whatsapp.quality.clone(),
    };
    let page = html::page(input, &period_rows, &largest, &grouped, (charts, quality));
    let html = page.render().context("rendering the report page")?;
    files.push(("index.html".to_owned(), html.into_bytes()));
    let board = html::board_page(
        input.board,
        &crate::time::format_rfc3339(input.alerts.as_of),
    )
    .render()
    .context("rendering the board page")?;
    files.push(("board.html".to_owned(), board.into_bytes()));
    files.push(("board.csv".to_owned(), crate::board::to_csv(input.board)?));
    files.push((
        "metrics.csv".to_owned(),
        metrics_csv(input.by.column(), &shown)?,
    ));
    let mut json = serde_json::to_vec_pretty(input.alerts)?;
    json.push(b'\n');
    files.push(("alerts.json".to_owned(), json));
    if !input.quarantine.is_empty() {
        files.push((
            "quarantine.csv".to_owned(),
            quarantine_csv(input.quarantine)?,
        ));
    }
    Ok(ReportFiles {
        period_start,
        files,
    })
}

/// Writes the report under `<out>/<period_start>/`: into a temporary folder first, then
/// renamed into place, so a reader never sees half a report. Returns the folder.
pub fn write(out: &Path, report: &ReportFiles) -> Result<PathBuf> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the report folder {}", out.display()))?;
    let target = out.join(report.period_start.to_string());
    crate::atomic::swap_dir(&target, |tmp| {
        for (file, bytes) in &report.files {
            let path = tmp.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    })
    .with_context(|| format!("writing the report to {}", target.display()))?;
    Ok(target)
}
