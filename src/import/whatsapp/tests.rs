//! The thread, close, sender and failure rules on small streams.

use super::*;

/// Runs the importer on JSON Lines text and returns (summary, table name → CSV text).
pub(crate) fn run(
    lines: &[String],
    options: Options,
    as_of: Option<&str>,
) -> (ImportSummary, BTreeMap<String, String>) {
    let dir = crate::import::scratch_dir("wa");
    let input = dir.join("in.jsonl");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let request = Request {
        inputs: vec![input],
        outbound: None,
        customers: None,
        as_of: as_of.map(|t| crate::time::parse_timestamp(t, None).unwrap()),
        format: OutFormat::Csv,
        options,
        text: Default::default(),
    };
    let summary = import_into(&request, &out).unwrap();
    let mut tables = BTreeMap::new();
    for name in [
        "conversations",
        "messages",
        "send_failures",
        "templates",
        "import_quarantine",
    ] {
        tables.insert(
            name.to_owned(),
            std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap(),
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    (summary, tables)
}

const PHONE: &str = "1122334455667";
const T0: i64 = 1_794_819_600; // 2026-11-16T09:00:00Z

fn body(value: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550000000","phone_number_id":"{PHONE}"}},{value}}}}}]}}]}}"#
    )
}

fn text(id: &str, from: &str, t: i64) -> String {
    body(&format!(
        r#""contacts":[{{"wa_id":"{from}"}}],"messages":[{{"from":"{from}","id":"{id}","timestamp":"{t}","type":"text","text":{{"body":"hi"}}}}]"#
    ))
}

fn status(id: &str, to: &str, status: &str, t: i64, extra: &str) -> String {
    body(&format!(
        r#""statuses":[{{"id":"{id}","status":"{status}","timestamp":"{t}","recipient_id":"{to}"{extra}}}]"#
    ))
}

fn column(csv: &str, name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let i = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap();
    reader.records().map(|r| r.unwrap()[i].to_owned()).collect()
}

#[test]
fn the_worked_example_of_the_spec() {
    let c = "15550001111";
    let h = 3600;
    let lines = vec![
        text("wamid.A", c, T0),
        status(
            "wamid.B",
            c,
            "sent",
            T0 + 5,
            r#","biz_opaque_callback_data":"sender=bot""#,
        ),
        body(&format!(
            r#""messages":[{{"from":"{c}","id":"wamid.C","timestamp":"{}","type":"interactive","context":{{"from":"{PHONE}","id":"wamid.B"}},"interactive":{{"type":"list_reply","list_reply":{{"id":"billing","title":"Billing"}}}}}}]"#,
            T0 + 70
        )),
        status(
            "wamid.D",
            c,
            "delivered",
            T0 + 40 * 60,
            r#","biz_opaque_callback_data":"sender=agent;agent=a17""#,
        ),
        text("wamid.G", c, T0 + h + 15 * 60),
        status(
            "wamid.E",
            c,
            "failed",
            T0 + 27 * h,
            r#","errors":[{"code":131047,"title":"Re-engagement message"}]"#,
        ),
        status(
            "wamid.F",
            c,
            "sent",
            T0 + 27 * h + 5 * 60,
            r#","pricing":{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}"#,
        ),
        // A retried delivery of the same body, and a late read of B.
        status(
            "wamid.F",
            c,
            "sent",
            T0 + 27 * h + 5 * 60,
            r#","pricing":{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}"#,
        ),
        status("wamid.B", c, "read", T0 + 60, ""),
    ];
    let mut options = Options::default();
    options
        .reply_intents
        .insert("billing".into(), "billing_dispute".into());
    let (summary, t) = run(&lines, options, Some("2026-11-19T00:00:00Z"));
    assert!(summary.balances(), "{:?}", summary.lines());
    assert_eq!(
        column(&t["conversations"], "opened_at"),
        ["2026-11-16T09:00:00Z"]
    );
    assert_eq!(
        column(&t["conversations"], "closed_at"),
        ["2026-11-17T12:05:00Z"]
    );
    assert_eq!(column(&t["conversations"], "intent"), ["billing_dispute"]);
    assert_eq!(column(&t["conversations"], "entry_point"), ["organic"]);
    let id = column(&t["conversations"], "conversation_id").remove(0);
    assert!(id.starts_with("wa-") && id.len() == 19, "{id}");
    assert_eq!(
        column(&t["messages"], "message_id"),
        [
            "wamid.A", "wamid.B", "wamid.C", "wamid.D", "wamid.G", "wamid.F"
        ]
    );
    assert_eq!(
        column(&t["messages"], "sender"),
        ["customer", "bot", "customer", "agent", "customer", "agent"]
    );
    assert_eq!(
        column(&t["messages"], "kind"),
        ["text", "text", "interactive", "text", "text", "template"]
    );
    assert_eq!(
        column(&t["messages"], "sent_at")[3],
        "2026-11-16T09:40:00Z",
        "from delivered"
    );
    assert_eq!(column(&t["messages"], "read_at")[1], "2026-11-16T09:01:00Z");
    assert_eq!(column(&t["messages"], "agent_id")[3], "a17");
    assert_eq!(column(&t["messages"], "intent")[2], "billing_dispute");
    assert_eq!(column(&t["send_failures"], "message_id"), ["wamid.E"]);
    assert_eq!(column(&t["send_failures"], "error_code"), ["131047"]);
    assert_eq!(
        column(&t["send_failures"], "failed_at"),
        ["2026-11-17T12:00:00Z"]
    );
    assert_eq!(column(&t["send_failures"], "conversation_id"), [id]);
    assert_eq!(summary.skipped.get("duplicate_statuses"), Some(&1));
    assert_eq!(summary.skipped.get("merged_statuses"), Some(&1));
    assert_eq!(
        summary.warnings.len(),
        1,
        "F has no sender: {:?}",
        summary.warnings
    );
}

#[test]
fn customer_last_word_stays_open_and_a_close_splits_threads() {
    let c = "15550002222";
    let d = 86_400;
    let lines = vec![
        // Thread 1: the customer asks, the agent answers, silence for two days: closed.
        text("m1", c, T0),
        status("o1", c, "sent", T0 + 60, ""),
        // Thread 2: a new question quoting o1, 2 days later: a new conversation that reopens 1.
        body(&format!(
            r#""messages":[{{"from":"{c}","id":"m2","timestamp":"{}","type":"text","context":{{"id":"o1"}}}}]"#,
            T0 + 2 * d
        )),
        status("o2", c, "sent", T0 + 2 * d + 60, ""),
        // The customer has the last word and nobody answers for days: stays open.
        text("m3", c, T0 + 2 * d + 120),
        status(
            "o9",
            c,
            "failed",
            T0 + 5 * d,
            r#","errors":[{"code":131047,"title":"Re-engagement message"}]"#,
        ),
    ];
    let (summary, t) = run(&lines, Options::default(), Some("2026-11-26T00:00:00Z"));
    assert!(summary.balances());
    assert_eq!(
        column(&t["conversations"], "closed_at"),
        ["2026-11-16T09:01:00Z", ""]
    );
    let ids = column(&t["conversations"], "conversation_id");
    assert_eq!(
        column(&t["conversations"], "reopens"),
        ["".to_owned(), ids[0].clone()]
    );
    assert_eq!(
        column(&t["send_failures"], "conversation_id"),
        [ids[1].clone()]
    );
}

#[test]
fn the_close_rule_at_the_idle_boundary() {
    let c = "15550003333";
    // A visible message exactly 24 h after the business's last word starts a new thread;
    // one second earlier keeps the thread.
    for (gap, threads) in [(86_400, 2), (86_399, 1)] {
        let lines = vec![
            text("m1", c, T0),
            status("o1", c, "sent", T0 + 10, ""),
            text("m2", c, T0 + 10 + gap),
        ];
        let (_, t) = run(&lines, Options::default(), None);
        assert_eq!(
            column(&t["conversations"], "conversation_id").len(),
            threads,
            "gap {gap}"
        );
    }
}

#[test]
fn identities_join_and_bad_lines_are_quarantined() {
    let lines = vec![
        // BSUID only first, then a body that carries both ids: one customer.
        body(&format!(
            r#""contacts":[{{"user_id":"US.1"}}],"messages":[{{"from_user_id":"US.1","id":"m1","timestamp":{T0},"type":"text"}}]"#
        )),
        body(&format!(
            r#""contacts":[{{"wa_id":"15550004444","user_id":"US.1"}}],"messages":[{{"from":"15550004444","id":"m2","timestamp":"{}","type":"text"}}]"#,
            T0 + 30
        )),
        "{not json".to_owned(),
        body(&format!(
            r#""messages":[{{"from":"15550004444","id":"r1","timestamp":"{}","type":"reaction"}}]"#,
            T0 + 40
        )),
        body(r#""messages":[{"from":"15550004444","id":"m9","type":"text"}]"#),
    ];
    let (summary, t) = run(&lines, Options::default(), None);
    assert!(summary.balances(), "{:?}", summary.lines());
    assert_eq!(column(&t["conversations"], "customer_id"), ["15550004444"]);
    assert_eq!(column(&t["messages"], "message_id"), ["m1", "m2"]);
    assert_eq!(
        column(&t["import_quarantine"], "reason")[0]
            .split(':')
            .next(),
        Some("bad_json")
    );
    assert_eq!(
        column(&t["import_quarantine"], "reason")[1],
        "bad_timestamp"
    );
    assert_eq!(summary.skipped.get("reactions"), Some(&1));
}

#[test]
fn the_import_is_deterministic() {
    let c = "15550005555";
    let lines: Vec<String> = (0..200)
        .flat_map(|i| {
            let who = format!("{c}{}", i % 7);
            [
                text(&format!("m{i}"), &who, T0 + i * 7_200),
                status(&format!("o{i}"), &who, "sent", T0 + i * 7_200 + 30, ""),
            ]
        })
        .collect();
    let (_, a) = run(&lines, Options::default(), None);
    let (_, b) = run(&lines, Options::default(), None);
    assert_eq!(a, b);
}
