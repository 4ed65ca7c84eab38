//! Splitting transactions that are over a limit into consecutive transactions that each
//! stay within it, so that a huge transaction can be replayed in bounded pieces.
//!
//! Every transaction over the limit is cut at rows-event boundaries, and inside a rows
//! event at row boundaries when that event alone does not fit. Each piece is a
//! transaction of its own: a BEGIN (the source's BEGIN event when it has one, a plain
//! `BEGIN` QUERY event for MariaDB, whose GTID event stands for BEGIN), the TABLE_MAP events
//! its rows events need, the rows events (the last one flagged `STMT_END_F`), and an XID of
//! its own (or a copy of the source's `COMMIT`/`ROLLBACK` QUERY). The source's GTID event is
//! not written for any piece, so a server applying them gives each a fresh GTID. Everything
//! else, including transactions within the limit, is copied event by event with positions
//! and checksums recomputed for the new file.
//!
//! The input is read from memory (a map of the file); nothing of a transaction is
//! gathered in memory but the decompressed data of one rows event at a time.
//!
//! Transactions over the limit that cannot be split are refused with an error naming the
//! offset: statement-based changes, DDL, XA, a single row bigger than the limit; so is
//! input that is truncated or fails its checksums.

use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::event::control::{xid_sql, Xid};
use crate::event::gtid::{FL_COMPLETED_XA, FL_PREPARED_XA, FL_STANDALONE};
use crate::event::header::{EventType, CHECKSUM_LEN, FLAG_SUPPRESS_USE, HEADER_LEN};
use crate::event::payload::payload_events;
use crate::event::query::Query;
use crate::event::rows::{RowsEvent, STMT_END_F};
use crate::event::{Event, EventData};
use crate::gtid_set::GtidValue;
use crate::reader::Binlog;
use crate::row::count::CountScratch;
use crate::row::table_cache::TableCache;
use crate::row::Rows;
use crate::txn::{Group, Transaction, Transactions, TxnEnd, TxnKind};
use crate::txn_stats::is_ddl;
use crate::writer::{BinlogWriter, Stamp};
use crate::Format;

/// The most a transaction may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Rows changed (an update's before/after pair is one row).
    Rows(u64),
    /// Bytes from the first event to the end of the last, as `bigtxn` measures them.
    Bytes(u64),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Rows(n) => write!(f, "{n} rows"),
            Limit::Bytes(n) => write!(f, "{n} bytes"),
        }
    }
}

/// One transaction written for a part of a split one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Its first event's offset in the output.
    pub out_start: u64,
    /// Offset just past its last event in the output.
    pub out_end: u64,
    /// Rows it changes (unknown when counting the rows of a rows event copied whole
    /// failed, which only matters with a byte limit).
    pub rows: Option<u64>,
    /// Source offset of the first rows event it holds rows of.
    pub from_event: u64,
    /// Index of the first row it holds within that event (0: from the event's start).
    pub from_row: u64,
    /// Source offset of the last rows event it holds rows of.
    pub to_event: u64,
    /// When it ends inside that event: the index of the first row it does not hold.
    pub to_row: Option<u64>,
}

impl Piece {
    /// Its size in bytes.
    pub fn bytes(&self) -> u64 {
        self.out_end - self.out_start
    }
}

/// A source transaction that was split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitTxn {
    /// Offset of its first event in the source.
    pub start: u64,
    /// Offset just past its last event in the source.
    pub end: u64,
    /// Rows it changes, when they could be counted.
    pub rows: Option<u64>,
    /// Its GTID (not written to the output).
    pub gtid: Option<GtidValue>,
    /// For a MySQL compressed transaction, the offset of its TRANSACTION_PAYLOAD event:
    /// the pieces' `from_event` and `to_event` are then offsets inside the decompressed
    /// payload.
    pub payload: Option<u64>,
    /// The transactions written in its place.
    pub pieces: Vec<Piece>,
}

/// What a split did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitReport {
    /// Transactions in the source.
    pub transactions: u64,
    /// Transactions copied unchanged.
    pub copied: u64,
    /// Transactions split, in file order.
    pub split: Vec<SplitTxn>,
    /// Source offsets of ANNOTATE_ROWS / ROWS_QUERY events left out because with them a
    /// piece could not hold even one row (they only describe the statement).
    pub dropped_annotations: Vec<u64>,
}

