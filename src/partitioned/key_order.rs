//! A table put back in the order of one run over all conversations (by `key`) from the rows
//! each partition gives, one block of rows at a time: each partition's rows wait on disk,
//! sorted, and a block takes the next rows of every partition below one key. Memory holds a
//! block and one read of each partition, not the table.

use std::path::PathBuf;

use anyhow::Result;
use polars::prelude::*;

use crate::partition::Scratch;

/// Rows in a block: whole row groups of the output ([`crate::warehouse::ROW_GROUP`]), so the
/// bytes written are the same from any partition count.
pub const BLOCK_ROWS: usize = 4 * crate::warehouse::ROW_GROUP;

/// Rows a partition's file is read by: one of its row groups.
const READ_ROWS: usize = 64 * 1024;

/// A table in key order, as blocks of rows without the key.
pub struct Blocks {
    /// The columns of every block.
    pub schema: Schema,
    blocks: Box<dyn Iterator<Item = Result<DataFrame>>>,
}

impl Blocks {
    /// `frame` (with its `key` column) in blocks of [`BLOCK_ROWS`] rows, sorted by key.
    pub fn whole(mut frame: DataFrame) -> Result<Blocks> {
        frame.sort_in_place(["key"], SortMultipleOptions::default())?;
        frame.drop_in_place("key")?;
        let schema = frame.schema().as_ref().clone();
        let height = frame.height();
        let blocks = (0..height)
            .step_by(BLOCK_ROWS)
            .map(move |start| Ok(frame.slice(start as i64, BLOCK_ROWS)));
        Ok(Blocks {
            schema,
            blocks: Box::new(blocks),
        })
    }
}

impl Iterator for Blocks {
    type Item = Result<DataFrame>;

    fn next(&mut self) -> Option<Result<DataFrame>> {
        self.blocks.next()
    }
}

/// The partitions' rows, written as they come ([`KeyOrder::push`]), then read back in key
/// order ([`KeyOrder::blocks`]).
pub struct KeyOrder {
    /// Where the partitions' rows wait, removed with the table.
    dir: Scratch,
    parts: Vec<Part>,
    schema: Option<Schema>,
    block_rows: usize,
    read_rows: usize,
}

/// One partition's rows on disk, sorted by key, and how far they were read and given out.
struct Part {
    path: PathBuf,
    /// The sorted keys of every row of the file.
    keys: Vec<u32>,
    /// Rows given out.
    taken: usize,
    /// Rows read from the file: those given out and those of `buffer`.
    read: usize,
    buffer: Option<DataFrame>,
}

impl KeyOrder {
    /// An empty table whose partitions' rows wait in a temporary folder of its own.
    pub fn new() -> Result<KeyOrder> {
        KeyOrder::with_sizes(BLOCK_ROWS, READ_ROWS)
    }

    fn with_sizes(block_rows: usize, read_rows: usize) -> Result<KeyOrder> {
        Ok(KeyOrder {
            dir: Scratch::new("ordered")?,
            parts: Vec::new(),
            schema: None,
            block_rows,
            read_rows,
        })
    }

    /// Adds a partition's rows, with their `key` column (a `u32` unique over all partitions).
    pub fn push(&mut self, mut frame: DataFrame) -> Result<()> {
        frame.sort_in_place(["key"], SortMultipleOptions::default())?;
        let keys = frame.column("key")?.u32()?;
        anyhow::ensure!(keys.null_count() == 0, "a partition's row has no key");
        let keys: Vec<u32> = keys.into_no_null_iter().collect();
        if self.schema.is_none() {
            let mut schema = frame.schema().as_ref().clone();
            schema.shift_remove("key");
            self.schema = Some(schema);
        }
        let path = self
            .dir
            .path
            .join(format!("rows-{}.parquet", self.parts.len()));
        crate::partition::write_temporary(&path, &frame, self.read_rows)?;
        self.parts.push(Part {
            path,
            keys,
            taken: 0,
            read: 0,
            buffer: None,
        });
        Ok(())
    }

    /// Rows over all partitions.
    pub fn height(&self) -> usize {
        self.parts.iter().map(|p| p.keys.len()).sum()
    }

    /// The rows of every partition in key order, in blocks without the key.
    pub fn blocks(mut self) -> Blocks {
        let schema = self.schema.clone().unwrap_or_default();
        let blocks = std::iter::from_fn(move || self.next_block().transpose());
        Blocks {
            schema,
            blocks: Box::new(blocks),
        }
    }

    /// Rows of all partitions whose key is below `bound`.
    fn below(&self, bound: u64) -> usize {
        self.parts
            .iter()
            .map(|p| p.keys.partition_point(|&k| u64::from(k) < bound))
            .sum()
    }

