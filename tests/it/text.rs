//! Message text through the built binary: the text fixture's findings, entries and metrics,
//! nothing of the text written anywhere, the key rules, the storage modes and the quarantine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{Scratch, fixture};

const KEY: &str = "l2lens-fixture-key";
const OTHER_KEY: &str = "another-fixture-key-0";
const AS_OF: &str = "2026-11-25T00:00:00Z";
const TEXT_METRICS: [&str; 5] = [
    "repeat_identifier_rate",
    "brief_recall_mean",
    "brief_placeholder_rate",
    "sensitive_exposure_rate",
    "sensitive_in_brief",
];
const FINDINGS_SQL: &str = "SELECT * FROM text_findings ORDER BY conversation_id, sent_at, source, \
                            message_id, handoff_row, field, ordinal";
const ENTRIES_SQL: &str = "SELECT * FROM text_entries ORDER BY conversation_id, entry_at, lane";

/// What the fixture's text holds and no file or output may: card numbers, IBANs, addresses,
/// phone numbers, sentences, and the key.
const SECRETS: &[&str] = &[
    "4111111111111111",
    "4111 1111",
    "5555555555554444",
    "5555 5555",
    "4000987654321017",
    "DE89370400440532013000",
    "DE89 3704",
    "GB82 WEST",
    "Jane.Doe",
    "jane.doe@",
    "kim@",
    "sam@",
    "lee@",
    "@example.",
    "7900 248601",
    "447900248601",
    "CVV is 737",
    "Nobody called me back",
    "router keeps dropping",
    KEY,
];

/// Runs l2lens with the key `key` (none: the variable removed) and the extra environment.
fn run(args: &[&str], key: Option<&str>, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_l2lens"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    match key {
        Some(k) => command.env("L2LENS_TEXT_KEY", k),
        None => command.env_remove("L2LENS_TEXT_KEY"),
    };
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run l2lens")
}

/// `ingest --data DATA --config CONFIG --out OUT` with the fixture's key; its output.
fn ingest_keyed(data: &str, config: &str, out: &str) -> Output {
    ok(
        run(
            &["ingest", "--data", data, "--config", config, "--out", out],
            Some(KEY),
            &[],
        ),
        "ingest",
    )
}

fn ok(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn config() -> PathBuf {
    fixture("text/l2lens.toml")
}

/// `query --sql` on `data` as CSV text.
fn query(data: &Path, sql: &str, key: Option<&str>) -> String {
    let out = ok(
        run(
            &[
                "query",
                "-q",
                "--data",
                s(data),
                "--config",
                s(&config()),
                "--as-of",
                AS_OF,
                "--format",
                "csv",
                "--sql",
                sql,
            ],
            key,
            &[],
        ),
        sql,
    );
    String::from_utf8(out.stdout).unwrap()
}

type Rows = BTreeMap<(String, String, String), (f64, u64)>;

fn metric_rows(text: &str) -> Rows {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| TEXT_METRICS.contains(&&r[2]))
        .map(|r| {
            (
                (r[0].to_owned(), r[1].to_owned(), r[2].to_owned()),
                (r[3].parse().unwrap(), r[4].parse().unwrap()),
            )
        })
        .collect()
}

/// The text metrics of `metrics --select all` on `data`.
fn metrics(data: &Path, key: Option<&str>) -> (Rows, String) {
    let out = ok(
        run(
            &[
                "metrics",
                "--data",
                s(data),
                "--config",
                s(&config()),
                "--as-of",
                AS_OF,
                "--select",
                "all",
            ],
            key,
            &[],
        ),
        "metrics",
    );
    (
        metric_rows(&String::from_utf8(out.stdout).unwrap()),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn assert_rows_equal(expected: &Rows, got: &Rows) {
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(got.keys()).collect();
    for key in keys {
        let (a, b) = (expected.get(key), got.get(key));
        let same = match (a, b) {
            (Some(a), Some(b)) => a.1 == b.1 && (a.0 - b.0).abs() <= 1e-9 * a.0.abs().max(1.0),
            _ => false,
        };
        assert!(same, "{key:?}: expected {a:?}, got {b:?}");
    }
}

fn expected_metrics() -> Rows {
    metric_rows(&std::fs::read_to_string(fixture("text/expected_metrics.csv")).unwrap())
}

/// The entries as cells, `recall` compared numerically.
fn assert_entries(expected: &str, got: &str) {
    let rows = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect()
    };
    let (e, g) = (rows(expected), rows(got));
    assert_eq!(e.len(), g.len(), "entries:\n{got}");
    assert_eq!(e[0], g[0], "the header");
    for (a, b) in e.iter().zip(&g).skip(1) {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            if i == 6 && !x.is_empty() && !y.is_empty() {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!((x - y).abs() <= 1e-9, "recall {x} vs {y}:\n{got}");
            } else {
                assert_eq!(x, y, "entries row {a:?} vs {b:?}");
            }
        }
    }
}

