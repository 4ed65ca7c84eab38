//! Snapshots of tables as binlog events: what `binlog-tool snapshot` writes.
//!
//! The library part takes descriptions and values and knows nothing of connections:
//!
//! - [`table`]: a table's description ([`TableDef`], as `information_schema` gives it) →
//!   [`TableLayout`]: each column's binlog type and metadata exactly as the server logs it
//!   (`column`), the TABLE_MAP with full optional metadata, and the SELECT that reads values
//!   exactly;
//! - [`value`]: what the server returns for that SELECT (binary protocol values) → row
//!   images;
//! - [`events`]: [`SnapshotWriter`], which cuts a stream of row images into rows events and
//!   transactions and writes the file (FDE of the source's flavor, statements, STOP).

mod column;
pub mod events;
pub mod table;
pub mod value;

pub use events::{format_for, Limits, SnapshotWriter, Source, TableStats};
pub use table::{parse_members, ColumnDef, ReadAs, TableDef, TableLayout};
pub use value::{convert, encode_row, ServerValue};
