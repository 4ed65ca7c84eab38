//! Per-transaction statistics: where a transaction lies, how many bytes and events it
//! takes, how many rows it changes in which tables, its GTID, times and compression; and a
//! top-N collector to rank transactions by one measure.
//!
//! Rows are counted by walking each row image's length prefixes ([`crate::row::Rows`]),
//! never by decoding values, and the columns of a table are parsed once per distinct
//! TABLE_MAP ([`TableCache`]). CRC32s are not checked: this is a survey, `verify` is the
//! tool for checksums.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use crate::error::Error;
use crate::event::header::{EventType, CHECKSUM_LEN};
use crate::event::payload::payload_events;
use crate::event::rows::RowsKind;
use crate::event::{Event, EventData};
use crate::gtid_set::GtidValue;
use crate::reader::Binlog;
use crate::row::count::CountScratch;
use crate::row::table_cache::{TableCache, TableName};
use crate::row::{Rows, TableInfo};
use crate::txn::{CommitInfo, Group, Transaction, Transactions, TxnEnd, TxnKind};
use crate::Format;

/// Rows one transaction changed in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    /// The table.
    pub name: Arc<TableName>,
    /// Rows inserted (WRITE_ROWS).
    pub inserted: u64,
    /// Rows updated (UPDATE_ROWS, PARTIAL_UPDATE_ROWS): one per before/after pair.
    pub updated: u64,
    /// Rows deleted (DELETE_ROWS).
    pub deleted: u64,
    /// Bytes of its rows events: their length in the file, or, inside a MySQL
    /// TRANSACTION_PAYLOAD, their length uncompressed.
    pub bytes: u64,
}

impl TableRows {
    /// All rows changed in the table.
    pub fn rows(&self) -> u64 {
        self.inserted + self.updated + self.deleted
    }
}

/// Events of one type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCount {
    /// How many.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl TypeCount {
    /// Counts one more event of `bytes`.
    pub fn add(&mut self, bytes: usize) {
        self.count += 1;
        self.bytes += bytes as u64;
    }

    /// Adds the counts of `types` to `into`'s.
    pub fn merge(into: &mut BTreeMap<u8, TypeCount>, types: &BTreeMap<u8, TypeCount>) {
        for (code, c) in types {
            let e = into.entry(*code).or_default();
            e.count += c.count;
            e.bytes += c.bytes;
        }
    }
}

/// What one transaction holds.
#[derive(Debug, Clone)]
pub struct TxnStats {
    /// Offset of its first event.
    pub start: u64,
    /// Offset just past its last event.
    pub end: u64,
    /// Shape (see [`TxnStats::kind_name`]).
    pub kind: TxnKind,
    /// How it ended; [`TxnEnd::Incomplete`] when the file stops first.
    pub end_kind: TxnEnd,
    /// Events in the file (a TRANSACTION_PAYLOAD counts as one).
    pub events: u64,
    /// Events inside TRANSACTION_PAYLOAD events.
    pub payload_events: u64,
    /// Those events per type code (their bytes as the decompressed payload holds them).
    pub payload_types: BTreeMap<u8, TypeCount>,
    /// Rows events (top level and inside payloads).
    pub rows_events: u64,
    /// Rows changed, counted by walking the row images.
    pub rows: u64,
    /// Rows events whose rows could not be walked (no TABLE_MAP, a column type whose
    /// size the binlog does not give, damaged data); their rows are not in `rows`.
    pub uncounted_rows_events: u64,
    /// Why the first such event could not be walked.
    pub row_error: Option<Error>,
    /// Statements logged as text: QUERY and EXECUTE_LOAD_QUERY events other than
    /// BEGIN, COMMIT, ROLLBACK and the XA markers.
    pub statements: u64,
    /// Whether one of those statements is DDL.
    pub ddl: bool,
    /// Tables with rows changed, in the order first met.
    pub tables: Vec<TableRows>,
    /// Its GTID (none for anonymous or pre-GTID transactions).
    pub gtid: Option<GtidValue>,
    /// Server id of its first event.
    pub server_id: u32,
    /// The earliest header timestamp of its events (those inside a payload included). A
    /// rows or QUERY event carries the time its statement started; MariaDB's GTID and XID
    /// events carry the commit's, so the first event's time is no start time.
    pub first_timestamp: u32,
    /// The latest header timestamp of its events.
    pub last_timestamp: u32,
    /// MySQL 8 commit timestamps and announced length.
    pub commit: CommitInfo,
    /// Whether some of its events are compressed (MariaDB compressed events, MySQL
    /// TRANSACTION_PAYLOAD).
    pub compressed: bool,
    /// Bytes it would take with nothing compressed: compressed rows and query events at
    /// their uncompressed size, a payload replaced by its events (each with a checksum when
    /// the file has them).
    pub uncompressed_bytes: u64,
}

