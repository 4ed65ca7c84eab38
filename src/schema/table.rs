//! A table as the schema knows it: columns with names and types, primary and unique keys,
//! default character set; and written back as a CREATE TABLE statement.

use std::fmt::Write as _;

use crate::schema::text::quote;
use crate::schema::types::{canonical_charset, charset_of_collation, SqlType};

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Stays the same while the column is renamed or changed (across ALTERs), so that a
    /// column of an earlier moment can be found in a later one.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Type.
    pub ty: SqlType,
    /// Character set (textual types), when known.
    pub charset: Option<String>,
    /// Collation, when declared.
    pub collation: Option<String>,
    /// Whether the column is INVISIBLE (it is in TABLE_MAPs all the same).
    pub invisible: bool,
}

impl ColumnDef {
    /// Whether the column is called `name` (column names are case-insensitive).
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A PRIMARY KEY or UNIQUE key: its name and column names in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Name (`PRIMARY` for the primary key).
    pub name: String,
    /// Column names.
    pub columns: Vec<String>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Stays the same while the table is altered or renamed.
    pub id: u64,
    /// Database.
    pub db: String,
    /// Name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<ColumnDef>,
    /// The primary key; `None` when there is none, or when it is not known for certain
    /// (rows are then matched on every column).
    pub primary_key: Option<Key>,
    /// UNIQUE keys.
    pub unique_keys: Vec<Key>,
    /// Default character set of new columns.
    pub charset: Option<String>,
    /// Default collation.
    pub collation: Option<String>,
    /// Set when the table's columns are not known (its DDL could not be read, it was
    /// created from a query or from a table not in the schema): why.
    pub unknown: Option<String>,
}

impl Table {
    /// The index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.is_named(name))
    }

    /// The indexes of the primary key's columns, when known.
    pub fn primary_key_indexes(&self) -> Option<Vec<usize>> {
        let k = self.primary_key.as_ref()?;
        k.columns.iter().map(|c| self.column_index(c)).collect()
    }

    /// The indexes of each UNIQUE key's columns.
    pub fn unique_key_indexes(&self) -> Vec<(String, Vec<usize>)> {
        self.unique_keys
            .iter()
            .filter_map(|k| {
                let cols: Option<Vec<usize>> =
                    k.columns.iter().map(|c| self.column_index(c)).collect();
                Some((k.name.clone(), cols?))
            })
            .collect()
    }

    /// The character set a textual column gets when it names none: its collation's, else
    /// the table's default.
    pub(crate) fn resolve_charset(&self, col: &mut ColumnDef) {
        if let Some(cs) = col.ty.implied_charset {
            col.charset = Some(cs.to_string());
        } else if !col.ty.is_textual() {
            col.charset = None;
        } else if col.charset.is_none() {
            col.charset = col
                .collation
                .as_deref()
                .map(charset_of_collation)
                .or_else(|| self.charset.clone());
        }
        if let Some(cs) = &col.charset {
            col.charset = Some(canonical_charset(cs));
        }
    }

    /// The table as a CREATE TABLE statement (without a database qualifier).
    pub fn create_statement(&self) -> String {
        let mut s = String::new();
        let _ = write!(s, "CREATE TABLE {} (", quote(&self.name));
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let mut d = format!("{} {}", quote(&c.name), c.ty.text);
                if c.ty.is_textual() {
                    if let Some(cs) = &c.charset {
                        let _ = write!(d, " CHARACTER SET {cs}");
                    }
                    if let Some(co) = &c.collation {
                        let _ = write!(d, " COLLATE {co}");
                    }
                }
                if c.invisible {
                    d.push_str(" INVISIBLE");
                }
                d
            })
            .collect();
        let key_cols = |k: &Key| {
            k.columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Some(pk) = &self.primary_key {
            parts.push(format!("PRIMARY KEY ({})", key_cols(pk)));
        }
        for k in &self.unique_keys {
            parts.push(format!("UNIQUE KEY {} ({})", quote(&k.name), key_cols(k)));
        }
        for p in &parts {
            let _ = write!(s, "\n  {p},");
        }
        s.pop();
        s.push_str("\n)");
        if let Some(cs) = &self.charset {
            let _ = write!(s, " DEFAULT CHARSET={cs}");
        }
        if let Some(co) = &self.collation {
            let _ = write!(s, " COLLATE={co}");
        }
        s
    }
}
