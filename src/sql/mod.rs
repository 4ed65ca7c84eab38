//! Row changes as SQL: literals for every column type, and INSERT / UPDATE / DELETE
//! statements that reproduce a row change on a copy of the table.
//!
//! Literals are chosen to be exact whatever the session's `sql_mode`: strings are quoted
//! only when they are UTF-8 text of a UTF-8 column without backslashes or control bytes
//! (quotes are doubled, never backslash-escaped); anything else is a hex literal, which a
//! server stores byte for byte into any string column. Floats use scientific notation
//! with the shortest digits that read back to the same value. TIMESTAMP values are written
//! in UTC: output that holds them starts with `SET time_zone = '+00:00'`.

pub mod charset;
pub mod statement;

use std::fmt::Write;

use crate::row::column::{Column, ColumnType};
use crate::row::json;
use crate::row::json_diff;
use crate::row::temporal::WithFsp;
use crate::row::value::{padded_binary, BINARY_COLLATION};
use crate::row::Value;
pub use charset::charset_name;
use charset::is_utf8;

/// What rendering a column's values needs to know.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    /// Column name, when known (`binlog_row_metadata=FULL` or a schema file).
    pub name: Option<String>,
    /// Type and metadata.
    pub column: Column,
    /// Whether it is UNSIGNED.
    pub unsigned: bool,
    /// Collation number, when known.
    pub charset: Option<u16>,
    /// ENUM or SET members, when known.
    pub members: Option<Vec<Vec<u8>>>,
}

impl ColumnInfo {
    /// The name, or `@N` (1-based) as mysqlbinlog -v shows unnamed columns.
    pub fn display_name(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("@{}", index + 1))
    }
}

/// Appends the value of a USER_VAR event as an SQL literal (for `SET @name := …`).
pub fn user_var_literal(u: &crate::event::control::UserVar, out: &mut String) {
    let Some(v) = &u.value else {
        out.push_str("NULL");
        return;
    };
    let eight = |b: &[u8]| -> Option<[u8; 8]> { b.try_into().ok() };
    match (v.kind, eight(v.value)) {
        (1, Some(a)) => {
            let _ = write!(out, "{:e}", f64::from_le_bytes(a));
        }
        (2, Some(a)) if v.flags.unwrap_or(0) & 1 != 0 => {
            let _ = write!(out, "{}", u64::from_le_bytes(a));
        }
        (2, Some(a)) => {
            let _ = write!(out, "{}", i64::from_le_bytes(a));
        }
        (4, _) if v.value.len() > 2 => {
            let (p, s) = (v.value[0], v.value[1]);
            let mut text = String::new();
            match crate::row::decimal::decode(&v.value[2..], p, s, &mut text) {
                Ok(()) => out.push_str(&text),
                Err(_) => out.push_str("NULL"),
            }
        }
        _ => match charset_name(v.charset as u16) {
            Some(cs) if cs != "binary" => {
                out.push_str("CONVERT(");
                hex_literal(v.value, out);
                let _ = write!(out, " USING {cs})");
            }
            _ => hex_literal(v.value, out),
        },
    }
}

/// Appends `name` as a quoted identifier.
pub fn quote_ident(name: &str, out: &mut String) {
    out.push('`');
    for c in name.chars() {
        if c == '`' {
            out.push('`');
        }
        out.push(c);
    }
    out.push('`');
}

/// Appends bytes as a hex literal `X'…'` (`''` for empty).
pub fn hex_literal(b: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(b.len() * 2 + 3);
    out.push_str("X'");
    for &x in b {
        out.push(char::from(DIGITS[usize::from(x >> 4)]));
        out.push(char::from(DIGITS[usize::from(x & 15)]));
    }
    out.push('\'');
}

/// Appends `text` as a quoted string if it can be written exactly without backslashes, else
/// as a hex literal: valid UTF-8 without a backslash or an ASCII control character other
/// than tab and newline (NUL and Ctrl-Z trouble clients). Quotes are doubled.
pub fn string_literal(text: &[u8], out: &mut String) {
    let plain = text
        .iter()
        .all(|&b| !(b == b'\\' || b == 0x7f || (b < 0x20 && b != b'\n' && b != b'\t')));
    match std::str::from_utf8(text).ok().filter(|_| plain) {
        Some(s) => {
            out.reserve(s.len() + 2);
            out.push('\'');
            let mut rest = s;
            while let Some(q) = rest.find('\'') {
                out.push_str(&rest[..=q]);
                out.push('\'');
                rest = &rest[q + 1..];
            }
            out.push_str(rest);
            out.push('\'');
        }
        None => hex_literal(text, out),
    }
}

/// Appends a double with the shortest digits that read back to it (plain or scientific
/// notation; a plain one is read as an exact DECIMAL, which converts to the same double).
fn float_literal(f: f64, out: &mut String) {
    if f.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(f));
    } else {
        out.push_str("NULL");
    }
}

