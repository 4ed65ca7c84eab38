//! What an undo would do, counted without writing it (`flashback --dry-run`).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::event::rows::RowsKind;
use crate::event::table_map::TableMap;
use crate::event::Event;
use crate::reader::Binlog;

use super::reverse::UndoRows;
use super::walk::{walk_undo, Begin, Commit, UndoSink};
use super::{FileError, Options, Plan};

/// Rows the source transactions changed in one table (the undo does the opposite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Rows inserted (the undo deletes them).
    pub inserted: u64,
    /// Rows updated (the undo puts the old values back).
    pub updated: u64,
    /// Rows deleted (the undo inserts them again).
    pub deleted: u64,
}

/// What undoing a plan would change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Per `db.table`, in name order.
    pub tables: BTreeMap<String, TableCounts>,
    /// Transactions undone.
    pub transactions: u64,
    /// Rows events undone.
    pub rows_events: u64,
}

impl Summary {
    /// The counts of all tables together.
    pub fn total(&self) -> TableCounts {
        self.tables
            .values()
            .fold(TableCounts::default(), |a, c| TableCounts {
                inserted: a.inserted + c.inserted,
                updated: a.updated + c.updated,
                deleted: a.deleted + c.deleted,
            })
    }
}

/// Walks the plan as the writer would, counting rows per table and kind.
pub fn summarize(inputs: &[Binlog], plan: &Plan, opts: &Options) -> Result<Summary, FileError> {
    let mut s = Summary::default();
    walk_undo(inputs, plan, opts, &mut s)?;
    Ok(s)
}

impl UndoSink for Summary {
    fn begin(&mut self, _: &Begin) -> Result<()> {
        self.transactions += 1;
        Ok(())
    }

    fn table_map(&mut self, _: &Event, _: &TableMap) -> Result<()> {
        Ok(())
    }

    fn rows(&mut self, r: &UndoRows) -> Result<()> {
        self.rows_events += 1;
        let c = self.tables.entry(r.table_map.qualified_name()).or_default();
        let n = r.rows.len() as u64;
        match r.source.kind {
            RowsKind::Write => c.inserted += n,
            RowsKind::Update | RowsKind::PartialUpdate => c.updated += n,
            RowsKind::Delete => c.deleted += n,
        }
        Ok(())
    }

    fn commit(&mut self, _: &Commit) -> Result<()> {
        Ok(())
    }
}
