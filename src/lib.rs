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
//! - [`reader`]: [`Binlog`] over `&[u8]`, the [`Events`] iterator, [`BinlogFile`].
//! - [`event`]: the event frame and the typed bodies, each with `parse` and `encode`.
//! - [`row`]: row images: spans, values, encoding.
//! - [`txn`]: grouping events into transactions.
//! - [`writer`]: the [`BinlogWriter`].
//! - [`filter`]: selecting transactions and rows as mysqlbinlog's options do.
//! - [`flashback`]: undoing transactions (planning, reversing rows events, writing the undo).
//! - [`bigtxn`]: per-transaction statistics (bytes, rows per table, times) and ranking.
//! - [`row_count`]: counting rows quickly with per-table column widths.
//! - [`split`]: cutting transactions over a limit into replayable pieces.
//! - [`table_cache`]: table ids to parsed TABLE_MAPs across a walk.
//! - [`sql`]: row changes as SQL; [`schema`]: names from CREATE TABLE statements.
//! - [`snapshot`]: tables' contents as TABLE_MAP and WRITE_ROWS events (descriptions and
//!   values in, a binlog out).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bigtxn;
pub mod bytes;
pub mod check;
pub mod compress;
pub mod decimal;
pub mod error;
pub mod event;
pub mod filter;
pub mod flashback;
pub mod gtid;
pub mod jsonb;
pub mod jsondiff;
pub mod reader;
pub mod row;
pub mod row_count;
pub mod schema;
pub mod snapshot;
pub mod split;
pub mod sql;
pub mod statement;
pub mod table_cache;
pub mod txn;
pub mod writer;

pub use error::{Error, ErrorKind, Result};
pub use event::fde::{Flavor, Format};
pub use event::header::{EventHeader, EventType};
pub use event::{Event, EventData};
pub use reader::{Binlog, BinlogFile, Events};
pub use writer::{BinlogWriter, Stamp};
