//! Point-in-time cuts: the selected transactions of consecutive binlogs written as one
//! binlog, ready for `mysqlbinlog OUT | mysql`.
//!
//! Whole transactions are selected by the [`Filter`]'s positions, times and GTIDs. When
//! it also selects rows (databases, tables, kinds), each transaction is rewritten with
//! only the rows events of the selection:
//!
//! - a rows event outside it is left out, and so is the TABLE_MAP of a table none of
//!   whose rows events in that statement stays (and the statement's annotation, when
//!   none of its rows events stays);
//! - the last rows event kept of a statement carries `STMT_END_F`, so that the server
//!   applying it ends the statement there even when the statement's last rows event
//!   was left out;
//! - statements (QUERY events) are kept or left out by the tables they name
//!   ([`Filter::statement_choice`]); one whose tables cannot be told is left out with a
//!   [`Note`], and the context events before a statement (INTVAR, RAND, USER_VAR) go
//!   with it;
//! - a transaction left with no rows event and no statement is not written; an XA
//!   transaction always is (its XA COMMIT names it), however empty.
//!
//! A MySQL compressed transaction whose rows are selected is written uncompressed.
//! With `drop_gtids`, no GTID event is written (see
//! [`BinlogWriter::write_in_place_of_gtid`]): the server applying the output gives every
//! transaction a fresh GTID, as a gtid_strict_mode server whose domain is already past
//! the source's sequence numbers requires.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use crate::error::{Error, Result};
use crate::event::header::EventType;
use crate::event::payload::payload_events;
use crate::event::rows::{RowsEvent, STMT_END_F};
use crate::event::{Event, EventData};
use crate::filter::{Filter, Outcome, StatementChoice};
use crate::reader::Binlog;
use crate::sql::statement::is_transaction_control;
use crate::txn::{Transaction, TxnKind};
use crate::writer::{BinlogWriter, Stamp};
use crate::Format;

/// Something left out that the user should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Offset in the input file (of the payload event, for an event inside one).
    pub offset: u64,
    /// What and why.
    pub message: String,
}

/// What cutting one input file did.
#[derive(Debug, Clone, Default)]
pub struct FileCut {
    /// Transactions written.
    pub written: u64,
    /// Selected transactions left out because none of their rows events or statements
    /// is selected.
    pub emptied: u64,
    /// Statements left out because their tables cannot be told, in file order.
    pub notes: Vec<Note>,
    /// What the selection's walk met: a damaged tail, a stop bound inside a transaction.
    pub outcome: Outcome,
}

/// Writes the selected transactions of consecutive files as one binlog.
pub struct Cutter<'f, W: Write> {
    w: BinlogWriter<W>,
    filter: &'f Filter,
    drop_gtids: bool,
    last_stamp: Stamp,
}

impl<W: Write> std::fmt::Debug for Cutter<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cutter").field("w", &self.w).finish()
    }
}

impl<'f, W: Write> Cutter<'f, W> {
    /// Starts the output with the FORMAT_DESCRIPTION event of `first` (the first input).
    pub fn new(out: W, first: &Binlog, filter: &'f Filter, drop_gtids: bool) -> Result<Self> {
        let (w, _, last_stamp) = BinlogWriter::copying(out, first)?;
        Ok(Cutter {
            w,
            filter,
            drop_gtids,
            last_stamp,
        })
    }

    /// Writes the selected transactions of `log`, one file of the selection (the position
    /// bounds apply to the first and the last file).
    pub fn file(&mut self, log: &Binlog, first_file: bool, last_file: bool) -> Result<FileCut> {
        let mut cut = FileCut::default();
        let data = log.data();
        let mut selected = self.filter.selected(log, first_file, last_file);
        for txn in selected.by_ref() {
            let txn = txn?;
            let written = if self.filter.selects_rows() {
                self.filtered(data, &txn, &mut cut.notes)?
            } else {
                self.whole(data, &txn)?;
                true
            };
            if written {
                cut.written += 1;
            } else {
                cut.emptied += 1;
            }
        }
        cut.outcome = selected.outcome().clone();
        Ok(cut)
    }

