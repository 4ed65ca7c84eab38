//! Column types as TABLE_MAP logs them, their metadata, and how many bytes a value of each
//! takes in a row image.

use crate::bytes::{le_uint, Cursor};
use crate::error::{Error, Result};
use crate::row::decimal;

/// A MySQL column type code (`enum_field_types`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnType(pub u8);

macro_rules! column_types {
    ($( $konst:ident = $code:expr, $name:expr; )*) => {
        impl ColumnType {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($code), ").")]
                pub const $konst: ColumnType = ColumnType($code);
            )*

            /// The type's name in MySQL's `MYSQL_TYPE_*` spelling without the prefix.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $( $code => $name, )*
                    _ => "UNKNOWN",
                }
            }
        }
    };
}

column_types! {
    DECIMAL = 0, "DECIMAL";
    TINY = 1, "TINY";
    SHORT = 2, "SHORT";
    LONG = 3, "LONG";
    FLOAT = 4, "FLOAT";
    DOUBLE = 5, "DOUBLE";
    NULL = 6, "NULL";
    TIMESTAMP = 7, "TIMESTAMP";
    LONGLONG = 8, "LONGLONG";
    INT24 = 9, "INT24";
    DATE = 10, "DATE";
    TIME = 11, "TIME";
    DATETIME = 12, "DATETIME";
    YEAR = 13, "YEAR";
    NEWDATE = 14, "NEWDATE";
    VARCHAR = 15, "VARCHAR";
    BIT = 16, "BIT";
    TIMESTAMP2 = 17, "TIMESTAMP2";
    DATETIME2 = 18, "DATETIME2";
    TIME2 = 19, "TIME2";
    TYPED_ARRAY = 20, "TYPED_ARRAY";
    VECTOR = 242, "VECTOR";
    JSON = 245, "JSON";
    NEWDECIMAL = 246, "NEWDECIMAL";
    ENUM = 247, "ENUM";
    SET = 248, "SET";
    TINY_BLOB = 249, "TINY_BLOB";
    MEDIUM_BLOB = 250, "MEDIUM_BLOB";
    LONG_BLOB = 251, "LONG_BLOB";
    BLOB = 252, "BLOB";
    VAR_STRING = 253, "VAR_STRING";
    STRING = 254, "STRING";
    GEOMETRY = 255, "GEOMETRY";
}

impl std::fmt::Debug for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl ColumnType {
    /// How many metadata bytes TABLE_MAP stores for a column of this type, or `None` for a
    /// type that cannot appear in a row image.
    pub fn metadata_len(self) -> Option<usize> {
        Some(match self {
            ColumnType::TINY
            | ColumnType::SHORT
            | ColumnType::INT24
            | ColumnType::LONG
            | ColumnType::LONGLONG
            | ColumnType::NULL
            | ColumnType::DATE
            | ColumnType::NEWDATE
            | ColumnType::TIME
            | ColumnType::TIMESTAMP
            | ColumnType::DATETIME
            | ColumnType::YEAR => 0,
            ColumnType::FLOAT
            | ColumnType::DOUBLE
            | ColumnType::BLOB
            | ColumnType::TINY_BLOB
            | ColumnType::MEDIUM_BLOB
            | ColumnType::LONG_BLOB
            | ColumnType::GEOMETRY
            | ColumnType::JSON
            | ColumnType::VECTOR
            | ColumnType::TIMESTAMP2
            | ColumnType::DATETIME2
            | ColumnType::TIME2 => 1,
            ColumnType::NEWDECIMAL
            | ColumnType::VARCHAR
            | ColumnType::VAR_STRING
            | ColumnType::BIT
            | ColumnType::STRING
            | ColumnType::ENUM
            | ColumnType::SET
            | ColumnType::DECIMAL => 2,
            _ => return None,
        })
    }

