//! MySQL's binary DECIMAL format (column type NEWDECIMAL, 246), as stored in row images
//! and inside opaque JSON values.
//!
//! # Layout
//!
//! A `DECIMAL(p, s)` value has `p - s` integer digits and `s` fractional digits. Each side
//! is cut into groups of nine decimal digits, stored as 4-byte big-endian integers. The
//! integer side's short group comes first (its most significant digits); the fractional
//! side's short group comes last. A short group of `n` digits takes
//! [`GROUP_BYTES`]`[n]` bytes (0, 1, 1, 2, 2, 3, 3, 4, 4, 4 for n = 0..=9), also
//! big-endian. Leading integer digits beyond the value are zeros, so the width is fixed.
//!
//! The sign is folded into the bytes: for a negative value every byte is inverted, and
//! then the top bit of the first byte is flipped. A non-negative value therefore starts
//! with the top bit set, a negative one with it clear, and the bytes compare like the
//! numbers they hold.
//!
//! # Text
//!
//! [`decode`] prints the value the way the server does (`decimal2string`): an optional
//! `-`, the integer part without leading zeros (at least `0`), and when `s > 0` a `.`
//! followed by exactly `s` digits. The server never writes a negative zero; if one is
//! found anyway it is printed as the server would print it (`-0.00` when `s > 0`, `0`
//! when `s = 0`), which is the one case where [`encode`] does not give the bytes back
//! (encoding any zero yields the positive zero).

use crate::bytes::{put_uint_be, TextOut};
use crate::error::{Error, Result};

/// Decimal digits held by one full group.
const DIGITS_PER_GROUP: usize = 9;

/// Bytes taken by a group of `n` digits, for n = 0..=9.
pub const GROUP_BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Powers of ten up to 10^9.
const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// Largest precision MySQL allows.
pub const MAX_PRECISION: u8 = 65;

/// Largest scale MySQL allows.
pub const MAX_SCALE: u8 = 30;

/// Bytes a `DECIMAL(precision, scale)` value takes in a row image.
///
/// For a scale larger than the precision the integer side counts as empty; such a pair is
/// rejected by [`decode`] and [`encode`].
pub fn bin_size(precision: u8, scale: u8) -> usize {
    let intg = usize::from(precision.saturating_sub(scale));
    let frac = usize::from(scale);
    side_size(intg) + side_size(frac)
}

/// Bytes taken by `digits` digits on one side of the point.
fn side_size(digits: usize) -> usize {
    digits / DIGITS_PER_GROUP * 4 + GROUP_BYTES[digits % DIGITS_PER_GROUP]
}

/// Checks that `DECIMAL(precision, scale)` is a type MySQL can declare.
fn check_type(precision: u8, scale: u8) -> Result<()> {
    if precision == 0 || precision > MAX_PRECISION || scale > precision || scale > MAX_SCALE {
        return Err(Error::malformed(
            0,
            format!("invalid DECIMAL({precision},{scale})"),
        ));
    }
    Ok(())
}

/// The digit count of each group of a `DECIMAL(precision, scale)` value, in storage
/// order: the integer side's short group (if any), the full integer groups, the full
/// fractional groups, then the fractional short group (if any).
fn groups(precision: u8, scale: u8) -> impl Iterator<Item = usize> {
    let intg = usize::from(precision - scale);
    let frac = usize::from(scale);
    let lead = intg % DIGITS_PER_GROUP;
    let tail = frac % DIGITS_PER_GROUP;
    let full = intg / DIGITS_PER_GROUP + frac / DIGITS_PER_GROUP;
    std::iter::once(lead)
        .chain(std::iter::repeat_n(DIGITS_PER_GROUP, full))
        .chain(std::iter::once(tail))
        .filter(|&d| d > 0)
}

