//! Grouping events into transactions.
//!
//! A binlog is a sequence of *groups*: transactions (what a replica applies atomically)
//! and control events that belong to none (FDE, ROTATE, STOP, PREVIOUS_GTIDS, GTID_LIST,
//! BINLOG_CHECKPOINT, ...). The shapes servers write:
//!
//! - MySQL: `GTID | ANONYMOUS_GTID` then `BEGIN … XID | COMMIT | ROLLBACK`, or a single
//!   statement (DDL, `XA COMMIT`), or one TRANSACTION_PAYLOAD; XA: `GTID, XA START … XA END,
//!   XA_PREPARE`.
//! - MariaDB: `GTID` (which stands for BEGIN) `… XID | COMMIT | ROLLBACK`; a GTID flagged
//!   standalone (DDL) or completing an XA is followed by one statement; XA prepare groups end
//!   with XA_PREPARE.
//! - Before GTIDs: `BEGIN … XID | COMMIT`, or context events (INTVAR, RAND, USER_VAR) and one
//!   statement.
//!
//! Walking needs only headers and the few bytes of GTID and QUERY events that tell the
//! shape; nothing is copied. A group cut off by the end of the data (or by a new GTID,
//! which only a damaged or concatenated file has) is reported incomplete.

use std::sync::Arc;

use crate::error::Result;
use crate::event::gtid::{FL_COMPLETED_XA, FL_STANDALONE};
use crate::event::header::EventType;
use crate::event::{Event, EventData};
use crate::gtid_set::GtidValue;
use crate::reader::Events;
use crate::Format;

/// What kind of transaction a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    /// `BEGIN … COMMIT` (or XID): row or statement changes.
    Dml,
    /// One statement outside BEGIN/COMMIT: DDL, or an autocommitted non-transactional
    /// statement of an old server.
    Statement,
    /// The first phase of an XA transaction (ends with XA_PREPARE).
    XaPrepare,
    /// `XA COMMIT` / `XA ROLLBACK` of a prepared transaction.
    XaEnd,
    /// A MySQL TRANSACTION_PAYLOAD (the transaction compressed as one event).
    Payload,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnEnd {
    /// XID event.
    Xid,
    /// QUERY `COMMIT`.
    Commit,
    /// QUERY `ROLLBACK` (non-transactional changes that could not be undone).
    Rollback,
    /// XA_PREPARE.
    XaPrepare,
    /// The single statement of a standalone group.
    Statement,
    /// Not ended: the data stopped (or another group began) first.
    Incomplete,
}

/// MySQL 8 GTID event details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitInfo {
    /// Commit time on the server that wrote the file, µs since the epoch.
    pub immediate_commit_ts: Option<u64>,
    /// Commit time on the original source, µs since the epoch.
    pub original_commit_ts: Option<u64>,
    /// The transaction length the GTID event announces.
    pub transaction_length: Option<u64>,
}

/// A transaction: where it lies and what shape it has. Its events can be walked again
/// with [`Transaction::events`].
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Offset of its first event (the GTID, or BEGIN, or the statement's first context event).
    pub start: u64,
    /// Offset just past its last event.
    pub end: u64,
    /// Kind.
    pub kind: TxnKind,
    /// How it ended.
    pub end_kind: TxnEnd,
    /// Header timestamp of the first event.
    pub first_timestamp: u32,
    /// Header timestamp of the last event.
    pub last_timestamp: u32,
    /// Number of top-level events.
    pub events: usize,
    /// Number of rows events (top-level; those inside a payload are not counted here).
    pub rows_events: usize,
    /// Server id of the first event.
    pub server_id: u32,
    /// The GTID, when the group has one (not for ANONYMOUS).
    pub gtid: Option<GtidValue>,
    /// MySQL commit timestamps and announced length.
    pub commit: CommitInfo,
    /// Offset of the event that ends it (XID, COMMIT, XA_PREPARE, the statement).
    pub end_event: Option<u64>,
    /// The format in force.
    pub format: Arc<Format>,
}

