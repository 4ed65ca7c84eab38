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

use crate::bytes::Cursor;
use crate::row::decimal;
use crate::error::{Error, Result};

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

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/// Decodes a whole JSON value of a row image: the type byte, then the value.
///
/// An empty input is the `null` literal (see the module documentation). Error offsets
/// are relative to the start of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Json<'_>> {
    let mut c = Cursor::new(bytes, 0);
    if c.is_empty() {
        return Ok(Json::Null);
    }
    let t = c.u8()?;
    // In a valid document every value but the top one has a value entry (at least 3
    // bytes) of its own, so it never holds more values than bytes. Crafted offsets can
    // make containers share children, which would expand exponentially; the budget of
    // values left stops that.
    let mut budget = bytes.len();
    parse_value(t, 0, c.peek_rest(), 1, 0, &mut budget)
}

/// Parses a value of type `t` (whose type byte sits at `type_at`) from `data`, which
/// starts at absolute offset `base` and runs to the end of the enclosing container.
/// `budget` is the number of values the document may still hold.
fn parse_value<'a>(
    t: u8,
    type_at: u64,
    data: &'a [u8],
    base: u64,
    depth: usize,
    budget: &mut usize,
) -> Result<Json<'a>> {
    match t {
        SMALL_OBJECT | LARGE_OBJECT | SMALL_ARRAY | LARGE_ARRAY => {
            parse_container(t, data, base, depth, budget)
        }
        _ => parse_scalar(t, type_at, data, base),
    }
}

fn parse_scalar(t: u8, type_at: u64, data: &[u8], base: u64) -> Result<Json<'_>> {
    let mut c = Cursor::new(data, base);
    Ok(match t {
        LITERAL => match c.u8()? {
            NULL_LITERAL => Json::Null,
            TRUE_LITERAL => Json::Bool(true),
            FALSE_LITERAL => Json::Bool(false),
            x => return Err(Error::malformed(base, format!("JSON literal {x:#04x}"))),
        },
        INT16 => Json::Int16(c.i16()?),
        UINT16 => Json::UInt16(c.u16()?),
        INT32 => Json::Int32(c.i32()?),
        UINT32 => Json::UInt32(c.u32()?),
        INT64 => Json::Int64(c.i64()?),
        UINT64 => Json::UInt64(c.u64()?),
        DOUBLE => Json::Double(f64::from_le_bytes(c.array::<8>("JSON double")?)),
        STRING => {
            let n = read_varlen(&mut c)?;
            Json::String(Cow::Borrowed(c.take(n, "JSON string")?))
        }
        OPAQUE => {
            let field_type = c.u8()?;
            let n = read_varlen(&mut c)?;
            Json::Opaque {
                field_type,
                data: Cow::Borrowed(c.take(n, "JSON opaque value")?),
            }
        }
        x => return Err(Error::malformed(type_at, format!("JSON type {x:#04x}"))),
    })
}

/// Reads a var-length count (7 bits per byte, low bits first, at most 5 bytes).
fn read_varlen(c: &mut Cursor<'_>) -> Result<usize> {
    let at = c.offset();
    let mut value = 0u64;
    for i in 0..5 {
        let b = c.u8()?;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value)
                .map(|v| v as usize)
                .map_err(|_| Error::malformed(at, "JSON length above 2^32 - 1"));
        }
    }
    Err(Error::malformed(at, "JSON length longer than 5 bytes"))
}

/// Whether a value of type `t` lives inside its value entry.
fn is_inlined(t: u8, large: bool) -> bool {
    match t {
        LITERAL | INT16 | UINT16 => true,
        INT32 | UINT32 => large,
        _ => false,
    }
}

