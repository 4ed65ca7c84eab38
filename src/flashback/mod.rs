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
//! - [`plan`] ([`plan::plan`]): one pass over the inputs that selects the transactions to undo
//!   (the [`Filter`](crate::filter::Filter) options, XA pairing) and refuses what cannot be
//!   undone (statement-format changes, partial row images, JSON diffs, DDL). It keeps only
//!   offsets, never event bytes.
//! - [`walk`] ([`walk::walk_undo`]): goes through the planned transactions from the last one
//!   back, indexes each one's rows events (offsets only), and hands a [`walk::UndoSink`] the
//!   undo transaction event by event: BEGIN, the TABLE_MAPs of each statement, the reversed
//!   rows events ([`reverse::UndoRows`]), COMMIT.
//! - [`write`] ([`write::write_binlog`]): a sink that writes the undo as a binlog with the
//!   source's FDE, fresh positions and checksums; [`summary`] one that counts rows for a
//!   dry run.
//!
//! Memory: the plan holds 24 bytes per selected transaction; the walk holds one
//! transaction's rows-event offsets and one rows event at a time (a MySQL TRANSACTION_PAYLOAD
//! is decompressed whole, since its events can only be found by decompressing it).

pub mod index;
pub mod plan;
pub mod reverse;
pub mod summary;
pub mod walk;
pub mod write;

use std::fmt;

use crate::error::Error;
use crate::filter::Filter;

pub use plan::{plan, Note, Plan, Position, UndoTxn};
pub use reverse::{RowSpan, UndoRows};
pub use summary::{summarize, Summary, TableCounts};
pub use walk::{walk_undo, Begin, Commit, UndoSink};
pub use write::{write_binlog, WriteStats};

/// What to undo.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which transactions, tables and kinds of change.
    pub filter: Filter,
    /// Leave DDL (and other standalone statements) in the selected range out, with a
    /// [`Note`], instead of refusing.
    pub skip_ddl: bool,
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
