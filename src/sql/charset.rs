//! Collation numbers (as TABLE_MAP metadata and QUERY/USER_VAR events carry them) to
//! character set names: MySQL's numbering, which MariaDB shares below 2048, and MariaDB's
//! UCA 14.0.0 numbers past it.

/// The character set of each MySQL collation number (`""`: no such collation), as
/// `information_schema.COLLATIONS` lists them (MySQL 8.0).
const MYSQL_CHARSETS: [&str; 324] = [
    "", "big5", "latin2", "dec8", "cp850", "latin1", "hp8", "koi8r", "latin1", "latin2", "swe7",
    "ascii", "ujis", "sjis", "cp1251", "latin1", "hebrew", "", "tis620", "euckr", "latin7",
    "latin2", "koi8u", "cp1251", "gb2312", "greek", "cp1250", "latin2", "gbk", "cp1257", "latin5",
    "latin1", "armscii8", "utf8mb3", "cp1250", "ucs2", "cp866", "keybcs2", "macce", "macroman",
    "cp852", "latin7", "latin7", "macce", "cp1250", "utf8mb4", "utf8mb4", "latin1", "latin1",
    "latin1", "cp1251", "cp1251", "cp1251", "macroman", "utf16", "utf16", "utf16le", "cp1256",
    "cp1257", "cp1257", "utf32", "utf32", "utf16le", "binary", "armscii8", "ascii", "cp1250",
    "cp1256", "cp866", "dec8", "greek", "hebrew", "hp8", "keybcs2", "koi8r", "koi8u", "utf8mb3",
    "latin2", "latin5", "latin7", "cp850", "cp852", "swe7", "utf8mb3", "big5", "euckr", "gb2312",
    "gbk", "sjis", "tis620", "ucs2", "ujis", "geostd8", "geostd8", "latin1", "cp932", "cp932",
    "eucjpms", "eucjpms", "cp1250", "", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16",
    "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16",
    "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "", "", "", "ucs2",
    "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2",
    "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "", "",
    "", "", "", "", "", "ucs2", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32",
    "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32",
    "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "", "", "", "", "", "", "", "",
    "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3",
    "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3",
    "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "", "",
    "", "", "", "", "", "utf8mb3", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "gb18030", "gb18030", "gb18030", "", "", "", "", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "",
    "utf8mb4", "utf8mb4", "utf8mb4", "", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "", "utf8mb4", "utf8mb4", "utf8mb4", "",
    "utf8mb4", "", "", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
    "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
];

/// The character set name of a collation number (`utf8mb4`, `latin1`, `binary`), when
/// known.
pub fn charset_name(collation: u16) -> Option<&'static str> {
    match MYSQL_CHARSETS.get(usize::from(collation)) {
        Some(name) if !name.is_empty() => Some(name),
        _ => mariadb_charset(collation),
    }
}

/// MariaDB collation numbers past MySQL's table: the UCA 14.0.0 ones (2048+) carry the
/// character set in bits 8–10, as MariaDB numbers them.
fn mariadb_charset(id: u16) -> Option<&'static str> {
    if id >= 2048 {
        return match (id >> 8) & 7 {
            0 => Some("utf8mb3"),
            1 => Some("utf8mb4"),
            2 => Some("ucs2"),
            3 => Some("utf16"),
            4 => Some("utf32"),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names() {
        assert_eq!(charset_name(45), Some("utf8mb4"));
        assert_eq!(charset_name(8), Some("latin1"));
        assert_eq!(charset_name(63), Some("binary"));
        assert_eq!(charset_name(0), None);
        assert_eq!(charset_name(2048 + 256 + 5), Some("utf8mb4"));
    }

    /// The table is mysql_common's (an independent list of the server's collations).
    #[test]
    fn matches_mysql_common() {
        use mysql_common::collations::{Collation, CollationId};
        for id in 0..4096u16 {
            let c = Collation::from(CollationId::from(id));
            let theirs = match c.id() {
                CollationId::UNKNOWN_COLLATION_ID => mariadb_charset(id),
                _ => Some(c.charset()),
            };
            assert_eq!(charset_name(id), theirs, "collation {id}");
        }
    }
}
