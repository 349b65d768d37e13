//! Trend charts: one PNG per metric, a line per group over the last periods.
//!
//! The series are computed by [`trends`] (tested directly); [`render`] only draws them. The
//! font is compiled in, so charts render the same on a machine with no fonts installed.

use std::collections::BTreeMap;
use std::sync::Once;

use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use image::ImageEncoder;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::metrics::{ALL, MetricInfo, MetricRow, Unit};

/// DejaVu Sans (Bitstream Vera licence, see assets/fonts/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 380;

/// One line of a chart: a group's value per period (`None` where its cohort was empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub group: String,
    pub points: Vec<Option<f64>>,
}

/// The data of one chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub metric: &'static MetricInfo,
    pub periods: Vec<NaiveDate>,
    /// `ALL` first, then the groups of `shown` that have a value, in that order.
    pub lines: Vec<Line>,
    /// Groups with values that the chart leaves out (it shows the largest few).
    pub left_out: usize,
    /// The threshold lines of the metric for ALL: (label, value), e.g. ("warning > 5.0 min", 300).
    pub thresholds: Vec<(String, f64)>,
}

/// How many groups a chart shows besides `ALL`: more lines than this do not read.
pub const MAX_GROUPS: usize = 3;

/// The series of `metric` over `periods`: `ALL`, then the first [`MAX_GROUPS`] groups of
/// `shown` (the groups in the order they matter: in breach, then moved most) with at least one
/// value; the other groups with values are counted in `left_out`. The periods start at the first
/// one with a value: an axis does not open on empty weeks.
pub fn trends(
    rows: &[MetricRow],
    metric: &'static MetricInfo,
    periods: &[NaiveDate],
    shown: &[&str],
) -> Trend {
    let mut by_group: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.metric == metric.id) {
        if let Some(i) = periods.iter().position(|p| *p == row.period_start) {
            by_group
                .entry(row.group.as_str())
                .or_insert_with(|| vec![None; periods.len()])[i] = Some(row.value);
        }
    }
    let mut lines: Vec<Line> = Vec::with_capacity(by_group.len());
    if let Some(points) = by_group.remove(ALL) {
        lines.push(Line {
            group: ALL.to_owned(),
            points,
        });
    }
    for group in shown {
        if lines.iter().filter(|l| l.group != ALL).count() == MAX_GROUPS {
            break;
        }
        if let Some(points) = by_group.remove(group) {
            lines.push(Line {
                group: (*group).to_owned(),
                points,
            });
        }
    }
    let first = (0..periods.len())
        .find(|&i| lines.iter().any(|l| l.points[i].is_some()))
        .unwrap_or(periods.len().saturating_sub(1));
    for line in &mut lines {
        line.points.drain(..first);
    }
    Trend {
        metric,
        periods: periods[first.min(periods.len())..].to_vec(),
        lines,
        left_out: by_group.len(),
        thresholds: Vec::new(),
    }
}

/// The groups a metric's chart shows, in order: those in breach this period (as `breaching`
/// lists them, worst first), then the others by how much they moved from the period before
/// (relative change, largest first), then by name.
pub fn chart_groups<'a>(
    rows: &'a [MetricRow],
    metric: &str,
    period: NaiveDate,
    previous: Option<NaiveDate>,
    breaching: &[&'a str],
) -> Vec<&'a str> {
    let value = |p: NaiveDate, g: &str| {
        rows.iter()
            .find(|r| r.period_start == p && r.metric == metric && r.group == g)
            .map(|r| r.value)
    };
    let mut moved: Vec<(&'a str, f64)> = rows
        .iter()
        .filter(|r| r.period_start == period && r.metric == metric && r.group != ALL)
        .filter(|r| !breaching.contains(&r.group.as_str()))
        .map(|r| {
            let before = previous.and_then(|p| value(p, &r.group));
            let change = before.map_or(0.0, |b| (r.value - b).abs() / b.abs().max(1e-9));
            (r.group.as_str(), change)
        })
        .collect();
    moved.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    breaching
        .iter()
        .copied()
        .chain(moved.into_iter().map(|(g, _)| g))
        .collect()
}

/// The axis of a chart: what one value is multiplied by, and the label, chosen by the
/// magnitude of the largest value so that a wait reads `35 min`, not `2100.0`.
pub fn axis(unit: Unit, largest: f64) -> (f64, &'static str) {
    match unit {
        Unit::Seconds if largest < 120.0 => (1.0, "seconds"),
        Unit::Seconds if largest < 7_200.0 => (1.0 / 60.0, "minutes"),
        Unit::Seconds if largest < 172_800.0 => (1.0 / 3_600.0, "hours"),
        Unit::Seconds => (1.0 / 86_400.0, "days"),
        Unit::Rate => (100.0, "% of cohort"),
        Unit::Count => (1.0, "conversations"),
        Unit::PerConversation => (1.0, "per conversation"),
        Unit::Money => (1.0, "currency"),
    }
}

