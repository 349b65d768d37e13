//! Ingest: every bad-input case of the data contract, the golden fixture, and format parity.

use std::path::Path;

use l2lens::ingest::schema::Table;
use l2lens::ingest::{IngestOptions, ingest_dir};
use l2lens::progress::Progress;
use polars::prelude::*;

use crate::util::{Scratch, golden_dir, ingest_options as options, l2lens, read_csv_rows, stderr};

const CONVERSATIONS: &str = "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at
c1,u1,whatsapp,pro,billing_error,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z
c2,u2,,free,,2026-11-16T11:00:00Z,
";
const MESSAGES: &str =
    "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name
m1,c1,2026-11-16T09:00:00Z,customer,text,,billing_error,
m2,c1,2026-11-16T09:00:02Z,bot,text,false,,
m3,c2,2026-11-16T11:00:00Z,customer,,,,
";
const ASSIGNMENTS: &str = "conversation_id,assigned_at,lane,assignee_id,reason
c1,2026-11-16T09:00:00Z,automation,bot-1,initial
c1,2026-11-16T09:01:00Z,revenue_protection,,escalation
";
const HANDOFFS: &str =
    "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action
c1,2026-11-16T09:01:00Z,charged twice,invoice 7,retried,waiting,refund
";

/// A valid data directory with `replace` swapped in (file name → contents).
fn data_dir(replace: &[(&str, &str)]) -> Scratch {
    let dir = Scratch::new("data");
    for (name, contents) in [
        ("conversations.csv", CONVERSATIONS),
        ("messages.csv", MESSAGES),
        ("assignments.csv", ASSIGNMENTS),
        ("handoffs.csv", HANDOFFS),
    ] {
        if !replace
            .iter()
            .any(|(n, _)| n.split('.').next() == name.split('.').next())
        {
            dir.write(name, contents);
        }
    }
    for (name, contents) in replace {
        if !contents.is_empty() || name.ends_with(".empty") {
            dir.write(name.trim_end_matches(".empty"), contents);
        }
    }
    dir
}

/// Runs `l2lens ingest` and returns (exit code, stderr, quarantine rows, summary JSON).
fn ingest_cli(dir: &Path) -> (i32, String, Vec<Vec<String>>, serde_json::Value) {
    let out = Scratch::new("wh");
    let output = l2lens(&[
        "ingest",
        "--data",
        dir.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let code = output.status.code().unwrap_or(-1);
    let quarantine = if code == 0 {
        read_csv_rows(&out.join("quarantine.csv"))
    } else {
        Vec::new()
    };
    let summary = if code == 0 {
        serde_json::from_str(&std::fs::read_to_string(out.join("ingest_summary.json")).unwrap())
            .unwrap()
    } else {
        serde_json::Value::Null
    };
    (code, stderr(&output), quarantine, summary)
}

fn assert_fatal(dir: &Scratch, needles: &[&str]) {
    let (code, err, _, _) = ingest_cli(dir.path());
    assert_eq!(code, 2, "expected exit 2, stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks `{needle}`: {err}");
    }
    assert_eq!(err.trim().lines().count(), 1, "one message: {err}");
}

/// Asserts one quarantined row with these (table, row, column, reason) lines, and that the
/// counts add up in the summary.
fn assert_quarantined(dir: &Scratch, expected: &[(&str, &str, &str, &str)]) {
    let (code, err, quarantine, summary) = ingest_cli(dir.path());
    assert_eq!(code, 0, "stderr: {err}");
    let got: Vec<(String, String, String, String)> = quarantine
        .iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[3].clone(), r[5].clone()))
        .collect();
    let want: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(t, r, c, why)| (t.to_string(), r.to_string(), c.to_string(), why.to_string()))
        .collect();
    assert_eq!(got, want);
    for (table, counts) in summary["tables"].as_object().unwrap() {
        let read = counts["rows_read"].as_u64().unwrap();
        let accepted = counts["rows_accepted"].as_u64().unwrap();
        let quarantined = counts["rows_quarantined"].as_u64().unwrap();
        assert_eq!(read, accepted + quarantined, "{table}");
    }
}

