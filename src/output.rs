//! Where every command's output goes, and in which format. One place decides: no `--out` or
//! `--out -` is standard output, anything else is a file written atomically. The format comes
//! from `--format`, else from the file extension (case-insensitive), else the command's default.
//! A reader that stops reading (`l2lens … | head`) ends the run quietly with exit code 0.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use polars::prelude::*;

use crate::atomic::write_atomic;
use crate::metrics::{MetricRow, read_rows};
use crate::warehouse::{ROW_GROUP, write_row_groups};

/// The formats of tabular output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Json,
    Parquet,
}

impl TableFormat {
    /// The format a file extension names (`.csv`, `.json`, `.parquet`; any case).
    pub fn from_path(path: &Path) -> Option<TableFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(TableFormat::Csv),
            "json" => Some(TableFormat::Json),
            "parquet" => Some(TableFormat::Parquet),
            _ => None,
        }
    }

    fn is_binary(self) -> bool {
        self == TableFormat::Parquet
    }
}

/// The reader of standard output went away: not an error, the run just stops (exit 0).
#[derive(Debug, thiserror::Error)]
#[error("the reader of standard output closed it")]
pub struct ClosedPipe;

/// Where output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File(PathBuf),
}

impl Target {
    /// `--out`: none or `-` is standard output.
    pub fn from_arg(out: Option<&Path>) -> Target {
        match out {
            None => Target::Stdout,
            Some(p) if p.as_os_str() == "-" => Target::Stdout,
            Some(p) => Target::File(p.to_owned()),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Target::Stdout => None,
            Target::File(p) => Some(p),
        }
    }

    /// The format: explicit, else the extension's, else `default`.
    pub fn format(&self, explicit: Option<TableFormat>, default: TableFormat) -> TableFormat {
        explicit
            .or_else(|| self.path().and_then(TableFormat::from_path))
            .unwrap_or(default)
    }

    /// Writes what `fill` produces: into a temporary file renamed into place, or to standard
    /// output. Binary formats are refused on a terminal (pipe or redirect them).
    pub fn write_with(
        &self,
        binary: bool,
        fill: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        match self {
            Target::File(path) => write_atomic(path, |w| fill(w)),
            Target::Stdout => {
                let stdout = std::io::stdout();
                if binary && stdout.is_terminal() {
                    bail!(
                        "refusing to write Parquet to a terminal: pass --out FILE.parquet, or \
                         redirect standard output (`> file.parquet`, `| duckdb …`)"
                    );
                }
                let mut out = PipeWatch {
                    inner: std::io::BufWriter::new(stdout.lock()),
                    closed: false,
                };
                let result = fill(&mut out).and_then(|()| Ok(out.flush()?));
                if out.closed {
                    return Err(ClosedPipe.into());
                }
                result
            }
        }
    }

    /// Writes bytes.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        self.write_with(false, |w| Ok(w.write_all(bytes)?))
    }
}

/// A writer that remembers whether its reader went away, whatever error type the code above
/// it (polars, csv) wraps that in.
struct PipeWatch<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeWatch<W> {
    fn watch<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.closed = true;
        }
        result
    }
}

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.watch(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.watch(r)
    }
}

/// Whether an error means the reader of standard output went away.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.is::<ClosedPipe>()
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a frame in `format`: CSV with a header, a JSON array of objects, or Parquet.
pub fn write_frame(frame: &mut DataFrame, target: &Target, format: TableFormat) -> Result<()> {
    target.write_with(format.is_binary(), |w| {
        match format {
            // Every instant of l2lens is UTC: written `2026-11-16T09:00:00.000Z`.
            TableFormat::Csv => CsvWriter::new(w)
                .include_header(true)
                .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.3fZ".into()))
                .finish(frame)?,
            TableFormat::Json => {
                JsonWriter::new(&mut *w)
                    .with_json_format(JsonFormat::Json)
                    .finish(frame)?;
                w.write_all(b"\n")?;
            }
            TableFormat::Parquet => {
                ParquetWriter::new(w).finish(frame)?;
            }
        }
        Ok(())
    })
}

