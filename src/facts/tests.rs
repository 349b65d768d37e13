//! One test per rule of the spec's "Per-conversation facts", on tiny hand-made cases.

use crate::testing::{Case, at};

const AS_OF: &str = "2026-11-30T00:00:00Z";

pub(super) fn conv(id: &str, opened: &str, closed: &str) -> String {
    format!("{id},cus_{id},whatsapp,pro,billing,{opened},{closed}")
}

#[test]
fn first_reply_ignores_internal_notes_and_earlier_messages() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T08:00:00Z", ""))
        .msg("c1,2026-11-16T08:00:00Z,agent,template,,")
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,billing")
        .msg("c1,2026-11-16T09:01:00Z,agent,internal_note,,")
        .msg("c1,2026-11-16T09:05:00Z,system,text,,")
        .msg("c1,2026-11-16T09:06:00Z,agent,text,,")
        .facts(AS_OF);
    assert_eq!(
        f.ms("c1", "first_customer_at"),
        Some(at("2026-11-16T09:00:00Z"))
    );
    assert_eq!(
        f.ms("c1", "first_reply_at"),
        Some(at("2026-11-16T09:06:00Z"))
    );
    assert_eq!(f.ms("c1", "first_bot_at"), None);
    assert_eq!(f.flag("c1", "bot_handled"), Some(false));
}

#[test]
fn a_reply_at_the_same_instant_counts_and_nulls_stay_null() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T09:00:00Z,bot,text,,")
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,billing")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .facts(AS_OF);
    assert_eq!(
        f.ms("c1", "first_reply_at"),
        f.ms("c1", "first_customer_at")
    );
    for column in [
        "first_customer_at",
        "first_reply_at",
        "first_bot_at",
        "escalated_at",
        "specialist_at",
    ] {
        assert_eq!(f.ms("c2", column), None, "{column}");
    }
    assert_eq!(f.text("c2", "lane").as_deref(), Some("unassigned"));
    assert_eq!(f.count("c2", "owner_changes"), 0);
    assert_eq!(f.flag("c2", "misrouted"), Some(false));
    assert_eq!(f.score("c2"), 0.0);
}

#[test]
fn escalation_needs_a_human_lane_at_or_after_the_first_bot_message() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .asg("c1,2026-11-16T08:59:00Z,general,agent-1,initial")
        .msg("c1,2026-11-16T09:00:00Z,bot,text,,")
        .asg("c1,2026-11-16T09:00:00Z,automation,bot-1,")
        .asg("c1,2026-11-16T09:10:00Z,technical_l2,,escalation")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .asg("c2,2026-11-16T09:05:00Z,technical_l2,agent-2,initial")
        .facts(AS_OF);
    assert_eq!(f.ms("c1", "escalated_at"), Some(at("2026-11-16T09:10:00Z")));
    assert_eq!(
        f.ms("c1", "specialist_at"),
        Some(at("2026-11-16T09:10:00Z"))
    );
    assert_eq!(
        f.ms("c2", "escalated_at"),
        None,
        "not bot-handled: never escalated"
    );
    assert_eq!(
        f.ms("c2", "specialist_at"),
        Some(at("2026-11-16T09:05:00Z"))
    );
}

#[test]
fn lane_is_the_latest_assignment_with_ties_broken_by_input_order() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .asg("c1,2026-11-16T09:10:00Z,retention,,escalation")
        .asg("c1,2026-11-16T09:10:00Z,compliance,,transfer")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .asg("c2,2026-11-16T09:10:00Z,compliance,,transfer")
        .asg("c2,2026-11-16T09:10:00Z,retention,,escalation")
        .conv(&conv("c3", "2026-11-16T09:00:00Z", ""))
        .msg("c3,2026-11-16T09:00:00Z,bot,text,,")
        .facts(AS_OF);
    assert_eq!(f.text("c1", "lane").as_deref(), Some("compliance"));
    assert_eq!(f.text("c2", "lane").as_deref(), Some("retention"));
    assert_eq!(f.text("c3", "lane").as_deref(), Some("automation"));
}

