//! `binlog-tool verify`: check every event of binlog files, and an index file's list.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use binlog::event::payload::payload_events;
use binlog::{Binlog, EventData, EventType};

use super::index_file::{read_index, sequence_number};
use super::output::{line, open, stdout, CliResult};

/// Walk every event and check its length, its place in the position chain and its CRC32;
/// report each problem with file and byte offset. Exit status 0 only when everything is
/// clean, 1 when problems were found.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Binlog files (default with --index: the files the index lists).
    #[arg(required_unless_present = "index")]
    pub files: Vec<PathBuf>,
    /// Also check a binlog index file: every file it names exists, in increasing order,
    /// and each file's ROTATE names the next one.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Print only problems, not a line per clean file.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset it concerns.
    pub offset: u64,
    /// What is wrong.
    pub what: String,
}

/// What checking one file found.
#[derive(Debug, Default)]
pub struct Report {
    /// Events walked.
    pub events: u64,
    /// Problems, in file order.
    pub problems: Vec<Problem>,
    /// The file named by a final ROTATE.
    pub rotates_to: Option<String>,
}

/// Checks one binlog held in `bytes`.
pub fn check(bytes: &[u8]) -> Report {
    let mut r = Report::default();
    let log = match Binlog::parse(bytes) {
        Ok(l) => l,
        Err(e) => {
            r.problems.push(Problem {
                offset: e.offset(),
                what: e.kind().to_string(),
            });
            return r;
        }
    };
    let mut events = log.events().verify_checksums(false);
    let mut fdes = 0;
    let mut last_end = 4;
    let mut relative_base: Option<u64> = None;
    let chain_checked = log.format().binlog_version >= 4;
    while let Some(ev) = events.next() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                r.problems.push(Problem {
                    offset: e.offset(),
                    what: format!("{}; the last complete event ends at {last_end}", e.kind()),
                });
                break;
            }
        };
        r.events += 1;
        last_end = ev.end_offset();
        if ev.is_encrypted() {
            continue;
        }
        let t = ev.event_type();
        if t == EventType::FORMAT_DESCRIPTION {
            fdes += 1;
        }
        if let Err(e) = ev.verify_checksum() {
            r.problems.push(Problem {
                offset: ev.offset(),
                what: e.kind().to_string(),
            });
        }
        // In a server's own binlog, log_pos is where the next event starts. A relay log
        // (a second FDE: the source's) keeps the source's positions, and artificial events
        // and old formats have none; those are not checked. MySQL 5.0/5.1 wrote some
        // events of a transaction cache with positions counted from the start of the cache:
        // a run whose first log_pos is its own length is accepted as such.
        let log_pos = u64::from(ev.header().log_pos);
        let artificial = ev.header().flags & binlog::event::header::FLAG_ARTIFICIAL != 0;
        let len = ev.end_offset() - ev.offset();
        let relative_ok = match relative_base {
            Some(b) if log_pos == (ev.end_offset() - b) & 0xffff_ffff => true,
            _ if log_pos == len => {
                relative_base = Some(ev.offset());
                true
            }
            _ => false,
        };
        // Past 4 GiB, log_pos (32 bits) wraps.
        let end32 = ev.end_offset() & 0xffff_ffff;
        if log_pos == end32 {
            relative_base = None;
        }
        if chain_checked
            && fdes <= 1
            && log_pos != 0
            && !artificial
            && log_pos != end32
            && !relative_ok
        {
            r.problems.push(Problem {
                offset: ev.offset(),
                what: format!(
                    "position chain broken: {} event says the next event is at {log_pos}, it ends at {}",
                    t.show_name(),
                    ev.end_offset()
                ),
            });
        }
        let format = events.shared_format();
        match ev.decode(&format) {
            Ok(EventData::TransactionPayload(p)) => match p.decompress() {
                Ok(inner) => {
                    for iev in payload_events(&inner, &format) {
                        let checked = iev.and_then(|iev| iev.decode(&format).map(|_| ()));
                        if let Err(e) = checked {
                            r.problems.push(Problem {
                                offset: ev.offset(),
                                what: e.in_payload(ev.offset()).kind().to_string(),
                            });
                            break;
                        }
                    }
                }
                Err(e) => r.problems.push(Problem {
                    offset: ev.offset(),
                    what: e.kind().to_string(),
                }),
            },
            Ok(EventData::Rotate(rot)) => {
                r.rotates_to = Some(String::from_utf8_lossy(rot.next_file).into_owned());
            }
            Ok(_) => {}
            Err(e) => r.problems.push(Problem {
                offset: e.offset(),
                what: format!(
                    "malformed {} event at {}: {}",
                    t.show_name(),
                    ev.offset(),
                    e.kind()
                ),
            }),
        }
    }
    r
}

fn report(w: &mut dyn Write, path: &Path, r: &Report, quiet: bool) -> std::io::Result<()> {
    for p in &r.problems {
        line(
            w,
            &format!("{}: offset {}: {}", path.display(), p.offset, p.what),
        )?;
    }
    if r.problems.is_empty() && !quiet {
        line(w, &format!("{}: OK, {} events", path.display(), r.events))?;
    }
    Ok(())
}

/// Runs `verify`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let mut w = stdout();
    let mut bad = false;
    let mut files = args.files.clone();
    let mut index_order: Vec<PathBuf> = Vec::new();
    if let Some(index) = &args.index {
        let entries = read_index(index)?;
        let mut last_seq: Option<(u64, String)> = None;
        for e in &entries {
            if !e.path.is_file() {
                bad = true;
                line(
                    &mut w,
                    &format!(
                        "{}: line {}: names {}, which does not exist",
                        index.display(),
                        e.line,
                        e.written
                    ),
                )?;
            }
            if let Some(seq) = sequence_number(&e.path) {
                if let Some((prev, prev_name)) = &last_seq {
                    if seq <= *prev {
                        bad = true;
                        line(
                            &mut w,
                            &format!(
                                "{}: line {}: {} is out of order (comes after {prev_name})",
                                index.display(),
                                e.line,
                                e.written
                            ),
                        )?;
                    }
                }
                last_seq = Some((seq, e.written.clone()));
            }
        }
        index_order = entries.iter().map(|e| e.path.clone()).collect();
        if files.is_empty() {
            files = entries
                .into_iter()
                .filter(|e| e.path.is_file())
                .map(|e| e.path)
                .collect();
        }
    }
    let mut rotates: Vec<(PathBuf, Option<String>)> = Vec::new();
    for path in &files {
        let file = open(path)?;
        let r = check(file.bytes());
        bad |= !r.problems.is_empty();
        report(&mut w, path, &r, args.quiet)?;
        rotates.push((path.clone(), r.rotates_to));
    }
    // Each file's ROTATE should name the file the index lists after it.
    if let Some(index) = &args.index {
        for pair in index_order.windows(2) {
            let named = rotates
                .iter()
                .find(|(p, _)| *p == pair[0])
                .and_then(|(_, n)| n.clone());
            let next = pair[1]
                .file_name()
                .map(|s| s.to_string_lossy().into_owned());
            if let (Some(named), Some(next)) = (named, next) {
                if named != next {
                    bad = true;
                    line(
                        &mut w,
                        &format!(
                            "{}: {} rotates to {named}, but the index lists {next} next",
                            index.display(),
                            pair[0].display()
                        ),
                    )?;
                }
            }
        }
    }
    w.flush()?;
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
