//! Planning: which transactions of the inputs to undo, refusing before anything is written
//! what cannot be undone.
//!
//! A transaction is undone when the filter selects it (by where and when it committed, and
//! its GTID) and it holds at least one rows event of a selected table and kind. XA
//! transactions are undone where their `XA COMMIT` stands: the rows come from the
//! matching XA PREPARE group, wherever it is in the inputs; a prepared transaction that the
//! selection does not see committed is left alone (with a note), and one rolled back has
//! nothing to undo.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::event::EventData;
use crate::filter::{Outcome, StatementChoice, Walked};
use crate::reader::Binlog;
use crate::sql::statement::{is_ddl, may_change_columns, targets, Targets};
use crate::txn::{Transaction, TxnEnd, TxnKind};
use crate::Format;

use super::rows_index::{excerpt, index_transaction, is_dml, TxnBytes, TxnIndex};
use super::{FileError, Options, Releaser};

/// A transaction to undo: where its events lie. 24 bytes, so that a plan over millions of
/// transactions stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoTxn {
    /// Offset of its first event.
    pub start: u64,
    /// Offset past its last event.
    pub end: u64,
    /// Index of the input file.
    pub file: u32,
    /// When it committed (header timestamp of its last event, or of its XA COMMIT).
    pub commit_time: u32,
}

/// A place in the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Index of the input file.
    pub file: usize,
    /// Byte offset.
    pub offset: u64,
}

/// Something left out on purpose, worth telling the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where.
    pub at: Position,
    /// What and why.
    pub message: String,
}

/// What to undo, in commit order (the undo goes from the last one back).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The transactions.
    pub txns: Vec<UndoTxn>,
    /// What was left out, in input order.
    pub notes: Vec<Note>,
    /// Start of the first transaction undone (for an XA transaction, of its XA COMMIT).
    pub first: Option<Position>,
    /// End of the last transaction undone.
    pub last: Option<Position>,
    /// Earliest commit time among them.
    pub first_time: Option<u32>,
    /// Latest commit time among them.
    pub last_time: Option<u32>,
    /// Rows events to undo.
    pub rows_events: u64,
    /// What the walk over each input met besides transactions (a damaged tail, a stop
    /// bound inside a transaction), by input index.
    pub outcomes: Vec<Outcome>,
    /// The tables with rows to undo, and where the first of them is.
    undone: BTreeMap<(String, String), Position>,
}

/// A prepared XA transaction waiting for its XA COMMIT or XA ROLLBACK.
#[derive(Debug, Clone, Copy)]
struct Prepared {
    file: usize,
    start: u64,
    end: u64,
    selected: bool,
}

/// Reads every input once and plans the undo. Refuses (with the offending event's file and
/// offset) statement-format changes, UPDATE/DELETE images without every column, JSON diffs,
/// encrypted inputs, inputs of mixed flavors, DDL in the selection unless
/// `opts.skip_ddl`, DDL anywhere in the inputs on a table after rows of it to undo (the
/// undo's row images would not fit the table it changed; unless `opts.schema_followed`), and
/// a start position inside a transaction. A file whose tail is damaged is read up to its last complete transaction
/// ([`Plan::outcomes`] says where).
pub fn plan(inputs: &[Binlog], opts: &Options) -> Result<Plan, FileError> {
    let mut p = Plan::default();
    let mut prepared: HashMap<String, Prepared> = HashMap::new();
    let mut idx = TxnIndex::default();
    let mut release = Releaser::new(opts);
    let formats: Vec<Arc<Format>> = inputs
        .iter()
        .map(|l| Arc::new(l.format().clone()))
        .collect();
    for (fi, log) in inputs.iter().enumerate() {
        let fail = |e: Error| FileError::input(fi, e);
        check_input(inputs, log).map_err(fail)?;
        let data = log.data();
        let (first_file, last_file) = (fi == 0, fi + 1 == inputs.len());
        let mut walk = opts.filter.walk(log, first_file, last_file);
        for w in walk.by_ref() {
            let Walked { txn: t, selected } = w.map_err(fail)?;
            release.done(fi, t.start, t.end);
            let txn = match t.kind {
                TxnKind::XaPrepare if is_two_phase(&t, data) => {
                    if let Some(xid) = prepared_xid(&t, data) {
                        let entry = Prepared {
                            file: fi,
                            start: t.start,
                            end: t.end,
                            selected,
                        };
                        prepared.insert(xid, entry);
                    }
                    continue;
                }
                TxnKind::XaEnd | TxnKind::Statement => {
                    // Servers do not always flag the GTID of an XA COMMIT, so a standalone
                    // statement is looked at too.
                    let Some((commit, xid)) = xa_end(&t, data).map_err(fail)? else {
                        statement(&t, data, opts, &mut p, fi, selected).map_err(fail)?;
                        continue;
                    };
                    let prep = prepared.remove(&xid);
                    if !selected {
                        if let Some(pr) = prep.filter(|pr| pr.selected) {
                            p.note(pr.file, pr.start, format!("XA transaction {xid} is left alone: its XA COMMIT or ROLLBACK at offset {} of input {fi} is outside the selection", t.start));
                        }
                        continue;
                    }
                    if !commit {
                        continue;
                    }
                    let Some(pr) = prep else {
                        return Err(fail(Error::unsupported(
                            t.start,
                            format!("XA COMMIT {xid} is in the selection but its XA PREPARE is not in the input files: its changes cannot be undone"),
                        )));
                    };
                    UndoTxn {
                        start: pr.start,
                        end: pr.end,
                        file: pr.file as u32,
                        commit_time: t.last_timestamp,
                    }
                }
                TxnKind::Dml | TxnKind::Payload | TxnKind::XaPrepare => {
                    if !selected {
                        continue;
                    }
                    UndoTxn {
                        start: t.start,
                        end: t.end,
                        file: fi as u32,
                        commit_time: t.last_timestamp,
                    }
                }
            };
            let rows = scan(inputs, &formats, &txn, opts, &mut idx)?;
            let at = Position {
                file: fi,
                offset: t.start,
            };
            p.add(txn, rows, at, t.end, &idx.tables);
        }
        p.outcomes.push(walk.outcome().clone());
    }
    release.flush();
    let mut left: Vec<(String, Prepared)> =
        prepared.into_iter().filter(|(_, v)| v.selected).collect();
    left.sort_by_key(|(_, v)| (v.file, v.start));
    for (xid, pr) in left {
        p.note(
            pr.file,
            pr.start,
            format!(
                "XA transaction {xid} is prepared but not committed in the input files: left alone"
            ),
        );
    }
    p.notes.sort_by_key(|n| (n.at.file, n.at.offset));
    Ok(p)
}