#[test]
fn owner_changes_collapse_repeats_and_skip_queue_steps() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .asg("c1,2026-11-16T09:00:00Z,automation,bot-1,initial")
        .asg("c1,2026-11-16T09:01:00Z,technical_l2,,escalation")
        .asg("c1,2026-11-16T09:02:00Z,technical_l2,agent-1,claim")
        .asg("c1,2026-11-16T09:03:00Z,technical_l2,agent-1,reassign")
        .asg("c1,2026-11-16T09:04:00Z,retention,agent-2,transfer")
        .asg("c1,2026-11-16T09:05:00Z,technical_l2,agent-1,transfer")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .asg("c2,2026-11-16T09:02:00Z,technical_l2,agent-9,claim")
        .conv(&conv("c3", "2026-11-16T09:00:00Z", ""))
        .asg("c3,2026-11-16T09:02:00Z,technical_l2,,escalation")
        .facts(AS_OF);
    // bot-1 → agent-1 (agent-1 again collapsed) → agent-2 → agent-1
    assert_eq!(f.count("c1", "owner_changes"), 3);
    assert_eq!(f.count("c2", "owner_changes"), 0);
    // The owner is the latest non-null assignee, never one of another conversation.
    assert_eq!(f.text("c1", "owner").as_deref(), Some("agent-1"));
    assert_eq!(f.text("c2", "owner").as_deref(), Some("agent-9"));
    assert_eq!(f.text("c3", "owner"), None);
}

#[test]
fn misroutes_explicit_lateral_up_tier_and_transfers() {
    let f = Case::new()
        // explicit wrong_queue
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .asg("c1,2026-11-16T09:00:00Z,retention,,escalation")
        .asg("c1,2026-11-16T09:10:00Z,revenue_protection,,wrong_queue")
        // lateral L2 → L2 with no reason
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .asg("c2,2026-11-16T09:00:00Z,technical_l2,agent-1,initial")
        .asg("c2,2026-11-16T09:10:00Z,customer_recovery,,")
        // up a tier with no reason (L1 → L2, L2 → L3): not a misroute
        .conv(&conv("c3", "2026-11-16T09:00:00Z", ""))
        .asg("c3,2026-11-16T09:00:00Z,general,agent-1,initial")
        .asg("c3,2026-11-16T09:10:00Z,technical_l2,,")
        .asg("c3,2026-11-16T09:20:00Z,compliance,,")
        // explicit transfer between specialist lanes: not a misroute
        .conv(&conv("c4", "2026-11-16T09:00:00Z", ""))
        .asg("c4,2026-11-16T09:00:00Z,technical_l2,agent-1,initial")
        .asg("c4,2026-11-16T09:10:00Z,customer_recovery,,transfer")
        // same lane again with no reason (a claim): not a move
        .conv(&conv("c5", "2026-11-16T09:00:00Z", ""))
        .asg("c5,2026-11-16T09:00:00Z,technical_l2,,escalation")
        .asg("c5,2026-11-16T09:10:00Z,technical_l2,agent-1,")
        // lateral move between conversations is not a move
        .conv(&conv("c6", "2026-11-16T09:00:00Z", ""))
        .asg("c6,2026-11-16T09:00:00Z,retention,agent-1,initial")
        .facts(AS_OF);
    assert_eq!(f.flag("c1", "misrouted"), Some(true));
    assert_eq!(f.flag("c2", "misrouted"), Some(true));
    assert_eq!(f.flag("c3", "misrouted"), Some(false));
    assert_eq!(f.flag("c4", "misrouted"), Some(false));
    assert_eq!(f.flag("c5", "misrouted"), Some(false));
    assert_eq!(f.flag("c6", "misrouted"), Some(false));
    assert_eq!(f.flag("c6", "reached_human"), Some(true));
}

