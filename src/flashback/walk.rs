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
use crate::row::Rows;

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
    let formats = formats(inputs);
    let mut w = Walker::default();
    let mut release = Releaser::new(opts);
    for txn in plan.txns.iter().rev() {
        undo_one(inputs, &formats, txn, opts, &mut w, sink)?;
        release.done(txn.file as usize, txn.start, txn.end);
    }
    release.flush();
    Ok(())
}

/// The format of each input, as walks of its transactions need it.
pub(crate) fn formats(inputs: &[Binlog]) -> Vec<Arc<Format>> {
    inputs
        .iter()
        .map(|l| Arc::new(l.format().clone()))
        .collect()
}

/// Hands `sink` the undo of one planned transaction, with `w`'s caches.
pub(crate) fn undo_one(
    inputs: &[Binlog],
    formats: &[Arc<Format>],
    txn: &UndoTxn,
    opts: &Options,
    w: &mut Walker,
    sink: &mut dyn UndoSink,
) -> Result<(), FileError> {
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
        })
}

enum Failure {
    Input(Error),
    Sink(Error),
}

/// Buffers reused from one transaction to the next.
/// What a walk keeps from one transaction to the next: buffers and the table cache.
#[derive(Default)]
pub(crate) struct Walker {
    index: TxnIndex,
    tables: TableCache,
    spans: Vec<RowSpan>,
    maps: Vec<u64>,
    /// With rows left out: how many rows each rows event of the transaction keeps.
    kept: Vec<usize>,
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
        self.kept.clear();
        if opts.leave_out.is_some() {
            for i in 0..self.index.rows.len() {
                let r = self.index.rows[i];
                let n = self.rows_event(bytes, &format, &r, opts, |_, _, _, _, _, _| Ok(()))?;
                self.kept.push(n);
            }
            if self.kept.iter().all(|&n| n == 0) {
                return Ok(());
            }
        }
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
            let kept = std::mem::take(&mut self.kept);
            let r = self.statement(bytes, &format, group, kept.get(start..end), opts, sink);
            self.kept = kept;
            r?;
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

    /// The undo of one source statement (`group`, in source order); `kept` says how many
    /// rows each of its events keeps when rows are left out.
    fn statement(
        &mut self,
        bytes: &TxnBytes,
        format: &Arc<Format>,
        group: &[RowsRef],
        kept: Option<&[usize]>,
        opts: &Options,
        sink: &mut dyn UndoSink,
    ) -> Result<(), Failure> {
        let input = Failure::Input;
        let keeps = |i: usize| kept.is_none_or(|k| k.get(i).is_some_and(|&n| n > 0));
        // The undo's last event is the first of the source's that keeps rows.
        let Some(last) = (0..group.len()).find(|&i| keeps(i)) else {
            return Ok(());
        };
        self.maps.clear();
        for (i, r) in group.iter().enumerate().rev() {
            if keeps(i) && !self.maps.contains(&r.table_map) {
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
        for (i, r) in group.iter().enumerate().rev() {
            if !keeps(i) {
                continue;
            }
            self.rows_event(
                bytes,
                format,
                r,
                opts,
                |re, data, tm, table, spans, stamp| {
                    let undo = UndoRows::new(re, data, stamp, tm, table, spans, i == last)
                        .map_err(input)?;
                    sink.rows(&undo).map_err(Failure::Sink)
                },
            )?;
        }
        Ok(())
    }

    /// Reads the rows event `r`, finds its rows (leaving out those `opts` leaves out) and
    /// hands them to `f` (unless none is left); returns how many are left.
    fn rows_event(
        &mut self,
        bytes: &TxnBytes,
        format: &Arc<Format>,
        r: &RowsRef,
        opts: &Options,
        f: impl FnOnce(
            &crate::event::rows::RowsEvent,
            &[u8],
            &TableMap,
            &crate::row::TableInfo,
            &[RowSpan],
            Stamp,
        ) -> Result<(), Failure>,
    ) -> Result<usize, Failure> {
        let input = Failure::Input;
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
        if let Some(skip) = &opts.leave_out {
            let mut left_out = Vec::with_capacity(self.spans.len());
            for row in Rows::new(&re, &data, table).map_err(input)? {
                let row = row.map_err(input)?;
                left_out.push(skip.0.leaves_out(&tm, table, &row).map_err(input)?);
            }
            let mut i = 0;
            self.spans.retain(|_| {
                i += 1;
                !left_out.get(i - 1).copied().unwrap_or(false)
            });
        }
        let n = self.spans.len();
        if n > 0 {
            f(&re, &data, &tm, table, &self.spans, Stamp::of(ev.header()))?;
        }
        Ok(n)
    }
}
