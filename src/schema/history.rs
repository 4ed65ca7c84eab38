//! The schema through a binlog: a starting schema with the DDL of QUERY events applied in
//! order, so that each TABLE_MAP meets the tables as they were at its position.
//!
//! DDL on tables of the selection that cannot be read, or that does not fit the schema
//! (it drops a column the schema does not have), stops the walk with an error naming its
//! offset and statement. DDL on other tables is applied as far as it can be, and a table
//! it cannot follow is marked unknown (its rows then have no names). Statements that are
//! not DDL (statement-format DML, transaction control) change nothing.
//!
//! A schema read from a live server describes the tables as they are now: it holds only
//! for rows after the last DDL on them. In that mode ([`Start::Now`]) any DDL on a
//! selected table is an error that says so.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::event::header::EventType;
use crate::event::EventData;
use crate::filter::Filter;
use crate::reader::Binlog;
use crate::schema::catalog::Catalog;
use crate::schema::ddl::{self, Ddl, TableName};
use crate::schema::text::{excerpt, statements};
use crate::sql::statement::is_ddl;
use crate::txn::{Group, Transaction, Transactions, TxnKind};

/// What the starting schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The tables at the start of the input (a dump taken there or before).
    Position,
    /// The tables now (a live server's `information_schema`).
    Now,
}

/// The start bounds of a selection alone (position, time): the transactions whose DDL a
/// history applies, the schema given describing the tables at the start.
pub fn from_start(filter: &Filter) -> Filter {
    Filter {
        start_position: filter.start_position,
        start_time: filter.start_time,
        ..Filter::default()
    }
}

/// Which tables are selected: `(database, table)`.
pub type Selected<'a> = &'a dyn Fn(&str, &str) -> bool;

/// The schema as DDL changes it.
#[derive(Debug, Clone)]
pub struct SchemaHistory {
    current: Arc<Catalog>,
    start: Start,
    /// How many statements changed the schema.
    pub changes: u64,
}

impl SchemaHistory {
    /// A history starting from `catalog`.
    pub fn new(catalog: Catalog, start: Start) -> SchemaHistory {
        SchemaHistory {
            current: Arc::new(catalog),
            start,
            changes: 0,
        }
    }

    /// What the starting schema describes.
    pub fn start(&self) -> Start {
        self.start
    }

    /// The schema as it is now in the walk.
    pub fn current(&self) -> &Arc<Catalog> {
        &self.current
    }

    /// Applies the DDL of one transaction of `data` (the file's bytes). Returns whether the
    /// schema changed.
    pub fn apply_transaction(
        &mut self,
        data: &[u8],
        txn: &Transaction,
        selected: Selected,
    ) -> Result<bool> {
        if txn.kind == TxnKind::Payload || txn.kind == TxnKind::XaEnd {
            return Ok(false);
        }
        let mut changed = false;
        for ev in txn.events(data) {
            let ev = ev?;
            match ev.event_type() {
                EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => {}
                // DDL comes first in its group; past the first rows, there is none.
                EventType::TABLE_MAP => break,
                _ => continue,
            }
            let EventData::Query(q) = ev.decode(&txn.format)? else {
                continue;
            };
            let text = q.text()?;
            if !is_ddl(&text) {
                continue;
            }
            let text = String::from_utf8_lossy(&text);
            let db = String::from_utf8_lossy(q.db);
            changed |= self.apply_statement(&text, &db, ev.offset(), selected)?;
        }
        Ok(changed)
    }

    /// Applies a statement run in database `db`, found at `offset` (for errors).
    pub fn apply_statement(
        &mut self,
        text: &str,
        db: &str,
        offset: u64,
        selected: Selected,
    ) -> Result<bool> {
        let mut changed = false;
        for stmt in statements(text) {
            changed |= self.apply_one(&stmt.text, db, offset, selected)?;
        }
        Ok(changed)
    }

