//! From a table's description (what `information_schema` says about its columns and
//! primary key) to what a server would log for it: the binlog type and metadata of each
//! column, the TABLE_MAP event with its optional metadata, and the SELECT that reads
//! every value exactly (see [`super::value`] for the conversion of what it returns).

use std::collections::BTreeMap;

use super::column::{map_column, Mapped};
use crate::error::{Error, Result};
use crate::event::fde::Flavor;
use crate::event::table_map::{field, OptionalMetadataBuilder, TableMap};
use crate::row::column::Column;
use crate::row::value::BINARY_COLLATION;

/// One column as `information_schema.COLUMNS` describes it (plus the ENUM/SET members in
/// the column's character set, which the caller obtains; see [`parse_members`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnDef {
    /// `COLUMN_NAME`.
    pub name: String,
    /// `DATA_TYPE`, for example `int`, `varchar`, `enum`, `uuid`.
    pub data_type: String,
    /// `COLUMN_TYPE`, for example `int(10) unsigned`, `enum('a','b')`,
    /// `time(3) /* mariadb-5.3 */`.
    pub column_type: String,
    /// `IS_NULLABLE = 'YES'`.
    pub nullable: bool,
    /// `CHARACTER_OCTET_LENGTH`: the maximum length in bytes of a string column.
    pub octet_length: Option<u64>,
    /// `NUMERIC_PRECISION`: digits of a DECIMAL, bits of a BIT.
    pub precision: Option<u64>,
    /// `NUMERIC_SCALE`.
    pub scale: Option<u64>,
    /// `DATETIME_PRECISION`: fractional digits of TIME, DATETIME and TIMESTAMP.
    pub datetime_precision: Option<u64>,
    /// The collation number of the column (from `COLLATION_NAME`); `None` for columns
    /// without a character set (binary strings are given the binary collation, 63).
    pub collation: Option<u16>,
    /// Whether `EXTRA` says `INVISIBLE`.
    pub invisible: bool,
    /// ENUM or SET members, as bytes in the column's character set.
    pub members: Vec<Vec<u8>>,
}

/// A table: its name, its columns in order and its primary key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDef {
    /// Database name.
    pub schema: String,
    /// Table name.
    pub name: String,
    /// Columns, in `ORDINAL_POSITION` order.
    pub columns: Vec<ColumnDef>,
    /// Primary key parts: column index and prefix length in characters (0 when the whole
    /// column is in the key; `information_schema.STATISTICS.SUB_PART` otherwise).
    pub primary_key: Vec<(usize, u64)>,
}

/// How the value of a column is selected and turned into a row-image value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    /// TINYINT … BIGINT: an integer.
    Integer,
    /// FLOAT: a 4-byte float (the binary protocol sends it exactly).
    Float,
    /// DOUBLE.
    Double,
    /// DECIMAL: its exact text.
    Decimal,
    /// YEAR: an integer.
    Year,
    /// DATE.
    Date,
    /// TIME.
    Time,
    /// DATETIME.
    DateTime,
    /// TIMESTAMP, read as a date and time in UTC (the session's time zone must be
    /// `+00:00`).
    Timestamp,
    /// BIT: its big-endian bytes.
    Bit,
    /// ENUM, selected as `col+0`: the member index.
    EnumIndex,
    /// SET, selected as `CAST(col AS UNSIGNED)`: the member bits.
    SetBits,
    /// Character and binary strings whose bytes go to the image as they are (VARCHAR,
    /// VARBINARY, TEXT, BLOB, MariaDB JSON, CHAR whose padding the server already removed).
    Bytes,
    /// Fixed-length binary strings (BINARY, and MariaDB UUID/INET4/INET6 selected as
    /// `CAST(col AS BINARY(n))`): the image holds them without trailing zero bytes.
    FixedBinary,
    /// GEOMETRY and its subtypes: SRID and WKB.
    Geometry,
    /// MySQL JSON: the server sends text, the image holds binary JSON.
    JsonText,
}

