//! Row changes as SQL: literals for every column type, and INSERT / UPDATE / DELETE
//! statements that reproduce a row change on a copy of the table.
//!
//! The statements mean the binlog's values in the session [`session`] sets up (`utf8mb4`,
//! time zone `+00:00`, `NO_AUTO_VALUE_ON_ZERO` and `ALLOW_INVALID_DATES`, backslash escapes):
//! text is quoted in its own characters when it is valid and printable in its column's
//! character set (the server converts it back to the same bytes), with `''`, `\\`, `\n`,
//! `\r`, `\t`; anything else is a hex literal, which a server stores byte for byte. Floats
//! use the shortest digits that read back to the same value; TIMESTAMP values are in UTC.
//! Rows are found by their primary key, or, without one, by every column compared exactly
//! (strings as binary, FLOATs as their exact double).

pub mod charset;
pub mod session;
mod single_byte;
pub mod statement;
pub mod text;

use std::borrow::Cow;
use std::fmt::Write;

use crate::error::{Error, Result};
use crate::row::column::{Column, ColumnType};
use crate::row::json;
use crate::row::json_diff;
use crate::row::temporal::{utc_datetime, DateTime, WithFsp};
use crate::row::value::{padded_binary, BINARY_COLLATION};
use crate::row::Value;
pub use charset::charset_name;
use text::Charset;

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
    /// The text of an ENUM or SET value, in the column's character set: its member's
    /// name, or its members' names joined by commas; `None` when the members are unknown
    /// (or the value names one past them).
    pub fn member_names(&self, v: &Value) -> Option<Cow<'_, [u8]>> {
        let members = self.members.as_ref()?;
        match *v {
            Value::Enum(i) => members
                .get(usize::from(i).wrapping_sub(1))
                .map(|m| Cow::Borrowed(m.as_slice())),
            Value::Set(bits) if members.len() >= 64 - bits.leading_zeros() as usize => {
                let names: Vec<&[u8]> = members
                    .iter()
                    .enumerate()
                    .take(64)
                    .filter(|(j, _)| bits >> j & 1 == 1)
                    .map(|(_, n)| n.as_slice())
                    .collect();
                Some(Cow::Owned(names.join(&b","[..])))
            }
            _ => None,
        }
    }

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
    out.reserve(b.len() * 2 + 3);
    out.push_str("X'");
    crate::bytes::push_hex_upper(out, b);
    out.push('\'');
}

/// Appends `text` as a quoted string for a session without NO_BACKSLASH_ESCAPES (the
/// session [`session::ROWS_SESSION`] sets): a quote doubled, a backslash, newline, carriage
/// return and tab escaped. Returns false, appending nothing, when `text` holds another
/// control character (NUL, Ctrl-Z, DEL, the C1 controls U+0080–U+009F): such text is
/// written in hex. Runs of bytes that need no escape are copied whole.
pub fn quoted_literal(text: &str, out: &mut String) -> bool {
    let bytes = text.as_bytes();
    let mark = out.len();
    out.reserve(text.len() + 2);
    out.push('\'');
    // `copied`: where the run not yet copied starts; `at`: where to look on from.
    let (mut copied, mut at) = (0, 0);
    while let Some(found) = crate::bytes::find_sql_special(&bytes[at..]) {
        let i = at + found;
        at = i + 1;
        let escape = match bytes[i] {
            b'\'' => "''",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            // U+0080–U+009F, the C1 controls, are C2 80–C2 9F in UTF-8.
            0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => {
                out.truncate(mark);
                return false;
            }
            // A byte of another non-ASCII character: part of the run.
            0x80.. => continue,
            _ => {
                out.truncate(mark);
                return false;
            }
        };
        // `i` is an ASCII byte, so both ends are character boundaries.
        out.push_str(&text[copied..i]);
        out.push_str(escape);
        copied = at;
    }
    out.push_str(&text[copied..]);
    out.push('\'');
    true
}

