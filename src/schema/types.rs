//! A column's SQL type as CREATE TABLE declares it, and whether a TABLE_MAP column can be
//! that type.
//!
//! The type is read from its text (`int(10) unsigned`, `varchar(20)`, `enum('a','b')`):
//! the SQL parser's rendering of a column definition's type, or `COLUMN_TYPE` of
//! `information_schema.COLUMNS`. A TABLE_MAP column agrees with it when its type code and
//! the metadata the server logs for that type say the same thing: integer width, DECIMAL
//! precision and scale, fractional seconds, the byte length of CHAR and VARCHAR (characters
//! times the character set's longest character), the length bytes of BLOB and TEXT, ENUM
//! and SET sizes; and, where the TABLE_MAP's optional metadata has them, UNSIGNED and the
//! character set.

use crate::row::column::{Column, ColumnType};
use crate::schema::text::{unquote, TokenKind, Tokens};
use crate::sql::charset_name;

/// What kind of values a column holds, with the sizes that decide its binlog form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT: the width in bytes.
    Int(u8),
    /// FLOAT.
    Float,
    /// DOUBLE (REAL).
    Double,
    /// DECIMAL(precision, scale).
    Decimal(u8, u8),
    /// BIT(n).
    Bit(u16),
    /// YEAR.
    Year,
    /// DATE.
    Date,
    /// TIME(fsp).
    Time(u8),
    /// DATETIME(fsp).
    DateTime(u8),
    /// TIMESTAMP(fsp).
    Timestamp(u8),
    /// CHAR(n characters).
    Char(u32),
    /// VARCHAR(n characters).
    VarChar(u32),
    /// BINARY(n bytes).
    Binary(u32),
    /// VARBINARY(n bytes).
    VarBinary(u32),
    /// TINYTEXT … LONGTEXT: bytes of the length prefix (1–4); 0 when the size class
    /// depends on the character set (`TEXT(n)`).
    Text(u8),
    /// TINYBLOB … LONGBLOB: bytes of the length prefix (1–4).
    Blob(u8),
    /// ENUM with its members.
    Enum(Vec<String>),
    /// SET with its members.
    Set(Vec<String>),
    /// JSON (MySQL's binary JSON, MariaDB's LONGTEXT).
    Json,
    /// GEOMETRY and its subtypes.
    Geometry,
    /// VECTOR(dimensions) (MySQL 9).
    Vector(u32),
    /// MariaDB's fixed-size binary types: UUID (16), INET6 (16), INET4 (4).
    FixedBinary(u32),
    /// A hidden column of a MySQL functional index: its type is the expression's.
    Hidden,
}

/// A column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// Kind and sizes.
    pub kind: TypeKind,
    /// UNSIGNED.
    pub unsigned: bool,
    /// The type as written back: lower-case name, arguments, `unsigned`.
    pub text: String,
    /// A character set the type itself names (NCHAR: utf8mb3; BINARY types: binary).
    pub implied_charset: Option<&'static str>,
}

impl SqlType {
    /// The type of a hidden column of a MySQL functional index (any type agrees).
    pub fn hidden() -> SqlType {
        SqlType {
            kind: TypeKind::Hidden,
            unsigned: false,
            text: "hidden".into(),
            implied_charset: None,
        }
    }

    /// Reads a type from its text; the error says what is not understood.
    pub fn parse(text: &str) -> Result<SqlType, String> {
        let t = Tokens::new(text);
        let (name, i) = type_name(&t).ok_or_else(|| format!("no type in {text:?}"))?;
        let (args, i) = type_args(&t, i).ok_or_else(|| format!("unclosed ( in {text:?}"))?;
        let unsigned = name == "serial" || is_unsigned(&t, i);
        let (kind, implied) = kind_of(&name, &TypeArgs { args: &args, text })?;
        let numeric = matches!(
            kind,
            TypeKind::Int(_) | TypeKind::Float | TypeKind::Double | TypeKind::Decimal(..)
        );
        let mut text_out = match &kind {
            TypeKind::Enum(m) | TypeKind::Set(m) => {
                let list: Vec<String> = m.iter().map(|s| sql_string(s)).collect();
                format!("{name}({})", list.join(","))
            }
            _ if args.is_empty() => name.clone(),
            _ => format!("{name}({})", args.join(",")),
        };
        if unsigned && numeric {
            text_out.push_str(" unsigned");
        }
        Ok(SqlType {
            kind,
            unsigned: unsigned && numeric,
            text: text_out,
            implied_charset: implied,
        })
    }