/// Everything needed to write a table's events: the binlog columns, how to read each
/// value, and the TABLE_MAP body (for any table id).
#[derive(Debug, Clone)]
pub struct TableLayout {
    /// Database name.
    pub schema: String,
    /// Table name.
    pub name: String,
    /// Column names.
    pub column_names: Vec<String>,
    /// The columns as TABLE_MAP describes them.
    pub columns: Vec<Column>,
    /// Whether each column is UNSIGNED.
    pub unsigned: Vec<bool>,
    /// How each column is read.
    pub reads: Vec<ReadAs>,
    /// The expression that selects each column.
    pub select_exprs: Vec<String>,
    /// Whether the null bitmap's unused bits are set (MariaDB, MySQL before 8.0).
    pub unused_null_bits_set: bool,
    /// Notes about columns written differently from how the server logs them.
    pub notes: Vec<String>,
    /// Primary key parts: column index and prefix length (0 for the whole column).
    pub primary_key: Vec<(usize, u64)>,
    types: Vec<u8>,
    metadata: Vec<u8>,
    null_bits: Vec<u8>,
    optional: Vec<u8>,
}

/// Quotes an identifier with backticks.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl TableLayout {
    /// Maps a table to binlog columns for a server of `flavor` (`version` decides how the
    /// null bitmap's unused bits are filled: MySQL 8.0 and later clear them).
    pub fn new(def: &TableDef, flavor: Flavor, version: (u16, u16, u16)) -> Result<TableLayout> {
        if def.columns.is_empty() {
            return Err(Error::unsupported(0, "table without columns"));
        }
        if def.schema.len() > 255 || def.name.len() > 255 {
            return Err(Error::unsupported(0, "name longer than 255 bytes"));
        }
        let mapped = def
            .columns
            .iter()
            .map(|c| map_column(c, flavor))
            .collect::<Result<Vec<_>>>()?;
        let n = mapped.len();
        let mut types = Vec::with_capacity(n);
        let mut metadata = Vec::with_capacity(2 * n);
        let mut null_bits = vec![0u8; n.div_ceil(8)];
        for (i, m) in mapped.iter().enumerate() {
            types.push(m.column.binlog_type.0);
            metadata.extend_from_slice(m.column.meta_bytes());
            if m.column.nullable {
                null_bits[i / 8] |= 1 << (i % 8);
            }
        }
        let optional = optional_metadata(def, &mapped, flavor);
        Ok(TableLayout {
            schema: def.schema.clone(),
            name: def.name.clone(),
            column_names: def.columns.iter().map(|c| c.name.clone()).collect(),
            columns: mapped.iter().map(|m| m.column).collect(),
            unsigned: mapped.iter().map(|m| m.unsigned).collect(),
            reads: mapped.iter().map(|m| m.read).collect(),
            select_exprs: mapped.iter().map(|m| m.select.clone()).collect(),
            unused_null_bits_set: flavor == Flavor::MariaDb || version < (8, 0, 0),
            notes: mapped.iter().filter_map(|m| m.note.clone()).collect(),
            primary_key: def.primary_key.clone(),
            types,
            metadata,
            null_bits,
            optional,
        })
    }

    /// `schema.table`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// `SELECT <every column, read exactly> FROM `schema`.`table``.
    pub fn select_sql(&self) -> String {
        format!(
            "SELECT {} FROM {}.{}",
            self.select_exprs.join(", "),
            quote_ident(&self.schema),
            quote_ident(&self.name)
        )
    }

    /// The primary key's column when it is a single whole integer column.
    pub fn integer_primary_key(&self) -> Option<usize> {
        match self.primary_key[..] {
            [(i, 0)] if self.reads[i] == ReadAs::Integer => Some(i),
            _ => None,
        }
    }

    /// ` ORDER BY <primary key columns>`, or nothing for a table without one.
    pub fn order_by_primary_key(&self) -> String {
        if self.primary_key.is_empty() {
            return String::new();
        }
        let cols: Vec<String> = self
            .primary_key
            .iter()
            .map(|&(i, _)| quote_ident(&self.column_names[i]))
            .collect();
        format!(" ORDER BY {}", cols.join(", "))
    }

    /// The TABLE_MAP body for `table_id`; a database or table name over 255 bytes is
    /// refused.
    pub fn table_map_body(&self, table_id: u64, out: &mut Vec<u8>) -> Result<()> {
        TableMap::new(
            table_id,
            self.schema.as_bytes(),
            self.name.as_bytes(),
            &self.types,
            &self.metadata,
            &self.null_bits,
            &self.optional,
        )
        .encode(out)
    }
}