/// Appends the text of the binary DECIMAL(`precision`, `scale`) value in `bytes`.
///
/// `bytes` must be exactly [`bin_size`] long. Fails with [`crate::error::ErrorKind::Malformed`]
/// for an invalid type, a wrong length (offset 0), or a digit group that holds more than
/// its digits allow (offset of that group). Nothing is appended on error.
pub fn decode(bytes: &[u8], precision: u8, scale: u8, out: &mut String) -> Result<()> {
    Decimal::new(bytes, precision, scale)?.push_text(out);
    Ok(())
}

/// A DECIMAL value in the binary form a row image holds, its type, length and digit
/// groups checked. Its text (what the server prints) is written where it is needed, and
/// its unscaled integer read straight from the groups.
#[derive(Clone)]
pub struct Decimal<'a>(Repr<'a>);

/// The bytes borrowed or owned, with the type beside the enum's tag: the whole is as
/// small as a `Cow<[u8]>`, so that it does not make every [`crate::row::Value`] larger.
#[derive(Clone)]
enum Repr<'a> {
    Borrowed {
        bytes: &'a [u8],
        precision: u8,
        scale: u8,
    },
    Owned {
        bytes: Box<[u8]>,
        precision: u8,
        scale: u8,
    },
}

impl<'a> Decimal<'a> {
    /// `bytes` as a DECIMAL(`precision`, `scale`) value. Fails as [`decode`] does.
    pub fn new(bytes: &'a [u8], precision: u8, scale: u8) -> Result<Decimal<'a>> {
        check_type(precision, scale)?;
        let size = bin_size(precision, scale);
        if bytes.len() != size {
            return Err(Error::malformed(
                0,
                format!(
                    "DECIMAL({precision},{scale}) takes {size} bytes, got {}",
                    bytes.len()
                ),
            ));
        }
        walk_groups(bytes, precision, scale, |_, _| {})?;
        Ok(Decimal(Repr::Borrowed {
            bytes,
            precision,
            scale,
        }))
    }

    /// The value of `text` as a DECIMAL(`precision`, `scale`) (what [`encode`] accepts,
    /// and its errors).
    pub fn parse(text: &str, precision: u8, scale: u8) -> Result<Decimal<'static>> {
        let mut bytes = Vec::with_capacity(bin_size(precision, scale));
        encode(text, precision, scale, &mut bytes)?;
        Ok(Decimal(Repr::Owned {
            bytes: bytes.into_boxed_slice(),
            precision,
            scale,
        }))
    }

    /// The type's precision.
    pub fn precision(&self) -> u8 {
        match self.0 {
            Repr::Borrowed { precision, .. } | Repr::Owned { precision, .. } => precision,
        }
    }

    /// The type's scale: the digits after the point.
    pub fn scale(&self) -> u8 {
        match self.0 {
            Repr::Borrowed { scale, .. } | Repr::Owned { scale, .. } => scale,
        }
    }

