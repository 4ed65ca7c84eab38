//! Writing an undo as a binlog: the source's FDE, then per undo transaction a `BEGIN`
//! QUERY, the TABLE_MAPs and reversed rows events, and an XID; a STOP event at the end.
//!
//! No GTID event is written: a server applying the file (through `mysqlbinlog | mysql`)
//! gives each undo transaction a GTID of its own, which is what a server with GTIDs on
//! (MySQL `gtid_mode=ON`, MariaDB `gtid_strict_mode=ON`) accepts. The BEGIN copies the
//! session context (status variables) of a QUERY of the source transaction when there is
//! one; otherwise it carries just the session flags, so foreign and unique key checks are
//! on as in a fresh session (each rows event also carries its own check flags).

use std::io::Write;

use crate::error::{Error, Result};
use crate::event::control::Xid;
use crate::event::header::EventType;
use crate::event::query::{encode_status_vars, StatusVar};
use crate::event::table_map::TableMap;
use crate::event::{Event, EventData};
use crate::reader::Binlog;
use crate::writer::{BinlogWriter, Stamp, Statement};

use super::reverse::UndoRows;
use super::walk::{walk_undo, Begin, Commit, UndoSink};
use super::{FileError, Options, Plan};

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Undo transactions.
    pub transactions: u64,
    /// Rows events.
    pub rows_events: u64,
    /// Rows.
    pub rows: u64,
    /// Bytes of the output.
    pub bytes: u64,
}

/// Writes the undo of `plan` to `out` as a binlog with the first input's FDE. Returns the
/// output (flushed) and what was written.
pub fn write_binlog<W: Write>(
    inputs: &[Binlog],
    plan: &Plan,
    opts: &Options,
    out: W,
) -> Result<(W, WriteStats), FileError> {
    let first = inputs
        .first()
        .ok_or_else(|| FileError::output(Error::unsupported(0, "no input binlog")))?;
    let fde = first
        .events()
        .next()
        .ok_or_else(|| FileError::input(0, Error::malformed(4, "no FORMAT_DESCRIPTION event")))?
        .map_err(|e| FileError::input(0, e))?;
    let writer =
        BinlogWriter::with_fde(out, &fde, first.format()).map_err(|e| FileError::sorted(0, e))?;
    let mut sink = BinlogSink {
        writer,
        body: Vec::with_capacity(1 << 16),
        stats: WriteStats::default(),
        last: Stamp::of(fde.header()),
    };
    walk_undo(inputs, plan, opts, &mut sink)?;
    let mut stats = sink.stats;
    let stop = Stamp {
        flags: 0,
        ..sink.last
    };
    let w = sink.writer;
    stats.bytes = w.position() + w.framed_len(0);
    let out = w.finish_with_stop(stop).map_err(FileError::output)?;
    Ok((out, stats))
}

/// The sink that writes events.
struct BinlogSink<W: Write> {
    writer: BinlogWriter<W>,
    body: Vec<u8>,
    stats: WriteStats,
    last: Stamp,
}

impl<W: Write> UndoSink for BinlogSink<W> {
    fn begin(&mut self, b: &Begin) -> Result<()> {
        let mut minimal = Vec::new();
        let (thread_id, status) = match &b.context {
            Some(q) if q.status.is_some() => (q.thread_id, q.status.unwrap_or_default()),
            other => {
                encode_status_vars(&[StatusVar::Flags2(0)], &mut minimal)?;
                (other.as_ref().map_or(0, |q| q.thread_id), &minimal[..])
            }
        };
        self.writer
            .write_statement(b.stamp, &Statement::begin(thread_id, status))?;
        self.stats.transactions += 1;
        self.last = b.stamp;
        Ok(())
    }

    fn table_map(&mut self, ev: &Event, _tm: &TableMap) -> Result<()> {
        self.writer.copy_event(ev)?;
        Ok(())
    }

    fn rows(&mut self, r: &UndoRows) -> Result<()> {
        self.body.clear();
        r.encode_body(&mut self.body)?;
        self.writer
            .write_parts(r.event_type, r.stamp, &[&self.body])?;
        self.stats.rows_events += 1;
        self.stats.rows += r.rows.len() as u64;
        self.last = r.stamp;
        Ok(())
    }

    fn commit(&mut self, c: &Commit) -> Result<()> {
        let xid = EventData::Xid(Xid {
            xid: c.xid.unwrap_or(0),
        });
        self.writer.write_data(EventType::XID, c.stamp, &xid)?;
        self.last = c.stamp;
        Ok(())
    }
}
