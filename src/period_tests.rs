use super::*;

/// Instants (ms) around the epoch, leap days, the ends of years 0 and 9999, and every
/// hour of two weeks around each 2026 time-zone change of Berlin and São Paulo.
fn instants() -> Vec<i64> {
    let mut at = vec![0, -1, 1, -86_400_000, 86_399_999, 86_400_000];
    for (y, m, day) in [
        (2024, 2, 29),
        (2000, 3, 1),
        (1900, 3, 1),
        (0, 1, 1),
        (9999, 12, 31),
    ] {
        let ms = d(y, m, day)
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        at.extend([ms - 1, ms, ms + 1, ms + 86_399_999]);
    }
    for (y, m, day) in [(2026, 3, 29), (2026, 10, 25), (2026, 11, 1), (2026, 2, 15)] {
        let ms = d(y, m, day)
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        at.extend((-168..168).map(|h| ms + h * MS_PER_HOUR + 59 * 60_000));
    }
    at
}

fn evaluate(instants: &[i64], exprs: Vec<Expr>) -> DataFrame {
    df!("t" => instants)
        .unwrap()
        .lazy()
        .select(exprs)
        .collect()
        .unwrap()
}

#[test]
fn utc_periods_need_no_zone_rules() {
    let at = instants();
    for period in [Period::Day, Period::Week, Period::Month] {
        let frame = evaluate(
            &at,
            vec![
                period.start_expr(col("t"), Zone::UTC).alias("fast"),
                period
                    .of_local_date(Period::local_date_expr(col("t"), Zone::UTC))
                    .alias("rules"),
            ],
        );
        assert!(
            frame
                .column("fast")
                .unwrap()
                .equals_missing(frame.column("rules").unwrap()),
            "{period}: {frame}"
        );
    }
}

