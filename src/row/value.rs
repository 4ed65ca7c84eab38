//! Column values: [`Value`] and decoding a value from a row image.

use std::borrow::Cow;

use super::column::{Column, ColumnType};
use super::temporal::{self, Date, DateTime, Time};
use crate::bytes::{be_uint, le_uint, Short};
use crate::error::{Error, Result};
use crate::row::decimal::Decimal;

/// One column value of a row image. Byte-string values borrow from the image.
#[derive(Clone, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A signed integer (TINYINT … BIGINT).
    Int(i64),
    /// An unsigned integer (TINYINT … BIGINT UNSIGNED).
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL, in its binary form (its text is `-12.340`).
    Decimal(Decimal<'a>),
    /// YEAR (0 or 1901–2155).
    Year(u16),
    /// DATE.
    Date(Date),
    /// TIME, with the column's fractional digits.
    Time(Time, u8),
    /// DATETIME, with the column's fractional digits.
    DateTime(DateTime, u8),
    /// TIMESTAMP: seconds and microseconds since the epoch, with the column's digits.
    Timestamp {
        /// Seconds.
        secs: u32,
        /// Microseconds.
        micros: u32,
        /// Fractional digits of the column.
        fsp: u8,
    },
    /// BIT(n), as an integer.
    Bit(u64),
    /// ENUM: the 1-based member index (0 = the empty error value).
    Enum(u16),
    /// SET: one bit per member.
    Set(u64),
    /// CHAR, VARCHAR, BINARY, VARBINARY, TEXT and BLOB bytes.
    Bytes(Cow<'a, [u8]>),
    /// MySQL JSON in its binary form.
    Json(Cow<'a, [u8]>),
    /// A PARTIAL_UPDATE_ROWS JSON diff list (see [`crate::row::json_diff`]).
    JsonDiff(Cow<'a, [u8]>),
    /// GEOMETRY: 4-byte SRID and WKB.
    Geometry(Cow<'a, [u8]>),
    /// MySQL VECTOR: little-endian float32s.
    Vector(Cow<'a, [u8]>),
}

impl std::fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => write!(f, "Null"),
            Value::Int(v) => write!(f, "Int({v})"),
            Value::UInt(v) => write!(f, "UInt({v})"),
            Value::Float(v) => write!(f, "Float({v})"),
            Value::Double(v) => write!(f, "Double({v})"),
            Value::Decimal(v) => write!(f, "Decimal({v})"),
            Value::Year(v) => write!(f, "Year({v})"),
            Value::Date(v) => write!(f, "Date({v})"),
            Value::Time(v, p) => write!(f, "Time({})", temporal::WithFsp(*v, *p)),
            Value::DateTime(v, p) => write!(f, "DateTime({})", temporal::WithFsp(*v, *p)),
            Value::Timestamp { secs, micros, fsp } => write!(
                f,
                "Timestamp({})",
                temporal::UnixTime {
                    secs: *secs,
                    micros: *micros,
                    fsp: *fsp
                }
            ),
            Value::Bit(v) => write!(f, "Bit({v:#x})"),
            Value::Enum(v) => write!(f, "Enum({v})"),
            Value::Set(v) => write!(f, "Set({v:#x})"),
            Value::Bytes(b) => write!(f, "Bytes({:?})", Short(b)),
            Value::Json(b) => write!(f, "Json({:?})", Short(b)),
            Value::JsonDiff(b) => write!(f, "JsonDiff({:?})", Short(b)),
            Value::Geometry(b) => write!(f, "Geometry({:?})", Short(b)),
            Value::Vector(b) => write!(f, "Vector({:?})", Short(b)),
        }
    }
}

impl Value<'_> {
    /// The value with its bytes owned.
    pub fn into_owned(self) -> Value<'static> {
        let own = |c: Cow<'_, [u8]>| Cow::Owned(c.into_owned());
        match self {
            Value::Null => Value::Null,
            Value::Int(v) => Value::Int(v),
            Value::UInt(v) => Value::UInt(v),
            Value::Float(v) => Value::Float(v),
            Value::Double(v) => Value::Double(v),
            Value::Decimal(v) => Value::Decimal(v.into_owned()),
            Value::Year(v) => Value::Year(v),
            Value::Date(v) => Value::Date(v),
            Value::Time(v, p) => Value::Time(v, p),
            Value::DateTime(v, p) => Value::DateTime(v, p),
            Value::Timestamp { secs, micros, fsp } => Value::Timestamp { secs, micros, fsp },
            Value::Bit(v) => Value::Bit(v),
            Value::Enum(v) => Value::Enum(v),
            Value::Set(v) => Value::Set(v),
            Value::Bytes(b) => Value::Bytes(own(b)),
            Value::Json(b) => Value::Json(own(b)),
            Value::JsonDiff(b) => Value::JsonDiff(own(b)),
            Value::Geometry(b) => Value::Geometry(own(b)),
            Value::Vector(b) => Value::Vector(own(b)),
        }
    }

    /// Whether this is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Decodes the value of column `col` at the start of `data` (located at `offset`):
/// returns it and the bytes it took. `partial` marks a JSON column that holds a diff list.
pub fn decode<'a>(
    col: &Column,
    unsigned: bool,
    partial: bool,
    data: &'a [u8],
    offset: u64,
) -> Result<(Value<'a>, usize)> {
    let n = col.value_len_at(data, offset)?;
    decode_sized(col, unsigned, partial, data, n, offset).map(|v| (v, n))
}

