//! Assembling a snapshot binlog: the FDE of the source's flavor, statements (the
//! coordinates, CREATE DATABASE / CREATE TABLE), and per table transactions of
//! TABLE_MAP and WRITE_ROWS events cut from a stream of row images.
//!
//! Transactions: MariaDB → `BEGIN` QUERY, TABLE_MAP, WRITE_ROWS_V1 …, XID (no GTID event:
//! the server that applies the file gives each transaction a GTID of its own, which works
//! with `gtid_strict_mode`). MySQL → ANONYMOUS_GTID, `BEGIN`, TABLE_MAP, WRITE_ROWS_V2 …,
//! XID. The last rows event of each transaction carries STMT_END_F; every rows event
//! carries NO_FOREIGN_KEY_CHECKS_F, and the QUERY events turn foreign key checks off, so
//! tables load in any order. The QUERY events' `sql_mode` is `NO_AUTO_VALUE_ON_ZERO`, so
//! a 0 in an AUTO_INCREMENT column stays 0.

use std::io::Write;

use super::table::TableLayout;
use crate::bytes::{packed_size, put_packed};
use crate::error::{Error, Result};
use crate::event::control::Xid;
use crate::event::fde::{Flavor, Format, FormatDescription};
use crate::event::gtid::{Gtid, GtidKind};
use crate::event::header::{EventType, HEADER_LEN};
use crate::event::query::{encode_status_vars, StatusVar};
use crate::event::rows::{NO_FOREIGN_KEY_CHECKS_F, STMT_END_F};
use crate::event::EventData;
use crate::gtid_set::Uuid;
use crate::writer::{BinlogWriter, Stamp, Statement};

/// `OPTION_NO_FOREIGN_KEY_CHECKS` of the QUERY event's flags2.
const OPTION_NO_FOREIGN_KEY_CHECKS: u32 = 1 << 26;
/// `MODE_NO_AUTO_VALUE_ON_ZERO`.
const MODE_NO_AUTO_VALUE_ON_ZERO: u64 = 1 << 19;
/// utf8mb4_general_ci: how the statements' text is to be read.
const UTF8MB4_GENERAL_CI: u16 = 45;

/// How rows are cut into events and transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most rows in one rows event (0: no limit but the size).
    pub rows_per_event: usize,
    /// Largest rows event body, as the server's `binlog_row_event_max_size` (a row bigger
    /// than that gets an event of its own).
    pub max_event_size: usize,
    /// Most rows in one transaction.
    pub rows_per_txn: usize,
    /// A transaction ends once its row images reach this many bytes.
    pub max_txn_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            rows_per_event: 0,
            max_event_size: 8192,
            rows_per_txn: 10_000,
            max_txn_bytes: 64 << 20,
        }
    }
}

/// The source server, as far as the output describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// MySQL or MariaDB.
    pub flavor: Flavor,
    /// `@@version`, written into the FDE so that readers know what wrote the file.
    pub version: String,
    /// `@@server_id`, written into every event header.
    pub server_id: u32,
}

/// The format of a snapshot of `source`: the built-in MySQL 8.0 or MariaDB 10.11
/// post-header lengths, CRC32 checksums, and the source's version string (made to name
/// MariaDB when the source is one, so that readers see the right flavor).
pub fn format_for(source: &Source) -> Format {
    let base = match source.flavor {
        Flavor::MySql => Format::mysql_80(),
        Flavor::MariaDb => Format::mariadb_1011(),
    };
    let mut version = source.version.clone();
    if source.flavor == Flavor::MariaDb && !version.contains("MariaDB") {
        version.push_str("-MariaDB");
    }
    let mut keep = version.len().min(crate::event::fde::SERVER_VERSION_LEN - 1);
    while !version.is_char_boundary(keep) {
        keep -= 1;
    }
    version.truncate(keep);
    Format::from_fde(&FormatDescription {
        binlog_version: 4,
        server_version: version.as_bytes(),
        create_timestamp: 0,
        header_len: HEADER_LEN as u8,
        post_header_lens: &base.post_header_lens,
        checksum_alg: base.checksum_alg,
    })
}