impl Plan {
    fn note(&mut self, file: usize, offset: u64, message: impl Into<String>) {
        self.notes.push(Note {
            at: Position { file, offset },
            message: message.into(),
        });
    }

    fn add(
        &mut self,
        txn: UndoTxn,
        rows_events: usize,
        at: Position,
        end: u64,
        tables: &[(String, String)],
    ) {
        if rows_events == 0 {
            return;
        }
        for t in tables {
            self.undone.entry(t.clone()).or_insert(at);
        }
        self.txns.push(txn);
        self.rows_events += rows_events as u64;
        self.first.get_or_insert(at);
        self.last = Some(Position {
            file: at.file,
            offset: end,
        });
        let t = txn.commit_time;
        self.first_time = Some(self.first_time.map_or(t, |f| f.min(t)));
        self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
    }
}

/// The inputs must be readable binlogs of one flavor.
fn check_input(inputs: &[Binlog], log: &Binlog) -> Result<()> {
    if let Some(at) = log.encrypted_from() {
        return Err(Error::unsupported(at, "the binlog is encrypted"));
    }
    if !log.has_format_event() || log.format().binlog_version < 4 {
        return Err(Error::unsupported(
            4,
            "only v4 binlogs (MySQL 5.0 and later, MariaDB) can be undone",
        ));
    }
    let first = inputs[0].format().flavor;
    if log.format().flavor != first {
        return Err(Error::unsupported(
            4,
            format!(
                "this file is {} and the first one {}: all inputs must come from one server",
                log.format().flavor.name(),
                first.name()
            ),
        ));
    }
    Ok(())
}

/// Indexes (and so checks) a transaction to undo; returns how many rows events it undoes.
fn scan(
    inputs: &[Binlog],
    formats: &[Arc<Format>],
    txn: &UndoTxn,
    opts: &Options,
    idx: &mut TxnIndex,
) -> Result<usize, FileError> {
    let fi = txn.file as usize;
    let fail = |e: Error| FileError::input(fi, e);
    let bytes =
        TxnBytes::open(inputs[fi].data(), &formats[fi], txn.start, txn.end).map_err(fail)?;
    index_transaction(&bytes, opts, idx).map_err(|e| fail(bytes.locate(e)))?;
    Ok(idx.rows.len())
}

/// Whether an XA PREPARE group waits for a second phase (it does unless it was committed in
/// one phase).
fn is_two_phase(t: &Transaction, data: &[u8]) -> bool {
    if t.end_kind != TxnEnd::XaPrepare {
        return false;
    }
    match end_event(t, data) {
        Some(EventData::XaPrepare(x)) => !x.one_phase,
        _ => true,
    }
}

/// The XID of a prepared XA transaction, as `XA COMMIT` names it (lower case).
fn prepared_xid(t: &Transaction, data: &[u8]) -> Option<String> {
    match end_event(t, data) {
        Some(EventData::XaPrepare(x)) => Some(x.xid_sql().to_ascii_lowercase()),
        _ => None,
    }
}

/// The decoded event that ends a transaction.
fn end_event<'a>(t: &Transaction, data: &'a [u8]) -> Option<EventData<'a>> {
    let at = t.end_event?;
    let ev = crate::reader::Events::range(data, at, t.end, Arc::clone(&t.format))
        .verify_checksums(false)
        .next()?
        .ok()?;
    ev.decode(&t.format).ok()
}

