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
//! - Databases, tables and kinds select rows events inside a transaction, and statements
//!   by the tables they name ([`Filter::statement_choice`]).
//!
//! A walk over a file's selection ([`Filter::walk`], [`Filter::selected`]) also checks the
//! position bounds against the file (a start position inside a transaction is an error,
//! a stop position inside one is reported) and tells where a file with a damaged tail
//! stops being readable ([`Outcome`]).

use std::fmt;

use crate::error::{Error, Result};
use crate::event::rows::RowsKind;
use crate::gtid_set::GtidSet;
use crate::reader::Binlog;
use crate::sql::statement::{first_keyword, is_dml, is_transaction_control, targets, Targets};
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

/// What becomes of a statement (a QUERY event that is not transaction control) under
/// the row options (`databases`, `tables`, `kinds`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementChoice {
    /// It concerns the selection (or there are no row options).
    Keep,
    /// It concerns only what the options leave out.
    Drop,
    /// Its text does not tell whether it concerns the selection: why.
    Unsure(String),
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

    /// Whether a transaction lies at or past a stop bound: it ends after `--stop-position`
    /// (last file), or committed at or after `--stop-datetime`.
    pub fn is_past_stop(&self, t: &Transaction, last_file: bool) -> bool {
        (last_file && self.stop_position.is_some_and(|p| t.end > p))
            || self.stop_time.is_some_and(|s| t.last_timestamp >= s)
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

    /// Whether the options select rows inside transactions (databases, tables or kinds),
    /// not only whole transactions.
    pub fn selects_rows(&self) -> bool {
        !self.databases.is_empty() || !self.tables.is_empty() || self.kinds.is_some()
    }

    /// What becomes of a statement run with `db` as the session's database.
    ///
    /// Transaction control is always kept. With `kinds`, a statement-format INSERT,
    /// REPLACE or LOAD DATA counts as an insert, UPDATE as an update, DELETE as a delete;
    /// DDL is not a kind of row change and stays. With databases or tables, the tables (or
    /// the database) the statement names decide, each unqualified name taken in `db` (not
    /// `db` itself: `USE a; DROP TABLE b.t` concerns `b`): kept when all of them are
    /// selected, dropped when none is; a statement naming selected and other tables, a
    /// database of which only some tables are selected, or tables its text does not tell
    /// (multi-table changes, CALL) is [`StatementChoice::Unsure`]. Statements that change
    /// no table (accounts, privileges, views, triggers, routines) are dropped.
    pub fn statement_choice(&self, db: &[u8], text: &[u8]) -> StatementChoice {
        use StatementChoice::{Drop, Keep, Unsure};
        if is_transaction_control(text) {
            return Keep;
        }
        if self.kinds.is_some() && is_dml(text) {
            match dml_kind(text) {
                Some(k) if !self.selects_kind(k) => return Drop,
                Some(_) => {}
                None => return Unsure("cannot tell which kind of change it makes".into()),
            }
        }
        if self.databases.is_empty() && self.tables.is_empty() {
            return Keep;
        }
        let session_db = String::from_utf8_lossy(db);
        match targets(text) {
            Targets::Tables(list) => {
                let (mut inside, mut outside) = (0, 0);
                for t in &list {
                    let d = t.db.as_deref().unwrap_or(&session_db);
                    if d.is_empty() {
                        return Unsure(format!(
                            "it names table {} without a database, and no database is in use",
                            t.table
                        ));
                    }
                    if self.selects_table(d.as_bytes(), t.table.as_bytes()) {
                        inside += 1;
                    } else {
                        outside += 1;
                    }
                }
                match (inside, outside) {
                    (0, _) => Drop,
                    (_, 0) => Keep,
                    _ => Unsure("it names tables inside and outside the selection".into()),
                }
            }
            Targets::Database { name, .. } => {
                let db_selected = self.databases.is_empty() || self.databases.contains(&name);
                if !db_selected {
                    Drop
                } else if self.tables.is_empty() {
                    Keep
                } else if self
                    .tables
                    .iter()
                    .any(|p| like(p.db.as_bytes(), name.as_bytes()))
                {
                    Unsure(format!(
                        "it concerns the whole database {name}, of which only some tables are selected"
                    ))
                } else {
                    Drop
                }
            }
            Targets::NoTable => Drop,
            Targets::Unknown => Unsure("cannot tell which tables it changes".into()),
        }
    }
}

/// The kind of row change a statement-format DML statement makes, by its first keyword.
fn dml_kind(text: &[u8]) -> Option<RowsKind> {
    let w = first_keyword(text);
    let is = |k: &str| w.eq_ignore_ascii_case(k.as_bytes());
    if is("INSERT") || is("REPLACE") || is("LOAD") {
        Some(RowsKind::Write)
    } else if is("UPDATE") {
        Some(RowsKind::Update)
    } else if is("DELETE") {
        Some(RowsKind::Delete)
    } else {
        None
    }
}

