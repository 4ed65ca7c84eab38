//! Which tables to read, and their descriptions, from `information_schema`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mysql::prelude::Queryable;
use mysql::{Conn, Row};

use super::msg;
use super::Server;
use crate::cli::connection::{cell, describe, first, number, rows as query_rows, text};
use crate::cli::output::CliResult;
use crate::cli::output::Failure;
use binlog::snapshot::{parse_members, ColumnDef, TableDef};
use binlog::Flavor;

/// Schemas that are never read.
pub const SYSTEM_SCHEMAS: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// A table chosen for the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Database.
    pub schema: String,
    /// Table.
    pub name: String,
    /// `ENGINE` (InnoDB tables are read in primary key order, in pieces when big).
    pub engine: String,
    /// `TABLE_ROWS`: the engine's estimate.
    pub estimated_rows: u64,
}

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--db`.
    pub dbs: Vec<String>,
    /// `--table`: `t` or `db.t`.
    pub tables: Vec<String>,
    /// `--skip`: `db` or `db.t`.
    pub skip: Vec<String>,
}

fn fail(what: &str, e: &mysql::Error) -> Failure {
    Failure::Message(format!("{what}: {}", describe(e)))
}

fn sql_list(items: &BTreeSet<String>) -> String {
    items
        .iter()
        .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// The tables to read, in a stable order (database, then table, bytewise). Fails on a
/// database or table asked for that does not exist, and on tables of a kind that cannot
/// be read as rows.
pub fn choose(conn: &mut Conn, sel: &Selection) -> Result<(Vec<Chosen>, Vec<String>), Failure> {
    for db in &sel.dbs {
        if SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db)) {
            return Err(Failure::Message(format!(
                "{db} is a system schema; system schemas are never snapshotted"
            )));
        }
    }
    let rows: Vec<Row> = query_rows(
        conn,
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE, ''), IFNULL(TABLE_ROWS, 0) \
         FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
    )
    .map_err(|e| fail("listing tables", &e))?;
    let schemas: Vec<String> =
        query_rows(conn, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
            .map_err(|e| fail("listing databases", &e))?
            .iter()
            .map(|r| text(r, 0))
            .collect();
    for db in &sel.dbs {
        if !schemas.iter().any(|s| s == db) {
            return Err(Failure::Message(format!("unknown database {db}")));
        }
    }
    let skip_db: BTreeSet<&str> = sel
        .skip
        .iter()
        .filter(|s| !s.contains('.'))
        .map(|s| s.as_str())
        .collect();
    let skip_table: BTreeSet<&str> = sel
        .skip
        .iter()
        .filter(|s| s.contains('.'))
        .map(|s| s.as_str())
        .collect();
    let mut wanted_found: Vec<bool> = vec![false; sel.tables.len()];
    let mut chosen = Vec::new();
    let mut notes = Vec::new();
    let mut refused = Vec::new();
    for r in &rows {
        let (schema, name, kind, engine) = (text(r, 0), text(r, 1), text(r, 2), text(r, 3));
        let estimated_rows = number(r, 4).unwrap_or(0);
        let qualified = format!("{schema}.{name}");
        if !sel.dbs.is_empty() && !sel.dbs.contains(&schema) {
            continue;
        }
        if !sel.tables.is_empty() {
            let mut hit = false;
            for (i, t) in sel.tables.iter().enumerate() {
                if *t == qualified || *t == name {
                    wanted_found[i] = true;
                    hit = true;
                }
            }
            if !hit {
                continue;
            }
        }
        if skip_db.contains(schema.as_str()) || skip_table.contains(qualified.as_str()) {
            continue;
        }
        match kind.as_str() {
            "BASE TABLE" => chosen.push(Chosen {
                schema,
                name,
                engine,
                estimated_rows,
            }),
            "SEQUENCE" => notes.push(format!("{qualified} is a sequence; left out")),
            "SYSTEM VERSIONED" => refused.push(qualified),
            _ => {}
        }
    }
    if let Some(i) = wanted_found.iter().position(|f| !f) {
        return Err(Failure::Message(format!("unknown table {}", sel.tables[i])));
    }
    if !refused.is_empty() {
        refused.sort();
        return Err(Failure::Message(format!(
            "system-versioned tables cannot be snapshotted (their history is not rows of the table): {}; leave them out with --skip",
            refused.join(", ")
        )));
    }
    chosen.sort_by(|a, b| {
        (a.schema.as_bytes(), a.name.as_bytes()).cmp(&(b.schema.as_bytes(), b.name.as_bytes()))
    });
    Ok((chosen, notes))
}

/// Collation names to numbers.
fn collations(conn: &mut Conn, server: &Server) -> Result<HashMap<String, u16>, Failure> {
    let mut map = HashMap::new();
    let mut add = |rows: Vec<Row>| {
        for r in rows {
            if let (Some(name), Some(id)) = (cell(&r, 0), number(&r, 1)) {
                map.insert(name, id as u16);
            }
        }
    };
    add(query_rows(
        conn,
        "SELECT COLLATION_NAME, ID FROM information_schema.COLLATIONS",
    )
    .map_err(|e| fail("reading collations", &e))?);
    if server.flavor == Flavor::MariaDb {
        // MariaDB 10.10+ lists every (character set, collation) pair with its own number.
        if let Ok(rows) = query_rows(
            conn,
            "SELECT FULL_COLLATION_NAME, ID FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY",
        ) {
            add(rows);
        }
    }
    Ok(map)
}

fn is_utf8(charset: &str) -> bool {
    matches!(charset, "utf8mb4" | "utf8mb3" | "utf8")
}

fn ascii_compatible(charset: &str) -> bool {
    !matches!(charset, "ucs2" | "utf16" | "utf16le" | "utf32")
}

/// ENUM/SET members as bytes in the column's character set.
fn member_bytes(
    conn: &mut Conn,
    members: Vec<String>,
    charset: &str,
) -> Result<Vec<Vec<u8>>, Failure> {
    if is_utf8(charset)
        || charset.is_empty()
        || (ascii_compatible(charset) && members.iter().all(|m| m.is_ascii()))
    {
        return Ok(members.into_iter().map(String::into_bytes).collect());
    }
    let cs: String = charset
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        let row: Option<Row> = conn
            .exec_first(format!("SELECT HEX(CONVERT(? USING {cs}))"), (m.as_str(),))
            .map_err(|e| fail("converting ENUM/SET members", &e))?;
        let hex = row.map(|r| text(&r, 0)).unwrap_or_default();
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect();
        out.push(bytes);
    }
    Ok(out)
}

/// Describes the chosen tables (same order).
pub fn describe_tables(
    conn: &mut Conn,
    server: &Server,
    tables: &[Chosen],
) -> Result<Vec<TableDef>, Failure> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let collation_ids = collations(conn, server)?;
    let schemas: BTreeSet<String> = tables.iter().map(|t| t.schema.clone()).collect();
    let list = sql_list(&schemas);
    let wanted: BTreeSet<(&str, &str)> = tables
        .iter()
        .map(|t| (t.schema.as_str(), t.name.as_str()))
        .collect();
    let cols: Vec<Row> = query_rows(
        conn,
        &format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, \
             CHARACTER_OCTET_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, \
             COLLATION_NAME, CHARACTER_SET_NAME, EXTRA \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({list}) \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
        ),
    )
    .map_err(|e| fail("reading columns", &e))?;
    let mut defs: BTreeMap<(String, String), TableDef> = BTreeMap::new();
    for r in &cols {
        let (schema, name) = (text(r, 0), text(r, 1));
        if !wanted.contains(&(schema.as_str(), name.as_str())) {
            continue;
        }
        let data_type = text(r, 3).to_ascii_lowercase();
        let column_type = text(r, 4);
        let collation_name = text(r, 10);
        let charset = text(r, 11);
        let collation = if collation_name.is_empty() {
            None
        } else {
            Some(*collation_ids.get(&collation_name).ok_or_else(|| {
                Failure::Message(format!(
                    "{schema}.{name}.{}: unknown collation {collation_name}",
                    text(r, 2)
                ))
            })?)
        };
        let members = if matches!(data_type.as_str(), "enum" | "set") {
            let text = parse_members(&column_type).map_err(|e| {
                Failure::Message(format!("{schema}.{name}.{}: {}", text(r, 2), e.kind()))
            })?;
            member_bytes(conn, text, &charset)?
        } else {
            Vec::new()
        };
        let extra = text(r, 12).to_ascii_uppercase();
        let col = ColumnDef {
            name: text(r, 2),
            nullable: text(r, 5).eq_ignore_ascii_case("YES"),
            octet_length: number(r, 6),
            precision: number(r, 7),
            scale: number(r, 8),
            datetime_precision: number(r, 9),
            collation,
            invisible: extra.contains("INVISIBLE"),
            members,
            data_type,
            column_type,
        };
        defs.entry((schema.clone(), name.clone()))
            .or_insert_with(|| TableDef {
                schema,
                name,
                ..Default::default()
            })
            .columns
            .push(col);
    }
    let keys: Vec<Row> = query_rows(
        conn,
        &format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA IN ({list}) AND INDEX_NAME = 'PRIMARY' \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX"
        ))
        .map_err(|e| fail("reading primary keys", &e))?;
    for r in &keys {
        let key = (text(r, 0), text(r, 1));
        if let Some(def) = defs.get_mut(&key) {
            let col = text(r, 2);
            let Some(i) = def.columns.iter().position(|c| c.name == col) else {
                continue;
            };
            def.primary_key.push((i, number(r, 3).unwrap_or(0)));
        }
    }
    tables
        .iter()
        .map(|t| {
            defs.remove(&(t.schema.clone(), t.name.clone()))
                .ok_or_else(|| {
                    Failure::Message(format!("table {}.{} disappeared", t.schema, t.name))
                })
        })
        .collect()
}

/// CREATE DATABASE IF NOT EXISTS and CREATE TABLE statements, with the database each runs in.
pub fn schema_statements(ctl: &mut Conn, chosen: &[Chosen]) -> CliResult<Vec<(String, String)>> {
    use binlog::snapshot::table::quote_ident;
    let mut out = Vec::new();
    let mut last_db: Option<&str> = None;
    for t in chosen {
        if last_db != Some(t.schema.as_str()) {
            let sql = first(
                ctl,
                &format!("SHOW CREATE DATABASE {}", quote_ident(&t.schema)),
            )
            .map_err(|e| {
                msg(format!(
                    "SHOW CREATE DATABASE {}: {}",
                    t.schema,
                    describe(&e)
                ))
            })?
            .map(|r| text(&r, 1))
            .unwrap_or_default();
            let sql = match sql.strip_prefix("CREATE DATABASE ") {
                Some(rest)
                    if !rest.starts_with("IF NOT EXISTS")
                        && !rest.starts_with("/*!32312 IF NOT EXISTS*/") =>
                {
                    format!("CREATE DATABASE IF NOT EXISTS {rest}")
                }
                _ => sql,
            };
            out.push((String::new(), sql));
            last_db = Some(&t.schema);
        }
        let sql = first(
            ctl,
            &format!(
                "SHOW CREATE TABLE {}.{}",
                quote_ident(&t.schema),
                quote_ident(&t.name)
            ),
        )
        .map_err(|e| {
            msg(format!(
                "SHOW CREATE TABLE {}.{}: {}",
                t.schema,
                t.name,
                describe(&e)
            ))
        })?
        .map(|r| text(&r, 1))
        .unwrap_or_default();
        out.push((t.schema.clone(), sql));
    }
    Ok(out)
}
