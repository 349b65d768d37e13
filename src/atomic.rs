//! Writing to disk so that a reader, or a later run, never sees half of anything.
//!
//! - [`write_atomic`]: one file, written under a temporary name beside it and renamed into place.
//! - [`replace_dir`]: a whole folder (a warehouse, partitioned output), written into a temporary
//!   sibling and swapped in with two renames. A folder l2lens wrote carries a marker file
//!   ([`MARKER`]); l2lens replaces only such folders or empty ones, and never the working
//!   directory, the data it reads, or a folder that holds either.
//! - [`add_files`]: files added to a folder that holds others (`l2lens sample` into a data folder
//!   with its config), staged the same way and renamed in once all are written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The file that marks a folder as l2lens output, safe to replace.
pub const MARKER: &str = ".l2lens-output";

/// Writes through `fill` into a temporary file beside `path`, then renames it into place.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let file = File::create(&tmp)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        fill(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Replaces the folder `dir` with what `fill` writes into the empty folder it is given.
///
/// `what` names the output in messages (`the warehouse`, `the partitioned metrics`); `keep` lists
/// paths that must survive (the data being read). `dir` is refused when it is `-`, the working
/// directory or one of its parents, one of `keep` or a parent of one, or a non-empty folder
/// without the marker. On any failure the old folder is left as it was and the temporary one is
/// removed.
pub fn replace_dir(
    dir: &Path,
    what: &str,
    keep: &[&Path],
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    check_replaceable(dir, what, keep)?;
    swap_dir(dir, |tmp| {
        fill(tmp)?;
        std::fs::write(
            tmp.join(MARKER),
            format!(
                "written by l2lens {}: {what}. l2lens replaces this folder whole on the next \
                 run with the same --out.\n",
                env!("CARGO_PKG_VERSION")
            ),
        )?;
        Ok(())
    })
    .with_context(|| format!("writing {what} to {}", dir.display()))
}

/// The one folder swap of l2lens: `fill` writes into an empty temporary folder beside `dir`,
/// which then replaces `dir` with two renames, so a reader sees the old folder or the new one,
/// never a mix. On any failure the old folder is left as it was and the temporary one removed.
/// No check of what `dir` was: [`replace_dir`] makes them for `--out` folders.
pub fn swap_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("--out {} names no folder", dir.display()))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let old = parent.join(format!(".{name}.old-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = (|| -> Result<()> {
        fill(&tmp)?;
        if dir.exists() {
            std::fs::rename(dir, &old)
                .with_context(|| format!("cannot move the old {} aside", dir.display()))?;
        }
        std::fs::rename(&tmp, dir)?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&old);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            if old.exists() && !dir.exists() {
                let _ = std::fs::rename(&old, dir);
            }
            Err(e)
        }
    }
}

