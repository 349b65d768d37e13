//! `l2lens query` and the analyst queries in queries/, and Hive-partitioned Parquet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::SerReader;

use crate::util::{Scratch, golden_dir, l2lens, stderr};

const AS_OF: &str = "2026-11-25T00:00:00Z";

fn queries() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

/// Runs a query file as CSV; returns (header, rows).
fn run_query(file: &Path, data: &Path, extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec![
        "query",
        file.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--format",
        "csv",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let output = l2lens(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}: {}",
        file.display(),
        stderr(&output)
    );
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn query(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries")
        .join(format!("{name}.sql"))
}

/// The columns a query's `-- Output:` comment promises.
fn documented_columns(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut comment = String::new();
    for line in text.lines().take_while(|l| l.starts_with("--")) {
        comment.push_str(line.trim_start_matches("--"));
        comment.push(' ');
    }
    let output = &comment[comment
        .find("Output:")
        .unwrap_or_else(|| panic!("{}: no `-- Output:` line", file.display()))
        + 7..];
    let output = output.split('.').next().unwrap();
    output
        .split(',')
        .map(|c| c.trim().split(' ').next().unwrap().to_owned())
        .collect()
}

#[test]
fn every_query_runs_and_returns_its_documented_columns() {
    let files = queries();
    assert!(files.len() >= 10, "{} queries", files.len());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            text.starts_with("-- "),
            "{} opens with a comment",
            file.display()
        );
        let want = documented_columns(file);
        for data in [&sample, &golden_dir()] {
            let (header, _) = run_query(file, data, &["--as-of", AS_OF]);
            assert_eq!(header, want, "{} on {}", file.display(), data.display());
        }
    }
}

#[test]
fn queries_answer_the_golden_fixture() {
    let golden = golden_dir();
    let run = |name: &str| run_query(&query(name), &golden, &["--as-of", AS_OF]).1;
    let silent = run("silent_threads_now");
    let ids: Vec<(&str, &str)> = silent
        .iter()
        .map(|r| (r[0].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("c04", "203.0"),
            ("c10", "87.0"),
            ("c13", "68.0"),
            ("c12", "67.0")
        ]
    );
    assert_eq!(silent[0][2], "agent-5");

    let moves = run("misroutes_by_intent_and_move");
    assert_eq!(
        moves,
        vec![
            vec![
                "api_integration",
                "technical_l2",
                "customer_recovery",
                "1",
                "1"
            ],
            vec!["billing_error", "retention", "revenue_protection", "1", "1"],
        ]
    );
    let slowest = run("slowest_lane_tts_p90");
    assert_eq!(slowest.len(), 1);
    assert_eq!(slowest[0][0], "technical_l2");
    assert!((slowest[0][1].parse::<f64>().unwrap() - 1350.0).abs() < 1e-6);

    let repeat = run("customers_most_repeat_contacts");
    let customers: Vec<&str> = repeat.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(customers, vec!["cus_f", "cus_g", "cus_h"]);

    let workload = run("open_l2_workload_per_owner");
    let owners: Vec<(&str, &str, &str)> = workload
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        owners,
        vec![
            ("agent-5", "customer_recovery", "1"),
            ("agent-9", "technical_l2", "1")
        ]
    );

    let briefs = run("escalations_without_brief_by_lane");
    let tech = briefs.iter().find(|r| r[1] == "technical_l2").unwrap();
    assert_eq!(&tech[..4], ["2026-11-16", "technical_l2", "4", "2"]);

    let traps = run("bot_trap_rate_by_intent");
    assert_eq!(&traps[0][..3], ["order_status", "3", "1"]);

    let wow = run("week_over_week_change");
    let expired = wow
        .iter()
        .find(|r| r[1] == "ALL" && r[2] == "window_expired")
        .unwrap();
    assert_eq!(&expired[..2], ["2026-11-23", "ALL"]);
    assert_eq!(expired[3].parse::<f64>().unwrap(), 4.0);
    assert_eq!(expired[4].parse::<f64>().unwrap(), 2.0);
    assert_eq!(expired[5].parse::<f64>().unwrap(), 2.0);

    assert!(
        run("transfer_ping_pong").is_empty(),
        "no bounce in the fixture"
    );
    assert!(
        run("vip_waits_over_30s").is_empty(),
        "no VIP lane in the fixture"
    );
}

