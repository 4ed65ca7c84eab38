//! One walk over one file that gathers everything the report shows about it: what
//! `info` shows (server, flavor, checksums, GTIDs, how it ends), each event's CRC32, an
//! event-type histogram, per-transaction statistics as `bigtxn` computes them, per-table
//! totals, DDL, gaps and the fine timeline.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::Error;
use crate::event::fde::{CHECKSUM_CRC32, CHECKSUM_OFF};
use crate::event::header::{EventType, FLAG_BINLOG_IN_USE};
use crate::event::{Event, EventData};
use crate::gtid_set::GtidSet;
use crate::reader::Binlog;
use crate::row::table_cache::TableName;
use crate::summary::{Checksum, Ending};
use crate::txn::{Group, Transactions};
pub use crate::txn_stats::TypeCount;
use crate::txn_stats::{is_ddl, Measure, Scanner, TopN, TxnStats};
use crate::Flavor;

use super::timeline::{Amount, FineTimeline};
use super::Options;

/// Longest DDL text kept, in bytes (cut at a character boundary).
pub const DDL_TEXT_MAX: usize = 300;

/// Series 0 of a file's timeline: bytes of transactions that changed no counted rows
/// (DDL, statements logged as text). Tables are 1 and up.
pub const NO_ROWS_SERIES: u32 = 0;

/// Totals for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableTotals {
    /// Rows inserted.
    pub inserted: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows deleted.
    pub deleted: u64,
    /// Bytes of its rows events (uncompressed inside a MySQL TRANSACTION_PAYLOAD).
    pub rows_event_bytes: u64,
    /// Its share of the bytes of the transactions that changed it: each transaction's
    /// bytes split among its tables in proportion to their rows events' bytes.
    pub bytes: u64,
    /// Transactions that changed it.
    pub transactions: u64,
}

impl TableTotals {
    /// All rows changed.
    pub fn rows(&self) -> u64 {
        self.inserted + self.updated + self.deleted
    }

    /// Adds another's counts.
    pub fn merge(&mut self, o: &TableTotals) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.rows_event_bytes += o.rows_event_bytes;
        self.bytes += o.bytes;
        self.transactions += o.transactions;
    }
}

/// A DDL statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ddl {
    /// Its QUERY event's header time.
    pub timestamp: u32,
    /// Its transaction's start and end offsets.
    pub start: u64,
    /// Offset just past its transaction.
    pub end: u64,
    /// Its text (the first [`DDL_TEXT_MAX`] bytes, lossily UTF-8).
    pub text: String,
    /// The default database it ran in.
    pub database: String,
}

/// A stretch with no events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The time of the last event before it.
    pub from: u32,
    /// The time of the first event after it.
    pub to: u32,
    /// Offset of that event (in the file the gap ends in).
    pub position: u64,
}

/// What one file is and holds: `info`'s facts and the walk's totals.
#[derive(Debug, Clone)]
pub struct FileFacts {
    /// Bytes.
    pub size: u64,
    /// Whether it starts with a FORMAT_DESCRIPTION (or START_V3): without one the
    /// version, flavor and checksum fields are a guess.
    pub has_format_event: bool,
    /// Server version of its FORMAT_DESCRIPTION.
    pub server_version: String,
    /// MySQL or MariaDB.
    pub flavor: Flavor,
    /// Binlog format version.
    pub binlog_version: u16,
    /// Checksums of its events.
    pub checksum: Checksum,
    /// Complete events (top level).
    pub events: u64,
    /// Header time of its first and last readable events.
    pub first_timestamp: Option<u32>,
    /// See `first_timestamp`.
    pub last_timestamp: Option<u32>,
    /// The earliest and latest header times of its events (statements may carry any
    /// time: `SET timestamp`); with a selection, of the selected transactions' events.
    pub time_range: Option<(u32, u32)>,
    /// Offset just past the last complete event.
    pub end_position: u64,
    /// GTIDs of its transactions.
    pub gtids: GtidSet,
    /// Text of its PREVIOUS_GTIDS (MySQL).
    pub previous_gtids: Option<String>,
    /// Text of its GTID_LIST (MariaDB).
    pub gtid_list: Option<String>,
    /// Whether its FDE has the in-use flag.
    pub in_use: bool,
    /// Offset from which it is encrypted.
    pub encrypted_from: Option<u64>,
    /// How it ends.
    pub ending: Ending,
    /// Events whose CRC32 does not match.
    pub crc_errors: u64,
    /// The first of them.
    pub first_crc_error: Option<Error>,
    /// Transactions (complete or not).
    pub transactions: u64,
    /// Transactions cut short by the end of the file.
    pub incomplete_transactions: u64,
    /// Bytes of all its transactions.
    pub transaction_bytes: u64,
    /// Rows changed (counted).
    pub rows: u64,
    /// Rows events whose rows could not be counted.
    pub uncounted_rows_events: u64,
    /// Why the first of them could not be.
    pub row_error: Option<Error>,
    /// Events per type code (top level; a TRANSACTION_PAYLOAD counts as one): with a
    /// selection, those of the selected transactions and the control events.
    pub event_types: BTreeMap<u8, TypeCount>,
    /// Bytes of transactions that changed no counted rows.
    pub no_rows_bytes: u64,
    /// Events inside TRANSACTION_PAYLOAD events.
    pub payload_events: u64,
    /// Those events per type code (bytes decompressed).
    pub payload_event_types: BTreeMap<u8, TypeCount>,
}