    fn apply_one(&mut self, text: &str, db: &str, offset: u64, selected: Selected) -> Result<bool> {
        let refuse = |why: String| {
            Error::unsupported(offset, format!("{why}; the statement: {}", excerpt(text)))
        };
        let parsed = ddl::parse(text);
        let tables = match &parsed {
            Ok(d) => tables_of(d, db, &self.current),
            Err(e) => e.tables.iter().map(|n| resolved(n, db)).collect(),
        };
        let concerns_selection = tables.iter().any(|(d, t)| is_selected(selected, d, t));
        let ddl = match parsed {
            Ok(Ddl::Truncate(_) | Ddl::Temporary | Ddl::Other) => return Ok(false),
            Ok(d) => d,
            Err(e) if tables.is_empty() => {
                return Err(refuse(format!(
                    "DDL not understood ({}), and which tables it changes cannot be told",
                    e.message
                )))
            }
            Err(e) if concerns_selection => {
                return Err(refuse(format!(
                    "DDL on a selected table not understood: {}",
                    e.message
                )))
            }
            Err(e) => {
                let cat = Arc::make_mut(&mut self.current);
                for (d, t) in &tables {
                    cat.set_unknown(
                        d,
                        t,
                        format!(
                            "its DDL at offset {offset} was not understood: {}",
                            e.message
                        ),
                    );
                }
                self.changes += 1;
                return Ok(true);
            }
        };
        if self.start == Start::Now && concerns_selection {
            return Err(refuse(
                "DDL on a selected table: --schema-from-server reads the tables as they are now, \
                 which does not describe rows written before this change; start after it, or give \
                 --schema with the tables as they were at the start"
                    .into(),
            ));
        }
        let cat = Arc::make_mut(&mut self.current);
        if let Err(e) = cat.apply(&ddl, db) {
            if concerns_selection {
                return Err(refuse(format!(
                    "DDL on a selected table does not fit the schema: {e}"
                )));
            }
            for (d, t) in &tables {
                cat.set_unknown(
                    d,
                    t,
                    format!("its DDL at offset {offset} did not fit the schema: {e}"),
                );
            }
        }
        self.changes += 1;
        Ok(true)
    }
}

fn is_selected(selected: Selected, db: &str, table: &str) -> bool {
    selected(db, table) || selected(&db.to_lowercase(), &table.to_lowercase())
}

fn resolved(n: &TableName, db: &str) -> (String, String) {
    (
        n.db.clone().unwrap_or_else(|| db.to_string()),
        n.name.clone(),
    )
}

/// The tables a statement changes (for DROP DATABASE, every table of the database).
fn tables_of(d: &Ddl, db: &str, cat: &Catalog) -> Vec<(String, String)> {
    let r = |n: &TableName| resolved(n, db);
    match d {
        Ddl::CreateTable { name, .. } => vec![r(name)],
        Ddl::AlterTable { name, ops } => {
            let mut v = vec![r(name)];
            for o in ops {
                if let ddl::AlterOp::RenameTable(to) = o {
                    v.push(resolved(to, db));
                }
            }
            v
        }
        Ddl::RenameTables(p) => p.iter().flat_map(|(a, b)| [r(a), r(b)]).collect(),
        Ddl::DropTables(n) => n.iter().map(r).collect(),
        Ddl::CreateIndex { table, .. } | Ddl::DropIndex { table, .. } => vec![r(table)],
        Ddl::DropDatabase(name) => {
            let mut v: Vec<(String, String)> = cat
                .tables()
                .filter(|t| t.db.eq_ignore_ascii_case(name))
                .map(|t| (t.db.clone(), t.name.clone()))
                .collect();
            // A database the schema does not know may hold selected tables all the same.
            v.push((name.clone(), String::new()));
            v
        }
        Ddl::CreateDatabase { .. } | Ddl::AlterDatabase { .. } => Vec::new(),
        Ddl::Truncate(_) | Ddl::Temporary | Ddl::Other => Vec::new(),
    }
}

/// The schema through a whole input: each version from the position of the DDL that made
/// it, and the schema at the end (what statements run on the server now must address).
#[derive(Debug, Clone)]
pub struct Versions {
    /// `(file index, transaction start, schema from there on)`, in order.
    steps: Vec<(usize, u64, Arc<Catalog>)>,
    /// The schema at the end of the input.
    pub end: Arc<Catalog>,
}

impl Versions {
    /// Walks the DDL of `logs` (files in order) from the start of `filter`'s selection to
    /// the end of the input. An error comes with the index of its file.
    pub fn walk(
        mut history: SchemaHistory,
        logs: &[Binlog],
        filter: &Filter,
    ) -> std::result::Result<Versions, (usize, Error)> {
        let from_start = from_start(filter);
        let selected = |db: &str, t: &str| filter.selects_table(db.as_bytes(), t.as_bytes());
        let mut steps = vec![(0, 0, Arc::clone(history.current()))];
        let last = logs.len().saturating_sub(1);
        for (n, log) in logs.iter().enumerate() {
            for group in Transactions::new(log.events()) {
                let txn = match group.map_err(|e| (n, e))? {
                    Group::Transaction(t) if t.is_complete() => t,
                    _ => continue,
                };
                if !from_start.selects_transaction(&txn, n == 0, n == last) {
                    continue;
                }
                if history
                    .apply_transaction(log.data(), &txn, &selected)
                    .map_err(|e| (n, e))?
                {
                    steps.push((n, txn.start, Arc::clone(history.current())));
                }
            }
        }
        let end = Arc::clone(history.current());
        Ok(Versions { steps, end })
    }

    /// The schema at an offset of a file.
    pub fn at(&self, file: usize, offset: u64) -> &Catalog {
        let i = self
            .steps
            .partition_point(|(f, o, _)| (*f, *o) <= (file, offset));
        &self.steps[i.saturating_sub(1)].2
    }
}
