//! A table written to Parquet as it is validated: each batch of accepted rows becomes a row
//! group. The encoding and compression run on a thread of their own, one batch behind the
//! validation, so that reading the next rows does not wait for them. With a [`Router`], the
//! same thread writes each batch's rows to their partitions' files too.

use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;

use super::parts::Router;

pub(crate) struct Spill {
    pub path: PathBuf,
    /// Accepted rows per row group, when the builder cuts the batches.
    pub batch_rows: usize,
    writer: Option<Writer>,
    /// Where the rows go by partition too, until the writer's thread takes it.
    router: Option<Router>,
    /// The first error; reported by [`Spill::finish`].
    pub error: Option<PolarsError>,
}

struct Writer {
    batches: SyncSender<DataFrame>,
    /// Which partitions have a file, when the rows were routed.
    thread: JoinHandle<PolarsResult<Option<Vec<bool>>>>,
}

impl Spill {
    pub fn new(path: PathBuf, batch_rows: usize) -> Spill {
        Spill {
            path,
            batch_rows: batch_rows.max(1),
            writer: None,
            router: None,
            error: None,
        }
    }

    /// Writes the rows to their partitions' files too ([`Router::write`]).
    pub fn route(&mut self, router: Router) {
        self.router = Some(router);
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
            let mut router = self.router.take();
            let thread = std::thread::spawn(move || {
                let routing = |e: anyhow::Error| PolarsError::ComputeError(format!("{e:#}").into());
                for batch in queue {
                    writer.write_batch(&batch)?;
                    if let Some(router) = router.as_mut() {
                        router.write(&batch).map_err(routing)?;
                    }
                }
                writer.finish()?;
                router.map(Router::finish).transpose().map_err(routing)
            });
            self.writer = Some(Writer { batches, thread });
        }
        if frame.height() == 0 {
            return Ok(());
        }
        let writer = self.writer.as_ref().expect("a writer");
        if writer.batches.send(frame).is_err() {
            // The thread stopped on an error, which `finish` returns.
            return self.finish_writer().map(|_| ());
        }
        Ok(())
    }

    /// Writes the queued row groups and the file's footer; the first error, if any. With a
    /// router, which partitions have a file.
    pub fn finish(mut self) -> PolarsResult<Option<Vec<bool>>> {
        if let Some(e) = self.error.take() {
            let _ = self.finish_writer();
            return Err(e);
        }
        self.finish_writer()
    }

    fn finish_writer(&mut self) -> PolarsResult<Option<Vec<bool>>> {
        let Some(Writer { batches, thread }) = self.writer.take() else {
            return Ok(None);
        };
        drop(batches);
        thread.join().unwrap_or_else(|_| {
            Err(PolarsError::ComputeError(
                format!("writing {} panicked", self.path.display()).into(),
            ))
        })
    }
}