/// What one file holds, gathered in one walk.
#[derive(Debug, Clone)]
pub struct FileScan {
    /// What the file is, and its totals.
    pub facts: FileFacts,
    /// Per-table totals, series `i + 1` of the timeline being `tables[i]`.
    pub tables: Vec<(Arc<TableName>, TableTotals)>,
    /// DDL statements, in file order.
    pub ddl: Vec<Ddl>,
    /// Stretches of at least [`Options::gap_seconds`] without events, inside the file.
    pub gaps: Vec<Gap>,
    /// The biggest transactions by bytes (the file index given to [`scan_file`]).
    pub top: TopN,
    /// Bytes and rows per interval.
    pub timeline: FineTimeline,
}

/// Walks `log` once and gathers its [`FileScan`]. `index` is the file's number among
/// those of the report (it identifies the file in [`FileScan::top`]; the first is 0),
/// `last` whether it is the last: [`Options::selection`]'s start position applies to the
/// first file, its stop position to the last. Nothing here fails: a damaged or cut-off
/// event ends the walk and is described in [`FileScan::ending`].
pub fn scan_file(log: &Binlog, index: usize, last: bool, opts: &Options) -> FileScan {
    let format = log.format();
    let facts = FileFacts {
        size: log.data().len() as u64,
        has_format_event: log.has_format_event(),
        server_version: format.server_version.clone(),
        flavor: format.flavor,
        binlog_version: format.binlog_version,
        checksum: match format.checksum_alg {
            None => Checksum::Absent,
            Some(CHECKSUM_CRC32) => Checksum::Crc32,
            Some(CHECKSUM_OFF) => Checksum::Off,
            Some(other) => Checksum::Unknown(other),
        },
        events: 0,
        first_timestamp: None,
        last_timestamp: None,
        time_range: None,
        end_position: 4,
        gtids: GtidSet::default(),
        previous_gtids: None,
        gtid_list: None,
        in_use: false,
        encrypted_from: log.encrypted_from(),
        ending: Ending::Open,
        crc_errors: 0,
        first_crc_error: None,
        transactions: 0,
        incomplete_transactions: 0,
        transaction_bytes: 0,
        rows: 0,
        uncounted_rows_events: 0,
        row_error: None,
        event_types: BTreeMap::new(),
        payload_events: 0,
        payload_event_types: BTreeMap::new(),
        no_rows_bytes: 0,
    };
    let mut f = FileScan {
        facts,
        tables: Vec::new(),
        ddl: Vec::new(),
        gaps: Vec::new(),
        top: TopN::new(Measure::Bytes, opts.top),
        timeline: FineTimeline::default(),
    };
    let mut walk = Walk {
        f: &mut f,
        selective: opts.selection.is_some(),
        gap_seconds: opts.gap_seconds,
        latest: None,
        last_type: None,
        next_file: String::new(),
        table_index: HashMap::new(),
    };
    let mut scanner = Scanner::new();
    let mut stats = TxnStats::default();
    let mut groups = Transactions::new(log.events().verify_checksums(false));
    // A transaction's events (type, bytes, time, offset), counted once it is selected.
    let mut pending: Vec<Counted> = Vec::new();
    loop {
        scanner.start(&mut stats);
        let mut ddl = Vec::new();
        pending.clear();
        let group = groups.next_with(&mut |ev, format| {
            walk.file_event(ev);
            pending.push(Counted::of(ev));
            scanner.add(ev, format, &mut stats);
            if matches!(
                ev.event_type(),
                EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED
            ) {
                if let Ok(EventData::Query(q)) = ev.decode(format) {
                    let text = q.text().unwrap_or_default();
                    if is_ddl(&text) {
                        ddl.push(Ddl {
                            timestamp: ev.header().timestamp,
                            start: 0,
                            end: 0,
                            text: cut_text(&text, DDL_TEXT_MAX),
                            database: String::from_utf8_lossy(q.db).into_owned(),
                        });
                    }
                }
            }
        });
        let Some(group) = group else { break };
        match group {
            Ok(Group::Transaction(txn)) => {
                let selected = opts
                    .selection
                    .as_ref()
                    .is_none_or(|s| s.selects_transaction(&txn, index == 0, last));
                if !selected {
                    continue;
                }
                for c in &pending {
                    walk.counted(c, true);
                }
                scanner.finish(&txn, &mut stats);
                for mut d in ddl {
                    d.start = stats.start;
                    d.end = stats.end;
                    walk.f.ddl.push(d);
                }
                walk.transaction(&stats, index);
            }
            Ok(Group::Control(ev)) => {
                walk.file_event(&ev);
                // Outside transactions: counted by type, but timed only when the whole
                // file is reported.
                let timed = !walk.selective;
                walk.counted(&Counted::of(&ev), timed);
                walk.control(&ev, log.format());
            }
            Err(e) => {
                // The events read before the damage: counted as the file holds them.
                let timed = !walk.selective;
                for c in &pending {
                    walk.counted(c, timed);
                }
                walk.f.facts.ending = Ending::Truncated(e);
                break;
            }
        }
    }
    if !matches!(walk.f.facts.ending, Ending::Truncated(_)) {
        walk.f.facts.ending = match walk.last_type {
            Some(EventType::ROTATE) => Ending::Rotate(std::mem::take(&mut walk.next_file)),
            Some(EventType::STOP) => Ending::Stop,
            _ => Ending::Open,
        };
    }
    f
}