fn parse_container<'a>(
    t: u8,
    data: &'a [u8],
    base: u64,
    depth: usize,
    budget: &mut usize,
) -> Result<Json<'a>> {
    let depth = depth + 1;
    if depth > MAX_DEPTH {
        return Err(Error::malformed(
            base,
            format!("JSON nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    let large = t == LARGE_OBJECT || t == LARGE_ARRAY;
    let is_object = t == SMALL_OBJECT || t == LARGE_OBJECT;
    let os = if large { 4 } else { 2 };
    let mut c = Cursor::new(data, base);
    let count = c.uint(os)?;
    let size = c.uint(os)?;
    if size > data.len() as u64 {
        return Err(Error::malformed(
            base + os as u64,
            format!(
                "JSON container of {size} bytes, only {} available",
                data.len()
            ),
        ));
    }
    let key_entry = os as u64 + 2;
    let value_entry = os as u64 + 1;
    let keys_at = 2 * os as u64;
    let values_at = keys_at + if is_object { count * key_entry } else { 0 };
    let header = values_at + count * value_entry;
    if header > size {
        return Err(Error::malformed(
            base,
            format!("JSON container header of {header} bytes exceeds its size {size}"),
        ));
    }
    *budget = budget.checked_sub(count as usize).ok_or_else(|| {
        Error::malformed(
            base,
            "JSON document holds more values than bytes (shared offsets)",
        )
    })?;
    // All of these now fit in usize: they are at most `size`, which is at most data.len().
    let (size, count, header) = (size as usize, count as usize, header as usize);
    let (keys_at, values_at) = (keys_at as usize, values_at as usize);
    let (key_entry, value_entry) = (key_entry as usize, value_entry as usize);
    let body = data.get(..size).unwrap_or_default();
    let at = |pos: usize| base + pos as u64;

    let mut keys = Vec::with_capacity(if is_object { count } else { 0 });
    if is_object {
        for i in 0..count {
            let entry = keys_at + i * key_entry;
            let mut c = cursor_at(body, base, entry)?;
            let key_off = c.uint(os)? as usize;
            let key_len = usize::from(c.u16()?);
            if key_off < header || key_off as u64 + key_len as u64 > size as u64 {
                return Err(Error::malformed(
                    at(entry),
                    format!(
                        "JSON key at {key_off}+{key_len} outside its container ({header}..{size})"
                    ),
                ));
            }
            keys.push(body.get(key_off..key_off + key_len).unwrap_or_default());
        }
    }

    let mut values = Vec::with_capacity(count);
    for i in 0..count {
        let entry = values_at + i * value_entry;
        let mut c = cursor_at(body, base, entry)?;
        let vt = c.u8()?;
        let value = if is_inlined(vt, large) {
            let inline = c.take(os, "JSON inlined value")?;
            parse_scalar(vt, at(entry), inline, at(entry + 1))?
        } else {
            let off = c.uint(os)? as usize;
            if off < entry + value_entry || off > size {
                return Err(Error::malformed(
                    at(entry + 1),
                    format!("JSON value offset {off} outside its container"),
                ));
            }
            let rest = body.get(off..).unwrap_or_default();
            parse_value(vt, at(entry), rest, at(off), depth, budget)?
        };
        values.push(value);
    }

    Ok(if is_object {
        Json::Object(keys.into_iter().map(Cow::Borrowed).zip(values).collect())
    } else {
        Json::Array(values)
    })
}

/// A cursor over `body` (which starts at `base`), positioned at `pos`.
fn cursor_at(body: &[u8], base: u64, pos: usize) -> Result<Cursor<'_>> {
    let mut c = Cursor::new(body, base);
    c.skip(pos, "JSON entry")?;
    Ok(c)
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/// Appends the binary form of `value` (type byte first), as MySQL's serializer writes it.
///
/// Object members are written in the order given (MySQL keeps them sorted by length, then
/// bytes: [`from_serde`] does that). Each container takes the small form when it fits in
/// 65535 bytes and the large form otherwise; literals and 16-bit integers are inlined in
/// their value entries, 32-bit integers only in large containers. Integers keep the
/// width of their variant.
///
/// Fails (appending nothing) on nesting deeper than [`MAX_DEPTH`], a key longer than
/// 65535 bytes, or a document beyond 4 GiB. Error offsets are relative to the start of
/// this value's encoding.
pub fn encode(value: &Json, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.push(0);
    let result = write_value(value, out, 0).and_then(|t| {
        patch(out, start, &[t]);
        check_offset(out.len() - start - 1, true, out.len())
    });
    result.map_err(|e| {
        out.truncate(start);
        Error::new(e.kind().clone(), e.offset().saturating_sub(start as u64))
    })
}

/// Overwrites `bytes` at `pos` of our own output buffer.
fn patch(out: &mut [u8], pos: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(pos..pos + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// Fails if `n` does not fit in an offset of the chosen form.
fn check_offset(n: usize, large: bool, at: usize) -> Result<()> {
    let limit = if large { u32::MAX as usize } else { SMALL_MAX };
    if n > limit {
        return Err(Error::malformed(
            at as u64,
            format!("JSON offset or size {n} exceeds {limit}"),
        ));
    }
    Ok(())
}

/// The offset bytes of `n` in the chosen form (the caller has checked that it fits).
fn offset_bytes(n: usize, large: bool) -> Vec<u8> {
    if large {
        (n as u32).to_le_bytes().to_vec()
    } else {
        (n as u16).to_le_bytes().to_vec()
    }
}

/// Appends a var-length count.
fn put_varlen(out: &mut Vec<u8>, n: usize) -> Result<()> {
    check_offset(n, true, out.len())?;
    let mut n = n;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return Ok(());
        }
        out.push(b | 0x80);
    }
}

/// Bytes [`put_varlen`] writes for `n`.
fn varlen_size(n: usize) -> usize {
    let mut size = 1;
    let mut n = n >> 7;
    while n != 0 {
        size += 1;
        n >>= 7;
    }
    size
}

/// The type byte and the entry bytes of a value that is inlined in a value entry of the
/// given form, or `None` if it is stored out of line.
fn inline_entry(v: &Json, large: bool) -> Option<(u8, Vec<u8>)> {
    // MySQL writes the inlined value as a 32-bit integer truncated to the entry size.
    let (t, v32): (u8, u32) = match *v {
        Json::Null => (LITERAL, u32::from(NULL_LITERAL)),
        Json::Bool(true) => (LITERAL, u32::from(TRUE_LITERAL)),
        Json::Bool(false) => (LITERAL, u32::from(FALSE_LITERAL)),
        Json::Int16(x) => (INT16, i32::from(x) as u32),
        Json::UInt16(x) => (UINT16, u32::from(x)),
        Json::Int32(x) if large => (INT32, x as u32),
        Json::UInt32(x) if large => (UINT32, x),
        _ => return None,
    };
    let bytes = v32.to_le_bytes();
    let n = if large { 4 } else { 2 };
    Some((t, bytes.get(..n).unwrap_or_default().to_vec()))
}

/// Size of the data of `v` (without its type byte) if it can be written in the small
/// form, i.e. every container in it fits in 65535 bytes; `None` otherwise.
fn small_size(v: &Json, depth: usize) -> Option<usize> {
    let (entries, keys_and_header, children): (usize, usize, Vec<&Json>) = match v {
        Json::Object(m) => (
            m.len(),
            4 + m.len() * 7 + m.iter().map(|(k, _)| k.len()).sum::<usize>(),
            m.iter().map(|(_, c)| c).collect(),
        ),
        Json::Array(a) => (a.len(), 4 + a.len() * 3, a.iter().collect()),
        _ => return Some(scalar_size(v)),
    };
    if depth >= MAX_DEPTH || entries > SMALL_MAX {
        return None;
    }
    let mut size = keys_and_header;
    for child in children {
        if size > SMALL_MAX {
            return None;
        }
        if inline_entry(child, false).is_none() {
            size += small_size(child, depth + 1)?;
        }
    }
    (size <= SMALL_MAX).then_some(size)
}

/// Size of the data of a scalar (without its type byte).
fn scalar_size(v: &Json) -> usize {
    match v {
        Json::Null | Json::Bool(_) => 1,
        Json::Int16(_) | Json::UInt16(_) => 2,
        Json::Int32(_) | Json::UInt32(_) => 4,
        Json::Int64(_) | Json::UInt64(_) | Json::Double(_) => 8,
        Json::String(s) => varlen_size(s.len()) + s.len(),
        Json::Opaque { data, .. } => 1 + varlen_size(data.len()) + data.len(),
        Json::Object(_) | Json::Array(_) => 0,
    }
}

/// Appends the data of `v` and returns its type byte.
fn write_value(v: &Json, out: &mut Vec<u8>, depth: usize) -> Result<u8> {
    Ok(match v {
        Json::Null => {
            out.push(NULL_LITERAL);
            LITERAL
        }
        Json::Bool(b) => {
            out.push(if *b { TRUE_LITERAL } else { FALSE_LITERAL });
            LITERAL
        }
        Json::Int16(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            INT16
        }
        Json::UInt16(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            UINT16
        }
        Json::Int32(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            INT32
        }
        Json::UInt32(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            UINT32
        }
        Json::Int64(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            INT64
        }
        Json::UInt64(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            UINT64
        }
        Json::Double(x) => {
            out.extend_from_slice(&x.to_le_bytes());
            DOUBLE
        }
        Json::String(s) => {
            put_varlen(out, s.len())?;
            out.extend_from_slice(s);
            STRING
        }
        Json::Opaque { field_type, data } => {
            out.push(*field_type);
            put_varlen(out, data.len())?;
            out.extend_from_slice(data);
            OPAQUE
        }
        Json::Object(m) => {
            let keys: Vec<&[u8]> = m.iter().map(|(k, _)| k.as_ref()).collect();
            let values: Vec<&Json> = m.iter().map(|(_, v)| v).collect();
            write_container(v, Some(&keys), &values, out, depth)?
        }
        Json::Array(a) => {
            let values: Vec<&Json> = a.iter().collect();
            write_container(v, None, &values, out, depth)?
        }
    })
}

/// Appends a container (object when `keys` is given) and returns its type byte.
fn write_container(
    whole: &Json,
    keys: Option<&[&[u8]]>,
    values: &[&Json],
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<u8> {
    let depth = depth + 1;
    if depth > MAX_DEPTH {
        return Err(Error::malformed(
            out.len() as u64,
            format!("JSON nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    let large = small_size(whole, depth - 1).is_none();
    let os = if large { 4 } else { 2 };
    let count = values.len();
    let start = out.len();
    check_offset(count, large, start)?;
    out.extend_from_slice(&offset_bytes(count, large));
    out.extend_from_slice(&offset_bytes(0, large)); // size, patched at the end

    let value_entry = os + 1;
    if let Some(keys) = keys {
        let mut key_off = 2 * os + count * (os + 2 + value_entry);
        for k in keys {
            if k.len() > SMALL_MAX {
                return Err(Error::malformed(
                    out.len() as u64,
                    format!("JSON object key of {} bytes (at most 65535)", k.len()),
                ));
            }
            check_offset(key_off, large, out.len())?;
            out.extend_from_slice(&offset_bytes(key_off, large));
            out.extend_from_slice(&(k.len() as u16).to_le_bytes());
            key_off += k.len();
        }
    }
    let entries_at = out.len();
    out.resize(entries_at + count * value_entry, 0);
    for k in keys.unwrap_or_default() {
        out.extend_from_slice(k);
    }
    for (i, child) in values.iter().enumerate() {
        let entry = entries_at + i * value_entry;
        if let Some((t, bytes)) = inline_entry(child, large) {
            patch(out, entry, &[t]);
            patch(out, entry + 1, &bytes);
        } else {
            let off = out.len() - start;
            check_offset(off, large, out.len())?;
            let t = write_value(child, out, depth)?;
            patch(out, entry, &[t]);
            patch(out, entry + 1, &offset_bytes(off, large));
        }
    }
    let size = out.len() - start;
    check_offset(size, large, out.len())?;
    patch(out, start + os, &offset_bytes(size, large));
    Ok(match (keys.is_some(), large) {
        (true, false) => SMALL_OBJECT,
        (true, true) => LARGE_OBJECT,
        (false, false) => SMALL_ARRAY,
        (false, true) => LARGE_ARRAY,
    })
}

// ---------------------------------------------------------------------------------------
// From JSON text (serde_json)
// ---------------------------------------------------------------------------------------

/// Builds the tree MySQL builds when it parses the same JSON text.
///
/// - Object keys are sorted the way MySQL stores them: shorter keys first, keys of the
///   same length bytewise. Duplicate keys were already resolved by serde_json (the last
///   one wins), which is also MySQL 8's rule.
/// - Integers: MySQL's parser hands non-negative integers up to 2^32 - 1 and all negative
///   ones to a signed integer, stored as the narrowest of int16 / int32 / int64 that holds
///   it; non-negative integers above 2^32 - 1 become an unsigned integer, which is then
///   stored as uint64. Anything else (fractions, exponents, integers beyond 64 bits) is a
///   double.
/// - serde_json reads the text `-0` as the double -0.0 where MySQL would store the
///   integer 0; the tree cannot tell the two apart, so this gives `Double(-0.0)`.
pub fn from_serde(value: &serde_json::Value) -> Json<'static> {
    use serde_json::Value as V;
    match value {
        V::Null => Json::Null,
        V::Bool(b) => Json::Bool(*b),
        V::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i > i64::from(u32::MAX) {
                    Json::UInt64(i as u64)
                } else {
                    signed_int(i)
                }
            } else if let Some(u) = n.as_u64() {
                Json::UInt64(u)
            } else {
                Json::Double(n.as_f64().unwrap_or(0.0))
            }
        }
        V::String(s) => Json::String(Cow::Owned(s.as_bytes().to_vec())),
        V::Array(a) => Json::Array(a.iter().map(from_serde).collect()),
        V::Object(m) => {
            let mut members: Vec<(Cow<'static, [u8]>, Json<'static>)> = m
                .iter()
                .map(|(k, v)| (Cow::Owned(k.as_bytes().to_vec()), from_serde(v)))
                .collect();
            members.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            Json::Object(members)
        }
    }
}

/// The narrowest signed variant holding `i`.
fn signed_int(i: i64) -> Json<'static> {
    if let Ok(x) = i16::try_from(i) {
        Json::Int16(x)
    } else if let Ok(x) = i32::try_from(i) {
        Json::Int32(x)
    } else {
        Json::Int64(i)
    }
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

/// Appends the JSON text MySQL prints for `value` (what `SELECT` shows).
///
/// Members and elements are separated by `", "`, keys from values by `": "`. Strings are
/// quoted with `"` and `\` escaped, `\b \t \n \f \r` for those controls and `\u00xx`
/// for the other bytes below 0x20; everything else is copied (bytes that are not UTF-8
/// become U+FFFD).
///
/// Doubles are printed like MySQL's `my_gcvt`: the shortest digits that read back as the
/// same double, in plain notation for magnitudes from 1e-15 up to 1e15 (and for 17-digit
/// values below 1e16), as `1.5e-16` / `1e15` otherwise, with `.0` added when neither a
/// point nor an exponent is present (`1.0`, `-0.0`).
///
/// Opaque values: DECIMAL prints as the number (`9.00`); DATE, TIME, DATETIME and
/// TIMESTAMP as quoted strings (`"2015-01-15"`, `"-838:59:59.000000"`,
/// `"2015-01-15 23:24:25.000000"`); VAR_STRING as a string; anything else as
/// `"base64:type<N>:<base64>"` (the base64 is broken into lines of 76 characters, which
/// print as `\n`). An opaque DECIMAL or temporal value whose bytes are malformed prints in
/// the base64 form instead of failing.
pub fn to_text(value: &Json, out: &mut String) {
    write_text(value, true, out);
}

/// Like [`to_text`], but a top-level string, date/time or opaque value is printed without
/// its double quotes and escapes (as `JSON_UNQUOTE` would; this is the text mysqlbinlog
/// puts between its single quotes for a JSON column). Containers print as in [`to_text`].
pub fn to_text_unquoted(value: &Json, out: &mut String) {
    write_text(value, false, out);
}

fn write_text(v: &Json, quoted: bool, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int16(x) => out.push_str(&x.to_string()),
        Json::UInt16(x) => out.push_str(&x.to_string()),
        Json::Int32(x) => out.push_str(&x.to_string()),
        Json::UInt32(x) => out.push_str(&x.to_string()),
        Json::Int64(x) => out.push_str(&x.to_string()),
        Json::UInt64(x) => out.push_str(&x.to_string()),
        Json::Double(x) => write_double(*x, out),
        Json::String(s) => write_string(s, quoted, out),
        Json::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_text(item, true, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, true, out);
                out.push_str(": ");
                write_text(item, true, out);
            }
            out.push('}');
        }
        Json::Opaque { field_type, data } => write_opaque(*field_type, data, quoted, out),
    }
}

/// Appends a string, quoted and escaped or as is.
fn write_string(s: &[u8], quoted: bool, out: &mut String) {
    if !quoted {
        out.push_str(&String::from_utf8_lossy(s));
        return;
    }
    out.push('"');
    crate::bytes::push_escaped(out, s, |b| {
        Some(std::borrow::Cow::Borrowed(match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            0..=0x1f => return Some(format!("\\u00{b:02x}").into()),
            _ => return None,
        }))
    });
    out.push('"');
}

fn write_opaque(ft: u8, data: &[u8], quoted: bool, out: &mut String) {
    match ft {
        field_type::NEWDECIMAL => {
            if let [precision, scale, bin @ ..] = data {
                let mut text = String::new();
                if decimal::decode(bin, *precision, *scale, &mut text).is_ok() {
                    out.push_str(&text);
                    return;
                }
            }
        }
        field_type::DATE | field_type::TIME | field_type::DATETIME | field_type::TIMESTAMP => {
            if let Ok(packed) = <[u8; 8]>::try_from(data) {
                let text = temporal_text(ft, i64::from_le_bytes(packed));
                write_string(text.as_bytes(), quoted, out);
                return;
            }
        }
        field_type::VAR_STRING => return write_string(data, quoted, out),
        _ => {}
    }
    let text = format!("base64:type{ft}:{}", base64(data));
    write_string(text.as_bytes(), quoted, out);
}

/// The text of a packed temporal value (MySQL's `my_TIME_to_str` with 6 decimals).
fn temporal_text(ft: u8, packed: i64) -> String {
    let negative = packed < 0;
    let v = packed.unsigned_abs();
    let frac = v % (1 << 24);
    let int = v >> 24;
    if ft == field_type::TIME {
        let hour = (int >> 12) % (1 << 10);
        let minute = (int >> 6) % (1 << 6);
        let second = int % (1 << 6);
        let sign = if negative { "-" } else { "" };
        return format!("{sign}{hour:02}:{minute:02}:{second:02}.{frac:06}");
    }
    // A zero date part means the zero datetime, fraction included.
    let (frac, int) = if int == 0 { (0, 0) } else { (frac, int) };
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let hms = int % (1 << 17);
    let (year, month, day) = (ym / 13, ym % 13, ymd % (1 << 5));
    if ft == field_type::DATE {
        return format!("{year:04}-{month:02}-{day:02}");
    }
    let (hour, minute, second) = (hms >> 12, (hms >> 6) % (1 << 6), hms % (1 << 6));
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{frac:06}")
}

/// Standard base64 with padding and a newline after every 76 characters (MySQL's
/// `base64_encode`).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET[(i & 0x3f) as usize]);
    let mut out = String::with_capacity(data.len() / 3 * 4 + data.len() / 57 + 4);
    for (n, chunk) in data.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push('\n');
        }
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(v >> 18));
        out.push(sym(v >> 12));
        out.push(if chunk.len() > 1 { sym(v >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(v) } else { '=' });
    }
    out
}