#[test]
fn unknown_lanes_count_as_l1() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T09:00:00Z,bot,text,,")
        .asg("c1,2026-11-16T09:05:00Z,legacy_queue,agent-1,escalation")
        .asg("c1,2026-11-16T09:30:00Z,technical_l2,agent-2,")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .asg("c2,2026-11-16T09:05:00Z,legacy_queue,agent-1,initial")
        .asg("c2,2026-11-16T09:30:00Z,old_queue,agent-2,")
        .facts(AS_OF);
    // Human (L1): escalated; not a specialist; the move up to L2 is not a misroute.
    assert_eq!(f.ms("c1", "escalated_at"), Some(at("2026-11-16T09:05:00Z")));
    assert_eq!(
        f.ms("c1", "specialist_at"),
        Some(at("2026-11-16T09:30:00Z"))
    );
    assert_eq!(f.flag("c1", "misrouted"), Some(false));
    // Two unknown lanes are L1, not specialist lanes: no lateral misroute.
    assert_eq!(f.flag("c2", "misrouted"), Some(false));
    assert_eq!(f.ms("c2", "specialist_at"), None);
}

#[test]
fn trap_signals_count_fallbacks_and_repeated_intents_before_escalation() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,order")
        .msg("c1,2026-11-16T09:00:01Z,bot,text,true,")
        .msg("c1,2026-11-16T09:01:00Z,customer,text,,order")
        .msg("c1,2026-11-16T09:02:00Z,customer,text,,")
        .msg("c1,2026-11-16T09:03:00Z,customer,text,,order")
        .msg("c1,2026-11-16T09:03:01Z,bot,text,yes,")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .msg("c2,2026-11-16T09:00:00Z,customer,text,,order")
        .msg("c2,2026-11-16T09:00:01Z,bot,text,1,")
        .msg("c2,2026-11-16T09:01:00Z,customer,text,,order")
        .msg("c2,2026-11-16T09:01:01Z,bot,text,t,")
        .asg("c2,2026-11-16T09:02:00Z,general,,escalation")
        .msg("c2,2026-11-16T09:02:00Z,customer,text,,order")
        .msg("c2,2026-11-16T09:03:00Z,bot,text,true,")
        .facts(AS_OF);
    // c1: fallback, repeat, (null breaks the chain), not a repeat of null, fallback = 3.
    assert_eq!(f.count("c1", "trap_signals"), 3);
    assert_eq!(f.flag("c1", "trapped"), Some(true));
    // c2: only the signals strictly before the escalation count: 3, not 5.
    assert_eq!(f.count("c2", "trap_signals"), 3);
}

#[test]
fn trapped_needs_more_than_the_limit_and_a_bot() {
    let base = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,order")
        .msg("c1,2026-11-16T09:00:01Z,bot,text,true,")
        .msg("c1,2026-11-16T09:00:02Z,bot,text,true,")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .msg("c2,2026-11-16T09:00:00Z,customer,text,,order")
        .msg("c2,2026-11-16T09:00:01Z,customer,text,,order")
        .msg("c2,2026-11-16T09:00:02Z,customer,text,,order")
        .msg("c2,2026-11-16T09:00:03Z,customer,text,,order");
    let f = base.facts(AS_OF);
    assert_eq!(f.count("c1", "trap_signals"), 2);
    assert_eq!(f.flag("c1", "trapped"), Some(false), "2 is not more than 2");
    assert_eq!(f.count("c2", "trap_signals"), 3);
    assert_eq!(f.flag("c2", "trapped"), Some(false), "not bot-handled");
    let mut strict = base;
    strict.config.trap_limit = 1;
    assert_eq!(strict.facts(AS_OF).flag("c1", "trapped"), Some(true));
}

#[test]
fn the_brief_has_a_60_second_grace_and_the_latest_wins() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .asg("c1,2026-11-16T09:10:00Z,retention,,escalation")
        .brief("c1,2026-11-16T09:11:00Z,wants refund,order 1,retried,waiting,")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .asg("c2,2026-11-16T09:10:00Z,retention,,escalation")
        .brief("c2,2026-11-16T09:11:00.001Z,wants refund,order 1,retried,waiting,call")
        .conv(&conv("c3", "2026-11-16T09:00:00Z", ""))
        .asg("c3,2026-11-16T09:10:00Z,retention,,escalation")
        .brief("c3,2026-11-16T09:05:00Z,wants refund,order 1,retried,waiting,call")
        .brief("c3,2026-11-16T09:05:00Z,wants refund,,,  ,")
        .facts(AS_OF);
    assert_eq!(
        f.flag("c1", "context_complete"),
        Some(true),
        "exactly 60 s late counts"
    );
    assert!((f.score("c1") - 0.8).abs() < 1e-12);
    assert_eq!(
        f.flag("c2", "context_complete"),
        Some(false),
        "60.001 s is too late"
    );
    assert_eq!(f.score("c2"), 0.0);
    // Same instant: the later row wins; a blank field is missing.
    assert_eq!(f.flag("c3", "context_complete"), Some(false));
    assert!((f.score("c3") - 0.2).abs() < 1e-12);
}

