//! The two compressions binlogs use: MariaDB's zlib blocks (compressed QUERY and rows
//! events, `log_bin_compress`) and MySQL's zstd transaction payloads.

use std::io::Read;

use crate::error::{Error, ErrorKind, Result};

/// Largest uncompressed size accepted, a guard against a corrupt length field asking for
/// an absurd allocation (MySQL and MariaDB cap events at 1 GiB).
pub const MAX_UNCOMPRESSED: u64 = 1 << 30;

/// Decompresses a MariaDB compressed block: one byte `0x80 | n` (n = 1..=4), then the
/// uncompressed length as an n-byte big-endian number, then a zlib stream. `offset` is
/// where the block lives, for errors.
pub fn mariadb_uncompress(block: &[u8], offset: u64) -> Result<Vec<u8>> {
    let err = |m: String| Error::new(ErrorKind::Decompress(m), offset);
    let (&head, rest) = block
        .split_first()
        .ok_or_else(|| err("empty compressed block".into()))?;
    let lenlen = usize::from(head & 0x07);
    if head & 0x80 == 0 || !(1..=4).contains(&lenlen) {
        return Err(err(format!("bad compressed-block header byte {head:#04x}")));
    }
    let len_bytes = rest
        .get(..lenlen)
        .ok_or_else(|| err("compressed block shorter than its length field".into()))?;
    let len = crate::bytes::be_uint(len_bytes);
    if len > MAX_UNCOMPRESSED {
        return Err(err(format!("uncompressed length {len} is too large")));
    }
    // The length field is only a hint until zlib agrees: reserve what the block can
    // plausibly hold, not what it claims.
    let mut out = Vec::with_capacity(len.min(block.len() as u64 * 16) as usize);
    let mut z = flate2::read::ZlibDecoder::new(&rest[lenlen..]).take(len + 1);
    z.read_to_end(&mut out).map_err(|e| err(e.to_string()))?;
    if out.len() as u64 != len {
        return Err(err(format!(
            "block says {len} bytes uncompressed, zlib gave {}",
            out.len()
        )));
    }
    Ok(out)
}

/// Compresses `data` into a MariaDB compressed block (the inverse of
/// [`mariadb_uncompress`]).
pub fn mariadb_compress(data: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    let len = data.len() as u64;
    let lenlen = match len {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    out.push(0x80 | lenlen as u8);
    crate::bytes::put_uint_be(out, len, lenlen);
    let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    let _ = z.finish();
}

/// Decompresses a zstd frame that should hold `expected` bytes (when known).
pub fn zstd_uncompress(data: &[u8], expected: Option<u64>, offset: u64) -> Result<Vec<u8>> {
    let err = |m: String| Error::new(ErrorKind::Decompress(m), offset);
    let cap = expected.unwrap_or(data.len() as u64 * 4);
    if cap > MAX_UNCOMPRESSED {
        return Err(err(format!("uncompressed size {cap} is too large")));
    }
    let mut out = Vec::with_capacity(cap.min(data.len() as u64 * 32) as usize);
    let dec = zstd::stream::read::Decoder::new(data).map_err(|e| err(e.to_string()))?;
    dec.take(MAX_UNCOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| err(e.to_string()))?;
    if out.len() as u64 > MAX_UNCOMPRESSED {
        return Err(err("payload decompresses past 1 GiB".into()));
    }
    if let Some(n) = expected {
        if out.len() as u64 != n {
            return Err(err(format!(
                "payload says {n} bytes uncompressed, zstd gave {}",
                out.len()
            )));
        }
    }
    Ok(out)
}

/// Compresses `data` as one zstd frame (level 3, MySQL's default).
pub fn zstd_compress(data: &[u8]) -> Result<Vec<u8>> {
    zstd::bulk::compress(data, 3).map_err(|e| Error::new(ErrorKind::Decompress(e.to_string()), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_block_round_trip() {
        for n in [0usize, 1, 255, 256, 70_000] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let mut block = Vec::new();
            mariadb_compress(&data, &mut block);
            assert_eq!(mariadb_uncompress(&block, 0).unwrap(), data);
        }
        assert!(mariadb_uncompress(&[0x81], 5).is_err());
        assert!(mariadb_uncompress(&[0x01, 0], 5).is_err());
        assert!(mariadb_uncompress(&[0x81, 5, 1, 2, 3], 5).is_err());
    }

    #[test]
    fn zstd_round_trip_and_size_check() {
        let data = vec![7u8; 10_000];
        let z = zstd_compress(&data).unwrap();
        assert_eq!(zstd_uncompress(&z, Some(10_000), 0).unwrap(), data);
        assert!(zstd_uncompress(&z, Some(9_999), 0).is_err());
        assert!(zstd_uncompress(b"not zstd", None, 0).is_err());
    }
}