#[test]
fn the_fixture_gives_its_findings_entries_and_metrics() {
    let data = fixture("text");
    assert_eq!(
        query(&data, FINDINGS_SQL, Some(KEY)),
        std::fs::read_to_string(fixture("text/expected_findings.csv")).unwrap()
    );
    assert_entries(
        &std::fs::read_to_string(fixture("text/expected_entries.csv")).unwrap(),
        &query(&data, ENTRIES_SQL, Some(KEY)),
    );
    let (got, _) = metrics(&data, Some(KEY));
    assert_rows_equal(&expected_metrics(), &got);
}

#[test]
fn a_warehouse_keeps_findings_and_the_fingerprint_and_refuses_another_key() {
    let scratch = Scratch::new("text-warehouse");
    let warehouse = scratch.join("warehouse");
    let out = ingest_keyed(s(&fixture("text")), s(&config()), s(&warehouse));
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("text key fingerprint 1be3a6e6c6ae0df4"),
        "{summary}"
    );
    assert_eq!(
        std::fs::read_to_string(warehouse.join("text_key_fingerprint")).unwrap(),
        "1be3a6e6c6ae0df4\n"
    );
    // The warehouse gives the same findings and metrics, without re-scanning and without a key.
    assert_eq!(
        query(&warehouse, FINDINGS_SQL, None),
        std::fs::read_to_string(fixture("text/expected_findings.csv")).unwrap()
    );
    let (got, _) = metrics(&warehouse, None);
    assert_rows_equal(&expected_metrics(), &got);
    // Another key: exit 2, both fingerprints named, neither key.
    let out = run(
        &["metrics", "--data", s(&warehouse), "--as-of", AS_OF],
        Some(OTHER_KEY),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("56351cb38f4152d8") && err.contains("1be3a6e6c6ae0df4"),
        "{err}"
    );
    assert!(!err.contains(OTHER_KEY) && !err.contains(KEY), "{err}");
}

#[test]
fn two_keys_give_other_tokens_and_the_same_metrics() {
    let data = fixture("text");
    let findings = query(&data, FINDINGS_SQL, Some(OTHER_KEY));
    assert!(!findings.contains("f67a77904f0cc58b"), "{findings}");
    assert_eq!(findings.lines().count(), 33);
    let (got, _) = metrics(&data, Some(OTHER_KEY));
    assert_rows_equal(&expected_metrics(), &got);
}

#[test]
fn without_a_key_the_key_free_metrics_stay_and_repetition_has_no_rows() {
    let data = fixture("text");
    let (got, stderr) = metrics(&data, None);
    assert!(
        stderr.contains("L2LENS_TEXT_KEY is not set: identifiers are not tokenised"),
        "{stderr}"
    );
    let key_free: Rows = expected_metrics()
        .into_iter()
        .filter(|(k, _)| !matches!(k.2.as_str(), "repeat_identifier_rate" | "brief_recall_mean"))
        .collect();
    assert_rows_equal(&key_free, &got);
    // A key shorter than 16 bytes is an error naming the variable, not the value.
    let out = run(
        &[
            "metrics",
            "--data",
            s(&data),
            "--config",
            s(&config()),
            "--as-of",
            AS_OF,
        ],
        Some("too-short"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("L2LENS_TEXT_KEY") && !err.contains("too-short"),
        "{err}"
    );
}

/// Every file under `dir`, with its bytes.
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// Fails when `bytes` hold any of [`SECRETS`] (case-insensitively).
pub fn assert_no_secret(label: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).to_lowercase();
    for secret in SECRETS {
        assert!(
            !text.contains(&secret.to_lowercase()),
            "{label} holds `{secret}`"
        );
    }
}