#[test]
fn repeat_48h_edges_in_the_same_and_in_a_new_conversation() {
    let f = Case::new()
        // writes again exactly 48 h after the close: counts (interval closed on the right)
        .conv(&conv("c1", "2026-11-16T09:00:00Z", "2026-11-16T10:00:00Z"))
        .msg("c1,2026-11-18T10:00:00Z,customer,text,,")
        // writes again 48 h + 1 ms later: does not count; at the close instant: does not count
        .conv(&conv("c2", "2026-11-16T09:00:00Z", "2026-11-16T10:00:00Z"))
        .msg("c2,2026-11-16T10:00:00Z,customer,text,,")
        .msg("c2,2026-11-18T10:00:00.001Z,customer,text,,")
        // a new conversation of the same customer and intent, 47:59:59 later
        .conv("c3,cus_x,whatsapp,pro,billing,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z")
        .conv("c4,cus_x,whatsapp,pro,billing,2026-11-18T09:59:59Z,2026-11-18T11:00:00Z")
        // same customer, other intent: no
        .conv("c5,cus_y,whatsapp,pro,billing,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z")
        .conv("c6,cus_y,whatsapp,pro,refund,2026-11-16T12:00:00Z,2026-11-16T13:00:00Z")
        // two null intents are the same issue
        .conv("c7,cus_z,whatsapp,pro,,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z")
        .conv("c8,cus_z,whatsapp,pro,,2026-11-16T12:00:00Z,2026-11-16T13:00:00Z")
        // opened exactly at the close instant: not after it
        .conv("c9,cus_w,whatsapp,pro,billing,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z")
        .conv("c10,cus_w,whatsapp,pro,billing,2026-11-16T10:00:00Z,")
        .facts(AS_OF);
    assert_eq!(f.flag("c1", "repeat_48h"), Some(true));
    assert_eq!(f.flag("c2", "repeat_48h"), Some(false));
    assert_eq!(f.flag("c3", "repeat_48h"), Some(true));
    assert_eq!(f.flag("c5", "repeat_48h"), Some(false));
    assert_eq!(f.flag("c7", "repeat_48h"), Some(true));
    assert_eq!(f.flag("c9", "repeat_48h"), Some(false));
    assert_eq!(f.flag("c10", "repeat_48h"), None, "open: not judged");
}

#[test]
fn repeat_48h_waits_for_48_hours_of_hindsight() {
    let case = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", "2026-11-16T10:00:00Z"))
        .msg("c1,2026-11-16T11:00:00Z,customer,text,,");
    assert_eq!(
        case.facts("2026-11-18T10:00:00Z").flag("c1", "repeat_48h"),
        Some(true)
    );
    assert_eq!(
        case.facts("2026-11-18T09:59:59Z").flag("c1", "repeat_48h"),
        None
    );
}

#[test]
fn events_after_as_of_are_ignored_and_a_later_close_is_open() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", "2026-11-16T12:00:00Z"))
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,")
        .msg("c1,2026-11-16T10:00:01Z,bot,text,,")
        .asg("c1,2026-11-16T10:00:01Z,technical_l2,agent-1,initial")
        .brief("c1,2026-11-16T09:59:00Z,x,y,z,w,v")
        .conv(&conv("c2", "2026-11-16T10:00:01Z", ""))
        .facts("2026-11-16T10:00:00Z");
    assert_eq!(f.ms("c1", "first_reply_at"), None);
    assert_eq!(f.ms("c1", "first_bot_at"), None);
    assert_eq!(f.ms("c1", "specialist_at"), None);
    assert_eq!(
        f.ms("c1", "closed_at"),
        None,
        "closed after as_of: still open"
    );
    assert_eq!(f.text("c1", "lane").as_deref(), Some("unassigned"));
    assert!(!f.has("c2"), "opened after as_of: not in the facts");
}

