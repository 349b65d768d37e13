//! WhatsApp in late 2026 through the built binary: calls, customer aliases and cost on the
//! hand-checked whatsapp2026 fixture, the quarantine it lists, and `[calls] window_refresh`.

use std::path::Path;

use crate::util::{Scratch, assert_metric_rows, fixture, l2lens, read_csv_rows, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

/// `metrics --select all` on a copy of the fixture's tables with `config` (text of a TOML
/// file); the CSV rows.
fn metrics(scratch: &Scratch, config: &str) -> Vec<Vec<String>> {
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for table in [
        "conversations",
        "messages",
        "assignments",
        "handoffs",
        "calls",
        "customer_aliases",
    ] {
        std::fs::copy(
            fixture(&format!("whatsapp2026/{table}.csv")),
            data.join(format!("{table}.csv")),
        )
        .unwrap();
    }
    let config = scratch.write("l2lens.toml", config);
    let out = scratch.join("metrics.csv");
    let run = l2lens(&[
        "metrics",
        "--data",
        s(&data),
        "--config",
        s(&config),
        "--select",
        "all",
        "--as-of",
        AS_OF,
        "--by",
        "lane",
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    read_csv_rows(&out)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn fixture_config() -> String {
    std::fs::read_to_string(fixture("whatsapp2026/l2lens.toml")).unwrap()
}

#[test]
fn the_fixture_metrics_equal_the_hand_checked_values() {
    let scratch = Scratch::new("wa26-metrics");
    let got = metrics(&scratch, &fixture_config());
    let expected = read_csv_rows(&fixture("whatsapp2026/expected_metrics.csv"));
    assert_eq!(expected.len(), 87);
    assert_metric_rows(&got, &expected);
}

#[test]
fn window_refresh_none_gives_the_numbers_that_ignore_calls() {
    let scratch = Scratch::new("wa26-none");
    let config = fixture_config().replace("window_refresh = \"any\"", "window_refresh = \"none\"");
    let got = metrics(&scratch, &config);
    let value = |week: &str, id: &str| {
        got.iter()
            .find(|r| r[0] == week && r[1] == "ALL" && r[2] == id)
            .map(|r| (r[3].parse::<f64>().unwrap(), r[4].clone()))
            .unwrap()
    };
    // Messages only: w01 28 h and w02 36 h silent at the end of week 1; w06 26 h at as_of, and
    // w09 (a call-only customer) in no cohort.
    assert_eq!(value("2026-11-16", "window_risk_rate"), (1.0, "3".into()));
    assert_eq!(value("2026-11-16", "window_expired"), (2.0, "3".into()));
    assert_eq!(value("2026-11-23", "window_risk_rate"), (0.75, "4".into()));
    assert_eq!(value("2026-11-23", "window_expired"), (3.0, "4".into()));
    // Only answered calls: k01 still refreshes w01; w02's missed call k02 does not (36 h).
    let scratch = Scratch::new("wa26-answered");
    let config =
        fixture_config().replace("window_refresh = \"any\"", "window_refresh = \"answered\"");
    let got = metrics(&scratch, &config);
    let w1 = got
        .iter()
        .find(|r| r[0] == "2026-11-16" && r[1] == "ALL" && r[2] == "window_expired")
        .unwrap();
    assert_eq!((w1[3].as_str(), w1[4].as_str()), ("1.0", "3"));
}

#[test]
fn ingest_quarantines_the_rows_the_fixture_lists() {
    let scratch = Scratch::new("wa26-ingest");
    let out = scratch.join("warehouse");
    let run = l2lens(&[
        "ingest",
        "-q",
        "--data",
        s(&fixture("whatsapp2026")),
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let mut lines: Vec<(String, String, String, String)> =
        read_csv_rows(&out.join("quarantine.csv"))
            .into_iter()
            .map(|r| (r[0].clone(), r[2].clone(), r[3].clone(), r[5].clone()))
            .collect();
    lines.sort();
    let expected = [
        ("calls", "10", "conversation_id", "unknown_conversation"),
        ("calls", "9", "status", "status_conflict"),
        ("customer_aliases", "5", "alias", "alias_cycle"),
        ("customer_aliases", "6", "alias", "alias_cycle"),
        ("customer_aliases", "7", "customer_id", "self_alias"),
        ("customer_aliases", "8", "alias", "duplicate_id"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| ((*a).into(), (*b).into(), (*c).into(), (*d).into()))
        .collect();
    assert_eq!(lines, expected);
    // An alias row is customer ids: the quarantine copies none of them.
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    for id in ["DE.Cyc1", "DE.Cyc2", "4915100000205", "DE.AbC123"] {
        assert!(!quarantine.contains(id), "{id} in {quarantine}");
    }
    // Resolution changed two customers (i02, i03); the export's ids are kept beside.
    let summary = std::fs::read_to_string(out.join("ingest_summary.json")).unwrap();
    assert!(
        summary.contains("\"conversations_resolved\": 2"),
        "{summary}"
    );
    let conversations = l2lens(&[
        "query",
        "-q",
        "--data",
        s(&out),
        "--sql",
        "SELECT conversation_id, customer_id, source_customer_id FROM conversations \
         WHERE conversation_id IN ('i02', 'i03', 'i07') ORDER BY conversation_id",
    ]);
    let text = String::from_utf8_lossy(&conversations.stdout);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for row in [
        ["i02", "4915100000201", "DE.AbC123"],
        ["i03", "4915100000202", "DE.Xyz789"],
        ["i07", "DE.Cyc1", "DE.Cyc1"],
    ] {
        assert!(lines.iter().any(|l| l[..] == row[..]), "{text}");
    }
}

#[test]
fn without_calls_aliases_or_pricing_the_new_metrics_have_no_rows_but_bsuid_only() {
    let scratch = Scratch::new("wa26-golden");
    let out = scratch.join("metrics.csv");
    let run = l2lens(&[
        "metrics",
        "--data",
        s(&fixture("golden")),
        "--select",
        "whatsapp",
        "--as-of",
        AS_OF,
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let rows = read_csv_rows(&out);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[2] == "bsuid_only_rate"), "{rows:?}");
}

#[test]
fn with_calls_for_first_response_a_call_only_customer_gets_a_first_response() {
    let frt = |config: &str| {
        let scratch = Scratch::new("wa26-frt");
        let got = metrics(&scratch, config);
        got.iter()
            .find(|r| r[0] == "2026-11-16" && r[1] == "retention" && r[2] == "frt_median_s")
            .map(|r| (r[3].parse::<f64>().unwrap(), r[4].clone()))
            .unwrap()
    };
    // w02: wrote 12:00, answered 12:30 (1800 s). w03 only called (09:00, missed) and was
    // written to at 09:10: in the cohort only when calls count, with 600 s.
    assert_eq!(frt(&fixture_config()), (1800.0, "1".into()));
    let with_calls = fixture_config().replace("frt = false", "frt = true");
    assert_eq!(frt(&with_calls), (1200.0, "2".into()));
}

#[test]
fn the_report_has_the_cost_section_and_the_identity_lines() {
    let scratch = Scratch::new("wa26-report");
    let out = scratch.join("report");
    let run = l2lens(&[
        "report",
        "-q",
        "--data",
        s(&fixture("whatsapp2026")),
        "--as-of",
        AS_OF,
        "--period-start",
        "2026-11-16",
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let page = std::fs::read_to_string(out.join("2026-11-16/index.html")).unwrap();
    for needle in [
        "Customers known only by a business-scoped id: 0 of 11 WhatsApp conversations",
        "Customer aliases: 4 rows used, 4 quarantined (alias_cycle 2, duplicate_id 1, \
         self_alias 1), 2 conversations resolved",
        "<section id=\"cost\">",
        "<td class=\"group\">ALL</td><td>5</td><td>0.0400</td>",
        "<td class=\"group\">automation</td><td>3</td><td>0.0150</td>",
        "billable messages had no rate",
        "Calls: window_refresh = any",
        "call pricing is not modelled",
        "meta_business_agent / market 49: 1",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
    // No customer's number reaches the page, not even as a market.
    for id in ["4915100000304", "4915100000201", "DE.AbC123", "DE.Pq1"] {
        assert!(!page.contains(id), "{id} on the page");
    }
    // Without pricing data the section is absent and one sentence says why.
    let out = scratch.join("golden-report");
    let run = l2lens(&[
        "report",
        "-q",
        "--data",
        s(&fixture("golden")),
        "--as-of",
        AS_OF,
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let dir = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(!page.contains("<section id=\"cost\">"));
    assert!(page.contains("No pricing data in the export"));
}

/// The rows of a CSV file as maps of column → value.
fn records(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn import_whatsapp_writes_the_calls_aliases_conversations_and_messages_of_the_stream() {
    let scratch = Scratch::new("wa26-import");
    let out = scratch.join("imported");
    let run = l2lens(&[
        "import",
        "whatsapp",
        "--in",
        s(&fixture("whatsapp2026/webhooks.jsonl")),
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let log = stderr(&run);
    assert!(!log.contains("DOES NOT BALANCE"), "{log}");
    for table in ["calls", "customer_aliases", "conversations", "messages"] {
        let expected = records(&fixture(&format!("whatsapp2026/expected_{table}.csv")));
        let mut got = records(&out.join(format!("{table}.csv")));
        assert_eq!(got.len(), expected.len(), "{table}: rows");
        // Threads are written as they finish; the aliases in first-seen order.
        if table != "customer_aliases" {
            let key = match table {
                "calls" => "call_id",
                "conversations" => "conversation_id",
                _ => "message_id",
            };
            let position = |r: &std::collections::BTreeMap<String, String>| {
                expected.iter().position(|e| e[key] == r[key])
            };
            got.sort_by_key(|r| position(r));
        }
        for (g, e) in got.iter().zip(&expected) {
            for (column, value) in e {
                assert_eq!(
                    g.get(column).map(String::as_str),
                    Some(value.as_str()),
                    "{table}.{column} of {e:?}"
                );
            }
        }
    }
    // Nothing quarantined, and the calls are no longer skipped.
    assert_eq!(read_csv_rows(&out.join("import_quarantine.csv")).len(), 0);
    let summary = std::fs::read_to_string(out.join("import_summary.json")).unwrap();
    assert!(!summary.contains("field:calls"), "{summary}");
    // The import is read back by ingest without a quarantined row.
    let warehouse = scratch.join("warehouse");
    let run = l2lens(&["ingest", "-q", "--data", s(&out), "--out", s(&warehouse)]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(read_csv_rows(&warehouse.join("quarantine.csv")).len(), 0);
}

#[test]
fn an_unanswered_business_call_with_no_thread_is_quarantined() {
    let scratch = Scratch::new("wa26-orphan");
    let body = r#"{"entry":[{"changes":[{"field":"calls","value":{"metadata":{"phone_number_id":"106540352242922","display_phone_number":"15550009999"},"statuses":[{"id":"wacid.X1","timestamp":"1794827400","type":"call","status":"RINGING","recipient_id":"4915100000777"}]}}]}]}"#;
    let input = scratch.write("in.jsonl", format!("{body}\n"));
    let out = scratch.join("imported");
    let run = l2lens(&[
        "import",
        "whatsapp",
        "-q",
        "--in",
        s(&input),
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let lines = read_csv_rows(&out.join("import_quarantine.csv"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0][4], "call_without_thread");
    assert_eq!(read_csv_rows(&out.join("calls.csv")).len(), 0);
}

#[test]
fn with_hashed_customer_ids_the_aliases_are_hashed_and_the_kind_and_market_survive() {
    let scratch = Scratch::new("wa26-hashed");
    let config = scratch.write(
        "l2lens.toml",
        "[import.whatsapp]\nhash_customer_ids = true\n",
    );
    let out = scratch.join("imported");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_l2lens"))
        .args([
            "import",
            "whatsapp",
            "-q",
            "--config",
            s(&config),
            "--in",
            s(&fixture("whatsapp2026/webhooks.jsonl")),
            "--out",
            s(&out),
        ])
        .env("L2LENS_TEXT_KEY", "l2lens-fixture-key")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    for table in ["conversations", "customer_aliases", "calls", "messages"] {
        let text = std::fs::read_to_string(out.join(format!("{table}.csv"))).unwrap();
        for id in [
            "4915100000401",
            "4915100000499",
            "DE.Link401",
            "DE.New499",
            "DE.Solo402",
        ] {
            assert!(!text.contains(id), "{id} in {table}");
        }
    }
    let conversations = records(&out.join("conversations.csv"));
    let mut kinds: Vec<(&str, &str)> = conversations
        .iter()
        .map(|r| (r["customer_id_kind"].as_str(), r["market"].as_str()))
        .collect();
    kinds.sort();
    assert_eq!(kinds, [("bsuid", ""), ("phone", "49")]);
    let aliases = records(&out.join("customer_aliases.csv"));
    assert_eq!(aliases.len(), 3);
    let phone = conversations
        .iter()
        .find(|r| r["customer_id_kind"] == "phone")
        .unwrap();
    let root = &phone["customer_id"];
    assert!(
        aliases.iter().all(|a| &a["customer_id"] == root),
        "{aliases:?}"
    );
    assert_eq!(aliases[1]["valid_from"], "2026-11-17T08:00:00Z");
}