impl Default for TxnStats {
    fn default() -> TxnStats {
        TxnStats {
            start: 0,
            end: 0,
            kind: TxnKind::Dml,
            end_kind: TxnEnd::Incomplete,
            events: 0,
            payload_events: 0,
            payload_types: BTreeMap::new(),
            rows_events: 0,
            rows: 0,
            uncounted_rows_events: 0,
            row_error: None,
            statements: 0,
            ddl: false,
            tables: Vec::new(),
            gtid: None,
            server_id: 0,
            first_timestamp: 0,
            last_timestamp: 0,
            commit: CommitInfo::default(),
            compressed: false,
            uncompressed_bytes: 0,
        }
    }
}

impl TxnStats {
    /// Bytes from the start of its first event to the end of its last.
    pub fn bytes(&self) -> u64 {
        self.end - self.start
    }

    /// Seconds from its earliest event timestamp to its latest.
    pub fn duration(&self) -> i64 {
        i64::from(self.last_timestamp) - i64::from(self.first_timestamp)
    }

    /// Whether it ended before the file did.
    pub fn is_complete(&self) -> bool {
        self.end_kind != TxnEnd::Incomplete
    }

    /// `dml`, `ddl`, `statement` (a single statement that is not DDL), `xa_prepare` or
    /// `xa_end`. A MySQL compressed transaction is `dml`, with `compressed` set.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            TxnKind::Dml | TxnKind::Payload => "dml",
            TxnKind::Statement if self.ddl => "ddl",
            TxnKind::Statement => "statement",
            TxnKind::XaPrepare => "xa_prepare",
            TxnKind::XaEnd => "xa_end",
        }
    }

    /// `xid`, `commit`, `rollback`, `xa_prepare`, `statement` or `incomplete`.
    pub fn end_name(&self) -> &'static str {
        end_name(self.end_kind)
    }

    /// Its value of a measure.
    pub fn measure(&self, m: Measure) -> i64 {
        match m {
            Measure::Bytes => i64::try_from(self.bytes()).unwrap_or(i64::MAX),
            Measure::Rows => i64::try_from(self.rows).unwrap_or(i64::MAX),
            Measure::Duration => self.duration(),
        }
    }

    /// Clears the counters for the next transaction (keeping the tables' allocation).
    fn clear(&mut self) {
        let mut tables = std::mem::take(&mut self.tables);
        tables.clear();
        *self = TxnStats {
            tables,
            ..TxnStats::default()
        };
    }

    /// Fills in what the grouping walk found about `txn`.
    fn place(&mut self, txn: &Transaction) {
        self.start = txn.start;
        self.end = txn.end;
        self.kind = txn.kind;
        self.end_kind = txn.end_kind;
        self.gtid.clone_from(&txn.gtid);
        self.server_id = txn.server_id;
        self.first_timestamp = txn.first_timestamp;
        self.last_timestamp = txn.last_timestamp;
        self.commit = txn.commit;
    }

    fn add_rows(&mut self, name: &Arc<TableName>, kind: RowsKind, n: u64, bytes: u64) {
        self.rows += n;
        let i = match self.tables.iter().position(|t| Arc::ptr_eq(&t.name, name)) {
            Some(i) => i,
            None => {
                self.tables.push(TableRows {
                    name: Arc::clone(name),
                    inserted: 0,
                    updated: 0,
                    deleted: 0,
                    bytes: 0,
                });
                self.tables.len() - 1
            }
        };
        let t = &mut self.tables[i];
        t.bytes += bytes;
        match kind {
            RowsKind::Write => t.inserted += n,
            RowsKind::Update | RowsKind::PartialUpdate => t.updated += n,
            RowsKind::Delete => t.deleted += n,
        }
    }

    fn uncounted(&mut self, e: Error) {
        self.uncounted_rows_events += 1;
        if self.row_error.is_none() {
            self.row_error = Some(e);
        }
    }
}

