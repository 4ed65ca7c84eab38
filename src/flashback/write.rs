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
use std::ops::Range;

use crate::error::{Error, Result};
use crate::event::control::Xid;
use crate::event::header::EventType;
use crate::event::query::{encode_status_vars, StatusVar};
use crate::event::table_map::TableMap;
use crate::event::{Event, EventData};
use crate::reader::Binlog;
use crate::writer::{relocate, BinlogWriter, Stamp, Statement};

use super::reverse::UndoRows;
use std::sync::{Arc, Mutex};

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
pub fn write_binlog<W: Write + Send>(
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
/// Such a transaction's undo goes out whenever this many bytes of it are encoded.
const DRAIN_BYTES: usize = 1 << 20;
/// Groups encoded at once, at most: a batch ends with this many groups, or once its
/// source transactions hold [`BATCH_BYTES`]. Two batches are in memory at a time (one
/// encoded, the one before it written), so their undo is at most about
/// 2 × ([`BATCH_BYTES`] + [`BIG_TXN`]).
const BATCH_GROUPS: usize = 16;
/// Source bytes a batch ends at.
const BATCH_BYTES: u64 = 4 << 20;
/// A group's buffer is kept for the next batch up to this capacity; a bigger one (a
/// group that held a transaction of megabytes) is let go, so that the kept buffers stay
/// small whatever the transactions were.
const SLOT_KEEP: usize = 2 * GROUP_BYTES as usize;

/// Runs the jobs of writing an undo (encoding groups of undo transactions, writing the
/// batch encoded before), in parallel when it can.
pub trait Spread: Sync {
    /// Runs `job(0)`, …, `job(n - 1)` (in any order, on any threads) and returns their
    /// results in index order.
    fn run(
        &self,
        n: usize,
        job: &(dyn Fn(usize) -> Result<(), FileError> + Sync),
    ) -> Vec<Result<(), FileError>>;
}

/// Runs jobs one after the other on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct InOrder;

impl Spread for InOrder {
    fn run(
        &self,
        n: usize,
        job: &(dyn Fn(usize) -> Result<(), FileError> + Sync),
    ) -> Vec<Result<(), FileError>> {
        (0..n).map(job).collect()
    }
}

/// The undo of a group of transactions, encoded apart at positions from 0 (CRC32 fields
/// left for [`relocate`]), and what it holds. Its buffer is encoded into again by a group
/// of the next batch: fresh ones would each be faulted in page by page.
#[derive(Debug, Default)]
struct Group {
    bytes: Vec<u8>,
    tally: Tally,
}

/// What an undo written so far holds.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    stats: WriteStats,
    /// The stamp of the last event written, for the STOP event.
    last: Option<Stamp>,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.stats.add(&o.stats);
        self.last = o.last.or(self.last);
    }
}

/// What `m` holds, whoever held its lock before.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The first error of jobs run in order.
fn first_error(results: Vec<Result<(), FileError>>) -> Result<(), FileError> {
    results.into_iter().collect()
}