    /// The value's bytes, as a row image holds them.
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Borrowed { bytes, .. } => bytes,
            Repr::Owned { bytes, .. } => bytes,
        }
    }

    /// The value with its bytes owned.
    pub fn into_owned(self) -> Decimal<'static> {
        Decimal(Repr::Owned {
            bytes: self.bytes().into(),
            precision: self.precision(),
            scale: self.scale(),
        })
    }

    /// Appends the value's text, as the server prints it: an optional `-`, the integer
    /// part without leading zeros (at least `0`), and when the scale is above 0 a `.` and
    /// exactly that many digits.
    pub fn push_text<O: TextOut + ?Sized>(&self, out: &mut O) {
        if self.precision() <= 18 {
            self.push_text_u64(out)
        } else {
            self.push_text_groups(out)
        }
    }

    /// [`Decimal::push_text`] for any precision, a digit group at a time.
    fn push_text_groups<O: TextOut + ?Sized>(&self, out: &mut O) {
        let (precision, scale) = (self.precision(), self.scale());
        let intg_digits = usize::from(precision - scale);
        // The text on the stack (this runs for every value): a place for the sign, then
        // at most 65 digits, a point and a lone `0`.
        let mut text = Digits::default();
        text.push(b'-');
        let mut digits_done = 0usize;
        let mut point = false;
        let walked = walk_groups(self.bytes(), precision, scale, |value, digits| {
            if digits_done >= intg_digits {
                if !point {
                    // No integer digit written: the integer part is 0.
                    if text.len == 1 {
                        text.push(b'0');
                    }
                    text.push(b'.');
                    point = true;
                }
                push_padded(&mut text, value, digits);
            } else if text.len > 1 {
                push_padded(&mut text, value, digits);
            } else if value != 0 {
                // The first non-zero integer group is printed without leading zeros.
                push_padded(&mut text, value, 0);
            }
            digits_done += digits;
        });
        // Checked when made: the walk does not fail.
        let Ok(Walked { negative, all_zero }) = walked else {
            return;
        };
        if text.len == 1 {
            text.push(b'0');
        }
        // The server drops the sign of a zero only when there is no fractional part.
        let signed = negative && !(all_zero && scale == 0);
        // Only ASCII digits, a point and a sign were pushed.
        let text = text.buf.get(..text.len).unwrap_or_default();
        out.push_ascii(if signed {
            text
        } else {
            text.get(1..).unwrap_or_default()
        });
    }

    /// [`Decimal::push_text`] for a precision up to 18: the digits are those of the
    /// unscaled value, which fits a `u64`, with the point put in.
    fn push_text_u64<O: TextOut + ?Sized>(&self, out: &mut O) {
        let mut magnitude = 0u64;
        let walked = walk_groups(
            self.bytes(),
            self.precision(),
            self.scale(),
            |value, digits| {
                magnitude = magnitude * u64::from(POW10[digits]) + u64::from(value);
            },
        );
        // Checked when made: the walk does not fail.
        let Ok(Walked { negative, all_zero }) = walked else {
            return;
        };
        let scale = usize::from(self.scale());
        // The server drops the sign of a zero only when there is no fractional part.
        if negative && !(all_zero && scale == 0) {
            out.push_str("-");
        }
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(magnitude);
        match digits.len().checked_sub(scale) {
            Some(int) if int > 0 => {
                let (int, frac) = digits.split_at(int);
                out.push_str(int);
                if scale > 0 {
                    out.push_str(".");
                    out.push_str(frac);
                }
            }
            // Below 1: `0.`, then zeros up to the digits.
            _ => {
                out.push_str("0.");
                for _ in digits.len()..scale {
                    out.push_str("0");
                }
                out.push_str(digits);
            }
        }
    }

    /// The value times 10^scale (`-12.340` in DECIMAL(5,3) is -12340), when it fits an
    /// `i128` (always for a precision up to 38).
    pub fn unscaled(&self) -> Option<i128> {
        let mut n = Some(0i128);
        let walked = walk_groups(
            self.bytes(),
            self.precision(),
            self.scale(),
            |value, digits| {
                n = n
                    .and_then(|n| n.checked_mul(i128::from(POW10[digits])))
                    .and_then(|n| n.checked_add(i128::from(value)));
            },
        );
        let Walked { negative, .. } = walked.ok()?;
        if negative {
            n.map(|n| -n)
        } else {
            n
        }
    }
}

/// Equal when of the same type and bytes.
impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Decimal<'_>) -> bool {
        (self.precision(), self.scale(), self.bytes())
            == (other.precision(), other.scale(), other.bytes())
    }
}

impl Eq for Decimal<'_> {}

impl std::fmt::Display for Decimal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::new();
        self.push_text(&mut text);
        f.write_str(&text)
    }
}

impl std::fmt::Debug for Decimal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self} DECIMAL({},{})", self.precision(), self.scale())
    }
}

/// What a walk of a value's groups learned: its sign, and whether all digits are 0.
struct Walked {
    negative: bool,
    all_zero: bool,
}

