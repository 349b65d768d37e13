//! The mapping grammar on small hand-built exports and on the real ServiceNow excerpt.

use std::path::{Path, PathBuf};

use super::*;

/// A folder with `in` and `out`, removed when the guard is dropped.
fn tempdir() -> (crate::partition::Scratch, PathBuf) {
    let scratch = crate::partition::Scratch::new("map").unwrap();
    let dir = scratch.path.clone();
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    (scratch, dir)
}

/// Writes the mapping and the input files, runs the import, returns the summary and a reader
/// of output tables.
fn run(
    mapping: &str,
    files: &[(&str, &str)],
) -> (ImportSummary, impl Fn(&str) -> Vec<Vec<String>> + use<>) {
    let (scratch, dir) = tempdir();
    for (name, text) in files {
        std::fs::write(dir.join("in").join(name), text).unwrap();
    }
    let map = dir.join("map.toml");
    std::fs::write(&map, mapping).unwrap();
    let summary = import_into(
        &map,
        &dir.join("in"),
        &Default::default(),
        OutFormat::Csv,
        &dir.join("out"),
    )
    .unwrap();
    let out = dir.join("out");
    // The reader keeps the folder until it is dropped.
    (summary, move |name: &str| {
        let _folder = &scratch;
        read_csv(&out.join(format!("{name}.csv")))
    })
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn error(mapping: &str) -> String {
    format!("{:#}", spec::parse(mapping).unwrap_err())
}

const CONVERSATIONS: &str = r#"
[[tables.conversations]]
file = "c.csv"
[tables.conversations.columns]
conversation_id = "id"
customer_id = "who"
opened_at = "at"
"#;

#[test]
fn the_servicenow_mapping_on_the_real_log() {
    let (_scratch, dir) = tempdir();
    let excerpt = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/servicenow_excerpt/incident_event_log.csv.gz");
    std::fs::copy(&excerpt, dir.join("in/incident_event_log.csv.gz")).unwrap();
    let map =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mappings/servicenow_incidents.toml");
    let out = dir.join("out");
    let summary = import_into(
        &map,
        &dir.join("in"),
        &Default::default(),
        OutFormat::Csv,
        &out,
    )
    .unwrap();
    assert!(summary.balances(), "{:?}", summary.lines());
    assert_eq!(summary.written["conversations"], 300);
    assert_eq!(summary.written["messages"], 0);
    let conversations = read_csv(&out.join("conversations.csv"));
    assert_eq!(
        conversations[1],
        [
            "sn:INC0000045",
            "sn:Caller 2403",
            "voice",
            "3 - Moderate",
            "Category 55",
            "2016-02-29T01:16:00Z",
            "2016-03-05T12:00:00Z",
            "0"
        ]
    );
    let assignments = read_csv(&out.join("assignments.csv"));
    assert_eq!(
        assignments[1],
        [
            "sn:INC0000045",
            "2016-02-29T01:23:00Z",
            "Group 56",
            "",
            "initial"
        ]
    );
    // The log's own reassignment_count is the number of changes of assignment group: the
    // rebuilt rows reproduce it for nearly every incident.
    let mut lanes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for row in &assignments[1..] {
        lanes.entry(&row[0]).or_default().push(&row[2]);
    }
    let matching = conversations[1..]
        .iter()
        .filter(|c| {
            let changes = lanes
                .get(c[0].as_str())
                .map_or(0, |l| l.windows(2).filter(|w| w[0] != w[1]).count());
            c[7].parse::<usize>().unwrap() == changes
        })
        .count();
    assert!(
        matching * 100 >= 95 * 300,
        "{matching} of 300 match reassignment_count"
    );
    // The output goes through ingest like any export.
    let options = crate::ingest::IngestOptions {
        epoch_unit: None,
        known_lanes: crate::config::Config::default().known_lanes(),
        input: crate::config::Input::default(),
        text: Default::default(),
    };
    let ingested =
        crate::ingest::ingest_dir(&out, &options, &crate::progress::Progress::silent()).unwrap();
    assert_eq!(
        ingested.summary.rows_quarantined(),
        9,
        "assignments with `?` as group"
    );
    assert!(ingested.quarantine.iter().all(|q| q.column == "lane"));
}

#[test]
fn timestamp_formats_null_tokens_and_a_twitter_date() {
    let mapping = r#"
[mapping]
id_prefix = "tw:"
timestamp = "%a %b %d %H:%M:%S %z %Y"
null_values = ["NULL"]

[[tables.conversations]]
file = "c.csv"
[tables.conversations.columns]
conversation_id = "id"
customer_id = "who"
opened_at = "at"
closed_at = { col = "closed", format = "%d/%m/%Y %H:%M" }
channel = { const = "twitter" }

[[tables.messages]]
file = "m.csv"
[tables.messages.columns]
message_id = { template = "{conv}-{n}" }
conversation_id = "conv"
sent_at = "at"
sender = { col = "inbound", map = { "true" = "customer", "false" = "agent" } }
"#;
    let (summary, table) = run(
        mapping,
        &[
            (
                "c.csv",
                "id,who,at,closed\n1,u1,Tue Oct 31 22:10:47 +0000 2017,1/11/2017 9:05\n2,u2,Tue Oct 31 22:10:47 +0200 2017,NULL\n",
            ),
            (
                "m.csv",
                "conv,n,at,inbound\n1,1,Tue Oct 31 22:11:00 +0000 2017,True\n1,2,31/10/2017,false\n1,3,Tue Oct 31 22:12:00 +0000 2017,maybe\n",
            ),
        ],
    );
    assert!(summary.balances());
    let c = table("conversations");
    assert_eq!(
        c[1],
        [
            "tw:1",
            "tw:u1",
            "twitter",
            "",
            "",
            "2017-10-31T22:10:47Z",
            "2017-11-01T09:05:00Z"
        ]
    );
    assert_eq!(c[2][5..], ["2017-10-31T20:10:47Z", ""]);
    let m = table("messages");
    assert_eq!(m.len(), 2, "two rows quarantined: {m:?}");
    assert_eq!(
        m[1][..4],
        ["tw:1-1", "tw:1", "2017-10-31T22:11:00Z", "customer"]
    );
    let q = table("import_quarantine");
    assert_eq!(q[1][1..3], ["3".to_owned(), "sent_at".to_owned()]);
    assert!(q[1][4].starts_with("bad_timestamp"));
    assert_eq!(q[2][2..4], ["sender".to_owned(), "maybe".to_owned()]);
    assert!(
        q[2][4].starts_with("unknown_value"),
        "an enum outside its map is an error by default"
    );
    assert_eq!(summary.skipped["quarantined"], 2);
}

#[test]
fn field_history_with_clears_and_lookups() {
    let mapping = format!(
        r#"{CONVERSATIONS}
[lookups.teams]
file = "teams.csv"
key = "id"

[[tables.assignments]]
file = "parts.csv"
where = {{ part_type = ["assignment", "default_assignment"] }}
mode = "field_history"
key = "conv"
time = "at"
field = "to_type"
value = "to_id"
fields = {{ lane = "team", assignee_id = "admin" }}
clears = {{ lane = ["assignee_id"] }}
[tables.assignments.columns]
conversation_id = "conv"
assigned_at = "at"
lane = {{ col = "lane", lookup = "teams", field = "name" }}
"#
    );
    let parts = "conv,at,part_type,to_type,to_id\n\
        c1,2026-11-16T09:00:00Z,default_assignment,team,7\n\
        c1,2026-11-16T09:05:00Z,assignment,admin,a1\n\
        c1,2026-11-16T09:05:00Z,comment,,\n\
        c1,2026-11-16T09:30:00Z,assignment,team,8\n\
        c1,2026-11-16T09:30:00Z,assignment,admin,a2\n\
        c1,2026-11-16T09:40:00Z,assignment,team,8\n\
        c1,2026-11-16T09:50:00Z,assignment,team,9\n";
    let (summary, table) = run(
        &mapping,
        &[
            ("c.csv", "id,who,at\nc1,u1,2026-11-16T09:00:00Z\n"),
            (
                "teams.csv",
                "id,name\n7,Front desk\n8,Billing L2\n9,Tech L2\n",
            ),
            ("parts.csv", parts),
        ],
    );
    assert!(summary.balances(), "{:?}", summary.lines());
    let a = table("assignments");
    let rows: Vec<[&str; 3]> = a[1..]
        .iter()
        .map(|r| [r[1].as_str(), r[2].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        rows,
        [
            ["2026-11-16T09:00:00Z", "Front desk", ""],
            ["2026-11-16T09:05:00Z", "Front desk", "a1"],
            // The team changes and clears the teammate; the admin set at the same instant stays.
            ["2026-11-16T09:30:00Z", "Billing L2", "a2"],
            // 09:40 sets the same team again: no change, no row. 09:50 clears a2.
            ["2026-11-16T09:50:00Z", "Tech L2", ""],
        ]
    );
    assert_eq!(summary.skipped["filtered_out"], 1);
    assert_eq!(summary.skipped["unchanged_history"], 1);
    assert_eq!(summary.skipped["merged_history"], 1);
}

#[test]
fn explode_where_group_and_changes() {
    let mapping = r#"
[mapping]
id_prefix = "zd:"

[[tables.conversations]]
file = "audits.jsonl"
mode = "group"
key = "ticket_id"
[tables.conversations.columns]
conversation_id = { first = "ticket_id" }
customer_id = { first = "requester.id" }
opened_at = { min = "created_at" }
closed_at = { max = "created_at", when = { status = ["solved"] } }

[[tables.messages]]
file = "audits.jsonl"
explode = "events"
where = { "events.type" = ["Comment"] }
[tables.messages.columns]
message_id = "events.id"
conversation_id = "ticket_id"
sent_at = "created_at"
sender = { col = "events.public", map = { "true" = "customer", "false" = "agent" } }
kind = { col = "events.public", map = { "false" = "internal_note" }, other = "null" }

[[tables.assignments]]
file = "audits.jsonl"
mode = "changes"
key = "ticket_id"
order = "seq"
track = ["lane"]
[tables.assignments.columns]
conversation_id = "ticket_id"
assigned_at = "created_at"
lane = "group"
"#;
    let audits = [
        r#"{"ticket_id":5,"seq":2,"created_at":"2026-11-16T10:00:00Z","requester":{"id":9},"group":"billing","status":"open","events":[{"type":"Comment","id":"e2","public":false},{"type":"Change","id":"e3"}]}"#,
        r#"{"ticket_id":5,"seq":1,"created_at":"2026-11-16T09:00:00Z","requester":{"id":9},"group":"general","status":"new","events":[{"type":"Comment","id":"e1","public":true}]}"#,
        r#"{"ticket_id":5,"seq":10,"created_at":"2026-11-16T11:00:00Z","requester":{"id":9},"group":"billing","status":"solved","events":[]}"#,
        "not json",
    ]
    .join("\n");
    let (summary, table) = run(mapping, &[("audits.jsonl", &audits)]);
    assert!(summary.balances(), "{:?}", summary.lines());
    assert_eq!(
        table("conversations")[1],
        [
            "zd:5",
            "zd:9",
            "",
            "",
            "",
            "2026-11-16T09:00:00Z",
            "2026-11-16T11:00:00Z"
        ]
    );
    let m = table("messages");
    assert_eq!(
        m[1][..5],
        [
            "zd:e2",
            "zd:5",
            "2026-11-16T10:00:00Z",
            "agent",
            "internal_note"
        ]
    );
    assert_eq!(
        m[2][..5],
        ["zd:e1", "zd:5", "2026-11-16T09:00:00Z", "customer", ""]
    );
    let a = table("assignments");
    // Ordered by seq numerically (2 < 10), one row per change of group.
    assert_eq!(
        a[1..]
            .iter()
            .map(|r| (r[2].as_str(), r[4].as_str()))
            .collect::<Vec<_>>(),
        [("general", "initial"), ("billing", "")]
    );
    assert_eq!(
        table("import_quarantine")[1][4].split(':').next(),
        Some("bad_json")
    );
}

#[test]
fn bad_mapping_files_name_the_key() {
    for (mapping, needle) in [
        ("[tables.tickets]\n", "tables.tickets"),
        (
            "[[tables.conversations]]\nfile = \"c.csv\"\n[tables.conversations.columns]\nconversation_id = \"id\"\n",
            "customer_id",
        ),
        (
            &CONVERSATIONS.replace("file = \"c.csv\"", "file = \"c.csv\"\nmode = \"snapshots\""),
            "snapshots",
        ),
        (
            &CONVERSATIONS.replace(
                "opened_at = \"at\"",
                "opened_at = { col = \"at\", format = \"dd/mm\" }",
            ),
            "columns.opened_at",
        ),
        (
            &CONVERSATIONS.replace(
                "customer_id = \"who\"",
                "customer_id = { col = \"who\", lookup = \"people\", field = \"x\" }",
            ),
            "people",
        ),
        (
            &CONVERSATIONS.replace(
                "customer_id = \"who\"",
                "customer_id = { col = \"who\", other = \"drop\" }",
            ),
            "other = \"drop\"",
        ),
        (
            &CONVERSATIONS.replace(
                "customer_id = \"who\"",
                "customer_id = { col = \"who\", colour = 1 }",
            ),
            "colour",
        ),
        ("[mapping]\ntimezone = \"Moon/Base\"\n", "Moon/Base"),
        (
            &format!(
                "{CONVERSATIONS}\n[[tables.assignments]]\nfile = \"a.csv\"\nmode = \"changes\"\nkey = \"k\"\norder = \"o\"\ntrack = [\"lane\"]\n"
            ),
            "conversation_id",
        ),
        (
            "[[tables.messages]]\nfile = \"m.csv\"\n",
            "tables.messages[0]",
        ),
    ] {
        let message = error(mapping);
        assert!(message.contains(needle), "{needle}: {message}");
    }
}
