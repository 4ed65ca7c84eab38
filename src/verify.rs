//! Checking a binlog as `binlog-tool verify` does: every event's length, its place in the
//! position chain and its CRC32, compressed transaction payloads, and the order of a list
//! of files as an index file gives them.
//!
//! The walk goes on after a problem it can step over (a bad CRC, a broken position chain,
//! an event that does not decode), so that one report names every problem of a file;
//! only an event that cannot be framed (cut short, garbled length) ends it.

use std::path::Path;

use crate::event::header::{EventType, FLAG_ARTIFICIAL};
use crate::event::payload::payload_events;
use crate::event::EventData;
use crate::reader::Binlog;

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
    let mut chain = PositionChain::new(log.format().binlog_version >= 4);
    let mut last_end = 4;
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
        if let Err(e) = ev.verify_checksum() {
            r.problems.push(Problem {
                offset: ev.offset(),
                what: e.kind().to_string(),
            });
        }
        if let Some(log_pos) = chain.broken_at(&ev) {
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

/// The rule of `log_pos`: in a server's own binlog, it is where the next event starts.
///
/// A relay log (a second FDE: the source's) keeps the source's positions, and artificial
/// events and old formats have none; those are not checked. MySQL 5.0/5.1 wrote some
/// events of a transaction cache with positions counted from the start of the cache: a run
/// whose first log_pos is its own length is accepted as such. Past 4 GiB, log_pos (32
/// bits) wraps.
struct PositionChain {
    checked: bool,
    fdes: u32,
    relative_base: Option<u64>,
}

impl PositionChain {
    fn new(checked: bool) -> PositionChain {
        PositionChain {
            checked,
            fdes: 0,
            relative_base: None,
        }
    }

    /// The `log_pos` of `ev` when it breaks the chain.
    fn broken_at(&mut self, ev: &crate::Event) -> Option<u64> {
        if ev.event_type() == EventType::FORMAT_DESCRIPTION {
            self.fdes += 1;
        }
        let log_pos = u64::from(ev.header().log_pos);
        let artificial = ev.header().flags & FLAG_ARTIFICIAL != 0;
        let len = ev.end_offset() - ev.offset();
        let relative_ok = match self.relative_base {
            Some(b) if log_pos == (ev.end_offset() - b) & 0xffff_ffff => true,
            _ if log_pos == len => {
                self.relative_base = Some(ev.offset());
                true
            }
            _ => false,
        };
        let end32 = ev.end_offset() & 0xffff_ffff;
        if log_pos == end32 {
            self.relative_base = None;
        }
        let broken = self.checked
            && self.fdes <= 1
            && log_pos != 0
            && !artificial
            && log_pos != end32
            && !relative_ok;
        broken.then_some(log_pos)
    }
}

/// A binlog file as an index file lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed<'a> {
    /// Line number in the index (1-based).
    pub line: usize,
    /// The path as written.
    pub written: &'a str,
    /// Whether the file exists.
    pub exists: bool,
}

/// What is wrong with an entry of an index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListProblem<'a> {
    /// The file does not exist.
    Missing(Listed<'a>),
    /// Its sequence number is not above the one of the entry before it (`after`, as
    /// written).
    OutOfOrder(Listed<'a>, &'a str),
}

/// Checks the list of an index file: every file exists, and sequence numbers increase.
/// Problems come in the list's order.
pub fn check_list<'a>(entries: &[Listed<'a>]) -> Vec<ListProblem<'a>> {
    let mut problems = Vec::new();
    let mut last_seq: Option<(u64, &str)> = None;
    for e in entries {
        if !e.exists {
            problems.push(ListProblem::Missing(*e));
        }
        if let Some(seq) = sequence_number(Path::new(e.written)) {
            if let Some((prev, prev_name)) = last_seq {
                if seq <= prev {
                    problems.push(ListProblem::OutOfOrder(*e, prev_name));
                }
            }
            last_seq = Some((seq, e.written));
        }
    }
    problems
}

/// The numeric extension of a binlog file name (`mysql-bin.000042` → 42).
pub fn sequence_number(path: &Path) -> Option<u64> {
    path.extension()?.to_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_order_and_missing_files() {
        let l = |line, written, exists| Listed {
            line,
            written,
            exists,
        };
        let list = [
            l(1, "./b.000002", true),
            l(2, "./b.000003", false),
            l(3, "./b.000001", true),
            l(4, "notes.txt", true),
        ];
        assert_eq!(
            check_list(&list),
            [
                ListProblem::Missing(list[1]),
                ListProblem::OutOfOrder(list[2], "./b.000003"),
            ]
        );
        assert_eq!(sequence_number(Path::new("/x/mysql-bin.000042")), Some(42));
        assert_eq!(sequence_number(Path::new("mysql-bin")), None);
    }

    #[test]
    fn a_clean_file_and_a_cut_one() {
        let bytes = crate::test_support::fixture("row_full/mariadb-bin.000001");
        let r = check(&bytes);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.rotates_to.as_deref(), Some("mariadb-bin.000002"));
        let cut = check(&bytes[..bytes.len() - 10]);
        assert_eq!(cut.problems.len(), 1);
        assert!(cut.problems[0]
            .what
            .contains("the last complete event ends at"));
    }
}