/// How to split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitOptions {
    /// The most a transaction may hold.
    pub limit: Limit,
    /// Write no GTID event at all, so that every transaction, copied or split, gets a
    /// fresh GTID where it is applied: a MariaDB GTID becomes a `BEGIN` (or `XA START`)
    /// QUERY event, or is left out before a standalone statement or `XA COMMIT`; a MySQL
    /// GTID event is left out (its transaction has a BEGIN of its own).
    pub drop_gtids: bool,
}

impl From<Limit> for SplitOptions {
    fn from(limit: Limit) -> SplitOptions {
        SplitOptions {
            limit,
            drop_gtids: false,
        }
    }
}

/// Splits every transaction of `log` that is over the limit, writing the whole binlog to
/// `out`. Returns the output and what was done. On error the output holds a partial
/// file: write it somewhere that is discarded on failure.
pub fn split<W: Write>(
    log: &Binlog,
    options: impl Into<SplitOptions>,
    out: W,
) -> Result<(W, SplitReport)> {
    let options = options.into();
    let limit = options.limit;
    match limit {
        Limit::Rows(0) | Limit::Bytes(0) => {
            return Err(Error::unsupported(0, "a limit of 0"));
        }
        _ => {}
    }
    if let Some(at) = log.encrypted_from() {
        return Err(Error::unsupported(
            at,
            "the binlog is encrypted from here on; it cannot be split",
        ));
    }
    let data = log.data();
    let mut events = log.events();
    let fde = match events.next() {
        Some(Ok(ev)) if ev.event_type() == EventType::FORMAT_DESCRIPTION => ev,
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(Error::unsupported(
                4,
                "the binlog does not start with a FORMAT_DESCRIPTION event (binlog v4)",
            ))
        }
    };
    let writer = BinlogWriter::with_fde(out, &fde, events.format())?;
    let mut s = Splitter {
        crc: if writer.format().has_checksum() {
            CHECKSUM_LEN as u64
        } else {
            0
        },
        w: writer,
        limit,
        drop_gtids: options.drop_gtids,
        tables: TableCache::new(),
        scratch: CountScratch::default(),
        report: SplitReport::default(),
    };
    for group in Transactions::new(events) {
        match group? {
            Group::Control(ev) => {
                s.w.copy_event(&ev)?;
            }
            Group::Transaction(txn) => s.transaction(data, &txn)?,
        }
    }
    let out = s.w.finish()?;
    Ok((out, s.report))
}

struct Splitter<W: Write> {
    w: BinlogWriter<W>,
    limit: Limit,
    drop_gtids: bool,
    tables: TableCache,
    scratch: CountScratch,
    crc: u64,
    report: SplitReport,
}

/// The event a piece starts with.
struct Begin<'b> {
    stamp: Stamp,
    t: EventType,
    body: Cow<'b, [u8]>,
}

/// The event a piece ends with.
#[derive(Clone, Copy)]
enum End<'b> {
    Xid {
        stamp: Stamp,
        xid: u64,
    },
    Query {
        stamp: Stamp,
        t: EventType,
        body: &'b [u8],
    },
}

/// What the first walk over a transaction found.
struct Survey<'b> {
    rows: Option<u64>,
    /// Why it cannot be split, with the offset to name.
    problem: Option<Error>,
    begin: Option<Begin<'b>>,
    end: Option<End<'b>>,
}

/// The statement being placed: its TABLE_MAPs and annotation.
#[derive(Default)]
struct Stmt<'b> {
    /// `(table id, event, written in the current piece)`.
    maps: Vec<(u64, Event<'b>, bool)>,
    annotation: Option<Event<'b>>,
    ended: bool,
}

/// A rows event, or rows of one, waiting to learn whether it ends its piece.
struct Pending<'b> {
    unit: Unit<'b>,
    len: u64,
}

enum Unit<'b> {
    Whole(Event<'b>),
    Part {
        stamp: Stamp,
        head: RowsEvent<'b>,
        data: Rc<Cow<'b, [u8]>>,
        range: Range<usize>,
    },
}