/// What was written for one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Rows.
    pub rows: u64,
    /// Transactions.
    pub transactions: u64,
    /// Rows events.
    pub rows_events: u64,
    /// Bytes of the output taken by the table's events.
    pub bytes: u64,
}

struct TableState {
    table_id_map: Vec<u8>,
    head_len: usize,
    head: Vec<u8>,
    /// Finished rows event bodies of the open transaction.
    events: Vec<Vec<u8>>,
    /// The rows event being filled (starts with `head`).
    cur: Vec<u8>,
    cur_rows: usize,
    txn_rows: usize,
    txn_bytes: usize,
    start: u64,
    stats: TableStats,
}

/// Writes a snapshot binlog.
pub struct SnapshotWriter<W: Write> {
    w: BinlogWriter<W>,
    flavor: Flavor,
    version_number: u32,
    stamp: Stamp,
    limits: Limits,
    rows_type: EventType,
    status: Vec<u8>,
    xid: u64,
    /// Transactions written (MySQL logical clock).
    seq: u64,
    /// Sequence number of the last statement (data transactions depend on it).
    last_statement_seq: u64,
    table: Option<TableState>,
    scratch: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for SnapshotWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter")
            .field("position", &self.w.position())
            .field("flavor", &self.flavor)
            .finish()
    }
}

impl<W: Write> SnapshotWriter<W> {
    /// Starts the file: magic and FDE. Every event is stamped with `time` (seconds since
    /// the epoch) and the source's server id.
    pub fn new(out: W, source: &Source, time: u32, limits: Limits) -> Result<SnapshotWriter<W>> {
        if limits.rows_per_txn == 0 || limits.max_event_size == 0 {
            return Err(Error::unsupported(
                0,
                "rows per transaction and event size must be positive",
            ));
        }
        let format = format_for(source);
        let (a, b, c) = format.version;
        let version_number = u32::from(a) * 10_000 + u32::from(b) * 100 + u32::from(c);
        let stamp = Stamp {
            timestamp: time,
            server_id: source.server_id,
            flags: 0,
        };
        let w = BinlogWriter::new(out, format, stamp, time)?;
        let mut status = Vec::new();
        encode_status_vars(
            &[
                StatusVar::Flags2(OPTION_NO_FOREIGN_KEY_CHECKS),
                StatusVar::SqlMode(MODE_NO_AUTO_VALUE_ON_ZERO),
                StatusVar::Charset {
                    client: UTF8MB4_GENERAL_CI,
                    connection: UTF8MB4_GENERAL_CI,
                    server: UTF8MB4_GENERAL_CI,
                },
            ],
            &mut status,
        )?;
        let rows_type = match source.flavor {
            Flavor::MySql => EventType::WRITE_ROWS_V2,
            Flavor::MariaDb => EventType::WRITE_ROWS_V1,
        };
        Ok(SnapshotWriter {
            w,
            flavor: source.flavor,
            version_number,
            stamp,
            limits,
            rows_type,
            status,
            xid: 0,
            seq: 0,
            last_statement_seq: 0,
            table: None,
            scratch: Vec::with_capacity(1 << 16),
        })
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.w.position()
    }

    /// The body of a QUERY event running `sql` in database `db`, with the snapshot's
    /// session variables.
    fn query_body(&self, db: &str, sql: &str, out: &mut Vec<u8>) -> Result<()> {
        let s = Statement {
            thread_id: 0,
            status: &self.status,
            db: db.as_bytes(),
            text: sql.as_bytes(),
        };
        self.w.statement_body(&s, out)
    }

    fn event_len(&self, body: usize) -> u64 {
        self.w.framed_len(body)
    }

