//! The Parquet reader reads in slices: any slice size gives the rows, quarantine and typed
//! extra columns of one read, in memory and spilled to a file.

use super::*;
use crate::config::{Config, Input};
use crate::ingest::schema::Table;
use crate::ingest::validate::{IdMap, Rules};

fn write(path: &Path) {
    let mut frame = df!(
        "conversation_id" => ["c1", "c2", "c1", "c3", "c4", "c5", "c6"],
        "customer_id" => [Some("u1"), Some("u2"), Some("u3"), None, Some("u4"), Some("u5"), Some("u6")],
        "opened_at" => ["2026-11-16T09:00:00Z", "2026-11-16T09:01:00Z", "2026-11-16T09:02:00Z",
            "2026-11-16T09:03:00Z", "soon", "2026-11-16T09:05:00Z", "2026-11-16T09:06:00Z"],
        "priority" => [1i64, 2, 3, 4, 5, 6, 7],
    )
    .unwrap();
    ParquetWriter::new(File::create(path).unwrap())
        .finish(&mut frame)
        .unwrap();
}

static TEXT: std::sync::LazyLock<crate::ingest::text::TextPass> =
    std::sync::LazyLock::new(crate::ingest::text::TextPass::default);

fn read(path: &Path, slice_rows: usize, spill: Option<std::path::PathBuf>) -> ValidatedTable {
    let lanes = Config::default().known_lanes();
    let input = Input::default();
    let rules = Rules {
        epoch_unit: None,
        conversations: None::<&IdMap>,
        known_lanes: &lanes,
        input: &input,
        text: &TEXT,
    };
    let mut builder = TableBuilder::new(Table::Conversations, "conversations.parquet", rules, 2);
    if let Some(spill) = spill {
        builder.spill_to(spill, 2);
    }
    read_in_slices(path, builder, None, &Progress::silent(), slice_rows).unwrap()
}

#[test]
fn slices_give_the_rows_quarantine_and_typed_extras_of_one_read() {
    let dir = std::env::temp_dir().join(format!("l2lens-parquet-slices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("conversations.parquet");
    write(&path);
    let whole = read(&path, 1000, None);
    // c1 again (row 3), no customer (row 4), a bad instant (row 5).
    assert_eq!(whole.counts.rows_quarantined, 3);
    assert_eq!(whole.frame.height(), 4);
    assert_eq!(
        whole
            .frame
            .column("priority")
            .unwrap()
            .i64()
            .unwrap()
            .to_vec(),
        [Some(1), Some(2), Some(6), Some(7)]
    );
    for slice_rows in [1, 2, 3, 7] {
        let sliced = read(&path, slice_rows, None);
        assert!(sliced.frame.equals_missing(&whole.frame), "{slice_rows}");
        assert_eq!(sliced.quarantine, whole.quarantine);
        assert_eq!(sliced.counts, whole.counts);
        let spill = dir.join(format!("spilled-{slice_rows}.parquet"));
        let spilled = read(&path, slice_rows, Some(spill.clone()));
        assert!(spilled.spilled && spilled.frame.height() == 0);
        assert_eq!(spilled.quarantine, whole.quarantine);
        let back = ParquetReader::new(File::open(&spill).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&whole.frame), "{slice_rows}: {back}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_first_pass_over_the_ids_gives_the_duplicates_of_keeping_every_id() {
    let dir = std::env::temp_dir().join(format!("l2lens-parquet-repeats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("messages.parquet");
    // m1 twice, m2 after a row that failed with the id m2, m3 three times, a null id.
    let mut frame = df!(
        "message_id" => [Some("m1"), Some("m2"), Some("m1"), Some("m2"), Some("m3"), Some("m3"),
            None, Some("m3"), Some(" m4 "), Some("m5")],
        "conversation_id" => ["c1", "c1", "c1", "c1", "c2", "c2", "c2", "c2", "c2", "c2"],
        "sent_at" => ["2026-11-16T09:00:00Z", "soon", "2026-11-16T09:02:00Z",
            "2026-11-16T09:03:00Z", "2026-11-16T09:04:00Z", "2026-11-16T09:05:00Z",
            "2026-11-16T09:06:00Z", "2026-11-16T09:07:00Z", "2026-11-16T09:08:00Z",
            "2026-11-16T09:09:00Z"],
        "sender" => ["customer", "bot", "agent", "agent", "customer", "bot", "bot", "agent",
            "customer", "customer"],
        "kind" => ["text"; 10],
    )
    .unwrap();
    ParquetWriter::new(File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    let lanes = Config::default().known_lanes();
    let input = Input::default();
    let mut ids = IdMap::default();
    ids.insert("c1", 0);
    ids.insert("c2", 1);
    let read = |first_pass: bool| {
        let rules = Rules {
            epoch_unit: None,
            conversations: Some(&ids),
            known_lanes: &lanes,
            input: &input,
            text: &TEXT,
        };
        let mut builder = TableBuilder::new(Table::Messages, "messages.parquet", rules, 2);
        if first_pass {
            builder.repeats_from(0);
        }
        read_in_slices(&path, builder, None, &Progress::silent(), 3).unwrap()
    };
    let every_id = read(false);
    let duplicates = every_id
        .quarantine
        .iter()
        .filter(|q| q.reason == crate::ingest::validate::Reason::DuplicateId)
        .count();
    assert_eq!(
        duplicates, 3,
        "m1 once, m3 twice: {:?}",
        every_id.quarantine
    );
    let first_pass = read(true);
    assert!(first_pass.frame.equals_missing(&every_id.frame));
    assert_eq!(first_pass.quarantine, every_id.quarantine);
    assert_eq!(first_pass.counts, every_id.counts);
    std::fs::remove_dir_all(&dir).unwrap();
}