/// The piece being written.
struct Open<'b> {
    start: u64,
    rows: Option<u64>,
    pending: Option<Pending<'b>>,
    from: Option<(u64, u64)>,
    to: (u64, Option<u64>),
}

impl<W: Write> Splitter<W> {
    fn over(&self, bytes: u64, rows: Option<u64>) -> bool {
        match self.limit {
            Limit::Bytes(b) => bytes > b,
            Limit::Rows(n) => rows.is_some_and(|r| r > n),
        }
    }

    fn transaction(&mut self, data: &[u8], txn: &Transaction) -> Result<()> {
        self.report.transactions += 1;
        if txn.end_kind == TxnEnd::Incomplete {
            return Err(Error::malformed(
                txn.end,
                format!(
                    "truncated input: the transaction starting at {} is cut off",
                    txn.start
                ),
            ));
        }
        let format = txn.format.clone();
        let must_count = matches!(self.limit, Limit::Rows(_));
        let quick_over = matches!(self.limit, Limit::Bytes(b) if txn.len() > b);
        if !must_count && !quick_over {
            return self.copy(data, txn);
        }
        // A MySQL compressed transaction is measured and split from its decompressed
        // events.
        let inner = match txn.kind {
            TxnKind::Payload => Some(self.decompressed_payload(data, txn)?),
            _ => None,
        };
        let walk = || txn_events(data, txn, inner.as_ref());
        let survey = self.survey(walk(), &format, txn, must_count)?;
        if !self.over(txn.len(), survey.rows) {
            if must_count && survey.rows.is_none() {
                // Cannot tell whether it is over: say why rows could not be counted.
                if let Some(e) = survey.problem {
                    return Err(e);
                }
            }
            return self.copy(data, txn);
        }
        match txn.kind {
            TxnKind::Dml | TxnKind::Payload => {}
            TxnKind::Statement => {
                return Err(Error::unsupported(
                    txn.start,
                    format!(
                        "the statement at {}..{} is over the limit ({}); a single statement cannot be split",
                        txn.start, txn.end, self.limit
                    ),
                ))
            }
            TxnKind::XaPrepare | TxnKind::XaEnd => {
                return Err(Error::unsupported(
                    txn.start,
                    format!(
                        "the XA transaction at {}..{} is over the limit ({}); XA transactions are not split",
                        txn.start, txn.end, self.limit
                    ),
                ))
            }
        }
        if let Some(e) = survey.problem {
            return Err(e);
        }
        let Some(end) = survey.end else {
            return Err(Error::malformed(
                txn.start,
                "transaction without an end event",
            ));
        };
        let begin = match survey.begin {
            Some(b) => b,
            None => synthesized_begin(data, txn),
        };
        let mut pieces = PiecesWriter {
            s: self,
            begin,
            end,
            stmt: Stmt::default(),
            open: None,
            pieces: Vec::new(),
            format: &format,
        };
        let events = walk();
        let payload = events.0;
        pieces.run(events)?;
        let done = SplitTxn {
            payload,
            start: txn.start,
            end: txn.end,
            rows: survey.rows,
            gtid: txn.gtid.clone(),
            pieces: pieces.pieces,
        };
        self.report.split.push(done);
        Ok(())
    }

    fn decompressed_payload(&self, data: &[u8], txn: &Transaction) -> Result<Vec<u8>> {
        for ev in txn.events(data).verify_checksums(false) {
            let ev = ev?;
            if let EventData::TransactionPayload(p) = ev.decode(&txn.format)? {
                return p.decompress();
            }
        }
        Err(Error::malformed(txn.start, "no TRANSACTION_PAYLOAD event"))
    }

    fn copy(&mut self, data: &[u8], txn: &Transaction) -> Result<()> {
        self.report.copied += 1;
        // The grouping walk checked these events' checksums already.
        for ev in txn.events(data).verify_checksums(false) {
            let ev = ev?;
            if self.drop_gtids && ev.event_type().is_gtid() {
                self.instead_of_gtid(&ev, &txn.format)?;
            } else {
                self.w.copy_event(&ev)?;
            }
        }
        Ok(())
    }

