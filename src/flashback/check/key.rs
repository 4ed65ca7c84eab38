//! How the rows of a table are found again on a live server: which key, and whether the
//! live table still has the columns the binlog logged.

use crate::error::{Error, Result};
use crate::event::table_map::TableMap;
use crate::row::column::Column;

/// A live table as the caller read it (from `information_schema`): its columns as a server
/// logs them, their names, and its keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDesc {
    /// The columns, in order, with the binlog type and metadata a server logs for them.
    pub columns: Vec<Column>,
    /// Whether each column is UNSIGNED.
    pub unsigned: Vec<bool>,
    /// The column names.
    pub names: Vec<String>,
    /// The primary key's columns, in key order (empty without one).
    pub primary: Vec<usize>,
    /// Unique keys: name and columns, in key order.
    pub unique: Vec<(String, Vec<usize>)>,
}

/// Which key identifies a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// The primary key.
    Primary,
    /// A unique key (its name) whose columns are all NOT NULL.
    Unique(String),
    /// No usable key: every column.
    AllColumns,
}

/// The columns that identify a row of a table, and where they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableKey {
    /// Column indexes, in key order.
    pub columns: Vec<usize>,
    /// Which key.
    pub kind: KeyKind,
}

/// The primary key; else the first unique key whose columns are all NOT NULL (NULLs are
/// never equal, so a unique key with a nullable column may hold many rows for one value);
/// else every column.
pub fn choose_key(desc: &TableDesc) -> TableKey {
    if !desc.primary.is_empty() {
        return TableKey {
            columns: desc.primary.clone(),
            kind: KeyKind::Primary,
        };
    }
    let not_null = |cols: &[usize]| {
        cols.iter()
            .all(|&i| desc.columns.get(i).is_some_and(|c| !c.nullable))
    };
    if let Some((name, cols)) = desc
        .unique
        .iter()
        .find(|(_, cols)| !cols.is_empty() && not_null(cols))
    {
        return TableKey {
            columns: cols.clone(),
            kind: KeyKind::Unique(name.clone()),
        };
    }
    TableKey {
        columns: (0..desc.columns.len()).collect(),
        kind: KeyKind::AllColumns,
    }
}

/// Refuses a live table whose columns are not those a TABLE_MAP (at offset `at`) logged:
/// another number of columns, a column of another type or metadata (its values would not
/// compare), or another name where the TABLE_MAP logs names.
pub fn check_table(tm: &TableMap, desc: &TableDesc, at: u64) -> Result<()> {
    let logged = tm.columns()?;
    let meta = tm.optional_metadata(&logged)?;
    let name = tm.qualified_name();
    let refuse = |why: String| {
        Error::unsupported(
            at,
            format!(
                "--check: table {name} on the server is not the table the binlog logged \
                 ({why}); its rows cannot be compared (was it altered since?)"
            ),
        )
    };
    if logged.len() != desc.columns.len() || desc.names.len() != desc.columns.len() {
        return Err(refuse(format!(
            "{} columns in the binlog, {} on the server",
            logged.len(),
            desc.columns.len()
        )));
    }
    for (i, (b, s)) in logged.iter().zip(&desc.columns).enumerate() {
        let same = b.binlog_type == s.binlog_type
            && b.real_type == s.real_type
            && b.meta_bytes() == s.meta_bytes();
        if !same {
            return Err(refuse(format!(
                "column {} `{}` is {} {:?} in the binlog, {} {:?} on the server",
                i + 1,
                desc.names[i],
                b.real_type.name(),
                b.meta_bytes(),
                s.real_type.name(),
                s.meta_bytes()
            )));
        }
        if let Some(logged_name) = meta.names.get(i).copied().flatten() {
            if !String::from_utf8_lossy(logged_name).eq_ignore_ascii_case(&desc.names[i]) {
                return Err(refuse(format!(
                    "column {} is `{}` in the binlog, `{}` on the server",
                    i + 1,
                    String::from_utf8_lossy(logged_name),
                    desc.names[i]
                )));
            }
        }
        if let Some(Some(u)) = meta.unsigned.get(i) {
            if *u != desc.unsigned.get(i).copied().unwrap_or(false) {
                return Err(refuse(format!(
                    "column {} `{}` differs in UNSIGNED",
                    i + 1,
                    desc.names[i]
                )));
            }
        }
    }
    Ok(())
}
