//! The variable-length integers of MySQL's serialization library, as tagged GTID events
//! store their fields.

use crate::bytes::Cursor;
use crate::error::Result;

/// Reads a variable-length unsigned integer of MySQL's serialization library: the number
/// of trailing one bits of the first byte, plus one, is the byte count; the value is the
/// little-endian number shifted right by that count. A first byte 0xff means eight more
/// bytes hold the value.
pub fn varlen_uint(c: &mut Cursor) -> Result<u64> {
    let first = *c
        .peek_rest()
        .first()
        .ok_or_else(|| c.malformed("missing varlen integer"))?;
    let n = first.trailing_ones() as usize;
    if n == 8 {
        c.u8()?;
        return c.u64();
    }
    let bytes = n + 1;
    let raw = c.uint(bytes)?;
    Ok(raw >> bytes)
}

pub(super) fn varlen_u8(c: &mut Cursor) -> Result<u8> {
    let at = c.offset();
    let v = varlen_uint(c)?;
    u8::try_from(v).map_err(|_| crate::error::Error::malformed(at, format!("byte value {v}")))
}

pub(super) fn varlen_u32(c: &mut Cursor) -> Result<u32> {
    let at = c.offset();
    let v = varlen_uint(c)?;
    u32::try_from(v)
        .map_err(|_| crate::error::Error::malformed(at, format!("value {v} over 32 bits")))
}

/// Reads a signed varlen integer (zig-zag: the low bit is the sign) that must not be negative.
pub(super) fn varlen_nonneg(c: &mut Cursor) -> Result<u64> {
    let at = c.offset();
    let v = varlen_uint(c)?;
    if v & 1 != 0 {
        return Err(crate::error::Error::malformed(at, "negative value"));
    }
    Ok(v >> 1)
}

pub(super) fn zigzag(v: u64) -> u64 {
    v << 1
}

/// Bytes [`put_varlen_uint`] writes for `v`.
pub fn varlen_uint_size(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    if bits > 56 {
        9
    } else {
        bits.max(1).div_ceil(7)
    }
}

/// Appends a variable-length unsigned integer (see [`varlen_uint`]).
pub fn put_varlen_uint(out: &mut Vec<u8>, v: u64) {
    let n = varlen_uint_size(v);
    if n == 9 {
        out.push(0xff);
        out.extend_from_slice(&v.to_le_bytes());
        return;
    }
    let encoded = (v << n) | ((1u64 << (n - 1)) - 1);
    out.extend_from_slice(&encoded.to_le_bytes()[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varlen_round_trip() {
        for v in [
            0u64,
            1,
            127,
            128,
            16383,
            16384,
            1 << 40,
            (1 << 56) - 1,
            1 << 56,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varlen_uint(&mut out, v);
            assert_eq!(out.len(), varlen_uint_size(v), "{v}");
            let mut c = Cursor::new(&out, 0);
            assert_eq!(varlen_uint(&mut c).unwrap(), v);
            assert!(c.is_empty());
        }
    }
}
