//! A table written to Parquet as it is validated: each batch of accepted rows becomes a row
//! group. The encoding and compression run on a thread of their own, one batch behind the
//! validation, so that reading the next rows does not wait for them.

use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;

pub(crate) struct Spill {
    pub path: PathBuf,
    /// Accepted rows per row group, when the builder cuts the batches.
    pub batch_rows: usize,
    writer: Option<Writer>,
    /// The first error; reported by [`Spill::finish`].
    pub error: Option<PolarsError>,
}

struct Writer {
    batches: SyncSender<DataFrame>,
    thread: JoinHandle<PolarsResult<()>>,
}

impl Spill {
    pub fn new(path: PathBuf, batch_rows: usize) -> Spill {
        Spill {
            path,
            batch_rows: batch_rows.max(1),
            writer: None,
            error: None,
        }
    }

    /// Queues `frame` as the next row group; the first call creates the file with its schema.
    pub fn write(&mut self, frame: DataFrame) -> PolarsResult<()> {
        if self.writer.is_none() {
            let file = std::fs::File::create(&self.path).map_err(|e| PolarsError::IO {
                error: std::sync::Arc::new(e),
                msg: None,
            })?;
            let mut writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Snappy)
                .batched(frame.schema())?;
            // One batch queued while one is written: memory stays bounded by two batches.
            let (batches, queue) = sync_channel::<DataFrame>(1);
            let thread = std::thread::spawn(move || {
                for batch in queue {
                    writer.write_batch(&batch)?;
                }
                writer.finish().map(|_| ())
            });
            self.writer = Some(Writer { batches, thread });
        }
        if frame.height() == 0 {
            return Ok(());
        }
        let writer = self.writer.as_ref().expect("a writer");
        if writer.batches.send(frame).is_err() {
            // The thread stopped on an error, which `finish` returns.
            return self.finish_writer();
        }
        Ok(())
    }

    /// Writes the queued row groups and the file's footer; the first error, if any.
    pub fn finish(mut self) -> PolarsResult<()> {
        if let Some(e) = self.error.take() {
            let _ = self.finish_writer();
            return Err(e);
        }
        self.finish_writer()
    }

    fn finish_writer(&mut self) -> PolarsResult<()> {
        let Some(Writer { batches, thread }) = self.writer.take() else {
            return Ok(());
        };
        drop(batches);
        thread.join().unwrap_or_else(|_| {
            Err(PolarsError::ComputeError(
                format!("writing {} panicked", self.path.display()).into(),
            ))
        })
    }
}