#[test]
fn a_customer_message_before_opened_at_is_kept() {
    // The conversation record was created late (clock skew, a batch export): the customer was
    // waiting from their message, so FRT is measured from it.
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T08:59:30Z,customer,text,,billing")
        .msg("c1,2026-11-16T09:00:10Z,bot,text,,")
        .facts(AS_OF);
    assert_eq!(
        f.ms("c1", "first_customer_at"),
        Some(at("2026-11-16T08:59:30Z"))
    );
    assert_eq!(
        f.ms("c1", "first_reply_at"),
        Some(at("2026-11-16T09:00:10Z"))
    );
}

#[test]
fn assignments_after_the_close_are_ignored_by_every_fact() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", "2026-11-16T10:00:00Z"))
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,billing")
        .msg("c1,2026-11-16T09:00:05Z,bot,text,,")
        .asg("c1,2026-11-16T09:00:01Z,automation,bot_1,initial")
        // At the close instant: still part of the handling.
        .asg("c1,2026-11-16T10:00:00Z,general,agent_1,escalation")
        // After it: an archive sweep, not an escalation, a specialist, a lane or an owner.
        .asg("c1,2026-11-16T10:00:01Z,technical_l2,agent_9,")
        .asg("c1,2026-11-16T11:00:00Z,revenue_protection,agent_8,")
        .facts(AS_OF);
    assert_eq!(f.ms("c1", "escalated_at"), Some(at("2026-11-16T10:00:00Z")));
    assert_eq!(f.ms("c1", "specialist_at"), None);
    assert_eq!(f.text("c1", "lane").as_deref(), Some("general"));
    assert_eq!(f.text("c1", "owner").as_deref(), Some("agent_1"));
    assert_eq!(f.count("c1", "owner_changes"), 1);
    assert_eq!(f.flag("c1", "misrouted"), Some(false));
}

#[test]
fn an_assignment_after_a_close_later_than_as_of_still_counts() {
    // closed_at after as_of is treated as open, so routing before as_of is all handling.
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", "2026-12-31T00:00:00Z"))
        .msg("c1,2026-11-16T09:00:00Z,bot,text,,")
        .asg("c1,2026-11-20T09:00:00Z,technical_l2,agent_1,escalation")
        .facts(AS_OF);
    assert_eq!(
        f.ms("c1", "specialist_at"),
        Some(at("2026-11-20T09:00:00Z"))
    );
}

#[test]
fn the_handoff_is_due_at_strike_three_or_a_request_for_a_person() {
    let f = Case::new()
        // Strikes: a fallback, a repeated intent, a fallback (the third is due); escalated
        // exactly 120 s later: not missed.
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,billing")
        .msg("c1,2026-11-16T09:00:05Z,bot,text,true,")
        .msg("c1,2026-11-16T09:01:00Z,customer,text,,billing")
        .msg("c1,2026-11-16T09:02:00Z,bot,text,true,")
        .asg("c1,2026-11-16T09:04:00Z,general,agent_1,escalation")
        // A request for a person before any strike; escalated 121 s later: missed.
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .msg("c2,2026-11-16T09:00:00Z,customer,text,,billing")
        .msg("c2,2026-11-16T09:00:05Z,bot,text,,")
        .msg("c2,2026-11-16T09:01:00Z,customer,text,,human_request")
        .asg("c2,2026-11-16T09:03:01Z,general,agent_1,escalation")
        // Two strikes only, never escalated: not due.
        .conv(&conv("c3", "2026-11-16T09:00:00Z", ""))
        .msg("c3,2026-11-16T09:00:00Z,customer,text,,billing")
        .msg("c3,2026-11-16T09:00:05Z,bot,text,true,")
        .msg("c3,2026-11-16T09:00:10Z,bot,text,true,")
        // Three strikes at the very end, never escalated: undetermined at as_of.
        .conv(&conv("c4", "2026-11-29T23:50:00Z", ""))
        .msg("c4,2026-11-29T23:50:00Z,customer,text,,billing")
        .msg("c4,2026-11-29T23:58:00Z,bot,text,true,")
        .msg("c4,2026-11-29T23:58:30Z,bot,text,true,")
        .msg("c4,2026-11-29T23:59:00Z,bot,text,true,")
        // A person asked for, but no bot: not bot-handled, so nothing is due.
        .conv(&conv("c5", "2026-11-16T09:00:00Z", ""))
        .msg("c5,2026-11-16T09:00:00Z,customer,text,,human_request")
        .facts(AS_OF);
    assert_eq!(
        f.ms("c1", "handoff_due_at"),
        Some(at("2026-11-16T09:02:00Z"))
    );
    assert_eq!(f.flag("c1", "missed_handoff"), Some(false));
    assert_eq!(
        f.ms("c2", "handoff_due_at"),
        Some(at("2026-11-16T09:01:00Z"))
    );
    assert_eq!(f.flag("c2", "missed_handoff"), Some(true));
    assert_eq!(f.ms("c3", "handoff_due_at"), None);
    assert_eq!(f.flag("c3", "missed_handoff"), None);
    assert_eq!(
        f.ms("c4", "handoff_due_at"),
        Some(at("2026-11-29T23:59:00Z"))
    );
    assert_eq!(
        f.flag("c4", "missed_handoff"),
        None,
        "the grace is still running"
    );
    assert_eq!(f.ms("c5", "handoff_due_at"), None);
}