    /// Writes what stands for a GTID event that is left out: for a MariaDB transaction
    /// the BEGIN (or XA START) its GTID event implied; nothing before a standalone
    /// statement, an XA COMMIT, or MySQL's explicit BEGIN.
    fn instead_of_gtid(&mut self, ev: &Event, format: &Format) -> Result<()> {
        let EventData::MariadbGtid(g) = ev.decode(format)? else {
            return Ok(());
        };
        let text = match &g.xid {
            Some(x) if g.flags & FL_PREPARED_XA != 0 => {
                format!("XA START {}", xid_sql(x.gtrid, x.bqual, x.format_id))
            }
            _ if g.flags & (FL_STANDALONE | FL_COMPLETED_XA) != 0 => return Ok(()),
            _ => "BEGIN".to_string(),
        };
        let stamp = Stamp {
            flags: FLAG_SUPPRESS_USE,
            ..Stamp::of(ev.header())
        };
        self.w
            .write_parts(EventType::QUERY, stamp, &[&query_body(text.as_bytes())])?;
        Ok(())
    }

    /// Walks a transaction: counts rows, finds its BEGIN and end events, and notes the
    /// first thing that keeps it from being split.
    fn survey<'b>(
        &mut self,
        events: TxnEvents<'b>,
        format: &Format,
        txn: &Transaction,
        must_count: bool,
    ) -> Result<Survey<'b>> {
        let mut sv = Survey {
            rows: Some(0),
            problem: None,
            begin: None,
            end: None,
        };
        let problem = |sv: &mut Survey, e: Error| {
            if sv.problem.is_none() {
                sv.problem = Some(e);
            }
        };
        let (payload_at, events) = events;
        let place = |e: Error| match payload_at {
            Some(at) => e.in_payload(at),
            None => e,
        };
        let span = format!("{}..{}", txn.start, txn.end);
        for ev in events {
            let ev = ev.map_err(place)?;
            let t = ev.event_type();
            let at = ev.offset();
            match t {
                t if t.is_gtid() || t == EventType::TRANSACTION_PAYLOAD => {}
                EventType::TABLE_MAP => {
                    if let EventData::TableMap(tm) = ev.decode(format).map_err(place)? {
                        self.tables.insert(&tm, ev.body());
                    }
                }
                t if t.is_rows() => match self.rows_of(&ev, format) {
                    Ok(n) => {
                        sv.rows = sv.rows.map(|r| r + n);
                    }
                    Err(e) => {
                        sv.rows = None;
                        if must_count {
                            let e = Error::unsupported(
                                at,
                                format!("the rows of the rows event at {at} cannot be counted ({e}), so the transaction at {span} cannot be measured in rows"),
                            );
                            problem(&mut sv, place(e));
                        }
                    }
                },
                EventType::MARIADB_ANNOTATE_ROWS | EventType::ROWS_QUERY => {}
                EventType::XID => {
                    if let EventData::Xid(x) = ev.decode(format).map_err(place)? {
                        sv.end = Some(End::Xid {
                            stamp: Stamp::of(ev.header()),
                            xid: x.xid,
                        });
                    }
                }
                EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => {
                    let EventData::Query(q) = ev.decode(format).map_err(place)? else {
                        continue;
                    };
                    let text = q.text().map_err(place)?;
                    let plain = Query {
                        query: &text,
                        ..q.clone()
                    };
                    if plain.is_begin() && sv.begin.is_none() {
                        sv.begin = Some(Begin {
                            stamp: Stamp::of(ev.header()),
                            t,
                            body: Cow::Borrowed(ev.body()),
                        });
                    } else if plain.is_commit() || plain.is_rollback() {
                        sv.end = Some(End::Query {
                            stamp: Stamp::of(ev.header()),
                            t,
                            body: ev.body(),
                        });
                    } else if is_ddl(&text) {
                        problem(
                            &mut sv,
                            place(Error::unsupported(
                                at,
                                format!("the transaction at {span} mixes DDL with row changes"),
                            )),
                        );
                    } else {
                        problem(
                            &mut sv,
                            place(Error::unsupported(
                                at,
                                format!(
                                    "the transaction at {span} holds statement-format changes (a QUERY event)"
                                ),
                            )),
                        );
                    }
                }
                EventType::INTVAR
                | EventType::RAND
                | EventType::USER_VAR
                | EventType::BEGIN_LOAD_QUERY
                | EventType::EXECUTE_LOAD_QUERY
                | EventType::APPEND_BLOCK
                | EventType::CREATE_FILE
                | EventType::EXEC_LOAD
                | EventType::DELETE_FILE => problem(
                    &mut sv,
                    place(Error::unsupported(
                        at,
                        format!(
                            "the transaction at {span} holds statement-format changes ({})",
                            t.show_name()
                        ),
                    )),
                ),
                _ => problem(
                    &mut sv,
                    place(Error::unsupported(
                        at,
                        format!(
                            "the transaction at {span} holds a {} event, which split does not handle",
                            t.show_name()
                        ),
                    )),
                ),
            }
        }
        Ok(sv)
    }

    /// Rows of a rows event, with the table maps seen so far.
    fn rows_of(&mut self, ev: &Event, format: &Format) -> Result<u64> {
        let EventData::Rows(re) = ev.decode(format)? else {
            return Ok(0);
        };
        let data = re.rows_data()?;
        let cached = self
            .tables
            .get(re.table_id)
            .ok_or_else(|| no_map(&re, ev.offset()))?;
        cached.count_rows(&re, &data, &mut self.scratch)
    }

    fn table_info(&self, re: &RowsEvent, at: u64) -> Result<&crate::row::TableInfo> {
        let cached = self.tables.get(re.table_id).ok_or_else(|| no_map(re, at))?;
        cached.info.as_ref().map_err(Clone::clone)
    }

    fn event_len(&self, body_len: usize) -> u64 {
        (HEADER_LEN + body_len) as u64 + self.crc
    }
}

