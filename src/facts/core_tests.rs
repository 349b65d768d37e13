//! The per-conversation pass on hand-made event sequences, and its independence from the
//! order of the input rows.

use super::super::inputs::AGENT;
use super::*;
use crate::testing::Case;

use super::super::inputs::{TEST_MINUTE as MIN, test_message as msg};

fn routed(at_min: i64, lane: &'static str, reason: Option<&'static str>) -> Row<'static> {
    super::super::inputs::test_row(at_min, lane, None, reason)
}

fn run<'a>(messages: &[Message], rows: &[Row<'a>], handoffs: &[Handoff<'_>]) -> Core<'a> {
    conversation(messages, rows, handoffs, None, 3, &mut Vec::new())
}

#[test]
fn trap_signals_before_the_escalation_give_the_strike() {
    let billing = 7;
    let messages = [
        msg(0, CUSTOMER, billing),
        msg(1, BOT | REPLY | FALLBACK, NO_INTENT),
        msg(2, CUSTOMER, billing),
        msg(3, CUSTOMER, NO_INTENT),
        msg(4, CUSTOMER, NO_INTENT),
        msg(5, BOT | REPLY | FALLBACK, NO_INTENT),
        msg(6, CUSTOMER, billing),
        msg(7, CUSTOMER, billing),
        // After the escalation at minute 8: not counted.
        msg(9, BOT | REPLY | FALLBACK, NO_INTENT),
    ];
    let core = run(&messages, &[routed(8, "retention", None)], &[]);
    assert_eq!(core.escalated_at, Some(8 * MIN));
    // Fallbacks at 1 and 5, billing repeated at 2 and 7; two missing intents are no repeat.
    assert_eq!(core.trap_signals, 4);
    assert_eq!(core.strike_at, Some(5 * MIN));
    assert_eq!(core.first_reply_at, Some(MIN));
}

#[test]
fn a_reply_before_the_first_customer_message_is_no_answer() {
    let messages = [
        msg(0, BOT | REPLY, NO_INTENT),
        msg(1, CUSTOMER | ASKS_PERSON, 1),
        msg(1, AGENT | REPLY, NO_INTENT),
    ];
    let core = run(&messages, &[], &[]);
    assert_eq!(core.first_bot_at, Some(0));
    assert_eq!(core.first_reply_at, Some(MIN));
    assert_eq!(core.person_requested_at, Some(MIN));
    assert_eq!(core.last_lane, None);
}

#[test]
fn lateral_moves_need_no_reason_and_the_same_specialist_tier() {
    let plain = run(
        &[],
        &[routed(0, "retention", None), routed(1, "general", None)],
        &[],
    );
    assert!(!plain.misrouted);
    assert_eq!(plain.last_lane, Some("general"));
    let lateral = run(
        &[],
        &[
            routed(0, "retention", None),
            routed(1, "technical_l2", None),
        ],
        &[],
    );
    assert!(lateral.misrouted);
    let explained = run(
        &[],
        &[
            routed(0, "retention", None),
            routed(1, "technical_l2", Some("transfer")),
        ],
        &[],
    );
    assert!(!explained.misrouted);
}

#[test]
fn the_brief_is_the_latest_by_the_grace_and_scores_its_fields() {
    let handoffs = [
        Handoff {
            row: 1,
            at: 0,
            present: [true; 5],
            next_action: None,
        },
        Handoff {
            row: 2,
            at: MIN,
            present: [true, false, true, true, false],
            next_action: None,
        },
        Handoff {
            row: 3,
            at: 2 * MIN,
            present: [false; 5],
            next_action: None,
        },
    ];
    let core = run(&[], &[routed(0, "retention", None)], &handoffs);
    assert!(core.context_complete);
    assert_eq!(core.context_score, 3.0 / 5.0);
}

/// The same rows in another order give the same facts: ties keep input order through
/// `source_row`, not through the position in the file.
#[test]
fn the_facts_do_not_depend_on_the_order_of_the_input_rows() {
    let conversations = [
        "c1,cus_1,whatsapp,pro,billing,2026-11-16T08:00:00Z,2026-11-16T12:00:00Z",
        "c2,cus_1,whatsapp,pro,billing,2026-11-17T08:00:00Z,",
        "c3,cus_2,whatsapp,pro,,2026-11-16T09:00:00Z,",
    ];
    let messages = [
        "c1,2026-11-16T08:00:00Z,customer,text,,billing",
        "c1,2026-11-16T08:01:00Z,bot,text,true,",
        "c1,2026-11-16T08:02:00Z,customer,text,,billing",
        "c1,2026-11-16T08:30:00Z,agent,text,,",
        "c2,2026-11-17T08:00:00Z,customer,text,,billing",
        "c2,2026-11-17T08:00:00Z,bot,text,,",
        "c3,2026-11-16T09:00:00Z,customer,text,,",
        "c3,2026-11-16T09:05:00Z,agent,internal_note,,",
    ];
    let assignments = [
        "c1,2026-11-16T08:10:00Z,retention,a1,",
        "c1,2026-11-16T08:20:00Z,technical_l2,a2,",
        "c3,2026-11-16T09:10:00Z,general,,",
    ];
    let build = |reverse: bool| {
        let mut case = Case::new();
        let order = |lines: &[&'static str]| -> Vec<&'static str> {
            let mut v = lines.to_vec();
            if reverse {
                v.reverse();
            }
            v
        };
        for line in order(&conversations) {
            case = case.conv(line);
        }
        for line in order(&messages) {
            case = case.msg(line);
        }
        for line in order(&assignments) {
            case = case.asg(line);
        }
        case.facts("2026-11-30T00:00:00Z")
    };
    let (forward, backward) = (build(false), build(true));
    let sorted = |f: &crate::testing::Facts| {
        f.0.clone()
            .lazy()
            .drop(Selector::ByName {
                names: ["key".into()].into(),
                strict: true,
            })
            .sort(["conversation_id"], SortMultipleOptions::default())
            .collect()
            .unwrap()
    };
    assert_eq!(sorted(&forward), sorted(&backward));
    assert_eq!(forward.count("c1", "trap_signals"), 2);
    assert_eq!(forward.flag("c1", "repeat_48h"), Some(true));
    assert_eq!(forward.ms("c3", "first_reply_at"), None);
}
