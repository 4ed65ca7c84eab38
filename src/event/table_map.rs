//! TABLE_MAP_EVENT: the table id ↔ table binding for the rows events that follow, with the
//! column types and the optional metadata of `binlog_row_metadata`.

use crate::bytes::{put_len_bytes, put_packed, put_packed_bytes, Cursor, Short};
use crate::error::Result;
use crate::event::fde::Flavor;
use crate::row::column::{parse_columns, Column, ColumnType};

/// A TABLE_MAP event.
#[derive(Clone, PartialEq, Eq)]
pub struct TableMap<'a> {
    /// The table id rows events refer to.
    pub table_id: u64,
    /// Bytes used by the table id on the wire (6, or 4 on early 5.1 servers).
    pub table_id_len: u8,
    /// Flags (unused by servers; 1 = "bit_len exact").
    pub flags: u16,
    /// Database name.
    pub schema: &'a [u8],
    /// Table name.
    pub table: &'a [u8],
    /// One type code per column.
    pub column_types: &'a [u8],
    /// Whether the metadata block and null bitmap are present (absent before MySQL 5.1.18).
    pub has_metadata: bool,
    /// The metadata block (0–2 bytes per column).
    pub metadata: &'a [u8],
    /// Nullability bitmap, one bit per column.
    pub null_bits: &'a [u8],
    /// Optional metadata, type-length-value fields (see [`OptionalField`]).
    pub optional: &'a [u8],
    /// The server family that wrote it: MariaDB counts GEOMETRY columns among the
    /// character columns of the charset fields, MySQL does not.
    pub flavor: Flavor,
    /// Byte offset of the metadata block, for errors.
    metadata_offset: u64,
    /// Byte offset of the optional metadata.
    optional_offset: u64,
}

impl std::fmt::Debug for TableMap<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableMap")
            .field("table_id", &self.table_id)
            .field("schema", &String::from_utf8_lossy(self.schema))
            .field("table", &String::from_utf8_lossy(self.table))
            .field("columns", &self.column_types.len())
            .field("optional", &Short(self.optional))
            .finish()
    }
}

