//! [`Json`] to binary JSON, laid out as MySQL lays it out; and JSON text (parsed by
//! serde_json) to [`Json`], with the integer widths and key order MySQL gives it.

use std::borrow::Cow;

use super::*;
use crate::error::{Error, Result};

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
