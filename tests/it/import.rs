//! The importers end to end: webhook captures and exports in, a data directory out, then the
//! usual commands on it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{Scratch, fixture, l2lens, read_csv_rows, stderr};

fn run_ok(args: &[&str]) -> String {
    let out = l2lens(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("import_summary.json")).unwrap()).unwrap()
}

fn balances(summary: &serde_json::Value) -> bool {
    let sum = |key: &str| -> u64 {
        summary[key]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum()
    };
    sum("events") == sum("written") + sum("skipped")
}

#[test]
fn a_webhook_stream_gives_the_hand_computed_metrics() {
    let scratch = Scratch::new("wa-stream");
    let out = scratch.join("data");
    let out = out.to_str().unwrap();
    run_ok(&[
        "import",
        "whatsapp",
        "--in",
        fixture("whatsapp_stream/webhooks.jsonl").to_str().unwrap(),
        "--config",
        fixture("whatsapp_stream/l2lens.toml").to_str().unwrap(),
        "--as-of",
        "2026-11-23T00:00:00Z",
        "--out",
        out,
    ]);
    assert!(balances(&summary(Path::new(out))));
    let metrics = run_ok(&[
        "metrics",
        "--data",
        out,
        "--by",
        "none",
        "--select",
        "all",
        "--as-of",
        "2026-11-23T00:00:00Z",
    ]);
    let value = |metric: &str| -> (String, String) {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("2026-11-16,ALL,{metric},")))
            .unwrap_or_else(|| panic!("no {metric} row in\n{metrics}"));
        let cells: Vec<&str> = line.split(',').collect();
        (cells[3].to_owned(), cells[4].to_owned())
    };
    assert_eq!(value("frt_median_s"), ("180.0".into(), "5".into()));
    assert_eq!(value("frt_p90_s"), ("960.0".into(), "5".into()));
    assert_eq!(value("window_risk_rate"), ("0.5".into(), "2".into()));
    assert_eq!(value("window_expired"), ("1.0".into(), "2".into()));
    assert_eq!(value("window_violation_sends"), ("1.0".into(), "1".into()));
    let failures = read_csv_rows(&Path::new(out).join("send_failures.csv"));
    let conversations = read_csv_rows(&Path::new(out).join("conversations.csv"));
    let first = conversations
        .iter()
        .find(|c| c[1] == "15550000001")
        .unwrap();
    assert_eq!(
        failures,
        [[
            "wamid.E",
            first[0].as_str(),
            "2026-11-17T12:00:00Z",
            "131047",
            "Re-engagement message",
            "",
            "agent"
        ]]
    );
    assert_eq!(
        first[6], "2026-11-17T12:05:00Z",
        "closed at the business's last word"
    );
    let open: Vec<&str> = conversations
        .iter()
        .filter(|c| c[6].is_empty())
        .map(|c| c[1].as_str())
        .collect();
    assert_eq!(
        open,
        ["15550000002", "15550000003"],
        "the customer had the last word"
    );
}