#[test]
fn nothing_of_the_text_is_written_or_printed() {
    let scratch = Scratch::new("text-leak");
    let tmp = scratch.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // A copy of the fixture with a bad row holding a card number and a broken line.
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (path, bytes) in files(&fixture("text")) {
        std::fs::write(data.join(path.file_name().unwrap()), bytes).unwrap();
    }
    let mut messages = std::fs::read_to_string(data.join("messages.csv")).unwrap();
    messages.push_str("m9901,t01,not a time,customer,text,,,,card 4111 1111 1111 1111\n");
    messages.push_str("m9902,t01,2026-11-16T09:20:00Z,customer\n");
    std::fs::write(data.join("messages.csv"), messages).unwrap();
    let env = [
        ("TMPDIR", tmp.as_path()),
        ("POLARS_TEMP_DIR", tmp.as_path()),
    ];
    let out_dir = scratch.join("out");
    let warehouse = out_dir.join("warehouse");
    let mut printed: Vec<(String, Vec<u8>)> = Vec::new();
    let mut step = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, Some(KEY), &env);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push((format!("{args:?} stdout"), out.stdout));
        printed.push((format!("{args:?} stderr"), out.stderr));
    };
    let d = s(&data).to_owned();
    let with_email = scratch.write(
        "l2lens.toml",
        format!(
            "{}\n[email]\nhost = \"localhost\"\nfrom = \"l2lens@mail.test\"\nto = [\"cx@mail.test\"]\n",
            std::fs::read_to_string(config()).unwrap()
        ),
    );
    let c = s(&with_email).to_owned();
    let w = s(&warehouse).to_owned();
    let o = |name: &str| s(&out_dir.join(name)).to_owned();
    let strings = |a: &[&str]| a.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    step(strings(&[
        "ingest", "--data", &d, "--config", &c, "--out", &w,
    ]));
    step(strings(&[
        "facts",
        "--data",
        &w,
        "--as-of",
        AS_OF,
        "--out",
        &o("facts.csv"),
    ]));
    step(strings(&[
        "facts",
        "--data",
        &d,
        "--config",
        &c,
        "--as-of",
        AS_OF,
        "--out",
        &o("facts-raw.csv"),
    ]));
    step(strings(&[
        "query",
        "--data",
        &w,
        "--as-of",
        AS_OF,
        "--sql",
        "SELECT * FROM messages",
    ]));
    step(strings(&[
        "query",
        "--data",
        &d,
        "--config",
        &c,
        "--as-of",
        AS_OF,
        "--sql",
        "SELECT * FROM handoffs",
    ]));
    step(strings(&[
        "metrics",
        "--data",
        &w,
        "--as-of",
        AS_OF,
        "--select",
        "all",
        "--out",
        &o("metrics.csv"),
    ]));
    step(strings(&[
        "report",
        "--data",
        &w,
        "--as-of",
        AS_OF,
        "--out",
        &o("report"),
    ]));
    step(strings(&["board", "--data", &w, "--as-of", AS_OF]));
    step(strings(&[
        "alerts",
        "--data",
        &w,
        "--as-of",
        AS_OF,
        "--email",
        "--dry-run",
        "--state",
        &o("email-state.json"),
    ]));
    let mut written = files(&out_dir);
    written.extend(files(&tmp));
    assert!(written.len() > 10, "{} files written", written.len());
    for (path, bytes) in &written {
        assert_no_secret(&path.display().to_string(), bytes);
    }
    for (label, bytes) in &printed {
        assert_no_secret(label, bytes);
    }
    // The quarantine withholds the text and the broken line.
    let quarantine = std::fs::read_to_string(warehouse.join("quarantine.csv")).unwrap();
    assert!(
        quarantine.contains("[text withheld: 24 chars]") || quarantine.contains("bad_timestamp"),
        "{quarantine}"
    );
    assert!(quarantine.contains("[line withheld: "), "{quarantine}");
    // The drill-down behind the card-in-brief alert names the item and its masked card, never a
    // token or text.
    let alerts = files(&out_dir.join("report"))
        .into_iter()
        .find(|(p, _)| p.ends_with("alerts.json"))
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .expect("the report's alerts.json");
    let card = alerts
        .find("\"sensitive_in_brief\"")
        .map(|at| &alerts[at..])
        .expect("a sensitive_in_brief alert");
    assert!(card.contains("brief row 11: visa ****1111"), "{card}");
    assert!(
        !alerts.contains("f67a77904f0cc58b"),
        "no token in the alerts"
    );
    // The redacted brief fields stay, with their masked card.
    let handoffs = query(
        &warehouse,
        "SELECT key_details FROM handoffs WHERE key_details LIKE '%pan%'",
        None,
    );
    assert!(handoffs.contains("[pan|visa ****1111|]"), "{handoffs}");
}

