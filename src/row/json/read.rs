//! Binary JSON to [`Json`]: every offset and size checked, depth and value count bounded.

use std::borrow::Cow;

use super::*;
use crate::bytes::Cursor;
use crate::error::{Error, Result};

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