impl<'a> TableMap<'a> {
    /// Parses the body; `table_id_len` is 6 (or 4 for a format whose TABLE_MAP post-header
    /// is 6 bytes long).
    pub fn parse(body: &'a [u8], offset: u64, table_id_len: usize) -> Result<TableMap<'a>> {
        let mut c = Cursor::new(body, offset);
        let table_id = c.uint(table_id_len)?;
        let flags = c.u16()?;
        let schema = c.u8_bytes("schema name")?;
        if c.u8()? != 0 {
            return Err(c.malformed("schema name not NUL-terminated"));
        }
        let table = c.u8_bytes("table name")?;
        if c.u8()? != 0 {
            return Err(c.malformed("table name not NUL-terminated"));
        }
        let n = c.packed_len()?;
        let column_types = c.take(n, "column types")?;
        // MySQL 5.1 before 5.1.18 wrote no metadata and no null bitmap.
        let has_metadata = !c.is_empty();
        let (metadata, null_bits) = if has_metadata {
            let meta_len = c.packed_len()?;
            let m = c.take(meta_len, "column metadata")?;
            (m, c.take(n.div_ceil(8), "null bitmap")?)
        } else {
            (&[][..], &[][..])
        };
        let metadata_offset = c.offset() - (null_bits.len() + metadata.len()) as u64;
        let optional_offset = c.offset();
        Ok(TableMap {
            table_id,
            table_id_len: table_id_len as u8,
            flags,
            schema,
            table,
            column_types,
            has_metadata,
            metadata,
            null_bits,
            optional: c.rest(),
            flavor: Flavor::MySql,
            metadata_offset,
            optional_offset,
        })
    }

    /// A new table map (offsets for errors are 0).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        table_id: u64,
        schema: &'a [u8],
        table: &'a [u8],
        column_types: &'a [u8],
        metadata: &'a [u8],
        null_bits: &'a [u8],
        optional: &'a [u8],
    ) -> TableMap<'a> {
        TableMap {
            table_id,
            table_id_len: 6,
            flags: 1,
            schema,
            table,
            column_types,
            has_metadata: true,
            metadata,
            null_bits,
            optional,
            flavor: Flavor::MySql,
            metadata_offset: 0,
            optional_offset: 0,
        }
    }

    /// The same map, read as written by a server of `flavor`.
    pub fn with_flavor(mut self, flavor: Flavor) -> TableMap<'a> {
        self.flavor = flavor;
        self
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        crate::event::rows::put_table_id(out, self.table_id, self.table_id_len)?;
        out.extend_from_slice(&self.flags.to_le_bytes());
        put_len_bytes(out, self.schema, 1, "database name length")?;
        out.push(0);
        put_len_bytes(out, self.table, 1, "table name length")?;
        out.push(0);
        put_packed_bytes(out, self.column_types);
        if self.has_metadata {
            put_packed_bytes(out, self.metadata);
            out.extend_from_slice(self.null_bits);
            out.extend_from_slice(self.optional);
        }
        Ok(())
    }

    /// Number of columns.
    pub fn column_count(&self) -> usize {
        self.column_types.len()
    }

    /// The columns with their metadata.
    pub fn columns(&self) -> Result<Vec<Column>> {
        if !self.has_metadata && !self.column_types.is_empty() {
            return Err(crate::error::Error::unsupported(
                self.metadata_offset,
                "table map from a MySQL 5.1 server older than 5.1.18 carries no column metadata",
            ));
        }
        parse_columns(
            self.column_types,
            self.metadata,
            self.null_bits,
            self.metadata_offset,
        )
    }

    /// `schema.table`, lossily as UTF-8.
    pub fn qualified_name(&self) -> String {
        format!(
            "{}.{}",
            String::from_utf8_lossy(self.schema),
            String::from_utf8_lossy(self.table)
        )
    }

    /// The optional metadata fields in order.
    pub fn optional_fields(&self) -> OptionalFields<'a> {
        OptionalFields {
            c: Cursor::new(self.optional, self.optional_offset),
            failed: false,
        }
    }

    /// Decodes all optional metadata against the columns.
    pub fn optional_metadata(&self, columns: &[Column]) -> Result<OptionalMetadata<'a>> {
        OptionalMetadata::decode(self.optional_fields(), columns, self.flavor)
    }
}

/// Optional metadata field codes (`enum_optional_metadata_field_type`).
pub mod field {
    /// Signedness bitmap of numeric columns.
    pub const SIGNEDNESS: u8 = 1;
    /// Default charset of character columns, with exceptions.
    pub const DEFAULT_CHARSET: u8 = 2;
    /// Charset of each character column.
    pub const COLUMN_CHARSET: u8 = 3;
    /// Column names.
    pub const COLUMN_NAME: u8 = 4;
    /// SET member strings.
    pub const SET_STR_VALUE: u8 = 5;
    /// ENUM member strings.
    pub const ENUM_STR_VALUE: u8 = 6;
    /// Geometry subtype of each geometry column.
    pub const GEOMETRY_TYPE: u8 = 7;
    /// Primary key columns without prefixes.
    pub const SIMPLE_PRIMARY_KEY: u8 = 8;
    /// Primary key columns with prefix lengths.
    pub const PRIMARY_KEY_WITH_PREFIX: u8 = 9;
    /// Default charset of ENUM/SET columns, with exceptions.
    pub const ENUM_AND_SET_DEFAULT_CHARSET: u8 = 10;
    /// Charset of each ENUM/SET column.
    pub const ENUM_AND_SET_COLUMN_CHARSET: u8 = 11;
    /// Visibility bitmap of all columns.
    pub const COLUMN_VISIBILITY: u8 = 12;
    /// Dimensions of each VECTOR column.
    pub const VECTOR_DIMENSIONALITY: u8 = 13;
}

/// One type-length-value field of optional metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalField<'a> {
    /// The field code (see [`field`]).
    pub kind: u8,
    /// The value bytes.
    pub value: &'a [u8],
    /// Offset of the value, for errors.
    pub offset: u64,
}

