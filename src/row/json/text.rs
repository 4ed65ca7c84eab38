//! [`Json`] as the JSON text MySQL prints.

use super::*;
use crate::bytes::TextOut;
use crate::row::decimal;

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
    if quoted {
        push_string(out, s, Controls::Named);
    } else {
        out.push_str(&String::from_utf8_lossy(s));
    }
}

/// How [`push_string`] writes control characters other than `\n`, `\r` and `\t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controls {
    /// `\b` and `\f` by name, the others as `\u00xx`: MySQL's JSON text.
    Named,
    /// All of them as `\u00xx`.
    Numbered,
}

/// Appends `s` as a quoted JSON string: `"` and `\` escaped, `\n`, `\r`, `\t`, the
/// other bytes below 0x20 as `controls` says; bytes that are not UTF-8 become U+FFFD.
/// Runs of bytes that need no escape are copied whole.
pub fn push_string(out: &mut String, s: &[u8], controls: Controls) {
    match std::str::from_utf8(s) {
        Ok(text) => push_str(out, text, controls),
        Err(_) => push_str(out, &String::from_utf8_lossy(s), controls),
    }
}

/// [`push_string`] for text already known to be UTF-8.
pub fn push_str(out: &mut String, s: &str, controls: Controls) {
    out.push('"');
    let mut rest = s;
    while let Some(at) = next_escape(rest.as_bytes()) {
        // The byte found is ASCII: `at` and `at + 1` are character boundaries.
        let (run, tail) = rest.split_at(at);
        out.push_str(run);
        push_escape(out, tail.as_bytes()[0], controls);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// [`push_str`] into bytes, for `s` that is UTF-8 (or ASCII): its bytes are copied as
/// they are but for the escapes, which are put in place of ASCII bytes, so the bytes
/// written are UTF-8 too. A short string is escaped a byte at a time, without copying
/// runs.
pub fn push_str_bytes(out: &mut Vec<u8>, s: &[u8], controls: Controls) {
    out.push(b'"');
    if s.len() < SHORT {
        out.reserve(s.len() + 1);
        for &b in s {
            if needs_escape(b) {
                push_escape(out, b, controls);
            } else {
                out.push(b);
            }
        }
    } else {
        let mut rest = s;
        while let Some(at) = crate::bytes::find_json_escape(rest) {
            let (run, tail) = rest.split_at(at);
            out.extend_from_slice(run);
            push_escape(out, tail[0], controls);
            rest = &tail[1..];
        }
        out.extend_from_slice(rest);
    }
    out.push(b'"');
}

/// Whether a JSON string escapes `b`: below 0x20, `"` or `\\`.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Strings shorter than this are searched for escapes (and into bytes, escaped) a byte
/// at a time.
const SHORT: usize = 32;

/// The index of the first byte of `s` that a JSON string escapes: byte by byte in a
/// short string (the pieces between the quotes of a JSON document's text), else
/// sixteen bytes at a time.
#[inline]
fn next_escape(s: &[u8]) -> Option<usize> {
    if s.len() < SHORT {
        s.iter().position(|&b| needs_escape(b))
    } else {
        crate::bytes::find_json_escape(s)
    }
}

/// Appends the escape of `b`, a byte below 0x20, `"` or `\\` (each a literal of known
/// length: a copy call per escape costs more).
fn push_escape<O: TextOut + ?Sized>(out: &mut O, b: u8, controls: Controls) {
    match (b, controls) {
        (b'"', _) => out.push_str("\\\""),
        (b'\\', _) => out.push_str("\\\\"),
        (0x09, _) => out.push_str("\\t"),
        (0x0a, _) => out.push_str("\\n"),
        (0x0d, _) => out.push_str("\\r"),
        (0x08, Controls::Named) => out.push_str("\\b"),
        (0x0c, Controls::Named) => out.push_str("\\f"),
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push_ascii(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

pub(super) fn write_opaque(ft: u8, data: &[u8], quoted: bool, out: &mut String) {
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
pub(super) fn base64(data: &[u8]) -> String {
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
pub(super) fn write_double(d: f64, out: &mut String) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The escape rules, one character at a time.
    fn naive(s: &str, controls: Controls) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match (c, controls) {
                ('"', _) => out.push_str("\\\""),
                ('\\', _) => out.push_str("\\\\"),
                ('\t', _) => out.push_str("\\t"),
                ('\n', _) => out.push_str("\\n"),
                ('\r', _) => out.push_str("\\r"),
                ('\u{8}', Controls::Named) => out.push_str("\\b"),
                ('\u{c}', Controls::Named) => out.push_str("\\f"),
                (c, _) if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                (c, _) => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn strings_are_escaped_as_a_character_walk_escapes_them() {
        let mut rng = crate::test_support::Rng(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.next();
        const ODD: [char; 12] = [
            '"', '\\', '\u{1f}', '\u{0}', '\t', '\n', '\u{8}', '\u{c}', '\u{7f}', 'é', '€', '😀',
        ];
        for _ in 0..20_000 {
            let len = (next() % 70) as usize;
            // Mostly plain text, sometimes quotes, controls and characters of 2 to 4 bytes,
            // so that escapes fall on every place of a sixteen-byte block.
            let s: String = (0..len)
                .map(|_| match next() % 6 {
                    0 => ODD[(next() % ODD.len() as u64) as usize],
                    _ => char::from(b'a' + (next() % 26) as u8),
                })
                .collect();
            for controls in [Controls::Named, Controls::Numbered] {
                let mut out = String::from("x");
                push_str(&mut out, &s, controls);
                assert_eq!(out[1..], naive(&s, controls), "{s:?}");
                let mut bytes = b"x".to_vec();
                push_str_bytes(&mut bytes, s.as_bytes(), controls);
                assert_eq!(bytes[1..], *naive(&s, controls).as_bytes(), "{s:?}");
            }
        }
    }
}