/// Calls `each(value, digits)` for each digit group of `bytes` (a DECIMAL(`precision`,
/// `scale`) of [`bin_size`] bytes, type checked) in storage order, its sign folding undone.
/// Fails at the first group holding more than its digits allow (offset of that group).
fn walk_groups(
    bytes: &[u8],
    precision: u8,
    scale: u8,
    mut each: impl FnMut(u32, usize),
) -> Result<Walked> {
    let negative = bytes.first().is_some_and(|b| b & 0x80 == 0);
    // Undo the sign folding: every byte of a negative value is inverted, and then the
    // first byte's top bit flipped.
    let flip = if negative { u32::MAX } else { 0 };
    let mut pos = 0usize;
    let mut all_zero = true;
    for digits in groups(precision, scale) {
        let n = GROUP_BYTES[digits];
        let chunk = bytes.get(pos..pos + n).unwrap_or_default();
        let mut value = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        if pos == 0 {
            value ^= 0x80 << (8 * (n - 1));
        }
        value = (value ^ flip) & (u32::MAX >> (32 - 8 * n));
        if value >= POW10[digits] {
            return Err(Error::malformed(
                pos as u64,
                format!("DECIMAL digit group {value} does not fit in {digits} digits"),
            ));
        }
        all_zero &= value == 0;
        each(value, digits);
        pos += n;
    }
    Ok(Walked { negative, all_zero })
}

/// Up to 72 ASCII digits on the stack.
struct Digits {
    buf: [u8; 72],
    len: usize,
}

impl Default for Digits {
    fn default() -> Digits {
        Digits {
            buf: [0; 72],
            len: 0,
        }
    }
}

impl Digits {
    fn push(&mut self, d: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = d;
            self.len += 1;
        }
    }
}

/// Appends `value` zero-padded to `width` digits.
fn push_padded(out: &mut Digits, value: u32, width: usize) {
    // A whole group (the common case: `value` fits `width`), its digits from the last.
    if let (Some(&limit), Some(slots)) =
        (POW10.get(width), out.buf.get_mut(out.len..out.len + width))
    {
        if width > 0 && value < limit {
            let mut v = value;
            for d in slots.iter_mut().rev() {
                *d = b'0' + (v % 10) as u8;
                v /= 10;
            }
            out.len += width;
            return;
        }
    }
    let mut b = itoa::Buffer::new();
    let s = b.format(value).as_bytes();
    for _ in s.len()..width {
        out.push(b'0');
    }
    for &d in s {
        out.push(d);
    }
}

