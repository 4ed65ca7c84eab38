//! MySQL's binary JSON format (column type JSON, 245), as found in row images.
//!
//! # Layout
//!
//! A document is one type byte followed by the value's data. Type bytes:
//!
//! | code | value                | data                                                |
//! |------|----------------------|-----------------------------------------------------|
//! | 0x00 | small object         | container, 2-byte offsets and sizes                 |
//! | 0x01 | large object         | container, 4-byte offsets and sizes                 |
//! | 0x02 | small array          | container, 2-byte offsets and sizes                 |
//! | 0x03 | large array          | container, 4-byte offsets and sizes                 |
//! | 0x04 | literal              | 1 byte: 0 null, 1 true, 2 false                     |
//! | 0x05 / 0x06 | int16 / uint16 | 2 bytes little-endian                              |
//! | 0x07 / 0x08 | int32 / uint32 | 4 bytes little-endian                              |
//! | 0x09 / 0x0a | int64 / uint64 | 8 bytes little-endian                              |
//! | 0x0b | double               | 8 bytes, IEEE 754 little-endian                     |
//! | 0x0c | string               | var-length byte count, then utf8mb4 bytes           |
//! | 0x0f | opaque               | MySQL column type byte, var-length count, raw bytes |
//!
//! A var-length count stores 7 bits per byte, least significant group first; the top
//! bit of a byte says another byte follows (at most 5 bytes, value at most 2^32 - 1).
//!
//! A container (offsets are 2 bytes in the small form, 4 in the large one, all
//! little-endian and relative to the first byte of the container, i.e. the byte after
//! its type byte):
//!
//! ```text
//! element count | total size in bytes
//! key entries (objects only): key offset, key length (always 2 bytes)
//! value entries: type byte, then either the value itself (inlined) or its offset
//! key bytes (objects only), in entry order
//! non-inlined values, in entry order
//! ```
//!
//! Literals, int16 and uint16 are always inlined in their value entry; int32 and uint32
//! are inlined only in the large form (whose entries have room for them). MySQL writes a
//! container in the small form when the whole container fits in 65535 bytes, and in the
//! large form otherwise; a container nested in a small one is therefore small too, while
//! the children of a large container each choose for themselves.
//!
//! # Empty values
//!
//! A zero-length value is not a valid document, but the server stores one when NULL is
//! forced into a NOT NULL JSON column (INSERT IGNORE, non-strict mode) and reads it back
//! as the JSON `null` literal. [`decode`] does the same: `decode(&[])` is
//! `Ok(Json::Null)`. [`encode`] never produces an empty value (`null` is `04 00`), so
//! this is the one input that does not round-trip byte for byte.
//!
//! # Leniency
//!
//! Like the server, [`decode`] ignores bytes after the top-level value and tolerates
//! unused space inside containers (the server leaves gaps after in-place partial updates)
//! and non-minimal var-length counts; such inputs decode but do not re-encode to the same
//! bytes. It checks every offset and size against the bytes it was given, refuses
//! documents nested deeper than [`MAX_DEPTH`] containers, and refuses documents that
//! hold more values than bytes (possible only when crafted offsets make containers share
//! children, which would otherwise expand exponentially).

use std::borrow::Cow;

/// Deepest container nesting MySQL accepts (its `JSON_DOCUMENT_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 100;

const SMALL_OBJECT: u8 = 0x00;
const LARGE_OBJECT: u8 = 0x01;
const SMALL_ARRAY: u8 = 0x02;
const LARGE_ARRAY: u8 = 0x03;
const LITERAL: u8 = 0x04;
const INT16: u8 = 0x05;
const UINT16: u8 = 0x06;
const INT32: u8 = 0x07;
const UINT32: u8 = 0x08;
const INT64: u8 = 0x09;
const UINT64: u8 = 0x0a;
const DOUBLE: u8 = 0x0b;
const STRING: u8 = 0x0c;
const OPAQUE: u8 = 0x0f;

const NULL_LITERAL: u8 = 0x00;
const TRUE_LITERAL: u8 = 0x01;
const FALSE_LITERAL: u8 = 0x02;

/// Largest offset or size of the small container form.
const SMALL_MAX: usize = 0xffff;

/// MySQL column type codes that opaque values carry and that [`to_text`] treats specially.
pub mod field_type {
    /// `MYSQL_TYPE_TIMESTAMP`: 8-byte packed datetime.
    pub const TIMESTAMP: u8 = 7;
    /// `MYSQL_TYPE_DATE`: 8-byte packed datetime, date part only.
    pub const DATE: u8 = 10;
    /// `MYSQL_TYPE_TIME`: 8-byte packed time.
    pub const TIME: u8 = 11;
    /// `MYSQL_TYPE_DATETIME`: 8-byte packed datetime.
    pub const DATETIME: u8 = 12;
    /// `MYSQL_TYPE_NEWDECIMAL`: precision byte, scale byte, binary decimal.
    pub const NEWDECIMAL: u8 = 246;
    /// `MYSQL_TYPE_VAR_STRING`: printed as a JSON string.
    pub const VAR_STRING: u8 = 253;
}

/// A JSON value, borrowing from the bytes it was decoded from.
///
/// Strings, keys and opaque data are [`Cow`]s: [`decode`] borrows them from its input
/// (zero copy) while [`from_serde`] owns them, so both give the same type (`Json<'static>`
/// for the latter). The integer variants keep the width the value was stored with, and
/// [`encode`] writes exactly that width.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// The `null` literal.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer stored in 16 bits.
    Int16(i16),
    /// An unsigned integer stored in 16 bits.
    UInt16(u16),
    /// A signed integer stored in 32 bits.
    Int32(i32),
    /// An unsigned integer stored in 32 bits.
    UInt32(u32),
    /// A signed integer stored in 64 bits.
    Int64(i64),
    /// An unsigned integer stored in 64 bits.
    UInt64(u64),
    /// A double.
    Double(f64),
    /// A string: utf8mb4 bytes as stored (not checked).
    String(Cow<'a, [u8]>),
    /// An object: members in stored order (MySQL sorts keys by length, then bytes).
    Object(Vec<(Cow<'a, [u8]>, Json<'a>)>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// A value of another SQL type: the MySQL column type code and its raw bytes
    /// (see [`field_type`]).
    Opaque {
        /// MySQL column type code.
        field_type: u8,
        /// The value in that type's binary form.
        data: Cow<'a, [u8]>,
    },
}

impl Json<'_> {
    /// The same value, owning all its bytes.
    pub fn into_owned(self) -> Json<'static> {
        let own = |c: Cow<'_, [u8]>| Cow::Owned(c.into_owned());
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Int16(x) => Json::Int16(x),
            Json::UInt16(x) => Json::UInt16(x),
            Json::Int32(x) => Json::Int32(x),
            Json::UInt32(x) => Json::UInt32(x),
            Json::Int64(x) => Json::Int64(x),
            Json::UInt64(x) => Json::UInt64(x),
            Json::Double(x) => Json::Double(x),
            Json::String(s) => Json::String(own(s)),
            Json::Object(m) => Json::Object(
                m.into_iter()
                    .map(|(k, v)| (own(k), v.into_owned()))
                    .collect(),
            ),
            Json::Array(a) => Json::Array(a.into_iter().map(Json::into_owned).collect()),
            Json::Opaque { field_type, data } => Json::Opaque {
                field_type,
                data: own(data),
            },
        }
    }
}

mod read;
mod text;
mod write;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;

pub use read::decode;
pub use text::{push_str, push_str_bytes, push_string, to_text, to_text_unquoted, Controls};
pub use write::{encode, from_serde};
