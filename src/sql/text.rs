//! A string column's bytes as text: which character set they are in, whether they are
//! valid in it, and the same text as UTF-8 (for JSON lines, and for SQL literals that the
//! server converts back to exactly these bytes).

use std::borrow::Cow;

use super::charset::charset_name;
use super::single_byte::TABLES;
use crate::row::value::BINARY_COLLATION;

/// How a column's bytes read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `utf8mb4`: UTF-8.
    Utf8mb4,
    /// `utf8mb3` (`utf8`): UTF-8 of the Basic Multilingual Plane.
    Utf8mb3,
    /// `ascii`: bytes below 0x80.
    Ascii,
    /// `ucs2`: big-endian 16-bit units, no surrogates.
    Ucs2,
    /// `utf16`: big-endian UTF-16.
    Utf16,
    /// `utf16le`: little-endian UTF-16.
    Utf16le,
    /// `utf32`: big-endian 32-bit code points.
    Utf32,
    /// A single-byte set: its name and the code point of each byte from 0x80.
    SingleByte(&'static str, &'static [u16; 128]),
    /// `binary`: bytes, not text.
    Binary,
    /// No collation known (MINIMAL metadata), or a set this library does not map (the
    /// multi-byte Asian sets, `swe7`).
    Unknown,
}

impl Charset {
    /// The character set of a collation number (looked up once per number: it is asked
    /// for each value rendered).
    pub fn of(collation: Option<u16>) -> Charset {
        /// Collation numbers below this are looked up in a table built on first use.
        const KNOWN: usize = 4096;
        static TABLE: std::sync::OnceLock<Vec<Charset>> = std::sync::OnceLock::new();
        let Some(c) = collation else {
            return Charset::Unknown;
        };
        match TABLE
            .get_or_init(|| (0..KNOWN as u16).map(Charset::look_up).collect())
            .get(usize::from(c))
        {
            Some(cs) => *cs,
            None => Charset::look_up(c),
        }
    }

    /// The character set of a collation number, from the name tables.
    fn look_up(c: u16) -> Charset {
        if c == BINARY_COLLATION {
            return Charset::Binary;
        }
        match charset_name(c) {
            Some("utf8mb4") => Charset::Utf8mb4,
            Some("utf8mb3") => Charset::Utf8mb3,
            Some("ascii") => Charset::Ascii,
            Some("ucs2") => Charset::Ucs2,
            Some("utf16") => Charset::Utf16,
            Some("utf16le") => Charset::Utf16le,
            Some("utf32") => Charset::Utf32,
            Some("binary") => Charset::Binary,
            Some(name) => match TABLES.binary_search_by(|(n, _)| n.cmp(&name)) {
                Ok(i) => Charset::SingleByte(TABLES[i].0, &TABLES[i].1),
                Err(_) => Charset::Unknown,
            },
            None => Charset::Unknown,
        }
    }

    /// Whether text in this set is stored as UTF-8 bytes (so the UTF-8 text is the bytes).
    pub fn is_utf8(self) -> bool {
        matches!(self, Charset::Utf8mb4 | Charset::Utf8mb3 | Charset::Ascii)
    }

    /// Whether the bytes below 0x80 are ASCII's characters in this set (so that ASCII
    /// bytes are the same text in it and in UTF-8).
    pub fn ascii_is_itself(self) -> bool {
        matches!(
            self,
            Charset::Utf8mb4 | Charset::Utf8mb3 | Charset::Ascii | Charset::SingleByte(..)
        )
    }

    /// The set's name as SQL writes it (`CONVERT(… USING name)`), when it is text.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Charset::Utf8mb4 => "utf8mb4",
            Charset::Utf8mb3 => "utf8mb3",
            Charset::Ascii => "ascii",
            Charset::Ucs2 => "ucs2",
            Charset::Utf16 => "utf16",
            Charset::Utf16le => "utf16le",
            Charset::Utf32 => "utf32",
            Charset::SingleByte(name, _) => name,
            Charset::Binary | Charset::Unknown => return None,
        })
    }

    /// The text of `b` as UTF-8, when `b` is valid text in this set; `None` for bytes
    /// (binary, unknown set) and for bytes that are not valid in it. UTF-8 sets borrow.
    pub fn decode(self, b: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            Charset::Utf8mb4 => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Charset::Utf8mb3 => std::str::from_utf8(b)
                .ok()
                .filter(|_| b.iter().all(|&x| x < 0xf0))
                .map(Cow::Borrowed),
            Charset::Ascii => b
                .is_ascii()
                .then(|| Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default())),
            Charset::Ucs2 => units(b, 2, |u| {
                let c = u16::from_be_bytes([u[0], u[1]]);
                (!(0xd800..0xe000).contains(&c)).then_some(u32::from(c))
            }),
            Charset::Utf16 => utf16(b, u16::from_be_bytes),
            Charset::Utf16le => utf16(b, u16::from_le_bytes),
            Charset::Utf32 => units(b, 4, |u| Some(u32::from_be_bytes([u[0], u[1], u[2], u[3]]))),
            Charset::SingleByte(_, table) => {
                if b.is_ascii() {
                    return Some(Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default()));
                }
                let mut s = String::with_capacity(b.len() + 8);
                for &x in b {
                    let c = match x {
                        0..0x80 => u32::from(x),
                        _ => match table[usize::from(x - 0x80)] {
                            0 => return None,
                            c => u32::from(c),
                        },
                    };
                    s.push(char::from_u32(c)?);
                }
                Some(Cow::Owned(s))
            }
            Charset::Binary | Charset::Unknown => None,
        }
    }
}

