//! Flashback: undoing transactions that row-format binlogs recorded.
//!
//! Undoing a transaction means applying, in reverse order, the opposite of each row change
//! it made: a row it inserted is deleted, a row it deleted is inserted again, an update is
//! applied backwards (its before and after images swapped). Three orders are reversed:
//! transactions, the rows events inside each transaction, and the rows inside each rows
//! event. Together they replay the changes exactly backwards, so that intermediate states
//! (a primary key shifted by `id = id + 1`, unique values swapped through a temporary one)
//! are met again in reverse and no duplicate key can arise.
//!
//! The work is split in three, so that other outputs (SQL text) can reuse the first two:
//!
//! - [`mod@plan`] ([`plan::plan`]): one pass over the inputs that selects the transactions to undo
//!   (the [`Filter`] options, XA pairing) and refuses what cannot be
//!   undone (statement-format changes, partial row images, JSON diffs, DDL). It keeps only
//!   offsets, never event bytes.
//! - [`walk`] ([`walk::walk_undo`]): goes through the planned transactions from the last one
//!   back, indexes each one's rows events (offsets only), and hands a [`walk::UndoSink`] the
//!   undo transaction event by event: BEGIN, the TABLE_MAPs of each statement, the reversed
//!   rows events ([`reverse::UndoRows`]), COMMIT.
//! - [`mod@write`] ([`write::write_binlog`]): a sink that writes the undo as a binlog with the
//!   source's FDE, fresh positions and checksums; [`summary`] one that counts rows for a
//!   dry run.
//!
//! Memory: the plan holds 24 bytes per selected transaction; the walk holds one
//! transaction's rows-event offsets and one rows event at a time (a MySQL TRANSACTION_PAYLOAD
//! is decompressed whole, since its events can only be found by decompressing it). With
//! [`Options::release`], a caller reading memory-mapped inputs learns which ranges have
//! been read, so that the map's pages need not stay resident either.

pub mod check;
pub mod plan;
pub mod reverse;
pub mod rows_index;
pub mod summary;
pub mod walk;
pub mod write;

use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::filter::Filter;

pub use plan::{plan, Note, Plan, Position, UndoTxn};
pub use reverse::{RowSpan, UndoRows};
pub use summary::{summarize, Summary, TableCounts};
pub use walk::{walk_undo, Begin, Commit, UndoSink};
pub use write::{write_binlog, write_binlog_with, InOrder, Spread, WriteStats};

/// What to undo.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which transactions, tables and kinds of change.
    pub filter: Filter,
    /// Leave DDL (and other standalone statements) in the selection out, with a
    /// [`Note`], instead of refusing.
    pub skip_ddl: bool,
    /// The caller follows the schema through the inputs' DDL (SQL output with a schema
    /// history, which addresses each table as it is at the end): DDL on a table after
    /// rows of it to undo is then its business, not refused here.
    pub schema_followed: bool,
    /// Told which byte ranges of the inputs have been read (for now).
    pub release: Option<Release>,
    /// Row changes the undo leaves out (`--check --on-conflict skip`).
    pub leave_out: Option<LeaveOutRows>,
}

/// Decides which row changes an undo leaves out ([`check::LeaveOut`]).
pub trait RowFilter: Send + Sync {
    /// Whether the undo leaves out `row`, a change of the table `tm` maps (whose layout
    /// is `table`).
    fn leaves_out(
        &self,
        tm: &crate::event::table_map::TableMap,
        table: &crate::row::TableInfo,
        row: &crate::row::Row,
    ) -> crate::error::Result<bool>;
}

/// Row changes the walk leaves out of the undo: a rows event keeps its other rows, one
/// left with none is not written, nor a transaction left with none.
#[derive(Clone)]
pub struct LeaveOutRows(pub Arc<dyn RowFilter>);

impl fmt::Debug for LeaveOutRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeaveOutRows(..)")
    }
}

/// A callback given `(input index, start, end)` when the planning or the walk is done
/// reading that range of an input for now (it may come back to it), in ranges of tens of
/// megabytes: a caller holding inputs in memory maps can let those pages go
/// ([`BinlogFile::release`](crate::BinlogFile::release)), so that resident memory stays
/// small however big the inputs.
#[derive(Clone)]
pub struct Release(pub Arc<dyn Fn(usize, u64, u64) + Send + Sync>);

impl fmt::Debug for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Release(..)")
    }
}

/// Bytes read before a release is passed on.
const RELEASE_CHUNK: u64 = 16 << 20;

/// Gathers the ranges read into big ones for [`Release`].
pub(crate) struct Releaser<'o> {
    hook: Option<&'o Release>,
    pending: Option<(usize, u64, u64)>,
}

impl<'o> Releaser<'o> {
    pub(crate) fn new(opts: &'o Options) -> Releaser<'o> {
        Releaser {
            hook: opts.release.as_ref(),
            pending: None,
        }
    }

    /// `start..end` of input `file` has been read.
    pub(crate) fn done(&mut self, file: usize, start: u64, end: u64) {
        if self.hook.is_none() {
            return;
        }
        match &mut self.pending {
            Some((f, lo, hi)) if *f == file => {
                *lo = (*lo).min(start);
                *hi = (*hi).max(end);
            }
            _ => {
                self.flush();
                self.pending = Some((file, start, end));
            }
        }
        if self
            .pending
            .is_some_and(|(_, lo, hi)| hi - lo >= RELEASE_CHUNK)
        {
            self.flush();
        }
    }

    /// Passes on what is gathered.
    pub(crate) fn flush(&mut self) {
        if let (Some(h), Some((f, lo, hi))) = (self.hook, self.pending.take()) {
            (h.0)(f, lo, hi);
        }
    }
}

/// An error about one of the inputs (by index), or about the output when `file` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// Index of the input file the error's offset refers to; `None` for the output.
    pub file: Option<usize>,
    /// The error, with its offset.
    pub error: Error,
}

impl FileError {
    /// An error at an offset of input `file`.
    pub fn input(file: usize, error: Error) -> FileError {
        FileError {
            file: Some(file),
            error,
        }
    }

    /// An error while writing the output.
    pub fn output(error: Error) -> FileError {
        FileError { file: None, error }
    }

    /// An error met while reading input `file` and writing: the output's when it is an
    /// I/O error or a value too long for an output field, else at an offset of the input.
    pub fn sorted(file: usize, error: Error) -> FileError {
        match error.kind() {
            crate::ErrorKind::Io { .. } | crate::ErrorKind::TooLong { .. } => {
                FileError::output(error)
            }
            _ => FileError::input(file, error),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.file {
            Some(i) => write!(f, "input {i}: {}", self.error),
            None => write!(f, "output: {}", self.error),
        }
    }
}

impl std::error::Error for FileError {}
