//! Row validation rules, one test per rule family.

use super::*;
use crate::ingest::schema::SOURCE_ROW;

fn lanes() -> crate::config::KnownLanes {
    crate::config::Config::from_toml("[lanes]\nautomation = \"bot\"\ntechnical_l2 = \"L2\"\n")
        .unwrap()
        .known_lanes()
}

static INPUT: std::sync::LazyLock<Input> = std::sync::LazyLock::new(Input::default);
static TEXT: std::sync::LazyLock<crate::ingest::text::TextPass> =
    std::sync::LazyLock::new(crate::ingest::text::TextPass::default);

fn rules<'a>(lanes: &'a crate::config::KnownLanes, conversations: Option<&'a IdMap>) -> Rules<'a> {
    Rules {
        epoch_unit: None,
        conversations,
        known_lanes: lanes,
        input: &INPUT,
        text: &TEXT,
    }
}

fn texts(values: &[&'static str]) -> Vec<Cell<'static>> {
    values
        .iter()
        .map(|v| {
            if v.is_empty() {
                Cell::Null
            } else {
                Cell::Text(v)
            }
        })
        .collect()
}

#[test]
fn conversation_rules_quarantine_with_reasons() {
    let lanes = lanes();
    let mut b = TableBuilder::new(Table::Conversations, "c.csv", rules(&lanes, None), 4);
    let z = "2026-11-16T10:00:00Z";
    b.push(1, &texts(&["c1", "u1", "", "", "", z, ""]), &[]);
    b.push(2, &texts(&["c1", "u2", "", "", "", z, ""]), &[]);
    b.push(3, &texts(&["c3", "", "", "", "", "soon", ""]), &[]);
    b.push(
        4,
        &texts(&["c4", "u4", "", "", "", z, "2026-11-16T09:00:00Z"]),
        &[],
    );
    b.push(5, &texts(&["c5", "u5", "SMS ", "pro", "x", z, ""]), &[]);
    let t = b.finish().unwrap();
    assert_eq!(
        t.counts,
        RowCounts {
            rows_read: 5,
            rows_accepted: 2,
            rows_quarantined: 3
        }
    );
    let got = t.problems();
    assert_eq!(
        got,
        vec![
            (2, "conversation_id", Reason::DuplicateId),
            (3, "customer_id", Reason::MissingValue),
            (3, "opened_at", Reason::BadTimestamp),
            (4, "closed_at", Reason::ClosedBeforeOpened),
        ]
    );
    let channel = t.frame.column("channel").unwrap().str().unwrap().clone();
    assert_eq!(channel.get(0), Some("whatsapp"));
    assert_eq!(channel.get(1), Some("sms"));
    assert!(t.ids.contains("c5") && !t.ids.contains("c3"));
    let rows = t.frame.column(SOURCE_ROW).unwrap().u32().unwrap().clone();
    assert_eq!(rows.into_no_null_iter().collect::<Vec<_>>(), vec![1, 5]);
}

#[test]
fn message_rules_enums_bools_and_foreign_keys() {
    let lanes = lanes();
    let mut known = IdMap::default();
    known.insert("c1", 0);
    let mut b = TableBuilder::new(Table::Messages, "m.csv", rules(&lanes, Some(&known)), 4);
    let z = "2026-11-16T10:00:00Z";
    b.push(1, &texts(&["m1", "c1", z, " Bot", "", "YES", "", ""]), &[]);
    b.push(2, &texts(&["m2", "c9", z, "bot", "", "", "", ""]), &[]);
    b.push(
        3,
        &texts(&["m3", "c1", z, "robot", "text", "maybe", "", ""]),
        &[],
    );
    b.push(4, &texts(&["m1", "c1", z, "agent", "", "", "", ""]), &[]);
    let t = b.finish().unwrap();
    assert_eq!(t.counts.rows_accepted, 1);
    assert_eq!(t.counts.rows_quarantined, 3);
    let reasons: Vec<Reason> = t.quarantine.iter().map(|q| q.reason).collect();
    assert_eq!(
        reasons,
        vec![
            Reason::UnknownConversation,
            Reason::UnknownValue,
            Reason::BadBool,
            Reason::DuplicateId
        ]
    );
    let f = &t.frame;
    assert_eq!(
        f.column("sender").unwrap().str().unwrap().get(0),
        Some("bot")
    );
    assert_eq!(
        f.column("kind").unwrap().str().unwrap().get(0),
        Some("text")
    );
    assert_eq!(
        f.column("is_fallback").unwrap().bool().unwrap().get(0),
        Some(true)
    );
}

#[test]
fn unknown_lanes_are_accepted_and_counted() {
    let lanes = lanes();
    let mut b = TableBuilder::new(Table::Assignments, "a.csv", rules(&lanes, None), 2);
    let z = "2026-11-16T10:00:00Z";
    b.push(1, &texts(&["c1", z, "Legacy_Queue", "", ""]), &[]);
    b.push(2, &texts(&["c1", z, "technical_l2", "", "claim"]), &[]);
    b.push(3, &texts(&["c1", z, "legacy_queue", "", "bounced"]), &[]);
    let t = b.finish().unwrap();
    assert_eq!(t.counts.rows_accepted, 2);
    assert_eq!(t.unknown_lanes.get("legacy_queue"), Some(&1));
}

#[test]
fn typed_cells_and_extras() {
    let lanes = lanes();
    let mut b = TableBuilder::new(Table::Templates, "t.parquet", rules(&lanes, None), 2);
    let extra = b.extra_index("owner");
    assert_eq!(extra, 0);
    b.push(
        1,
        &[
            Cell::Text("welcome"),
            Cell::Text("Approved"),
            Cell::Timestamp(5),
        ],
        &[Cell::Text("ops")],
    );
    b.push(2, &[Cell::Int(7), Cell::Text("paused"), Cell::Int(5)], &[]);
    b.push(
        3,
        &[Cell::Int(7), Cell::Text("paused"), Cell::Float(5.0)],
        &[],
    );
    let t = b.finish().unwrap();
    assert_eq!(t.counts.rows_accepted, 1);
    assert_eq!(t.quarantine[0].reason, Reason::BadTimestamp);
    assert_eq!(
        t.frame.column("owner").unwrap().str().unwrap().get(0),
        Some("ops")
    );
    assert_eq!(
        t.frame
            .get_column_names()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
        vec!["template_name", "status", "changed_at", SOURCE_ROW, "owner"]
    );
}

#[test]
fn bool_spellings() {
    for (t, v) in [
        ("true", true),
        ("F", false),
        ("1", true),
        ("no", false),
        (" Yes ", true),
    ] {
        assert_eq!(parse_bool(t), Some(v));
    }
    assert_eq!(parse_bool("2"), None);
}

#[test]
fn input_options_null_tokens_formats_zone_and_channel() {
    let lanes = lanes();
    let input = crate::config::Config::from_toml(
        "[input]\ntimestamp_format = \"%d/%m/%Y %H:%M\"\ntimezone = \"Europe/Rome\"\n\
         null_values = [\"?\"]\ndefault_channel = \"\"\n\
         [input.timestamp_formats]\n\"conversations.closed_at\" = \"epoch_s\"\n",
    )
    .unwrap()
    .input;
    let rules = Rules {
        input: &input,
        ..rules(&lanes, None)
    };
    let mut b = TableBuilder::new(Table::Conversations, "c.csv", rules, 4);
    b.push(
        1,
        &texts(&["c1", "u1", "", "?", "", "29/2/2016 01:16", "?"]),
        &[],
    );
    b.push(
        2,
        &texts(&["c2", "?", "", "", "", "1/3/2016 9:05", "1456826400"]),
        &[],
    );
    b.push(
        3,
        &texts(&["c3", "u3", "", "", "", "2016-03-01 09:05:00", ""]),
        &[],
    );
    b.push(
        4,
        &[
            Cell::Text("c4"),
            Cell::Text("u4"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Text("1/3/2016 9:05"),
            Cell::Int(1456826400),
        ],
        &[],
    );
    let t = b.finish().unwrap();
    let got = t.problems();
    assert_eq!(
        got,
        vec![
            (2, "customer_id", Reason::MissingValue),
            (3, "opened_at", Reason::BadTimestamp),
        ],
        "`?` is null; a value in another format than the named one is refused"
    );
    let frame = t.frame;
    let channel = frame.column("channel").unwrap().str().unwrap().clone();
    assert_eq!(channel.get(0), None, "no default channel");
    assert_eq!(frame.column("segment").unwrap().str().unwrap().get(0), None);
    let ms = |name: &str| {
        let c = frame.column(name).unwrap().cast(&DataType::Int64).unwrap();
        c.i64().unwrap().iter().collect::<Vec<_>>()
    };
    // 29/2/2016 01:16 in Rome (UTC+1) is 00:16 UTC; 1/3/2016 9:05 is 08:05 UTC.
    assert_eq!(
        ms("opened_at"),
        vec![Some(1_456_704_960_000), Some(1_456_819_500_000)]
    );
    assert_eq!(ms("closed_at"), vec![None, Some(1_456_826_400_000)]);
}

#[test]
fn a_spilled_table_is_the_table_kept_in_memory() {
    // Rows in several row groups, bad rows among them, extras, and conversation keys.
    let lanes = lanes();
    let mut ids = IdMap::default();
    ids.insert("c1", 0);
    ids.insert("c2", 1);
    let rows: Vec<Vec<&'static str>> = vec![
        vec![
            "m1",
            "c1",
            "2026-11-16T09:00:00Z",
            "customer",
            "text",
            "",
            "",
            "",
        ],
        vec![
            "m2",
            "c1",
            "2026-11-16T09:01:00Z",
            "bot",
            "",
            "true",
            "billing",
            "",
        ],
        vec!["m3", "c9", "2026-11-16T09:02:00Z", "bot", "", "", "", ""],
        vec!["m4", "c2", "soon", "agent", "", "", "", ""],
        vec![
            "m5",
            "c2",
            "2026-11-16T09:04:00Z",
            "agent",
            "template",
            "",
            "",
            "t1",
        ],
        vec!["m1", "c2", "2026-11-16T09:05:00Z", "agent", "", "", "", ""],
        vec![
            "m6",
            "c2",
            "2026-11-16T09:06:00Z",
            "customer",
            "media",
            "no",
            "",
            "",
        ],
    ];
    let build = |spill: Option<std::path::PathBuf>| {
        let mut b = TableBuilder::new(Table::Messages, "m.csv", rules(&lanes, Some(&ids)), 2);
        let extra = b.extra_index("channel_ref");
        assert_eq!(extra, 0);
        if let Some(path) = spill {
            b.spill_to(path, 2);
        }
        for (i, row) in rows.iter().enumerate() {
            b.push(i as u64 + 1, &texts(row), &[Cell::Text("x")]);
        }
        b.finish().unwrap()
    };
    let memory = build(None);
    let dir = std::env::temp_dir().join(format!("l2lens-spill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("messages.parquet");
    let spilled = build(Some(path.clone()));
    assert!(spilled.spilled && spilled.frame.height() == 0);
    assert_eq!(spilled.counts, memory.counts);
    assert_eq!(spilled.quarantine, memory.quarantine);
    let file = std::fs::File::open(&path).unwrap();
    let read = ParquetReader::new(file).finish().unwrap();
    assert_eq!(memory.frame.height(), 4);
    assert!(
        read.equals_missing(&memory.frame),
        "{read}\n{}",
        memory.frame
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn call_rules_spellings_numbers_and_the_checks_across_columns_in_order() {
    let lanes = lanes();
    let mut known = IdMap::default();
    known.insert("c1", 0);
    let mut b = TableBuilder::new(Table::Calls, "k.csv", rules(&lanes, Some(&known)), 8);
    let (t0, t1, t2) = (
        "2026-11-16T10:00:00Z",
        "2026-11-16T10:00:10Z",
        "2026-11-16T10:05:00Z",
    );
    // call_id, conversation_id, direction, placed_at, status, answered_at, ended_at,
    // duration_s, agent_id, error_code
    b.push(
        1,
        &texts(&[
            "k1", "c1", " Inbound", t0, "answered", t1, t2, "290", "", "",
        ]),
        &[],
    );
    b.push(
        2,
        &texts(&["k2", "c1", "sideways", t0, "", "", "", "", "", ""]),
        &[],
    );
    b.push(
        3,
        &texts(&["k3", "c1", "user", t0, "", "", "", "-1", "", ""]),
        &[],
    );
    b.push(
        4,
        &texts(&["k4", "c1", "outbound", t1, "", t0, "", "", "", ""]),
        &[],
    );
    b.push(
        5,
        &texts(&["k5", "c1", "user", t1, "", "", t0, "", "", ""]),
        &[],
    );
    // Ended before it was answered, and unanswered with an answer time: only the first.
    b.push(
        6,
        &texts(&["k6", "c1", "user", t0, "missed", t2, t1, "", "", ""]),
        &[],
    );
    b.push(
        7,
        &texts(&["k7", "c1", "user", t0, "rejected", t1, "", "", "", ""]),
        &[],
    );
    b.push(
        8,
        &texts(&["k1", "c9", "user", t0, "", "", "", "", "", ""]),
        &[],
    );
    let t = b.finish().unwrap();
    assert_eq!(
        t.problems(),
        vec![
            (2, "direction", Reason::UnknownValue),
            (3, "duration_s", Reason::BadNumber),
            (4, "answered_at", Reason::AnsweredBeforePlaced),
            (5, "ended_at", Reason::EndedBeforeAnswered),
            (6, "ended_at", Reason::EndedBeforeAnswered),
            (7, "status", Reason::StatusConflict),
            (8, "call_id", Reason::DuplicateId),
            (8, "conversation_id", Reason::UnknownConversation),
        ]
    );
    assert_eq!(t.frame.height(), 1);
    let direction = t.frame.column("direction").unwrap().str().unwrap().get(0);
    assert_eq!(direction, Some("user_initiated"));
    let duration = t.frame.column("duration_s").unwrap().f64().unwrap().get(0);
    assert_eq!(duration, Some(290.0));
}

#[test]
fn alias_rows_blank_unreadable_and_self_aliases_are_quarantined() {
    let lanes = lanes();
    let mut b = TableBuilder::new(Table::CustomerAliases, "a.csv", rules(&lanes, None), 4);
    b.push(1, &texts(&["DE.Ab1", "4915", ""]), &[]);
    b.push(2, &texts(&["", "4915", "soon"]), &[]);
    b.push(3, &texts(&["4916", "4916", ""]), &[]);
    b.push(4, &texts(&["4917", "4915", "2026-11-01T00:00:00Z"]), &[]);
    let t = b.finish().unwrap();
    assert_eq!(
        t.problems(),
        vec![
            (2, "alias", Reason::MissingValue),
            (2, "valid_from", Reason::BadTimestamp),
            (3, "customer_id", Reason::SelfAlias),
        ]
    );
    assert_eq!(t.frame.height(), 2);
}

#[test]
fn lenient_columns_keep_the_row_and_count_what_they_cannot_read() {
    let lanes = lanes();
    let mut b = TableBuilder::new(Table::Conversations, "c.csv", rules(&lanes, None), 4);
    let z = "2026-11-16T10:00:00Z";
    b.push(
        1,
        &texts(&["c1", "u1", "", "", "", z, "", "PHONE", "49"]),
        &[],
    );
    b.push(
        2,
        &texts(&["c2", "u2", "", "", "", z, "", "pager", "+49"]),
        &[],
    );
    let t = b.finish().unwrap();
    assert!(t.problems().is_empty());
    assert_eq!(t.frame.height(), 2);
    let kind: Vec<_> = t
        .frame
        .column("customer_id_kind")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(kind, [Some("phone"), None]);
    let market: Vec<_> = t
        .frame
        .column("market")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(market, [Some("49"), None]);
    assert_eq!(t.unreadable.get("customer_id_kind"), Some(&1));
    assert_eq!(t.unreadable.get("market"), Some(&1));
    // Conversations keep the export's customer id beside the one aliases may resolve.
    let source: Vec<_> = t
        .frame
        .column(SOURCE_CUSTOMER_ID)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(source, [Some("u1"), Some("u2")]);
    let mut b = TableBuilder::new(Table::Messages, "m.csv", rules(&lanes, None), 4);
    let cells = |billable: &'static str| {
        texts(&[
            "m1", "c1", z, "bot", "", "", "", "", "", "", billable, "service", "", "PMP",
        ])
    };
    b.push(1, &cells("true"), &[]);
    b.push(2, &cells("perhaps"), &[]);
    let t = b.finish().unwrap();
    assert_eq!(t.problems(), vec![(2, "message_id", Reason::DuplicateId)]);
    let mut b = TableBuilder::new(Table::Messages, "m.csv", rules(&lanes, None), 4);
    b.push(1, &cells("perhaps"), &[]);
    let t = b.finish().unwrap();
    assert!(t.problems().is_empty());
    assert_eq!(
        t.frame.column("billable").unwrap().bool().unwrap().get(0),
        None
    );
    assert_eq!(t.unreadable.get("billable"), Some(&1));
}