impl Transaction {
    /// Whether it ended properly.
    pub fn is_complete(&self) -> bool {
        self.end_kind != TxnEnd::Incomplete
    }

    /// Bytes it takes in the file.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether it holds no bytes (never, for a group the iterator yields).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Its events, walked again from `data` (the file's bytes).
    pub fn events<'a>(&self, data: &'a [u8]) -> Events<'a> {
        Events::range(data, self.start, self.end, Arc::clone(&self.format))
    }

    /// Calls `f` for each of its events in order, going into a TRANSACTION_PAYLOAD: the
    /// payload event itself is not passed, its inner events are, with where they lie (the
    /// payload's offset and their index in it) as the third argument. Errors inside a
    /// payload name the payload's offset.
    pub fn visit<F>(&self, data: &[u8], f: F) -> Result<()>
    where
        F: FnMut(&Event, &Format, Option<InPayload>) -> Result<()>,
    {
        self.visit_events(self.events(data), f)
    }

    /// [`Transaction::visit`] without verifying the events' CRC32 again: for a
    /// transaction that a verifying walk (such as [`crate::filter::Filter::walk`]) has
    /// just read from the same bytes.
    pub fn visit_walked<F>(&self, data: &[u8], f: F) -> Result<()>
    where
        F: FnMut(&Event, &Format, Option<InPayload>) -> Result<()>,
    {
        self.visit_events(self.events(data).verify_checksums(false), f)
    }

    fn visit_events<F>(&self, events: Events, mut f: F) -> Result<()>
    where
        F: FnMut(&Event, &Format, Option<InPayload>) -> Result<()>,
    {
        for ev in events {
            let ev = ev?;
            if ev.event_type() == EventType::TRANSACTION_PAYLOAD {
                if let EventData::TransactionPayload(p) = ev.decode(&self.format)? {
                    let inner = p.decompress()?;
                    let at = ev.offset();
                    let events = crate::event::payload::payload_events(&inner, &self.format);
                    for (index, iev) in events.enumerate() {
                        let iev = iev.map_err(|e| e.in_payload(at))?;
                        let place = InPayload { offset: at, index };
                        f(&iev, &self.format, Some(place)).map_err(|e| e.in_payload(at))?;
                    }
                    continue;
                }
            }
            f(&ev, &self.format, None)?;
        }
        Ok(())
    }
}

/// Where an event inside a TRANSACTION_PAYLOAD lies: the payload event's offset in the
/// file, and the event's index among the payload's events (from 0). (Offsets of inner
/// events are offsets in the decompressed payload, which no file has.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InPayload {
    /// The TRANSACTION_PAYLOAD event's offset in the file.
    pub offset: u64,
    /// The event's index inside the payload.
    pub index: usize,
}

/// A group of events: a transaction, or a control event outside any.
#[derive(Debug, Clone)]
pub enum Group<'a> {
    /// A transaction.
    Transaction(Transaction),
    /// An event that belongs to no transaction.
    Control(Event<'a>),
}

/// Whether an event type stands outside transactions.
pub fn is_control(t: EventType) -> bool {
    matches!(
        t,
        EventType::FORMAT_DESCRIPTION
            | EventType::START_V3
            | EventType::ROTATE
            | EventType::STOP
            | EventType::PREVIOUS_GTIDS
            | EventType::MARIADB_GTID_LIST
            | EventType::MARIADB_BINLOG_CHECKPOINT
            | EventType::MARIADB_START_ENCRYPTION
            | EventType::HEARTBEAT
            | EventType::HEARTBEAT_V2
            | EventType::INCIDENT
    )
}