#[test]
fn a_period_is_its_window_of_instants() {
    let at = instants();
    for zone in ["UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata"] {
        let zone = Zone::parse(zone).unwrap();
        for period in [Period::Day, Period::Week, Period::Month] {
            let frame = evaluate(&at, vec![period.start_expr(col("t"), zone).alias("start")]);
            let starts = frame
                .column("start")
                .unwrap()
                .date()
                .unwrap()
                .physical()
                .clone();
            for (&t, start) in at.iter().zip(starts.iter()) {
                let start =
                    start.map(|days| NaiveDate::from_num_days_from_ce_opt(days + 719_163).unwrap());
                let Some(start) = start else { continue };
                let (from, to) = period.window_ms(start, zone);
                assert!(
                    from <= t && t < to,
                    "{period} {zone:?} {t}: {start} [{from}, {to})"
                );
            }
        }
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn floors_and_steps() {
    assert_eq!(Period::Week.floor(d(2026, 11, 22)), d(2026, 11, 16));
    assert_eq!(Period::Week.floor(d(2026, 11, 16)), d(2026, 11, 16));
    assert_eq!(Period::Month.floor(d(2026, 11, 22)), d(2026, 11, 1));
    assert_eq!(Period::Month.next(d(2026, 12, 1)), d(2027, 1, 1));
    assert_eq!(Period::Day.next(d(2026, 11, 30)), d(2026, 12, 1));
}

#[test]
fn snapshots_cover_the_spans_up_to_as_of() {
    let utc = Zone::UTC;
    let first = local_midnight_ms(d(2026, 11, 13), utc) + 36_000_000;
    let as_of = local_midnight_ms(d(2026, 11, 25), utc);
    let active = [first - 1, local_midnight_ms(d(2026, 11, 18), utc)];
    let snaps = snapshots_within(&mut [(first, i64::MAX)], &active, as_of, Period::Week, utc);
    assert_eq!(
        snaps.snapshots,
        vec![
            Snapshot {
                period_start: d(2026, 11, 9),
                at: local_midnight_ms(d(2026, 11, 16), utc)
            },
            Snapshot {
                period_start: d(2026, 11, 16),
                at: local_midnight_ms(d(2026, 11, 23), utc)
            },
            // The period holding as_of has a snapshot with or without activity.
            Snapshot {
                period_start: d(2026, 11, 23),
                at: as_of
            },
        ]
    );
    assert_eq!(snaps.quiet.count, 0);
}

#[test]
fn a_span_starting_on_a_boundary_holds_that_boundary() {
    let utc = Zone::UTC;
    let monday = local_midnight_ms(d(2026, 11, 16), utc);
    let as_of = local_midnight_ms(d(2026, 12, 1), utc);
    let active = [monday - 10];
    let snaps = snapshots_within(
        &mut [(monday, monday + 1)],
        &active,
        as_of,
        Period::Week,
        utc,
    );
    assert_eq!(
        snaps.snapshots,
        vec![Snapshot {
            period_start: d(2026, 11, 9),
            at: monday
        }]
    );
    // A span ending on the boundary does not hold it.
    let snaps = snapshots_within(
        &mut [(monday - 10, monday)],
        &active,
        as_of,
        Period::Week,
        utc,
    );
    assert!(snaps.snapshots.is_empty());
}

#[test]
fn a_period_in_which_nothing_opened_or_closed_has_no_snapshot_and_is_counted() {
    let utc = Zone::UTC;
    // A thread open from 2026-10-01 (a Thursday) to as_of; conversations opened in its first
    // week and in the week of 2026-11-02 only.
    let opened = local_midnight_ms(d(2026, 10, 1), utc);
    let as_of = local_midnight_ms(d(2026, 11, 25), utc);
    let active = [opened, local_midnight_ms(d(2026, 11, 3), utc)];
    let snaps = snapshots_within(
        &mut [(opened + 1, i64::MAX)],
        &active,
        as_of,
        Period::Week,
        utc,
    );
    let starts: Vec<NaiveDate> = snaps.snapshots.iter().map(|s| s.period_start).collect();
    assert_eq!(
        starts,
        vec![d(2026, 9, 28), d(2026, 11, 2), d(2026, 11, 23)]
    );
    // Quiet: the weeks of 10-05, 10-12, 10-19, 10-26, then 11-09 and 11-16.
    assert_eq!(snaps.quiet.count, 6);
    assert_eq!(snaps.quiet.first, Some(d(2026, 10, 5)));
    assert_eq!(snaps.quiet.last, Some(d(2026, 11, 16)));
}

#[test]
fn far_apart_spans_enumerate_only_their_own_periods() {
    let utc = Zone::UTC;
    let old = local_midnight_ms(d(1900, 1, 3), utc);
    let now = local_midnight_ms(d(2026, 11, 18), utc);
    let as_of = local_midnight_ms(d(2026, 11, 25), utc);
    let snaps = snapshots_within(
        &mut [(now, i64::MAX), (old, old + 3_600_000)],
        &[old, now],
        as_of,
        Period::Week,
        utc,
    );
    // 1900's span holds no period end (an hour on a Wednesday); 2026's holds two.
    assert_eq!(snaps.snapshots.len(), 2);
    assert_eq!(snaps.snapshots[0].period_start, d(2026, 11, 16));
    // Year 0, day by day for a week, with a conversation opened every day.
    let zero = local_midnight_ms(d(0, 3, 1), utc);
    let daily: Vec<i64> = (0..8).map(|i| zero - 1 + i * 86_400_000).collect();
    let snaps = snapshots_within(
        &mut [(zero, zero + 7 * 86_400_000)],
        &daily,
        as_of,
        Period::Day,
        utc,
    );
    // The first is day 0000-02-29's (a leap day), whose end is the span's first instant.
    assert_eq!(snaps.snapshots.len(), 7);
    assert_eq!(snaps.snapshots[0].period_start, d(0, 2, 29));
}

#[test]
fn one_thread_from_year_zero_to_an_as_of_in_9999_costs_three_snapshots() {
    let utc = Zone::UTC;
    let zero = local_midnight_ms(d(0, 3, 1), utc) + 3_600_000;
    let now = local_midnight_ms(d(2026, 11, 18), utc);
    let as_of = local_midnight_ms(d(9999, 12, 31), utc) + 86_399_000;
    let snaps = snapshots_within(
        &mut [(zero + 1, i64::MAX)],
        &[zero, now],
        as_of,
        Period::Day,
        utc,
    );
    let starts: Vec<NaiveDate> = snaps.snapshots.iter().map(|s| s.period_start).collect();
    assert_eq!(starts, vec![d(0, 3, 1), d(2026, 11, 18), d(9999, 12, 31)]);
    let quiet = Period::Day.count_between(d(0, 3, 2), d(2026, 11, 18))
        + Period::Day.count_between(d(2026, 11, 19), d(9999, 12, 31));
    assert_eq!(snaps.quiet.count, quiet);
    assert_eq!(snaps.quiet.first, Some(d(0, 3, 2)));
    assert_eq!(snaps.quiet.last, Some(d(9999, 12, 30)));
}

#[test]
fn periods_are_counted_between_starts() {
    assert_eq!(
        Period::Week.count_between(d(2026, 11, 2), d(2026, 11, 23)),
        3
    );
    assert_eq!(
        Period::Month.count_between(d(2025, 11, 1), d(2026, 2, 1)),
        3
    );
    assert_eq!(Period::Day.count_between(d(2026, 2, 27), d(2026, 3, 2)), 3);
    assert_eq!(Period::Day.count_between(d(2026, 3, 2), d(2026, 2, 27)), 0);
}

#[test]
fn zones_are_checked_once() {
    assert!(Zone::parse("Mars/Olympus").is_err());
    assert!(Zone::parse("").is_err());
    assert_eq!(
        Zone::parse(" Europe/Berlin ").unwrap().name(),
        "Europe/Berlin"
    );
}

#[test]
fn local_midnight_follows_the_zone() {
    let kolkata = Zone::parse("Asia/Kolkata").unwrap();
    let utc = Zone::UTC;
    assert_eq!(
        local_midnight_ms(d(2026, 11, 16), kolkata),
        local_midnight_ms(d(2026, 11, 16), utc) - 19_800_000
    );
    // Santiago skips 00:00-01:00 on its spring-forward day.
    let santiago = Zone::parse("America/Santiago").unwrap();
    let day = d(2026, 9, 6);
    let start = local_midnight_ms(day, santiago);
    assert_eq!(local_date(start, santiago), day);
}