/// [`decode`] of a value whose length `n` (what [`Column::value_len`] gives for `data`)
/// is already known. Inlined into the row walks: returned from a call, the value went
/// through the stack and was read back at once (in a profile, half of the samples of
/// `Rows::decode_image` were on that read).
#[inline(always)]
pub(crate) fn decode_sized<'a>(
    col: &Column,
    unsigned: bool,
    partial: bool,
    data: &'a [u8],
    n: usize,
    offset: u64,
) -> Result<Value<'a>> {
    let b = data.get(..n).ok_or_else(|| {
        Error::malformed(
            offset,
            format!(
                "value needs {n} bytes, {} left in the row image",
                data.len()
            ),
        )
    })?;
    // What follows a length prefix of `len_bytes` (the length itself was read by
    // value_len_at).
    let prefixed = |len_bytes: usize| {
        b.get(len_bytes..)
            .ok_or_else(|| Error::malformed(offset, "value shorter than its length prefix"))
    };
    let int = |signed_bits: u32| -> Value<'a> {
        let raw = le_uint(b);
        if unsigned {
            Value::UInt(raw)
        } else {
            let shift = 64 - signed_bits;
            Value::Int(((raw << shift) as i64) >> shift)
        }
    };
    // An integer of more than 8 bytes (a column's metadata can claim one) is not read:
    // its high bytes would be lost.
    let narrow = |what: &str| -> Result<()> {
        if n > 8 {
            Err(Error::unsupported(
                offset,
                format!("{what} value of {n} bytes"),
            ))
        } else {
            Ok(())
        }
    };
    let fsp = col.meta1().min(6);
    let at = |e: Error| e.shifted(offset);
    let v = match col.real_type {
        ColumnType::TINY => int(8),
        ColumnType::SHORT => int(16),
        ColumnType::INT24 => int(24),
        ColumnType::LONG => int(32),
        ColumnType::LONGLONG => int(64),
        ColumnType::FLOAT => Value::Float(f32::from_le_bytes(array(b, offset)?)),
        ColumnType::DOUBLE => Value::Double(f64::from_le_bytes(array(b, offset)?)),
        ColumnType::NEWDECIMAL => {
            let (p, s) = col.decimal_precision();
            Value::Decimal(Decimal::new(b, p, s).map_err(at)?)
        }
        ColumnType::YEAR => {
            let [y] = array(b, offset)?;
            Value::Year(if y == 0 { 0 } else { 1900 + u16::from(y) })
        }
        ColumnType::DATE | ColumnType::NEWDATE => {
            Value::Date(temporal::decode_date(b).map_err(at)?)
        }
        ColumnType::TIME => Value::Time(temporal::decode_time_old(b).map_err(at)?, 0),
        ColumnType::TIME2 => Value::Time(temporal::decode_time2(b, fsp).map_err(at)?, fsp),
        ColumnType::DATETIME => Value::DateTime(temporal::decode_datetime_old(b).map_err(at)?, 0),
        ColumnType::DATETIME2 => {
            Value::DateTime(temporal::decode_datetime2(b, fsp).map_err(at)?, fsp)
        }
        ColumnType::TIMESTAMP => Value::Timestamp {
            secs: u32::from_le_bytes(array(b, offset)?),
            micros: 0,
            fsp: 0,
        },
        ColumnType::TIMESTAMP2 => {
            let (secs, micros) = temporal::decode_timestamp2(b, fsp).map_err(at)?;
            Value::Timestamp { secs, micros, fsp }
        }
        ColumnType::BIT => {
            narrow("BIT")?;
            Value::Bit(be_uint(b))
        }
        ColumnType::ENUM => {
            if n > 2 {
                return Err(Error::unsupported(
                    offset,
                    format!("ENUM value of {n} bytes"),
                ));
            }
            Value::Enum(le_uint(b) as u16)
        }
        ColumnType::SET => {
            narrow("SET")?;
            Value::Set(le_uint(b))
        }
        ColumnType::NULL => Value::Null,
        ColumnType::VARCHAR | ColumnType::VAR_STRING => {
            Value::Bytes(Cow::Borrowed(prefixed(if col.meta_le16() > 255 {
                2
            } else {
                1
            })?))
        }
        ColumnType::STRING => {
            Value::Bytes(Cow::Borrowed(prefixed(if col.string_max_len() > 255 {
                2
            } else {
                1
            })?))
        }
        ColumnType::BLOB
        | ColumnType::TINY_BLOB
        | ColumnType::MEDIUM_BLOB
        | ColumnType::LONG_BLOB => Value::Bytes(Cow::Borrowed(prefixed(usize::from(col.meta1()))?)),
        ColumnType::JSON => {
            let body = Cow::Borrowed(prefixed(usize::from(col.meta1()))?);
            if partial {
                Value::JsonDiff(body)
            } else {
                Value::Json(body)
            }
        }
        ColumnType::GEOMETRY => Value::Geometry(Cow::Borrowed(prefixed(usize::from(col.meta1()))?)),
        ColumnType::VECTOR => Value::Vector(Cow::Borrowed(prefixed(usize::from(col.meta1()))?)),
        t => {
            return Err(Error::unsupported(
                offset,
                format!("decoding column type {t:?}"),
            ))
        }
    };
    Ok(v)
}

/// The bytes of a fixed-size value as an array; a value of another size is an error.
fn array<const N: usize>(b: &[u8], offset: u64) -> Result<[u8; N]> {
    b.try_into()
        .map_err(|_| Error::malformed(offset, format!("a {N}-byte value takes {} bytes", b.len())))
}

/// Collation number of the `binary` character set.
pub const BINARY_COLLATION: u16 = 63;

/// The value a BINARY(n) column holds: servers strip trailing zero bytes of fixed-length
/// binary strings in row images (as they strip trailing spaces of CHAR), so a BINARY
/// value is padded back to the column's length here. Other values come back unchanged.
pub fn padded_binary<'a>(col: &Column, charset: Option<u16>, bytes: &'a [u8]) -> Cow<'a, [u8]> {
    let max = col.string_max_len() as usize;
    if col.real_type == ColumnType::STRING && charset == Some(BINARY_COLLATION) && bytes.len() < max
    {
        let mut v = bytes.to_vec();
        v.resize(max, 0);
        Cow::Owned(v)
    } else {
        Cow::Borrowed(bytes)
    }
}