/// The name of a transaction ending, as [`TxnStats::end_name`] gives it.
pub fn end_name(e: TxnEnd) -> &'static str {
    match e {
        TxnEnd::Xid => "xid",
        TxnEnd::Commit => "commit",
        TxnEnd::Rollback => "rollback",
        TxnEnd::XaPrepare => "xa_prepare",
        TxnEnd::Statement => "statement",
        TxnEnd::Incomplete => "incomplete",
    }
}

pub use crate::sql::statement::is_ddl;

/// Counts the rows of a rows event whose (decompressed) rows data is `data` by the
/// reference walk ([`Rows`]); [`crate::row::table_cache::CachedTable::count_rows`] is the quick
/// way.
pub fn count_rows(
    re: &crate::event::RowsEvent,
    data: &[u8],
    table: &TableInfo,
) -> crate::Result<u64> {
    let mut n = 0;
    for row in Rows::new(re, data, table)? {
        row?;
        n += 1;
    }
    Ok(n)
}

/// Gathers [`TxnStats`], keeping the table maps seen so far.
#[derive(Debug, Default)]
pub struct Scanner {
    tables: TableCache,
    scratch: CountScratch,
    /// Bytes the transaction being gathered would gain uncompressed.
    size_change: i64,
    /// Whether its payload ended with an XID.
    payload_xid: bool,
    /// The earliest and latest event timestamps of the transaction being gathered.
    times: Option<(u32, u32)>,
}

impl Scanner {
    /// A scanner that has seen no table map.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Fills `out` with the statistics of `txn`, found in `data` (the file's bytes).
    /// Problems reading rows are noted in `out`, not returned.
    pub fn transaction(&mut self, data: &[u8], txn: &Transaction, out: &mut TxnStats) {
        self.start(out);
        for ev in txn.events(data).verify_checksums(false) {
            // The grouping walk already read these events; a failure here cannot happen
            // for bytes that did not change, so simply stop.
            let Ok(ev) = ev else { break };
            self.add(&ev, &txn.format, out);
        }
        self.finish(txn, out);
    }

    /// Starts gathering a transaction into `out`.
    pub fn start(&mut self, out: &mut TxnStats) {
        out.clear();
        self.size_change = 0;
        self.payload_xid = false;
        self.times = None;
    }