    /// Whether the signedness bitmap of TABLE_MAP has a bit for this (real) type.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ColumnType::TINY
                | ColumnType::SHORT
                | ColumnType::INT24
                | ColumnType::LONG
                | ColumnType::LONGLONG
                | ColumnType::NEWDECIMAL
                | ColumnType::DECIMAL
                | ColumnType::FLOAT
                | ColumnType::DOUBLE
                | ColumnType::YEAR
        )
    }

    /// Whether the column charset lists of TABLE_MAP have an entry for this (real) type.
    /// MySQL 9 counts VECTOR columns among them (with the binary charset).
    pub fn is_character(self) -> bool {
        matches!(
            self,
            ColumnType::STRING
                | ColumnType::VAR_STRING
                | ColumnType::VARCHAR
                | ColumnType::BLOB
                | ColumnType::VECTOR
        )
    }

    /// Whether this (real) type is ENUM or SET.
    pub fn is_enum_or_set(self) -> bool {
        matches!(self, ColumnType::ENUM | ColumnType::SET)
    }
}

/// One column of a table as a TABLE_MAP describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The type code TABLE_MAP lists (ENUM and SET are logged as STRING).
    pub binlog_type: ColumnType,
    /// The type after resolving STRING's real type from the metadata: ENUM, SET, or STRING.
    pub real_type: ColumnType,
    /// The metadata bytes (0–2 of them, in the order stored).
    pub meta: [u8; 2],
    /// How many of `meta` are used.
    pub meta_len: u8,
    /// Whether the column may be NULL.
    pub nullable: bool,
}

impl Column {
    /// Builds a column from its logged type and metadata bytes.
    pub fn new(binlog_type: ColumnType, meta: &[u8], nullable: bool) -> Column {
        let mut m = [0u8; 2];
        let n = meta.len().min(2);
        m[..n].copy_from_slice(&meta[..n]);
        let real_type = if binlog_type == ColumnType::STRING && n == 2 {
            match ColumnType(m[0]) {
                t @ (ColumnType::ENUM | ColumnType::SET) => t,
                _ => ColumnType::STRING,
            }
        } else {
            binlog_type
        };
        Column {
            binlog_type,
            real_type,
            meta: m,
            meta_len: n as u8,
            nullable,
        }
    }

    /// The metadata bytes.
    pub fn meta_bytes(&self) -> &[u8] {
        &self.meta[..usize::from(self.meta_len)]
    }

    /// The one-byte metadata (FLOAT/DOUBLE size, BLOB length bytes, fractional digits).
    pub fn meta1(&self) -> u8 {
        self.meta[0]
    }

    /// The two-byte little-endian metadata (VARCHAR maximum length).
    pub fn meta_le16(&self) -> u16 {
        u16::from_le_bytes(self.meta)
    }

    /// Maximum length in bytes of a CHAR column (STRING), from its two metadata bytes: the
    /// high bits of lengths over 255 are folded into the first byte.
    pub fn string_max_len(&self) -> u32 {
        let (b0, b1) = (u32::from(self.meta[0]), u32::from(self.meta[1]));
        if b0 & 0x30 != 0x30 {
            (((b0 & 0x30) ^ 0x30) << 4) | b1
        } else {
            b1
        }
    }

    /// For BIT: `(whole bytes, leftover bits)`.
    pub fn bit_len(&self) -> (u8, u8) {
        (self.meta[1], self.meta[0])
    }

    /// Number of bits of a BIT column.
    pub fn bit_width(&self) -> u32 {
        let (bytes, bits) = self.bit_len();
        u32::from(bytes) * 8 + u32::from(bits)
    }

    /// For NEWDECIMAL: `(precision, scale)`.
    pub fn decimal_precision(&self) -> (u8, u8) {
        (self.meta[0], self.meta[1])
    }