    fn next_block(&mut self) -> Result<Option<DataFrame>> {
        let given: usize = self.parts.iter().map(|p| p.taken).sum();
        let total = self.height();
        if given >= total {
            return Ok(None);
        }
        let want = (given + self.block_rows).min(total);
        // The lowest key bound with `want` rows below it: keys are unique, so exactly `want`.
        let (mut low, mut high) = (0u64, 1u64 << 32);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.below(mid) >= want {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        let mut pieces = Vec::new();
        for part in &mut self.parts {
            let end = part.keys.partition_point(|&k| u64::from(k) < low);
            if end > part.taken {
                pieces.push(part.take(end - part.taken, self.read_rows)?);
            }
        }
        let mut block = super::stack(pieces)?;
        block.sort_in_place(["key"], SortMultipleOptions::default())?;
        block.drop_in_place("key")?;
        Ok(Some(block))
    }
}

impl Part {
    /// The next `count` rows, read from the file `read_rows` at a time.
    fn take(&mut self, count: usize, read_rows: usize) -> Result<DataFrame> {
        let buffered = |b: &Option<DataFrame>| b.as_ref().map_or(0, DataFrame::height);
        while buffered(&self.buffer) < count {
            let rows = read_rows.min(self.keys.len() - self.read);
            let frame = LazyFrame::scan_parquet(
                PlRefPath::try_from_path(&self.path)?,
                ScanArgsParquet::default(),
            )?
            .slice(self.read as i64, rows as IdxSize)
            .collect();
            let frame = anyhow::Context::with_context(frame, || {
                format!("cannot read {}", self.path.display())
            })?;
            anyhow::ensure!(
                frame.height() == rows,
                "{} holds fewer rows than were written",
                self.path.display()
            );
            self.read += rows;
            match &mut self.buffer {
                None => self.buffer = Some(frame),
                Some(buffer) => {
                    buffer.vstack_mut_owned(frame)?;
                }
            }
        }
        let buffer = self.buffer.take().expect("rows were read");
        let out = buffer.slice(0, count);
        if buffer.height() > count {
            self.buffer = Some(buffer.slice(count as i64, usize::MAX));
        }
        self.taken += count;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `n` rows with keys `0..n` shuffled over `parts` partitions (each in its own
    /// order), and columns of several types.
    fn partitions(n: u32, parts: usize) -> (DataFrame, Vec<DataFrame>) {
        let keys: Vec<u32> = (0..n).collect();
        let whole = df!(
            "key" => &keys,
            "value" => keys.iter().map(|k| i64::from(*k) * 3 - 7).collect::<Vec<_>>(),
            "label" => keys.iter().map(|k| format!("row {k}")).collect::<Vec<_>>(),
            "maybe" => keys.iter().map(|k| (k % 3 == 0).then_some(f64::from(*k) / 7.0)).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut out = Vec::new();
        for p in 0..parts {
            // Partition by a hash-like spread; reversed, so each must be sorted.
            let mask = whole
                .column("key")
                .unwrap()
                .u32()
                .unwrap()
                .into_no_null_iter()
                .map(|k| (k.wrapping_mul(2_654_435_761) >> 7) as usize % parts == p)
                .collect::<BooleanChunked>();
            let mut part = whole.filter(&mask).unwrap();
            part = part.reverse();
            out.push(part);
        }
        (whole, out)
    }

    fn gathered(blocks: Blocks) -> (Vec<usize>, DataFrame) {
        let mut heights = Vec::new();
        let mut all: Option<DataFrame> = None;
        for block in blocks {
            let block = block.unwrap();
            heights.push(block.height());
            match &mut all {
                None => all = Some(block),
                Some(all) => {
                    all.vstack_mut_owned(block).unwrap();
                }
            }
        }
        (heights, all.unwrap_or_default())
    }

    #[test]
    fn the_partitions_come_back_in_key_order_in_full_blocks() {
        for (n, parts, block, read) in [(1000, 7, 64, 10), (1000, 1, 1000, 3), (97, 64, 5, 2)] {
            let (whole, split) = partitions(n, parts);
            let mut order = KeyOrder::with_sizes(block, read).unwrap();
            for part in split {
                order.push(part).unwrap();
            }
            assert_eq!(order.height(), n as usize);
            let (heights, all) = gathered(order.blocks());
            // Every block is full but the last.
            let full = heights.len() - 1;
            assert!(heights[..full].iter().all(|&h| h == block), "{heights:?}");
            assert_eq!(heights.iter().sum::<usize>(), n as usize);
            let mut expected = whole.clone();
            expected.drop_in_place("key").unwrap();
            assert!(
                all.equals_missing(&expected),
                "{n} rows in {parts} partitions"
            );
        }
    }

    #[test]
    fn empty_partitions_give_no_block_and_keep_the_columns() {
        let (whole, _) = partitions(0, 1);
        let mut order = KeyOrder::with_sizes(4, 2).unwrap();
        order.push(whole.clone()).unwrap();
        order.push(whole).unwrap();
        let blocks = order.blocks();
        let names: Vec<_> = blocks.schema.iter_names().map(|n| n.to_string()).collect();
        assert_eq!(names, ["value", "label", "maybe"]);
        assert_eq!(blocks.count(), 0);
    }

    #[test]
    fn a_whole_table_is_cut_in_the_same_blocks() {
        let (whole, _) = partitions(10, 1);
        let blocks = Blocks::whole(whole.reverse()).unwrap();
        let heights: Vec<usize> = blocks.map(|b| b.unwrap().height()).collect();
        assert_eq!(heights, [10]);
    }
}