    fn saw_time(&mut self, ev: &Event) {
        let t = ev.header().timestamp;
        self.times = Some(self.times.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
    }

    /// Adds one event of the transaction being gathered, in file order (a
    /// TRANSACTION_PAYLOAD is opened here).
    pub fn add(&mut self, ev: &Event, format: &Format, out: &mut TxnStats) {
        out.events += 1;
        self.saw_time(ev);
        if ev.event_type() != EventType::TRANSACTION_PAYLOAD {
            self.event(ev, format, out);
            return;
        }
        out.compressed = true;
        let inner = match ev.decode(format) {
            Ok(EventData::TransactionPayload(p)) => p.decompress(),
            Ok(_) => return,
            Err(e) => Err(e),
        };
        let inner = match inner {
            Ok(i) => i,
            Err(e) => {
                out.uncounted(e);
                return;
            }
        };
        let checksum = if format.has_checksum() {
            CHECKSUM_LEN as i64
        } else {
            0
        };
        let at = ev.offset();
        self.size_change -= ev.raw().len() as i64;
        for iev in payload_events(&inner, format).verify_checksums(false) {
            let iev = match iev {
                Ok(iev) => iev,
                Err(e) => {
                    out.uncounted(e.in_payload(at));
                    break;
                }
            };
            out.payload_events += 1;
            out.payload_types
                .entry(iev.event_type().code())
                .or_default()
                .add(iev.raw().len());
            self.saw_time(&iev);
            self.size_change += iev.raw().len() as i64 + checksum;
            let had_error = out.row_error.is_some();
            self.event(&iev, format, out);
            // The payload holds the whole transaction: its XID is how it ends.
            self.payload_xid |= iev.event_type() == EventType::XID;
            if !had_error {
                // Offsets inside the payload mean nothing in the file: name the payload.
                out.row_error = out.row_error.take().map(|e| e.in_payload(at));
            }
        }
    }

    /// Ends gathering: fills in what the grouping walk found about `txn`, which holds the
    /// events added since [`Scanner::start`].
    pub fn finish(&mut self, txn: &Transaction, out: &mut TxnStats) {
        out.place(txn);
        if let Some((first, last)) = self.times {
            out.first_timestamp = first;
            out.last_timestamp = last;
        }
        if self.payload_xid && out.end_kind == TxnEnd::Statement {
            out.end_kind = TxnEnd::Xid;
        }
        out.uncompressed_bytes = txn.len().saturating_add_signed(self.size_change);
    }

    fn event(&mut self, ev: &Event, format: &Format, out: &mut TxnStats) {
        let t = ev.event_type();
        if t == EventType::TABLE_MAP {
            // The same map as last time for its id needs no parsing. A map that cannot be
            // parsed leaves the id unknown; the rows events using it are then uncounted.
            if self.tables.holds(ev.body(), format.table_id_len(t)) {
                return;
            }
            if let Ok(EventData::TableMap(tm)) = ev.decode(format) {
                self.tables.insert(&tm, ev.body());
            }
        } else if t.is_rows() {
            out.rows_events += 1;
            if let Err(e) = self.rows_event(ev, format, out) {
                out.uncounted(e);
            }
        } else if matches!(
            t,
            EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED | EventType::EXECUTE_LOAD_QUERY
        ) {
            let Ok(EventData::Query(q)) = ev.decode(format) else {
                if t == EventType::EXECUTE_LOAD_QUERY {
                    out.statements += 1;
                }
                return;
            };
            let text = q.text().unwrap_or_default();
            if q.compressed {
                out.compressed = true;
                self.size_change += text.len() as i64 - q.query.len() as i64;
            }
            let plain = crate::event::Query {
                query: &text,
                ..q.clone()
            };
            if !(plain.is_begin() || plain.is_commit() || plain.is_rollback() || plain.is_xa()) {
                out.statements += 1;
                out.ddl |= is_ddl(&text);
            }
        }
    }

    fn rows_event(&mut self, ev: &Event, format: &Format, out: &mut TxnStats) -> crate::Result<()> {
        let EventData::Rows(re) = ev.decode(format)? else {
            return Ok(());
        };
        let data = re.rows_data()?;
        if re.compressed {
            out.compressed = true;
            self.size_change += data.len() as i64 - re.data.len() as i64;
        }
        let cached = self.tables.get(re.table_id).ok_or_else(|| {
            Error::malformed(
                ev.offset(),
                format!(
                    "rows event for table id {} without a TABLE_MAP",
                    re.table_id
                ),
            )
        })?;
        let n = cached.count_rows(&re, &data, &mut self.scratch)?;
        let name = Arc::clone(&cached.name);
        out.add_rows(&name, re.kind, n, ev.raw().len() as u64);
        Ok(())
    }
}

/// How a walk over a whole file ended.
#[derive(Debug, Clone, Default)]
pub struct ScanEnd {
    /// Transactions reported.
    pub transactions: u64,
    /// The error that stopped the walk early (a truncated or damaged event); the
    /// transaction it cut short was reported as incomplete.
    pub error: Option<Error>,
    /// Offset from which the file is encrypted and could not be read.
    pub encrypted_from: Option<u64>,
}

/// Calls `f` with the statistics of each transaction of `log`, in file order. The
/// [`TxnStats`] passed is reused between calls: clone what you keep.
pub fn scan<F: FnMut(&TxnStats)>(log: &Binlog, mut f: F) -> ScanEnd {
    let mut scanner = Scanner::new();
    let mut stats = TxnStats::default();
    let mut end = ScanEnd {
        encrypted_from: log.encrypted_from(),
        ..ScanEnd::default()
    };
    let mut groups = Transactions::new(log.events().verify_checksums(false));
    loop {
        // One pass: each event is looked at as the grouping walk reaches it.
        scanner.start(&mut stats);
        let Some(group) = groups.next_with(&mut |ev, format| scanner.add(ev, format, &mut stats))
        else {
            break;
        };
        match group {
            Ok(Group::Transaction(txn)) => {
                scanner.finish(&txn, &mut stats);
                end.transactions += 1;
                f(&stats);
            }
            Ok(Group::Control(_)) => {}
            Err(e) => {
                end.error = Some(e);
                break;
            }
        }
    }
    end
}

/// What transactions are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// [`TxnStats::bytes`].
    Bytes,
    /// [`TxnStats::rows`].
    Rows,
    /// [`TxnStats::duration`].
    Duration,
}