    /// Whether values of this type have a character set (CHAR, VARCHAR, TEXT, ENUM, SET).
    pub fn is_textual(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::Char(_)
                | TypeKind::VarChar(_)
                | TypeKind::Text(_)
                | TypeKind::Enum(_)
                | TypeKind::Set(_)
        )
    }

    /// Whether a TABLE_MAP column (with its optional metadata, where logged) can be of this
    /// type, the column's character set being `charset` (a name, when known from the
    /// schema). On disagreement, what the binlog says.
    pub fn check(
        &self,
        col: &Column,
        unsigned: Option<bool>,
        collation: Option<u16>,
        charset: Option<&str>,
    ) -> Result<(), String> {
        let logged_cs = collation.and_then(charset_name);
        let cs = logged_cs.or(charset);
        let mb = cs.and_then(max_char_len);
        let len_ok = |bytes: u32, chars: u32| match mb {
            Some(m) => bytes == chars.saturating_mul(m),
            None => (1..=4).any(|m| bytes == chars.saturating_mul(m)),
        };
        let t = col.real_type;
        let ok = match &self.kind {
            TypeKind::Int(w) => {
                t == match w {
                    1 => ColumnType::TINY,
                    2 => ColumnType::SHORT,
                    3 => ColumnType::INT24,
                    4 => ColumnType::LONG,
                    _ => ColumnType::LONGLONG,
                }
            }
            TypeKind::Float => t == ColumnType::FLOAT,
            TypeKind::Double => t == ColumnType::DOUBLE,
            TypeKind::Decimal(p, s) => {
                t == ColumnType::DECIMAL
                    || (t == ColumnType::NEWDECIMAL && col.decimal_precision() == (*p, *s))
            }
            TypeKind::Bit(n) => t == ColumnType::BIT && col.bit_width() == u32::from(*n),
            TypeKind::Year => t == ColumnType::YEAR,
            TypeKind::Date => t == ColumnType::DATE || t == ColumnType::NEWDATE,
            TypeKind::Time(f) => {
                t == ColumnType::TIME || (t == ColumnType::TIME2 && col.meta1() == *f)
            }
            TypeKind::DateTime(f) => {
                t == ColumnType::DATETIME || (t == ColumnType::DATETIME2 && col.meta1() == *f)
            }
            TypeKind::Timestamp(f) => {
                t == ColumnType::TIMESTAMP || (t == ColumnType::TIMESTAMP2 && col.meta1() == *f)
            }
            TypeKind::Char(n) => {
                t == ColumnType::STRING
                    && logged_cs != Some("binary")
                    && len_ok(col.string_max_len(), *n)
            }
            TypeKind::Binary(n) | TypeKind::FixedBinary(n) => {
                t == ColumnType::STRING && col.string_max_len() == *n
            }
            TypeKind::VarChar(n) => {
                is_varchar(t)
                    && logged_cs != Some("binary")
                    && len_ok(u32::from(col.meta_le16()), *n)
            }
            TypeKind::VarBinary(n) => is_varchar(t) && u32::from(col.meta_le16()) == *n,
            TypeKind::Text(k) => {
                t == ColumnType::BLOB
                    && logged_cs != Some("binary")
                    && (*k == 0 || col.meta1() == *k)
            }
            TypeKind::Blob(k) => {
                t == ColumnType::BLOB
                    && logged_cs.is_none_or(|c| c == "binary")
                    && col.meta1() == *k
            }
            TypeKind::Enum(m) => {
                t == ColumnType::ENUM
                    && usize::from(col.meta[1]) == if m.len() > 255 { 2 } else { 1 }
            }
            TypeKind::Set(m) => {
                let bytes = match m.len().div_ceil(8) {
                    0 | 1 => 1,
                    n @ 2..=4 => n,
                    _ => 8,
                };
                t == ColumnType::SET && usize::from(col.meta[1]) == bytes
            }
            TypeKind::Json => {
                t == ColumnType::JSON
                    || (t == ColumnType::BLOB && col.meta1() == 4 && logged_cs != Some("binary"))
            }
            TypeKind::Geometry => t == ColumnType::GEOMETRY,
            TypeKind::Vector(_) => t == ColumnType::VECTOR,
            TypeKind::Hidden => true,
        };
        // YEAR has a signedness bit too (always set): only number types are compared.
        let numeric = matches!(
            self.kind,
            TypeKind::Int(_) | TypeKind::Float | TypeKind::Double | TypeKind::Decimal(..)
        );
        let unsigned_ok = !numeric || unsigned.is_none_or(|u| u == self.unsigned);
        let charset_ok = match (logged_cs, charset, self.is_textual()) {
            (Some(l), Some(d), true) => same_charset(l, d),
            _ => true,
        };
        if ok && unsigned_ok && charset_ok {
            Ok(())
        } else {
            Err(describe_logged(col, unsigned, logged_cs))
        }
    }
}