/// Appends the SQL literal for `v` in a column described by `col`.
pub fn literal(v: &Value, col: &ColumnInfo, out: &mut String) {
    match v {
        Value::Null => out.push_str("NULL"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
        // A FLOAT's exact value as a double: its shortest f32 digits could read back as a
        // double just past FLT_MAX, which strict mode refuses.
        Value::Float(f) => float_literal(f64::from(*f), out),
        Value::Double(f) => float_literal(*f, out),
        Value::Decimal(d) => out.push_str(d),
        Value::Year(y) => {
            let _ = write!(out, "{y}");
        }
        Value::Date(d) => {
            let _ = write!(out, "'{d}'");
        }
        Value::DateTime(t, fsp) => {
            let _ = write!(out, "'{}'", WithFsp(*t, *fsp));
        }
        Value::Time(t, fsp) => {
            let _ = write!(out, "'{}'", WithFsp(*t, *fsp));
        }
        Value::Timestamp { secs, micros, fsp } => {
            if *secs == 0 && *micros == 0 {
                out.push_str("'0000-00-00 00:00:00'");
            } else {
                let t = chrono::DateTime::from_timestamp(i64::from(*secs), micros * 1000)
                    .map(|t| t.naive_utc());
                match t {
                    Some(t) => {
                        let _ = write!(out, "'{}", t.format("%Y-%m-%d %H:%M:%S"));
                        if *fsp > 0 {
                            let digits = format!("{micros:06}");
                            let _ = write!(out, ".{}", &digits[..usize::from((*fsp).min(6))]);
                        }
                        out.push('\'');
                    }
                    None => out.push_str("NULL"),
                }
            }
        }
        Value::Bit(b) => {
            let _ = write!(out, "b'{b:b}'");
        }
        Value::Enum(i) => match col
            .members
            .as_ref()
            .and_then(|m| m.get(usize::from(*i).wrapping_sub(1)))
        {
            Some(name) => string_literal(name, out),
            None => {
                let _ = write!(out, "{i}");
            }
        },
        Value::Set(bits) => match &col.members {
            Some(m) if m.len() >= 64 - bits.leading_zeros() as usize => {
                let names: Vec<&[u8]> = m
                    .iter()
                    .enumerate()
                    .take(64)
                    .filter(|(j, _)| bits >> j & 1 == 1)
                    .map(|(_, n)| n.as_slice())
                    .collect();
                string_literal(&names.join(&b","[..]), out);
            }
            _ => {
                let _ = write!(out, "{bits}");
            }
        },
        Value::Bytes(b) => {
            let b = padded_binary(&col.column, col.charset, b);
            let text_column = !matches!(col.charset, Some(BINARY_COLLATION) | None);
            if text_column && is_utf8(col.charset) {
                string_literal(&b, out);
            } else {
                hex_literal(&b, out);
            }
        }
        Value::Json(b) => match json::decode(b) {
            Ok(j) => {
                let mut text = String::new();
                json::to_text(&j, &mut text);
                string_literal(text.as_bytes(), out);
            }
            Err(_) => out.push_str("NULL"),
        },
        Value::JsonDiff(b) => {
            // Only meaningful as the right-hand side of `SET col = …`.
            let mut q = String::new();
            quote_ident(&col.display_name(0), &mut q);
            diff_literal(b, &q, out);
        }
        Value::Geometry(b) | Value::Vector(b) => hex_literal(b, out),
    }
}

/// Whether equality on this column can be trusted in a WHERE clause (floats cannot: their
/// text form rounds).
pub fn comparable(col: &ColumnInfo) -> bool {
    !matches!(
        col.column.real_type,
        ColumnType::FLOAT | ColumnType::DOUBLE | ColumnType::JSON
    )
}

/// A row change on one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// INSERT (after-image).
    Insert,
    /// UPDATE (before and after images).
    Update,
    /// DELETE (before-image).
    Delete,
}

/// A table's names for SQL, quoted once: statements for each of its row changes are then
/// built without quoting or allocating names again.
#[derive(Debug, Clone)]
pub struct TableSql {
    /// `` `db`.`table` ``.
    pub target: String,
    /// The columns.
    pub cols: Vec<ColumnInfo>,
    /// Each column's name (or `@N`), quoted.
    pub names: Vec<String>,
    /// Primary key columns.
    pub key: Vec<usize>,
}