/// A transaction with its place in a ranking.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// The value of the measure.
    pub key: i64,
    /// Index of its file among those scanned.
    pub file: usize,
    /// The transaction.
    pub stats: TxnStats,
}

impl Ranked {
    /// Bigger is better ranked: a bigger measure, then an earlier file, then an earlier
    /// position.
    fn order(&self) -> (i64, Reverse<usize>, Reverse<u64>) {
        (self.key, Reverse(self.file), Reverse(self.stats.start))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.order() == other.order()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        self.order().cmp(&other.order())
    }
}

/// Keeps the `limit` best-ranked transactions offered (all of them when `limit` is 0).
/// The result does not depend on the order of offers, so collectors filled in parallel
/// and merged give the same answer as one filled in sequence.
#[derive(Debug, Clone)]
pub struct TopN {
    measure: Measure,
    limit: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopN {
    /// An empty collector.
    pub fn new(measure: Measure, limit: usize) -> TopN {
        TopN {
            measure,
            limit,
            heap: BinaryHeap::new(),
        }
    }

    /// Offers a transaction of file number `file`; it is cloned only when kept.
    pub fn offer(&mut self, file: usize, stats: &TxnStats) {
        let key = stats.measure(self.measure);
        if self.limit != 0 && self.heap.len() >= self.limit {
            let worst = &self.heap.peek().expect("a full heap has a minimum").0;
            let candidate = (key, Reverse(file), Reverse(stats.start));
            if candidate <= worst.order() {
                return;
            }
            self.heap.pop();
        }
        self.heap.push(Reverse(Ranked {
            key,
            file,
            stats: stats.clone(),
        }));
    }

    /// Adds what another collector kept.
    pub fn merge(&mut self, other: TopN) {
        for Reverse(r) in other.heap {
            self.offer(r.file, &r.stats);
        }
    }

    /// The kept transactions, best first.
    pub fn into_sorted(self) -> Vec<Ranked> {
        let mut v: Vec<Ranked> = self.heap.into_iter().map(|Reverse(r)| r).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_is_recognised_past_comments() {
        assert!(!is_ddl(b"/* unterminated"));
        assert!(!is_ddl(b"CREATED"));
    }

    fn stats(start: u64, bytes: u64) -> TxnStats {
        TxnStats {
            start,
            end: start + bytes,
            ..TxnStats::default()
        }
    }

    #[test]
    fn top_n_is_independent_of_offer_order() {
        let items: Vec<(usize, TxnStats)> = (0..50u64)
            .map(|i| ((i % 3) as usize, stats(i * 1000, (i * 7919) % 13)))
            .collect();
        let mut a = TopN::new(Measure::Bytes, 5);
        for (f, s) in &items {
            a.offer(*f, s);
        }
        let mut b1 = TopN::new(Measure::Bytes, 5);
        let mut b2 = TopN::new(Measure::Bytes, 5);
        for (i, (f, s)) in items.iter().enumerate().rev() {
            if i % 2 == 0 {
                b1.offer(*f, s)
            } else {
                b2.offer(*f, s)
            }
        }
        b1.merge(b2);
        let key = |v: Vec<Ranked>| {
            v.into_iter()
                .map(|r| (r.key, r.file, r.stats.start))
                .collect::<Vec<_>>()
        };
        let (a, b) = (key(a.into_sorted()), key(b1.into_sorted()));
        assert_eq!(a, b);
        assert_eq!(a.len(), 5);
        assert!(a.windows(2).all(|w| w[0].0 >= w[1].0));
    }
}