/// [`write_binlog`], encoding groups of transactions with `spread` (each group on its
/// own, from position 0) and writing them in order, their positions and CRC32s set where
/// they land: the output is the same for any `spread`. A batch of groups is written
/// (placed, then appended) while the next one is encoded, as one more job of the same
/// run.
pub fn write_binlog_with<W: Write + Send>(
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
    let output = Mutex::new(Output {
        writer,
        tally: Tally::default(),
        release: Releaser::new(opts),
    });
    let formats = walk::formats(inputs);
    // The transactions in the order they are undone: the last first.
    let txns: Vec<&UndoTxn> = plan.txns.iter().rev().collect();
    let big = |t: &UndoTxn| t.end - t.start > BIG_TXN;
    let mut walker = Walker::default();
    // Two sets of slots: one batch is encoded into one while the batch before it is
    // written from the other.
    let slots: [Vec<Mutex<Group>>; 2] =
        [0, 1].map(|_| (0..BATCH_GROUPS).map(|_| Default::default()).collect());
    let mut set = 0;
    // The batch encoded last, to write: its slot set and groups.
    let mut encoded: Option<(usize, Vec<Range<usize>>)> = None;
    let mut i = 0;
    while i < txns.len() || encoded.is_some() {
        let mut groups: Vec<Range<usize>> = Vec::new();
        let mut batch = 0;
        while i < txns.len() && !big(txns[i]) && groups.len() < BATCH_GROUPS && batch < BATCH_BYTES
        {
            let start = i;
            let mut bytes = 0;
            while i < txns.len() && !big(txns[i]) && bytes < GROUP_BYTES {
                bytes += txns[i].end - txns[i].start;
                i += 1;
            }
            batch += bytes;
            groups.push(start..i);
        }
        // Job 0 writes the batch before; job 1 + g encodes group g of this one.
        let job = |j: usize| match j.checked_sub(1) {
            None => match &encoded {
                Some((was, groups)) => write_groups(&output, &slots[*was], groups, &txns, &format),
                None => Ok(()),
            },
            Some(g) => {
                let mut slot = lock(&slots[set][g]);
                let buf = std::mem::take(&mut slot.bytes);
                let range = groups[g].clone();
                *slot = encode_group(inputs, &formats, &txns[range], opts, &format, buf)?;
                Ok(())
            }
        };
        first_error(spread.run(groups.len() + 1, &job))?;
        encoded = (!groups.is_empty()).then_some((set, groups));
        set = 1 - set;
        if let Some(t) = txns.get(i).filter(|t| big(t)) {
            // Written as it is encoded, after what comes before it.
            if let Some((was, groups)) = encoded.take() {
                write_groups(&output, &slots[was], &groups, &txns, &format)?;
            }
            let mut out = lock(&output);
            let buf = std::mem::take(&mut lock(&slots[set][0]).bytes);
            let mut sink = BinlogSink::new(buf, &format, Some(&mut out.writer))?;
            walk::undo_one(inputs, &formats, t, opts, &mut walker, &mut sink)?;
            sink.drain().map_err(FileError::output)?;
            let tally = sink.tally;
            out.written(&tally, std::slice::from_ref(t));
            i += 1;
        }
    }
    let Output {
        writer,
        tally,
        mut release,
    } = output.into_inner().unwrap_or_else(|p| p.into_inner());
    release.flush();
    let mut stats = tally.stats;
    let stop = Stamp {
        flags: 0,
        ..tally.last.unwrap_or(Stamp::of(fde.header()))
    };
    stats.bytes = writer.position() + writer.framed_len(0);
    let out = writer.finish_with_stop(stop).map_err(FileError::output)?;
    Ok((out, stats))
}

/// The output, what is written to it, and what is told of the input ranges done with.
struct Output<'o, W: Write> {
    writer: BinlogWriter<W>,
    tally: Tally,
    release: Releaser<'o>,
}

impl<W: Write> Output<'_, W> {
    /// The undo of `txns`, holding `tally`, has been written.
    fn written(&mut self, tally: &Tally, txns: &[&UndoTxn]) {
        self.tally.add(tally);
        for t in txns {
            self.release.done(t.file as usize, t.start, t.end);
        }
    }
}

/// Writes the encoded `groups` (of `txns`) from `slots`, in order: each moved to where it
/// lands (its CRC32s computed there) and appended; their source ranges are then let go.
fn write_groups<W: Write>(
    output: &Mutex<Output<'_, W>>,
    slots: &[Mutex<Group>],
    groups: &[Range<usize>],
    txns: &[&UndoTxn],
    format: &Format,
) -> Result<(), FileError> {
    let mut out = lock(output);
    for (slot, g) in slots.iter().zip(groups) {
        let mut e = lock(slot);
        let at = out.writer.position();
        relocate(&mut e.bytes, format, at).map_err(FileError::output)?;
        out.writer
            .append_placed(&e.bytes)
            .map_err(FileError::output)?;
        if e.bytes.capacity() > SLOT_KEEP {
            e.bytes = Vec::new();
        }
        e.bytes.clear();
        out.written(&e.tally, &txns[g.clone()]);
    }
    Ok(())
}