/// Appends a double the way MySQL prints it in JSON (`my_gcvt` with a 34-character field,
/// then `.0` when the text looks like an integer).
fn write_double(d: f64, out: &mut String) {
    // my_gcvt prints "0" for infinities and NaN (which JSON cannot hold anyway).
    if !d.is_finite() {
        out.push_str("0.0");
        return;
    }
    const MAX_DECPT_FOR_F_FORMAT: i32 = 15; // DBL_DIG
    const FIELD_WIDTH: i32 = 15 + 4 + MAX_DECPT_FOR_F_FORMAT;
    let width = if d < 0.0 {
        FIELD_WIDTH - 1
    } else {
        FIELD_WIDTH
    };
    // Shortest digits that read back as `d`, and the decimal exponent.
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: Vec<u8> = mantissa.bytes().filter(|&b| b != b'.').collect();
    let len = digits.len() as i32;
    let decpt = exp.parse::<i32>().unwrap_or(0) + 1;

    let exp_len =
        1 + i32::from(decpt >= 101 || decpt <= -99) + i32::from(decpt >= 11 || decpt <= -9);
    let f_len = if decpt <= 0 {
        len - decpt + 2
    } else if decpt < len {
        len + 1
    } else {
        decpt
    };
    let have_space = f_len <= width;
    let force_e = decpt <= 0 && width <= 2 - decpt && width >= 3 + exp_len;
    // Plain notation when all digits fit, or when it keeps more digits than the
    // exponent form would; but never for very large or very small magnitudes.
    let f_format = (have_space || (decpt <= width && !force_e && decpt >= -2))
        && (!have_space
            || (decpt > -MAX_DECPT_FOR_F_FORMAT
                && (decpt <= MAX_DECPT_FOR_F_FORMAT || len > decpt)));

    let mut text = String::new();
    if d.is_sign_negative() {
        text.push('-');
    }
    let digit = |i: i32| char::from(digits.get(i as usize).copied().unwrap_or(b'0'));
    if f_format {
        if decpt <= 0 {
            text.push_str("0.");
            for _ in decpt..0 {
                text.push('0');
            }
            (0..len).for_each(|i| text.push(digit(i)));
        } else {
            for i in 0..len.max(decpt) {
                if i == decpt {
                    text.push('.');
                }
                text.push(if i < len { digit(i) } else { '0' });
            }
        }
    } else {
        text.push(digit(0));
        if len > 1 {
            text.push('.');
            (1..len).for_each(|i| text.push(digit(i)));
        }
        text.push('e');
        text.push_str(&(decpt - 1).to_string());
    }
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    out.push_str(&text);
}