impl TableSql {
    /// The names of `db.table` with these columns and primary key.
    pub fn new(db: &str, table: &str, cols: Vec<ColumnInfo>, key: Vec<usize>) -> TableSql {
        let mut target = String::new();
        quote_ident(db, &mut target);
        target.push('.');
        quote_ident(table, &mut target);
        let names = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut q = String::new();
                quote_ident(&c.display_name(i), &mut q);
                q
            })
            .collect();
        TableSql {
            target,
            cols,
            names,
            key,
        }
    }

    /// Appends the statement for a change of one row, whose images are given as a value
    /// (or `None` when absent from the image) per column. Without a usable primary key,
    /// WHERE uses every comparable column present in the before-image.
    pub fn statement(
        &self,
        change: Change,
        before: &[Option<Value>],
        after: &[Option<Value>],
        out: &mut String,
    ) {
        let present = |img: &[Option<Value>], i: usize| img.get(i).is_some_and(Option::is_some);
        match change {
            Change::Insert => {
                out.push_str("INSERT INTO ");
                out.push_str(&self.target);
                out.push_str(" (");
                let mut first = true;
                for i in (0..self.cols.len()).filter(|&i| present(after, i)) {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&self.names[i]);
                }
                out.push_str(") VALUES (");
                let mut first = true;
                for (i, col) in self.cols.iter().enumerate() {
                    if let Some(Some(v)) = after.get(i) {
                        if !first {
                            out.push_str(", ");
                        }
                        first = false;
                        literal(v, col, out);
                    }
                }
                out.push_str(");");
            }
            Change::Update => {
                out.push_str("UPDATE ");
                out.push_str(&self.target);
                out.push_str(" SET ");
                let mut first = true;
                for (i, col) in self.cols.iter().enumerate() {
                    let Some(Some(a)) = after.get(i) else {
                        continue;
                    };
                    let diff = matches!(a, Value::JsonDiff(_));
                    if !diff && matches!(before.get(i), Some(Some(b)) if b == a) {
                        continue;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&self.names[i]);
                    out.push_str(" = ");
                    if let Value::JsonDiff(b) = a {
                        diff_literal(b, &self.names[i], out);
                    } else {
                        literal(a, col, out);
                    }
                }
                if first {
                    // Nothing changed: keep the statement valid and harmless.
                    out.push_str(&self.names[0]);
                    out.push_str(" = ");
                    out.push_str(&self.names[0]);
                }
                self.where_clause(before, out);
                out.push_str(" LIMIT 1;");
            }
            Change::Delete => {
                out.push_str("DELETE FROM ");
                out.push_str(&self.target);
                self.where_clause(before, out);
                out.push_str(" LIMIT 1;");
            }
        }
    }

    fn where_clause(&self, before: &[Option<Value>], out: &mut String) {
        let present = |i: usize| before.get(i).is_some_and(Option::is_some);
        let by_key = !self.key.is_empty() && self.key.iter().all(|&i| present(i));
        let usable = |i: usize| {
            if by_key {
                self.key.contains(&i)
            } else {
                present(i) && comparable(&self.cols[i])
            }
        };
        out.push_str(" WHERE ");
        let mut first = true;
        // Key columns in key order; otherwise columns in table order.
        let order: Box<dyn Iterator<Item = usize>> = if by_key {
            Box::new(self.key.iter().copied())
        } else {
            Box::new((0..self.cols.len()).filter(|&i| usable(i)))
        };
        for i in order {
            if !first {
                out.push_str(" AND ");
            }
            first = false;
            out.push_str(&self.names[i]);
            match before.get(i) {
                Some(Some(Value::Null)) | None | Some(None) => out.push_str(" IS NULL"),
                Some(Some(v)) => {
                    out.push_str(" = ");
                    literal(v, &self.cols[i], out);
                }
            }
        }
        if first {
            out.push_str("FALSE");
        }
    }
}

/// A JSON diff list as the expression that applies it to the column named `quoted`.
fn diff_literal(b: &[u8], quoted: &str, out: &mut String) {
    match json_diff::parse_diffs(b) {
        Ok(diffs) => json_diff::diffs_to_text(&diffs, quoted, out),
        Err(_) => out.push_str(quoted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn col(t: ColumnType, meta: &[u8], charset: Option<u16>) -> ColumnInfo {
        ColumnInfo {
            name: Some("c".into()),
            column: Column::new(t, meta, true),
            unsigned: false,
            charset,
            members: None,
        }
    }

    #[test]
    fn literals_are_exact_and_safe() {
        let mut s = String::new();
        let text = col(ColumnType::VARCHAR, &[100, 0], Some(45));
        literal(&Value::Bytes(Cow::Borrowed(b"it's")), &text, &mut s);
        assert_eq!(s, "'it''s'");
        s.clear();
        literal(&Value::Bytes(Cow::Borrowed(b"a\\b")), &text, &mut s);
        assert_eq!(s, "X'615C62'");
        s.clear();
        let bin = col(ColumnType::STRING, &[0xfe, 4], Some(63));
        literal(&Value::Bytes(Cow::Borrowed(&[1])), &bin, &mut s);
        assert_eq!(s, "X'01000000'");
        s.clear();
        literal(
            &Value::Float(0.1),
            &col(ColumnType::FLOAT, &[4], None),
            &mut s,
        );
        assert_eq!(s.parse::<f32>().unwrap(), 0.1f32);
        s.clear();
        literal(&Value::Bit(5), &col(ColumnType::BIT, &[3, 0], None), &mut s);
        assert_eq!(s, "b'101'");
        s.clear();
        literal(
            &Value::Timestamp {
                secs: 1,
                micros: 500_000,
                fsp: 3,
            },
            &col(ColumnType::TIMESTAMP2, &[3], None),
            &mut s,
        );
        assert_eq!(s, "'1970-01-01 00:00:01.500'");
        assert_eq!(charset_name(45), Some("utf8mb4"));
        assert_eq!(charset_name(8), Some("latin1"));
    }
}