    /// Bytes a value of this column takes at the start of `data` (a row image from the
    /// column on). Only length prefixes are read, never the value itself.
    #[inline]
    pub fn value_len(&self, data: &[u8]) -> Option<usize> {
        let fsp_bytes = |fsp: u8| usize::from(fsp.min(6)).div_ceil(2);
        let prefixed = |n: usize| data.get(..n).map(|b| n.saturating_add(le_uint(b) as usize));
        Some(match self.real_type {
            ColumnType::TINY | ColumnType::YEAR => 1,
            ColumnType::SHORT => 2,
            ColumnType::INT24 | ColumnType::DATE | ColumnType::NEWDATE | ColumnType::TIME => 3,
            ColumnType::LONG | ColumnType::TIMESTAMP => 4,
            ColumnType::LONGLONG | ColumnType::DATETIME => 8,
            ColumnType::FLOAT => 4,
            ColumnType::DOUBLE => 8,
            ColumnType::NULL => 0,
            ColumnType::TIMESTAMP2 => 4 + fsp_bytes(self.meta1()),
            ColumnType::DATETIME2 => 5 + fsp_bytes(self.meta1()),
            ColumnType::TIME2 => 3 + fsp_bytes(self.meta1()),
            ColumnType::NEWDECIMAL => {
                let (p, s) = self.decimal_precision();
                decimal::bin_size(p, s)
            }
            ColumnType::BIT => {
                let (bytes, bits) = self.bit_len();
                usize::from(bytes) + usize::from(bits > 0)
            }
            ColumnType::ENUM | ColumnType::SET => usize::from(self.meta[1]),
            ColumnType::VARCHAR | ColumnType::VAR_STRING => {
                prefixed(if self.meta_le16() > 255 { 2 } else { 1 })?
            }
            ColumnType::STRING => prefixed(if self.string_max_len() > 255 { 2 } else { 1 })?,
            ColumnType::BLOB
            | ColumnType::TINY_BLOB
            | ColumnType::MEDIUM_BLOB
            | ColumnType::LONG_BLOB
            | ColumnType::GEOMETRY
            | ColumnType::JSON
            | ColumnType::VECTOR => {
                let n = usize::from(self.meta1());
                if !(1..=4).contains(&n) {
                    return None;
                }
                prefixed(n)?
            }
            _ => return None,
        })
    }

    /// Like [`Column::value_len`], but an error at `offset` when the type is unknown.
    pub fn value_len_at(&self, data: &[u8], offset: u64) -> Result<usize> {
        self.value_len(data).ok_or_else(|| {
            if data.is_empty() {
                Error::malformed(offset, "row image ends inside a value")
            } else {
                Error::unsupported(
                    offset,
                    format!(
                        "column type {:?} with metadata {:?} in a row image",
                        self.real_type,
                        self.meta_bytes()
                    ),
                )
            }
        })
    }
}

/// Splits a TABLE_MAP metadata block into one [`Column`] per type code.
pub fn parse_columns(
    types: &[u8],
    metadata: &[u8],
    null_bits: &[u8],
    offset: u64,
) -> Result<Vec<Column>> {
    let mut c = Cursor::new(metadata, offset);
    let mut cols = Vec::with_capacity(types.len());
    for (i, &t) in types.iter().enumerate() {
        let t = ColumnType(t);
        let n = t.metadata_len().ok_or_else(|| {
            Error::unsupported(
                c.offset(),
                format!("column {} has unknown type {}", i + 1, t.0),
            )
        })?;
        let meta = c.take(n, "column metadata")?;
        let nullable = null_bits
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0);
        cols.push(Column::new(t, meta, nullable));
    }
    if !c.is_empty() {
        return Err(c.malformed("column metadata longer than the columns need"));
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lengths_and_real_types() {
        // CHAR(255) utf8mb4 = 1020 bytes: 0xfe ^ (0x300 >> 4 & 0x30) ...
        let len = 1020u32;
        let b0 = 0xfe ^ (((len & 0x300) >> 4) as u8);
        let col = Column::new(ColumnType::STRING, &[b0, (len & 0xff) as u8], true);
        assert_eq!(col.real_type, ColumnType::STRING);
        assert_eq!(col.string_max_len(), 1020);
        assert_eq!(col.value_len(&[3, 0, b'a', b'b', b'c']), Some(5));
        let e = Column::new(ColumnType::STRING, &[247, 1], false);
        assert_eq!(e.real_type, ColumnType::ENUM);
        assert_eq!(e.value_len(&[1]), Some(1));
        let v = Column::new(ColumnType::VARCHAR, &[0x2c, 0x01], false);
        assert_eq!(v.value_len(&[2, 0, b'h', b'i']), Some(4));
        let b = Column::new(ColumnType::BLOB, &[2], false);
        assert_eq!(b.value_len(&[1, 0, 9]), Some(3));
        assert_eq!(b.value_len(&[1]), None);
        let bit = Column::new(ColumnType::BIT, &[5, 1], false);
        assert_eq!(bit.value_len(&[0, 0]), Some(2));
        assert_eq!(bit.bit_width(), 13);
    }
}