/// The events of a transaction: the payload's offset when they come from inside one.
type TxnEvents<'b> = (
    Option<u64>,
    Box<dyn Iterator<Item = Result<Event<'b>>> + 'b>,
);

fn txn_events<'b>(data: &'b [u8], txn: &Transaction, inner: Option<&'b Vec<u8>>) -> TxnEvents<'b> {
    match inner {
        Some(buf) => {
            let at = txn.end_event.unwrap_or(txn.start);
            (
                Some(at),
                Box::new(payload_events(buf, &txn.format).verify_checksums(false)),
            )
        }
        None => (None, Box::new(txn.events(data).verify_checksums(false))),
    }
}

/// A plain `BEGIN` QUERY event, stamped like the transaction's first event.
fn synthesized_begin<'b>(data: &[u8], txn: &Transaction) -> Begin<'b> {
    let stamp = txn
        .events(data)
        .verify_checksums(false)
        .next()
        .and_then(|e| e.ok())
        .map(|e| Stamp::of(e.header()))
        .unwrap_or(Stamp {
            timestamp: txn.first_timestamp,
            server_id: txn.server_id,
            flags: 0,
        });
    Begin {
        stamp: Stamp {
            flags: FLAG_SUPPRESS_USE,
            ..stamp
        },
        t: EventType::QUERY,
        body: Cow::Owned(query_body(b"BEGIN")),
    }
}

/// The body of a QUERY event running `text` with no database and no session variables.
fn query_body(text: &[u8]) -> Vec<u8> {
    let q = Query {
        compressed: false,
        thread_id: 0,
        exec_time: 0,
        error_code: 0,
        post_header_extra: &[],
        status: Some(&[]),
        db: &[],
        query: text,
    };
    let mut body = Vec::new();
    q.encode(&mut body);
    body
}

/// Writes the pieces of one transaction.
struct PiecesWriter<'s, 'b, W: Write> {
    s: &'s mut Splitter<W>,
    begin: Begin<'b>,
    end: End<'b>,
    stmt: Stmt<'b>,
    open: Option<Open<'b>>,
    pieces: Vec<Piece>,
    format: &'s Format,
}