/// Where a file stops being readable before its data ends: a crashed server's last
/// binlog, or a copy cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncated {
    /// Offset where the complete transactions end: the start of the transaction left
    /// incomplete, or of the event cut short.
    pub at: u64,
    /// The event cut short; `None` when the file ends after a complete event but inside
    /// a transaction (no COMMIT or XID).
    pub error: Option<Error>,
    /// The start of the transaction the damage leaves incomplete, if one had begun.
    pub open_txn: Option<u64>,
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(e) => write!(f, "the file is cut at offset {}: {}", e.offset(), e.kind())?,
            None => write!(
                f,
                "the file ends inside a transaction (no COMMIT or XID after it)"
            )?,
        }
        match self.open_txn {
            Some(s) => write!(
                f,
                "; the transaction at {s} is incomplete: only the complete transactions before offset {} are read",
                self.at
            ),
            None => write!(
                f,
                "; only the complete transactions before offset {} are read",
                self.at
            ),
        }
    }
}

/// What a walk over one file met besides its complete transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The file's tail is damaged or cut short: where its readable part ends.
    pub truncated: Option<Truncated>,
    /// Whether a stop bound ended the selection before the file's readable part did (a
    /// transaction at or past it was met, or `--stop-position` lies at or before the cut).
    pub stopped: bool,
    /// The transaction (start, end) that `--stop-position` falls inside: left out, as
    /// every transaction that ends after the stop.
    pub stop_inside: Option<(u64, u64)>,
    /// Starts of transactions cut off by the next one (no COMMIT or XID before another
    /// transaction begins: a damaged file): left out.
    pub abandoned: Vec<u64>,
}

impl Outcome {
    /// Whether damage lies inside what the selection asked for: the file is cut, and no
    /// stop bound ended the selection before the cut.
    pub fn damaged(&self) -> bool {
        self.truncated.is_some() && !self.stopped
    }
}

/// A complete transaction of a walk, and whether the filter selects it.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The transaction.
    pub txn: Transaction,
    /// Whether the filter selects it.
    pub selected: bool,
}

impl Filter {
    /// Every complete transaction of `log`, one file of a selection (the position bounds
    /// apply to the first and the last file), in order, each with whether it is selected.
    ///
    /// Errors: a start position (first file) that falls inside a transaction or an
    /// event, or past the file's end; and the reading errors of the file but one, a tail
    /// cut short, which ends the walk and is described by [`Walk::outcome`]. After an
    /// error the iterator ends.
    pub fn walk<'a>(&'a self, log: &Binlog<'a>, first_file: bool, last_file: bool) -> Walk<'a> {
        Walk {
            groups: Transactions::new(log.events()),
            filter: self,
            first_file,
            last_file,
            open: None,
            end: 4,
            outcome: Outcome::default(),
            done: false,
        }
    }

    /// Checks the start position against `log`, the first file, before anything is
    /// done with it: the errors [`Filter::walk`] gives for it, found by reading only up
    /// to the position.
    pub fn check_start_position(&self, log: &Binlog) -> Result<()> {
        let Some(p) = self.start_position else {
            return Ok(());
        };
        for w in self.walk(log, true, false) {
            if w?.txn.end >= p {
                break;
            }
        }
        Ok(())
    }

    /// The selected complete transactions of `log` (see [`Filter::walk`]).
    pub fn selected<'a>(
        &'a self,
        log: &Binlog<'a>,
        first_file: bool,
        last_file: bool,
    ) -> Selected<'a> {
        Selected {
            walk: self.walk(log, first_file, last_file),
        }
    }
}

/// The iterator of [`Filter::walk`].
#[derive(Debug)]
pub struct Walk<'a> {
    groups: Transactions<'a>,
    filter: &'a Filter,
    first_file: bool,
    last_file: bool,
    /// A transaction that has not ended yet.
    open: Option<Transaction>,
    /// The end of the last group read.
    end: u64,
    outcome: Outcome,
    done: bool,
}

