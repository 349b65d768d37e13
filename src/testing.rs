//! Test support: tiny data sets written as CSV lines and loaded through the real ingest.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::facts;
use crate::ingest::IngestOptions;
use crate::progress::Progress;
use crate::time::parse_timestamp;

/// A small data set, one CSV line per row in the canonical column order.
#[derive(Default)]
pub struct Case {
    conversations: Vec<String>,
    messages: Vec<String>,
    assignments: Vec<String>,
    handoffs: Vec<String>,
    templates: Vec<String>,
    pub config: Config,
}

impl Case {
    pub fn new() -> Case {
        Case::default()
    }

    /// `conversation_id,customer_id,channel,segment,intent,opened_at,closed_at`
    pub fn conv(mut self, line: &str) -> Case {
        self.conversations.push(line.to_owned());
        self
    }

    /// `conversation_id,sent_at,sender,kind,is_fallback,intent` (message ids are generated)
    pub fn msg(mut self, line: &str) -> Case {
        let id = self.messages.len() + 1;
        self.messages.push(format!("m{id},{line},"));
        self
    }

    /// `conversation_id,assigned_at,lane,assignee_id,reason`
    pub fn asg(mut self, line: &str) -> Case {
        self.assignments.push(line.to_owned());
        self
    }

    /// `template_name,status,changed_at`
    pub fn tpl(mut self, line: &str) -> Case {
        self.templates.push(line.to_owned());
        self
    }

    /// `conversation_id,sent_at,sender,kind,is_fallback,intent,template_name` (message ids are
    /// generated)
    pub fn msg_full(mut self, line: &str) -> Case {
        let id = self.messages.len() + 1;
        self.messages.push(format!("m{id},{line}"));
        self
    }

    /// `conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action`
    pub fn brief(mut self, line: &str) -> Case {
        self.handoffs.push(line.to_owned());
        self
    }

    pub fn dataset(&self) -> Dataset {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "l2lens-unit-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let write = |name: &str, header: &str, lines: &[String]| {
            let mut text = format!("{header}\n");
            for line in lines {
                text.push_str(line);
                text.push('\n');
            }
            std::fs::write(dir.join(name), text).expect("write table");
        };
        write(
            "conversations.csv",
            "conversation_id,customer_id,channel,segment,intent,opened_at,closed_at",
            &self.conversations,
        );
        write(
            "messages.csv",
            "message_id,conversation_id,sent_at,sender,kind,is_fallback,intent,template_name",
            &self.messages,
        );
        write(
            "assignments.csv",
            "conversation_id,assigned_at,lane,assignee_id,reason",
            &self.assignments,
        );
        write(
            "handoffs.csv",
            "conversation_id,handoff_at,intent,key_details,attempted_steps,current_status,next_action",
            &self.handoffs,
        );
        if !self.templates.is_empty() {
            write(
                "templates.csv",
                "template_name,status,changed_at",
                &self.templates,
            );
        }
        let options = IngestOptions {
            epoch_unit: None,
            known_lanes: self.config.known_lanes(),
            input: self.config.input.clone(),
            text: std::sync::Arc::new(
                crate::ingest::text::TextPass::new(&self.config.text, None)
                    .expect("a valid [text]"),
            ),
        };
        let data = Dataset::load(&dir, &options, &Progress::silent()).expect("load case");
        assert_eq!(
            data.summary.rows_quarantined(),
            0,
            "test case rows must be valid: {:?}",
            data.summary
        );
        // The tables are in memory now.
        let _ = std::fs::remove_dir_all(&dir);
        data
    }

    /// The facts table at `as_of` (RFC 3339).
    pub fn facts(&self, as_of: &str) -> Facts {
        let data = self.dataset();
        let as_of = parse_timestamp(as_of, None).expect("as_of");
        Facts(
            facts::compute(&data, &self.config, Some(as_of))
                .expect("facts")
                .frame,
        )
    }
}

/// A facts frame with lookups by conversation id.
pub struct Facts(pub DataFrame);

impl Facts {
    pub fn value(&self, id: &str, column: &str) -> AnyValue<'static> {
        let ids = self.0.column("conversation_id").expect("ids");
        let ids = ids.str().expect("string ids");
        let row = ids
            .iter()
            .position(|v| v == Some(id))
            .unwrap_or_else(|| panic!("no facts row for {id}"));
        self.0
            .column(column)
            .unwrap_or_else(|_| panic!("no column {column}"))
            .get(row)
            .expect("row")
            .into_static()
    }

    pub fn has(&self, id: &str) -> bool {
        let ids = self.0.column("conversation_id").expect("ids");
        ids.str().expect("string ids").iter().any(|v| v == Some(id))
    }

    pub fn ms(&self, id: &str, column: &str) -> Option<i64> {
        match self.value(id, column) {
            AnyValue::Null => None,
            AnyValue::Int64(v) => Some(v),
            other => panic!("{column} of {id} is not an instant: {other:?}"),
        }
    }

    pub fn flag(&self, id: &str, column: &str) -> Option<bool> {
        match self.value(id, column) {
            AnyValue::Null => None,
            AnyValue::Boolean(v) => Some(v),
            other => panic!("{column} of {id} is not a boolean: {other:?}"),
        }
    }

    pub fn count(&self, id: &str, column: &str) -> u32 {
        match self.value(id, column) {
            AnyValue::UInt32(v) => v,
            other => panic!("{column} of {id} is not a count: {other:?}"),
        }
    }

    pub fn text(&self, id: &str, column: &str) -> Option<String> {
        match self.value(id, column) {
            AnyValue::Null => None,
            AnyValue::String(s) => Some(s.to_owned()),
            AnyValue::StringOwned(s) => Some(s.to_string()),
            other => panic!("{column} of {id} is not text: {other:?}"),
        }
    }

    pub fn score(&self, id: &str) -> f64 {
        match self.value(id, "context_score") {
            AnyValue::Float64(v) => v,
            other => panic!("context_score of {id}: {other:?}"),
        }
    }
}

/// An instant from RFC 3339 text, in milliseconds.
pub fn at(text: &str) -> i64 {
    parse_timestamp(text, None).expect("timestamp")
}