/// Iterator over optional metadata fields.
#[derive(Debug, Clone)]
pub struct OptionalFields<'a> {
    c: Cursor<'a>,
    failed: bool,
}

impl<'a> Iterator for OptionalFields<'a> {
    type Item = Result<OptionalField<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.c.is_empty() {
            return None;
        }
        let r = (|| {
            let kind = self.c.u8()?;
            let offset = self.c.offset();
            let value = self.c.packed_bytes("optional metadata field")?;
            Ok(OptionalField {
                kind,
                value,
                offset: offset + 1,
            })
        })();
        self.failed = r.is_err();
        Some(r)
    }
}

/// Everything the optional metadata says, per column (vectors indexed by column number,
/// `None` where the metadata does not say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionalMetadata<'a> {
    /// Whether each column is UNSIGNED (numeric columns only).
    pub unsigned: Vec<Option<bool>>,
    /// Collation number of each column with a character set (character, ENUM, SET).
    pub charset: Vec<Option<u16>>,
    /// Column names.
    pub names: Vec<Option<&'a [u8]>>,
    /// ENUM members or SET members of each ENUM/SET column.
    pub members: Vec<Option<Vec<&'a [u8]>>>,
    /// Geometry subtype of each geometry column.
    pub geometry_type: Vec<Option<u32>>,
    /// Vector dimensions of each VECTOR column.
    pub vector_dims: Vec<Option<u32>>,
    /// Whether each column is visible (MySQL 8.0.23+ invisible columns).
    pub visible: Vec<Option<bool>>,
    /// Primary key: `(column index, prefix length or 0)`.
    pub primary_key: Vec<(usize, usize)>,
    /// Whether a primary key field was present at all.
    pub has_primary_key: bool,
    /// Codes of the fields seen, in order.
    pub fields_seen: Vec<u8>,
}

/// The columns each field of optional metadata describes, by column index.
struct ColumnGroups {
    numeric: Vec<usize>,
    character: Vec<usize>,
    enum_set: Vec<usize>,
    enums: Vec<usize>,
    sets: Vec<usize>,
    geoms: Vec<usize>,
    vectors: Vec<usize>,
}

impl ColumnGroups {
    fn new(cols: &[Column], flavor: Flavor) -> ColumnGroups {
        let idx = |pred: &dyn Fn(&Column) -> bool| -> Vec<usize> {
            (0..cols.len()).filter(|&i| pred(&cols[i])).collect()
        };
        ColumnGroups {
            numeric: idx(&|c| c.real_type.is_numeric()),
            character: idx(&|c| {
                c.real_type.is_character()
                    || (flavor == Flavor::MariaDb && c.real_type == ColumnType::GEOMETRY)
            }),
            enum_set: idx(&|c| c.real_type.is_enum_or_set()),
            enums: idx(&|c| c.real_type == ColumnType::ENUM),
            sets: idx(&|c| c.real_type == ColumnType::SET),
            geoms: idx(&|c| c.real_type == ColumnType::GEOMETRY),
            vectors: idx(&|c| c.real_type == ColumnType::VECTOR),
        }
    }
}