#[test]
fn raw_storage_keeps_the_text_where_the_spec_says() {
    let scratch = Scratch::new("text-raw");
    let raw = scratch.write(
        "raw.toml",
        std::fs::read_to_string(config())
            .unwrap()
            .replace("store = \"findings\"", "store = \"raw\""),
    );
    let warehouse = scratch.join("warehouse");
    ingest_keyed(s(&fixture("text")), s(&raw), s(&warehouse));
    let messages = std::fs::read(warehouse.join("messages.parquet")).unwrap();
    assert!(
        String::from_utf8_lossy(&messages).contains("Nobody called me back")
            || query(&warehouse, "SELECT text FROM messages", None)
                .contains("Nobody called me back")
    );
    // Redacted storage: the sentence stays, the card does not.
    let redacted = scratch.write(
        "redacted.toml",
        std::fs::read_to_string(config())
            .unwrap()
            .replace("store = \"findings\"", "store = \"redacted\""),
    );
    let warehouse = scratch.join("redacted");
    ingest_keyed(s(&fixture("text")), s(&redacted), s(&warehouse));
    let text = query(&warehouse, "SELECT text FROM messages", None);
    assert!(text.contains("Nobody called me back"), "{text}");
    assert!(text.contains("[pan|visa ****1111|]"), "{text}");
    assert!(!text.contains("4111 1111"), "{text}");
    let (got, _) = metrics(&warehouse, None);
    assert_rows_equal(&expected_metrics(), &got);
}

#[test]
fn markers_read_back_give_the_same_findings() {
    let scratch = Scratch::new("text-markers");
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (path, bytes) in files(&fixture("text")) {
        std::fs::write(data.join(path.file_name().unwrap()), bytes).unwrap();
    }
    // Import-style messages: the findings-only form, with the original length.
    let findings = query(&fixture("text"), FINDINGS_SQL, Some(KEY));
    let mut markers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in findings.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[1] == "message" {
            markers
                .entry(c[2].to_owned())
                .or_default()
                .push(format!("[{}|{}|{}]", c[8], c[10], c[9]));
        }
    }
    let mut reader = csv::Reader::from_path(fixture("text/messages.csv")).unwrap();
    let mut writer = csv::Writer::from_path(data.join("messages.csv")).unwrap();
    let mut header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    header.push("text_chars".to_owned());
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let r = record.unwrap();
        let mut cells: Vec<String> = r.iter().map(str::to_owned).collect();
        let text = cells[8].clone();
        cells[8] = markers
            .get(&cells[0])
            .map(|m| m.join(" "))
            .unwrap_or_default();
        cells.push(if text.trim().is_empty() {
            String::new()
        } else {
            text.trim().chars().count().to_string()
        });
        writer.write_record(&cells).unwrap();
    }
    writer.flush().unwrap();
    assert_eq!(query(&data, FINDINGS_SQL, Some(KEY)), findings);
    let (got, _) = metrics(&data, Some(KEY));
    assert_rows_equal(&expected_metrics(), &got);
}

#[test]
fn extra_text_columns_are_withheld_unless_kept() {
    let scratch = Scratch::new("text-extra");
    let data = scratch.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (path, bytes) in files(&fixture("text")) {
        std::fs::write(data.join(path.file_name().unwrap()), bytes).unwrap();
    }
    let add_column = |file: &str, name: &str| {
        let text = std::fs::read_to_string(data.join(file)).unwrap();
        let mut lines = text.lines();
        let mut out = format!("{},{name}\n", lines.next().unwrap());
        for line in lines {
            out.push_str(&format!("{line},card 4111 1111 1111 1111\n"));
        }
        std::fs::write(data.join(file), out).unwrap();
    };
    add_column("messages.csv", "agent_note");
    add_column("handoffs.csv", "summary");
    let warehouse = scratch.join("warehouse");
    let out = ingest_keyed(s(&data), s(&config()), s(&warehouse));
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("messages.agent_note") && summary.contains("handoffs.summary"),
        "{summary}"
    );
    for (path, bytes) in files(&warehouse) {
        assert_no_secret(&path.display().to_string(), &bytes);
    }
    // Kept when named.
    let keep = scratch.write(
        "keep.toml",
        std::fs::read_to_string(config())
            .unwrap()
            .replace("[text]\n", "[text]\nkeep_columns = [\"agent_note\"]\n"),
    );
    let kept = scratch.join("kept");
    ingest_keyed(s(&data), s(&keep), s(&kept));
    let columns = query(&kept, "SELECT agent_note FROM messages LIMIT 1", None);
    assert!(columns.starts_with("agent_note"), "{columns}");
}