/// Whether an event only sets context for the statement after it.
fn is_context(t: EventType) -> bool {
    matches!(
        t,
        EventType::INTVAR
            | EventType::RAND
            | EventType::USER_VAR
            | EventType::ROWS_QUERY
            | EventType::MARIADB_ANNOTATE_ROWS
            | EventType::BEGIN_LOAD_QUERY
            | EventType::APPEND_BLOCK
            | EventType::CREATE_FILE
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside BEGIN … COMMIT.
    Open,
    /// After a GTID, before we know the shape.
    AfterGtid,
    /// Waiting for the one statement that ends a standalone group.
    Statement,
    /// Rows events without BEGIN: until the one that ends the statement.
    Implicit,
}

/// Iterator of [`Group`]s over an [`Events`] walk.
#[derive(Debug)]
pub struct Transactions<'a> {
    events: Events<'a>,
    lookahead: Option<Event<'a>>,
    pending_error: Option<crate::error::Error>,
    done: bool,
}

impl<'a> Transactions<'a> {
    /// Groups the events of `events`.
    pub fn new(events: Events<'a>) -> Transactions<'a> {
        Transactions {
            events,
            lookahead: None,
            pending_error: None,
            done: false,
        }
    }

    fn pull(&mut self) -> Option<Result<Event<'a>>> {
        if let Some(ev) = self.lookahead.take() {
            return Some(Ok(ev));
        }
        self.events.next()
    }

    fn begin(&self, ev: &Event<'a>, kind: TxnKind) -> Transaction {
        Transaction {
            start: ev.offset(),
            end: ev.end_offset(),
            kind,
            end_kind: TxnEnd::Incomplete,
            first_timestamp: ev.header().timestamp,
            last_timestamp: ev.header().timestamp,
            events: 1,
            rows_events: usize::from(ev.event_type().is_rows()),
            server_id: ev.header().server_id,
            gtid: None,
            commit: CommitInfo::default(),
            end_event: None,
            format: self.events.shared_format(),
        }
    }

    fn next_group(
        &mut self,
        sink: &mut dyn FnMut(&Event<'a>, &Format),
    ) -> Option<Result<Group<'a>>> {
        let first = match self.pull()? {
            Ok(ev) => ev,
            Err(e) => return Some(Err(e)),
        };
        if first.is_encrypted() || is_control(first.event_type()) {
            return Some(Ok(Group::Control(first)));
        }
        let format = self.events.shared_format();
        sink(&first, &format);
        let mut txn = self.begin(&first, TxnKind::Statement);
        let Some(mut state) = start(&mut txn, &first, &format) else {
            return Some(Ok(Group::Transaction(txn)));
        };
        loop {
            let ev = match self.pull() {
                None => break,
                Some(Err(e)) => {
                    // Report the transaction so far; the error comes next.
                    self.pending_error = Some(e);
                    break;
                }
                Some(Ok(ev)) => ev,
            };
            if starts_another(state, &ev, &format) {
                // Another group starts: this one was cut off.
                self.lookahead = Some(ev);
                break;
            }
            txn.add(&ev);
            sink(&ev, &format);
            if advance(&mut txn, &mut state, &ev, &format) {
                break;
            }
        }
        Some(Ok(Group::Transaction(txn)))
    }
}