impl Walk<'_> {
    /// What the walk met besides transactions (complete once the iterator has ended).
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// Refuses a start position strictly inside `start..end` (first file).
    fn check_start(&self, start: u64, end: u64, what: &str) -> Result<()> {
        let Some(p) = self.filter.start_position.filter(|_| self.first_file) else {
            return Ok(());
        };
        if p <= start || p >= end {
            return Ok(());
        }
        Err(Error::selection(
            p,
            format!(
                "--start-position {p} is inside {what} at {start}..{end}, not at its start: \
                 use {start} to include it, or {end} to begin after it"
            ),
        ))
    }

    /// The walk reached the end of the file's data.
    fn at_end(&mut self) -> Option<Result<Walked>> {
        self.done = true;
        if let Some(t) = self.open.take() {
            self.truncated(t.start, None, Some(&t));
        }
        let readable = self.outcome.truncated.as_ref().map_or(self.end, |t| t.at);
        match self.filter.start_position.filter(|_| self.first_file) {
            Some(p) if p > 4 && p > readable => {
                let why = match &self.outcome.truncated {
                    Some(t) => format!(
                        "--start-position {p} is past the readable part of the file, which \
                         ends at {}: {t}",
                        t.at
                    ),
                    None => format!(
                        "--start-position {p} is past the end of the file ({} bytes)",
                        self.end
                    ),
                };
                Some(Err(Error::selection(p, why)))
            }
            _ => None,
        }
    }

    /// The file ends inside an event (`error`) or a transaction (`open`): the stop
    /// bounds lie before the damage when the stop position is at or before `at`, or the
    /// transaction cut short has an event at or after the stop time (it would have
    /// committed after it).
    fn truncated(&mut self, at: u64, error: Option<Error>, open: Option<&Transaction>) {
        if self.last_file && self.filter.stop_position.is_some_and(|p| p <= at) {
            self.outcome.stopped = true;
        }
        if let (Some(stop), Some(t)) = (self.filter.stop_time, open) {
            if t.first_timestamp.max(t.last_timestamp) >= stop {
                self.outcome.stopped = true;
            }
        }
        self.outcome.truncated = Some(Truncated {
            at,
            error,
            open_txn: open.map(|t| t.start),
        });
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<Walked>;

    fn next(&mut self) -> Option<Result<Walked>> {
        if self.done {
            return None;
        }
        loop {
            let group = match self.groups.next() {
                None => return self.at_end(),
                Some(Err(e)) if e.is_cut_short() => {
                    let open = self.open.take();
                    let at = open.as_ref().map_or(e.offset(), |t| t.start);
                    self.truncated(at, Some(e), open.as_ref());
                    return self.at_end();
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Some(Ok(g)) => g,
            };
            if let Some(t) = self.open.take() {
                self.outcome.abandoned.push(t.start);
            }
            let checked = match &group {
                Group::Control(ev) => {
                    self.end = ev.end_offset();
                    let what = format!("the {} event", ev.event_type().show_name());
                    self.check_start(ev.offset(), ev.end_offset(), &what)
                }
                Group::Transaction(t) => {
                    self.end = t.end;
                    if t.is_complete() {
                        self.check_start(t.start, t.end, "the transaction")
                    } else {
                        // Inside one cut short at the end: past the readable part.
                        Ok(())
                    }
                }
            };
            if let Err(e) = checked {
                self.done = true;
                return Some(Err(e));
            }
            let Group::Transaction(txn) = group else {
                continue;
            };
            if !txn.is_complete() {
                self.open = Some(txn);
                continue;
            }
            if self.filter.is_past_stop(&txn, self.last_file) {
                self.outcome.stopped = true;
                let inside = self
                    .filter
                    .stop_position
                    .filter(|&p| self.last_file && txn.start < p && p < txn.end);
                if inside.is_some() && self.outcome.stop_inside.is_none() {
                    self.outcome.stop_inside = Some((txn.start, txn.end));
                }
            }
            let selected = self
                .filter
                .selects_transaction(&txn, self.first_file, self.last_file);
            return Some(Ok(Walked { txn, selected }));
        }
    }
}

/// The iterator of [`Filter::selected`].
#[derive(Debug)]
pub struct Selected<'a> {
    walk: Walk<'a>,
}

impl Selected<'_> {
    /// What the walk met besides transactions (complete once the iterator has ended).
    pub fn outcome(&self) -> &Outcome {
        self.walk.outcome()
    }
}