/// Writes a table that comes a block of rows at a time, in `format`, holding one block at a
/// time: CSV with one header, one JSON array, or Parquet in groups of [`ROW_GROUP`] rows (a
/// block holds whole groups, but for the last one). The bytes depend on the rows, not on the
/// blocks they came in. Returns the number of rows.
pub fn write_blocks(
    target: &Target,
    format: TableFormat,
    schema: &Schema,
    blocks: impl Iterator<Item = Result<DataFrame>>,
) -> Result<usize> {
    let mut rows = 0;
    target.write_with(format.is_binary(), |w| {
        match format {
            TableFormat::Csv => {
                let csv = |w: &mut dyn Write, frame: &mut DataFrame, header: bool| {
                    CsvWriter::new(w)
                        .include_header(header)
                        .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.3fZ".into()))
                        .finish(frame)
                };
                let mut header = true;
                for block in blocks {
                    let mut block = block?;
                    rows += block.height();
                    csv(&mut *w, &mut block, header)?;
                    header = false;
                }
                if header {
                    csv(w, &mut DataFrame::empty_with_schema(schema), true)?;
                }
            }
            TableFormat::Json => {
                // One array: each block's objects, without its brackets, after a comma.
                w.write_all(b"[")?;
                let mut first = true;
                for block in blocks {
                    let mut block = block?;
                    rows += block.height();
                    let mut json = Vec::new();
                    JsonWriter::new(&mut json)
                        .with_json_format(JsonFormat::Json)
                        .finish(&mut block)?;
                    let objects = json
                        .strip_prefix(b"[")
                        .and_then(|j| j.strip_suffix(b"]"))
                        .unwrap_or_default();
                    if !objects.is_empty() {
                        if !first {
                            w.write_all(b",")?;
                        }
                        w.write_all(objects)?;
                        first = false;
                    }
                }
                w.write_all(b"]\n")?;
            }
            TableFormat::Parquet => {
                let mut writer = ParquetWriter::new(&mut *w).batched(schema)?;
                for block in blocks {
                    let block = block?;
                    rows += block.height();
                    write_row_groups(&mut writer, &block, ROW_GROUP)?;
                }
                writer.finish()?;
            }
        }
        Ok(())
    })?;
    Ok(rows)
}

/// Writes metric rows (`period_start` as a Date, a group column, `metric`, `value`, `n`): CSV
/// and JSON with floats that read back exactly, or Parquet.
pub fn write_metrics(rows: &mut DataFrame, target: &Target, format: TableFormat) -> Result<()> {
    if format == TableFormat::Parquet {
        return write_frame(rows, target, format);
    }
    let group = rows
        .get_column_names()
        .get(1)
        .map(|s| s.to_string())
        .ok_or_else(|| anyhow::anyhow!("metric rows need a group column"))?;
    let parsed = read_rows(rows)?;
    let bytes = if format == TableFormat::Csv {
        metrics_csv(&group, &parsed)?
    } else {
        metrics_json(&group, &parsed)?
    };
    target.write(&bytes)
}

/// A float with enough digits to read back the same value (`1.0`, `0.1`, `1350.0000000000016`).
pub fn round_trip(value: f64) -> String {
    format!("{value:?}")
}