/// The optional metadata a server logs with `binlog_row_metadata=FULL`, in its order.
fn optional_metadata(def: &TableDef, mapped: &[Mapped], flavor: Flavor) -> Vec<u8> {
    let mut b = OptionalMetadataBuilder::new();
    let signedness: Vec<bool> = mapped
        .iter()
        .filter(|m| m.numeric)
        .map(|m| m.unsigned)
        .collect();
    if !signedness.is_empty() {
        b.bitmap(field::SIGNEDNESS, &signedness);
    }
    let collation = |i: usize| u64::from(def.columns[i].collation.unwrap_or(BINARY_COLLATION));
    let character: Vec<u64> = (0..mapped.len())
        .filter(|&i| mapped[i].character)
        .map(collation)
        .collect();
    charset_field(
        &mut b,
        &character,
        field::DEFAULT_CHARSET,
        field::COLUMN_CHARSET,
    );
    let geometry: Vec<u64> = mapped.iter().filter_map(|m| m.geometry).collect();
    if !geometry.is_empty() {
        b.packed_list(field::GEOMETRY_TYPE, &geometry);
    }
    let names: Vec<&[u8]> = def.columns.iter().map(|c| c.name.as_bytes()).collect();
    b.names(&names);
    let enum_set: Vec<u64> = (0..mapped.len())
        .filter(|&i| matches!(mapped[i].read, ReadAs::EnumIndex | ReadAs::SetBits))
        .map(collation)
        .collect();
    charset_field(
        &mut b,
        &enum_set,
        field::ENUM_AND_SET_DEFAULT_CHARSET,
        field::ENUM_AND_SET_COLUMN_CHARSET,
    );
    for (kind, read) in [
        (field::SET_STR_VALUE, ReadAs::SetBits),
        (field::ENUM_STR_VALUE, ReadAs::EnumIndex),
    ] {
        let lists: Vec<Vec<&[u8]>> = (0..mapped.len())
            .filter(|&i| mapped[i].read == read)
            .map(|i| def.columns[i].members.iter().map(|m| &m[..]).collect())
            .collect();
        if !lists.is_empty() {
            b.members(kind, &lists);
        }
    }
    if !def.primary_key.is_empty() {
        if def.primary_key.iter().all(|&(_, prefix)| prefix == 0) {
            let cols: Vec<u64> = def.primary_key.iter().map(|&(c, _)| c as u64).collect();
            b.packed_list(field::SIMPLE_PRIMARY_KEY, &cols);
        } else {
            let parts: Vec<(u64, u64)> = def
                .primary_key
                .iter()
                .map(|&(c, p)| (c as u64, p))
                .collect();
            b.primary_key_with_prefix(&parts);
        }
    }
    if flavor == Flavor::MySql {
        let visible: Vec<bool> = def.columns.iter().map(|c| !c.invisible).collect();
        b.bitmap(field::COLUMN_VISIBILITY, &visible);
    }
    b.finish()
}