/// Encodes the undo of `txns` (in the order they are undone) apart, from position 0,
/// into `buf` (emptied first).
fn encode_group(
    inputs: &[Binlog],
    formats: &[Arc<Format>],
    txns: &[&UndoTxn],
    opts: &Options,
    format: &Format,
    mut buf: Vec<u8>,
) -> Result<Group, FileError> {
    buf.clear();
    let mut sink = BinlogSink::new(buf, format, None)?;
    let mut walker = Walker::default();
    for t in txns {
        walk::undo_one(inputs, formats, t, opts, &mut walker, &mut sink)?;
    }
    Ok(Group {
        tally: sink.tally,
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

/// Where a transaction written as it is encoded goes: the output.
trait Drain {
    /// Takes the events `events` encoded (from position 0), leaving it empty.
    fn take(&mut self, events: &mut BinlogWriter<Vec<u8>>) -> Result<()>;
}

impl<W: Write> Drain for BinlogWriter<W> {
    fn take(&mut self, events: &mut BinlogWriter<Vec<u8>>) -> Result<()> {
        events.drain_into(self)
    }
}

/// The sink that encodes the undo's events into bytes, apart: positions from 0, CRC32s
/// left for [`relocate`] where they land.
struct BinlogSink<'d> {
    writer: BinlogWriter<Vec<u8>>,
    tally: Tally,
    /// For a transaction written as it is encoded: where the bytes go, every
    /// [`DRAIN_BYTES`].
    drain: Option<&'d mut dyn Drain>,
}

impl<'d> BinlogSink<'d> {
    /// Encodes into `buf` (empty).
    fn new(
        buf: Vec<u8>,
        format: &Format,
        drain: Option<&'d mut dyn Drain>,
    ) -> Result<BinlogSink<'d>, FileError> {
        Ok(BinlogSink {
            writer: BinlogWriter::apart(buf, format.clone()).map_err(FileError::output)?,
            tally: Tally::default(),
            drain,
        })
    }

    /// Hands what is encoded to the drain, if any.
    fn drain(&mut self) -> Result<()> {
        match &mut self.drain {
            Some(d) => d.take(&mut self.writer),
            None => Ok(()),
        }
    }

    /// After an event: hands on what is encoded once it is big enough.
    fn drain_some(&mut self) -> Result<()> {
        if self.writer.bytes().len() >= DRAIN_BYTES {
            self.drain()?;
        }
        Ok(())
    }
}

impl UndoSink for BinlogSink<'_> {
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
        self.tally.stats.transactions += 1;
        self.tally.last = Some(b.stamp);
        Ok(())
    }

    fn table_map(&mut self, ev: &Event, _tm: &TableMap) -> Result<()> {
        self.writer.copy_event(ev)?;
        Ok(())
    }

    fn rows(&mut self, r: &UndoRows) -> Result<()> {
        self.writer
            .write_built(r.event_type, r.stamp, |out| r.encode_body(out))?;
        self.tally.stats.rows_events += 1;
        self.tally.stats.rows += r.rows.len() as u64;
        self.tally.last = Some(r.stamp);
        self.drain_some()
    }

    fn commit(&mut self, c: &Commit) -> Result<()> {
        let xid = EventData::Xid(Xid {
            xid: c.xid.unwrap_or(0),
        });
        self.writer.write_data(EventType::XID, c.stamp, &xid)?;
        self.tally.last = Some(c.stamp);
        self.drain_some()
    }
}
