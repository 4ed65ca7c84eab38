//! A panic-free cursor over untrusted bytes, and the matching writers.
//!
//! Every read checks its bounds and returns an [`Error`] carrying the absolute offset
//! (`base + position`) of the field that did not fit. Integers are little-endian unless the
//! method name says `_be`. MySQL "packed" (length-encoded) integers live in [`Cursor::packed`]
//! and [`put_packed`], side by side.

use crate::error::{Error, ErrorKind, Result};

/// A read position over a byte slice that lives at `base` in the file.
#[derive(Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl std::fmt::Debug for Cursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("len", &self.data.len())
            .field("pos", &self.pos)
            .field("base", &self.base)
            .finish()
    }
}

macro_rules! le_int {
    ($name:ident, $ty:ty, $n:expr) => {
        #[doc = concat!("Reads a little-endian `", stringify!($ty), "`.")]
        #[inline]
        pub fn $name(&mut self) -> Result<$ty> {
            let b = self.array::<$n>(stringify!($ty))?;
            Ok(<$ty>::from_le_bytes(b))
        }
    };
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`, which begins at absolute offset `base`.
    #[inline]
    pub fn new(data: &'a [u8], base: u64) -> Cursor<'a> {
        Cursor { data, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Position relative to the start of the slice.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Whether nothing is left.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.offset())
    }

    /// A [`ErrorKind::Malformed`] error at the current offset.
    pub fn malformed(&self, msg: impl Into<String>) -> Error {
        Error::malformed(self.offset(), msg)
    }

    fn eof(&self, what: &'static str, needed: usize) -> Error {
        self.error(ErrorKind::UnexpectedEof {
            what,
            needed: needed as u64,
            available: self.remaining() as u64,
        })
    }

    /// Takes the next `n` bytes, borrowed from the input.
    #[inline]
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        match self.data.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.eof(what, n)),
        }
    }

    /// Skips `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<()> {
        self.take(n, what).map(|_| ())
    }

    /// Takes everything that is left.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.data.get(self.pos..).unwrap_or(&[]);
        self.pos = self.data.len();
        s
    }

    /// The bytes left, without consuming them.
    #[inline]
    pub fn peek_rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Reads a fixed-size array.
    #[inline]
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.eof("u8", 1)),
        }
    }

    le_int!(u16, u16, 2);
    le_int!(u32, u32, 4);
    le_int!(u64, u64, 8);
    le_int!(i8, i8, 1);
    le_int!(i16, i16, 2);
    le_int!(i32, i32, 4);
    le_int!(i64, i64, 8);

    /// Reads a little-endian unsigned integer of `n` bytes (0 ≤ n ≤ 8).
    #[inline]
    pub fn uint(&mut self, n: usize) -> Result<u64> {
        if n > 8 {
            return Err(self.malformed(format!("integer of {n} bytes")));
        }
        let s = self.take(n, "integer")?;
        Ok(le_uint(s))
    }

    /// Reads a big-endian unsigned integer of `n` bytes (0 ≤ n ≤ 8).
    #[inline]
    pub fn uint_be(&mut self, n: usize) -> Result<u64> {
        if n > 8 {
            return Err(self.malformed(format!("integer of {n} bytes")));
        }
        let s = self.take(n, "integer")?;
        Ok(be_uint(s))
    }

    /// Reads a 3-byte little-endian integer.
    #[inline]
    pub fn u24(&mut self) -> Result<u32> {
        Ok(self.uint(3)? as u32)
    }

    /// Reads a 6-byte little-endian integer.
    #[inline]
    pub fn u48(&mut self) -> Result<u64> {
        self.uint(6)
    }

    /// Reads a MySQL packed (length-encoded) integer: one byte below 0xfb, or a marker
    /// 0xfc / 0xfd / 0xfe followed by 2, 3 or 8 bytes. Servers always use the shortest
    /// form; a longer one is refused, so that everything read writes back the same.
    pub fn packed(&mut self) -> Result<u64> {
        let at = self.offset();
        let v = match self.u8()? {
            b @ 0..=0xfa => return Ok(u64::from(b)),
            0xfc => self.uint(2)?,
            0xfd => self.uint(3)?,
            0xfe => self.uint(8)?,
            b => {
                return Err(Error::malformed(
                    at,
                    format!("packed integer starts with {b:#04x}"),
                ))
            }
        };
        if packed_size(v) != (self.offset() - at) as usize {
            return Err(Error::malformed(
                at,
                format!("packed integer {v} in a longer form than needed"),
            ));
        }
        Ok(v)
    }

    /// Reads a packed integer and checks that it fits in `usize` and in the data left.
    pub fn packed_len(&mut self) -> Result<usize> {
        let v = self.packed()?;
        if v > self.remaining() as u64 {
            return Err(self.error(ErrorKind::UnexpectedEof {
                what: "length-prefixed field",
                needed: v,
                available: self.remaining() as u64,
            }));
        }
        Ok(v as usize)
    }

    /// Reads a packed length followed by that many bytes.
    pub fn packed_bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.packed_len()?;
        self.take(n, what)
    }

    /// Reads a one-byte length followed by that many bytes.
    pub fn u8_bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n, what)
    }

    /// Reads bytes up to a NUL and consumes the NUL; the NUL is not returned.
    pub fn cstr(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let rest = self.peek_rest();
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                self.pos += n + 1;
                Ok(&rest[..n])
            }
            None => Err(self.eof(what, rest.len() + 1)),
        }
    }

    /// A sub-cursor over the next `n` bytes (consumed from this one).
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Cursor<'a>> {
        let base = self.offset();
        let s = self.take(n, what)?;
        Ok(Cursor::new(s, base))
    }
}