impl<'a> OptionalMetadata<'a> {
    fn decode(
        fields: OptionalFields<'a>,
        cols: &[Column],
        flavor: Flavor,
    ) -> Result<OptionalMetadata<'a>> {
        let n = cols.len();
        let mut m = OptionalMetadata {
            unsigned: vec![None; n],
            charset: vec![None; n],
            names: vec![None; n],
            members: vec![None; n],
            geometry_type: vec![None; n],
            vector_dims: vec![None; n],
            visible: vec![None; n],
            ..Default::default()
        };
        let groups = ColumnGroups::new(cols, flavor);
        for f in fields {
            let f = f?;
            m.fields_seen.push(f.kind);
            m.apply(&f, &groups)?;
        }
        if let Some(&(col, _)) = m.primary_key.iter().find(|(c, _)| *c >= n) {
            return Err(crate::error::Error::malformed(
                0,
                format!("primary key column {col} of {n}"),
            ));
        }
        Ok(m)
    }

    /// Takes in one field.
    fn apply(&mut self, f: &OptionalField<'a>, g: &ColumnGroups) -> Result<()> {
        let mut c = Cursor::new(f.value, f.offset);
        match f.kind {
            field::SIGNEDNESS => {
                for (k, &col) in g.numeric.iter().enumerate() {
                    let byte = f.value.get(k / 8).copied().unwrap_or(0);
                    self.unsigned[col] = Some(byte & (0x80 >> (k % 8)) != 0);
                }
            }
            field::DEFAULT_CHARSET
            | field::ENUM_AND_SET_DEFAULT_CHARSET
            | field::COLUMN_CHARSET
            | field::ENUM_AND_SET_COLUMN_CHARSET => self.charsets(f, g)?,
            field::COLUMN_NAME => {
                for name in self.names.iter_mut() {
                    if c.is_empty() {
                        break;
                    }
                    *name = Some(c.packed_bytes("column name")?);
                }
            }
            field::SET_STR_VALUE | field::ENUM_STR_VALUE => {
                let target = if f.kind == field::SET_STR_VALUE {
                    &g.sets
                } else {
                    &g.enums
                };
                for &col in target {
                    if c.is_empty() {
                        break;
                    }
                    let k = c.packed_len()?;
                    let mut v = Vec::with_capacity(k);
                    for _ in 0..k {
                        v.push(c.packed_bytes("enum/set member")?);
                    }
                    self.members[col] = Some(v);
                }
            }
            field::GEOMETRY_TYPE => {
                for &col in &g.geoms {
                    if c.is_empty() {
                        break;
                    }
                    self.geometry_type[col] = Some(c.packed()? as u32);
                }
            }
            field::VECTOR_DIMENSIONALITY => {
                for &col in &g.vectors {
                    if c.is_empty() {
                        break;
                    }
                    self.vector_dims[col] = Some(c.packed()? as u32);
                }
            }
            field::SIMPLE_PRIMARY_KEY => {
                self.has_primary_key = true;
                while !c.is_empty() {
                    self.primary_key.push((c.packed()? as usize, 0));
                }
            }
            field::PRIMARY_KEY_WITH_PREFIX => {
                self.has_primary_key = true;
                while !c.is_empty() {
                    let col = c.packed()? as usize;
                    self.primary_key.push((col, c.packed()? as usize));
                }
            }
            field::COLUMN_VISIBILITY => {
                for (i, v) in self.visible.iter_mut().enumerate() {
                    let byte = f.value.get(i / 8).copied().unwrap_or(0);
                    *v = Some(byte & (0x80 >> (i % 8)) != 0);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The default and per-column character sets of character and ENUM/SET columns.
    fn charsets(&mut self, f: &OptionalField<'a>, g: &ColumnGroups) -> Result<()> {
        let mut c = Cursor::new(f.value, f.offset);
        match f.kind {
            field::DEFAULT_CHARSET | field::ENUM_AND_SET_DEFAULT_CHARSET => {
                let target = if f.kind == field::DEFAULT_CHARSET {
                    &g.character
                } else {
                    &g.enum_set
                };
                let default = c.packed()? as u16;
                for &col in target {
                    self.charset[col] = Some(default);
                }
                while !c.is_empty() {
                    let k = c.packed()? as usize;
                    let cs = c.packed()? as u16;
                    let col = *target
                        .get(k)
                        .ok_or_else(|| c.malformed(format!("charset for column #{k}")))?;
                    self.charset[col] = Some(cs);
                }
            }
            field::COLUMN_CHARSET | field::ENUM_AND_SET_COLUMN_CHARSET => {
                let target = if f.kind == field::COLUMN_CHARSET {
                    &g.character
                } else {
                    &g.enum_set
                };
                for &col in target {
                    if c.is_empty() {
                        break;
                    }
                    self.charset[col] = Some(c.packed()? as u16);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Builds optional metadata fields (the writer's side of [`OptionalMetadata`]).
#[derive(Debug, Default, Clone)]
pub struct OptionalMetadataBuilder {
    out: Vec<u8>,
}

impl OptionalMetadataBuilder {
    /// An empty set of fields.
    pub fn new() -> OptionalMetadataBuilder {
        OptionalMetadataBuilder::default()
    }

    fn field(&mut self, kind: u8, value: &[u8]) {
        self.out.push(kind);
        put_packed_bytes(&mut self.out, value);
    }

    /// A bitmap field (SIGNEDNESS or COLUMN_VISIBILITY): most significant bit first.
    pub fn bitmap(&mut self, kind: u8, bits: &[bool]) -> &mut Self {
        let mut v = vec![0u8; bits.len().div_ceil(8)];
        for (i, &b) in bits.iter().enumerate() {
            if b {
                v[i / 8] |= 0x80 >> (i % 8);
            }
        }
        self.field(kind, &v);
        self
    }

    /// A list of packed integers (COLUMN_CHARSET, GEOMETRY_TYPE, SIMPLE_PRIMARY_KEY, ...).
    pub fn packed_list(&mut self, kind: u8, values: &[u64]) -> &mut Self {
        let mut v = Vec::new();
        for &x in values {
            put_packed(&mut v, x);
        }
        self.field(kind, &v);
        self
    }

    /// DEFAULT_CHARSET-style field: a default and `(index, collation)` exceptions.
    pub fn default_charset(
        &mut self,
        kind: u8,
        default: u64,
        exceptions: &[(u64, u64)],
    ) -> &mut Self {
        let mut v = Vec::new();
        put_packed(&mut v, default);
        for &(i, cs) in exceptions {
            put_packed(&mut v, i);
            put_packed(&mut v, cs);
        }
        self.field(kind, &v);
        self
    }

    /// COLUMN_NAME.
    pub fn names<B: AsRef<[u8]>>(&mut self, names: &[B]) -> &mut Self {
        let mut v = Vec::new();
        for n in names {
            put_packed_bytes(&mut v, n.as_ref());
        }
        self.field(field::COLUMN_NAME, &v);
        self
    }

    /// SET_STR_VALUE or ENUM_STR_VALUE: members of each column.
    pub fn members<B: AsRef<[u8]>>(&mut self, kind: u8, columns: &[Vec<B>]) -> &mut Self {
        let mut v = Vec::new();
        for members in columns {
            put_packed(&mut v, members.len() as u64);
            for m in members {
                put_packed_bytes(&mut v, m.as_ref());
            }
        }
        self.field(kind, &v);
        self
    }

    /// PRIMARY_KEY_WITH_PREFIX.
    pub fn primary_key_with_prefix(&mut self, key: &[(u64, u64)]) -> &mut Self {
        let mut v = Vec::new();
        for &(c, p) in key {
            put_packed(&mut v, c);
            put_packed(&mut v, p);
        }
        self.field(field::PRIMARY_KEY_WITH_PREFIX, &v);
        self
    }

    /// The encoded fields.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MariaDB lists a charset for GEOMETRY columns, MySQL does not: the entry for a
    /// VARCHAR after a GEOMETRY is the second for MariaDB, the first for MySQL.
    #[test]
    fn geometry_columns_take_a_charset_entry_on_mariadb_only() {
        let types = [ColumnType::GEOMETRY.0, ColumnType::VARCHAR.0];
        let meta = [4u8, 40, 0];
        let mut mariadb = OptionalMetadataBuilder::new();
        mariadb.packed_list(field::COLUMN_CHARSET, &[63, 8]);
        let mariadb = mariadb.finish();
        let tm = TableMap::new(1, b"d", b"t", &types, &meta, &[3], &mariadb)
            .with_flavor(Flavor::MariaDb);
        let cols = tm.columns().unwrap();
        assert_eq!(
            tm.optional_metadata(&cols).unwrap().charset,
            [Some(63), Some(8)]
        );
        let mut mysql = OptionalMetadataBuilder::new();
        mysql.packed_list(field::COLUMN_CHARSET, &[8]);
        let mysql = mysql.finish();
        let tm = TableMap::new(1, b"d", b"t", &types, &meta, &[3], &mysql);
        assert_eq!(
            tm.optional_metadata(&cols).unwrap().charset,
            [None, Some(8)]
        );
    }
}
