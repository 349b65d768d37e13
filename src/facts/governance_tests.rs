//! The governance rules on hand-made event sequences.
use super::*;

const MIN: i64 = 60_000;

fn row(at_min: i64, lane: &'static str, assignee: Option<&'static str>) -> Row<'static> {
    Row {
        at: at_min * MIN,
        lane,
        tier: Config::default().tier(lane),
        assignee,
        reason: None,
    }
}

/// [`conversation`] with scratch space of its own.
fn conversation<'a>(
    rows: &[Row<'a>],
    agent: &[i64],
    briefs: &[Brief<'a>],
    end: i64,
    config: &Config,
) -> Outcome<'a> {
    super::conversation(
        rows,
        agent,
        briefs,
        end,
        &config.governance,
        &mut Vec::new(),
    )
}

fn config() -> Config {
    Config::from_toml("[governance.lanes.vip_fast_lane]\nownerless_max_s = 60\n").unwrap()
}

#[test]
fn spells_run_across_human_lanes_and_stop_at_a_claim_the_close_or_as_of() {
    let c = config();
    // 20 min in general's queue, then 30 min in technical_l2's: one 50-minute spell.
    let rows = [
        row(0, "general", None),
        row(20, "technical_l2", None),
        row(50, "technical_l2", Some("a1")),
    ];
    let o = conversation(&rows, &[], &[], 120 * MIN, &c);
    assert_eq!(o.ownerless_max_ms, Some(50 * MIN));
    assert!(o.ownerless_breach, "50 min > 30 min");
    // Cut by the close (the end) at 25 min: no breach.
    let o = conversation(&rows[..1], &[], &[], 25 * MIN, &c);
    assert_eq!(o.ownerless_max_ms, Some(25 * MIN));
    assert!(!o.ownerless_breach);
    // Exactly the limit is not a breach; the lane of the spell's first row sets the limit.
    let o = conversation(&rows[..1], &[], &[], 30 * MIN, &c);
    assert!(!o.ownerless_breach);
    let vip = [row(0, "vip_fast_lane", None), row(2, "general", None)];
    let o = conversation(&vip, &[], &[], 2 * MIN, &c);
    assert!(o.ownerless_breach, "120 s > vip's 60 s");
    // A bot-lane queue row is not a spell.
    let o = conversation(&[row(0, "automation", None)], &[], &[], 60 * MIN, &c);
    assert_eq!(o.ownerless_max_ms, None);
    assert_eq!(o.first_human_at, None);
}

#[test]
fn stays_collapse_repeats_and_bounces_need_a_return() {
    let c = config();
    let rows = [
        row(0, "general", Some("a")),
        row(1, "technical_l2", None),
        row(2, "technical_l2", Some("b")),
        row(3, "general", Some("a")),
    ];
    let o = conversation(&rows, &[], &[], 10 * MIN, &c);
    assert_eq!((o.stays, o.bounces), (3, 1));
    let abc = [
        row(0, "automation", Some("bot")),
        row(1, "technical_l2", Some("b")),
        row(2, "compliance", Some("c")),
    ];
    let o = conversation(&abc, &[], &[], 10 * MIN, &c);
    assert_eq!((o.stays, o.bounces), (3, 0));
    assert_eq!(o.entries.len(), 2, "two specialist entries");
}

#[test]
fn stall_intervals_are_cut_by_every_assignment_row_and_agent_message() {
    let c = config();
    let rows = [row(0, "general", Some("a")), row(300, "general", Some("a"))];
    // Agent messages at 5 min and 10 min; the reassign to the same agent at 300 min cuts
    // the 290-minute gap into 290 and 60.
    let agent = [5 * MIN, 10 * MIN];
    let o = conversation(&rows, &agent, &[], 360 * MIN, &c);
    assert_eq!(o.stall_max_ms, Some(290 * MIN));
    assert!(o.stalled, "290 min > 240 min");
    // Exactly 240 minutes is not a stall; the end caps the last interval.
    let o = conversation(&rows[..1], &[], &[], 240 * MIN, &c);
    assert_eq!(o.stall_max_ms, Some(240 * MIN));
    assert!(!o.stalled);
    // A queue row is not owned; a conversation never owned has no stall fact.
    let o = conversation(&[row(0, "general", None)], &[], &[], 600 * MIN, &c);
    assert_eq!(o.stall_max_ms, None);
    // Messages after the end open nothing.
    let o = conversation(&rows[..1], &[700 * MIN], &[], 100 * MIN, &c);
    assert_eq!(o.stall_max_ms, Some(100 * MIN));
}

#[test]
fn a_brief_counts_from_ten_minutes_before_to_one_after_the_entry() {
    let c = config();
    let rows = [row(100, "technical_l2", Some("a"))];
    let brief = |at_s: i64, complete| Brief {
        at: at_s * 1000,
        row: 1,
        complete,
        next_action: None,
    };
    let state =
        |briefs: &[Brief<'_>]| conversation(&rows, &[], briefs, 200 * MIN, &c).entries[0].brief;
    let entry_s = 100 * 60;
    assert_eq!(state(&[brief(entry_s - 600, true)]), BriefState::Complete);
    assert_eq!(state(&[brief(entry_s - 601, true)]), BriefState::Missing);
    assert_eq!(state(&[brief(entry_s + 60, true)]), BriefState::Complete);
    assert_eq!(state(&[brief(entry_s + 61, true)]), BriefState::Missing);
    // The latest in the window wins.
    assert_eq!(
        state(&[brief(entry_s - 100, true), brief(entry_s, false)]),
        BriefState::Incomplete
    );
}

#[test]
fn the_state_at_as_of_names_the_current_owner_and_spell() {
    let c = config();
    let rows = [
        row(0, "general", Some("a")),
        row(5, "general", Some("a")),
        row(9, "general", Some("b")),
    ];
    let o = conversation(&rows, &[7 * MIN], &[], 60 * MIN, &c);
    assert_eq!(o.now.owner, Some("b"));
    assert_eq!(o.now.owner_since, Some(9 * MIN));
    assert_eq!(o.now.last_agent_at, Some(7 * MIN));
    let queued = [row(0, "general", None), row(3, "retention", None)];
    let o = conversation(&queued, &[], &[], 60 * MIN, &c);
    assert_eq!(o.now.owner, None);
    assert_eq!(o.now.spell_start, Some(0));
    assert_eq!(o.now.spell_lane, Some("general"));
}

#[test]
fn a_duplicate_needs_an_earlier_conversation_still_open() {
    let intake = |key, customer, channel, intent, opened, closed| Intake {
        key,
        id: ["c0", "c1", "c2", "c3", "c4"][key as usize],
        customer,
        channel: Some(channel),
        intent,
        opened_at: opened,
        closed_at: closed,
    };
    let all = [
        intake(0, "u", "whatsapp", Some("a"), 0, Some(100)),
        // Opened exactly at c0's close: not a duplicate.
        intake(1, "u", "whatsapp", Some("b"), 100, None),
        // Another channel: not a duplicate of c1.
        intake(2, "u", "email", Some("b"), 150, None),
        intake(3, "u", "whatsapp", Some("a"), 200, None),
        intake(4, "v", "whatsapp", Some("a"), 200, None),
    ];
    let d = duplicates(&all, DuplicateMatch::Customer);
    assert_eq!(d, vec![None, None, None, Some(1), None]);
    // Matching on intent too: c3 (intent a) has no open earlier conversation with intent a.
    let d = duplicates(&all, DuplicateMatch::CustomerIntent);
    assert_eq!(d, vec![None, None, None, None, None]);
}