/// Little-endian value of up to 8 bytes.
#[inline]
pub fn le_uint(s: &[u8]) -> u64 {
    s.iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Big-endian value of up to 8 bytes.
#[inline]
pub fn be_uint(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Appends the low `n` bytes of `v`, little-endian (past 8 bytes, zeros). The caller
/// knows that `v` fits; [`put_uint_checked`] refuses a value that does not.
#[inline]
pub fn put_uint(out: &mut Vec<u8>, v: u64, n: usize) {
    out.extend_from_slice(&v.to_le_bytes()[..n.min(8)]);
    out.resize(out.len() + n.saturating_sub(8), 0);
}

/// Appends the low `n` bytes of `v`, big-endian (past 8 bytes, zeros first).
#[inline]
pub fn put_uint_be(out: &mut Vec<u8>, v: u64, n: usize) {
    out.resize(out.len() + n.saturating_sub(8), 0);
    out.extend_from_slice(&v.to_be_bytes()[8 - n.min(8)..]);
}

/// The largest value an `n`-byte field holds.
pub fn field_max(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// Appends `v` as an `n`-byte little-endian field, or refuses it ([`ErrorKind::TooLong`],
/// naming `what`) when it does not fit: an encoder never truncates.
#[inline]
pub fn put_uint_checked(out: &mut Vec<u8>, v: u64, n: usize, what: &'static str) -> Result<()> {
    let max = field_max(n);
    if v > max {
        return Err(Error::too_long(what, v, max));
    }
    put_uint(out, v, n);
    Ok(())
}

/// Appends the length of `b` as an `n`-byte little-endian field, then `b`; refuses bytes
/// longer than the field counts.
pub fn put_len_bytes(out: &mut Vec<u8>, b: &[u8], n: usize, what: &'static str) -> Result<()> {
    put_uint_checked(out, b.len() as u64, n, what)?;
    out.extend_from_slice(b);
    Ok(())
}

/// Appends a MySQL packed (length-encoded) integer, in its shortest form.
pub fn put_packed(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=0xfa => out.push(v as u8),
        0xfb..=0xffff => {
            out.push(0xfc);
            put_uint(out, v, 2);
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            put_uint(out, v, 3);
        }
        _ => {
            out.push(0xfe);
            put_uint(out, v, 8);
        }
    }
}

/// Appends a packed length and then the bytes.
pub fn put_packed_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_packed(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// How many bytes [`put_packed`] writes for `v`.
pub fn packed_size(v: u64) -> usize {
    match v {
        0..=0xfa => 1,
        0xfb..=0xffff => 3,
        0x1_0000..=0xff_ffff => 4,
        _ => 9,
    }
}

/// Appends `bytes` (lossily as UTF-8) with every byte for which `escape` answers replaced
/// by that answer; runs of other bytes are copied whole. The JSON and SQL renderers share
/// it, each with its own table.
pub fn push_escaped(
    out: &mut String,
    bytes: &[u8],
    escape: impl Fn(u8) -> Option<std::borrow::Cow<'static, str>>,
) {
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(e) = escape(b) {
            push_lossy(out, &bytes[run_start..i]);
            out.push_str(&e);
            run_start = i + 1;
        }
    }
    push_lossy(out, &bytes[run_start..]);
}

/// The index of the first byte of `s` for which `special` holds, looking at sixteen
/// bytes at a time (a test the compiler turns into vector compares). The last bytes are
/// looked at the same way, padded with `a`, for which `special` must not hold.
#[inline(always)]
fn find_byte(s: &[u8], special: impl Fn(u8) -> bool) -> Option<usize> {
    const LANES: usize = 16;
    let any = |c: &[u8; LANES]| c.iter().fold(0u8, |hit, &b| hit | u8::from(special(b))) != 0;
    let mut chunks = s.chunks_exact(LANES);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let mut c = [0u8; LANES];
        c.copy_from_slice(chunk);
        if any(&c) {
            return chunk.iter().position(|&b| special(b)).map(|p| at + p);
        }
        at += LANES;
    }
    let rest = chunks.remainder();
    let mut c = [b'a'; LANES];
    c[..rest.len()].copy_from_slice(rest);
    if !any(&c) {
        return None;
    }
    rest.iter().position(|&b| special(b)).map(|p| at + p)
}

/// The index of the first byte of `s` that a JSON string must escape (below 0x20, `"`
/// or `\\`).
pub fn find_json_escape(s: &[u8]) -> Option<usize> {
    // `|`, not `||`: no branch per byte, so the chunk test is vectorized.
    find_byte(s, |b| (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// The index of the first byte of `s` that is not plain ASCII a JSON string holds as
/// is: below 0x20, `"`, `\\`, or 0x80 and above.
pub fn find_json_special(s: &[u8]) -> Option<usize> {
    // One unsigned compare for both ends: below 0x20 wraps round to 0xe0 and up.
    find_byte(s, |b| {
        (b.wrapping_sub(0x20) >= 0x60) | (b == b'"') | (b == b'\\')
    })
}

/// The index of the first byte of `s` that a quoted SQL literal must look at: below
/// 0x20, `'`, `\\`, or 0x7F and above (DEL, and the bytes of non-ASCII characters, among
/// which the C1 controls are).
pub fn find_sql_special(s: &[u8]) -> Option<usize> {
    // One unsigned compare for both ends: below 0x20 wraps round to 0xe0 and up.
    find_byte(s, |b| {
        (b.wrapping_sub(0x20) >= 0x5f) | (b == b'\'') | (b == b'\\')
    })
}

/// Where text is appended: a `String`, or bytes (a `Vec<u8>`) that every writer keeps
/// UTF-8. Writers of ASCII they made themselves (digits, hex) use [`TextOut::push_ascii`]:
/// a `String` must check it (safe code cannot skip the check), bytes take it as it is.
pub trait TextOut {
    /// Appends text.
    fn push_str(&mut self, s: &str);
    /// Appends `b`, ASCII made by the caller (bytes at 0x80 and above are a bug of the
    /// caller: a `String` drops them, bytes keep them).
    fn push_ascii(&mut self, b: &[u8]);
}

impl TextOut for String {
    #[inline]
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    #[inline]
    fn push_ascii(&mut self, b: &[u8]) {
        debug_assert!(b.is_ascii(), "push_ascii of non-ASCII bytes");
        String::push_str(self, std::str::from_utf8(b).unwrap_or_default());
    }
}

impl TextOut for Vec<u8> {
    #[inline]
    fn push_str(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    #[inline]
    fn push_ascii(&mut self, b: &[u8]) {
        debug_assert!(b.is_ascii(), "push_ascii of non-ASCII bytes");
        self.extend_from_slice(b);
    }
}

/// Appends `b` in upper-case hex digits, two per byte.
pub fn push_hex_upper<O: TextOut + ?Sized>(out: &mut O, b: &[u8]) {
    /// Each byte's two digits.
    const PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut pairs = [[0u8; 2]; 256];
        let mut i = 0;
        while i < 256 {
            pairs[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
            i += 1;
        }
        pairs
    };
    let mut digits = [0u8; 128];
    for chunk in b.chunks(64) {
        for (pair, &x) in digits.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&PAIRS[usize::from(x)]);
        }
        out.push_ascii(&digits[..chunk.len() * 2]);
    }
}

/// Appends `bytes` as UTF-8, each invalid sequence as U+FFFD (as
/// [`String::from_utf8_lossy`], whose byte-by-byte walk is only taken when the fast
/// validation fails).
pub fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// A short, bounded rendering of a byte field for `Debug`: its length and first bytes.
pub struct Short<'a>(pub &'a [u8]);

impl std::fmt::Debug for Short<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 16;
        write!(f, "[{} bytes:", self.0.len())?;
        for b in self.0.iter().take(SHOWN) {
            write!(f, " {b:02x}")?;
        }
        if self.0.len() > SHOWN {
            write!(f, " …")?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `find` against a byte-by-byte search for `special` on 20,000 seeded strings:
    /// mostly letters, sometimes any byte, sometimes one of `edges`.
    fn finds_as_byte_by_byte(
        find: fn(&[u8]) -> Option<usize>,
        special: fn(u8) -> bool,
        edges: [u8; 8],
        seed: u64,
    ) {
        let mut rng = crate::test_support::Rng(seed);
        let mut next = move || rng.next();
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| match next() % 16 {
                    0 => (next() % 256) as u8,
                    1 => edges[(next() % 8) as usize],
                    _ => b'a' + (next() % 26) as u8,
                })
                .collect();
            assert_eq!(find(&s), s.iter().position(|&b| special(b)), "{s:?}");
        }
    }

    #[test]
    fn json_escapes_are_found_as_a_byte_by_byte_search_finds_them() {
        finds_as_byte_by_byte(
            find_json_escape,
            |b| b < 0x20 || b == b'"' || b == b'\\',
            [b'"', b'\\', 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x80],
            0x9e37_79b9_7f4a_7c15,
        );
    }

    #[test]
    fn json_specials_are_found_as_a_byte_by_byte_search_finds_them() {
        finds_as_byte_by_byte(
            find_json_special,
            |b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x80,
            [b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xc2, 0xff],
            0x5851_f42d_4c95_7f2d,
        );
    }

    #[test]
    fn sql_specials_are_found_as_a_byte_by_byte_search_finds_them() {
        finds_as_byte_by_byte(
            find_sql_special,
            |b| b < 0x20 || b == b'\'' || b == b'\\' || b >= 0x7f,
            [b'\'', b'\\', 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc2],
            0x2545_f491_4f6c_dd1d,
        );
    }

    #[test]
    fn hex_is_two_upper_case_digits_per_byte() {
        let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        let mut out = String::from("x");
        push_hex_upper(&mut out, &bytes);
        let want: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(out, format!("x{want}"));
        // Into bytes, the same.
        let mut out = b"x".to_vec();
        push_hex_upper(&mut out, &bytes);
        assert_eq!(out, format!("x{want}").into_bytes());
    }

    #[test]
    fn packed_round_trip() {
        for v in [
            0u64,
            250,
            251,
            0xffff,
            0x1_0000,
            0xff_ffff,
            0x100_0000,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_packed(&mut out, v);
            assert_eq!(out.len(), packed_size(v));
            let mut c = Cursor::new(&out, 0);
            assert_eq!(c.packed().unwrap(), v);
            assert!(c.is_empty());
        }
    }

    #[test]
    fn reads_past_end_report_offset() {
        let data = [1u8, 2, 3];
        let mut c = Cursor::new(&data, 100);
        c.u8().unwrap();
        let e = c.u32().unwrap_err();
        assert_eq!(e.offset(), 101);
        assert!(matches!(
            e.kind(),
            ErrorKind::UnexpectedEof { needed: 4, .. }
        ));
        let e = Cursor::new(&[0xfb], 7).packed().unwrap_err();
        assert_eq!(e.offset(), 7);
    }

    #[test]
    fn big_endian_and_cstr() {
        let mut out = Vec::new();
        put_uint_be(&mut out, 0x01_0203_0405, 5);
        assert_eq!(out, [1, 2, 3, 4, 5]);
        let mut c = Cursor::new(&out, 0);
        assert_eq!(c.uint_be(5).unwrap(), 0x01_0203_0405);
        let mut c = Cursor::new(b"ab\0c", 0);
        assert_eq!(c.cstr("s").unwrap(), b"ab");
        assert_eq!(c.rest(), b"c");
        assert!(Cursor::new(b"abc", 0).cstr("s").is_err());
    }
}
