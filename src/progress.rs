//! Progress and talk on stderr. stdout is for data only.
//!
//! Bars are drawn only when stderr is a terminal and `--quiet` is off, so cron logs and pipes
//! stay clean; messages (`say`) are printed unless `--quiet`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Cheap to clone: clones draw into the same set of bars, so tables read on parallel threads
/// each get a line.
#[derive(Debug, Clone)]
pub struct Progress {
    bars: Option<MultiProgress>,
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress {
            bars: (!quiet && std::io::stderr().is_terminal()).then(MultiProgress::new),
            quiet,
        }
    }

    /// No bars and no talk: for tests and library callers.
    pub fn silent() -> Progress {
        Progress {
            bars: None,
            quiet: true,
        }
    }

    fn bar(&self, len: u64, template: &str, message: &str) -> ProgressBar {
        let Some(multi) = &self.bars else {
            return ProgressBar::hidden();
        };
        let bar = multi.add(ProgressBar::new(len));
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    /// A bar over a byte count, for reading a file.
    pub fn bytes(&self, len: u64, message: &str) -> ProgressBar {
        self.bar(
            len,
            "{msg:<32} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
            message,
        )
    }

    /// A bar over a count of items (rows, conversations).
    pub fn items(&self, len: u64, message: &str) -> ProgressBar {
        self.bar(
            len,
            "{msg:<32} [{bar:30}] {human_pos}/{human_len} (eta {eta})",
            message,
        )
    }

    /// A spinner for a step of unknown length.
    pub fn step(&self, message: &str) -> ProgressBar {
        let Some(multi) = &self.bars else {
            return ProgressBar::hidden();
        };
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A line of talk on stderr.
    pub fn say(&self, message: impl std::fmt::Display) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(multi) => {
                let _ = multi.println(message.to_string());
            }
            None => eprintln!("{message}"),
        }
    }
}