/// What the first event of a group says about it: its kind and GTID, and the state the
/// walk goes on in (`None`: the group is this one event, already finished).
fn start(txn: &mut Transaction, first: &Event, format: &Format) -> Option<State> {
    Some(match classify(first, format) {
        First::MysqlGtid { gtid, commit } => {
            txn.gtid = gtid;
            txn.commit = commit;
            State::AfterGtid
        }
        First::MariadbGtid { gtid, flags } => {
            txn.gtid = Some(gtid);
            // MariaDB flags the XA COMMIT/ROLLBACK group standalone too.
            if flags & FL_COMPLETED_XA != 0 {
                txn.kind = TxnKind::XaEnd;
                State::Statement
            } else if flags & FL_STANDALONE != 0 {
                State::Statement
            } else {
                txn.kind = TxnKind::Dml;
                State::Open
            }
        }
        First::Begin { xa } => {
            txn.kind = if xa { TxnKind::XaPrepare } else { TxnKind::Dml };
            State::Open
        }
        First::Statement { xa_end } => {
            if xa_end {
                txn.kind = TxnKind::XaEnd;
            }
            txn.end_kind = TxnEnd::Statement;
            txn.end_event = Some(first.offset());
            return None;
        }
        First::Context => State::Statement,
        First::Other => {
            // Rows events without BEGIN (very old servers) form an implicit
            // transaction that ends with the statement's last rows event.
            txn.kind = TxnKind::Dml;
            if ends_statement(first, format) {
                txn.finish(first, TxnEnd::Statement);
                return None;
            }
            State::Implicit
        }
    })
}

/// Whether `ev` starts another group, so that the one in `state` was cut off.
fn starts_another(state: State, ev: &Event, format: &Format) -> bool {
    let t = ev.event_type();
    let begins = matches!(state, State::Open | State::Implicit)
        && t == EventType::QUERY
        && matches!(classify(ev, format), First::Begin { .. });
    ev.is_encrypted() || is_control(t) || t.is_gtid() || begins
}

/// Takes `ev` (already added to `txn`) into account; true when it ends the group.
fn advance(txn: &mut Transaction, state: &mut State, ev: &Event, format: &Format) -> bool {
    let t = ev.event_type();
    let statement_end = |txn: &mut Transaction| {
        if let First::Statement { xa_end: true } = classify(ev, format) {
            txn.kind = TxnKind::XaEnd;
        }
        txn.finish(ev, TxnEnd::Statement);
        true
    };
    match *state {
        State::AfterGtid => {
            if t == EventType::QUERY {
                if let Some(xa) = begin_xa(ev, format) {
                    txn.kind = if xa { TxnKind::XaPrepare } else { TxnKind::Dml };
                    *state = State::Open;
                    return false;
                }
            }
            match t {
                EventType::TRANSACTION_PAYLOAD => {
                    txn.kind = TxnKind::Payload;
                    txn.finish(ev, TxnEnd::Statement);
                    return true;
                }
                EventType::QUERY
                | EventType::MARIADB_QUERY_COMPRESSED
                | EventType::EXECUTE_LOAD_QUERY => return statement_end(txn),
                _ if is_context(t) => *state = State::Statement,
                _ => {
                    txn.kind = TxnKind::Dml;
                    *state = State::Open;
                }
            }
        }
        State::Statement => {
            if matches!(
                t,
                EventType::QUERY
                    | EventType::MARIADB_QUERY_COMPRESSED
                    | EventType::EXECUTE_LOAD_QUERY
                    | EventType::EXEC_LOAD
            ) {
                return statement_end(txn);
            }
            if t.is_rows() || t == EventType::TABLE_MAP {
                txn.kind = TxnKind::Dml;
                *state = State::Open;
            }
        }
        State::Implicit => {
            if ends_statement(ev, format) {
                txn.finish(ev, TxnEnd::Statement);
                return true;
            }
        }
        State::Open => return open_event_ends(txn, ev, format),
    }
    false
}

/// For a BEGIN (or XA START): whether it starts an XA transaction.
fn begin_xa(ev: &Event, format: &Format) -> Option<bool> {
    match classify(ev, format) {
        First::Begin { xa } => Some(xa),
        _ => None,
    }
}

