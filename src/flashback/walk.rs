//! Going through a [`Plan`] in undo order and handing each undo transaction, event by
//! event, to an [`UndoSink`].
//!
//! For each transaction (last committed first): its rows events are indexed (offsets
//! only), then taken from the last back, statement by statement. The undo of one source
//! statement is one statement: the TABLE_MAPs of the tables it uses first, then its rows
//! events reversed, STMT_END_F on the last one. Each rows event is read again from the
//! source and reversed on its own, so memory holds one event at a time.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::event::header::FLAG_SUPPRESS_USE;
use crate::event::query::Query;
use crate::event::table_map::TableMap;
use crate::event::{Event, EventData};
use crate::reader::Binlog;
use crate::writer::Stamp;
use crate::Format;

use super::reverse::{row_spans, RowSpan, UndoRows};
use super::rows_index::{index_transaction, RowsRef, TxnBytes, TxnIndex};
use super::{FileError, Options, Plan, Releaser, UndoTxn};
use crate::row::table_cache::TableCache;

/// The start of an undo transaction.
#[derive(Debug)]
pub struct Begin<'a> {
    /// Header fields for the BEGIN (those of the source transaction's first event).
    pub stamp: Stamp,
    /// A QUERY of the source transaction (its BEGIN when it has one) whose session context
    /// (thread id, status variables) the undo's BEGIN can copy.
    pub context: Option<Query<'a>>,
    /// The source transaction.
    pub txn: UndoTxn,
}

/// The end of an undo transaction.
#[derive(Debug, Clone, Copy)]
pub struct Commit {
    /// Header fields (those of the source transaction's last event).
    pub stamp: Stamp,
    /// The source's XID, when it ended with one.
    pub xid: Option<u64>,
}

/// Receives an undo, in order: for each transaction `begin`, then for each statement its
/// `table_map`s and `rows`, then `commit`.
pub trait UndoSink {
    /// An undo transaction starts.
    fn begin(&mut self, b: &Begin) -> Result<()>;
    /// A TABLE_MAP event of the source (`ev`, decoded as `tm`) that the next rows need.
    fn table_map(&mut self, ev: &Event, tm: &TableMap) -> Result<()>;
    /// A reversed rows event.
    fn rows(&mut self, r: &UndoRows) -> Result<()>;
    /// The undo transaction ends.
    fn commit(&mut self, c: &Commit) -> Result<()>;
}

/// Walks the plan's transactions, last first, into `sink`. Errors in the inputs name the
/// file and offset. Of the errors the sink returns, I/O errors and values too long for
/// the output's fields are the output's; the others are about the source's bytes (a row
/// the sink could not decode) and name the input and offset.
pub fn walk_undo(
    inputs: &[Binlog],
    plan: &Plan,
    opts: &Options,
    sink: &mut dyn UndoSink,
) -> Result<(), FileError> {
    let formats: Vec<Arc<Format>> = inputs
        .iter()
        .map(|l| Arc::new(l.format().clone()))
        .collect();
    let mut w = Walker::default();
    let mut release = Releaser::new(opts);
    for txn in plan.txns.iter().rev() {
        let fi = txn.file as usize;
        let bytes = TxnBytes::open(inputs[fi].data(), &formats[fi], txn.start, txn.end)
            .map_err(|e| FileError::input(fi, e))?;
        w.transaction(&bytes, *txn, opts, sink)
            .map_err(|e| match e {
                Failure::Input(e) => FileError::input(fi, bytes.locate(e)),
                Failure::Sink(e) => match FileError::sorted(fi, e) {
                    FileError {
                        file: Some(_),
                        error,
                    } => FileError::input(fi, bytes.locate(error)),
                    output => output,
                },
            })?;
        release.done(fi, txn.start, txn.end);
    }
    release.flush();
    Ok(())
}

/// Where an error came from.
enum Failure {
    Input(Error),
    Sink(Error),
}