    /// Ends the output with a STOP event and returns it.
    pub fn finish(self) -> Result<W> {
        let stamp = Stamp {
            flags: 0,
            ..self.last_stamp
        };
        self.w.finish_with_stop(stamp)
    }

    fn copy(&mut self, ev: &Event) -> Result<()> {
        self.w.copy_event(ev)?;
        self.last_stamp = Stamp::of(ev.header());
        Ok(())
    }

    /// Copies a transaction event by event (GTID events replaced with `drop_gtids`).
    fn whole(&mut self, data: &[u8], txn: &Transaction) -> Result<()> {
        for ev in txn.events(data) {
            let ev = ev?;
            if self.drop_gtids && ev.event_type().is_gtid() {
                self.w.write_in_place_of_gtid(&ev, &txn.format)?;
                self.last_stamp = Stamp::of(ev.header());
            } else {
                self.copy(&ev)?;
            }
        }
        Ok(())
    }

    /// Writes a transaction with only the selected rows events and statements; returns
    /// false when nothing of it is selected (and nothing was written).
    fn filtered(&mut self, data: &[u8], txn: &Transaction, notes: &mut Vec<Note>) -> Result<bool> {
        let format = &txn.format;
        let inner = decompressed(data, txn)?;
        let events = transaction_events(data, txn, inner.as_ref().map(|(_, b)| b.as_slice()))?;
        let at = |ev: &Event| inner.as_ref().map_or(ev.offset(), |(p, _)| *p);
        let plan = Plan::make(self.filter, &events, format, |ev, message| {
            notes.push(Note {
                offset: at(ev),
                message,
            })
        })
        .map_err(|e| match &inner {
            Some((p, _)) => e.in_payload(*p),
            None => e,
        })?;
        let xa = matches!(txn.kind, TxnKind::XaPrepare | TxnKind::XaEnd);
        if !plan.keeps_anything() && !xa {
            return Ok(false);
        }
        let mut pending: Vec<&Event> = Vec::new();
        let mut annotation: Option<&Event> = None;
        let mut maps: HashMap<u64, &Event> = HashMap::new();
        let mut maps_written: HashSet<u64> = HashSet::new();
        let mut after_stmt_end = false;
        for (i, ev) in events.iter().enumerate() {
            let t = ev.event_type();
            match t {
                _ if t.is_gtid() && self.drop_gtids => {
                    self.w.write_in_place_of_gtid(ev, format)?;
                }
                EventType::INTVAR | EventType::RAND | EventType::USER_VAR => pending.push(ev),
                EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => {
                    if plan.dropped.contains(&i) {
                        pending.clear();
                        continue;
                    }
                    for c in pending.drain(..) {
                        self.copy(c)?;
                    }
                    self.copy(ev)?;
                }
                EventType::MARIADB_ANNOTATE_ROWS | EventType::ROWS_QUERY => {
                    annotation = Some(ev);
                }
                EventType::TABLE_MAP => {
                    if after_stmt_end {
                        maps.clear();
                        maps_written.clear();
                        after_stmt_end = false;
                    }
                    if let EventData::TableMap(tm) = ev.decode(format)? {
                        maps.insert(tm.table_id, ev);
                        maps_written.remove(&tm.table_id);
                    }
                }
                t if t.is_rows() => {
                    let EventData::Rows(re) = ev.decode(format)? else {
                        continue;
                    };
                    if plan.kept_rows.contains(&i) {
                        if let Some(a) = annotation.take() {
                            self.copy(a)?;
                        }
                        if maps_written.insert(re.table_id) {
                            let map = maps.get(&re.table_id).ok_or_else(|| {
                                Error::malformed(ev.offset(), "rows event without its TABLE_MAP")
                            })?;
                            self.copy(map)?;
                        }
                        if plan.statement_ends.contains(&i) && !re.is_stmt_end() {
                            self.write_stmt_end(ev, &re)?;
                        } else {
                            self.copy(ev)?;
                        }
                    }
                    if re.is_stmt_end() {
                        annotation = None;
                        after_stmt_end = true;
                    }
                }
                _ => self.copy(ev)?,
            }
        }
        Ok(true)
    }