/// Inside BEGIN … : whether `ev` ends the transaction (XID, XA PREPARE, COMMIT,
/// ROLLBACK, XA COMMIT … ONE PHASE).
fn open_event_ends(txn: &mut Transaction, ev: &Event, format: &Format) -> bool {
    match ev.event_type() {
        EventType::XID => {
            txn.finish(ev, TxnEnd::Xid);
            true
        }
        EventType::XA_PREPARE => {
            txn.kind = TxnKind::XaPrepare;
            txn.finish(ev, TxnEnd::XaPrepare);
            true
        }
        EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => {
            let Ok(EventData::Query(q)) = ev.decode(format) else {
                return false;
            };
            let end = if q.is_commit() {
                TxnEnd::Commit
            } else if q.is_rollback() {
                TxnEnd::Rollback
            } else if let First::Statement { xa_end: true } = classify(ev, format) {
                // XA COMMIT ... ONE PHASE ends an XA transaction in one go.
                TxnEnd::Commit
            } else {
                return false;
            };
            txn.finish(ev, end);
            true
        }
        _ => false,
    }
}

impl<'a> Iterator for Transactions<'a> {
    type Item = Result<Group<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with(&mut |_, _| {})
    }
}

impl<'a> Transactions<'a> {
    /// Like [`Iterator::next`], also handing each event of a transaction to `sink`, with
    /// the format in force, as the walk reaches it: one pass over the bytes for callers
    /// that look at every event (the events of a TRANSACTION_PAYLOAD are not opened).
    pub fn next_with(
        &mut self,
        sink: &mut dyn FnMut(&Event<'a>, &Format),
    ) -> Option<Result<Group<'a>>> {
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let r = self.next_group(sink);
        match &r {
            None | Some(Err(_)) => self.done = true,
            Some(Ok(_)) => {}
        }
        r
    }
}

impl Transaction {
    fn add(&mut self, ev: &Event) {
        self.end = ev.end_offset();
        self.last_timestamp = ev.header().timestamp;
        self.events += 1;
        if ev.event_type().is_rows() {
            self.rows_events += 1;
        }
    }

    fn finish(&mut self, ev: &Event, end: TxnEnd) {
        self.end_kind = end;
        self.end_event = Some(ev.offset());
    }
}

/// Whether `ev` is a rows event flagged as its statement's last.
fn ends_statement(ev: &Event, format: &Format) -> bool {
    ev.event_type().is_rows()
        && matches!(ev.decode(format), Ok(EventData::Rows(r)) if r.is_stmt_end())
}

/// What the first event of a group says about its shape.
enum First {
    MysqlGtid {
        gtid: Option<GtidValue>,
        commit: CommitInfo,
    },
    MariadbGtid {
        gtid: GtidValue,
        flags: u8,
    },
    Begin {
        xa: bool,
    },
    Statement {
        xa_end: bool,
    },
    Context,
    Other,
}

fn classify(ev: &Event, format: &Format) -> First {
    let t = ev.event_type();
    if is_context(t) {
        return First::Context;
    }
    match ev.decode(format) {
        Ok(EventData::Gtid(g)) => First::MysqlGtid {
            gtid: g.value(),
            commit: CommitInfo {
                immediate_commit_ts: g.immediate_commit_ts,
                original_commit_ts: g.original_commit_ts(),
                transaction_length: g.transaction_length,
            },
        },
        Ok(EventData::MariadbGtid(g)) => First::MariadbGtid {
            gtid: g.value(ev.header().server_id),
            flags: g.flags,
        },
        Ok(EventData::Query(q)) => {
            let text = q.text().unwrap_or_default();
            let upper: Vec<u8> = text.iter().take(16).map(u8::to_ascii_uppercase).collect();
            if q.is_begin() {
                First::Begin { xa: false }
            } else if upper.starts_with(b"XA START") || upper.starts_with(b"XA BEGIN") {
                First::Begin { xa: true }
            } else {
                First::Statement {
                    xa_end: upper.starts_with(b"XA COMMIT") || upper.starts_with(b"XA ROLLBACK"),
                }
            }
        }
        _ if t == EventType::EXECUTE_LOAD_QUERY || t == EventType::EXEC_LOAD => {
            First::Statement { xa_end: false }
        }
        _ => First::Other,
    }
}
