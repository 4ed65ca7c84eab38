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
use std::sync::Arc;

use super::walk::{self, Begin, Commit, UndoSink, Walker};
use super::{FileError, Options, Plan, Releaser, UndoTxn};
use crate::Format;

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
    write_binlog_with(inputs, plan, opts, out, &InOrder)
}

/// Undo transactions are encoded in groups, each on one thread: a group ends once its
/// source transactions hold this many bytes.
const GROUP_BYTES: u64 = 256 << 10;
/// A transaction over this size is encoded alone and written as it is encoded (its undo
/// is as big as it is), so that memory stays bounded.
const BIG_TXN: u64 = 4 << 20;
/// Groups encoded at once.
const BATCH_GROUPS: usize = 32;

/// Runs the encoding of groups of undo transactions, in parallel when it can.
pub trait Spread: Sync {
    /// Runs `job(0)`, …, `job(n - 1)` and returns their results in that order.
    fn run(
        &self,
        n: usize,
        job: &(dyn Fn(usize) -> Result<Encoded, FileError> + Sync),
    ) -> Vec<Result<Encoded, FileError>>;
}

/// Runs jobs one after the other on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct InOrder;

impl Spread for InOrder {
    fn run(
        &self,
        n: usize,
        job: &(dyn Fn(usize) -> Result<Encoded, FileError> + Sync),
    ) -> Vec<Result<Encoded, FileError>> {
        (0..n).map(job).collect()
    }
}

/// The undo of a group of transactions, encoded apart at positions from 0.
#[derive(Debug)]
pub struct Encoded {
    bytes: Vec<u8>,
    stats: WriteStats,
    last: Option<Stamp>,
}

/// [`write_binlog`], encoding groups of transactions with `spread` (each group on its
/// own, from position 0) and writing them in order, their positions and CRC32s set where
/// they land: the output is the same for any `spread`.
pub fn write_binlog_with<W: Write>(
    inputs: &[Binlog],
    plan: &Plan,
    opts: &Options,
    out: W,
    spread: &dyn Spread,
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
    let format = writer.format().clone();
    let mut sink = BinlogSink {
        writer,
        body: Vec::with_capacity(1 << 16),
        stats: WriteStats::default(),
        last: None,
    };
    let formats = walk::formats(inputs);
    let mut release = Releaser::new(opts);
    // The transactions in the order they are undone: the last first.
    let txns: Vec<&UndoTxn> = plan.txns.iter().rev().collect();
    let big = |t: &UndoTxn| t.end - t.start > BIG_TXN;
    let mut walker = Walker::default();
    // Each group's buffer, encoded into again by the next batch's group in its place:
    // fresh ones would each be faulted in page by page.
    let slots: Vec<std::sync::Mutex<Vec<u8>>> =
        (0..BATCH_GROUPS).map(|_| Default::default()).collect();
    let mut i = 0;
    while i < txns.len() {
        let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
        while i < txns.len() && !big(txns[i]) && groups.len() < BATCH_GROUPS {
            let start = i;
            let mut bytes = 0;
            while i < txns.len() && !big(txns[i]) && bytes < GROUP_BYTES {
                bytes += txns[i].end - txns[i].start;
                i += 1;
            }
            groups.push(start..i);
        }
        let encode = |g: usize| {
            let buf = slots[g]
                .lock()
                .map(|mut b| std::mem::take(&mut *b))
                .unwrap_or_default();
            encode_group(
                inputs,
                &formats,
                &txns[groups[g].clone()],
                opts,
                &format,
                buf,
            )
        };
        let encoded = spread.run(groups.len(), &encode);
        for ((n, g), encoded) in groups.iter().enumerate().zip(encoded) {
            let mut e = encoded?;
            sink.writer
                .append_relocated(&mut e.bytes)
                .map_err(FileError::output)?;
            e.bytes.clear();
            if let Ok(mut slot) = slots[n].lock() {
                *slot = e.bytes;
            }
            sink.stats.add(&e.stats);
            sink.last = e.last.or(sink.last);
            for t in &txns[g.clone()] {
                release.done(t.file as usize, t.start, t.end);
            }
        }
        if let Some(t) = txns.get(i).filter(|t| big(t)) {
            walk::undo_one(inputs, &formats, t, opts, &mut walker, &mut sink)?;
            release.done(t.file as usize, t.start, t.end);
            i += 1;
        }
    }
    release.flush();
    let mut stats = sink.stats;
    let stop = Stamp {
        flags: 0,
        ..sink.last.unwrap_or(Stamp::of(fde.header()))
    };
    let w = sink.writer;
    stats.bytes = w.position() + w.framed_len(0);
    let out = w.finish_with_stop(stop).map_err(FileError::output)?;
    Ok((out, stats))
}

/// Encodes the undo of `txns` (in the order they are undone) apart, from position 0,
/// into `buf` (empty).
fn encode_group(
    inputs: &[Binlog],
    formats: &[Arc<Format>],
    txns: &[&UndoTxn],
    opts: &Options,
    format: &Format,
    buf: Vec<u8>,
) -> Result<Encoded, FileError> {
    let writer = BinlogWriter::continuing(buf, format.clone(), 0).map_err(FileError::output)?;
    let mut sink = BinlogSink {
        writer,
        body: Vec::new(),
        stats: WriteStats::default(),
        last: None,
    };
    let mut walker = Walker::default();
    for t in txns {
        walk::undo_one(inputs, formats, t, opts, &mut walker, &mut sink)?;
    }
    Ok(Encoded {
        stats: sink.stats,
        last: sink.last,
        bytes: sink.writer.finish().map_err(FileError::output)?,
    })
}

impl WriteStats {
    fn add(&mut self, o: &WriteStats) {
        self.transactions += o.transactions;
        self.rows_events += o.rows_events;
        self.rows += o.rows;
        self.bytes += o.bytes;
    }
}

/// The sink that writes events.
struct BinlogSink<W: Write> {
    writer: BinlogWriter<W>,
    body: Vec<u8>,
    stats: WriteStats,
    /// The stamp of the last event written, for the STOP event.
    last: Option<Stamp>,
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
        self.last = Some(b.stamp);
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
        self.last = Some(r.stamp);
        Ok(())
    }

    fn commit(&mut self, c: &Commit) -> Result<()> {
        let xid = EventData::Xid(Xid {
            xid: c.xid.unwrap_or(0),
        });
        self.writer.write_data(EventType::XID, c.stamp, &xid)?;
        self.last = Some(c.stamp);
        Ok(())
    }
}