/// Appends the binary DECIMAL(`precision`, `scale`) encoding of `text`.
///
/// Accepts an optional sign, integer digits, and an optional point followed by fractional
/// digits (`-12.5`, `12`, `.5`, `+3`, `007.10`); at least one digit is required. Fractional
/// digits are padded with zeros up to `scale`. More fractional digits than `scale`, more
/// significant integer digits than `precision - scale`, exponents, spaces or any other
/// character are errors (offset = position in `text`). Any zero, signed or not, encodes
/// as the positive zero. Nothing is appended on error.
pub fn encode(text: &str, precision: u8, scale: u8, out: &mut Vec<u8>) -> Result<()> {
    check_type(precision, scale)?;
    let bytes = text.as_bytes();
    let (negative, body_start) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let body = bytes.get(body_start..).unwrap_or_default();
    let point = body.iter().position(|&b| b == b'.');
    let (int_part, frac_part) = match point {
        Some(p) => (
            body.get(..p).unwrap_or_default(),
            body.get(p + 1..).unwrap_or_default(),
        ),
        None => (body, &[][..]),
    };
    let frac_start = body_start + int_part.len() + 1;
    if let Some(i) = int_part.iter().position(|b| !b.is_ascii_digit()) {
        return Err(Error::malformed(
            (body_start + i) as u64,
            "DECIMAL text: expected a digit",
        ));
    }
    if let Some(i) = frac_part.iter().position(|b| !b.is_ascii_digit()) {
        return Err(Error::malformed(
            (frac_start + i) as u64,
            "DECIMAL text: expected a digit",
        ));
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(Error::malformed(
            body_start as u64,
            "DECIMAL text has no digits",
        ));
    }
    let leading_zeros = int_part.iter().take_while(|&&b| b == b'0').count();
    let int_sig = int_part.get(leading_zeros..).unwrap_or_default();
    let intg = usize::from(precision - scale);
    let frac = usize::from(scale);
    if int_sig.len() > intg {
        return Err(Error::malformed(
            (body_start + leading_zeros) as u64,
            format!(
                "DECIMAL({precision},{scale}) holds {intg} integer digits, text has {}",
                int_sig.len()
            ),
        ));
    }
    if frac_part.len() > frac {
        return Err(Error::malformed(
            (frac_start + frac) as u64,
            format!(
                "DECIMAL({precision},{scale}) holds {frac} fractional digits, text has {}",
                frac_part.len()
            ),
        ));
    }

    // All digits of the value, zero-padded to the full width of the type.
    let digit = |i: usize| -> u32 {
        let b = if i < intg {
            (i + int_sig.len())
                .checked_sub(intg)
                .and_then(|j| int_sig.get(j))
        } else {
            frac_part.get(i - intg)
        };
        b.map_or(0, |&b| u32::from(b - b'0'))
    };

    let start = out.len();
    let mut i = 0usize;
    let mut all_zero = true;
    for digits in groups(precision, scale) {
        let value = (i..i + digits).fold(0u32, |acc, k| acc * 10 + digit(k));
        all_zero &= value == 0;
        put_uint_be(out, u64::from(value), GROUP_BYTES[digits]);
        i += digits;
    }
    let written = out.get_mut(start..).unwrap_or_default();
    if negative && !all_zero {
        written.iter_mut().for_each(|b| *b = !*b);
    }
    if let Some(first) = written.first_mut() {
        *first ^= 0x80;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for the randomized tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn dec(bytes: &[u8], p: u8, s: u8) -> String {
        let mut out = String::new();
        decode(bytes, p, s, &mut out).unwrap();
        out
    }

    fn enc(text: &str, p: u8, s: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encode(text, p, s, &mut out).unwrap();
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(bin_size(1, 0), 1);
        assert_eq!(bin_size(10, 0), 5);
        assert_eq!(bin_size(5, 5), 3);
        assert_eq!(bin_size(10, 4), 2 + 3);
        assert_eq!(bin_size(18, 9), 8);
        assert_eq!(bin_size(65, 30), 30);
        assert_eq!(bin_size(14, 4), 4 + 1 + 2);
        // Nonsense pairs do not panic.
        assert_eq!(bin_size(0, 5), 3);
    }

    /// Vectors from MySQL's documentation and its decimal tests.
    #[test]
    fn known_vectors() {
        // The example from strings/decimal.cc: 1234567890.1234 as DECIMAL(14,4).
        let b = hex("810dfb38d204d2");
        assert_eq!(dec(&b, 14, 4), "1234567890.1234");
        assert_eq!(enc("1234567890.1234", 14, 4), b);
        // And its negation.
        // A negative value is the bitwise complement of its absolute value.
        let nb: Vec<u8> = b.iter().map(|x| !x).collect();
        assert_eq!(enc("-1234567890.1234", 14, 4), nb);
        assert_eq!(dec(&nb, 14, 4), "-1234567890.1234");
        // Opaque JSON decimals from json-opaque.binlog: DECIMAL(6,3) 123.456 and (11,2) 9.00.
        assert_eq!(dec(&hex("807b01c8"), 6, 3), "123.456");
        assert_eq!(dec(&hex("8000000900"), 11, 2), "9.00");
    }

    #[test]
    fn edge_values() {
        let max = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        for (text, p, s) in [
            (max.clone(), 65, 30),
            (format!("-{max}"), 65, 30),
            ("0.000000000000000000000000000001".to_string(), 65, 30),
            ("-9999999999".to_string(), 10, 0),
            ("9999999999".to_string(), 10, 0),
            ("0".to_string(), 10, 0),
            ("0.99999".to_string(), 5, 5),
            ("-0.00001".to_string(), 5, 5),
            ("0.00000".to_string(), 5, 5),
            ("9".to_string(), 1, 0),
            ("-9".to_string(), 1, 0),
            ("0".to_string(), 1, 0),
            ("-0.001".to_string(), 6, 3),
            ("999.999".to_string(), 6, 3),
            ("0.000".to_string(), 6, 3),
            ("123456789".to_string(), 9, 0),
            ("-123456789.123456789".to_string(), 18, 9),
        ] {
            let b = enc(&text, p, s);
            assert_eq!(b.len(), bin_size(p, s));
            assert_eq!(dec(&b, p, s), text, "DECIMAL({p},{s})");
        }
        // Zero is stored positive; every kind of zero text maps to it.
        let zero = enc("0.00", 5, 2);
        assert_eq!(zero, hex("800000"));
        for z in ["-0", "-0.00", "+0.0", ".0", "000", "-.00"] {
            assert_eq!(enc(z, 5, 2), zero, "{z}");
        }
        assert_eq!(dec(&zero, 5, 2), "0.00");
    }

    #[test]
    fn lenient_input_forms() {
        assert_eq!(dec(&enc(".5", 5, 2), 5, 2), "0.50");
        assert_eq!(dec(&enc("+3", 5, 2), 5, 2), "3.00");
        assert_eq!(dec(&enc("12", 5, 2), 5, 2), "12.00");
        assert_eq!(dec(&enc("007.1", 5, 2), 5, 2), "7.10");
        assert_eq!(dec(&enc("5.", 5, 2), 5, 2), "5.00");
    }

    #[test]
    fn rejects_bad_input() {
        let mut out = Vec::new();
        for (text, p, s) in [
            ("1e3", 10, 0),
            ("", 10, 0),
            ("-", 10, 0),
            (".", 10, 2),
            ("1.234", 5, 2), // too many fractional digits
            ("1234", 5, 2),  // too many integer digits
            (" 1", 5, 2),
            ("1-", 5, 2),
            ("1.2.3", 5, 2),
            ("١", 5, 2),
        ] {
            assert!(encode(text, p, s, &mut out).is_err(), "{text:?}");
        }
        assert!(out.is_empty());
        let e = encode("12.345", 5, 2, &mut out).unwrap_err();
        assert_eq!(e.offset(), 5);
        let e = encode("x", 5, 2, &mut out).unwrap_err();
        assert_eq!(e.offset(), 0);
        for (p, s) in [(0, 0), (66, 0), (5, 6), (65, 31)] {
            assert!(encode("1", p, s, &mut out).is_err());
            assert!(decode(&[0x80; 40], p, s, &mut String::new()).is_err());
        }
        // Wrong lengths.
        let e = decode(&[0x80, 0], 5, 2, &mut String::new()).unwrap_err();
        assert_eq!(e.offset(), 0);
        assert!(decode(&[0x80, 0, 0, 0], 5, 2, &mut String::new()).is_err());
        // Digit groups holding more than their digits allow.
        assert!(decode(&hex("8064"), 3, 0, &mut String::new()).is_ok());
        let e = decode(&hex("83e8"), 3, 0, &mut String::new()).unwrap_err();
        assert_eq!(e.offset(), 0);
        let e = decode(&hex("80ffffffff"), 10, 0, &mut String::new()).unwrap_err();
        assert_eq!(e.offset(), 1);
        // 3 fractional digits in 2 bytes: 1000 is out of range.
        let e = decode(&hex("8003e8"), 4, 3, &mut String::new()).unwrap_err();
        assert_eq!(e.offset(), 1);
        let e = decode(&hex("83e8"), 3, 3, &mut String::new()).unwrap_err();
        assert_eq!(e.offset(), 0);
    }

    #[test]
    fn negative_zero_prints_like_the_server() {
        // The bytes of "-0.00" if it were folded like a negative number.
        let nz: Vec<u8> = enc("0.00", 5, 2).iter().map(|b| !b).collect();
        assert_eq!(dec(&nz, 5, 2), "-0.00");
        let nz: Vec<u8> = enc("0", 5, 0).iter().map(|b| !b).collect();
        assert_eq!(dec(&nz, 5, 0), "0");
    }

    /// Random digits over every declarable type: text → bytes → text.
    #[test]
    fn random_text_round_trip() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (p, s) in every_type() {
            for _ in 0..20 {
                let intg = usize::from(p - s);
                let n_int = rng.below(intg as u64 + 1) as usize;
                let mut text = String::new();
                if rng.below(2) == 0 {
                    text.push('-');
                }
                for k in 0..n_int {
                    let d = if k == 0 {
                        1 + rng.below(9)
                    } else {
                        rng.below(10)
                    };
                    text.push(char::from(b'0' + d as u8));
                }
                if n_int == 0 {
                    text.push('0');
                }
                if s > 0 {
                    text.push('.');
                    for _ in 0..s {
                        text.push(char::from(b'0' + rng.below(10) as u8));
                    }
                }
                let b = enc(&text, p, s);
                let back = dec(&b, p, s);
                let is_zero = !text.bytes().any(|c| (b'1'..=b'9').contains(&c));
                let expect = if is_zero {
                    text.trim_start_matches('-').to_string()
                } else {
                    text.clone()
                };
                assert_eq!(back, expect, "DECIMAL({p},{s})");
            }
        }
    }

    /// Every DECIMAL(precision, scale) MySQL can declare.
    fn every_type() -> impl Iterator<Item = (u8, u8)> {
        (1..=MAX_PRECISION).flat_map(|p| (0..=p.min(MAX_SCALE)).map(move |s| (p, s)))
    }

    /// The bytes of the non-negative DECIMAL(`p`, `s`) whose digit groups `group(digits)`
    /// gives, in storage order.
    fn value_bytes(p: u8, s: u8, mut group: impl FnMut(usize) -> u64) -> Vec<u8> {
        let mut b = Vec::new();
        for digits in groups(p, s) {
            put_uint_be(&mut b, group(digits), GROUP_BYTES[digits]);
        }
        b[0] ^= 0x80;
        b
    }

    /// Bytes of a value → those of its negation (every byte inverted).
    fn negate(b: &mut [u8]) {
        b.iter_mut().for_each(|x| *x = !*x);
    }

    /// Random valid encodings: bytes → text → the same bytes.
    #[test]
    fn random_bytes_round_trip() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for (p, s) in every_type() {
            for _ in 0..20 {
                let mut all_zero = true;
                let mut b = value_bytes(p, s, |digits| {
                    // Bias towards zero groups so leading-zero trimming gets exercised.
                    let v = if rng.below(3) == 0 {
                        0
                    } else {
                        rng.below(u64::from(POW10[digits]))
                    };
                    all_zero &= v == 0;
                    v
                });
                if !all_zero && rng.below(2) == 0 {
                    negate(&mut b);
                }
                let text = dec(&b, p, s);
                assert_eq!(enc(&text, p, s), b, "DECIMAL({p},{s}) {text}");
            }
        }
    }

    /// Random valid values of every type up to DECIMAL(65,30) (negative zeros included):
    /// the fast text of precisions up to 18 is the group-by-group text, and the unscaled
    /// integer is the text without its point (or `None` where that overflows `i128`).
    #[test]
    fn text_paths_and_unscaled_value_agree() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (p, s) in every_type() {
            for k in 0..40 {
                let mut b = value_bytes(p, s, |digits| match rng.below(4) {
                    0 => 0,
                    1 => u64::from(POW10[digits]) - 1,
                    _ => rng.below(u64::from(POW10[digits])),
                });
                if k % 2 == 0 {
                    negate(&mut b);
                }
                let d = Decimal::new(&b, p, s).unwrap();
                let mut text = String::new();
                d.push_text(&mut text);
                let mut groups_text = String::new();
                d.push_text_groups(&mut groups_text);
                assert_eq!(text, groups_text, "DECIMAL({p},{s}) {b:02x?}");
                let mut bytes = Vec::new();
                d.push_text(&mut bytes);
                assert_eq!(bytes, text.as_bytes());
                let unscaled: String = text.chars().filter(|&c| c != '.').collect();
                assert_eq!(d.unscaled(), unscaled.parse::<i128>().ok(), "{text}");
                assert_eq!(d.to_string(), text);
            }
        }
        // Up to 38 digits, every value fits.
        let nines = enc(&"9".repeat(38), 38, 0);
        let d = Decimal::new(&nines, 38, 0).unwrap();
        assert_eq!(d.unscaled(), Some(10i128.pow(38) - 1));
        let b = enc("-1.5", 65, 30);
        assert_eq!(
            Decimal::new(&b, 65, 30).unwrap().unscaled(),
            Some(-15 * 10i128.pow(29))
        );
        assert_eq!(
            Decimal::new(&enc(&"9".repeat(39), 39, 0), 39, 0)
                .unwrap()
                .unscaled(),
            None
        );
    }

    #[test]
    fn a_decimal_is_as_small_as_a_cow_and_owns_what_it_parses() {
        // Not larger than the value's other byte strings: `Value` does not grow.
        assert_eq!(
            std::mem::size_of::<Decimal>(),
            std::mem::size_of::<std::borrow::Cow<[u8]>>()
        );
        let d = Decimal::parse("-12.340", 5, 3).unwrap();
        assert_eq!((d.precision(), d.scale()), (5, 3));
        assert_eq!(d.to_string(), "-12.340");
        assert_eq!(d.bytes(), enc("-12.34", 5, 3));
        let bytes = enc("7.5", 4, 1);
        let borrowed = Decimal::new(&bytes, 4, 1).unwrap();
        let owned = borrowed.clone().into_owned();
        drop(bytes);
        assert_eq!(owned.to_string(), "7.5");
        assert_eq!(format!("{owned:?}"), "7.5 DECIMAL(4,1)");
        assert!(Decimal::parse("1234.5", 4, 1).is_err());
        // Same number, other type: not equal (equality is of type and bytes).
        assert_ne!(
            Decimal::parse("7.5", 4, 1).unwrap(),
            Decimal::parse("7.5", 5, 1).unwrap()
        );
    }

    /// Arbitrary bytes never panic, and whatever decodes re-encodes to the same bytes
    /// (negative zeros aside).
    #[test]
    fn arbitrary_bytes() {
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let p = 1 + rng.below(65) as u8;
            let s = rng.below(u64::from(p.min(30)) + 1) as u8;
            let n = bin_size(p, s);
            let b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let mut text = String::new();
            if decode(&b, p, s, &mut text).is_ok() {
                let is_zero = !text.bytes().any(|c| (b'1'..=b'9').contains(&c));
                let negative_zero = b[0] & 0x80 == 0 && is_zero;
                if !negative_zero {
                    assert_eq!(enc(&text, p, s), b, "{text}");
                }
            }
        }
    }

    /// mysql_common's decimal reader as an independent oracle.
    #[test]
    fn matches_mysql_common() {
        use mysql_common::binlog::decimal::Decimal;
        let mut rng = Rng(99);
        for (p, s) in every_type() {
            for _ in 0..10 {
                let mut all_zero = true;
                let mut b = value_bytes(p, s, |digits| {
                    let v = rng.below(u64::from(POW10[digits]));
                    all_zero &= v == 0;
                    v
                });
                if all_zero {
                    continue;
                }
                if rng.below(2) == 0 {
                    negate(&mut b);
                }
                let theirs =
                    Decimal::read_bin(&b[..], usize::from(p), usize::from(s), false).unwrap();
                assert_eq!(dec(&b, p, s), theirs.to_string(), "DECIMAL({p},{s})");
            }
        }
    }
}