#[test]
fn ping_pong_and_vip_waits_on_a_crafted_case() {
    let dir = Scratch::new("pingpong");
    dir.write(
        "conversations.csv",
        "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at\n\
         p1,u1,whatsapp,enterprise,x,2026-11-16T09:00:00Z,\n\
         p2,u2,whatsapp,pro,x,2026-11-16T09:00:00Z,\n",
    );
    dir.write(
        "messages.csv",
        "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name\n\
         m1,p1,2026-11-16T09:00:00Z,customer,text,,x,\n\
         m2,p2,2026-11-16T09:00:00Z,customer,text,,x,\n",
    );
    dir.write(
        "assignments.csv",
        "conversation_id,assigned_at,lane,assignee_id,reason\n\
         p1,2026-11-16T09:00:10Z,retention,,initial\n\
         p1,2026-11-16T09:01:00Z,retention,a1,claim\n\
         p1,2026-11-16T09:05:00Z,technical_l2,,transfer\n\
         p1,2026-11-16T09:09:00Z,retention,,transfer\n\
         p1,2026-11-16T09:20:00Z,vip_fast_lane,v1,transfer\n\
         p2,2026-11-16T09:00:45Z,vip_fast_lane,v2,initial\n",
    );
    dir.write(
        "handoffs.csv",
        "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action\n",
    );
    let run = |name: &str| run_query(&query(name), dir.path(), &[]).1;
    assert_eq!(
        run("transfer_ping_pong"),
        vec![vec!["p1", "retention", "technical_l2", "1"]]
    );
    // p1 reached a specialist (retention, L2) 10 s after the customer wrote before ending in
    // the VIP lane; p2 waited 45 s for the VIP lane.
    let vip = run("vip_waits_over_30s");
    assert_eq!(vip.len(), 1);
    assert_eq!(&vip[0][..3], ["p2", "pro", "45.0"]);
    assert_eq!(vip[0][4], "v2");
}