fn is_varchar(t: ColumnType) -> bool {
    t == ColumnType::VARCHAR || t == ColumnType::VAR_STRING
}

fn same_charset(a: &str, b: &str) -> bool {
    canonical_charset(a) == canonical_charset(b)
}

/// A character set's name as servers report it today (`utf8` is `utf8mb3`).
pub fn canonical_charset(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n == "utf8" {
        "utf8mb3".into()
    } else {
        n
    }
}

/// The character set a collation belongs to: the part of its name before the first `_`
/// (`utf8mb4_general_ci` → `utf8mb4`, `utf8_bin` → `utf8mb3`); `binary` for `binary`.
pub fn charset_of_collation(collation: &str) -> String {
    let c = collation.to_ascii_lowercase();
    canonical_charset(c.split('_').next().unwrap_or(&c))
}

/// The longest character of a character set, in bytes (`mbmaxlen`).
pub fn max_char_len(charset: &str) -> Option<u32> {
    Some(match canonical_charset(charset).as_str() {
        "utf8mb4" | "utf16" | "utf16le" | "utf32" | "gb18030" => 4,
        "utf8mb3" | "ujis" | "eucjpms" => 3,
        "big5" | "sjis" | "euckr" | "gb2312" | "gbk" | "cp932" | "ucs2" => 2,
        "latin1" | "latin2" | "latin5" | "latin7" | "ascii" | "binary" | "dec8" | "cp850"
        | "hp8" | "koi8r" | "koi8u" | "swe7" | "hebrew" | "tis620" | "greek" | "cp1250"
        | "cp1251" | "cp1256" | "cp1257" | "armscii8" | "cp866" | "keybcs2" | "macce"
        | "macroman" | "cp852" | "geostd8" => 1,
        _ => return None,
    })
}

/// What a TABLE_MAP says of a column, in words for messages.
pub fn describe_logged(col: &Column, unsigned: Option<bool>, charset: Option<&str>) -> String {
    let t = col.real_type;
    let mut s = match t {
        ColumnType::TINY => "TINYINT".to_string(),
        ColumnType::SHORT => "SMALLINT".into(),
        ColumnType::INT24 => "MEDIUMINT".into(),
        ColumnType::LONG => "INT".into(),
        ColumnType::LONGLONG => "BIGINT".into(),
        ColumnType::FLOAT => "FLOAT".into(),
        ColumnType::DOUBLE => "DOUBLE".into(),
        ColumnType::NEWDECIMAL => {
            let (p, s) = col.decimal_precision();
            format!("DECIMAL({p},{s})")
        }
        ColumnType::BIT => format!("BIT({})", col.bit_width()),
        ColumnType::TIME2 => format!("TIME({})", col.meta1()),
        ColumnType::DATETIME2 => format!("DATETIME({})", col.meta1()),
        ColumnType::TIMESTAMP2 => format!("TIMESTAMP({})", col.meta1()),
        ColumnType::STRING => format!("CHAR/BINARY of {} bytes", col.string_max_len()),
        ColumnType::VARCHAR | ColumnType::VAR_STRING => {
            format!("VARCHAR/VARBINARY of {} bytes", col.meta_le16())
        }
        ColumnType::BLOB => format!(
            "{} (length in {} bytes)",
            match col.meta1() {
                1 => "TINYBLOB/TINYTEXT",
                2 => "BLOB/TEXT",
                3 => "MEDIUMBLOB/MEDIUMTEXT",
                _ => "LONGBLOB/LONGTEXT",
            },
            col.meta1()
        ),
        ColumnType::ENUM => format!("ENUM of {} byte(s)", col.meta[1]),
        ColumnType::SET => format!("SET of {} byte(s)", col.meta[1]),
        other => other.name().to_string(),
    };
    if unsigned == Some(true) && t.is_numeric() && t != ColumnType::YEAR {
        s.push_str(" UNSIGNED");
    }
    if let Some(cs) = charset {
        s.push_str(" CHARACTER SET ");
        s.push_str(cs);
    }
    s
}

