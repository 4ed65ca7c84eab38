//! Checking a binlog as `binlog-tool verify` does: every event's length, its place in the
//! position chain and its CRC32, compressed transaction payloads, the order of a list
//! of files as an index file gives them, and whether one file continues another
//! ([`Ends`], [`check_link`]): what its ROTATE names, its sequence number, and its GTID
//! state (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS) against the one before.
//!
//! The walk goes on after a problem it can step over (a bad CRC, a broken position chain,
//! an event that does not decode), so that one report names every problem of a file;
//! only an event that cannot be framed (cut short, garbled length) ends it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::event::fde::Flavor;
use crate::event::header::{EventType, FLAG_ARTIFICIAL};
use crate::event::payload::payload_events;
use crate::event::EventData;
use crate::gtid_set::{GtidSet, GtidValue};
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

/// What a file's two ends say about its place among consecutive files: the GTID state
/// it starts from and the one it leaves, and the file its ROTATE names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ends {
    /// The server family that wrote it.
    pub flavor: Flavor,
    /// The state it starts from: its GTID_LIST (MariaDB) or PREVIOUS_GTIDS (MySQL); `None`
    /// when it has neither.
    pub start: Option<GtidState>,
    /// The state it leaves: the start with its own GTIDs added (`None` without a start).
    pub end: Option<GtidState>,
    /// The file named by a ROTATE at its end.
    pub rotates_to: Option<String>,
    /// The position in that file the ROTATE gives.
    pub rotate_position: Option<u64>,
}

/// A server's GTID state at a file boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidState {
    /// MariaDB: the last sequence number of each (domain, server id).
    MariaDb(BTreeMap<(u32, u32), u64>),
    /// MySQL: every GTID executed, as `(uuid, tag)` and closed ranges.
    MySql(GtidSet),
}

impl GtidState {
    fn add(&mut self, g: &GtidValue) {
        match (self, g) {
            (
                GtidState::MariaDb(m),
                GtidValue::MariaDb {
                    domain,
                    server,
                    seq,
                },
            ) => {
                m.insert((*domain, *server), *seq);
            }
            (GtidState::MySql(s), g @ GtidValue::MySql { .. }) => s.insert(g),
            _ => {}
        }
    }

    fn text(&self) -> String {
        match self {
            GtidState::MariaDb(m) => {
                let v: Vec<String> = m.iter().map(|((d, s), n)| format!("{d}-{s}-{n}")).collect();
                if v.is_empty() {
                    "(empty)".into()
                } else {
                    v.join(",")
                }
            }
            GtidState::MySql(s) if s.is_empty() => "(empty)".into(),
            GtidState::MySql(s) => s.to_string(),
        }
    }
}