#[test]
fn the_real_payload_fixtures_import_and_ingest_cleanly() {
    let scratch = Scratch::new("wa-real");
    let out = scratch.join("data");
    let result = l2lens(&[
        "import",
        "whatsapp",
        "--in",
        fixture("whatsapp_real/webhooks.jsonl").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(err.contains("outbound message(s) had no sender"), "{err}");
    let s = summary(&out);
    assert!(balances(&s), "{s}");
    assert_eq!(s["skipped"]["bad_lines"], 1, "the file that is not JSON");
    assert_eq!(s["skipped"]["reactions"], 6);
    let quarantine = read_csv_rows(&out.join("import_quarantine.csv"));
    assert!(quarantine.iter().any(|q| q[4].starts_with("bad_json")));
    let failures = read_csv_rows(&out.join("send_failures.csv"));
    assert!(failures.iter().any(|f| f[3] == "131047"), "{failures:?}");
    let templates = read_csv_rows(&out.join("templates.csv"));
    assert_eq!(templates.len(), 4);
    // The two changes of one entry (a batched body) are both read.
    assert!(s["events"]["messages"].as_u64().unwrap() >= 70);
    let warehouse = scratch.join("warehouse");
    let ingest = l2lens(&[
        "ingest",
        "--data",
        out.to_str().unwrap(),
        "--out",
        warehouse.to_str().unwrap(),
    ]);
    assert!(ingest.status.success(), "{}", stderr(&ingest));
    assert_eq!(read_csv_rows(&warehouse.join("quarantine.csv")).len(), 0);
}

#[test]
fn imports_are_deterministic_and_read_gzip() {
    let scratch = Scratch::new("wa-determinism");
    let input = fixture("whatsapp_stream/webhooks.jsonl");
    let gz = scratch.join("webhooks.jsonl.gz");
    {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        encoder.write_all(&std::fs::read(&input).unwrap()).unwrap();
        encoder.finish().unwrap();
    }
    let mut outputs = Vec::new();
    for (n, source) in [input.as_path(), input.as_path(), gz.as_path()]
        .into_iter()
        .enumerate()
    {
        let out = scratch.join(&format!("out{n}"));
        run_ok(&[
            "import",
            "whatsapp",
            "--in",
            source.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let mut all = files(&out);
        all.remove(".l2lens-output");
        outputs.push(all);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

#[test]
fn chatwoot_and_mapping_outputs_ingest() {
    let scratch = Scratch::new("cw-map");
    let cw = scratch.join("cw");
    run_ok(&[
        "import",
        "chatwoot",
        "--in",
        fixture("chatwoot/events.jsonl").to_str().unwrap(),
        "--config",
        fixture("chatwoot/l2lens.toml").to_str().unwrap(),
        "--out",
        cw.to_str().unwrap(),
        "--format",
        "parquet",
    ]);
    assert!(cw.join("assignments.parquet").is_file());
    assert!(
        cw.join("l2lens.toml").is_file(),
        "the configuration travels with the data"
    );
    let metrics = run_ok(&[
        "metrics",
        "--data",
        cw.to_str().unwrap(),
        "--by",
        "none",
        "--as-of",
        "2026-05-09T00:00:00Z",
    ]);
    assert!(metrics.contains(",ALL,escalation_rate,1.0,"), "{metrics}");

    let input = scratch.join("servicenow");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        fixture("servicenow_excerpt/incident_event_log.csv.gz"),
        input.join("incident_event_log.csv.gz"),
    )
    .unwrap();
    let sn = scratch.join("sn");
    run_ok(&[
        "import",
        "mapping",
        "--map",
        "examples/mappings/servicenow_incidents.toml",
        "--in",
        input.to_str().unwrap(),
        "--out",
        sn.to_str().unwrap(),
    ]);
    let metrics = run_ok(&[
        "metrics",
        "--data",
        sn.to_str().unwrap(),
        "--by",
        "none",
        "--period",
        "month",
    ]);
    assert!(
        metrics.contains("2016-02-01,ALL,transfers_per_resolution,"),
        "{metrics}"
    );
}

#[test]
fn a_bad_mapping_exits_2_naming_the_key() {
    let scratch = Scratch::new("bad-map");
    let map = scratch.write(
        "map.toml",
        "[[tables.conversations]]\nfile = \"c.csv\"\n[tables.conversations.columns]\nconversation_id = \"id\"\ncustomer_id = { col = \"who\", colour = \"red\" }\nopened_at = \"at\"\n",
    );
    scratch.write("in/c.csv", "id,who,at\n");
    let out = l2lens(&[
        "import",
        "mapping",
        "--map",
        map.to_str().unwrap(),
        "--in",
        scratch.join("in").to_str().unwrap(),
        "--out",
        scratch.join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("tables.conversations[0].columns.customer_id") && err.contains("colour"),
        "{err}"
    );
}

#[test]
fn input_options_read_a_twitter_style_export() {
    // Twitter's created_at, no channel (so no 24-hour-window rows), `NULL` for missing values.
    let scratch = Scratch::new("input-options");
    scratch.write(
        "data/l2lens.toml",
        "[input]\ntimestamp_format = \"%a %b %d %H:%M:%S %z %Y\"\nnull_values = [\"NULL\"]\ndefault_channel = \"\"\n",
    );
    scratch.write(
        "data/conversations.csv",
        "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at\n\
         t1,u1,,NULL,NULL,Mon Nov 16 09:00:00 +0000 2026,NULL\n",
    );
    scratch.write(
        "data/messages.csv",
        "message_id,conversation_id,sent_at,sender,kind\n\
         m1,t1,Mon Nov 16 09:00:00 +0000 2026,customer,text\n\
         m2,t1,Mon Nov 16 10:00:00 +0100 2026,agent,text\n",
    );
    scratch.write(
        "data/assignments.csv",
        "conversation_id,assigned_at,lane,assignee_id,reason\n",
    );
    let data = scratch.join("data");
    let metrics = run_ok(&[
        "metrics",
        "--data",
        data.to_str().unwrap(),
        "--by",
        "channel",
        "--as-of",
        "2026-11-20T00:00:00Z",
    ]);
    assert!(
        metrics.contains("2026-11-16,unknown,frt_median_s,0.0,1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("window_"),
        "no channel, no window rows: {metrics}"
    );
}