#[test]
fn data_without_text_keeps_its_outputs() {
    // The golden fixture has no text column: its facts have no text columns, and the text
    // metrics that need no text (briefs) are the only ones with rows.
    let out = ok(
        run(
            &[
                "facts",
                "--data",
                s(&crate::util::golden_dir()),
                "--out",
                "-",
            ],
            None,
            &[],
        ),
        "facts",
    );
    let header = String::from_utf8_lossy(&out.stdout);
    let header = header.lines().next().unwrap();
    assert!(
        !header.split(',').any(|c| matches!(
            c,
            "text_customer_messages" | "exposure_at" | "exposure_kinds"
        )),
        "{header}"
    );
    let out = ok(
        run(
            &[
                "metrics",
                "--data",
                s(&crate::util::golden_dir()),
                "--select",
                "all",
            ],
            None,
            &[],
        ),
        "metrics",
    );
    let rows = metric_rows(&String::from_utf8_lossy(&out.stdout));
    let ids: std::collections::BTreeSet<&str> = rows.keys().map(|k| k.2.as_str()).collect();
    assert!(!ids.contains("repeat_identifier_rate") && !ids.contains("sensitive_exposure_rate"));
    assert!(ids.contains("sensitive_in_brief"), "{ids:?}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("not tokenised"),
        "no warning without text"
    );
}

/// An importer's input with text, imported and ingested: the findings are there, the text is
/// nowhere (import output, warehouse, what is printed).
fn import_and_check(importer: &str, input: &Path, config: &Path, label: &str) {
    let scratch = Scratch::new(label);
    let imported = scratch.join("imported");
    let mut args = vec!["import", importer, "--in", s(input), "--out", s(&imported)];
    args.extend(["--config", s(config)]);
    let out = ok(run(&args, Some(KEY), &[]), "import");
    assert_no_secret("import output", &out.stdout);
    assert_no_secret("import messages", &out.stderr);
    let printed = String::from_utf8_lossy(&out.stderr);
    assert!(
        printed.contains("text key fingerprint 1be3a6e6c6ae0df4"),
        "{printed}"
    );
    assert_eq!(
        std::fs::read_to_string(imported.join("text_key_fingerprint")).unwrap(),
        "1be3a6e6c6ae0df4\n"
    );
    for (path, bytes) in files(&imported) {
        assert_no_secret(&path.display().to_string(), &bytes);
    }
    let warehouse = scratch.join("warehouse");
    let out = ok(
        run(
            &["ingest", "--data", s(&imported), "--out", s(&warehouse)],
            Some(KEY),
            &[],
        ),
        "ingest",
    );
    assert_no_secret("ingest", &out.stderr);
    for (path, bytes) in files(&warehouse) {
        assert_no_secret(&path.display().to_string(), &bytes);
    }
    let findings = query(
        &warehouse,
        "SELECT kind, token, masked FROM text_findings ORDER BY kind",
        Some(KEY),
    );
    assert!(
        findings.contains("email,e4481fb952f9f2bf,j***@e***.com"),
        "{findings}"
    );
    assert!(findings.contains("pan,,visa ****1111"), "{findings}");
    // Another key on the imported folder: stopped, both fingerprints named.
    let out = run(
        &[
            "ingest",
            "--data",
            s(&imported),
            "--out",
            s(&scratch.join("other")),
        ],
        Some(OTHER_KEY),
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_whatsapp_importer_writes_markers_not_text() {
    let scratch = Scratch::new("text-wa-input");
    let webhooks = std::fs::read_to_string(fixture("whatsapp_stream/webhooks.jsonl")).unwrap();
    assert!(webhooks.contains(r#""text":{"body":"\u2026"}"#));
    let input = scratch.write(
        "webhooks.jsonl",
        webhooks.replacen(
            r#""text":{"body":"\u2026"}"#,
            r#""text":{"body":"my card is 4111 1111 1111 1111, mail Jane.Doe@Example.com"}"#,
            1,
        ),
    );
    import_and_check(
        "whatsapp",
        &input,
        &fixture("whatsapp_stream/l2lens.toml"),
        "text-wa",
    );
}

#[test]
fn the_chatwoot_importer_writes_markers_not_text() {
    let scratch = Scratch::new("text-cw-input");
    let events = std::fs::read_to_string(fixture("chatwoot/events.jsonl")).unwrap();
    assert!(events.contains(r#""content":"hi""#));
    let input = scratch.write(
        "events.jsonl",
        events.replacen(
            r#""content":"hi""#,
            r#""content":"my card is 4111 1111 1111 1111, mail Jane.Doe@Example.com""#,
            1,
        ),
    );
    import_and_check(
        "chatwoot",
        &input,
        &fixture("chatwoot/l2lens.toml"),
        "text-cw",
    );
}

#[test]
fn hashed_customer_ids_need_the_key_and_are_keyed() {
    let scratch = Scratch::new("text-hash");
    let config = scratch.write(
        "l2lens.toml",
        "[import.whatsapp]\nidle_close_hours = 24\nhash_customer_ids = true\n",
    );
    let input = fixture("whatsapp_stream/webhooks.jsonl");
    let args = |out: &Path| -> Vec<String> {
        [
            "import",
            "whatsapp",
            "--in",
            s(&input),
            "--config",
            s(&config),
            "--out",
            s(out),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let without = args(&scratch.join("without"));
    let out = run(&strs(&without), None, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("L2LENS_TEXT_KEY"));
    let with = args(&scratch.join("with"));
    ok(run(&strs(&with), Some(KEY), &[]), "import with a key");
    let conversations = std::fs::read_to_string(scratch.join("with/conversations.csv")).unwrap();
    assert!(!conversations.contains("15550000001"), "{conversations}");
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// One webhook body holding one customer message.
fn webhook(message: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"880000000000001","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550000000","phone_number_id":"1122334455667"}},"contacts":[{{"profile":{{"name":"C"}},"wa_id":"15550000001"}}],"messages":[{message}]}}}}]}}]}}"#
    )
}