/// Appends the bytes of a string column in the character set of `collation`: quoted when
/// they are valid, printable text in it (written in UTF-8, which the `utf8mb4` session
/// converts back to exactly these bytes), else in hex. `convert` wraps text of a set other
/// than UTF-8 in `CONVERT(… USING set)`, so that the literal holds the column's bytes.
fn text_literal(b: &[u8], collation: Option<u16>, convert: bool, out: &mut String) {
    let cs = Charset::of(collation);
    let Some(text) = cs.decode(b) else {
        return hex_literal(b, out);
    };
    let name = cs.name().filter(|_| convert && !cs.is_utf8());
    let mark = out.len();
    if name.is_some() {
        out.push_str("CONVERT(");
    }
    if !quoted_literal(&text, out) {
        out.truncate(mark);
        return hex_literal(b, out);
    }
    if let Some(name) = name {
        let _ = write!(out, " USING {name})");
    }
}

/// Appends `text` (ENUM and SET members, JSON documents: UTF-8 text) as a quoted string,
/// or in hex when it holds control characters.
pub fn string_literal(text: &[u8], out: &mut String) {
    text_literal(text, Some(UTF8MB4_BIN), false, out);
}

/// The collation number of `utf8mb4_bin`: text known to be UTF-8.
const UTF8MB4_BIN: u16 = 46;

/// Appends a double with the shortest digits that read back to it (plain or scientific
/// notation; a plain one is read as an exact DECIMAL, which converts to the same double).
fn double_literal(f: f64, out: &mut String) {
    if f.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(f));
    } else {
        out.push_str("NULL");
    }
}

/// Appends a FLOAT to store: its shortest digits as a float (`0.1`), which the server reads
/// as a double and rounds to this float, unless that double would round to another float
/// or lie past FLT_MAX (refused in strict mode): then the float's exact value as a double.
fn float_literal(f: f32, out: &mut String) {
    if !f.is_finite() {
        return out.push_str("NULL");
    }
    let mut buf = ryu::Buffer::new();
    let short = buf.format_finite(f);
    let read = short.parse::<f64>().unwrap_or(f64::NAN);
    if read as f32 == f && read.abs() <= f64::from(f32::MAX) {
        out.push_str(short);
    } else {
        double_literal(f64::from(f), out);
    }
}