    /// Writes the ANONYMOUS_GTID event of a MySQL transaction of `rest` bytes (the events
    /// after it); nothing for MariaDB.
    fn gtid(&mut self, rest: u64, last_committed: u64) -> Result<()> {
        if self.flavor != Flavor::MySql {
            return Ok(());
        }
        self.seq += 1;
        let make = |len: u64| {
            Gtid::new(
                GtidKind::Anonymous,
                Uuid([0; 16]),
                0,
                (last_committed, self.seq),
                u64::from(self.stamp.timestamp) * 1_000_000,
                len,
                self.version_number,
            )
        };
        // The length counts the GTID event itself, whose size depends on the length.
        let mut body = Vec::new();
        make(0).encode(&mut body)?;
        let mut total = rest + self.event_len(body.len());
        loop {
            let next = rest + self.event_len(body.len() - 1 + packed_size(total));
            if next == total {
                break;
            }
            total = next;
        }
        body.clear();
        make(total).encode(&mut body)?;
        self.w
            .write_parts(EventType::ANONYMOUS_GTID, self.stamp, &[&body])?;
        Ok(())
    }

    /// Writes a statement as a QUERY event run in database `db` (`""` for none); for
    /// MySQL in a transaction of its own.
    pub fn statement(&mut self, db: &str, sql: &str) -> Result<()> {
        if self.table.is_some() {
            return Err(Error::unsupported(0, "statement inside a table's rows"));
        }
        let mut body = Vec::new();
        self.query_body(db, sql, &mut body)?;
        let len = self.event_len(body.len());
        let last = self.seq;
        self.gtid(len, last)?;
        self.last_statement_seq = self.seq;
        self.w.write_parts(EventType::QUERY, self.stamp, &[&body])?;
        Ok(())
    }

    /// Starts the rows of a table, mapped as `table_id`.
    pub fn begin_table(&mut self, layout: &TableLayout, table_id: u64) -> Result<()> {
        if self.table.is_some() {
            return Err(Error::unsupported(0, "a table is already open"));
        }
        let mut map = Vec::new();
        layout.table_map_body(table_id, &mut map)?;
        let n = layout.columns.len();
        let mut head = Vec::new();
        crate::event::rows::put_table_id(&mut head, table_id, 6)?;
        head.extend_from_slice(&NO_FOREIGN_KEY_CHECKS_F.to_le_bytes());
        if self.rows_type == EventType::WRITE_ROWS_V2 {
            head.extend_from_slice(&2u16.to_le_bytes());
        }
        put_packed(&mut head, n as u64);
        let mut bits = vec![0xffu8; n.div_ceil(8)];
        if !n.is_multiple_of(8) {
            if let Some(last) = bits.last_mut() {
                *last = (1u8 << (n % 8)) - 1;
            }
        }
        head.extend_from_slice(&bits);
        self.table = Some(TableState {
            table_id_map: map,
            head_len: head.len(),
            cur: head.clone(),
            head,
            events: Vec::new(),
            cur_rows: 0,
            txn_rows: 0,
            txn_bytes: 0,
            start: self.w.position(),
            stats: TableStats::default(),
        });
        Ok(())
    }

    /// Adds one row image (from [`super::value::encode_row`]) of the open table.
    pub fn row(&mut self, image: &[u8]) -> Result<()> {
        let limits = self.limits;
        let t = self
            .table
            .as_mut()
            .ok_or_else(|| Error::unsupported(0, "row outside a table"))?;
        let full = t.cur_rows > 0
            && (t.cur.len() + image.len() > limits.max_event_size
                || (limits.rows_per_event > 0 && t.cur_rows >= limits.rows_per_event));
        if full {
            let next = t.head.clone();
            t.events.push(std::mem::replace(&mut t.cur, next));
            t.cur_rows = 0;
        }
        t.cur.extend_from_slice(image);
        t.cur_rows += 1;
        t.txn_rows += 1;
        t.txn_bytes += image.len();
        t.stats.rows += 1;
        if t.txn_rows >= limits.rows_per_txn || t.txn_bytes >= limits.max_txn_bytes {
            self.flush_txn()?;
        }
        Ok(())
    }