#[test]
fn edits_add_findings_and_revokes_keep_them() {
    let scratch = Scratch::new("text-edits");
    let lines = [
        r#"{"from":"15550000001","id":"wamid.A","timestamp":"1794819600","type":"text","text":{"body":"my order #482913, card 4111 1111 1111 1111"}}"#,
        r#"{"from":"15550000001","id":"wamid.B","timestamp":"1794819610","type":"text","text":{"body":"hello there"}}"#,
        r#"{"from":"15550000001","id":"wamid.E","timestamp":"1794819700","type":"edit","edit":{"original_message_id":"wamid.A","message":{"type":"text","text":{"body":"sorry: Jane.Doe@Example.com"}}}}"#,
        r#"{"from":"15550000001","id":"wamid.R","timestamp":"1794819800","type":"revoke","revoke":{"original_message_id":"wamid.B"}}"#,
        r#"{"from":"15550000001","id":"wamid.X","timestamp":"1794819900","type":"revoke","revoke":{"original_message_id":"wamid.gone"}}"#,
    ];
    let input = scratch.write(
        "webhooks.jsonl",
        lines.iter().map(|l| webhook(l) + "\n").collect::<String>(),
    );
    let out = scratch.join("imported");
    ok(
        run(
            &[
                "import",
                "whatsapp",
                "--in",
                s(&input),
                "--config",
                s(&config()),
                "--out",
                s(&out),
            ],
            Some(KEY),
            &[],
        ),
        "import",
    );
    let mut reader = csv::Reader::from_path(out.join("messages.csv")).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: BTreeMap<String, (String, String)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| {
            (
                r[at("message_id")].to_owned(),
                (r[at("text")].to_owned(), r[at("text_chars")].to_owned()),
            )
        })
        .collect();
    // The edit keeps the order and the card, adds the e-mail; the count is the new text's.
    assert_eq!(
        rows["wamid.A"],
        (
            "[order|****2913|f67a77904f0cc58b] [pan|visa ****1111|] \
             [email|j***@e***.com|e4481fb952f9f2bf]"
                .to_owned(),
            "27".to_owned()
        )
    );
    // A revoke of a message without findings leaves no text; its count stays.
    assert_eq!(rows["wamid.B"], (String::new(), "11".to_owned()));
    let summary = std::fs::read_to_string(out.join("import_summary.json")).unwrap();
    assert!(
        summary.contains("\"text_updates_unmatched\": 1"),
        "{summary}"
    );
}