impl Iterator for Selected<'_> {
    type Item = Result<Transaction>;

    fn next(&mut self) -> Option<Result<Transaction>> {
        loop {
            match self.walk.next()? {
                Err(e) => return Some(Err(e)),
                Ok(w) if w.selected => return Some(Ok(w.txn)),
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `open_truncated/truncated.bin`: transactions end at 1088, 1381, 1625, 1880; the
    /// GTID at 1880 starts one the file cuts at 1922.
    fn truncated() -> Vec<u8> {
        crate::test_support::fixture("open_truncated/truncated.bin")
    }

    fn walk_all(f: &Filter, bytes: &[u8]) -> (Result<Vec<(u64, bool)>>, Outcome) {
        let log = Binlog::parse(bytes).unwrap();
        let mut w = f.walk(&log, true, true);
        let got = w
            .by_ref()
            .map(|r| r.map(|w| (w.txn.start, w.selected)))
            .collect::<Result<Vec<_>>>();
        (got, w.outcome().clone())
    }

    #[test]
    fn a_tail_cut_short_ends_the_walk_with_an_outcome() {
        let bytes = truncated();
        let (got, o) = walk_all(&Filter::default(), &bytes);
        let got = got.unwrap();
        assert!(got.iter().all(|t| t.1));
        assert_eq!(got.last().unwrap().0, 1625);
        let t = o.truncated.clone().unwrap();
        assert_eq!((t.at, t.open_txn), (1880, Some(1880)));
        assert_eq!(t.error.unwrap().offset(), 1922);
        assert!(o.damaged());
        // A stop before the cut: the selection ends there, and the damage is outside it.
        for stop in [
            Filter {
                stop_position: Some(1625),
                ..Filter::default()
            },
            Filter {
                stop_position: Some(1880),
                ..Filter::default()
            },
        ] {
            let (_, o) = walk_all(&stop, &bytes);
            assert!(o.truncated.is_some() && !o.damaged(), "{stop:?}");
        }
        let (_, o) = walk_all(
            &Filter {
                stop_position: Some(1900),
                ..Filter::default()
            },
            &bytes,
        );
        assert!(o.damaged());
        // The same file ending after a complete event, inside the transaction.
        let (_, o) = walk_all(&Filter::default(), &bytes[..1922]);
        assert_eq!(
            o.truncated,
            Some(Truncated {
                at: 1880,
                error: None,
                open_txn: Some(1880)
            })
        );
    }

    #[test]
    fn positions_inside_transactions() {
        let bytes = truncated();
        let at = |start: Option<u64>, stop: Option<u64>| {
            walk_all(
                &Filter {
                    start_position: start,
                    stop_position: stop,
                    ..Filter::default()
                },
                &bytes,
            )
        };
        let (r, _) = at(Some(1100), None);
        let e = r.unwrap_err();
        assert_eq!(e.offset(), 1100);
        let msg = e.to_string();
        assert!(
            msg.contains("inside the transaction at 1088..1381") && msg.contains("use 1088"),
            "{msg}"
        );
        assert!(at(Some(1088), None).0.is_ok());
        assert!(at(Some(4), None).0.is_ok());
        // Inside the FDE, past the readable part.
        assert!(at(Some(10), None).0.is_err());
        assert!(at(Some(1900), None)
            .0
            .unwrap_err()
            .to_string()
            .contains("past the readable part"));
        // A stop inside a transaction leaves it out, and says so.
        let (r, o) = at(None, Some(1400));
        let selected: Vec<u64> = r.unwrap().iter().filter(|t| t.1).map(|t| t.0).collect();
        assert_eq!(selected.last(), Some(&1088));
        assert_eq!(o.stop_inside, Some((1381, 1625)));
        assert_eq!(at(None, Some(1381)).1.stop_inside, None);
        // Checked up front as well.
        let log = Binlog::parse(&bytes).unwrap();
        let f = Filter {
            start_position: Some(1100),
            ..Filter::default()
        };
        assert!(f.check_start_position(&log).is_err());
        let f = Filter {
            start_position: Some(1381),
            ..Filter::default()
        };
        assert!(f.check_start_position(&log).is_ok());
    }

    #[test]
    fn statements_by_the_tables_they_name() {
        use StatementChoice::{Drop, Keep};
        let f = Filter {
            tables: vec![TablePattern::parse("shop.orders").unwrap()],
            ..Filter::default()
        };
        let c = |db: &str, q: &str| f.statement_choice(db.as_bytes(), q.as_bytes());
        assert_eq!(c("shop", "DROP TABLE other.keep"), Drop);
        assert_eq!(c("shop", "ALTER TABLE orders ADD c INT"), Keep);
        assert_eq!(c("other", "ALTER TABLE shop.orders ADD c INT"), Keep);
        assert_eq!(c("shop", "BEGIN"), Keep);
        assert_eq!(c("shop", "CREATE USER u"), Drop);
        assert!(matches!(
            c("shop", "DROP DATABASE shop"),
            StatementChoice::Unsure(_)
        ));
        assert_eq!(c("shop", "DROP DATABASE other"), Drop);
        assert!(matches!(
            c("", "DROP TABLE orders"),
            StatementChoice::Unsure(_)
        ));
        assert!(matches!(c("shop", "CALL p()"), StatementChoice::Unsure(_)));
        let d = Filter {
            databases: vec!["shop".into()],
            kinds: Some(vec![RowsKind::Delete]),
            ..Filter::default()
        };
        let c = |db: &str, q: &str| d.statement_choice(db.as_bytes(), q.as_bytes());
        assert_eq!(c("shop", "DROP DATABASE shop"), Keep);
        assert_eq!(c("shop", "INSERT INTO t VALUES (1)"), Drop);
        assert_eq!(c("shop", "DELETE FROM t"), Keep);
        assert_eq!(c("x", "DELETE FROM t"), Drop);
        assert_eq!(c("x", "DELETE FROM shop.t"), Keep);
    }

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
