//! Business hours through the built binary: the spec's examples as conversations, the
//! configuration errors, and nothing changed without `[business_hours]`.

use std::path::{Path, PathBuf};

use crate::util::{Scratch, fixture, l2lens, stderr};

const AS_OF: &str = "2027-01-05T00:00:00Z";

const CONFIG: &str = r#"
[schedules.eu_office]
timezone = "Europe/Berlin"
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-12:30", "13:30-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
holidays = ["2026-12-25", "2026-12-26", "2027-01-01"]
overrides = { "2026-12-24" = ["09:00-13:00"] }

[business_hours]
default = "24x7"
[business_hours.lanes]
technical_l2 = "eu_office"
"#;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Two conversations: the piecewise example (general, 24x7, then technical_l2, Berlin office
/// hours) and the holiday-and-weekend example (technical_l2 from the start).
fn data(scratch: &Scratch, config: Option<&str>) -> PathBuf {
    scratch.write(
        "data/conversations.csv",
        "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at\n\
         bh1,cus_1,whatsapp,pro,api_integration,2026-11-16T06:00:00Z,2026-11-16T09:00:00Z\n\
         bh2,cus_2,email,pro,api_integration,2026-12-31T15:30:00Z,2027-01-04T09:00:00Z\n",
    );
    scratch.write(
        "data/messages.csv",
        "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name\n\
         m1,bh1,2026-11-16T06:00:00Z,customer,text,,api_integration,\n\
         m2,bh1,2026-11-16T06:30:00Z,agent,text,,,\n\
         m3,bh2,2026-12-31T15:30:00Z,customer,text,,api_integration,\n\
         m4,bh2,2027-01-04T08:15:00Z,agent,text,,,\n",
    );
    scratch.write(
        "data/assignments.csv",
        "conversation_id,assigned_at,lane,assignee_id,reason\n\
         bh1,2026-11-16T06:00:00Z,general,a1,initial\n\
         bh1,2026-11-16T07:00:00Z,technical_l2,a2,transfer\n\
         bh2,2026-12-31T15:30:00Z,technical_l2,a3,initial\n",
    );
    scratch.write(
        "data/handoffs.csv",
        "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action\n",
    );
    if let Some(text) = config {
        scratch.write("data/l2lens.toml", text);
    }
    scratch.join("data")
}

fn csv(args: &[&str]) -> Vec<Vec<String>> {
    let out = l2lens(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The fixture of the contract's six worked examples: every business and calendar duration as
/// worked by hand in its README, and the weekly metrics on them.
#[test]
fn the_spec_examples_as_conversations() {
    let dir = fixture("business_hours");
    let facts = csv(&[
        "query",
        "--data",
        s(&dir),
        "--format",
        "csv",
        "--sql",
        "select conversation_id, lane, frt_s, frt_bh_s, tts_bh_s, art_s, art_bh_s from facts \
         order by conversation_id",
    ]);
    let mut expected = csv::Reader::from_path(dir.join("expected_facts.csv")).unwrap();
    let expected: Vec<Vec<String>> = expected
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(expected.len(), 6);
    assert_eq!(facts, expected);
    let metrics = csv(&["metrics", "--data", s(&dir)]);
    let all = |id: &str| -> Vec<(String, String)> {
        metrics
            .iter()
            .filter(|r| r[1] == "ALL" && r[2] == id)
            .map(|r| (r[0].clone(), r[3].clone()))
            .collect()
    };
    let weeks = |values: &[(&str, &str)]| -> Vec<(String, String)> {
        values
            .iter()
            .map(|(w, v)| ((*w).to_owned(), (*v).to_owned()))
            .collect()
    };
    // One conversation a week but in the week of 2026-10-26, which holds b4's Saturday.
    assert_eq!(
        all("frt_bh_median_s"),
        weeks(&[
            ("2026-03-02", "25200.0"),
            ("2026-03-23", "7200.0"),
            ("2026-10-26", "28800.0"),
            ("2026-11-16", "5400.0"),
            ("2026-12-21", "2700.0"),
            ("2026-12-28", "2700.0"),
        ])
    );
    // The calendar twin is unchanged: b1's first response is 88 h 45 min.
    assert!(all("frt_median_s").contains(&("2026-12-28".to_owned(), "319500.0".to_owned())));
}

#[test]
fn without_business_hours_nothing_changes() {
    let scratch = Scratch::new("business-absent");
    let dir = data(&scratch, None);
    let header = l2lens(&["facts", "--data", s(&dir), "--as-of", AS_OF, "--out", "-"]);
    let header = String::from_utf8_lossy(&header.stdout).into_owned();
    assert!(!header.lines().next().unwrap().contains("_bh_s"));
    let metrics = csv(&["metrics", "--data", s(&dir), "--as-of", AS_OF]);
    assert!(!metrics.iter().any(|r| r[2].contains("_bh_")));
    // A schedule alone, with no [business_hours], changes nothing either.
    let schedule_only = "[schedules.office]\ntimezone = \"UTC\"\nmon = [\"09:00-17:00\"]\n";
    let scratch2 = Scratch::new("business-schedule-only");
    let dir2 = data(&scratch2, Some(schedule_only));
    assert_eq!(
        csv(&["metrics", "--data", s(&dir2), "--as-of", AS_OF]),
        metrics
    );
}

#[test]
fn configuration_errors_exit_2_naming_the_key() {
    let scratch = Scratch::new("business-config");
    let dir = data(&scratch, None);
    for (text, key) in [
        (
            "[schedules.x]\ntimezone = \"Moon/Crater\"\n",
            "[schedules.x] timezone",
        ),
        (
            "[schedules.x]\ntimezone = \"UTC\"\nfri = [\"5pm-6pm\"]\n",
            "[schedules.x] fri",
        ),
        (
            "[schedules.x]\ntimezone = \"UTC\"\nmon = [\"09:00-09:00\"]\n",
            "[schedules.x] mon",
        ),
        (
            "[schedules.x]\ntimezone = \"UTC\"\nthu = [\"08:00-12:00\", \"11:00-14:00\"]\n",
            "[schedules.x] thu",
        ),
        (
            "[business_hours.lanes]\ngeneral = \"ghost\"\n",
            "[business_hours.lanes] general",
        ),
        (
            "[schedules.x]\ntimezone = \"UTC\"\nholidays = [\"tomorrow\"]\n",
            "[schedules.x] holidays",
        ),
    ] {
        let config = scratch.write("bad.toml", text);
        let out = l2lens(&["metrics", "--data", s(&dir), "--config", s(&config)]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(
            err.contains(key) && err.contains("bad.toml"),
            "{text}: {err}"
        );
    }
}

#[test]
fn the_report_has_a_business_time_table_only_when_configured() {
    for (config, expected) in [(Some(CONFIG), true), (None, false)] {
        let scratch = Scratch::new("business-report");
        let dir = data(&scratch, config);
        let out = l2lens(&[
            "report",
            "--data",
            s(&dir),
            "--as-of",
            AS_OF,
            "--out",
            s(&scratch.join("out")),
            "--week",
            "2026-W47",
            "--quiet",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let index = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        let html = std::fs::read_to_string(&index).unwrap();
        assert_eq!(html.contains("id=\"business-table\""), expected);
        assert_eq!(
            index.with_file_name("charts/frt_bh_median_s.png").is_file(),
            expected
        );
    }
}