/// Metric rows as CSV bytes, in the output contract; `group` names the group column.
pub fn metrics_csv(group: &str, rows: &[MetricRow]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["period_start", group, "metric", "value", "n"])?;
    for r in rows {
        writer.write_record([
            r.period_start.to_string(),
            r.group.clone(),
            r.metric.id().to_owned(),
            round_trip(r.value),
            r.n.to_string(),
        ])?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn metrics_json(group: &str, rows: &[MetricRow]) -> Result<Vec<u8>> {
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut object = serde_json::Map::new();
            object.insert("period_start".into(), r.period_start.to_string().into());
            object.insert(group.to_owned(), r.group.clone().into());
            object.insert("metric".into(), r.metric.id().into());
            object.insert("value".into(), r.value.into());
            object.insert("n".into(), r.n.into());
            serde_json::Value::Object(object)
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&list)?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_flag_then_the_extension_in_any_case() {
        let file = Target::from_arg(Some(Path::new("out/Metrics.PARQUET")));
        assert_eq!(file.format(None, TableFormat::Csv), TableFormat::Parquet);
        assert_eq!(
            file.format(Some(TableFormat::Json), TableFormat::Csv),
            TableFormat::Json
        );
        let odd = Target::from_arg(Some(Path::new("out/metrics.Json")));
        assert_eq!(odd.format(None, TableFormat::Csv), TableFormat::Json);
        assert_eq!(Target::from_arg(Some(Path::new("-"))), Target::Stdout);
        assert_eq!(Target::from_arg(None), Target::Stdout);
        assert_eq!(
            Target::Stdout.format(None, TableFormat::Csv),
            TableFormat::Csv
        );
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_any_wrapping() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let wrapped = anyhow::Error::from(io).context("writing the metrics");
        assert!(is_closed_pipe(&wrapped));
        assert!(is_closed_pipe(&anyhow::Error::from(ClosedPipe)));
        assert!(!is_closed_pipe(&anyhow::anyhow!("disk full")));
    }

    /// A table of `n` rows with an integer, a float with nulls, a string and an instant.
    fn table(n: usize) -> DataFrame {
        let rows: Vec<i64> = (0..n as i64).collect();
        let mut frame = df!(
            "n" => &rows,
            "share" => rows.iter().map(|r| (r % 4 != 0).then_some(*r as f64 / 3.0)).collect::<Vec<_>>(),
            "label" => rows.iter().map(|r| format!("row \"{r}\", ok")).collect::<Vec<_>>(),
            "at" => rows.iter().map(|r| r * 60_000).collect::<Vec<_>>(),
        )
        .unwrap();
        let at = frame
            .column("at")
            .unwrap()
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap();
        frame.with_column(at).unwrap();
        frame
    }

    fn written(format: TableFormat, frame: &DataFrame, blocks: &[usize]) -> Vec<u8> {
        let dir = crate::partition::Scratch::new("write-blocks").unwrap();
        let target = Target::File(dir.path.join("out"));
        let mut start = 0;
        let pieces = blocks.iter().map(|&len| {
            let piece = frame.slice(start as i64, len);
            start += len;
            Ok(piece)
        });
        let rows = write_blocks(&target, format, frame.schema(), pieces).unwrap();
        assert_eq!(rows, blocks.iter().sum::<usize>());
        std::fs::read(dir.path.join("out")).unwrap()
    }

    #[test]
    fn a_table_written_in_blocks_has_the_bytes_of_one_write() {
        let small = table(10);
        for format in [TableFormat::Csv, TableFormat::Json] {
            let dir = crate::partition::Scratch::new("write-frame").unwrap();
            let target = Target::File(dir.path.join("out"));
            write_frame(&mut small.clone(), &target, format).unwrap();
            let once = std::fs::read(dir.path.join("out")).unwrap();
            assert_eq!(written(format, &small, &[10]), once, "{format:?}");
            assert_eq!(written(format, &small, &[3, 0, 4, 3]), once, "{format:?}");
            assert_eq!(written(format, &small, &[0, 10]), once, "{format:?}");
        }
        // No rows: the header, an empty array, a Parquet file with the columns.
        let empty = table(0);
        assert_eq!(
            written(TableFormat::Csv, &empty, &[]),
            b"n,share,label,at\n"
        );
        assert_eq!(written(TableFormat::Json, &empty, &[]), b"[]\n");
        let parquet = written(TableFormat::Parquet, &empty, &[]);
        let back = ParquetReader::new(std::io::Cursor::new(parquet))
            .finish()
            .unwrap();
        assert_eq!(back.schema(), empty.schema());
        // Parquet: blocks of whole row groups give the groups of one block.
        let large = table(2 * ROW_GROUP + 5);
        let once = written(TableFormat::Parquet, &large, &[large.height()]);
        let split = written(TableFormat::Parquet, &large, &[ROW_GROUP, ROW_GROUP, 5]);
        assert!(once == split, "Parquet bytes differ with the blocks");
        let back = ParquetReader::new(std::io::Cursor::new(once))
            .finish()
            .unwrap();
        assert!(back.equals_missing(&large));
    }
}