/// A character-set field in whichever of its two forms the server picks: one collation
/// per column, or the most used collation and the exceptions, by a size estimate that
/// counts one byte per number.
fn charset_field(
    b: &mut OptionalMetadataBuilder,
    collations: &[u64],
    default_kind: u8,
    list_kind: u8,
) {
    if collations.is_empty() {
        return;
    }
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for &c in collations {
        *counts.entry(c).or_default() += 1;
    }
    // The smallest collation number among the most used ones.
    let (mut most, mut most_count) = (0, 0);
    for (&c, &k) in &counts {
        if k > most_count {
            (most, most_count) = (c, k);
        }
    }
    let n = collations.len();
    if n < 1 + (n - most_count) * 2 {
        b.packed_list(list_kind, collations);
    } else {
        let exceptions: Vec<(u64, u64)> = collations
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c != most)
            .map(|(i, &c)| (i as u64, c))
            .collect();
        b.default_charset(default_kind, most, &exceptions);
    }
}

/// The members of an ENUM or SET from its `COLUMN_TYPE` (`enum('a','b''c')`), unescaped
/// as the server escapes them there: quotes doubled, and backslash, NUL, newline, carriage
/// return and ^Z as backslash escapes. The text is in the connection's character set
/// (UTF-8); members outside ASCII need converting to the column's character set.
pub fn parse_members(column_type: &str) -> Result<Vec<String>> {
    let bad = || Error::malformed(0, format!("cannot read the members of {column_type}"));
    let open = column_type.find('(').ok_or_else(bad)?;
    let mut chars = column_type[open + 1..].chars().peekable();
    let mut out = Vec::new();
    loop {
        match chars.next() {
            Some('\'') => {}
            Some(')') if out.is_empty() => break,
            _ => return Err(bad()),
        }
        let mut s = String::new();
        loop {
            match chars.next().ok_or_else(bad)? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    s.push('\'');
                }
                '\'' => break,
                '\\' => s.push(match chars.next().ok_or_else(bad)? {
                    '0' => '\0',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    'Z' => '\u{1a}',
                    other => other,
                }),
                c => s.push(c),
            }
        }
        out.push(s);
        match chars.next() {
            Some(',') => continue,
            Some(')') => break,
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::column::ColumnType;

    fn col(name: &str, data_type: &str, column_type: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            nullable: true,
            ..Default::default()
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn members_unescape() {
        assert_eq!(
            parse_members(r"enum('a','b''c','d\\e','f,g','h\nx','é')").unwrap(),
            vec!["a", "b'c", "d\\e", "f,g", "h\nx", "é"]
        );
        assert_eq!(parse_members("set('')").unwrap(), vec![""]);
        assert!(parse_members("enum('a").is_err());
    }

    /// A table whose TABLE_MAP a MariaDB 10.11 server logged (binlog_row_metadata=FULL):
    /// `CREATE TABLE g1 (id int, g geometry, c char(1) charset latin1)` in database t2,
    /// and one with ENUM/SET columns of two character sets.
    #[test]
    fn mariadb_table_maps_match_the_server() {
        let mut g = col("g", "geometry", "geometry");
        g.collation = None;
        let mut c = col("c", "char", "char(1)");
        c.octet_length = Some(1);
        c.collation = Some(8);
        let def = TableDef {
            schema: "t2".into(),
            name: "g1".into(),
            columns: vec![col("id", "int", "int(11)"), g, c],
            primary_key: vec![],
        };
        let l = TableLayout::new(&def, Flavor::MariaDb, (10, 11, 19)).unwrap();
        let mut body = Vec::new();
        l.table_map_body(0x20, &mut body).unwrap();
        let tm = TableMap::parse(&body, 0, 6).unwrap();
        assert_eq!(tm.column_types, hex("03 ff fe"));
        assert_eq!(tm.metadata, hex("04 fe 01"));
        assert_eq!(tm.null_bits, hex("07"));
        assert_eq!(
            tm.optional,
            hex("01 01 00 03 02 3f 08 07 01 00 04 07 02 69 64 01 67 01 63")
        );

        let mut cols = vec![];
        let mut ch = col("c", "char", "char(255)");
        ch.octet_length = Some(1020);
        ch.collation = Some(45);
        cols.push(ch);
        let mut v = col("v", "varchar", "varchar(300)");
        v.octet_length = Some(300);
        v.collation = Some(8);
        cols.push(v);
        for (name, t, members, cs) in [
            ("e1", "enum", vec!["a", "b"], 8),
            ("e2", "enum", vec!["a"], 8),
            ("s1", "set", vec!["a"], 8),
            ("s2", "set", vec!["a"], 45),
        ] {
            let mut c = col(name, t, t);
            c.collation = Some(cs);
            c.members = members.iter().map(|m| m.as_bytes().to_vec()).collect();
            cols.push(c);
        }
        let mut d = col("d", "decimal", "decimal(65,30) unsigned");
        d.precision = Some(65);
        d.scale = Some(30);
        cols.push(d);
        cols.push(col("bi", "bigint", "bigint(20) unsigned"));
        let def = TableDef {
            schema: "t2".into(),
            name: "c1".into(),
            columns: cols,
            primary_key: vec![],
        };
        let l = TableLayout::new(&def, Flavor::MariaDb, (10, 11, 19)).unwrap();
        let mut body = Vec::new();
        l.table_map_body(0x20, &mut body).unwrap();
        let tm = TableMap::parse(&body, 0, 6).unwrap();
        assert_eq!(tm.column_types, hex("fe 0f fe fe fe fe f6 08"));
        assert_eq!(
            tm.metadata,
            hex("ce fc 2c 01 f7 01 f7 01 f8 01 f8 01 41 1e")
        );
        let fields: Vec<(u8, Vec<u8>)> = tm
            .optional_fields()
            .map(|f| f.map(|f| (f.kind, f.value.to_vec())).unwrap())
            .collect();
        assert_eq!(
            fields,
            vec![
                (1, hex("c0")),
                (3, hex("2d 08")),
                (
                    4,
                    hex("01 63 01 76 02 65 31 02 65 32 02 73 31 02 73 32 01 64 02 62 69")
                ),
                (10, hex("08 03 2d")),
                (5, hex("01 01 61 01 01 61")),
                (6, hex("02 01 61 01 62 01 01 61")),
            ]
        );
    }

    #[test]
    fn mysql_layout_has_visibility_and_no_year_sign() {
        let mut inv = col("h", "int", "int unsigned");
        inv.invisible = true;
        let def = TableDef {
            schema: "d".into(),
            name: "t".into(),
            columns: vec![
                col("y", "year", "year"),
                inv,
                col("j", "json", "json"),
                col("g", "point", "point"),
            ],
            primary_key: vec![(1, 0)],
        };
        let l = TableLayout::new(&def, Flavor::MySql, (8, 0, 40)).unwrap();
        assert!(!l.unused_null_bits_set);
        let mut body = Vec::new();
        l.table_map_body(1, &mut body).unwrap();
        let tm = TableMap::parse(&body, 0, 6).unwrap();
        assert_eq!(tm.column_types, hex("0d 03 f5 ff"));
        assert_eq!(tm.metadata, hex("04 04"));
        let kinds: Vec<u8> = tm.optional_fields().map(|f| f.unwrap().kind).collect();
        assert_eq!(kinds, vec![1, 7, 4, 8, 12]);
        let vis = tm.optional_fields().last().unwrap().unwrap();
        assert_eq!(vis.value, [0xb0]);
    }

    #[test]
    fn old_temporals() {
        let mut t = col("t", "time", "time /* mariadb-5.3 */");
        t.datetime_precision = Some(0);
        let mut t3 = col("t3", "datetime", "datetime(3) /* mariadb-5.3 */");
        t3.datetime_precision = Some(3);
        let def = TableDef {
            schema: "d".into(),
            name: "t".into(),
            columns: vec![t, t3],
            primary_key: vec![],
        };
        let l = TableLayout::new(&def, Flavor::MariaDb, (10, 11, 0)).unwrap();
        assert_eq!(l.columns[0].binlog_type, ColumnType::TIME);
        assert_eq!(l.columns[1].binlog_type, ColumnType::DATETIME2);
        assert_eq!(l.notes.len(), 1);
    }
}