#[test]
fn a_valid_directory_ingests_cleanly() {
    let dir = data_dir(&[]);
    let (code, err, quarantine, summary) = ingest_cli(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(quarantine.is_empty());
    assert_eq!(summary["tables"]["messages"]["rows_accepted"], 3);
    assert!(
        err.contains("conversations.csv"),
        "summary on stderr: {err}"
    );
}

#[test]
fn missing_file_is_fatal_and_names_the_table() {
    let dir = data_dir(&[]);
    std::fs::remove_file(dir.join("assignments.csv")).unwrap();
    assert_fatal(&dir, &["no assignments table", "assignments.csv"]);
    // The handoff briefs are optional: a source without them ingests.
    let dir = data_dir(&[]);
    std::fs::remove_file(dir.join("handoffs.csv")).unwrap();
    let (code, err, _, _) = ingest_cli(dir.path());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn empty_file_is_fatal_and_shows_the_header_to_write() {
    let dir = data_dir(&[("messages.csv.empty", "")]);
    assert_fatal(
        &dir,
        &[
            "messages.csv is empty",
            "message_id,conversation_id,sent_at",
        ],
    );
}

#[test]
fn header_only_is_an_empty_table() {
    let dir = data_dir(&[(
        "handoffs.csv",
        "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action\n",
    )]);
    let (code, err, quarantine, summary) = ingest_cli(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(quarantine.is_empty());
    assert_eq!(summary["tables"]["handoffs"]["rows_read"], 0);
}

#[test]
fn missing_required_column_is_fatal_and_names_file_and_column() {
    let dir = data_dir(&[(
        "assignments.csv",
        "conversation_id,assigned_at,queue\nc1,2026-11-16T09:00:00Z,general\n",
    )]);
    assert_fatal(
        &dir,
        &["assignments.csv", "missing required column `lane`", "queue"],
    );
}

#[test]
fn bad_rows_are_quarantined_with_their_reason() {
    let conversations = "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at
c1,u1,whatsapp,pro,billing_error,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z
c2,u2,,free,,2026-11-16T11:00:00Z,
c1,u9,whatsapp,pro,x,2026-11-16T09:00:00Z,
c3,u3,whatsapp,pro,x,16/11/2026 09:00,
c4,u4,whatsapp,pro,x,2026-11-16T09:00:00Z,2026-11-16T08:00:00Z
c5,,whatsapp,pro,x,2026-11-16T09:00:00Z,
c6,u6,whatsapp,pro
";
    let messages = "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name
m1,c1,2026-11-16T09:00:00Z,customer,text,,billing_error,
m2,c1,2026-11-16T09:00:02Z,robot,text,,,
m3,c404,2026-11-16T09:00:02Z,bot,text,,,
m4,c1,2026-11-16T09:00:02Z,bot,text,perhaps,,
m1,c1,2026-11-16T09:00:03Z,bot,text,,,
m6,c1,2026-11-16T09:00:03Z,bot,sticker,,,
";
    let dir = data_dir(&[
        ("conversations.csv", conversations),
        ("messages.csv", messages),
    ]);
    assert_quarantined(
        &dir,
        &[
            ("conversations", "3", "conversation_id", "duplicate_id"),
            ("conversations", "4", "opened_at", "bad_timestamp"),
            ("conversations", "5", "closed_at", "closed_before_opened"),
            ("conversations", "6", "customer_id", "missing_value"),
            ("conversations", "7", "", "wrong_field_count"),
            ("messages", "2", "sender", "unknown_value"),
            ("messages", "3", "conversation_id", "unknown_conversation"),
            ("messages", "4", "is_fallback", "bad_bool"),
            ("messages", "5", "message_id", "duplicate_id"),
            ("messages", "6", "kind", "unknown_value"),
        ],
    );
}

#[test]
fn a_row_with_two_bad_columns_is_one_quarantined_row() {
    let conversations = "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at
c1,u1,whatsapp,pro,billing_error,2026-11-16T09:00:00Z,2026-11-16T10:00:00Z
c2,u2,,free,,2026-11-16T11:00:00Z,
c3,,whatsapp,pro,x,never,
";
    let dir = data_dir(&[("conversations.csv", conversations)]);
    let (code, _, quarantine, summary) = ingest_cli(dir.path());
    assert_eq!(code, 0);
    assert_eq!(quarantine.len(), 2);
    assert_eq!(summary["tables"]["conversations"]["rows_quarantined"], 1);
    assert_eq!(summary["tables"]["conversations"]["rows_read"], 3);
}

#[test]
fn orphan_rows_of_every_child_table_are_quarantined() {
    let dir = data_dir(&[
        (
            "assignments.csv",
            "conversation_id,assigned_at,lane,assignee_id,reason\nzz,2026-11-16T09:00:00Z,general,,\n",
        ),
        (
            "handoffs.csv",
            "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action\nzz,2026-11-16T09:00:00Z,,,,,\n",
        ),
    ]);
    assert_quarantined(
        &dir,
        &[
            (
                "assignments",
                "1",
                "conversation_id",
                "unknown_conversation",
            ),
            ("handoffs", "1", "conversation_id", "unknown_conversation"),
        ],
    );
}

#[test]
fn invalid_utf8_is_quarantined_per_row() {
    let mut messages = MESSAGES.as_bytes().to_vec();
    messages.extend_from_slice(b"m9,c1,2026-11-16T09:00:09Z,customer,text,,bill\xff\xfeing,\n");
    let dir = data_dir(&[]);
    dir.write("messages.csv", &messages);
    assert_quarantined(&dir, &[("messages", "4", "intent", "invalid_utf8")]);
}

#[test]
fn bom_crlf_and_quoted_fields_are_read() {
    let conversations = "\u{feff}Conversation_ID,customer_id,CHANNEL,segment,intent,opened_at,closed_at\r\n\
c1,u1,WhatsApp,pro,\"billing, refund\",2026-11-16T09:00:00Z,2026-11-16T10:00:00Z\r\n\
c2,u2,,free,\"two\r\nlines \"\"quoted\"\"\",2026-11-16T11:00:00Z,\r\n\
c3,u3,,free,x,bad,\r\n";
    let dir = data_dir(&[("conversations.csv", conversations)]);
    let tables = ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap();
    let conv = &tables.tables[&Table::Conversations];
    assert_eq!(conv.height(), 2);
    let intent = conv.column("intent").unwrap().str().unwrap();
    assert_eq!(intent.get(0), Some("billing, refund"));
    assert_eq!(intent.get(1), Some("two\r\nlines \"quoted\""));
    assert_eq!(
        conv.column("channel").unwrap().str().unwrap().get(0),
        Some("whatsapp")
    );
    // Row numbers count records, not lines: the third record is row 3 despite the line break.
    assert_eq!(tables.quarantine.len(), 1);
    assert_eq!(tables.quarantine[0].row, 3);
}

#[test]
fn offset_timestamps_land_on_the_right_utc_instant() {
    let conversations = "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at
c1,u1,whatsapp,pro,x,2026-11-16T15:00:00+05:30,2026-11-16 10:00:00
c2,u2,,free,,2026-11-16T04:30:00-05:00,2026-11-16T09:30:00.250Z
";
    let dir = data_dir(&[("conversations.csv", conversations)]);
    let tables = ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap();
    let conv = &tables.tables[&Table::Conversations];
    let expected = 1_794_821_400_000i64; // 2026-11-16T09:30:00Z
    let opened: Vec<i64> = conv
        .column("opened_at")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(opened, vec![expected, expected]);
    let closed = conv.column("closed_at").unwrap();
    assert_eq!(
        closed.dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
    );
    let closed: Vec<i64> = closed
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(closed, vec![expected + 1_800_000, expected + 250]);
}

#[test]
fn jsonl_lines_that_are_not_objects_are_quarantined() {
    let messages = "{\"message_id\":\"m1\",\"conversation_id\":\"c1\",\"sent_at\":\"2026-11-16T09:00:00Z\",\"sender\":\"customer\",\"extra\":{\"a\":1}}\n\
[1,2,3]\n\
\n\
{\"message_id\":\"m2\",\"conversation_id\":\"c1\",\"sent_at\":\"2026-11-16T09:00:01Z\",\"sender\":\"bot\",\"is_fallback\":true}\n\
{\"message_id\":\"m3\", oops\n\
{\"message_id\":\"m4\",\"conversation_id\":\"c1\",\"sent_at\":1794821400,\"sender\":\"bot\"}\n";
    let dir = data_dir(&[("messages.jsonl", messages)]);
    assert_quarantined(
        &dir,
        &[
            ("messages", "2", "", "not_an_object"),
            ("messages", "5", "", "bad_json"),
            ("messages", "6", "sent_at", "bad_timestamp"),
        ],
    );
    let tables = ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap();
    let m = &tables.tables[&Table::Messages];
    // An extra column holding an object may hold text: withheld (text.md).
    assert!(m.column("extra").is_err());
    assert_eq!(tables.summary.text.withheld_columns, ["messages.extra"]);
    assert_eq!(
        m.column("is_fallback").unwrap().bool().unwrap().get(1),
        Some(true)
    );
    // With a named unit the integer timestamp is accepted.
    let with_unit = IngestOptions {
        epoch_unit: Some(l2lens::time::EpochUnit::S),
        ..options()
    };
    let tables = ingest_dir(dir.path(), &with_unit, &Progress::silent()).unwrap();
    assert_eq!(tables.tables[&Table::Messages].height(), 3);
}

#[test]
fn jsonl_without_a_required_key_anywhere_is_fatal() {
    let dir = data_dir(&[(
        "handoffs.jsonl",
        "{\"conversation_id\":\"c1\",\"at\":\"2026-11-16T09:00:00Z\"}\n",
    )]);
    assert_fatal(
        &dir,
        &["handoffs.jsonl", "missing required column `handoff_at`"],
    );
}

#[test]
fn parquet_with_a_wrong_column_type_is_fatal() {
    let dir = data_dir(&[]);
    std::fs::remove_file(dir.join("handoffs.csv")).unwrap();
    let mut frame = df!(
        "conversation_id" => ["c1"],
        "handoff_at" => [3.5f64],
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("handoffs.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    assert_fatal(
        &dir,
        &[
            "handoffs.parquet",
            "column `handoff_at` has type f64",
            "expected a timestamp",
        ],
    );
}

#[test]
fn parquet_timestamps_of_any_unit_and_zone_are_read() {
    let dir = data_dir(&[]);
    std::fs::remove_file(dir.join("handoffs.csv")).unwrap();
    let instant = 1_794_821_400_000i64;
    let frame = df!(
        "Conversation_Id" => ["c1", "c2"],
        "handoff_at" => [instant * 1_000_000, instant * 1_000_000 + 999_999],
        "note" => [1i32, 2],
    )
    .unwrap();
    let mut frame = frame
        .lazy()
        .with_column(
            col("handoff_at").cast(DataType::Datetime(
                TimeUnit::Nanoseconds,
                Some(
                    TimeZone::opt_try_new(Some("Asia/Kolkata"))
                        .unwrap()
                        .unwrap(),
                ),
            )),
        )
        .collect()
        .unwrap();
    let file = std::fs::File::create(dir.join("handoffs.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let tables = ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap();
    let h = &tables.tables[&Table::Handoffs];
    let at: Vec<i64> = h
        .column("handoff_at")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(at, vec![instant, instant]);
    assert_eq!(h.column("note").unwrap().dtype(), &DataType::Int32);
}

#[test]
fn two_files_for_one_table_is_fatal() {
    let dir = data_dir(&[]);
    dir.write("messages.jsonl", "");
    assert_fatal(&dir, &["messages table has 2 files"]);
}

#[test]
fn golden_fixture_ingests_with_zero_quarantined_rows() {
    let tables = ingest_dir(&golden_dir(), &options(), &Progress::silent()).unwrap();
    assert!(tables.quarantine.is_empty(), "{:?}", tables.quarantine);
    assert_eq!(tables.tables[&Table::Conversations].height(), 19);
    assert_eq!(tables.tables[&Table::Messages].height(), 48);
    assert_eq!(tables.tables[&Table::Assignments].height(), 27);
    assert_eq!(tables.tables[&Table::Handoffs].height(), 7);
    assert_eq!(
        tables.summary.unknown_lanes.get("legacy_queue"),
        Some(&1),
        "c15's unknown lane is reported"
    );
}

#[test]
fn unknown_lanes_are_listed_in_the_summary() {
    let dir = data_dir(&[(
        "assignments.csv",
        "conversation_id,assigned_at,lane,assignee_id,reason\nc1,2026-11-16T09:00:00Z,Night_Shift,,\nc1,2026-11-16T09:00:00Z,night_shift,,\n",
    )]);
    let (code, err, _, summary) = ingest_cli(dir.path());
    assert_eq!(code, 0);
    assert_eq!(summary["unknown_lanes"]["night_shift"], 2);
    assert!(err.contains("night_shift (2 rows)"), "{err}");
}

#[test]
fn a_warehouse_reads_back_as_the_same_tables() {
    let out = Scratch::new("wh-roundtrip");
    let output = l2lens(&[
        "ingest",
        "--data",
        golden_dir().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "--quiet prints nothing");
    let direct = ingest_dir(&golden_dir(), &options(), &Progress::silent()).unwrap();
    let loaded =
        l2lens::dataset::Dataset::load(out.path(), &options(), &Progress::silent()).unwrap();
    assert!(loaded.from_warehouse);
    for (table, frame) in &direct.tables {
        let back = loaded.table(*table).unwrap().collect().unwrap();
        assert!(
            back.equals_missing(frame),
            "{table:?} differs after the round trip"
        );
    }
    let quarantine = read_csv_rows(&out.join("quarantine.csv"));
    assert!(quarantine.is_empty());
}

#[test]
fn input_columns_named_like_added_ones_are_kept_aside() {
    let conversations = "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at,source_row,conversation_key
c1,u1,whatsapp,pro,x,2026-11-16T09:00:00Z,,77,k-1
c2,u2,,free,,2026-11-16T11:00:00Z,,78,k-2
";
    let dir = data_dir(&[("conversations.csv", conversations)]);
    std::fs::remove_file(dir.join("handoffs.csv")).unwrap();
    let mut handoffs = df!(
        "conversation_id" => ["c1"],
        "handoff_at" => ["2026-11-16T09:00:00Z"],
        "source_row" => [5i64],
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("handoffs.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut handoffs).unwrap();

    let tables = ingest_dir(dir.path(), &options(), &Progress::silent()).unwrap();
    let conv = &tables.tables[&Table::Conversations];
    let rows: Vec<u32> = conv
        .column("source_row")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(rows, vec![1, 2], "l2lens's own row numbers");
    let keys: Vec<u32> = conv
        .column("conversation_key")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(keys, vec![0, 1]);
    let kept = conv.column("source_row_input").unwrap().str().unwrap();
    assert_eq!(kept.get(0), Some("77"), "the input's column is kept aside");
    assert_eq!(
        conv.column("conversation_key_input")
            .unwrap()
            .str()
            .unwrap()
            .get(1),
        Some("k-2")
    );
    let h = &tables.tables[&Table::Handoffs];
    assert_eq!(
        h.column("source_row").unwrap().u32().unwrap().get(0),
        Some(1)
    );
    assert_eq!(
        h.column("source_row_input").unwrap().i64().unwrap().get(0),
        Some(5)
    );
}

#[test]
fn a_real_export_with_a_broken_record_is_fully_accounted_for() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/twcs_excerpt");
    let tables = ingest_dir(&dir, &options(), &Progress::silent()).unwrap();
    let counts = tables.summary.tables["messages"].counts;
    assert_eq!(
        counts.rows_read,
        counts.rows_accepted + counts.rows_quarantined
    );
    let reasons = |row: u64| -> Vec<&str> {
        tables
            .quarantine
            .iter()
            .filter(|q| q.table == Table::Messages && q.row == row)
            .map(|q| q.reason.as_str())
            .collect()
    };
    // Twitter's "Tue Oct 31 18:45:14 +0000 2017" is not a contract timestamp and
    // "True"/"False" is not a sender: well-formed records are quarantined for both.
    assert_eq!(reasons(1), vec!["bad_timestamp", "unknown_value"]);
    // Record 2484's bare carriage returns split it: its fragments have the wrong field count.
    let broken: Vec<u64> = tables
        .quarantine
        .iter()
        .filter(|q| q.reason.as_str() == "wrong_field_count")
        .map(|q| q.row)
        .collect();
    assert_eq!(broken, vec![5, 6]);
    let fragment = tables.quarantine.iter().find(|q| q.row == 5).unwrap();
    assert!(
        fragment
            .value
            .starts_with("expected 8 fields, found 6: [line withheld: "),
        "the reason is shown, never the line: {}",
        fragment.value
    );
    // The records after the break are read again as whole records.
    assert_eq!(reasons(10), vec!["bad_timestamp", "unknown_value"]);
    assert_eq!(counts.rows_read, 10);
    assert_eq!(counts.rows_quarantined, 10);
}
