//! `ingest --append`: weekly exports added one by one equal one ingest of what they hold; a
//! repeated export changes nothing; a changed row wins; a killed append leaves the warehouse.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Scratch, l2lens, stderr};

/// The sample's tables and the column whose instant places a row in an export.
const TABLES: [(&str, &str); 6] = [
    ("conversations", "opened_at"),
    ("messages", "sent_at"),
    ("assignments", "assigned_at"),
    ("handoffs", "handoff_at"),
    ("send_failures", "failed_at"),
    ("templates", "changed_at"),
];

/// Rows of each export repeated at the start of the next (an overlapping export window).
const OVERLAP: usize = 20;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `ingest --append` of `data` into `warehouse`, quietly.
fn append_args<'a>(data: &'a Path, warehouse: &'a Path) -> [&'a str; 7] {
    [
        "ingest",
        "-q",
        "--append",
        "--data",
        s(data),
        "--out",
        s(warehouse),
    ]
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn instant(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp()
}

type Table = (csv::StringRecord, Vec<csv::StringRecord>);

fn read(path: &Path) -> Table {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows = reader.records().map(|r| r.unwrap()).collect();
    (header, rows)
}

fn write(path: &Path, (header, rows): (&csv::StringRecord, &[csv::StringRecord])) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(header).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}

/// The sample cut into `parts` consecutive exports: a row goes to the export of its own
/// instant, or of its conversation's opening if that is later (an export never refers to a
/// conversation a later one brings); each export after the first repeats the last rows of the
/// one before. Late rows (a message of an earlier conversation) fall in later exports.
fn exports(scratch: &Scratch, parts: usize) -> Vec<PathBuf> {
    exports_of(&sample(), scratch, parts)
}

