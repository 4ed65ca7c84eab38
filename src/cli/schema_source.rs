//! Where column names come from when TABLE_MAPs carry none: `--schema FILE` (CREATE TABLE
//! statements) or `--schema-from-server` (information_schema of a live server), shared by
//! decode and flashback; `--write-schema FILE` (decode) writes the schema at the end of the
//! input.

use std::path::PathBuf;

use binlog::filter::Filter;
use binlog::schema::{self, Catalog, SchemaHistory, Start};

use super::connection::{cell, rows, text, ConnectionArgs};
use super::output::{fail, CliResult, Failure};

/// The schema flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SchemaArgs {
    /// CREATE TABLE statements naming the columns of tables whose TABLE_MAP events carry
    /// none (binlog_row_metadata=MINIMAL or NO_LOG): `mysqldump --no-data` or
    /// `mariadb-dump` output, or SHOW CREATE TABLE output, with USE / CREATE DATABASE
    /// giving databases. It must describe the tables at the start of the selection (a dump
    /// taken there, e.g. at its --master-data position); DDL in the binlog from there on is
    /// applied in order, and every TABLE_MAP is checked against the tables of its moment.
    #[arg(long, value_name = "FILE", conflicts_with = "schema_from_server")]
    pub schema: Option<PathBuf>,
    /// Read the tables from a live server (information_schema, with the connection flags):
    /// the tables as they are now, so only for a selection after which no DDL changed the
    /// selected tables; DDL on them in the input is refused, naming its position.
    #[arg(long)]
    pub schema_from_server: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl SchemaArgs {
    /// The schema history to walk the input with, if a schema was given.
    pub fn history(&self, filter: &Filter) -> CliResult<Option<SchemaHistory>> {
        let selected = |db: &str, t: &str| filter.selects_table(db.as_bytes(), t.as_bytes());
        if let Some(p) = &self.schema {
            let text =
                std::fs::read(p).map_err(|e| fail(p, format_args!("cannot read schema: {e}")))?;
            let text = String::from_utf8_lossy(&text);
            let catalog = schema::read_script(&text, &selected)
                .map_err(|e| fail(p, format_args!("at byte {}: {}", e.offset(), e.kind())))?;
            return Ok(Some(SchemaHistory::new(catalog, Start::Position)));
        }
        if self.schema_from_server {
            let catalog = read_server(&self.connection, &selected)?;
            return Ok(Some(SchemaHistory::new(catalog, Start::Now)));
        }
        Ok(None)
    }
}

/// A key: database, table, index name.
type KeyId = (String, String, String);

/// The user tables of a live server, from information_schema, as CREATE TABLE statements
/// read back.
fn read_server(conn: &ConnectionArgs, selected: schema::Selected) -> CliResult<Catalog> {
    let spec = conn.resolve()?;
    let mut c = spec.connect()?;
    let server = |e: mysql::Error| {
        Failure::Message(format!(
            "reading information_schema from {}: {}",
            spec.target(),
            super::connection::describe(&e)
        ))
    };
    const SYSTEM: &str = "('mysql','information_schema','performance_schema','sys')";
    let cols = rows(
        &mut c,
        &format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, \
             COLLATION_NAME, EXTRA FROM information_schema.COLUMNS c WHERE TABLE_SCHEMA NOT IN \
             {SYSTEM} AND EXISTS (SELECT 1 FROM information_schema.TABLES t WHERE \
             t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND \
             t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')) \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
        ),
    )
    .map_err(server)?;
    let keys = rows(
        &mut c,
        &format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM \
             information_schema.STATISTICS WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA NOT IN {SYSTEM} \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ),
    )
    .map_err(server)?;
    // (db, table) → column definitions, then keys.
    let mut tables: Vec<((String, String), Vec<String>)> = Vec::new();
    for r in &cols {
        let id = (text(r, 0), text(r, 1));
        let mut def = format!("{} {}", schema::text::quote(&text(r, 2)), text(r, 3));
        if let Some(cs) = cell(r, 4) {
            def.push_str(&format!(" CHARACTER SET {cs}"));
        }
        if let Some(co) = cell(r, 5) {
            def.push_str(&format!(" COLLATE {co}"));
        }
        if text(r, 6).to_ascii_uppercase().contains("INVISIBLE") {
            def.push_str(" INVISIBLE");
        }
        match tables.last_mut() {
            Some((last, defs)) if *last == id => defs.push(def),
            _ => tables.push((id, vec![def])),
        }
    }
    // Keys: (db, table, index) → columns; an expression part (no column) drops the key.
    let mut key_defs: Vec<(KeyId, Option<Vec<String>>)> = Vec::new();
    for r in &keys {
        let id = (text(r, 0), text(r, 1), text(r, 2));
        let col = cell(r, 3);
        match key_defs.last_mut() {
            Some((last, cols)) if *last == id => match (cols.as_mut(), col) {
                (Some(v), Some(c)) => v.push(c),
                _ => *cols = None,
            },
            _ => key_defs.push((id, col.map(|c| vec![c]))),
        }
    }
    let mut script = String::new();
    for ((db, t), mut defs) in tables {
        for ((kd, kt, name), kcols) in &key_defs {
            let (Some(kcols), true) = (kcols, *kd == db && *kt == t) else {
                continue;
            };
            let list: Vec<String> = kcols.iter().map(|c| schema::text::quote(c)).collect();
            if name == "PRIMARY" {
                defs.push(format!("PRIMARY KEY ({})", list.join(",")));
            } else {
                defs.push(format!(
                    "UNIQUE KEY {} ({})",
                    schema::text::quote(name),
                    list.join(",")
                ));
            }
        }
        script.push_str(&format!(
            "CREATE TABLE {}.{} (\n  {}\n);\n",
            schema::text::quote(&db),
            schema::text::quote(&t),
            defs.join(",\n  ")
        ));
    }
    schema::read_script(&script, selected).map_err(|e| {
        Failure::Message(format!(
            "{}: a table's description from information_schema not understood: {}",
            spec.target(),
            e.kind()
        ))
    })
}