/// Appends the SQL literal that stores `v` in a column described by `col`.
pub fn literal(v: &Value, col: &ColumnInfo, out: &mut String) {
    match v {
        Value::Null => out.push_str("NULL"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
        Value::Float(f) => float_literal(*f, out),
        Value::Double(f) => double_literal(*f, out),
        Value::Decimal(d) => d.push_text(out),
        Value::Year(y) => {
            let _ = write!(out, "{y}");
        }
        Value::Date(d) => {
            let _ = write!(out, "'{d}'");
        }
        Value::DateTime(t, fsp) => {
            out.push('\'');
            WithFsp(*t, *fsp).push_to(out);
            out.push('\'');
        }
        Value::Time(t, fsp) => {
            out.push('\'');
            WithFsp(*t, *fsp).push_to(out);
            out.push('\'');
        }
        Value::Timestamp { secs, micros, fsp } => {
            // In UTC: the output's session has time_zone '+00:00'.
            out.push('\'');
            timestamp_text(*secs, *micros, *fsp).push_to(out);
            out.push('\'');
        }
        Value::Bit(b) => {
            let _ = write!(out, "b'{b:b}'");
        }
        Value::Enum(i) => match col.member_names(v) {
            Some(names) => text_literal(&names, col.charset, false, out),
            None => out.push_str(itoa::Buffer::new().format(*i)),
        },
        Value::Set(bits) => match col.member_names(v) {
            Some(names) => text_literal(&names, col.charset, false, out),
            None => out.push_str(itoa::Buffer::new().format(*bits)),
        },
        Value::Bytes(b) => {
            let b = padded_binary(&col.column, col.charset, b);
            text_literal(&b, col.charset, false, out);
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

/// Appends the literal that `col = literal` compares exactly with the stored `v`, byte
/// for byte and bit for bit: a FLOAT as its exact value as a double (the server compares
/// FLOAT columns as doubles), a string as binary in the column's own bytes (no collation
/// folds case, accents or trailing spaces).
pub fn match_literal(v: &Value, col: &ColumnInfo, out: &mut String) {
    match v {
        Value::Float(f) => double_literal(f64::from(*f), out),
        Value::Bytes(b) if col.charset != Some(BINARY_COLLATION) => {
            let b = padded_binary(&col.column, col.charset, b);
            out.push_str("CAST(");
            text_literal(&b, col.charset, true, out);
            out.push_str(" AS BINARY)");
        }
        _ => literal(v, col, out),
    }
}

/// A TIMESTAMP in UTC as `YYYY-MM-DD HH:MM:SS[.fraction]`; the zero value is
/// `0000-00-00 00:00:00`.
pub fn timestamp_text(secs: u32, micros: u32, fsp: u8) -> WithFsp<DateTime> {
    let t = if secs == 0 && micros == 0 {
        DateTime::default()
    } else {
        utc_datetime(secs, micros)
    };
    WithFsp(t, fsp)
}

/// Whether equality with a literal finds exactly the stored value of this column. MySQL's
/// binary JSON does not: a document compares by value, and its text may be written in
/// more than one way.
pub fn comparable(col: &ColumnInfo) -> bool {
    col.column.real_type != ColumnType::JSON
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
    /// (or `None` when absent from the image) per column; `at` is the rows event's offset,
    /// for errors. UPDATE and DELETE find the row by its primary key, or without a usable
    /// one by every column of the before-image that compares exactly; with none of either,
    /// the statement could match nothing or another row, and it is refused.
    pub fn statement(
        &self,
        change: Change,
        before: &[Option<Value>],
        after: &[Option<Value>],
        at: u64,
        out: &mut String,
    ) -> Result<()> {
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
                let mark = out.len();
                out.push_str("UPDATE ");
                out.push_str(&self.target);
                out.push_str(" SET ");
                let mut first = true;
                for (i, col) in self.cols.iter().enumerate() {
                    let Some(Some(a)) = after.get(i) else {
                        continue;
                    };
                    // A TIMESTAMP or DATETIME column is set even when unchanged: with ON
                    // UPDATE CURRENT_TIMESTAMP the server would otherwise set it to now.
                    let keep = matches!(a, Value::JsonDiff(_) | Value::Timestamp { .. })
                        || matches!(a, Value::DateTime(..));
                    if !keep && matches!(before.get(i), Some(Some(b)) if b == a) {
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
                if let Err(e) = self.where_clause(before, at, out) {
                    out.truncate(mark);
                    return Err(e);
                }
                out.push_str(" LIMIT 1;");
            }
            Change::Delete => {
                let mark = out.len();
                out.push_str("DELETE FROM ");
                out.push_str(&self.target);
                if let Err(e) = self.where_clause(before, at, out) {
                    out.truncate(mark);
                    return Err(e);
                }
                out.push_str(" LIMIT 1;");
            }
        }
        Ok(())
    }

    fn where_clause(&self, before: &[Option<Value>], at: u64, out: &mut String) -> Result<()> {
        let present = |i: usize| before.get(i).is_some_and(Option::is_some);
        let by_key = !self.key.is_empty() && self.key.iter().all(|&i| present(i));
        out.push_str(" WHERE ");
        let mut first = true;
        // Key columns in key order (their collation is the key's: equal under it is the
        // same row); otherwise every exactly comparable column in table order.
        let order: Box<dyn Iterator<Item = usize>> = if by_key {
            Box::new(self.key.iter().copied())
        } else {
            Box::new((0..self.cols.len()).filter(|&i| present(i) && comparable(&self.cols[i])))
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
                    if by_key {
                        literal(v, &self.cols[i], out);
                    } else {
                        match_literal(v, &self.cols[i], out);
                    }
                }
            }
        }
        if first {
            return Err(Error::unsupported(
                at,
                format!(
                    "table {} has no primary key in the row's before-image and no column that \
                     compares exactly (JSON columns do not): an UPDATE or DELETE for it could \
                     change no row or another one, so no SQL is written for it (use the binlog \
                     form: flashback -o FILE, or mysqlbinlog)",
                    self.target
                ),
            ));
        }
        Ok(())
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

    #[test]
    fn quoted_literals_escape_and_refuse_as_a_character_walk_does() {
        // The rule, character by character: controls other than newline, return and tab
        // refuse; quote, backslash, newline, return and tab are escaped.
        fn by_chars(text: &str) -> Option<String> {
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return None;
            }
            let mut s = String::from("'");
            for c in text.chars() {
                match c {
                    '\'' => s.push_str("''"),
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    '\r' => s.push_str("\\r"),
                    '\t' => s.push_str("\\t"),
                    c => s.push(c),
                }
            }
            s.push('\'');
            Some(s)
        }
        let alphabet = [
            'a', 'Z', ' ', '\'', '\\', '\n', '\r', '\t', '\0', '\x1a', '\x7f', '\u{80}', '\u{9f}',
            '\u{a0}', 'é', 'ÿ', 'Ā', '€', '😀',
        ];
        let mut rng = crate::test_support::Rng(0x51_7cc1_b727_220a);
        for _ in 0..20_000 {
            let len = (rng.next() % 30) as usize;
            let text: String = (0..len)
                .map(|_| match rng.next() % 4 {
                    0 => alphabet[(rng.next() % alphabet.len() as u64) as usize],
                    _ => char::from(b'a' + (rng.next() % 26) as u8),
                })
                .collect();
            let mut out = String::from("x");
            let quoted = quoted_literal(&text, &mut out);
            match by_chars(&text) {
                Some(want) => assert_eq!((quoted, out), (true, format!("x{want}")), "{text:?}"),
                None => assert_eq!((quoted, out.as_str()), (false, "x"), "{text:?}"),
            }
        }
    }

    fn col(t: ColumnType, meta: &[u8], charset: Option<u16>) -> ColumnInfo {
        ColumnInfo {
            name: Some("c".into()),
            column: Column::new(t, meta, true),
            unsigned: false,
            charset,
            members: None,
        }
    }

    fn lit(v: Value, c: &ColumnInfo) -> String {
        let mut s = String::new();
        literal(&v, c, &mut s);
        s
    }

    fn bytes(b: &[u8]) -> Value<'_> {
        Value::Bytes(Cow::Borrowed(b))
    }

    #[test]
    fn literals_are_exact_and_readable() {
        let utf8 = col(ColumnType::VARCHAR, &[100, 0], Some(45));
        assert_eq!(lit(bytes(b"it's"), &utf8), "'it''s'");
        assert_eq!(lit(bytes(b"a\\b\n\r\t"), &utf8), r"'a\\b\n\r\t'");
        assert_eq!(lit(bytes(b"nul\0"), &utf8), "X'6E756C00'");
        assert_eq!(lit(bytes(b"\xff"), &utf8), "X'FF'");
        let latin1 = col(ColumnType::VARCHAR, &[100, 0], Some(8));
        assert_eq!(lit(bytes(b"plain"), &latin1), "'plain'");
        assert_eq!(lit(bytes(b"caf\xe9"), &latin1), "'café'");
        assert_eq!(lit(bytes(b"\x81"), &latin1), "X'81'", "a C1 control");
        let utf16 = col(ColumnType::VARCHAR, &[100, 0], Some(54));
        assert_eq!(lit(bytes(b"\xd8\x3d\xde\x00"), &utf16), "'😀'");
        let unknown = col(ColumnType::VARCHAR, &[100, 0], None);
        assert_eq!(lit(bytes(b"abc"), &unknown), "X'616263'");
        let bin = col(ColumnType::STRING, &[0xfe, 4], Some(63));
        assert_eq!(lit(bytes(&[1]), &bin), "X'01000000'");
        assert_eq!(
            lit(Value::Bit(5), &col(ColumnType::BIT, &[3, 0], None)),
            "b'101'"
        );
        let ts = col(ColumnType::TIMESTAMP2, &[3], None);
        let v = Value::Timestamp {
            secs: 1,
            micros: 500_000,
            fsp: 3,
        };
        assert_eq!(lit(v, &ts), "'1970-01-01 00:00:01.500'");
        let mut en = col(ColumnType::STRING, &[0xf7, 1], Some(8));
        en.members = Some(vec![b"caf\xe9".to_vec(), b"it's".to_vec()]);
        assert_eq!(lit(Value::Enum(1), &en), "'café'");
        assert_eq!(lit(Value::Set(3), &en), "'café,it''s'");
    }

    #[test]
    fn floats_store_their_shortest_digits_and_match_their_exact_value() {
        let f = col(ColumnType::FLOAT, &[4], None);
        assert_eq!(lit(Value::Float(0.1), &f), "0.1");
        assert_eq!(lit(Value::Float(-0.3), &f), "-0.3");
        // The shortest digits of FLT_MAX read as a double past FLT_MAX: its exact value.
        assert_eq!(lit(Value::Float(f32::MAX), &f), "3.4028234663852886e38");
        for x in [
            0.1f32,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            16777216.0,
            -7e-45,
        ] {
            let s = lit(Value::Float(x), &f);
            let read: f64 = s.parse().unwrap();
            assert!(
                read as f32 == x && read.abs() <= f64::from(f32::MAX),
                "{x}: {s}"
            );
            let mut m = String::new();
            match_literal(&Value::Float(x), &f, &mut m);
            assert_eq!(m.parse::<f64>().unwrap(), f64::from(x), "{x}: {m}");
        }
        let d = col(ColumnType::DOUBLE, &[8], None);
        assert_eq!(lit(Value::Double(0.1), &d), "0.1");
        assert_eq!(lit(Value::Double(5e-324), &d), "5e-324");
    }

    #[test]
    fn rows_without_a_key_match_exactly_or_are_refused() {
        let mut name = col(ColumnType::VARCHAR, &[40, 0], Some(45));
        name.name = Some("name".into());
        let mut note = col(ColumnType::VARCHAR, &[40, 0], Some(8));
        note.name = Some("note".into());
        let mut f = col(ColumnType::FLOAT, &[4], None);
        f.name = Some("f".into());
        let t = TableSql::new("d", "t", vec![name, note, f], vec![]);
        let before = [
            Some(bytes("José".as_bytes())),
            Some(bytes(b"caf\xe9")),
            Some(Value::Float(0.1)),
        ];
        let mut s = String::new();
        t.statement(Change::Delete, &before, &[], 9, &mut s)
            .unwrap();
        assert_eq!(
            s,
            "DELETE FROM `d`.`t` WHERE `name` = CAST('José' AS BINARY) AND `note` = \
             CAST(CONVERT('café' USING latin1) AS BINARY) AND `f` = 0.10000000149011612 LIMIT 1;"
        );

        // Nothing to compare exactly (MySQL's JSON): refused, nothing written.
        let mut js = col(ColumnType::JSON, &[4], None);
        js.name = Some("js".into());
        let t = TableSql::new("d", "j", vec![js], vec![]);
        let before = [Some(Value::Json(Cow::Borrowed(&[4, 1][..])))];
        let mut s = String::from("keep");
        let e = t
            .statement(Change::Update, &before, &before, 77, &mut s)
            .unwrap_err();
        assert_eq!(e.offset(), 77);
        assert!(e.to_string().contains("`d`.`j` has no primary key"), "{e}");
        assert_eq!(s, "keep");
    }

    #[test]
    fn an_update_sets_temporal_columns_even_when_unchanged() {
        let mut id = col(ColumnType::LONG, &[], None);
        id.name = Some("id".into());
        let mut ts = col(ColumnType::TIMESTAMP2, &[0], None);
        ts.name = Some("ts".into());
        let t = TableSql::new("d", "t", vec![id, ts], vec![0]);
        let stamp = Value::Timestamp {
            secs: 86_400,
            micros: 0,
            fsp: 0,
        };
        let before = [Some(Value::Int(1)), Some(stamp.clone())];
        let after = [Some(Value::Int(2)), Some(stamp)];
        let mut s = String::new();
        t.statement(Change::Update, &before, &after, 0, &mut s)
            .unwrap();
        assert_eq!(
            s,
            "UPDATE `d`.`t` SET `id` = 2, `ts` = '1970-01-02 00:00:00' WHERE `id` = 1 LIMIT 1;"
        );
    }
}