/// [`exports`] of the tables of `source` (those of [`TABLES`] it has).
fn exports_of(source: &Path, scratch: &Scratch, parts: usize) -> Vec<PathBuf> {
    let tables: BTreeMap<&str, Table> = TABLES
        .iter()
        .filter(|(name, _)| source.join(format!("{name}.csv")).is_file())
        .map(|(name, _)| (*name, read(&source.join(format!("{name}.csv")))))
        .collect();
    let (header, conversations) = &tables["conversations"];
    let opened_col = header.iter().position(|c| c == "opened_at").unwrap();
    let opened: BTreeMap<String, i64> = conversations
        .iter()
        .map(|r| (r[0].to_owned(), instant(&r[opened_col])))
        .collect();
    let (first, last) = (
        *opened.values().min().unwrap(),
        *opened.values().max().unwrap(),
    );
    let width = (last - first) / parts as i64 + 1;
    let part = |t: i64| (((t - first).max(0) / width) as usize).min(parts - 1);
    let dirs: Vec<PathBuf> = (0..parts)
        .map(|k| {
            let dir = scratch.join(&format!("export-{k}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(source.join("l2lens.toml"), dir.join("l2lens.toml")).unwrap();
            dir
        })
        .collect();
    for (name, time) in TABLES {
        let Some((header, rows)) = tables.get(name) else {
            continue;
        };
        let time_col = header.iter().position(|c| c == time).unwrap();
        let conversation = header.iter().position(|c| c == "conversation_id");
        let mut split: Vec<Vec<csv::StringRecord>> = vec![Vec::new(); parts];
        for row in rows {
            let own = part(instant(&row[time_col]));
            let of_conversation = conversation
                .and_then(|c| opened.get(&row[c]))
                .map_or(0, |&t| part(t));
            split[own.max(of_conversation)].push(row.clone());
        }
        for k in 0..parts {
            let mut rows: Vec<csv::StringRecord> = Vec::new();
            if k > 0 {
                let before = &split[k - 1];
                rows.extend(
                    before[before.len().saturating_sub(OVERLAP)..]
                        .iter()
                        .cloned(),
                );
            }
            rows.extend(split[k].iter().cloned());
            write(&dirs[k].join(format!("{name}.csv")), (header, &rows));
        }
    }
    dirs
}

fn run(args: &[&str]) -> String {
    let out = l2lens(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `metrics --select all`, `board` and the report's metrics.csv of a warehouse.
fn outputs(warehouse: &Path, scratch: &Scratch, label: &str) -> [String; 3] {
    let data = s(warehouse);
    let metrics = run(&["metrics", "-q", "--data", data, "--select", "all"]);
    let board = run(&["board", "-q", "--data", data, "--format", "csv"]);
    let reports = scratch.join(&format!("reports-{label}"));
    run(&["report", "-q", "--data", data, "--out", s(&reports)]);
    let report_metrics = std::fs::read_dir(&reports)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path().join("metrics.csv")))
        .find(|p| p.is_file())
        .map(|p| std::fs::read_to_string(p).unwrap())
        .expect("the report's metrics.csv");
    [metrics, board, report_metrics]
}

fn summary(warehouse: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(warehouse.join("ingest_summary.json")).unwrap())
        .unwrap()
}

#[test]
fn four_weekly_appends_equal_one_ingest_of_what_they_hold() {
    let scratch = Scratch::new("append");
    let dirs = exports(&scratch, 4);
    let single = scratch.join("single");
    run(&["ingest", "-q", "--data", s(&sample()), "--out", s(&single)]);
    let appended = scratch.join("appended");
    run(&["ingest", "-q", "--data", s(&dirs[0]), "--out", s(&appended)]);
    for dir in &dirs[1..] {
        // Exactly as documented.
        let out = l2lens(&[
            "ingest",
            "--append",
            "--data",
            s(dir),
            "--out",
            s(&appended),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stderr(&out).contains("identical"), "{}", stderr(&out));
    }
    let expected = outputs(&single, &scratch, "single");
    let got = outputs(&appended, &scratch, "appended");
    for (what, (e, g)) in ["metrics --select all", "board", "report metrics.csv"]
        .iter()
        .zip(expected.iter().zip(&got))
    {
        assert!(e.lines().count() > 10, "{what}: {e}");
        let first = e.lines().zip(g.lines()).find(|(a, b)| a != b);
        assert!(
            e == g,
            "{what} after four appends differs from one ingest: {first:?}"
        );
    }
    // The summary records each batch; the overlapping rows were skipped as identical, the late
    // rows added.
    let summary = summary(&appended);
    let batches = summary["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 3);
    for batch in batches {
        let messages = &batch["tables"]["messages"];
        assert_eq!(messages["rows_identical"], OVERLAP as u64, "{batch}");
        assert!(messages["rows_added"].as_u64().unwrap() > 0);
        assert_eq!(messages["rows_replaced"], 0);
        assert!(batch["appended_at"].as_str().unwrap().ends_with('Z'));
    }
    let single_summary = self::summary(&single);
    for (name, _) in TABLES {
        assert_eq!(
            summary["tables"][name]["rows_accepted"],
            single_summary["tables"][name]["rows_accepted"],
            "{name}"
        );
    }

    // The last export again: every row is stored already, nothing changes.
    let before = std::fs::read_to_string(appended.join("quarantine.csv")).unwrap();
    run(&append_args(&dirs[3], &appended));
    let again = self::summary(&appended);
    let batch = &again["batches"][3];
    for (name, _) in TABLES {
        let t = &batch["tables"][name];
        assert_eq!(t["rows_added"], 0, "{name}: {t}");
        assert_eq!(t["rows_identical"], t["rows_read"], "{name}: {t}");
    }
    assert_eq!(outputs(&appended, &scratch, "again"), expected);
    assert_eq!(
        std::fs::read_to_string(appended.join("quarantine.csv")).unwrap(),
        before
    );
}

#[test]
fn a_row_stored_with_other_content_is_replaced_by_the_later_export() {
    let scratch = Scratch::new("append-conflict");
    let warehouse = scratch.join("warehouse");
    run(&[
        "ingest",
        "-q",
        "--data",
        s(&sample()),
        "--out",
        s(&warehouse),
    ]);
    // The same export a week later: one conversation that was open is now closed, one message's
    // intent corrected.
    let later = scratch.join("later");
    std::fs::create_dir_all(&later).unwrap();
    let (header, mut conversations) = read(&sample().join("conversations.csv"));
    let closed_col = header.iter().position(|c| c == "closed_at").unwrap();
    let opened_col = header.iter().position(|c| c == "opened_at").unwrap();
    let open = conversations
        .iter()
        .position(|r| r[closed_col].is_empty())
        .expect("an open conversation");
    let id = conversations[open][0].to_owned();
    let closed_at = {
        let t = chrono::DateTime::parse_from_rfc3339(&conversations[open][opened_col]).unwrap();
        (t + chrono::Duration::hours(1))
            .to_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut row: Vec<String> = conversations[open].iter().map(str::to_owned).collect();
    row[closed_col] = closed_at.clone();
    conversations[open] = csv::StringRecord::from(row);
    write(&later.join("conversations.csv"), (&header, &conversations));
    let (m_header, mut messages) = read(&sample().join("messages.csv"));
    let intent_col = m_header.iter().position(|c| c == "intent").unwrap();
    let mut m: Vec<String> = messages[0].iter().map(str::to_owned).collect();
    m[intent_col] = "billing_dispute".to_owned();
    messages[0] = csv::StringRecord::from(m);
    write(&later.join("messages.csv"), (&m_header, &messages));
    for (name, _) in &TABLES[2..] {
        std::fs::copy(
            sample().join(format!("{name}.csv")),
            later.join(format!("{name}.csv")),
        )
        .unwrap();
    }
    std::fs::copy(sample().join("l2lens.toml"), later.join("l2lens.toml")).unwrap();
    run(&append_args(&later, &warehouse));
    let summary = summary(&warehouse);
    let batch = &summary["batches"][0];
    assert_eq!(
        batch["tables"]["conversations"]["rows_replaced"], 1,
        "{batch}"
    );
    assert_eq!(batch["tables"]["messages"]["rows_replaced"], 1, "{batch}");
    assert_eq!(batch["tables"]["conversations"]["rows_added"], 0, "{batch}");
    // The warehouse now equals one ingest of the later export.
    let fresh = scratch.join("fresh");
    run(&["ingest", "-q", "--data", s(&later), "--out", s(&fresh)]);
    assert_eq!(
        outputs(&warehouse, &scratch, "appended"),
        outputs(&fresh, &scratch, "fresh")
    );
    let closed = run(&[
        "query",
        "-q",
        "--data",
        s(&warehouse),
        "--format",
        "csv",
        "--sql",
        &format!("select count(*) as n from conversations where conversation_id = '{id}'"),
    ]);
    assert_eq!(closed, "n\n1\n");
}

#[test]
fn an_append_to_no_warehouse_is_refused_and_a_killed_one_leaves_the_warehouse() {
    let scratch = Scratch::new("append-kill");
    let nothing = scratch.join("nothing");
    let out = l2lens(&[
        "ingest",
        "--append",
        "--data",
        s(&sample()),
        "--out",
        s(&nothing),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("without --append"),
        "{}",
        stderr(&out)
    );
    assert!(!nothing.exists());

    // A larger export, so that the append is still running when it is killed.
    let big = scratch.join("big");
    run(&[
        "sample",
        "-q",
        "--conversations",
        "60000",
        "--seed",
        "7",
        "--out",
        s(&big),
    ]);
    let warehouse = scratch.join("warehouse");
    let dirs = exports(&scratch, 2);
    run(&[
        "ingest",
        "-q",
        "--data",
        s(&dirs[0]),
        "--out",
        s(&warehouse),
    ]);
    let mut current = outputs(&warehouse, &scratch, "before");
    let (mut killed_before_swap, mut completed) = (0, 0);
    for delay_ms in [30u64, 120, 400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_l2lens"))
            .args(["ingest", "-q", "--append", "--data", s(&big), "--out"])
            .arg(&warehouse)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let batches = summary(&warehouse)
            .get("batches")
            .and_then(|b| b.as_array().map(Vec::len))
            .unwrap_or(0);
        if batches > completed {
            // It had swapped the new warehouse in: complete, and read as such.
            completed = batches;
            current = outputs(&warehouse, &scratch, "after-swap");
        } else {
            // Killed before the swap: the previous warehouse, whole.
            killed_before_swap += 1;
            assert_eq!(outputs(&warehouse, &scratch, "after-kill"), current);
        }
    }
    assert!(
        killed_before_swap > 0,
        "no append was killed before it finished"
    );
    // And the next append works.
    run(&append_args(&dirs[1], &warehouse));
    assert_eq!(
        summary(&warehouse)["batches"].as_array().unwrap().len(),
        completed + 1
    );
}

#[test]
fn appending_an_export_with_calls_and_aliases_to_itself_changes_nothing() {
    let scratch = Scratch::new("append-whatsapp");
    let data = crate::util::fixture("whatsapp2026");
    let config = data.join("l2lens.toml");
    let warehouse = scratch.join("warehouse");
    run(&[
        "ingest",
        "-q",
        "--data",
        s(&data),
        "--config",
        s(&config),
        "--out",
        s(&warehouse),
    ]);
    let analysis = |w: &Path| {
        run(&[
            "metrics",
            "-q",
            "--data",
            s(w),
            "--select",
            "all",
            "--as-of",
            "2026-11-25T00:00:00Z",
        ])
    };
    let before = analysis(&warehouse);
    let quarantine = std::fs::read_to_string(warehouse.join("quarantine.csv")).unwrap();
    run(&append_args(&data, &warehouse));
    assert_eq!(analysis(&warehouse), before);
    let summary = summary(&warehouse);
    let batch = &summary["batches"][0]["tables"];
    for table in ["conversations", "messages", "calls", "customer_aliases"] {
        assert_eq!(batch[table]["rows_added"], 0, "{table}: {batch}");
        assert_eq!(batch[table]["rows_replaced"], 0, "{table}: {batch}");
    }
    // The export's bad rows are quarantined again, under its folder's name.
    let after = std::fs::read_to_string(warehouse.join("quarantine.csv")).unwrap();
    assert!(after.starts_with(&quarantine));
    assert!(after.len() > quarantine.len());
    assert!(
        after[quarantine.len()..].contains("whatsapp2026/"),
        "{after}"
    );
}

#[test]
fn appended_text_keeps_its_findings_with_their_briefs() {
    // The text fixture in two exports: the brief findings of the second name their handoffs
    // by input position, which moves when they are appended.
    let scratch = Scratch::new("append-text");
    let source = crate::util::fixture("text");
    let dirs = exports_of(&source, &scratch, 2);
    let keyed = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_l2lens"))
            .args(args)
            .env("L2LENS_TEXT_KEY", "l2lens-fixture-key")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let single = scratch.join("single");
    keyed(&["ingest", "-q", "--data", s(&source), "--out", s(&single)]);
    let appended = scratch.join("appended");
    keyed(&["ingest", "-q", "--data", s(&dirs[0]), "--out", s(&appended)]);
    keyed(&append_args(&dirs[1], &appended));
    let metrics = |w: &Path| {
        keyed(&[
            "metrics",
            "-q",
            "--data",
            s(w),
            "--select",
            "text",
            "--as-of",
            "2026-11-25T00:00:00Z",
        ])
    };
    let expected = metrics(&single);
    assert!(expected.contains("brief_recall"), "{expected}");
    assert_eq!(metrics(&appended), expected);
    // Nothing of the text reaches the appended warehouse.
    for (path, bytes) in crate::text::files(&appended) {
        crate::text::assert_no_secret(&path.display().to_string(), &bytes);
    }
    // Both halves had handoffs: the second export's rows were moved.
    let batch = &summary(&appended)["batches"][0]["tables"]["handoffs"];
    assert!(batch["rows_added"].as_u64().unwrap() > 0, "{batch}");
}