/// Buffers reused from one transaction to the next.
#[derive(Default)]
struct Walker {
    index: TxnIndex,
    tables: TableCache,
    spans: Vec<RowSpan>,
    maps: Vec<u64>,
}

impl Walker {
    fn transaction(
        &mut self,
        bytes: &TxnBytes,
        txn: UndoTxn,
        opts: &Options,
        sink: &mut dyn UndoSink,
    ) -> Result<(), Failure> {
        index_transaction(bytes, opts, &mut self.index).map_err(Failure::Input)?;
        if self.index.rows.is_empty() {
            return Ok(());
        }
        let input = Failure::Input;
        let format = Arc::clone(bytes.format());
        let context = match self.index.first_query {
            Some(at) => match bytes.event_at(at).and_then(|e| e.decode(&format)) {
                Ok(EventData::Query(q)) => Some(q),
                Ok(_) => None,
                Err(e) => return Err(input(e)),
            },
            None => None,
        };
        let first = self.index.first_stamp.unwrap_or(Stamp {
            timestamp: txn.commit_time,
            server_id: 0,
            flags: 0,
        });
        let begin = Begin {
            stamp: Stamp {
                flags: FLAG_SUPPRESS_USE,
                ..first
            },
            context,
            txn,
        };
        sink.begin(&begin).map_err(Failure::Sink)?;
        let rows = std::mem::take(&mut self.index.rows);
        let mut end = rows.len();
        while end > 0 {
            // One source statement: the run of rows events with its number.
            let stmt = rows[end - 1].statement;
            let mut start = end - 1;
            while start > 0 && rows[start - 1].statement == stmt {
                start -= 1;
            }
            let group = &rows[start..end];
            self.statement(bytes, &format, group, sink)?;
            end = start;
        }
        self.index.rows = rows;
        let last = self.index.last_stamp.unwrap_or(first);
        let commit = Commit {
            stamp: Stamp { flags: 0, ..last },
            xid: self.index.xid,
        };
        sink.commit(&commit).map_err(Failure::Sink)
    }

    /// The undo of one source statement (`group`, in source order).
    fn statement(
        &mut self,
        bytes: &TxnBytes,
        format: &Arc<Format>,
        group: &[RowsRef],
        sink: &mut dyn UndoSink,
    ) -> Result<(), Failure> {
        let input = Failure::Input;
        self.maps.clear();
        for r in group.iter().rev() {
            if !self.maps.contains(&r.table_map) {
                self.maps.push(r.table_map);
            }
        }
        for &at in &self.maps {
            let ev = bytes.event_at(at).map_err(input)?;
            let EventData::TableMap(tm) = ev.decode(format).map_err(input)? else {
                return Err(input(Error::malformed(at, "not a TABLE_MAP event")));
            };
            sink.table_map(&ev, &tm).map_err(Failure::Sink)?;
        }
        for (i, r) in group.iter().rev().enumerate() {
            let last = i + 1 == group.len();
            let tm_ev = bytes.event_at(r.table_map).map_err(input)?;
            let EventData::TableMap(tm) = tm_ev.decode(format).map_err(input)? else {
                return Err(input(Error::malformed(
                    r.table_map,
                    "not a TABLE_MAP event",
                )));
            };
            let table = self
                .tables
                .insert(&tm, tm_ev.body())
                .info
                .as_ref()
                .map_err(|e| input(e.clone()))?;
            let ev = bytes.event_at(r.offset).map_err(input)?;
            let EventData::Rows(re) = ev.decode(format).map_err(input)? else {
                return Err(input(Error::malformed(r.offset, "not a rows event")));
            };
            let data = re.rows_data().map_err(input)?;
            row_spans(&re, &data, table, &mut self.spans).map_err(input)?;
            let undo = UndoRows::new(
                &re,
                &data,
                Stamp::of(ev.header()),
                &tm,
                table,
                &self.spans,
                last,
            )
            .map_err(input)?;
            sink.rows(&undo).map_err(Failure::Sink)?;
        }
        Ok(())
    }
}