    fn flush_txn(&mut self) -> Result<()> {
        let Some(t) = self.table.as_mut() else {
            return Ok(());
        };
        if t.txn_rows == 0 {
            return Ok(());
        }
        let next = t.head.clone();
        let cur = std::mem::replace(&mut t.cur, next);
        t.events.push(cur);
        t.cur_rows = 0;
        t.txn_rows = 0;
        t.txn_bytes = 0;
        let mut events = std::mem::take(&mut t.events);
        let map = std::mem::take(&mut t.table_id_map);
        let head_len = t.head_len;
        if let Some(last) = events.last_mut() {
            let flags = NO_FOREIGN_KEY_CHECKS_F | STMT_END_F;
            last[6..8].copy_from_slice(&flags.to_le_bytes());
        }
        debug_assert!(events.iter().all(|e| e.len() > head_len));
        let mut begin = std::mem::take(&mut self.scratch);
        begin.clear();
        self.query_body("", "BEGIN", &mut begin)?;
        self.xid += 1;
        let xid = EventData::Xid(Xid { xid: self.xid });
        let xid_len = self.event_len(8);
        let rest = self.event_len(begin.len())
            + self.event_len(map.len())
            + events.iter().map(|e| self.event_len(e.len())).sum::<u64>()
            + xid_len;
        let last = self.last_statement_seq;
        self.gtid(rest, last)?;
        let stamp = self.stamp;
        self.w.write_parts(EventType::QUERY, stamp, &[&begin])?;
        self.w.write_parts(EventType::TABLE_MAP, stamp, &[&map])?;
        for e in &events {
            self.w.write_parts(self.rows_type, stamp, &[e])?;
        }
        self.w.write_data(EventType::XID, stamp, &xid)?;
        self.scratch = begin;
        let t = self.table.as_mut().expect("open table");
        t.table_id_map = map;
        t.stats.transactions += 1;
        t.stats.rows_events += events.len() as u64;
        Ok(())
    }

    /// Ends the open table: writes its last transaction and returns what was written.
    pub fn end_table(&mut self) -> Result<TableStats> {
        self.flush_txn()?;
        let t = self
            .table
            .take()
            .ok_or_else(|| Error::unsupported(0, "no open table"))?;
        let mut stats = t.stats;
        stats.bytes = self.w.position() - t.start;
        Ok(stats)
    }

