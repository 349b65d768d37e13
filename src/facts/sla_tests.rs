//! The promises on hand-made timelines: hits, breaches, pending and void promises, the
//! business-clock due instant and the owned intervals.

use super::*;

const S: i64 = 1000;

fn calendar_clocks() -> Clocks<'static> {
    Clocks {
        lanes: Vec::new(),
        default: None,
    }
}

#[test]
fn exactly_at_the_target_is_a_hit_and_one_second_more_a_breach() {
    let c = calendar_clocks();
    let t = (300 * S, Clock::Calendar);
    let hit = judge(&c, t, 0, Some(300 * S), 1000 * S, true);
    assert_eq!((hit.state, hit.settled_at), (State::Hit, Some(300 * S)));
    let late = judge(&c, t, 0, Some(301 * S), 1000 * S, true);
    assert_eq!(
        (late.state, late.settled_at, late.overshoot_ms),
        (State::Breach, Some(300 * S), Some(S))
    );
}

#[test]
fn without_the_event_a_promise_is_pending_void_or_overdue() {
    let c = calendar_clocks();
    let t = (300 * S, Clock::Calendar);
    // Open, as_of before the due: pending; at the due: still pending; after: a breach.
    assert_eq!(judge(&c, t, 0, None, 200 * S, false).state, State::Pending);
    assert_eq!(judge(&c, t, 0, None, 300 * S, false).state, State::Pending);
    let overdue = judge(&c, t, 0, None, 400 * S, false);
    assert_eq!(
        (overdue.state, overdue.overshoot_ms),
        (State::Breach, Some(100 * S))
    );
    // Closed before the due without the event: void.
    assert_eq!(judge(&c, t, 0, None, 120 * S, true).state, State::Void);
}

#[test]
fn on_the_business_clock_a_target_reached_at_closing_is_due_at_the_next_opening() {
    let config = crate::config::Config::from_toml(
        "[schedules.office]\ntimezone = \"UTC\"\nmon = [\"09:00-17:00\"]\ntue = [\"09:00-17:00\"]\n\
         [business_hours]\ndefault = \"office\"\n",
    )
    .unwrap();
    let hours = config.business_hours.as_ref().unwrap();
    let schedule = hours.schedule_of(None).unwrap();
    // Monday 2026-11-16 16:00Z.
    let start = crate::time::parse_timestamp("2026-11-16T16:00:00Z", None).unwrap();
    let calendar = Calendar::build(schedule, start, start + 10 * 86_400 * S);
    let clocks = Clocks {
        lanes: Vec::new(),
        default: Some(&calendar),
    };
    let tuesday_9 = crate::time::parse_timestamp("2026-11-17T09:00:00Z", None).unwrap();
    assert_eq!(
        clocks.due(Clock::Business, start, 3600 * S),
        Some(tuesday_9)
    );
    let tuesday_10 = crate::time::parse_timestamp("2026-11-17T10:00:00Z", None).unwrap();
    assert_eq!(
        clocks.due(Clock::Business, start, 7200 * S),
        Some(tuesday_10)
    );
    // Answered Tuesday 08:30: 3600 s of open time, a hit; at 09:30, a breach.
    let j = judge(
        &clocks,
        (3600 * S, Clock::Business),
        start,
        Some(tuesday_9 - 1800 * S),
        tuesday_10,
        true,
    );
    assert_eq!(j.state, State::Hit);
    let j = judge(
        &clocks,
        (3600 * S, Clock::Business),
        start,
        Some(tuesday_9 + 1800 * S),
        tuesday_10,
        true,
    );
    assert_eq!((j.state, j.overshoot_ms), (State::Breach, Some(1800 * S)));
}

#[test]
fn owned_intervals_are_promises_of_their_own_lane_and_agent() {
    let sla = crate::config::Config::from_toml("[sla]\nupdate_s = 100\n")
        .unwrap()
        .sla
        .unwrap();
    let c = calendar_clocks();
    let tier = |lane| crate::config::Config::default().tier(lane);
    let rows = [
        Row {
            at: 0,
            lane: "general",
            tier: tier("general"),
            assignee: Some("a"),
            reason: None,
        },
        Row {
            at: 500 * S,
            lane: "general",
            tier: tier("general"),
            assignee: None,
            reason: None,
        },
        Row {
            at: 600 * S,
            lane: "retention",
            tier: tier("retention"),
            assignee: Some("b"),
            reason: None,
        },
    ];
    let agent = [50 * S, 700 * S];
    let t = Instants {
        opened: 0,
        ..Instants::default()
    };
    let mut targets = Targets::new(&sla);
    let p = conversation(
        &mut targets,
        &c,
        &rows,
        &agent,
        t,
        Some("retention"),
        None,
        750 * S,
    );
    let updates = p.updates.unwrap();
    // Each interval names the row that owns it.
    for i in &updates {
        assert_eq!(
            (rows[i.row].lane, rows[i.row].assignee),
            (i.lane, Some(i.assignee))
        );
    }
    let got: Vec<(i64, &str, &str, State)> = updates
        .iter()
        .map(|i| (i.started_at / S, i.lane, i.assignee, i.judged.state))
        .collect();
    // [0, 50) hit; [50, 500) breach; the queue row owns nothing; [600, 700) hit; the running
    // [700, as_of) is pending.
    assert_eq!(
        got,
        [
            (0, "general", "a", State::Hit),
            (50, "general", "a", State::Breach),
            (600, "retention", "b", State::Hit),
            (700, "retention", "b", State::Pending),
        ]
    );
}

#[test]
fn state_and_clock_codes_name_their_enum_categories() {
    for state in State::ALL {
        assert_eq!(State::ALL[state as usize], state);
    }
    let names = |dtype: DataType| -> Vec<String> {
        match dtype {
            DataType::Enum(categories, _) => categories
                .categories()
                .values_iter()
                .map(str::to_owned)
                .collect(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(names(state_dtype()), ["hit", "breach", "pending", "void"]);
    assert_eq!(names(clock_dtype()), ["calendar", "business"]);
    assert_eq!(clock_code(Clock::Business), 1);
}

#[test]
fn the_breach_mask_names_the_promises_in_spec_order() {
    assert_eq!(breached(0), Vec::<&str>::new());
    assert_eq!(breached(0b11001), ["frt", "update", "resolution"]);
    assert_eq!(breached(0b00100), ["tts"]);
}