impl<'b, W: Write> PiecesWriter<'_, 'b, W> {
    fn run(&mut self, events: TxnEvents<'b>) -> Result<()> {
        let (payload_at, events) = events;
        let place = |e: Error| match payload_at {
            Some(at) => e.in_payload(at),
            None => e,
        };
        for ev in events {
            let ev = ev.map_err(place)?;
            let t = ev.event_type();
            match t {
                EventType::TABLE_MAP => {
                    if self.stmt.ended {
                        self.stmt = Stmt::default();
                    }
                    let EventData::TableMap(tm) = ev.decode(self.format).map_err(place)? else {
                        continue;
                    };
                    self.s.tables.insert(&tm, ev.body());
                    self.stmt.maps.retain(|m| m.0 != tm.table_id);
                    self.stmt.maps.push((tm.table_id, ev, false));
                }
                EventType::MARIADB_ANNOTATE_ROWS | EventType::ROWS_QUERY => {
                    if self.stmt.ended {
                        self.stmt = Stmt::default();
                    }
                    self.stmt.annotation = Some(ev);
                }
                t if t.is_rows() => {
                    self.place(&ev).map_err(place)?;
                }
                // GTID, BEGIN, the payload event, XID / COMMIT: written per piece.
                _ => {}
            }
        }
        if self.open.is_some() {
            self.close()?;
        }
        Ok(())
    }

    fn fits(&self, bytes: u64, rows: Option<u64>) -> bool {
        match self.s.limit {
            Limit::Bytes(b) => bytes + self.end_len() <= b,
            Limit::Rows(n) => rows.unwrap_or(0) <= n,
        }
    }

    fn begin_len(&self) -> u64 {
        self.s.event_len(self.begin.body.len())
    }

    fn end_len(&self) -> u64 {
        match self.end {
            End::Xid { .. } => self.s.event_len(8),
            End::Query { body, .. } => self.s.event_len(body.len()),
        }
    }

    /// Bytes and rows of the open piece, the pending unit included.
    fn used(&self) -> (u64, Option<u64>) {
        match &self.open {
            Some(o) => (
                self.s.w.position() - o.start + o.pending.as_ref().map_or(0, |p| p.len),
                o.rows,
            ),
            None => (self.begin_len(), Some(0)),
        }
    }

    /// Bytes of the TABLE_MAPs not yet written in the open piece (all of them when none
    /// is open).
    fn maps_len(&self) -> u64 {
        let open = self.open.is_some();
        self.stmt
            .maps
            .iter()
            .filter(|m| !(open && m.2))
            .map(|m| m.1.raw().len() as u64)
            .sum()
    }

    fn all_maps_len(&self) -> u64 {
        self.stmt.maps.iter().map(|m| m.1.raw().len() as u64).sum()
    }

    fn annotation_len(&self) -> u64 {
        self.stmt.annotation.map_or(0, |a| a.raw().len() as u64)
    }

    fn place(&mut self, ev: &Event<'b>) -> Result<()> {
        let rows = self.s.rows_of(ev, self.format).ok();
        if matches!(self.s.limit, Limit::Rows(_)) && rows.is_none() {
            // The survey counted them; a failure now would be a bug.
            return Err(Error::malformed(ev.offset(), "rows could not be counted"));
        }
        let len = ev.raw().len() as u64;
        let stmt_end = is_stmt_end(ev, self.format);
        let empty = self.begin_len() + self.all_maps_len();
        let fits_empty = self.fits(empty + len, rows);
        if self.open.is_some() {
            let (used, r) = self.used();
            if self.fits(
                used + self.annotation_len() + self.maps_len() + len,
                add(r, rows),
            ) {
                self.stage_whole(ev, len, rows)?;
                self.stmt.ended = stmt_end;
                return Ok(());
            }
            // An event that must be cut anyway starts in what is left of this piece.
            if fits_empty {
                self.close()?;
            }
        }
        if fits_empty {
            if !self.fits(empty + self.annotation_len() + len, rows) {
                self.drop_annotation();
            }
            self.open_piece()?;
            self.stage_whole(ev, len, rows)?;
        } else {
            self.cut(ev)?;
        }
        self.stmt.ended = stmt_end;
        Ok(())
    }

    fn drop_annotation(&mut self) {
        if let Some(a) = self.stmt.annotation.take() {
            self.s.report.dropped_annotations.push(a.offset());
        }
    }

    fn open_piece(&mut self) -> Result<()> {
        let start = self.s.w.position();
        self.s
            .w
            .write_parts(self.begin.t, self.begin.stamp, &[&self.begin.body])?;
        for m in &mut self.stmt.maps {
            m.2 = false;
        }
        self.open = Some(Open {
            start,
            rows: Some(0),
            pending: None,
            from: None,
            to: (0, None),
        });
        Ok(())
    }

    /// Writes the pending unit, then what the next unit needs before it.
    fn prepare(&mut self) -> Result<()> {
        self.flush_pending(false)?;
        if let Some(a) = self.stmt.annotation.take() {
            self.s.w.copy_event(&a)?;
        }
        for m in &mut self.stmt.maps {
            if !m.2 {
                self.s.w.copy_event(&m.1)?;
                m.2 = true;
            }
        }
        Ok(())
    }

    fn stage_whole(&mut self, ev: &Event<'b>, len: u64, rows: Option<u64>) -> Result<()> {
        self.prepare()?;
        let o = self.open.as_mut().expect("a piece is open");
        o.rows = add(o.rows, rows);
        o.from.get_or_insert((ev.offset(), 0));
        o.to = (ev.offset(), None);
        o.pending = Some(Pending {
            unit: Unit::Whole(*ev),
            len,
        });
        Ok(())
    }

    fn stage_part(
        &mut self,
        ev: &Event<'b>,
        head: &RowsEvent<'b>,
        data: &Rc<Cow<'b, [u8]>>,
        range: Range<usize>,
        rows: Range<u64>,
        len: u64,
    ) -> Result<()> {
        self.prepare()?;
        let o = self.open.as_mut().expect("a piece is open");
        o.rows = o.rows.map(|r| r + (rows.end - rows.start));
        o.from.get_or_insert((ev.offset(), rows.start));
        o.to = (ev.offset(), Some(rows.end));
        o.pending = Some(Pending {
            unit: Unit::Part {
                stamp: Stamp::of(ev.header()),
                head: head.clone(),
                data: Rc::clone(data),
                range,
            },
            len,
        });
        Ok(())
    }

    /// Writes the pending unit; `last` sets `STMT_END_F` on it.
    fn flush_pending(&mut self, last: bool) -> Result<()> {
        let Some(p) = self.open.as_mut().and_then(|o| o.pending.take()) else {
            return Ok(());
        };
        let mut head = Vec::new();
        match p.unit {
            Unit::Whole(ev) => {
                let EventData::Rows(re) = ev.decode(self.format)? else {
                    return Err(Error::malformed(ev.offset(), "not a rows event"));
                };
                if !last || re.is_stmt_end() {
                    self.s.w.copy_event(&ev)?;
                } else {
                    let re = RowsEvent {
                        flags: re.flags | STMT_END_F,
                        ..re
                    };
                    re.encode_head(&mut head);
                    self.s.w.write_parts(
                        ev.event_type(),
                        Stamp::of(ev.header()),
                        &[&head, re.data],
                    )?;
                }
            }
            Unit::Part {
                stamp,
                head: re,
                data,
                range,
            } => {
                let re = RowsEvent {
                    flags: if last {
                        re.flags | STMT_END_F
                    } else {
                        re.flags
                    },
                    ..re
                };
                re.encode_head(&mut head);
                self.s
                    .w
                    .write_parts(re.event_type, stamp, &[&head, &data[range]])?;
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.flush_pending(true)?;
        let k = self.pieces.len() as u64;
        match self.end {
            End::Xid { stamp, xid } => {
                let body = EventData::Xid(Xid {
                    xid: xid.wrapping_add(k),
                });
                self.s.w.write_data(EventType::XID, stamp, &body)?;
            }
            End::Query { stamp, t, body } => {
                self.s.w.write_parts(t, stamp, &[body])?;
            }
        }
        let o = self.open.take().expect("a piece is open");
        let (from_event, from_row) = o.from.unwrap_or((0, 0));
        let piece = Piece {
            out_start: o.start,
            out_end: self.s.w.position(),
            rows: o.rows,
            from_event,
            from_row,
            to_event: o.to.0,
            to_row: o.to.1,
        };
        let within = match self.s.limit {
            Limit::Bytes(b) => piece.bytes() <= b,
            Limit::Rows(n) => piece.rows.is_some_and(|r| r <= n),
        };
        if !within {
            return Err(Error::malformed(
                piece.out_start,
                format!(
                    "internal error: a piece of {} bytes came out over the limit",
                    piece.bytes()
                ),
            ));
        }
        self.pieces.push(piece);
        Ok(())
    }

    /// Places a rows event that does not fit in an empty piece, cut at row boundaries.
    fn cut(&mut self, ev: &Event<'b>) -> Result<()> {
        let EventData::Rows(re) = ev.decode(self.format)? else {
            return Err(Error::malformed(ev.offset(), "not a rows event"));
        };
        let data = Rc::new(re.rows_data()?);
        let head = if re.compressed {
            re.retyped(re.kind, false).ok_or_else(|| {
                Error::unsupported(ev.offset(), "no uncompressed type for this rows event")
            })?
        } else {
            re.clone()
        };
        // Every piece but the event's last leaves the statement open.
        let mid = RowsEvent {
            flags: head.flags & !STMT_END_F,
            ..head.clone()
        };
        let mut scratch = Vec::new();
        head.encode_head(&mut scratch);
        let head_len = scratch.len();
        let crc = self.s.crc;
        let part_len = |n: usize| (HEADER_LEN + head_len + n) as u64 + crc;
        let info = self.s.table_info(&re, ev.offset())?.clone();
        let mut spans = Vec::new();
        for row in Rows::new(&re, &data, &info)? {
            let row = row?;
            spans.push(row.start..row.end);
        }
        if self.open.is_none() {
            self.open_piece()?;
        }
        if spans.is_empty() {
            return self.stage_whole(ev, ev.raw().len() as u64, Some(0));
        }
        let mut first = 0usize;
        let n = spans.len();
        for i in 0..n {
            if i > first {
                let (used, r) = self.used();
                let extra = self.maps_len() + self.annotation_len();
                let count = (i - first + 1) as u64;
                let len = part_len(spans[i].end - spans[first].start);
                if self.fits(used + extra + len, add(r, Some(count))) {
                    continue;
                }
                // Rows first..i fill this piece: write them and go on in a new one.
                let range = spans[first].start..spans[i - 1].end;
                let len = part_len(range.len());
                self.stage_part(ev, &mid, &data, range, first as u64..i as u64, len)?;
                self.close()?;
                self.open_piece()?;
                first = i;
            }
            // Row i starts a part: it must fit on its own.
            loop {
                let (used, r) = self.used();
                let extra = self.maps_len() + self.annotation_len();
                if self.fits(used + extra + part_len(spans[i].len()), add(r, Some(1))) {
                    break;
                }
                if self.open.as_ref().is_some_and(|o| o.pending.is_some()) {
                    self.close()?;
                    self.open_piece()?;
                } else if self.stmt.annotation.is_some() {
                    self.drop_annotation();
                } else {
                    return Err(Error::unsupported(
                        ev.offset(),
                        format!(
                            "row {} of the rows event at {} takes {} bytes: a transaction holding it cannot stay within the limit ({})",
                            i + 1,
                            ev.offset(),
                            spans[i].len(),
                            self.s.limit
                        ),
                    ));
                }
            }
        }
        let range = spans[first].start..spans[n - 1].end;
        let len = part_len(range.len());
        self.stage_part(ev, &head, &data, range, first as u64..n as u64, len)
    }
}

fn no_map(re: &RowsEvent, at: u64) -> Error {
    Error::malformed(
        at,
        format!(
            "rows event for table id {} without a TABLE_MAP",
            re.table_id
        ),
    )
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    Some(a? + b?)
}

fn is_stmt_end(ev: &Event, format: &Format) -> bool {
    matches!(ev.decode(format), Ok(EventData::Rows(re)) if re.is_stmt_end())
}
