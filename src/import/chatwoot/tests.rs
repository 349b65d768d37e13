//! The snapshot-diff, cycle, sender, brief and failure rules on a hand-built event stream, and
//! the captures of Chatwoot's own documentation.

use std::path::Path;

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(events: &Path, config: &Config) -> (ImportSummary, BTreeMap<String, String>) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "l2lens-cw-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let summary = import_into(
        &[events.to_owned()],
        config,
        &Default::default(),
        OutFormat::Csv,
        &dir,
    )
    .unwrap();
    let mut tables = BTreeMap::new();
    for name in [
        "conversations",
        "messages",
        "assignments",
        "handoffs",
        "send_failures",
        "import_quarantine",
    ] {
        tables.insert(
            name.to_owned(),
            std::fs::read_to_string(dir.join(format!("{name}.csv"))).unwrap(),
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    (summary, tables)
}

#[test]
fn the_hand_built_stream_gives_the_expected_rows() {
    let config = Config::from_file(&fixture("chatwoot/l2lens.toml")).unwrap();
    let (summary, t) = run(&fixture("chatwoot/events.jsonl"), &config);
    assert!(summary.balances(), "{:?}", summary.lines());
    assert_eq!(
        t["conversations"],
        "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at,source_conversation_id,inbox_id\n\
         cw:1:555#1,cw:1:77,whatsapp,,,2026-05-07T08:00:00Z,2026-05-07T09:00:00.250Z,cw:1:555,3\n\
         cw:1:555#2,cw:1:77,whatsapp,,,2026-05-08T10:00:00Z,2026-05-08T11:00:00.250Z,cw:1:555,3\n"
    );
    assert_eq!(
        t["assignments"],
        "conversation_id,assigned_at,lane,assignee_id,reason\n\
         cw:1:555#1,2026-05-07T08:00:00.250Z,automation,cw:1:bot:5,initial\n\
         cw:1:555#1,2026-05-07T08:02:00.250Z,general,,escalation\n\
         cw:1:555#1,2026-05-07T08:03:00Z,revenue_protection,,escalation\n\
         cw:1:555#1,2026-05-07T08:05:00.250Z,revenue_protection,cw:1:user:12,claim\n\
         cw:1:555#1,2026-05-07T08:20:00.250Z,technical_l2,cw:1:user:12,\n\
         cw:1:555#1,2026-05-07T08:21:00.250Z,technical_l2,cw:1:user:13,reassign\n\
         cw:1:555#2,2026-05-08T10:00:00Z,technical_l2,cw:1:user:13,initial\n"
    );
    assert_eq!(
        t["messages"],
        "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name,text,text_chars,source_id,author_id\n\
         cw:1:9000,cw:1:555#1,2026-05-07T08:00:05Z,customer,text,,,,,2,wamid.9000,77\n\
         cw:1:9001,cw:1:555#1,2026-05-07T08:00:10Z,bot,interactive,,,,,6,wamid.9001,5\n\
         cw:1:9002,cw:1:555#1,2026-05-07T08:04:00Z,agent,internal_note,,,,,,wamid.9002,12\n\
         cw:1:9003,cw:1:555#1,2026-05-07T08:10:00Z,agent,text,,,,,9,wamid.9003,12\n\
         cw:1:9004,cw:1:555#2,2026-05-08T10:00:00Z,customer,text,,,,,17,wamid.9004,77\n"
    );
    assert_eq!(
        t["handoffs"],
        "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action\n\
         cw:1:555#1,2026-05-07T08:04:00Z,refund,order 123 charged twice,bot FAQ,waiting for agent,approve the refund\n"
    );
    assert_eq!(
        t["send_failures"],
        "message_id,conversation_id,failed_at,error_code,error_title,template_name,sender\n\
         cw:1:9005,cw:1:555#2,2026-05-08T10:30:00Z,131047,Re-engagement message,order_delay_update,agent\n"
    );
    // Event times: `changed_attributes.updated_at` (08:03:00) before the payload's
    // `updated_at` (a float, hence .250), before `received_at`.
    assert_eq!(summary.skipped.get("message_updates"), Some(&1));
    assert_eq!(summary.skipped.get("event:webwidget_triggered"), Some(&1));
    assert!(t["import_quarantine"].contains("bad_json"));
}

#[test]
fn without_split_cycles_one_conversation_spans_the_reopen() {
    let mut config = Config::from_file(&fixture("chatwoot/l2lens.toml")).unwrap();
    let chatwoot = config
        .import
        .get_mut("chatwoot")
        .unwrap()
        .as_table_mut()
        .unwrap();
    chatwoot.insert("split_cycles".into(), toml::Value::Boolean(false));
    let (_, t) = run(&fixture("chatwoot/events.jsonl"), &config);
    assert_eq!(
        t["conversations"].lines().nth(1),
        Some(
            "cw:1:555,cw:1:77,whatsapp,,,2026-05-07T08:00:00Z,2026-05-08T11:00:00.250Z,cw:1:555,3"
        )
    );
}

#[test]
fn the_documentation_captures_import() {
    // Web-widget captures of 2021: no account object on conversation events, no updated_at,
    // `conversation_resolved` carrying status open, mixed time forms.
    let config = Config::from_toml("[import.chatwoot]\naccount_id = 1\n").unwrap();
    let (summary, t) = run(&fixture("chatwoot_docs/events.jsonl"), &config);
    assert!(summary.balances(), "{:?}", summary.lines());
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    let conversations: Vec<&str> = t["conversations"].lines().skip(1).collect();
    assert!(
        conversations
            .iter()
            .all(|l| l.contains(",webchat,") || l.contains(",api,")),
        "{conversations:?}"
    );
    assert!(
        t["messages"].contains("cw:1:118,cw:1:10#1,2021-07-23T18:02:48Z,customer,text"),
        "{}",
        t["messages"]
    );
}

#[test]
fn bad_options_are_named() {
    for (toml, needle) in [
        ("[import.chatwoot]\ncolour = 1\n", "colour"),
        (
            "[import.chatwoot]\ncustomer_key = \"phone\"\n",
            "customer_key",
        ),
        (
            "[import.chatwoot]\nfallback_pattern = \"(\"\n",
            "fallback_pattern",
        ),
    ] {
        let config = Config::from_toml(toml).unwrap();
        let err = import_into(
            &[fixture("chatwoot/events.jsonl")],
            &config,
            &Default::default(),
            OutFormat::Csv,
            &std::env::temp_dir(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains(needle), "{needle}: {err:#}");
    }
}

#[test]
fn briefs_from_notes() {
    let brief =
        build::parse_brief("#brief\nIntent: refund\nnoise\nNext:  call back ", "#brief").unwrap();
    assert_eq!(brief[0].as_deref(), Some("refund"));
    assert_eq!(brief[4].as_deref(), Some("call back"));
    assert!(build::parse_brief("a note", "#brief").is_none());
}
