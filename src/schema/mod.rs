//! Tables' columns, types and keys, for binlogs whose TABLE_MAP events carry no names
//! (`binlog_row_metadata=MINIMAL`, MariaDB's default `NO_LOG`), followed through the DDL of
//! the binlog so that each TABLE_MAP gets the tables as they were at its position.
//!
//! - [`catalog`]: the schema at one moment ([`Catalog`]), DDL applied to it.
//! - [`history`]: the schema through a binlog ([`SchemaHistory`]).
//! - [`ddl`]: DDL statements read into changes (column definitions by `sqlparser`).
//! - [`table`]: a table ([`Table`]): columns, keys, CREATE TABLE written back.
//! - [`types`]: a column's SQL type, checked against a TABLE_MAP column.
//! - [`text`]: SQL scripts cut into statements and tokens.
//!
//! A schema comes from a script ([`read_script`]: `mysqldump --no-data` output, `SHOW
//! CREATE TABLE` output) or from descriptions a caller reads from a server, as CREATE
//! TABLE statements of its own making.

pub mod catalog;
pub mod ddl;
pub mod history;
pub mod table;
pub mod text;
pub mod types;

pub use catalog::Catalog;
pub use history::{from_start, SchemaHistory, Selected, Start};
pub use table::{ColumnDef, Key, Table};

use crate::error::Result;
use crate::sql::statement::is_ddl;

/// Reads a schema script: its CREATE TABLE statements (and the DDL around them) applied in
/// order, `USE db` setting the database of unqualified names. Other statements (SET,
/// INSERT, LOCK …) are passed over. The labels of `SHOW CREATE TABLE\G` output are
/// skipped. Errors carry the byte offset of the statement in `text`; statements on tables
/// outside `selected` that cannot be read leave those tables unknown.
pub fn read_script(text: &str, selected: Selected) -> Result<Catalog> {
    let mut history = SchemaHistory::new(Catalog::new(), Start::Position);
    let mut db = String::new();
    for stmt in text::statements(text) {
        let body = show_create_body(&stmt.text);
        let toks = text::Tokens::new(body);
        if toks.is(0, "USE") {
            if let Some(d) = toks.name(1) {
                db = d;
            }
            continue;
        }
        if !is_ddl(body.as_bytes()) {
            continue;
        }
        history.apply_statement(body, &db, stmt.offset as u64, selected)?;
    }
    Ok(history.current().as_ref().clone())
}

/// The statement in `SHOW CREATE TABLE … \G` output (after its `Create Table:` label), or
/// the text itself.
fn show_create_body(text: &str) -> &str {
    for label in ["Create Table:", "Create Database:"] {
        if let Some(i) = text.find(label) {
            return text[i + label.len()..].trim_start();
        }
    }
    text
}

/// The schema as a script that [`read_script`] reads back: per database a `CREATE
/// DATABASE IF NOT EXISTS` with its known defaults and `USE`, then its tables' CREATE
/// TABLE statements. Tables whose columns are not known are listed in comments.
pub fn write_script(catalog: &Catalog) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("-- binlog-tool: the schema at the end of the input\n");
    for (name, db) in &catalog.dbs {
        if !name.is_empty() {
            let _ = write!(s, "\nCREATE DATABASE IF NOT EXISTS {}", text::quote(name));
            if let Some(cs) = &db.charset {
                let _ = write!(s, " DEFAULT CHARACTER SET {cs}");
            }
            if let Some(co) = &db.collation {
                let _ = write!(s, " COLLATE {co}");
            }
            let _ = writeln!(s, ";\nUSE {};", text::quote(name));
        }
        for t in db.tables.values() {
            match &t.unknown {
                Some(why) => {
                    let _ = writeln!(
                        s,
                        "-- {}: columns not known: {}",
                        text::quote(&t.name),
                        why.replace('\n', " ")
                    );
                }
                None => {
                    let _ = writeln!(s, "{};", t.create_statement());
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests;