/// A string literal with quotes doubled.
pub fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// The type's name (one word, or two for `double precision`, `national char` …) and the
/// token after it.
fn type_name(t: &Tokens) -> Option<(String, usize)> {
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < t.len() && t.toks[i].kind == TokenKind::Word && words.len() < 3 {
        let w = t.raw(i).to_ascii_lowercase();
        if matches!(w.as_str(), "unsigned" | "signed" | "zerofill") {
            break;
        }
        let joined = words.last().map(|p| format!("{p} {w}"));
        match joined.as_deref() {
            Some(
                "double precision" | "long varchar" | "long varbinary" | "char varying"
                | "character varying" | "national char" | "national character" | "national varchar"
                | "nchar varchar" | "nchar varying" | "long binary" | "char byte",
            ) => {
                let j = joined.unwrap_or_default();
                words.pop();
                words.push(j);
            }
            _ if words.is_empty() => words.push(w),
            _ => break,
        }
        i += 1;
    }
    Some((words.into_iter().next()?, i))
}

/// The arguments in parentheses at token `i`, if any (quoted ones unquoted: ENUM and SET
/// members), and the token after them; `None` when the parenthesis is not closed.
fn type_args(t: &Tokens, i: usize) -> Option<(Vec<String>, usize)> {
    if !t.is_punct(i, '(') {
        return Some((Vec::new(), i));
    }
    let close = t.closing_paren(i)?;
    let args = t
        .split_commas(i + 1, close)
        .into_iter()
        .map(|(a, b)| {
            if b == a + 1 && t.toks[a].kind == TokenKind::Str {
                unquote(t.raw(a))
            } else {
                t.span(a, b).to_string()
            }
        })
        .collect();
    Some((args, close + 1))
}

/// Whether `UNSIGNED` or `ZEROFILL` (which implies it) follows, among `SIGNED` and
/// `BINARY`, from token `i`.
fn is_unsigned(t: &Tokens, mut i: usize) -> bool {
    let mut unsigned = false;
    while i < t.len() {
        if t.is(i, "unsigned") || t.is(i, "zerofill") {
            unsigned = true;
        } else if !(t.is(i, "signed") || t.is(i, "binary")) {
            break;
        }
        i += 1;
    }
    unsigned
}

/// A type's arguments, read as numbers where the type wants them.
struct TypeArgs<'a> {
    args: &'a [String],
    /// The type's whole text, for errors.
    text: &'a str,
}

impl TypeArgs<'_> {
    fn num(&self, k: usize) -> Result<Option<u64>, String> {
        match self.args.get(k) {
            None => Ok(None),
            Some(a) => a
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{a:?} is not a number in {:?}", self.text)),
        }
    }

    /// Fractional seconds (0 to 6).
    fn fsp(&self) -> Result<u8, String> {
        let f = self.num(0)?.unwrap_or(0);
        u8::try_from(f)
            .ok()
            .filter(|f| *f <= 6)
            .ok_or_else(|| format!("fractional seconds {f} over 6 in {:?}", self.text))
    }

    /// A length, `default` when absent.
    fn len(&self, default: u64) -> Result<u32, String> {
        let n = self.num(0)?.unwrap_or(default);
        u32::try_from(n).map_err(|_| format!("length {n} too large in {:?}", self.text))
    }
}