#[test]
fn a_template_status_counts_from_its_change_instant_and_the_later_row_wins_ties() {
    let case = Case::new()
        .tpl("tpl_a,approved,2026-11-01T00:00:00Z")
        .tpl("tpl_a,paused,2026-11-16T10:00:00Z")
        // Two rows at one instant: the later row is the status.
        .tpl("tpl_a,rejected,2026-11-16T12:00:00Z")
        .tpl("tpl_a,approved,2026-11-16T12:00:00Z")
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg_full("c1,2026-11-16T09:59:59Z,agent,template,,,tpl_a")
        .msg_full("c1,2026-11-16T10:00:00Z,agent,template,,,tpl_a")
        .msg_full("c1,2026-11-16T12:00:00Z,bot,template,,,tpl_a")
        .msg_full("c1,2026-11-16T12:30:00Z,agent,template,,,tpl_new")
        .msg_full("c1,2026-11-16T12:40:00Z,customer,template,,,tpl_a");
    let data = case.dataset();
    let sends = crate::facts::sends::template_sends(&data, &case.config, at(AS_OF))
        .unwrap()
        .expect("a templates table")
        .sort(["at"], Default::default())
        .collect()
        .unwrap();
    let status: Vec<&str> = sends
        .column("status")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(status, ["approved", "paused", "approved", "unknown"]);
    let blocked: Vec<bool> = sends
        .column("blocked")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(blocked, [false, true, false, false]);
}