/// For an `XA COMMIT` / `XA ROLLBACK` group: whether it commits, and the XID (lower case).
fn xa_end(t: &Transaction, data: &[u8]) -> Result<Option<(bool, String)>> {
    let Some(EventData::Query(q)) = end_event(t, data) else {
        return Ok(None);
    };
    let text = q.text()?;
    let s = String::from_utf8_lossy(&text);
    let s = s.trim().trim_end_matches(';');
    let mut words = s.splitn(3, char::is_whitespace);
    let (xa, verb, rest) = (
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
    );
    let commit = verb.eq_ignore_ascii_case("COMMIT");
    if !xa.eq_ignore_ascii_case("XA") || !(commit || verb.eq_ignore_ascii_case("ROLLBACK")) {
        return Ok(None);
    }
    let xid: String = rest
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace())
        .to_string();
    // `XA COMMIT xid ONE PHASE` has no prepared half; the words after the XID are dropped
    // above, and a missing XA PREPARE is then reported by the caller.
    Ok(Some((commit, xid.to_ascii_lowercase())))
}

/// A standalone statement: DDL on a table after rows of it to undo is refused, wherever it
/// is; in the selection, DDL is refused (or left out with `skip_ddl`) and statement-format
/// DML always refused, unless it concerns only what the row options leave out.
fn statement(
    t: &Transaction,
    data: &[u8],
    opts: &Options,
    p: &mut Plan,
    fi: usize,
    selected: bool,
) -> Result<()> {
    let at = t.end_event.unwrap_or(t.start);
    let (db, text) = match end_event(t, data) {
        Some(EventData::Query(q)) => (q.db.to_vec(), q.text()?.into_owned()),
        _ => (Vec::new(), b"LOAD DATA".to_vec()),
    };
    if !opts.schema_followed {
        schema_change_after_undone_rows(p, fi, at, &db, &text)?;
    }
    if !selected || opts.filter.statement_choice(&db, &text) == StatementChoice::Drop {
        return Ok(());
    }
    if is_dml(&text) {
        return Err(Error::unsupported(
            at,
            format!("a statement-format change ({}) is in the selection: only row-format changes can be undone", excerpt(&text)),
        ));
    }
    if opts.skip_ddl {
        p.note(fi, at, format!("DDL left out: {}", excerpt(&text)));
        return Ok(());
    }
    Err(Error::unsupported(
        at,
        format!("DDL ({}) is in the selection: rows changed across a schema change cannot be undone safely; narrow the selection or pass --skip-ddl to leave it out", excerpt(&text)),
    ))
}

/// Refuses DDL that changes (alters, renames, drops, truncates, re-creates) a table with
/// rows to undo before it: the undo's row images are those of the table before the DDL,
/// and would apply to the table after it (columns moved, added, dropped). DDL whose tables
/// cannot be told is refused too, once there are rows to undo. Only DDL that certainly
/// leaves the columns alone passes ([`may_change_columns`]: indexes, table options).
fn schema_change_after_undone_rows(
    p: &Plan,
    fi: usize,
    at: u64,
    db: &[u8],
    text: &[u8],
) -> Result<()> {
    if p.undone.is_empty() || !is_ddl(text) || !may_change_columns(text) {
        return Ok(());
    }
    let session_db = String::from_utf8_lossy(db);
    let hit = match targets(text) {
        Targets::Tables(list) => list.iter().find_map(|t| {
            let key = (
                t.db.clone().unwrap_or_else(|| session_db.to_string()),
                t.table.clone(),
            );
            p.undone
                .get(&key)
                .map(|first| (format!("{}.{}", key.0, key.1), *first))
        }),
        Targets::Database { name, drops: true } => p
            .undone
            .iter()
            .filter(|(k, _)| k.0 == name)
            .map(|(k, first)| (format!("{}.{}", k.0, k.1), *first))
            .min_by_key(|(_, first)| (first.file, first.offset)),
        Targets::Database { .. } | Targets::NoTable => None,
        Targets::Unknown => {
            let first = p.undone.values().min_by_key(|f| (f.file, f.offset));
            first.map(|f| ("tables it does not name plainly".to_string(), *f))
        }
    };
    let Some((table, first)) = hit else {
        return Ok(());
    };
    let first_at = if first.file == fi {
        format!("offset {}", first.offset)
    } else {
        format!("offset {} of input file {}", first.offset, first.file + 1)
    };
    Err(Error::selection(
        at,
        format!(
            "DDL ({}) changes {table} after rows of it to undo (the first at {first_at}): \
             the undo's row images are those of the table before it and would not fit the \
             table as it left it (columns added, moved, dropped, the table replaced); the \
             undo cannot be applied across that schema change: undo only changes after it, \
             or write it as SQL with the schema of the start (which then follows the DDL and \
             addresses the tables as they are at the end)",
            excerpt(text)
        ),
    ))
}