    /// Writes a rows event with `STMT_END_F` set: the last kept of its statement.
    fn write_stmt_end(&mut self, ev: &Event, re: &RowsEvent) -> Result<()> {
        let re = RowsEvent {
            flags: re.flags | STMT_END_F,
            ..re.clone()
        };
        let mut head = Vec::new();
        re.encode_head(&mut head)
            .map_err(|e| e.shifted(ev.offset()))?;
        self.w
            .write_parts(ev.event_type(), Stamp::of(ev.header()), &[&head, re.data])?;
        self.last_stamp = Stamp::of(ev.header());
        Ok(())
    }
}

/// Which events of a transaction stay, by their index in it.
#[derive(Debug, Default)]
struct Plan {
    /// Rows events kept.
    kept_rows: HashSet<usize>,
    /// The last rows event kept of each statement (it must carry `STMT_END_F`).
    statement_ends: HashSet<usize>,
    /// QUERY events (not transaction control) left out.
    dropped: HashSet<usize>,
    /// QUERY events (not transaction control) kept.
    statements: usize,
}

impl Plan {
    fn make(
        filter: &Filter,
        events: &[Event],
        format: &Format,
        mut note: impl FnMut(&Event, String),
    ) -> Result<Plan> {
        let mut p = Plan::default();
        let mut tables: HashMap<u64, bool> = HashMap::new();
        let mut last_kept: Option<usize> = None;
        for (i, ev) in events.iter().enumerate() {
            match ev.decode(format)? {
                EventData::TableMap(tm) => {
                    tables.insert(tm.table_id, filter.selects_table(tm.schema, tm.table));
                }
                EventData::Rows(re) => {
                    let table = tables.get(&re.table_id).ok_or_else(|| {
                        Error::malformed(
                            ev.offset(),
                            format!(
                                "rows event for table id {} without its TABLE_MAP",
                                re.table_id
                            ),
                        )
                    })?;
                    if *table && filter.selects_kind(re.kind) {
                        p.kept_rows.insert(i);
                        last_kept = Some(i);
                    }
                    if re.is_stmt_end() {
                        p.statement_ends.extend(last_kept.take());
                    }
                }
                EventData::Query(q) => {
                    let text = q.text()?;
                    if is_transaction_control(&text) {
                        continue;
                    }
                    match filter.statement_choice(q.db, &text) {
                        StatementChoice::Keep => p.statements += 1,
                        StatementChoice::Drop => {
                            p.dropped.insert(i);
                        }
                        StatementChoice::Unsure(why) => {
                            p.dropped.insert(i);
                            note(
                                ev,
                                format!(
                                    "statement at {} left out: {why}: {}",
                                    ev.offset(),
                                    crate::flashback::rows_index::excerpt(&text)
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        // A statement whose last rows event is not flagged (a transaction cut short
        // cannot get here: only complete ones are cut) ends with the transaction.
        p.statement_ends.extend(last_kept);
        Ok(p)
    }

    fn keeps_anything(&self) -> bool {
        !self.kept_rows.is_empty() || self.statements > 0
    }
}

/// The decompressed contents of a MySQL compressed transaction, with the offset of its
/// TRANSACTION_PAYLOAD event.
fn decompressed(data: &[u8], txn: &Transaction) -> Result<Option<(u64, Vec<u8>)>> {
    if txn.kind != TxnKind::Payload {
        return Ok(None);
    }
    for ev in txn.events(data) {
        let ev = ev?;
        if let EventData::TransactionPayload(p) = ev.decode(&txn.format)? {
            return Ok(Some((ev.offset(), p.decompress()?)));
        }
    }
    Ok(None)
}

/// The events of a transaction in order, those inside its payload in place of the
/// payload event.
fn transaction_events<'d>(
    data: &'d [u8],
    txn: &Transaction,
    inner: Option<&'d [u8]>,
) -> Result<Vec<Event<'d>>> {
    let mut out = Vec::new();
    for ev in txn.events(data) {
        let ev = ev?;
        match inner {
            Some(buf) if ev.event_type() == EventType::TRANSACTION_PAYLOAD => {
                let at = ev.offset();
                for iev in payload_events(buf, &txn.format) {
                    out.push(iev.map_err(|e| e.in_payload(at))?);
                }
            }
            _ => out.push(ev),
        }
    }
    Ok(out)
}