#[test]
fn internal_notes_and_bot_messages_do_not_cut_a_stall() {
    let f = Case::new()
        .conv(&conv("c1", "2026-11-16T08:00:00Z", "2026-11-16T14:00:00Z"))
        .msg("c1,2026-11-16T08:00:00Z,customer,text,,billing")
        .asg("c1,2026-11-16T08:00:00Z,general,agent_1,initial")
        .msg("c1,2026-11-16T08:05:00Z,agent,text,,")
        .msg("c1,2026-11-16T10:00:00Z,agent,internal_note,,")
        .msg("c1,2026-11-16T11:00:00Z,bot,text,,")
        .msg("c1,2026-11-16T13:10:00Z,agent,text,,")
        // The same gap cut by a reassignment to the same agent: two shorter intervals.
        .conv(&conv("c2", "2026-11-16T08:00:00Z", "2026-11-16T14:00:00Z"))
        .msg("c2,2026-11-16T08:00:00Z,customer,text,,billing")
        .asg("c2,2026-11-16T08:00:00Z,general,agent_1,initial")
        .msg("c2,2026-11-16T08:05:00Z,agent,text,,")
        .asg("c2,2026-11-16T11:00:00Z,general,agent_1,reassign")
        .msg("c2,2026-11-16T13:10:00Z,agent,text,,")
        .facts(AS_OF);
    let stall = |id: &str| match f.value(id, "stall_max_s") {
        polars::prelude::AnyValue::Float64(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(stall("c1"), 18_300.0, "08:05 to 13:10");
    assert_eq!(f.flag("c1", "stalled"), Some(true));
    assert_eq!(stall("c2"), 10_500.0, "08:05 to 11:00, then 11:00 to 13:10");
    assert_eq!(f.flag("c2", "stalled"), Some(false));
}

#[test]
fn lane_patterns_and_the_default_tier_decide_specialist_lanes() {
    let mut case = Case::new()
        .conv(&conv("c1", "2026-11-16T09:00:00Z", ""))
        .msg("c1,2026-11-16T09:00:00Z,customer,text,,billing")
        .asg("c1,2026-11-16T09:05:00Z,V5 G2 Desk,agent_1,initial")
        .conv(&conv("c2", "2026-11-16T09:00:00Z", ""))
        .msg("c2,2026-11-16T09:00:00Z,customer,text,,billing")
        .asg("c2,2026-11-16T09:05:00Z,N1,agent_2,initial");
    case.config = crate::config::Config::from_toml(
        "[lanes]\n\"v5*\" = \"L2\"\n[rules]\ndefault_tier = \"L3\"\n",
    )
    .unwrap();
    let f = case.facts(AS_OF);
    assert_eq!(
        f.ms("c1", "specialist_at"),
        Some(at("2026-11-16T09:05:00Z"))
    );
    assert_eq!(
        f.ms("c2", "specialist_at"),
        Some(at("2026-11-16T09:05:00Z")),
        "N1 is L3 by default"
    );
    // Without the configuration both are unknown lanes, L1: no specialist.
    let mut plain = case;
    plain.config = crate::config::Config::default();
    let f = plain.facts(AS_OF);
    assert_eq!(f.ms("c1", "specialist_at"), None);
}

/// `metrics --select core` computes only the two governance facts a core metric reads; they
/// are the same as in the full pass, and the other governance columns are not there.
#[test]
fn the_core_scope_keeps_the_human_first_response_facts() {
    let case = Case::new()
        .conv(&conv("c1", "2026-11-16T08:00:00Z", "2026-11-16T12:00:00Z"))
        .msg("c1,2026-11-16T08:00:00Z,customer,text,,billing")
        .msg("c1,2026-11-16T08:30:00Z,agent,text,,")
        .msg("c1,2026-11-16T09:20:00Z,agent,internal_note,,")
        .msg("c1,2026-11-16T09:30:00Z,agent,text,,")
        .asg("c1,2026-11-16T08:01:00Z,automation,bot-1,")
        .asg("c1,2026-11-16T09:10:00Z,billing_l2,agent-2,escalation")
        .conv(&conv("c2", "2026-11-16T08:00:00Z", "2026-11-16T09:00:00Z"))
        .msg("c2,2026-11-16T08:00:00Z,customer,text,,billing")
        .msg("c2,2026-11-16T10:00:00Z,agent,text,,")
        .asg("c2,2026-11-16T10:00:00Z,general,agent-1,initial")
        .conv(&conv("c3", "2026-11-16T08:00:00Z", ""))
        .asg("c3,2026-11-16T08:05:00Z,general,,initial");
    let data = case.dataset();
    let as_of = Some(at(AS_OF));
    let all = crate::facts::compute(&data, &case.config, as_of)
        .unwrap()
        .frame;
    let core = crate::facts::compute_scoped(
        &data,
        &case.config,
        super::Known::AsOf(as_of),
        super::governance::Scope::Core,
        None,
    )
    .unwrap()
    .frame;
    for name in ["conversation_id", "first_human_at", "first_agent_reply_at"] {
        assert_eq!(
            all.column(name).unwrap(),
            core.column(name).unwrap(),
            "{name}"
        );
    }
    let human = core.column("first_agent_reply_at").unwrap().i64().unwrap();
    assert_eq!(human.get(0), Some(at("2026-11-16T09:30:00Z")));
    // c2's assignment came after its close; c3 was never answered.
    assert_eq!((human.get(1), human.get(2)), (None, None));
    assert!(all.column("stalled").is_ok());
    assert!(core.column("stalled").is_err());
}