/// The names of the single-byte character sets read here (besides `ascii`).
pub fn single_byte_sets() -> impl Iterator<Item = &'static str> {
    TABLES.iter().map(|(name, _)| *name)
}

/// Text made of fixed-size units, each one code point.
fn units(b: &[u8], size: usize, code: impl Fn(&[u8]) -> Option<u32>) -> Option<Cow<'static, str>> {
    if !b.len().is_multiple_of(size) {
        return None;
    }
    let mut s = String::with_capacity(b.len());
    for u in b.chunks_exact(size) {
        s.push(char::from_u32(code(u)?)?);
    }
    Some(Cow::Owned(s))
}

/// UTF-16 in the given byte order; unpaired surrogates are invalid.
fn utf16(b: &[u8], unit: fn([u8; 2]) -> u16) -> Option<Cow<'static, str>> {
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let it = b.chunks_exact(2).map(|u| unit([u[0], u[1]]));
    char::decode_utf16(it)
        .collect::<Result<String, _>>()
        .ok()
        .map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(collation: u16, b: &[u8]) -> Option<String> {
        Charset::of(Some(collation)).decode(b).map(Cow::into_owned)
    }

    #[test]
    fn each_set_reads_its_own_bytes() {
        // latin1 is Windows-1252 with the five holes mapped to C1 controls, as MariaDB has it.
        assert_eq!(text(8, b"caf\xe9 \x80").as_deref(), Some("café €"));
        assert_eq!(text(8, b"\x81").as_deref(), Some("\u{81}"));
        assert_eq!(text(8, "é".as_bytes()).as_deref(), Some("Ã©"));
        assert_eq!(text(45, "é".as_bytes()).as_deref(), Some("é"));
        assert_eq!(text(45, b"\xe9"), None);
        assert_eq!(
            text(33, "😀".as_bytes()),
            None,
            "utf8mb3 has no 4-byte characters"
        );
        assert_eq!(text(11, b"ok"), Some("ok".into()));
        assert_eq!(text(11, b"\xe9"), None);
        assert_eq!(text(35, b"\x00A\x00B").as_deref(), Some("AB"));
        assert_eq!(
            text(35, b"\xd8\x3d\xde\x00"),
            None,
            "ucs2 has no surrogates"
        );
        assert_eq!(text(54, b"\xd8\x3d\xde\x00").as_deref(), Some("😀"));
        assert_eq!(text(54, b"\xd8\x3d"), None, "unpaired surrogate");
        assert_eq!(text(56, b"A\x00").as_deref(), Some("A"));
        assert_eq!(text(60, b"\x00\x01\xf6\x00").as_deref(), Some("😀"));
        assert_eq!(text(60, b"\x00\x11\x00\x00"), None);
        assert_eq!(text(60, b"\x00\x00"), None, "a partial unit");
        assert_eq!(text(51, b"\xe0\xe1").as_deref(), Some("аб"));
        assert_eq!(text(51, b"\x98"), None, "cp1251 has no 0x98");
        assert_eq!(text(63, b"abc"), None, "binary is not text");
        assert_eq!(text(28, b"abc"), None, "gbk is not mapped here");
        assert_eq!(Charset::of(None).decode(b"abc"), None);
        assert!(matches!(text(8, b"plain"), Some(s) if s == "plain"));
    }

    #[test]
    fn tables_are_sorted_and_map_back() {
        assert!(TABLES.windows(2).all(|w| w[0].0 < w[1].0));
        for (name, table) in &TABLES {
            let mut seen = std::collections::HashSet::new();
            for &c in table.iter().filter(|&&c| c != 0) {
                assert!(c >= 0x80 && seen.insert(c), "{name}: {c:#x} twice or ASCII");
            }
        }
    }
}