/// Reads the [`Ends`] of a file: a walk over its event headers, decoding only the GTID
/// events, its GTID_LIST or PREVIOUS_GTIDS, and ROTATE. It stops at the first event that
/// cannot be read (a damaged tail counts as the end). Unless `whole`, only the start is
/// read (what the last of several files needs): `end` and `rotates_to` are then `None`.
pub fn ends(log: &Binlog, whole: bool) -> Ends {
    let mut e = Ends {
        flavor: log.format().flavor,
        start: None,
        end: None,
        rotates_to: None,
        rotate_position: None,
    };
    let mut state: Option<GtidState> = None;
    let mut events = log.events().verify_checksums(false);
    while let Some(Ok(ev)) = events.next() {
        if ev.is_encrypted() {
            continue;
        }
        let t = ev.event_type();
        let opening = matches!(
            t,
            EventType::FORMAT_DESCRIPTION
                | EventType::PREVIOUS_GTIDS
                | EventType::MARIADB_GTID_LIST
                | EventType::MARIADB_BINLOG_CHECKPOINT
                | EventType::MARIADB_START_ENCRYPTION
        );
        if !whole && !opening {
            break;
        }
        if !(t.tells_gtids() || t == EventType::ROTATE) {
            continue;
        }
        match ev.decode(events.format()) {
            Ok(EventData::GtidList(l)) if state.is_none() => {
                let m = l
                    .list
                    .iter()
                    .map(|g| ((g.domain_id, g.server_id), g.seq_no))
                    .collect();
                e.start = Some(GtidState::MariaDb(m));
                state = e.start.clone();
            }
            Ok(EventData::PreviousGtids(p)) if state.is_none() => {
                let mut set = GtidSet::default();
                for entry in &p.entries {
                    let tag = entry
                        .tag
                        .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
                        .unwrap_or_default();
                    for &(a, b) in &entry.intervals {
                        if b > a {
                            set.insert_mysql_range(entry.sid, &tag, a, b - 1);
                        }
                    }
                }
                e.start = Some(GtidState::MySql(set));
                state = e.start.clone();
            }
            Ok(EventData::Gtid(g)) => {
                if let (Some(s), Some(v)) = (&mut state, g.value()) {
                    s.add(&v);
                }
            }
            Ok(EventData::MariadbGtid(g)) => {
                if let Some(s) = &mut state {
                    s.add(&g.value(ev.header().server_id));
                }
            }
            Ok(EventData::Rotate(r)) => {
                e.rotates_to = Some(String::from_utf8_lossy(r.next_file).into_owned());
                e.rotate_position = r.position;
            }
            _ => {}
        }
    }
    if whole {
        e.end = state;
    }
    e
}

