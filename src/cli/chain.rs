//! The input files of a selection: one server's files in order (checked by the library's
//! rules, as `verify --index` checks an index), each file once; and what a walk over a
//! file met besides transactions (a damaged tail, a stop position inside a
//! transaction), told on stderr.

use std::path::{Path, PathBuf};

use binlog::filter::{Filter, Outcome};
use binlog::verify::{check_link, ends, Ends};
use binlog::{Binlog, BinlogFile};

use super::output::{fail, fail_at, file_name, CliResult};

/// How several input files must relate.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ChainArgs {
    /// Read the input files even when they do not follow each other (out of order, a file
    /// missing between two, GTID states that do not continue, another server's file).
    /// Without it that is refused, naming the two files and why. The same file twice is
    /// refused all the same.
    #[arg(long)]
    pub allow_gaps: bool,
}

/// The opened files parsed as binlogs.
pub fn parse_all<'f>(files: &'f [BinlogFile], paths: &[PathBuf]) -> CliResult<Vec<Binlog<'f>>> {
    files
        .iter()
        .zip(paths)
        .map(|(f, p)| f.binlog().map_err(|e| fail_at(p, &e)))
        .collect()
}

impl ChainArgs {
    /// [`ChainArgs::check`], and the start position against the first file (a position
    /// inside a transaction is refused before anything is written).
    pub fn check_selection(
        &self,
        paths: &[PathBuf],
        logs: &[Binlog],
        filter: &Filter,
    ) -> CliResult<()> {
        self.check(paths, logs)?;
        match logs.first() {
            Some(first) => filter
                .check_start_position(first)
                .map_err(|e| fail_at(&paths[0], &e)),
            None => Ok(()),
        }
    }

    /// Refuses the same file twice, and (unless --allow-gaps) files that do not continue
    /// each other. `logs` are the parsed `paths`.
    pub fn check(&self, paths: &[PathBuf], logs: &[Binlog]) -> CliResult<()> {
        refuse_same_file_twice(paths)?;
        if self.allow_gaps || logs.len() < 2 {
            return Ok(());
        }
        let mut prev: Option<Ends> = None;
        for (i, log) in logs.iter().enumerate() {
            // The last file's start is all its link needs.
            let e = ends(log, i + 1 < logs.len());
            if let Some(p) = &prev {
                let (a, b) = (&paths[i - 1], &paths[i]);
                if let Some(why) = check_link(&file_name(a), p, &file_name(b), &e) {
                    return Err(fail(
                        b,
                        format_args!(
                            "does not follow {}: {why}; pass --allow-gaps to read them all the same",
                            a.display()
                        ),
                    ));
                }
            }
            prev = Some(e);
        }
        Ok(())
    }
}

/// Refuses a list that names one file twice (the same path, or the same file through a
/// link).
pub fn refuse_same_file_twice(paths: &[PathBuf]) -> CliResult<()> {
    let mut seen: Vec<((u64, u64), &Path)> = Vec::new();
    for p in paths {
        let Some(id) = identity(p) else { continue };
        if let Some((_, first)) = seen.iter().find(|(i, _)| *i == id) {
            return Err(fail(
                p,
                format_args!(
                    "is the same file as {}: each input file must be given once",
                    first.display()
                ),
            ));
        }
        seen.push((id, p));
    }
    Ok(())
}

/// The device and inode of a file.
fn identity(p: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(p)
            .ok()
            .map(|c| (0, c.to_string_lossy().len() as u64))
    }
}

/// Tells on stderr what a walk over `path` met besides transactions. Returns whether a
/// damaged tail lies inside what was asked for (no stop bound before it): the command
/// then exits with status 1, its output written all the same.
pub fn tell_outcome(path: &Path, o: &Outcome) -> bool {
    if let Some(t) = &o.truncated {
        let what = if o.damaged() {
            "the file is damaged (exit status 1)"
        } else {
            "the selection stops before the damage"
        };
        crate::say!("binlog-tool: note: {}: {t}; {what}", path.display());
    }
    if let Some((start, end)) = o.stop_inside {
        crate::say!(
            "binlog-tool: note: {}: --stop-position falls inside the transaction at {start}..{end}: \
             it is left out (a transaction is never cut, and mysqlbinlog rolls a cut one back); \
             use {end} to include it",
            path.display()
        );
    }
    for start in &o.abandoned {
        crate::say!(
            "binlog-tool: note: {}: the transaction at {start} is cut off by the next one (no COMMIT or XID): left out",
            path.display()
        );
    }
    o.damaged()
}