    /// Ends the file with a STOP event; returns the output and the file's size.
    pub fn finish(mut self) -> Result<(W, u64)> {
        if self.table.is_some() {
            self.end_table()?;
        }
        let end = self.w.position() + self.event_len(0);
        let out = self.w.finish_with_stop(self.stamp)?;
        Ok((out, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Binlog;
    use crate::row::{Rows, TableInfo};
    use crate::snapshot::table::{ColumnDef, TableDef};
    use crate::snapshot::value::encode_row;
    use crate::snapshot::value::ServerValue;

    fn layout(flavor: Flavor) -> TableLayout {
        let def = TableDef {
            schema: "db".into(),
            name: "t".into(),
            columns: vec![
                ColumnDef {
                    name: "id".into(),
                    data_type: "int".into(),
                    column_type: "int(11)".into(),
                    ..Default::default()
                },
                ColumnDef {
                    name: "v".into(),
                    data_type: "varchar".into(),
                    column_type: "varchar(100)".into(),
                    nullable: true,
                    octet_length: Some(400),
                    collation: Some(45),
                    ..Default::default()
                },
            ],
            primary_key: vec![(0, 0)],
        };
        TableLayout::new(&def, flavor, (10, 11, 19)).unwrap()
    }

    fn write(flavor: Flavor, rows: usize, limits: Limits) -> (Vec<u8>, TableStats) {
        let source = Source {
            flavor,
            version: if flavor == Flavor::MariaDb {
                "10.11.19-MariaDB-log".into()
            } else {
                "8.0.40".into()
            },
            server_id: 5,
        };
        let l = layout(flavor);
        let mut w = SnapshotWriter::new(Vec::new(), &source, 1_700_000_000, limits).unwrap();
        w.statement("", "SET @x = 1").unwrap();
        w.begin_table(&l, 77).unwrap();
        let mut img = Vec::new();
        for i in 0..rows {
            img.clear();
            let text = vec![b'x'; i % 300];
            let vals = [ServerValue::Int(i as i64), ServerValue::Bytes(&text)];
            encode_row(&l, vals.into_iter(), &mut img).unwrap();
            w.row(&img).unwrap();
        }
        let stats = w.end_table().unwrap();
        let (out, len) = w.finish().unwrap();
        assert_eq!(out.len() as u64, len);
        (out, stats)
    }

    fn walk(bytes: &[u8]) -> (Vec<EventType>, u64, u64) {
        let log = Binlog::parse(bytes).unwrap();
        let mut events = log.events();
        let mut types = Vec::new();
        let mut info = None;
        let mut rows = 0u64;
        let mut ends = 0u64;
        while let Some(ev) = events.next() {
            let ev = ev.unwrap();
            ev.verify_checksum().unwrap();
            types.push(ev.event_type());
            match ev.decode(events.format()).unwrap() {
                EventData::TableMap(tm) => info = Some(TableInfo::from_table_map(&tm).unwrap()),
                EventData::Rows(r) => {
                    let data = r.rows_data().unwrap();
                    let n = Rows::new(&r, &data, info.as_ref().unwrap())
                        .unwrap()
                        .count();
                    rows += n as u64;
                    ends += u64::from(r.is_stmt_end());
                    assert!(ev.body().len() <= 8192 || n == 1);
                }
                EventData::Gtid(g) => {
                    assert_eq!(g.kind, GtidKind::Anonymous);
                }
                _ => {}
            }
        }
        (types, rows, ends)
    }

    #[test]
    fn mariadb_transactions() {
        let limits = Limits {
            rows_per_txn: 100,
            ..Limits::default()
        };
        let (bytes, stats) = write(Flavor::MariaDb, 250, limits);
        let (types, rows, ends) = walk(&bytes);
        assert_eq!(rows, 250);
        assert_eq!(ends, 3);
        assert_eq!(stats.transactions, 3);
        assert_eq!(types[0], EventType::FORMAT_DESCRIPTION);
        assert_eq!(types[1], EventType::QUERY);
        assert_eq!(types[2], EventType::QUERY);
        assert_eq!(types[3], EventType::TABLE_MAP);
        assert_eq!(*types.last().unwrap(), EventType::STOP);
        assert!(types.contains(&EventType::WRITE_ROWS_V1));
        assert_eq!(types.iter().filter(|t| **t == EventType::XID).count(), 3);
    }

    #[test]
    fn mysql_transactions_have_lengths() {
        let limits = Limits {
            rows_per_txn: 40,
            rows_per_event: 7,
            ..Limits::default()
        };
        let (bytes, _) = write(Flavor::MySql, 100, limits);
        let (types, rows, ends) = walk(&bytes);
        assert_eq!((rows, ends), (100, 3));
        assert!(types.contains(&EventType::WRITE_ROWS_V2));
        // Each GTID event's transaction_length reaches exactly to the end of the XID or
        // QUERY that closes its transaction.
        let log = Binlog::parse(&bytes).unwrap();
        let mut ends = std::collections::HashMap::new();
        let mut gtids = Vec::new();
        let mut events = log.events();
        while let Some(ev) = events.next() {
            let ev = ev.unwrap();
            ends.insert(ev.end_offset(), ev.event_type());
            if let EventData::Gtid(g) = ev.decode(events.format()).unwrap() {
                gtids.push(ev.offset() + g.transaction_length.unwrap());
            }
        }
        assert_eq!(gtids.len(), 4);
        for end in gtids {
            assert!(matches!(ends[&end], EventType::XID | EventType::QUERY));
        }
    }

    /// A database name over the QUERY event's 255-byte field is refused by the encoder
    /// (no guard of its own here), before anything of the event is written.
    #[test]
    fn a_statement_in_a_database_named_too_long_is_refused() {
        let source = Source {
            flavor: Flavor::MariaDb,
            version: "10.11.19-MariaDB-log".into(),
            server_id: 5,
        };
        let mut w = SnapshotWriter::new(Vec::new(), &source, 1, Limits::default()).unwrap();
        let at = w.position();
        let e = w.statement(&"d".repeat(256), "SELECT 1").unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::TooLong { .. }), "{e}");
        assert_eq!(w.position(), at);
        w.statement(&"d".repeat(255), "SELECT 1").unwrap();
    }
}