/// Why `next` does not continue `prev` (each given with its file name), or `None` when it
/// does. The rules, each applied where both files carry what it needs:
///
/// - both files come from the same server family;
/// - names of one stem (`mysql-bin.000041`, `mysql-bin.000042`) have consecutive
///   sequence numbers: a lower or equal number is out of order (or the same file), a
///   higher one leaves files out;
/// - `prev`'s ROTATE names `next` and position 4 (a file renamed to another stem, as an
///   archive might, is not held to the name);
/// - MariaDB: `next`'s GTID_LIST is `prev`'s with the last GTID of each domain and server
///   id `prev` holds (a domain `next` lacks altogether may have been deleted with
///   `FLUSH BINARY LOGS DELETE_DOMAIN_ID`); MySQL: `next`'s PREVIOUS_GTIDS is `prev`'s and
///   `prev`'s GTIDs.
pub fn check_link(prev_name: &str, prev: &Ends, next_name: &str, next: &Ends) -> Option<String> {
    if prev.flavor != next.flavor {
        return Some(format!(
            "{prev_name} is from {} and {next_name} from {}: they are not one server's files",
            prev.flavor.name(),
            next.flavor.name()
        ));
    }
    let stem = |n: &str| n.rsplit_once('.').map(|(s, _)| s.to_string());
    let same_stem = stem(prev_name).is_some() && stem(prev_name) == stem(next_name);
    if same_stem {
        let (a, b) = (
            sequence_number(Path::new(prev_name)),
            sequence_number(Path::new(next_name)),
        );
        if let (Some(a), Some(b)) = (a, b) {
            if b <= a {
                return Some(format!(
                    "{next_name} comes after {prev_name}: out of order{}",
                    if a == b {
                        " (the same file twice?)"
                    } else {
                        ""
                    }
                ));
            }
            if b > a + 1 {
                return Some(format!(
                    "{next_name} does not follow {prev_name}: {} file(s) between them are missing",
                    b - a - 1
                ));
            }
        }
    }
    if let Some(named) = &prev.rotates_to {
        if named != next_name && (same_stem || stem(named) == stem(next_name)) {
            return Some(format!(
                "{prev_name} rotates to {named}, but {next_name} comes next"
            ));
        }
        if named == next_name && prev.rotate_position.is_some_and(|p| p != 4) {
            return Some(format!(
                "{prev_name} rotates to {named} at position {}, not at its start",
                prev.rotate_position.unwrap_or_default()
            ));
        }
    }
    let (Some(left), Some(starts)) = (&prev.end, &next.start) else {
        return None;
    };
    let continues = match (left, starts) {
        (GtidState::MariaDb(l), GtidState::MariaDb(s)) => {
            // A domain `next` lacks must be one `prev` wrote nothing in (its state there
            // is the one it started from): only such a domain can have been deleted.
            let began = match &prev.start {
                Some(GtidState::MariaDb(b)) => b.clone(),
                _ => BTreeMap::new(),
            };
            let in_domain = |m: &BTreeMap<(u32, u32), u64>, d: u32| -> Vec<((u32, u32), u64)> {
                m.iter()
                    .filter(|(k, _)| k.0 == d)
                    .map(|(k, n)| (*k, *n))
                    .collect()
            };
            let domains: std::collections::BTreeSet<u32> = s.keys().map(|k| k.0).collect();
            l.iter().all(|(k, n)| {
                if domains.contains(&k.0) {
                    s.get(k) == Some(n)
                } else {
                    in_domain(l, k.0) == in_domain(&began, k.0)
                }
            }) && s.iter().all(|(k, n)| l.get(k) == Some(n))
        }
        (GtidState::MySql(l), GtidState::MySql(s)) => l.mysql_ranges() == s.mysql_ranges(),
        _ => false,
    };
    (!continues).then(|| {
        format!(
            "{next_name} does not continue {prev_name}: it starts from GTID state {}, but {prev_name} ends at {} \
             (a file missing between them, out of order, or the same file twice)",
            starts.text(),
            left.text()
        )
    })
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
    fn consecutive_files_and_broken_chains() {
        let one = crate::test_support::fixture("row_full/mariadb-bin.000001");
        let two = crate::test_support::fixture("row_full/mariadb-bin.000002");
        let e1 = ends(&Binlog::parse(&one).unwrap(), true);
        let e2 = ends(&Binlog::parse(&two).unwrap(), true);
        let (n1, n2) = ("mariadb-bin.000001", "mariadb-bin.000002");
        assert_eq!(check_link(n1, &e1, n2, &e2), None);
        // Only its start is needed of a last file.
        let s2 = ends(&Binlog::parse(&two).unwrap(), false);
        assert_eq!(
            (s2.start.as_ref(), s2.end.as_ref()),
            (e2.start.as_ref(), None)
        );
        assert_eq!(check_link(n1, &e1, n2, &s2), None);
        let why = check_link(n2, &e2, n1, &e1).unwrap();
        assert!(why.contains("out of order"), "{why}");
        let why = check_link(n1, &e1, n1, &e1).unwrap();
        assert!(why.contains("the same file twice"), "{why}");
        let why = check_link(n1, &e1, "mariadb-bin.000003", &e2).unwrap();
        assert!(why.contains("1 file(s) between them are missing"), "{why}");
        let why = check_link("x.000001", &e1, "mariadb-bin.000005", &e2).unwrap();
        assert!(
            why.contains(
                "x.000001 rotates to mariadb-bin.000002, but mariadb-bin.000005 comes next"
            ),
            "{why}"
        );
        // Renamed copies are held to their GTID states.
        assert_eq!(check_link("a.bin", &e1, "b.bin", &e2), None);
        let why = check_link("b.bin", &e2, "a.bin", &e1).unwrap();
        assert!(
            why.contains("does not continue") && why.contains("0-1-106"),
            "{why}"
        );
        let why = check_link("a.bin", &e1, "a2.bin", &e1).unwrap();
        assert!(why.contains("does not continue"), "{why}");
        let mut gap = e2.clone();
        if let Some(GtidState::MariaDb(m)) = &mut gap.start {
            *m.get_mut(&(0, 1)).unwrap() -= 1;
        }
        assert!(check_link("a.bin", &e1, "b.bin", &gap).is_some());
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