/// Rows of `l2lens metrics` for one metric, per (period, lane), without ALL.
fn metric_values(data: &Path, metric: &str) -> BTreeMap<(String, String), (f64, u64)> {
    let output = l2lens(&["metrics", "--data", data.to_str().unwrap(), "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[2] == metric && &r[1] != "ALL")
        .map(|r| {
            (
                (r[0].to_owned(), r[1].to_owned()),
                (r[3].parse().unwrap(), r[4].parse().unwrap()),
            )
        })
        .collect()
}

#[test]
fn three_queries_reproduce_the_rust_metrics() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for (name, metric) in [
        ("misroute_rate_by_lane", "misroute_rate"),
        ("escalation_rate_by_lane", "escalation_rate"),
        ("frt_median_by_lane", "frt_median_s"),
    ] {
        let want = metric_values(&sample, metric);
        let (_, rows) = run_query(&query(name), &sample, &[]);
        let got: BTreeMap<(String, String), (f64, u64)> = rows
            .iter()
            .map(|r| {
                (
                    (r[0].clone(), r[1].clone()),
                    (r[2].parse().unwrap(), r[3].parse().unwrap()),
                )
            })
            .collect();
        assert!(want.len() > 20, "{metric}: {} rows", want.len());
        assert_eq!(got.len(), want.len(), "{name}");
        for (key, (value, n)) in &want {
            let (v, m) = got[key];
            assert_eq!(m, *n, "{name} {key:?}");
            assert!(
                (v - value).abs() <= 1e-9 * value.abs().max(1.0),
                "{name} {key:?}: {v} vs {value}"
            );
        }
    }
}

#[test]
fn bad_sql_exits_2_and_names_the_file() {
    let dir = Scratch::new("badsql");
    let file = dir.write("broken.sql", "SELECT lane, FROM facts WHERE");
    let output = l2lens(&[
        "query",
        file.to_str().unwrap(),
        "--data",
        golden_dir().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("broken.sql"), "{err}");
    let unknown = dir.write("unknown.sql", "SELECT * FROM tickets");
    let output = l2lens(&[
        "query",
        unknown.to_str().unwrap(),
        "--data",
        golden_dir().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown.sql"));
    assert!(stderr(&output).contains("tickets"), "{}", stderr(&output));
}

#[test]
fn table_json_and_parquet_outputs() {
    let golden = golden_dir();
    let sql = "SELECT lane, COUNT(*) AS n FROM facts GROUP BY lane ORDER BY lane";
    let args = |extra: &[&str]| {
        let mut a = vec![
            "query",
            "--sql",
            sql,
            "--data",
            golden.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "-q",
        ];
        a.extend_from_slice(extra);
        l2lens(&a)
    };
    let table = String::from_utf8(args(&[]).stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        vec!["lane", "n"]
    );
    assert!(lines[1].starts_with("----"));
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["automation", "4"])
    );
    assert_eq!(*lines.last().unwrap(), "(8 rows)");
    let json: serde_json::Value =
        serde_json::from_slice(&args(&["--format", "json"]).stdout).unwrap();
    assert_eq!(json[0]["lane"], "automation");
    assert_eq!(json[0]["n"], 4);
    let dir = Scratch::new("query-out");
    let out = dir.join("lanes.parquet");
    assert_eq!(
        args(&["--out", out.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let file = std::fs::File::open(&out).unwrap();
    let frame = polars::prelude::ParquetReader::new(file).finish().unwrap();
    assert_eq!(frame.height(), 8);
}

fn partitions(dir: &Path) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        // Besides the partitions: the marker that l2lens wrote the folder.
        .filter(|p| !p.ends_with(".l2lens-output"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let file = std::fs::File::open(path.join("part-0.parquet")).unwrap();
            let frame = polars::prelude::ParquetReader::new(file).finish().unwrap();
            assert!(
                frame.column("period_start").is_err(),
                "the partition column lives in the folder name"
            );
            (name, frame.height())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn facts_and_metrics_write_hive_partitions() {
    let dir = Scratch::new("hive");
    let golden = golden_dir();
    let metrics_dir = dir.join("metrics");
    let output = l2lens(&[
        "metrics",
        "--data",
        golden.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--out",
        metrics_dir.to_str().unwrap(),
        "--partition",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The rows of expected_metrics.csv and expected_metrics_extra.csv per week.
    assert_eq!(
        partitions(&metrics_dir),
        vec![
            ("period_start=2026-11-09".to_owned(), 12 + 2),
            ("period_start=2026-11-16".to_owned(), 109 + 23),
            ("period_start=2026-11-23".to_owned(), 14 + 2),
        ]
    );
    let facts_dir = dir.join("facts");
    let output = l2lens(&[
        "facts",
        "--data",
        golden.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--out",
        facts_dir.to_str().unwrap(),
        "--partition",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // By the week of opened_at: c18 in 2026-11-09, c19 in 2026-11-23, the rest in between.
    assert_eq!(
        partitions(&facts_dir),
        vec![
            ("period_start=2026-11-09".to_owned(), 1),
            ("period_start=2026-11-16".to_owned(), 17),
            ("period_start=2026-11-23".to_owned(), 1),
        ]
    );
}

/// The built-in lanes of the golden fixture's routing, named exactly; and the same tiers
/// through patterns and the default tier.
const EXACT_LANES: &str = "[lanes]\nautomation = \"bot\"\ngeneral = \"L1\"\n\
    technical_l2 = \"L2\"\nretention = \"L2\"\nrevenue_protection = \"L2\"\n\
    customer_recovery = \"L2\"\ncompliance = \"L3\"\n";
const PATTERN_LANES: &str = "[lanes]\nautomation = \"bot\"\ngeneral = \"L1\"\n\"*_l2\" = \"L2\"\n\
    \"re?*\" = \"L2\"\n\"customer_*\" = \"L2\"\ncompliance = \"L3\"\n";

#[test]
fn lanes_lists_every_lane_with_its_resolved_tier() {
    let dir = Scratch::new("query-lanes");
    let config = dir.write(
        "patterns.toml",
        format!("{PATTERN_LANES}[rules]\ndefault_tier = \"L3\"\n"),
    );
    let sql = "SELECT lane, tier, in_data FROM lanes ORDER BY lane";
    let output = l2lens(&[
        "query",
        "--sql",
        sql,
        "--data",
        golden_dir().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    // No raw pattern is a row; every lane of the data is, under its own name and tier.
    for row in [
        "automation,bot,true",
        "compliance,L3,true",
        "customer_recovery,L2,true",
        "general,L1,true",
        "legacy_queue,L3,true",
        "revenue_protection,L2,true",
        "retention,L2,true",
        "technical_l2,L2,true",
    ] {
        assert!(text.lines().any(|l| l == row), "{row} not in\n{text}");
    }
    assert!(!text.contains('*') && !text.contains('?'), "{text}");
}

#[test]
fn the_query_library_gives_the_same_answers_through_lane_patterns() {
    let dir = Scratch::new("query-lane-patterns");
    let exact = dir.write("exact.toml", EXACT_LANES);
    let patterns = dir.write("patterns.toml", PATTERN_LANES);
    let mut compared = 0;
    for file in queries() {
        let answer = |config: &Path| {
            run_query(
                &file,
                &golden_dir(),
                &["--as-of", AS_OF, "--config", config.to_str().unwrap()],
            )
        };
        let (header, rows) = answer(&exact);
        assert_eq!(
            (header.clone(), rows.clone()),
            answer(&patterns),
            "{}: a lane matched by a pattern changes the answer",
            file.display()
        );
        compared += usize::from(!rows.is_empty());
    }
    assert!(compared >= 10, "only {compared} queries returned rows");
    // The workload query joins `lanes`: with patterns it still sees the specialist lanes.
    let (_, rows) = run_query(
        &query("open_l2_workload_per_owner"),
        &golden_dir(),
        &["--as-of", AS_OF, "--config", patterns.to_str().unwrap()],
    );
    assert!(!rows.is_empty(), "open L2 work through patterns");
}
