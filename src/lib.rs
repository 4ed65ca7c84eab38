//! binlog — a zero-copy reader and writer for MySQL and MariaDB binary logs.
//!
//! The library takes bytes and knows nothing of files or command lines; a memory map is
//! one way to get bytes ([`BinlogFile`]).
//!
//! ```no_run
//! use binlog::{BinlogFile, EventData};
//! let file = BinlogFile::open("mysql-bin.000001")?;
//! let log = file.binlog()?;
//! let mut events = log.events();
//! while let Some(ev) = events.next() {
//!     let ev = ev?;
//!     if let EventData::Query(q) = ev.decode(events.format())? {
//!         println!("{} {}", ev.offset(), String::from_utf8_lossy(q.query));
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`reader`]: [`Binlog`] over `&[u8]`, the [`Events`] iterator, [`BinlogFile`];
//!   [`checked_ahead`]: CRC32 checks made by another thread ahead of a walk.
//! - [`event`]: the event frame and the typed bodies, each with `parse` and `encode`.
//! - [`row`]: row images: spans, values, encoding; DECIMAL, binary JSON and JSON diffs;
//!   counting rows; table contexts across a walk.
//! - [`txn`]: grouping events into transactions.
//! - [`writer`]: the [`BinlogWriter`].
//! - [`filter`]: selecting transactions and rows as mysqlbinlog's options do.
//! - [`cut`]: the selected transactions (and rows) of consecutive files as one binlog.
//! - [`gtid_set`]: GTIDs and GTID sets as users write them.
//! - [`summary`]: what a file is and holds; [`verify`]: checking every event of a file;
//!   [`locate`]: where a time or a GTID lies among transactions.
//! - [`flashback`]: undoing transactions (planning, reversing rows events, writing the undo).
//! - [`txn_stats`]: per-transaction statistics (bytes, rows per table, times) and ranking.
//! - [`report`]: a triage report over files: timeline, biggest transactions, DDL, tables,
//!   event types, what each file is.
//! - [`split`]: cutting transactions over a limit into replayable pieces.
//! - [`sql`]: row changes as SQL, statement kinds.
//! - [`schema`]: tables' columns, types and keys from CREATE TABLE statements, followed
//!   through the DDL of a binlog; TABLE_MAPs checked against them.
//! - [`fetch`]: copying a live server's binlogs byte for byte (replication requests, the
//!   dump stream's events, the archive directory).
//! - [`snapshot`]: tables' contents as TABLE_MAP and WRITE_ROWS events (descriptions and
//!   values in, a binlog out).
//! - [`deep_walk`]: every event, row and value decoded, for fuzzing and benchmarks.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bytes;
pub mod checked_ahead;
pub mod compress;
pub mod cut;
pub mod deep_walk;
pub mod error;
pub mod event;
pub mod fetch;
pub mod filter;
pub mod flashback;
pub mod gtid_set;
pub mod locate;
pub mod reader;
pub mod report;
pub mod row;
pub mod schema;
pub mod snapshot;
pub mod split;
pub mod sql;
pub mod summary;
pub mod txn;
pub mod txn_stats;
pub mod verify;
pub mod writer;

pub use error::{Error, ErrorKind, Result};
pub use event::fde::{Flavor, Format};
pub use event::header::{EventHeader, EventType};
pub use event::{Event, EventData};
pub use reader::{Binlog, BinlogFile, Events};
pub use writer::{BinlogWriter, Stamp, Statement};

/// Test support shared by the unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// A small seeded generator: xorshift64*, the same sequence on every run (the seed
    /// must not be 0).
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// A number below `n` (`n` > 0).
        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A binlog of the project's own fixtures (`fixtures/...`).
    pub fn fixture(rel: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}