/// The groups' line colours: dark enough to read as text on the threshold bands.
const GROUP_COLOURS: [RGBColor; 3] = [
    RGBColor(31, 100, 170),
    RGBColor(200, 80, 0),
    RGBColor(40, 130, 60),
];

/// The room right of the last period for the lines' labels, in periods.
fn label_room(periods: usize) -> f64 {
    (periods as f64 * 0.18).max(0.9)
}

fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and known to be valid; a failure would show as missing text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws a trend as a PNG of [`WIDTH`] × [`HEIGHT`] pixels.
pub fn render(trend: &Trend) -> Result<Vec<u8>> {
    register_font();
    let (w, h) = (WIDTH, HEIGHT);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    draw(trend, &mut pixels, (w, h)).map_err(|e| anyhow!("drawing {}: {e}", trend.metric.id))?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, w, h, image::ColorType::Rgb8)
        .map_err(|e| anyhow!("encoding the {} chart: {e}", trend.metric.id))?;
    Ok(png)
}

fn draw(
    trend: &Trend,
    pixels: &mut [u8],
    size: (u32, u32),
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(pixels, size).into_drawing_area();
    root.fill(&WHITE)?;
    let n = trend.periods.len().max(1);
    let largest = trend
        .lines
        .iter()
        .flat_map(|l| l.points.iter().flatten())
        .fold(0.0f64, |m, v| m.max(*v));
    // Threshold lines near the data are drawn (and may widen the axis); far ones would flatten
    // the data into the floor, so they are left off.
    let lines: Vec<&(String, f64)> = trend
        .thresholds
        .iter()
        .filter(|(_, v)| *v >= 0.0 && (largest == 0.0 || *v <= largest * 3.0))
        .collect();
    let largest = lines.iter().fold(largest, |m, (_, v)| m.max(*v));
    let (scale, unit_label) = axis(trend.metric.unit, largest);
    let top = if largest > 0.0 {
        largest * scale * 1.1
    } else {
        1.0
    };
    let x_max = (n as f64 - 1.0).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            if trend.left_out > 0 {
                format!(
                    "{}: last {} periods ({} more groups not drawn)",
                    trend.metric.name,
                    trend.periods.len(),
                    trend.left_out
                )
            } else {
                format!(
                    "{}: last {} periods",
                    trend.metric.name,
                    trend.periods.len()
                )
            },
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .right_y_label_area_size(0)
        // Room on the right for each line's label at its end.
        .build_cartesian_2d(-0.2f64..x_max + label_room(n), 0f64..top)?;
    let periods = trend.periods.clone();
    chart
        .configure_mesh()
        .x_labels(n.min(10))
        .x_label_formatter(&move |x| {
            let i = x.round();
            if (x - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            periods
                .get(i as usize)
                .map(|d| d.format("%m-%d").to_string())
                .unwrap_or_default()
        })
        .x_desc("period start (month-day)")
        .y_desc(unit_label)
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    // Threshold bands under the lines: the side of each threshold that breaks it, shaded
    // (warning first, so that the critical band shows where both hold), each labelled at its
    // threshold.
    let below = |label: &str| label.contains('<');
    let mut bands: Vec<&&(String, f64)> = lines.iter().collect();
    bands.sort_by_key(|(label, _)| label.starts_with("critical"));
    for (label, value) in &bands {
        let color = if label.starts_with("critical") {
            RGBColor(248, 215, 218)
        } else {
            RGBColor(255, 243, 205)
        };
        let y = value * scale;
        let (from, to) = if below(label) { (0.0, y) } else { (y, top) };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(-0.2, from), (x_max + 0.2, to)],
            color.filled(),
        )))?;
    }
    for (label, value) in &bands {
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (-0.15, (value * scale + top * 0.04).min(top)),
            ("sans-serif", 11).into_font().color(&RGBColor(110, 90, 20)),
        )))?;
    }
    for (i, line) in trend.lines.iter().enumerate() {
        let is_all = line.group == ALL;
        let color = if is_all {
            BLACK
        } else {
            let k = trend.lines[..i].iter().filter(|l| l.group != ALL).count();
            GROUP_COLOURS[k % GROUP_COLOURS.len()]
        };
        let style = color.stroke_width(if is_all { 3 } else { 2 });
        // A gap in the data breaks the line: draw each run of consecutive values.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (x, v) in line.points.iter().enumerate() {
            match v {
                Some(v) => runs
                    .last_mut()
                    .expect("one run")
                    .push((x as f64, *v * scale)),
                None => runs.push(Vec::new()),
            }
        }
        // The label at the line's last value, not in a legend.
        let last = runs.iter().flatten().last().copied();
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let points = run.clone();
            chart.draw_series(LineSeries::new(run, style))?;
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )?;
        }
        if let Some((x, y)) = last {
            chart.draw_series(std::iter::once(Text::new(
                crate::units::printable(&line.group),
                (x + 0.08, y),
                ("sans-serif", if is_all { 13 } else { 12 })
                    .into_font()
                    .color(&color),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::find;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    fn row(period: NaiveDate, group: &str, metric: &str, value: f64) -> MetricRow {
        MetricRow {
            period_start: period,
            group: group.to_owned(),
            metric: crate::metrics::MetricRef::parse(metric).unwrap(),
            value,
            n: 1,
        }
    }

    #[test]
    fn series_follow_the_periods_with_gaps_and_all_first() {
        let metric = find("frt_median_s").unwrap();
        let rows = [
            row(d(2), "technical_l2", "frt_median_s", 5.0),
            row(d(16), "technical_l2", "frt_median_s", 7.0),
            row(d(9), "ALL", "frt_median_s", 3.0),
            row(d(16), "ALL", "frt_median_s", 4.0),
            row(d(16), "ALL", "tts_median_s", 99.0),
            row(d(23), "ALL", "frt_median_s", 100.0),
        ];
        let t = trends(&rows, metric, &[d(2), d(9), d(16)], &["technical_l2"]);
        assert_eq!(
            t.lines,
            vec![
                Line {
                    group: "ALL".into(),
                    points: vec![None, Some(3.0), Some(4.0)]
                },
                Line {
                    group: "technical_l2".into(),
                    points: vec![Some(5.0), None, Some(7.0)]
                },
            ]
        );
    }

    #[test]
    fn axis_units_follow_the_magnitude() {
        assert_eq!(axis(Unit::Seconds, 45.0), (1.0, "seconds"));
        assert_eq!(axis(Unit::Seconds, 2_100.0).1, "minutes");
        assert_eq!(axis(Unit::Seconds, 7_200.0).1, "hours");
        assert_eq!(axis(Unit::Seconds, 400_000.0).1, "days");
        assert_eq!(axis(Unit::Rate, 0.3), (100.0, "% of cohort"));
        assert_eq!(axis(Unit::Count, 12.0).1, "conversations");
    }

    #[test]
    fn only_the_largest_groups_are_drawn() {
        let metric = find("frt_median_s").unwrap();
        let groups = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let rows: Vec<MetricRow> = groups
            .iter()
            .chain(["ALL"].iter())
            .map(|g| row(d(9), g, "frt_median_s", 1.0))
            .collect();
        let t = trends(
            &rows,
            metric,
            &[d(9)],
            &["h", "c", "x", "a", "b", "d", "e", "f", "g"],
        );
        let names: Vec<&str> = t.lines.iter().map(|l| l.group.as_str()).collect();
        assert_eq!(names, ["ALL", "h", "c", "a"]);
        assert_eq!(t.left_out, 5);
    }

    #[test]
    fn the_axis_starts_at_the_first_period_with_a_value() {
        let metric = find("frt_median_s").unwrap();
        let rows = [row(d(16), "ALL", "frt_median_s", 3.0)];
        let t = trends(&rows, metric, &[d(2), d(9), d(16)], &[]);
        assert_eq!(t.periods, [d(16)]);
        assert_eq!(t.lines[0].points, [Some(3.0)]);
    }

    #[test]
    fn charts_show_the_groups_in_breach_then_those_that_moved_most() {
        let rows = [
            row(d(9), "a", "misroute_rate", 0.10),
            row(d(16), "a", "misroute_rate", 0.11),
            row(d(9), "b", "misroute_rate", 0.10),
            row(d(16), "b", "misroute_rate", 0.30),
            row(d(16), "c", "misroute_rate", 0.50),
            row(d(16), "ALL", "misroute_rate", 0.2),
        ];
        let order = chart_groups(&rows, "misroute_rate", d(16), Some(d(9)), &["c"]);
        assert_eq!(order, ["c", "b", "a"]);
    }

    #[test]
    fn charts_are_pngs_of_the_expected_size() {
        let metric = find("misroute_rate").unwrap();
        let rows = [
            row(d(9), "ALL", "misroute_rate", 0.1),
            row(d(16), "ALL", "misroute_rate", 0.2),
            row(d(16), "retention", "misroute_rate", 0.5),
        ];
        let png = render(&trends(&rows, metric, &[d(9), d(16)], &["retention"])).unwrap();
        let image = image::load_from_memory(&png).unwrap();
        assert_eq!((image.width(), image.height()), (WIDTH, HEIGHT));
        // Not blank: the drawing put dark pixels (text, axes, the black ALL line) on white.
        let rgb = image.to_rgb8();
        let dark = rgb.pixels().filter(|p| p.0.iter().all(|c| *c < 80)).count();
        assert!(dark > 500, "{dark} dark pixels");
        // An empty chart still renders.
        assert!(render(&trends(&[], metric, &[d(16)], &[])).is_ok());
    }
}