/// Walks the row images of real binlogs to pull out JSON column values (test support,
/// shared with the diff tests).
#[cfg(test)]
pub(crate) mod fixture {
    use super::{write_opaque, Json};
    use std::path::PathBuf;

    /// One JSON column value of a row image.
    pub struct JsonCell {
        /// Whether the value is a diff list (partial bit set) rather than a document.
        pub partial: bool,
        /// The bytes after the length prefix.
        pub bytes: Vec<u8>,
    }

    /// The three real binlogs with JSON columns.
    pub const FILES: [&str; 3] = [
        "rust_mysql_common/json.binlog.000001",
        "rust_mysql_common/json-opaque.binlog",
        "mariadb-server-mysql-test_10.11.19/std_data/mdev35643_mysql_80_binlog.000001",
    ];

    /// Reads a file of the shared fixture corpus, or says why not and returns `None`.
    pub fn read(rel: &str) -> Option<Vec<u8>> {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "shared", "fixtures", rel]
            .iter()
            .collect();
        match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("skipping fixture {}: {e}", path.display());
                None
            }
        }
    }

    fn packed(b: &[u8], p: &mut usize) -> u64 {
        let first = b[*p];
        *p += 1;
        let n = match first {
            0..=0xfa => return u64::from(first),
            0xfc => 2,
            0xfd => 3,
            0xfe => 8,
            _ => panic!("bad packed integer"),
        };
        let v = b[*p..*p + n]
            .iter()
            .rev()
            .fold(0u64, |a, &x| (a << 8) | u64::from(x));
        *p += n;
        v
    }

    fn le(b: &[u8]) -> usize {
        b.iter()
            .rev()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x))
    }

    struct Table {
        types: Vec<u8>,
        meta: Vec<Vec<u8>>,
    }

    /// Every JSON column value of every rows event at the top level of `file` (only the
    /// column types these fixtures use: INT, VARCHAR, JSON).
    pub fn json_cells(file: &[u8]) -> Vec<JsonCell> {
        let mut cells = Vec::new();
        let mut tables = std::collections::HashMap::new();
        let mut crc = 0;
        let mut p = 4;
        while p + 19 <= file.len() {
            let typ = file[p + 4];
            let len = le(&file[p + 9..p + 13]);
            let event = &file[p..p + len];
            p += len;
            if typ == 15 {
                crc = if event[len - 5] == 1 { 4 } else { 0 };
                continue;
            }
            let body = &event[19..len - crc];
            match typ {
                19 => {
                    let id = le(&body[..6]);
                    let mut q = 8;
                    q += usize::from(body[q]) + 2;
                    q += usize::from(body[q]) + 2;
                    let n = packed(body, &mut q) as usize;
                    let types = body[q..q + n].to_vec();
                    q += n;
                    packed(body, &mut q);
                    let mut meta = Vec::new();
                    for &t in &types {
                        let m = match t {
                            3 => 0,
                            15 => 2,
                            245 => 1,
                            _ => panic!("column type {t} not handled by the test walker"),
                        };
                        meta.push(body[q..q + m].to_vec());
                        q += m;
                    }
                    tables.insert(id, Table { types, meta });
                }
                30..=32 | 39 => {
                    let t = &tables[&le(&body[..6])];
                    let mut q = 8;
                    q += le(&body[q..q + 2]);
                    let n = packed(body, &mut q) as usize;
                    let bl = n.div_ceil(8);
                    let before_cols = body[q..q + bl].to_vec();
                    q += bl;
                    let after_cols = if typ == 31 || typ == 39 {
                        q += bl;
                        body[q - bl..q].to_vec()
                    } else {
                        before_cols.clone()
                    };
                    let images: &[bool] = match typ {
                        30 => &[true],
                        32 => &[false],
                        _ => &[false, true],
                    };
                    while q < body.len() {
                        for &after in images {
                            let cols = if after { &after_cols } else { &before_cols };
                            let mut partial_bits = Vec::new();
                            if typ == 39 && after {
                                let options = packed(body, &mut q);
                                if options & 1 == 1 {
                                    let json_cols = t.types.iter().filter(|&&x| x == 245).count();
                                    partial_bits = body[q..q + json_cols.div_ceil(8)].to_vec();
                                    q += partial_bits.len();
                                }
                            }
                            let present: Vec<usize> = (0..n)
                                .filter(|&i| cols[i / 8] >> (i % 8) & 1 == 1)
                                .collect();
                            let nulls = body[q..q + present.len().div_ceil(8)].to_vec();
                            q += nulls.len();
                            let mut json_index = 0;
                            let mut k = 0;
                            for i in 0..n {
                                let is_json = t.types[i] == 245;
                                let partial = is_json
                                    && partial_bits
                                        .get(json_index / 8)
                                        .is_some_and(|b| b >> (json_index % 8) & 1 == 1);
                                json_index += usize::from(is_json);
                                if !present.contains(&i) {
                                    continue;
                                }
                                let null = nulls[k / 8] >> (k % 8) & 1 == 1;
                                k += 1;
                                if null {
                                    continue;
                                }
                                match t.types[i] {
                                    3 => q += 4,
                                    15 => {
                                        let w = if le(&t.meta[i]) < 256 { 1 } else { 2 };
                                        q += w + le(&body[q..q + w]);
                                    }
                                    _ => {
                                        let w = usize::from(t.meta[i][0]);
                                        let len = le(&body[q..q + w]);
                                        cells.push(JsonCell {
                                            partial,
                                            bytes: body[q + w..q + w + len].to_vec(),
                                        });
                                        q += w + len;
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        cells
    }

    /// mysql_common's reading of a binary JSON value, as serde_json.
    pub fn oracle(b: &[u8]) -> serde_json::Value {
        use mysql_common::binlog::jsonb::Value;
        use mysql_common::io::ParseBuf;
        let v: Value = ParseBuf(b).parse(()).unwrap();
        serde_json::Value::from(v.parse().unwrap())
    }

    /// Our value as mysql_common renders it: decimals and temporals as strings, other
    /// opaque values as unbroken base64 strings.
    pub fn to_oracle_serde(v: &Json) -> serde_json::Value {
        use serde_json::json;
        use serde_json::Value as V;
        match v {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Int16(x) => json!(x),
            Json::UInt16(x) => json!(x),
            Json::Int32(x) => json!(x),
            Json::UInt32(x) => json!(x),
            Json::Int64(x) => json!(x),
            Json::UInt64(x) => json!(x),
            Json::Double(x) => serde_json::Number::from_f64(*x).map_or(json!(0), V::Number),
            Json::String(s) => V::String(String::from_utf8_lossy(s).into_owned()),
            Json::Array(a) => V::Array(a.iter().map(to_oracle_serde).collect()),
            Json::Object(m) => V::Object(
                m.iter()
                    .map(|(k, x)| (String::from_utf8_lossy(k).into_owned(), to_oracle_serde(x)))
                    .collect(),
            ),
            Json::Opaque {
                field_type: ft,
                data,
            } => {
                let mut s = String::new();
                write_opaque(*ft, data, false, &mut s);
                V::String(s.replace('\n', ""))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{oracle, to_oracle_serde};
    use super::*;
    use serde_json::json;

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn text(v: &Json) -> String {
        let mut s = String::new();
        to_text(v, &mut s);
        s
    }

    fn enc(v: &Json) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out
    }

    fn parse(s: &str) -> Json<'static> {
        from_serde(&serde_json::from_str(s).unwrap())
    }

    /// Every distinct JSON value of json.binlog.000001 and json-opaque.binlog (MySQL 8.0.22
    /// and 9.0.1), with the text MySQL prints for it.
    const REAL_VALUES: &[(&str, &str)] = &[
        (
            "0003003300190003001c000400200004000518000c24000c2f00616765646174616e616d650a78787878787878787878034a6f65",
            r#"{"age": 24, "data": "xxxxxxxxxx", "name": "Joe"}"#,
        ),
        (
            "0003003300190003001c000400200004000520000c24000c2f00616765646174616e616d650a7979797979797979797903537565",
            r#"{"age": 32, "data": "yyyyyyyyyy", "name": "Sue"}"#,
        ),
        (
            "0003003400190003001c000400200004000528000c24000c2f00616765646174616e616d650a7a7a7a7a7a7a7a7a7a7a0450657465",
            r#"{"age": 40, "data": "zzzzzzzzzz", "name": "Pete"}"#,
        ),
        (
            "0003003300190003001c000400200004000519000c24000c2f00616765646174616e616d650a78787878787878787878034a6f65",
            r#"{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}"#,
        ),
        (
            "0003003300190003001c000400200004000521000c24000c2f00616765646174616e616d650a7979797979797979797903537565",
            r#"{"age": 33, "data": "yyyyyyyyyy", "name": "Sue"}"#,
        ),
        (
            "0003003400190003001c000400200004000529000c24000c2f00616765646174616e616d650a7a7a7a7a7a7a7a7a7a7a0450657465",
            r#"{"age": 41, "data": "zzzzzzzzzz", "name": "Pete"}"#,
        ),
        ("0001000f000b0001000f0c00610f0155", r#"{"a": "base64:type15:VQ=="}"#),
        ("00010016000b0001000f0c00620a080000000000e48b19", r#"{"b": "2012-03-18"}"#),
        (
            "00010016000b0001000f0c00630c08000000adb7e48b19",
            r#"{"c": "2012-03-18 11:30:45.000000"}"#,
        ),
        (
            "00010016000b0001000f0c00630b08f1fb09ee77050000",
            r#"{"c": "87:31:46.654321"}"#,
        ),
        ("00010014000b0001000f0c0064f6060603807b01c8", r#"{"d": 123.456}"#),
        ("00010015000b0001000f0c0065f6070b028000000900", r#"{"e": 9.00}"#),
        (
            "0001001c000b000100020c006504001000050000050100040100040200",
            r#"{"e": [0, 1, true, false]}"#,
        ),
        ("0001000c000b00010004000065", r#"{"e": null}"#),
    ];

    #[test]
    fn real_values_decode_print_and_reencode() {
        for (h, expected) in REAL_VALUES {
            let b = hex(h);
            let v = decode(&b).unwrap();
            assert_eq!(text(&v), *expected);
            assert_eq!(enc(&v), b, "{expected}");
        }
    }

    /// The same documents typed as text go through from_serde + encode to MySQL's bytes.
    #[test]
    fn from_serde_matches_mysql_bytes() {
        for (h, expected) in REAL_VALUES.iter().take(6) {
            // Keys in a different order and with extra spaces: MySQL sorts them.
            let v: serde_json::Value = serde_json::from_str(expected).unwrap();
            let mut reversed = serde_json::Map::new();
            for (k, x) in v.as_object().unwrap().iter().rev() {
                reversed.insert(k.clone(), x.clone());
            }
            assert_eq!(
                enc(&from_serde(&serde_json::Value::Object(reversed))),
                hex(h)
            );
        }
        let b = hex("0001001c000b000100020c006504001000050000050100040100040200");
        assert_eq!(enc(&parse(r#"{"e": [0, 1, true, false]}"#)), b);
        assert_eq!(
            enc(&parse(r#"{"e": null}"#)),
            hex("0001000c000b00010004000065")
        );
    }

    #[test]
    fn empty_value_is_null() {
        assert_eq!(decode(&[]).unwrap(), Json::Null);
        assert_eq!(enc(&Json::Null), [LITERAL, NULL_LITERAL]);
    }

    #[test]
    fn scalars_at_top_level() {
        for (v, bytes) in [
            (Json::Null, "0400"),
            (Json::Bool(true), "0401"),
            (Json::Bool(false), "0402"),
            (Json::Int16(-2), "05feff"),
            (Json::UInt16(65535), "06ffff"),
            (Json::Int32(-100000), "076079feff"),
            (Json::UInt32(4000000000), "0800286bee"),
            (Json::Int64(i64::MIN), "090000000000000080"),
            (Json::UInt64(u64::MAX), "0affffffffffffffff"),
            (Json::Double(1.5), "0b000000000000f83f"),
            (Json::String(Cow::Borrowed(b"ab")), "0c026162"),
            (
                Json::Opaque {
                    field_type: 252,
                    data: Cow::Borrowed(b"\x00\xff"),
                },
                "0ffc0200ff",
            ),
        ] {
            let b = hex(bytes);
            assert_eq!(enc(&v), b);
            assert_eq!(decode(&b).unwrap(), v);
        }
        // Trailing bytes after a top-level value are ignored, as by the server.
        assert_eq!(decode(&hex("0400ff")).unwrap(), Json::Null);
    }

    #[test]
    fn var_length_boundaries() {
        for n in [0usize, 1, 127, 128, 16383, 16384, 2_097_151, 2_097_152] {
            let s = vec![b'a'; n];
            let b = enc(&Json::String(Cow::Borrowed(&s)));
            let len_bytes = b.len() - 1 - n;
            let expect = match n {
                0..=127 => 1,
                128..=16383 => 2,
                16384..=2_097_151 => 3,
                _ => 4,
            };
            assert_eq!(len_bytes, expect, "{n}");
            assert_eq!(decode(&b).unwrap(), Json::String(Cow::Borrowed(&s)));
        }
        // Five bytes for 2^32 - 1 are allowed, more are not, nor values above 32 bits.
        assert!(decode(&hex("0cffffffff0f")).is_err()); // length fine, bytes missing
        let e = decode(&hex("0cffffffff1f")).unwrap_err();
        assert_eq!(e.offset(), 1);
        let e = decode(&hex("0c8080808080")).unwrap_err();
        assert_eq!(e.offset(), 1);
    }

    #[test]
    fn integers_from_text_take_mysql_widths() {
        let cases: &[(&str, Json)] = &[
            ("0", Json::Int16(0)),
            ("32767", Json::Int16(32767)),
            ("32768", Json::Int32(32768)),
            ("-32768", Json::Int16(-32768)),
            ("-32769", Json::Int32(-32769)),
            ("2147483647", Json::Int32(2147483647)),
            ("2147483648", Json::Int64(2147483648)),
            ("-2147483648", Json::Int32(-2147483648)),
            ("-2147483649", Json::Int64(-2147483649)),
            ("4294967295", Json::Int64(4294967295)),
            ("4294967296", Json::UInt64(4294967296)),
            ("9223372036854775807", Json::UInt64(9223372036854775807)),
            ("9223372036854775808", Json::UInt64(9223372036854775808)),
            ("18446744073709551615", Json::UInt64(u64::MAX)),
            ("-9223372036854775808", Json::Int64(i64::MIN)),
            ("18446744073709551616", Json::Double(18446744073709551616.0)),
            ("1.0", Json::Double(1.0)),
            ("1e2", Json::Double(100.0)),
        ];
        for (t, v) in cases {
            assert_eq!(&parse(t), v, "{t}");
        }
    }

    #[test]
    fn inlining_small_and_large() {
        // Small array: int16 and literals inlined, int32 stored out of line.
        let v = parse("[-1, 70000, null]");
        assert_eq!(enc(&v), hex("02 0300 1100 05ffff 070d00 040000 70110100"));
        // A large array (forced by a long string) inlines int32 too, sign-extending int16.
        let big = "x".repeat(70000);
        let v = Json::Array(vec![
            Json::Int16(-1),
            Json::Int32(70000),
            Json::UInt16(7),
            Json::Bool(false),
            Json::String(Cow::Owned(big.clone().into_bytes())),
        ]);
        let b = enc(&v);
        assert_eq!(b[0], LARGE_ARRAY);
        let header = hex("05000000");
        assert_eq!(&b[1..5], &header[..]);
        assert_eq!(
            &b[9..9 + 25],
            &hex("05ffffffff 0770110100 0607000000 0402000000 0c21000000")[..]
        );
        assert_eq!(decode(&b).unwrap(), v);
    }

    #[test]
    fn small_and_large_format_choice() {
        // An array whose small form is exactly 65535 bytes stays small; one byte more
        // switches to large.
        for (extra, large) in [(0usize, false), (1, true)] {
            // 4 (header) + 3 (entry) + 3 (string length) + n = 65535
            let n = 65535 - 10 + extra;
            let v = Json::Array(vec![Json::String(Cow::Owned(vec![b'a'; n]))]);
            let b = enc(&v);
            assert_eq!(b[0], if large { LARGE_ARRAY } else { SMALL_ARRAY }, "{n}");
            assert_eq!(decode(&b).unwrap(), v);
        }
        // A large parent whose children each choose: a small object stays small inside.
        let doc = json!({
            "big": "y".repeat(70000),
            "small": {"k": [1, 2, 3]},
        });
        let v = from_serde(&doc);
        let b = enc(&v);
        assert_eq!(b[0], LARGE_OBJECT);
        let Json::Object(m) = decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(m[1].0.as_ref(), b"small");
        // The small child is stored as a small object (type byte in its value entry).
        let entry = 1 + 8 + 2 * 6 + 5;
        assert_eq!(b[entry], SMALL_OBJECT);
        // A small object nested in a big one whose own size exceeds 64 KiB is large too.
        let doc = json!({"outer": {"inner": "z".repeat(70000)}, "n": 1});
        let b = enc(&from_serde(&doc));
        assert_eq!(b[0], LARGE_OBJECT);
        let entry_of_outer = 1 + 8 + 2 * 6 + 5;
        assert_eq!(b[entry_of_outer], LARGE_OBJECT);
    }

    #[test]
    fn round_trips_of_hand_written_documents() {
        let big_array: Vec<serde_json::Value> = (0..20000).map(|i| json!(i * 1000)).collect();
        let docs = [
            json!({}),
            json!([]),
            json!({"a": {"b": {"c": [1, [2, [3, {"d": null}]]]}}}),
            json!({"ünïcödé": "日本語 😀", "": "empty key", "esc": "q\"b\\s/\u{1}\t\n\r\u{8}\u{c}\u{1f}\u{7f}"}),
            json!([
                0,
                -1,
                32767,
                32768,
                -32768,
                -32769,
                2147483647,
                2147483648u64,
                -2147483648i64,
                -2147483649i64,
                4294967295u64,
                4294967296u64,
                9223372036854775807u64,
                9223372036854775808u64,
                18446744073709551615u64,
                -9223372036854775808i64,
                0.5,
                -0.25,
                1e300,
                5e-324,
                1.7976931348623157e308
            ]),
            json!({"big": big_array, "tail": "end"}),
            json!(["x".repeat(100_000), {"k": "v"}, [true, false, null]]),
            json!({"dup": 1, "a": 2, "bb": 3, "b": 4, "aa": 5}),
        ];
        for doc in &docs {
            let v = from_serde(doc);
            let b = enc(&v);
            let back = decode(&b).unwrap();
            assert_eq!(back, v);
            assert_eq!(enc(&back), b);
            // The printed text is valid JSON with the same content.
            let printed: serde_json::Value = serde_json::from_str(&text(&back)).unwrap();
            assert_eq!(&printed, doc);
            // And mysql_common reads the bytes the same way.
            assert_eq!(oracle(&b), to_oracle_serde(&back));
        }
    }

    #[test]
    fn keys_sorted_like_mysql() {
        let v = parse(r#"{"bb": 1, "a": 2, "ab": 3, "b": 4, "": 5, "ä": 6}"#);
        let Json::Object(m) = &v else { panic!() };
        let keys: Vec<&[u8]> = m.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, [&b""[..], b"a", b"b", b"ab", b"bb", "ä".as_bytes()]);
        assert_eq!(
            text(&v),
            r#"{"": 5, "a": 2, "b": 4, "ab": 3, "bb": 1, "ä": 6}"#
        );
        // Duplicate keys: the last one wins.
        assert_eq!(text(&parse(r#"{"a": 1, "a": [2]}"#)), r#"{"a": [2]}"#);
    }

    #[test]
    fn string_escaping() {
        let v = Json::String(Cow::Borrowed(
            b"a\"b\\c/\x08\x09\x0a\x0c\x0d\x00\x1f\x7f\xc3\xa9",
        ));
        assert_eq!(
            text(&v),
            "\"a\\\"b\\\\c/\\b\\t\\n\\f\\r\\u0000\\u001f\u{7f}é\""
        );
        let mut s = String::new();
        to_text_unquoted(&v, &mut s);
        assert_eq!(s, "a\"b\\c/\x08\t\n\x0c\r\0\x1f\u{7f}é");
        // Invalid UTF-8 is replaced, never panics.
        assert_eq!(
            text(&Json::String(Cow::Borrowed(b"\xff\""))),
            "\"\u{fffd}\\\"\""
        );
        // Keys are escaped the same way.
        assert_eq!(text(&parse(r#"{"k\"\n": "v"}"#)), r#"{"k\"\n": "v"}"#);
    }

    #[test]
    fn doubles_print_like_my_gcvt() {
        for (d, s) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-0.25, "-0.25"),
            (3.25, "3.25"),
            (std::f64::consts::E, "2.718281828459045"),
            (100.0, "100.0"),
            (1e14, "100000000000000.0"),
            (123456789012345.0, "123456789012345.0"),
            (1e15, "1e15"),
            (1.5e15, "1.5e15"),
            (1234567890123456.7, "1234567890123456.8"),
            (12345678901234567.0, "1.2345678901234568e16"),
            (1e16, "1e16"),
            (1e100, "1e100"),
            (1.7976931348623157e308, "1.7976931348623157e308"),
            (1e-5, "0.00001"),
            (1.5e-7, "0.00000015"),
            (1e-15, "0.000000000000001"),
            (1.25e-15, "0.00000000000000125"),
            (1e-16, "1e-16"),
            (-1e-16, "-1e-16"),
            (2.5e-100, "2.5e-100"),
            (5e-324, "5e-324"),
            (0.30000000000000004, "0.30000000000000004"),
            (f64::NAN, "0.0"),
            (f64::INFINITY, "0.0"),
        ] {
            let mut out = String::new();
            write_double(d, &mut out);
            assert_eq!(out, s, "{d:e}");
            if d.is_finite() {
                assert_eq!(out.parse::<f64>().unwrap(), d);
            }
        }
    }

    #[test]
    fn opaque_values_print_like_mysql() {
        let op = |ft: u8, data: &'static [u8]| Json::Opaque {
            field_type: ft,
            data: Cow::Borrowed(data),
        };
        // Negative TIME: -838:59:59.
        let packed: i64 = -((((838i64) << 12) | (59 << 6) | 59) << 24);
        let t = Json::Opaque {
            field_type: field_type::TIME,
            data: Cow::Owned(packed.to_le_bytes().to_vec()),
        };
        assert_eq!(text(&t), "\"-838:59:59.000000\"");
        let mut s = String::new();
        to_text_unquoted(&t, &mut s);
        assert_eq!(s, "-838:59:59.000000");
        // TIMESTAMP prints like DATETIME; the zero datetime.
        assert_eq!(
            text(&op(field_type::TIMESTAMP, hex_static("000000adb7e48b19"))),
            "\"2012-03-18 11:30:45.000000\""
        );
        assert_eq!(
            text(&op(field_type::DATETIME, &[0; 8])),
            "\"0000-00-00 00:00:00.000000\""
        );
        // DECIMAL: a number; a malformed one falls back to base64.
        assert_eq!(
            text(&op(field_type::NEWDECIMAL, &[4, 2, 0x7e, 0xf3])),
            "-1.12"
        );
        assert_eq!(
            text(&op(field_type::NEWDECIMAL, &[4, 2, 0x80])),
            "\"base64:type246:BAKA\""
        );
        // A short temporal value falls back too.
        assert_eq!(
            text(&op(field_type::DATE, b"abc")),
            "\"base64:type10:YWJj\""
        );
        // VAR_STRING prints as a string.
        assert_eq!(text(&op(field_type::VAR_STRING, b"hi\n")), "\"hi\\n\"");
        // Long base64 is split into lines of 76, escaped as \n inside the JSON string.
        let data: Vec<u8> = (0..=255).collect();
        let t = text(&Json::Opaque {
            field_type: 252,
            data: Cow::Owned(data.clone()),
        });
        let b64 = base64(&data);
        assert!(b64.split('\n').all(|line| line.len() <= 76));
        assert_eq!(b64.split('\n').next().unwrap().len(), 76);
        assert_eq!(
            t,
            format!("\"base64:type252:{}\"", b64.replace('\n', "\\n"))
        );
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0u8; 57]).len(), 76);
        assert_eq!(base64(&[0u8; 58]).len(), 76 + 1 + 4);
    }

    fn hex_static(s: &str) -> &'static [u8] {
        Box::leak(hex(s).into_boxed_slice())
    }

    #[test]
    fn depth_limit() {
        let nest = |n: usize| {
            let mut v = Json::Null;
            for _ in 0..n {
                v = Json::Array(vec![v]);
            }
            v
        };
        let ok = enc(&nest(MAX_DEPTH));
        assert!(decode(&ok).is_ok());
        let mut out = vec![1, 2, 3];
        assert!(encode(&nest(MAX_DEPTH + 1), &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
        // Hand-made bytes nested 9000 deep (each level: count 1, size, one entry
        // pointing right after itself): an error, not a stack overflow.
        let mut inner = vec![0u8, 0, 4, 0];
        for _ in 0..9000 {
            let size = (7 + inner.len()) as u16;
            let mut level = vec![1, 0];
            level.extend_from_slice(&size.to_le_bytes());
            level.extend_from_slice(&[SMALL_ARRAY, 7, 0]);
            level.extend_from_slice(&inner);
            inner = level;
        }
        let mut b = vec![SMALL_ARRAY];
        b.extend_from_slice(&inner);
        assert!(decode(&b).is_err());
    }

    #[test]
    fn shared_offsets_cannot_blow_up() {
        // 60 levels of arrays whose two entries both point at the same child: 2^60
        // values if expanded. Built from the inside out.
        let mut inner = vec![0u8, 0, 4, 0];
        for _ in 0..60 {
            let size = (4 + 6 + inner.len()) as u16;
            let mut level = vec![2, 0];
            level.extend_from_slice(&size.to_le_bytes());
            level.extend_from_slice(&[SMALL_ARRAY, 10, 0, SMALL_ARRAY, 10, 0]);
            level.extend_from_slice(&inner);
            inner = level;
        }
        let mut b = vec![SMALL_ARRAY];
        b.extend_from_slice(&inner);
        let e = decode(&b).unwrap_err();
        assert!(e.to_string().contains("more values than bytes"), "{e}");
        // One wide container of inlined values shared by many entries of its parent.
        let n = 8000usize;
        let child_size = 4 + 3 * n;
        let parent_header = 4 + 3 * n;
        let total = parent_header + child_size;
        assert!(total <= 0xffff);
        let mut b = vec![SMALL_ARRAY];
        b.extend_from_slice(&(n as u16).to_le_bytes());
        b.extend_from_slice(&(total as u16).to_le_bytes());
        for _ in 0..n {
            b.push(SMALL_ARRAY);
            b.extend_from_slice(&(parent_header as u16).to_le_bytes());
        }
        b.extend_from_slice(&(n as u16).to_le_bytes());
        b.extend_from_slice(&(child_size as u16).to_le_bytes());
        for _ in 0..n {
            b.extend_from_slice(&[LITERAL, 0, 0]);
        }
        let e = decode(&b).unwrap_err();
        assert!(e.to_string().contains("more values than bytes"), "{e}");
        // A few levels of sharing still decode (the budget is the input length).
        let shared = hex("02 0200 1100 020a00 020a00 0100 0700 040000");
        let v = decode(&shared).unwrap();
        assert_eq!(text(&v), "[[null], [null]]");
    }

    #[test]
    fn malformed_inputs_are_errors() {
        for (h, offset) in [
            ("0d", 0),                            // unknown type
            ("0403", 1),                          // unknown literal
            ("05ff", 1),                          // short int16
            ("02", 1),                            // missing count
            ("020100", 3),                        // missing size
            ("0201000900", 3),                    // size beyond data
            ("020100040004", 1),                  // header (7) larger than size (4)
            ("0201000800 0d0700 00", 5),          // unknown type in an entry
            ("0201000700 0c0900", 6),             // value offset past the end
            ("0201000700 0c0200", 6),             // value offset inside the header
            ("0001000c00 ff000100 040000 61", 5), // key offset past the end
        ] {
            let e = decode(&hex(h)).unwrap_err();
            assert_eq!(e.offset(), offset, "{h}: {e}");
        }
    }

    /// Random bytes and mutations of real values: never a panic, and anything that
    /// decodes also prints and re-encodes.
    #[test]
    fn fuzz_does_not_panic() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut samples: Vec<Vec<u8>> = REAL_VALUES.iter().map(|(h, _)| hex(h)).collect();
        samples.push(enc(&parse(
            r#"{"a": [1, 2.5, "x", {"b": null}], "c": 70000}"#,
        )));
        samples.push(enc(&Json::Array(vec![
            Json::Int32(5),
            Json::String(Cow::Owned(vec![b'q'; 70000])),
        ])));
        for _ in 0..200_000 {
            let mut b = samples[(next() % samples.len() as u64) as usize].clone();
            match next() % 4 {
                0 => {
                    let i = (next() % b.len() as u64) as usize;
                    b[i] = next() as u8;
                }
                1 => {
                    let n = (next() % b.len() as u64) as usize;
                    b.truncate(n);
                }
                2 => {
                    let i = (next() % b.len() as u64) as usize;
                    b[i] ^= 1 << (next() % 8);
                }
                _ => {
                    b = (0..next() % 40).map(|_| next() as u8).collect();
                }
            }
            if let Ok(v) = decode(&b) {
                let _ = text(&v);
                let mut out = Vec::new();
                let _ = encode(&v, &mut out);
            }
        }
    }

    /// Every JSON document in the real binlogs: decodes like mysql_common reads it,
    /// re-encodes byte for byte, and prints as valid JSON.
    #[test]
    fn real_binlogs() {
        let mut seen = 0;
        for file in fixture::FILES {
            let Some(bytes) = fixture::read(file) else {
                continue;
            };
            for cell in fixture::json_cells(&bytes) {
                if cell.partial {
                    continue;
                }
                seen += 1;
                let v = decode(&cell.bytes).unwrap();
                assert_eq!(to_oracle_serde(&v), oracle(&cell.bytes), "{file}");
                assert_eq!(enc(&v), cell.bytes, "{file}");
                let printed = text(&v);
                serde_json::from_str::<serde_json::Value>(&printed).unwrap();
                // Whatever the server printed can be typed back in and gives its bytes
                // (for documents without opaque values, which JSON text cannot express).
                if !printed.contains("base64") && !has_opaque(&v) {
                    assert_eq!(enc(&parse(&printed)), cell.bytes, "{printed}");
                }
            }
        }
        eprintln!("checked {seen} JSON documents from real binlogs");
        let have_corpus = fixture::FILES.iter().any(|f| fixture::read(f).is_some());
        assert!(
            !have_corpus || seen >= 20,
            "only {seen} JSON documents found"
        );
    }

    fn has_opaque(v: &Json) -> bool {
        match v {
            Json::Opaque { .. } => true,
            Json::Array(a) => a.iter().any(has_opaque),
            Json::Object(m) => m.iter().any(|(_, x)| has_opaque(x)),
            _ => false,
        }
    }
}