/// The first `max` bytes of `text` as UTF-8 (lossily), cut at a character boundary,
/// with `…` when cut.
fn cut_text(text: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(text);
    if s.len() <= max {
        return s.into_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// What the report counts of an event that belongs to a transaction.
struct Counted {
    code: u8,
    bytes: u64,
    /// Its header time; none when it is encrypted.
    timestamp: Option<u32>,
    offset: u64,
}

impl Counted {
    fn of(ev: &Event) -> Counted {
        Counted {
            code: ev.event_type().code(),
            bytes: ev.raw().len() as u64,
            timestamp: (!ev.is_encrypted()).then(|| ev.header().timestamp),
            offset: ev.offset(),
        }
    }
}

/// The walk's state beside the file's totals.
struct Walk<'f> {
    f: &'f mut FileScan,
    /// Whether only some transactions are reported.
    selective: bool,
    gap_seconds: u32,
    /// The latest event time seen so far.
    latest: Option<u32>,
    last_type: Option<EventType>,
    next_file: String,
    table_index: HashMap<Arc<TableName>, u32>,
}

impl Walk<'_> {
    /// Every top-level event, in file order: the file's facts.
    fn file_event(&mut self, ev: &Event) {
        let f = &mut *self.f;
        f.facts.events += 1;
        f.facts.end_position = ev.end_offset();
        self.last_type = Some(ev.event_type());
        if ev.is_encrypted() {
            return;
        }
        if let Err(e) = ev.verify_checksum() {
            f.facts.crc_errors += 1;
            f.facts.first_crc_error.get_or_insert(e);
        }
        let ts = ev.header().timestamp;
        f.facts.first_timestamp.get_or_insert(ts);
        f.facts.last_timestamp = Some(ts);
    }

    /// An event the report counts by type, in file order; `timed`: its time also
    /// counts (the time range, gaps).
    fn counted(&mut self, c: &Counted, timed: bool) {
        let f = &mut *self.f;
        let t = f.facts.event_types.entry(c.code).or_default();
        t.count += 1;
        t.bytes += c.bytes;
        let Some(ts) = c.timestamp.filter(|_| timed) else {
            return;
        };
        f.facts.time_range = Some(
            f.facts
                .time_range
                .map_or((ts, ts), |(a, b)| (a.min(ts), b.max(ts))),
        );
        match self.latest {
            Some(l) if ts > l => {
                if self.gap_seconds > 0 && ts - l >= self.gap_seconds {
                    f.gaps.push(Gap {
                        from: l,
                        to: ts,
                        position: c.offset,
                    });
                }
                self.latest = Some(ts);
            }
            Some(_) => {}
            None => self.latest = Some(ts),
        }
    }

    /// A control event (outside transactions).
    fn control(&mut self, ev: &Event, format: &crate::Format) {
        if ev.is_encrypted() {
            return;
        }
        let f = &mut *self.f;
        match ev.decode(format) {
            Ok(EventData::FormatDescription(_)) if f.facts.events == 1 => {
                f.facts.in_use = ev.header().flags & FLAG_BINLOG_IN_USE != 0;
            }
            Ok(EventData::PreviousGtids(p)) => f.facts.previous_gtids = Some(p.to_text()),
            Ok(EventData::GtidList(l)) => f.facts.gtid_list = Some(l.to_text()),
            Ok(EventData::Rotate(r)) => {
                self.next_file = String::from_utf8_lossy(r.next_file).into_owned()
            }
            _ => {}
        }
    }

    fn series(&mut self, name: &Arc<TableName>) -> u32 {
        if let Some(&i) = self.table_index.get(name) {
            return i;
        }
        self.f
            .tables
            .push((Arc::clone(name), TableTotals::default()));
        let i = self.f.tables.len() as u32;
        self.table_index.insert(Arc::clone(name), i);
        i
    }

    /// A transaction, its statistics complete.
    fn transaction(&mut self, s: &TxnStats, index: usize) {
        let bytes = s.bytes();
        let time = s.last_timestamp;
        let f = &mut *self.f;
        f.facts.transactions += 1;
        if !s.is_complete() {
            f.facts.incomplete_transactions += 1;
        }
        f.facts.transaction_bytes += bytes;
        f.facts.rows += s.rows;
        if s.uncounted_rows_events > 0 {
            f.facts.uncounted_rows_events += s.uncounted_rows_events;
            if f.facts.row_error.is_none() {
                f.facts.row_error.clone_from(&s.row_error);
            }
        }
        f.facts.payload_events += s.payload_events;
        TypeCount::merge(&mut f.facts.payload_event_types, &s.payload_types);
        if let Some(g) = &s.gtid {
            f.facts.gtids.insert(g);
        }
        f.top.offer(index, s);
        f.timeline.transaction(time);
        let table_bytes: u64 = s.tables.iter().map(|t| t.bytes).sum();
        if table_bytes == 0 {
            self.f.facts.no_rows_bytes += bytes;
            let rows: u64 = s.tables.iter().map(|t| t.rows()).sum();
            self.f
                .timeline
                .add(time, NO_ROWS_SERIES, Amount { bytes, rows });
            // Tables whose rows events had no bytes cannot happen (an event has a
            // header); count their rows anyway.
            for t in &s.tables {
                let i = self.series(&t.name);
                add_table(&mut self.f.tables[i as usize - 1].1, t, 0);
            }
            return;
        }
        // Split the transaction's bytes in proportion; the rounding remainder goes to
        // the first table, so the shares add up to the transaction's bytes.
        let shares: Vec<u64> = s
            .tables
            .iter()
            .map(|t| (u128::from(bytes) * u128::from(t.bytes) / u128::from(table_bytes)) as u64)
            .collect();
        let rest = bytes - shares.iter().sum::<u64>();
        for (k, t) in s.tables.iter().enumerate() {
            let share = shares[k] + if k == 0 { rest } else { 0 };
            let i = self.series(&t.name);
            add_table(&mut self.f.tables[i as usize - 1].1, t, share);
            self.f.timeline.add(
                time,
                i,
                Amount {
                    bytes: share,
                    rows: t.rows(),
                },
            );
        }
    }
}

fn add_table(into: &mut TableTotals, t: &crate::txn_stats::TableRows, share: u64) {
    into.inserted += t.inserted;
    into.updated += t.updated;
    into.deleted += t.deleted;
    into.rows_event_bytes += t.bytes;
    into.bytes += share;
    into.transactions += 1;
}