/// Adds a set of files to `dir`, a folder that may hold files of its own (a data folder with its
/// config): `fill` writes them into a temporary sibling, then `stale` files are removed from
/// `dir` and each new file is renamed in. On a failure in `fill`, `dir` is left as it was. The
/// same staging as [`swap_dir`], for a folder that is not l2lens's to replace whole.
pub fn add_files(
    dir: &Path,
    stale: &[PathBuf],
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let staging = dir.join(format!(".l2lens-staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let result = (|| -> Result<()> {
        fill(&staging)?;
        for path in stale.iter().filter(|p| p.exists()) {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot replace {}", path.display()))?;
        }
        for entry in std::fs::read_dir(&staging)? {
            let entry = entry?;
            let target = dir.join(entry.file_name());
            std::fs::rename(entry.path(), &target)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Whether `dir` is a folder l2lens wrote.
pub fn is_output_dir(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

fn check_replaceable(dir: &Path, what: &str, keep: &[&Path]) -> Result<()> {
    if dir.as_os_str() == "-" {
        bail!("--out - means standard output, but {what} is a folder: name a folder");
    }
    if dir.exists() && !dir.is_dir() {
        bail!(
            "--out {} is a file, but {what} is a folder: name a new or empty folder",
            dir.display()
        );
    }
    let target = absolute(dir)?;
    let cwd = absolute(Path::new("."))?;
    if cwd.starts_with(&target) {
        bail!(
            "--out {} is the working directory or a folder holding it; l2lens replaces its \
             --out folder whole, so name a new folder such as `{}`",
            dir.display(),
            Path::new("out").join(what_slug(what)).display()
        );
    }
    for path in keep {
        if absolute(path)?.starts_with(&target) {
            bail!(
                "--out {} holds the input {}; l2lens replaces its --out folder whole, so name a \
                 folder outside the data",
                dir.display(),
                path.display()
            );
        }
    }
    if dir.is_dir() && !is_output_dir(dir) {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "--out {} is a folder that l2lens did not write (no {MARKER} file) and is not \
                 empty; l2lens replaces its --out folder whole, so name a new or empty folder",
                dir.display()
            );
        }
    }
    Ok(())
}

/// `path` made absolute and free of `.`/`..` and symbolic links as far as it exists.
fn absolute(path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .context("cannot read the working directory")?
            .join(path)
    };
    // Canonicalise the longest existing prefix, then append the rest.
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_owned();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        if name == ".." {
            out.pop();
        } else if name != "." {
            out.push(name);
        }
    }
    Ok(out)
}

fn what_slug(what: &str) -> String {
    what.trim_start_matches("the ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("l2lens-atomic-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn added_files_replace_the_stale_ones_and_keep_the_rest_or_change_nothing() {
        let dir = scratch("add").join("data");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("l2lens.toml"), "config").unwrap();
        std::fs::write(dir.join("messages.csv.gz"), "old messages").unwrap();
        let stale = [dir.join("messages.csv.gz"), dir.join("messages.csv")];
        let err = add_files(&dir, &stale, |staging| {
            std::fs::write(staging.join("messages.csv"), "half")?;
            bail!("killed while writing")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("killed while writing"));
        let names = |d: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&dir), ["l2lens.toml", "messages.csv.gz"]);
        add_files(&dir, &stale, |staging| {
            std::fs::write(staging.join("messages.csv"), "new messages")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(names(&dir), ["l2lens.toml", "messages.csv"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("l2lens.toml")).unwrap(),
            "config"
        );
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_failed_fill_leaves_the_old_folder_whole() {
        let root = scratch("fail");
        let out = root.join("warehouse");
        replace_dir(&out, "the warehouse", &[], |tmp| {
            std::fs::write(tmp.join("a.parquet"), "old a")?;
            std::fs::write(tmp.join("b.parquet"), "old b")?;
            Ok(())
        })
        .unwrap();
        let err = replace_dir(&out, "the warehouse", &[], |tmp| {
            std::fs::write(tmp.join("a.parquet"), "new a")?;
            bail!("killed while writing b")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("killed while writing b"));
        assert_eq!(
            std::fs::read_to_string(out.join("a.parquet")).unwrap(),
            "old a"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("b.parquet")).unwrap(),
            "old b"
        );
        let names: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("warehouse")],
            "no leftovers"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_folder_that_is_not_ours_is_refused_and_untouched() {
        let root = scratch("foreign");
        let mine = root.join("mine");
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(mine.join("thesis.tex"), "years of work").unwrap();
        let err = replace_dir(&mine, "the partitioned metrics", &[], |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("did not write"), "{err}");
        assert!(mine.join("thesis.tex").is_file());
        // A parent of the data is refused, and so is the data itself.
        let data = root.join("data");
        std::fs::create_dir_all(&data).unwrap();
        for out in [&root, &data] {
            let err = replace_dir(out, "the warehouse", &[&data], |_| Ok(())).unwrap_err();
            assert!(err.to_string().contains("holds the input"), "{err}");
        }
        // `.` and `-` are refused.
        let err = replace_dir(Path::new("."), "the facts", &[], |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("working directory"), "{err}");
        let err = replace_dir(Path::new("-"), "the facts", &[], |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("standard output"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