/// The kind of a type by its name and arguments, and the character set its name implies
/// (`NCHAR`: utf8mb3, `BINARY`/`BLOB`: binary).
fn kind_of(name: &str, a: &TypeArgs) -> Result<(TypeKind, Option<&'static str>), String> {
    let text = a.text;
    let mut implied = None;
    let kind = match name {
        "tinyint" | "int1" | "bool" | "boolean" => TypeKind::Int(1),
        "smallint" | "int2" => TypeKind::Int(2),
        "mediumint" | "int3" | "middleint" => TypeKind::Int(3),
        "int" | "integer" | "int4" => TypeKind::Int(4),
        "bigint" | "int8" => TypeKind::Int(8),
        "serial" => TypeKind::Int(8),
        "float" if a.args.len() == 1 && a.num(0)?.unwrap_or(0) > 24 => TypeKind::Double,
        "float" | "float4" => TypeKind::Float,
        "double" | "real" | "double precision" | "float8" => TypeKind::Double,
        "decimal" | "dec" | "numeric" | "fixed" => {
            let p = a.num(0)?.unwrap_or(10);
            let s = a.num(1)?.unwrap_or(0);
            if p > 65 || s > 38 || s > p {
                return Err(format!("DECIMAL({p},{s}) out of range in {text:?}"));
            }
            TypeKind::Decimal(p as u8, s as u8)
        }
        "bit" => {
            let n = a.num(0)?.unwrap_or(1);
            if n > 64 {
                return Err(format!("BIT({n}) over 64 in {text:?}"));
            }
            TypeKind::Bit(n as u16)
        }
        "year" => TypeKind::Year,
        "date" => TypeKind::Date,
        "time" => TypeKind::Time(a.fsp()?),
        "datetime" => TypeKind::DateTime(a.fsp()?),
        "timestamp" => TypeKind::Timestamp(a.fsp()?),
        "char" | "character" => TypeKind::Char(a.len(1)?),
        "nchar" | "national char" | "national character" => {
            implied = Some("utf8mb3");
            TypeKind::Char(a.len(1)?)
        }
        "varchar" | "char varying" | "character varying" => TypeKind::VarChar(a.len(0)?),
        "nvarchar" | "national varchar" | "nchar varchar" | "nchar varying" => {
            implied = Some("utf8mb3");
            TypeKind::VarChar(a.len(0)?)
        }
        "binary" | "char byte" => {
            implied = Some("binary");
            TypeKind::Binary(a.len(1)?)
        }
        "varbinary" => {
            implied = Some("binary");
            TypeKind::VarBinary(a.len(0)?)
        }
        "tinytext" => TypeKind::Text(1),
        "text" if a.args.is_empty() => TypeKind::Text(2),
        "text" => TypeKind::Text(0),
        "mediumtext" | "long" | "long varchar" => TypeKind::Text(3),
        "longtext" => TypeKind::Text(4),
        "tinyblob" | "blob" | "mediumblob" | "longblob" | "long varbinary" | "long binary" => {
            implied = Some("binary");
            TypeKind::Blob(match name {
                "tinyblob" => 1,
                "blob" => match a.num(0)? {
                    None => 2,
                    Some(n) if n < 1 << 8 => 1,
                    Some(n) if n < 1 << 16 => 2,
                    Some(n) if n < 1 << 24 => 3,
                    Some(_) => 4,
                },
                "longblob" => 4,
                _ => 3,
            })
        }
        "enum" => TypeKind::Enum(a.args.to_vec()),
        "set" => TypeKind::Set(a.args.to_vec()),
        "json" => TypeKind::Json,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => TypeKind::Geometry,
        "vector" => TypeKind::Vector(a.len(0)?),
        "uuid" | "inet6" => TypeKind::FixedBinary(16),
        "inet4" => TypeKind::FixedBinary(4),
        "hidden" => TypeKind::Hidden,
        other => return Err(format!("column type {other} is not known")),
    };
    Ok((kind, implied))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: ColumnType, meta: &[u8]) -> Column {
        Column::new(t, meta, true)
    }

    #[test]
    fn types_are_read_from_their_text() {
        let t = SqlType::parse("INT(10) UNSIGNED ZEROFILL").unwrap();
        assert_eq!(
            (t.kind.clone(), t.unsigned, t.text.as_str()),
            (TypeKind::Int(4), true, "int(10) unsigned")
        );
        assert_eq!(
            SqlType::parse("decimal").unwrap().kind,
            TypeKind::Decimal(10, 0)
        );
        assert_eq!(SqlType::parse("FLOAT(30)").unwrap().kind, TypeKind::Double);
        assert_eq!(
            SqlType::parse("double precision").unwrap().kind,
            TypeKind::Double
        );
        assert_eq!(
            SqlType::parse("ENUM('a', 'b,c', 'd''e')").unwrap().kind,
            TypeKind::Enum(vec!["a".into(), "b,c".into(), "d'e".into()])
        );
        assert_eq!(SqlType::parse("year(4)").unwrap().kind, TypeKind::Year);
        assert_eq!(
            SqlType::parse("blob(70000)").unwrap().kind,
            TypeKind::Blob(3)
        );
        assert_eq!(
            SqlType::parse("varbinary(9)").unwrap().implied_charset,
            Some("binary")
        );
        assert!(SqlType::parse("money").is_err());
        assert!(SqlType::parse("time(7)").is_err());
    }

    #[test]
    fn table_map_columns_are_checked() {
        let vc = SqlType::parse("varchar(20)").unwrap();
        // 20 characters of utf8mb4, or of latin1.
        assert!(vc
            .check(&col(ColumnType::VARCHAR, &[80, 0]), None, Some(45), None)
            .is_ok());
        assert!(vc
            .check(
                &col(ColumnType::VARCHAR, &[20, 0]),
                None,
                None,
                Some("latin1")
            )
            .is_ok());
        assert!(vc
            .check(
                &col(ColumnType::VARCHAR, &[80, 0]),
                None,
                None,
                Some("latin1")
            )
            .is_err());
        // Unknown character set: any of 1–4 bytes a character.
        assert!(vc
            .check(&col(ColumnType::VARCHAR, &[60, 0]), None, None, None)
            .is_ok());
        assert!(vc
            .check(&col(ColumnType::VARCHAR, &[70, 0]), None, None, None)
            .is_err());
        // The logged character set must be the declared one.
        let e = vc.check(
            &col(ColumnType::VARCHAR, &[20, 0]),
            None,
            Some(8),
            Some("utf8mb4"),
        );
        assert_eq!(
            e.unwrap_err(),
            "VARCHAR/VARBINARY of 20 bytes CHARACTER SET latin1"
        );
        let int = SqlType::parse("int").unwrap();
        assert!(int
            .check(&col(ColumnType::LONG, &[]), Some(false), None, None)
            .is_ok());
        assert_eq!(
            int.check(&col(ColumnType::LONG, &[]), Some(true), None, None)
                .unwrap_err(),
            "INT UNSIGNED"
        );
        assert!(int
            .check(&col(ColumnType::LONGLONG, &[]), None, None, None)
            .is_err());
        let dec = SqlType::parse("decimal(10,2)").unwrap();
        assert!(dec
            .check(&col(ColumnType::NEWDECIMAL, &[10, 2]), None, None, None)
            .is_ok());
        assert!(dec
            .check(&col(ColumnType::NEWDECIMAL, &[10, 3]), None, None, None)
            .is_err());
        let e = SqlType::parse("enum('a','b')").unwrap();
        assert!(e
            .check(&col(ColumnType::STRING, &[247, 1]), None, None, None)
            .is_ok());
        let json = SqlType::parse("json").unwrap();
        assert!(json
            .check(&col(ColumnType::BLOB, &[4]), None, Some(46), None)
            .is_ok());
        assert!(json
            .check(&col(ColumnType::JSON, &[4]), None, None, None)
            .is_ok());
        let dt = SqlType::parse("datetime(6)").unwrap();
        assert!(dt
            .check(&col(ColumnType::DATETIME2, &[6]), None, None, None)
            .is_ok());
        assert!(dt
            .check(&col(ColumnType::DATETIME2, &[0]), None, None, None)
            .is_err());
    }
}
