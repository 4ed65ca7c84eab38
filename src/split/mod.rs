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
//! input that fails its checksums. A tail cut short (a crashed server's last binlog) ends
//! the output after the last complete transaction, and the report says where.
//!
//! - `walk`: the walk over the file's transactions: copies those within the limit, and
//!   hands the others to the plan and the writer;
//! - `plan`: the first walk over a transaction over the limit: counts its rows, finds
//!   its BEGIN and end events, and whatever keeps it from being split;
//! - `write`: the second walk, which places its rows events (or rows of them) into
//!   pieces within the limit and writes them.

mod plan;
mod walk;
mod write;

use crate::gtid_set::GtidValue;

pub use walk::split;

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
    /// The source's tail is cut short: where its complete transactions end (what comes
    /// after is not written).
    pub truncated: Option<crate::filter::Truncated>,
    /// Starts of transactions cut off by the next one (no COMMIT or XID): not written.
    pub abandoned: Vec<u64>,
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
