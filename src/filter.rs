//! Selecting transactions and rows events the way mysqlbinlog's options do: positions,
//! times, databases, tables (with `%` wildcards), statement kinds and GTID sets.
//!
//! Selection is by whole transactions: a position or time boundary that falls inside a
//! transaction never selects half of it.
//! - `start_position`/`stop_position`: the transaction lies within `[start, stop)`.
//! - `start_time`/`stop_time`: its commit (its last event's timestamp) is within
//!   `[start, stop)`. mysqlbinlog's `--stop-datetime` stops at the first event at or after
//!   the time, so what it applies is what committed before it; selecting by commit time
//!   gives the same transactions when commit times grow through the file (they do, but for
//!   the seconds a busy server's group commit can interleave), and never a half of one.
//! - GTID sets: a transaction without a GTID is never in an include set.
//! - Databases, tables and kinds select rows events inside a transaction.

use crate::error::Result;
use crate::event::rows::RowsKind;
use crate::gtid_set::GtidSet;
use crate::reader::Binlog;
use crate::txn::{Group, Transaction, Transactions};

/// A `db.table` pattern; `%` matches any run of characters (and only `%`: `_` is literal,
/// since table names are full of underscores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePattern {
    /// Database part.
    pub db: String,
    /// Table part.
    pub table: String,
}

impl TablePattern {
    /// Parses `db.table` (a bare name is `%.name`).
    pub fn parse(s: &str) -> Result<TablePattern, String> {
        match s.split_once('.') {
            Some((d, t)) if !d.is_empty() && !t.is_empty() => Ok(TablePattern {
                db: d.to_string(),
                table: t.to_string(),
            }),
            Some(_) => Err(format!("table pattern '{s}' must look like db.table")),
            None => Ok(TablePattern {
                db: "%".into(),
                table: s.to_string(),
            }),
        }
    }

    /// Whether `db.table` matches.
    pub fn matches(&self, db: &[u8], table: &[u8]) -> bool {
        like(self.db.as_bytes(), db) && like(self.table.as_bytes(), table)
    }
}

/// Case-sensitive match of `text` against `pattern` where `%` is any run of bytes.
pub fn like(pattern: &[u8], text: &[u8]) -> bool {
    let parts: Vec<&[u8]> = pattern.split(|&b| b == b'%').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        if mid.is_empty() {
            continue;
        }
        match rest.windows(mid.len()).position(|w| w == *mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The selection options.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Transactions starting at or after this offset (first file only).
    pub start_position: Option<u64>,
    /// Transactions ending at or before this offset (last file only).
    pub stop_position: Option<u64>,
    /// Transactions committed at or after this time (seconds since the epoch).
    pub start_time: Option<u32>,
    /// Transactions committed before this time.
    pub stop_time: Option<u32>,
    /// Databases whose rows events are kept (empty: all).
    pub databases: Vec<String>,
    /// Tables whose rows events are kept (empty: all).
    pub tables: Vec<TablePattern>,
    /// Kinds of rows events kept (`None`: all).
    pub kinds: Option<Vec<RowsKind>>,
    /// Only transactions whose GTID is in this set.
    pub include_gtids: Option<GtidSet>,
    /// No transaction whose GTID is in this set.
    pub exclude_gtids: Option<GtidSet>,
}

impl Filter {
    /// Whether a transaction is selected. `first_file`/`last_file` say whether the
    /// position bounds apply to the file it is in (mysqlbinlog applies the start position to
    /// the first file and the stop position to the last).
    pub fn selects_transaction(&self, t: &Transaction, first_file: bool, last_file: bool) -> bool {
        if first_file && self.start_position.is_some_and(|p| t.start < p) {
            return false;
        }
        if last_file && self.stop_position.is_some_and(|p| t.end > p) {
            return false;
        }
        let commit = t.last_timestamp;
        if self.start_time.is_some_and(|s| commit < s)
            || self.stop_time.is_some_and(|s| commit >= s)
        {
            return false;
        }
        if let Some(inc) = &self.include_gtids {
            if !t.gtid.as_ref().is_some_and(|g| inc.contains(g)) {
                return false;
            }
        }
        if let Some(exc) = &self.exclude_gtids {
            if t.gtid.as_ref().is_some_and(|g| exc.contains(g)) {
                return false;
            }
        }
        true
    }

    /// Whether rows of `db.table` are kept.
    pub fn selects_table(&self, db: &[u8], table: &[u8]) -> bool {
        (self.databases.is_empty() || self.databases.iter().any(|d| d.as_bytes() == db))
            && (self.tables.is_empty() || self.tables.iter().any(|p| p.matches(db, table)))
    }

    /// Whether rows events of this kind are kept.
    pub fn selects_kind(&self, kind: RowsKind) -> bool {
        let kind = if kind == RowsKind::PartialUpdate {
            RowsKind::Update
        } else {
            kind
        };
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }

    /// Whether a statement (DDL, statement-format DML) run in database `db` may concern
    /// the selection: not when the databases or tables named all lie in other databases.
    /// A statement without a current database may concern anything.
    pub fn statement_concerns(&self, db: &[u8]) -> bool {
        if db.is_empty() {
            return true;
        }
        (self.databases.is_empty() || self.databases.iter().any(|d| d.as_bytes() == db))
            && (self.tables.is_empty() || self.tables.iter().any(|p| like(p.db.as_bytes(), db)))
    }
}

impl Filter {
    /// The selected complete transactions of `log`, one file of a selection (the
    /// position bounds apply to the first and the last file), in order. After an error
    /// the iterator ends.
    pub fn selected<'a>(
        &'a self,
        log: &Binlog<'a>,
        first_file: bool,
        last_file: bool,
    ) -> Selected<'a> {
        Selected {
            groups: Transactions::new(log.events()),
            filter: self,
            first_file,
            last_file,
        }
    }
}

/// The iterator of [`Filter::selected`].
#[derive(Debug)]
pub struct Selected<'a> {
    groups: Transactions<'a>,
    filter: &'a Filter,
    first_file: bool,
    last_file: bool,
}

impl Iterator for Selected<'_> {
    type Item = Result<Transaction>;

    fn next(&mut self) -> Option<Result<Transaction>> {
        loop {
            let txn = match self.groups.next()? {
                Err(e) => return Some(Err(e)),
                Ok(Group::Transaction(t)) => t,
                Ok(_) => continue,
            };
            if txn.is_complete()
                && self
                    .filter
                    .selects_transaction(&txn, self.first_file, self.last_file)
            {
                return Some(Ok(txn));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_wildcards() {
        assert!(like(b"%", b"anything"));
        assert!(like(b"order%", b"orders"));
        assert!(like(b"%_log", b"app_log"));
        assert!(!like(b"%_log", b"applog"));
        assert!(like(b"a%b%c", b"aXXbYYc"));
        assert!(!like(b"a%b%c", b"aXXcYYb"));
        assert!(like(b"t_types", b"t_types"));
        assert!(!like(b"t_types", b"tXtypes"));
        let p = TablePattern::parse("shop.ord%").unwrap();
        assert!(p.matches(b"shop", b"orders"));
        assert!(!p.matches(b"shop2", b"orders"));
        assert!(TablePattern::parse("shop.").is_err());
        assert!(TablePattern::parse("orders")
            .unwrap()
            .matches(b"any", b"orders"));
    }
}
