//! Column names and primary keys from CREATE TABLE statements (`mysqldump --no-data`
//! output, `SHOW CREATE TABLE` text), for binlogs written with
//! `binlog_row_metadata=MINIMAL`, whose TABLE_MAP events carry no names.
//!
//! This is a tolerant reader of the statements, not an SQL parser: it finds
//! `CREATE TABLE name (…)`, splits the definitions at top-level commas, and takes column
//! names and `PRIMARY KEY (…)` from them. `USE db` statements set the database of the
//! tables that follow.

use std::collections::HashMap;

/// One table's names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableSchema {
    /// Column names in order.
    pub columns: Vec<String>,
    /// Primary key column indexes.
    pub primary_key: Vec<usize>,
}

/// Tables found in a schema text, by `(database, table)`; the database is empty for tables
/// seen before any `USE` and without a qualified name.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: HashMap<(String, String), TableSchema>,
}

impl Schema {
    /// Reads every CREATE TABLE in `text`.
    pub fn parse(text: &str) -> Schema {
        let mut schema = Schema::default();
        let mut db = String::new();
        for stmt in statements(text) {
            let stmt = strip_leading_comments(stmt);
            let words = tokens(stmt);
            let upper: Vec<String> = words
                .iter()
                .take(6)
                .map(|w| w.to_ascii_uppercase())
                .collect();
            if upper.first().map(String::as_str) == Some("USE") {
                if let Some(d) = words.get(1) {
                    db = unquote(d);
                }
                continue;
            }
            if upper.first().map(String::as_str) != Some("CREATE") {
                continue;
            }
            let Some(t) = upper.iter().position(|w| w == "TABLE") else {
                continue;
            };
            let mut k = t + 1;
            if upper.get(k).map(String::as_str) == Some("IF") {
                k += 3;
            }
            let Some(name) = words.get(k) else { continue };
            let (tdb, table) = split_qualified(name, &db);
            let Some(open) = stmt.find('(') else { continue };
            let Some(close) = matching_paren(stmt, open) else {
                continue;
            };
            schema
                .tables
                .insert((tdb, table), parse_definitions(&stmt[open + 1..close]));
        }
        schema
    }

    /// The table `db.table`, or a table of that name read without a database.
    pub fn table(&self, db: &str, table: &str) -> Option<&TableSchema> {
        self.tables
            .get(&(db.to_string(), table.to_string()))
            .or_else(|| self.tables.get(&(String::new(), table.to_string())))
    }

    /// Number of tables read.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether no table was read.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// The index of the quote that closes the one at `open` (backslash escapes in strings,
/// none in identifiers), or the end of the text.
fn closing_quote(b: &[u8], open: usize, q: u8) -> usize {
    let mut i = open + 1;
    while i < b.len() && b[i] != q {
        if b[i] == b'\\' && q != b'`' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// Splits SQL text into statements at semicolons outside quotes and comments.
fn statements(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => i = closing_quote(b, i, q),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') && b.get(i + 2) != Some(&b'!') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() && !text[start..].trim().is_empty() {
        out.push(text[start..].trim());
    }
    out
}

/// The statement without the comments (and blank lines) in front of it.
fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if s.starts_with("--") || s.starts_with('#') {
            s = s.find('\n').map_or("", |i| &s[i + 1..]);
        } else if s.starts_with("/*") && !s.starts_with("/*!") {
            s = s.find("*/").map_or("", |i| &s[i + 2..]);
        } else {
            return s;
        }
    }
}

/// Words of a statement: quoted identifiers whole, punctuation separate; enough to find
/// keywords and names at the start of statements and definitions.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '`' || c == '"' {
            let q = c;
            let mut t = String::from(q);
            chars.next();
            while let Some(c) = chars.next() {
                t.push(c);
                if c == q {
                    if chars.peek() == Some(&q) {
                        t.push(q);
                        chars.next();
                        continue;
                    }
                    break;
                }
            }
            // A qualified name `db`.`t` stays one token.
            if chars.peek() == Some(&'.') {
                chars.next();
                t.push('.');
                continue_word(&mut chars, &mut t);
            }
            out.push(t);
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut t = String::new();
            continue_word(&mut chars, &mut t);
            out.push(t);
        } else {
            out.push(c.to_string());
            chars.next();
        }
    }
    out
}

fn continue_word(chars: &mut std::iter::Peekable<std::str::Chars>, t: &mut String) {
    if chars.peek() == Some(&'`') {
        chars.next();
        t.push('`');
        for c in chars.by_ref() {
            t.push(c);
            if c == '`' {
                break;
            }
        }
        return;
    }
    while let Some(&c) = chars.peek() {
        if c.is_alphanumeric() || c == '_' || c == '$' || c == '.' {
            t.push(c);
            chars.next();
        } else if c == '`' {
            // `db`.`t` after a bare db name
            chars.next();
            t.push('`');
            for c in chars.by_ref() {
                t.push(c);
                if c == '`' {
                    break;
                }
            }
        } else {
            break;
        }
    }
}

/// Removes identifier quotes: `` `a``b` `` → ``a`b``.
fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && (s.starts_with('`') && s.ends_with('`') || s.starts_with('"') && s.ends_with('"'))
    {
        let q = &s[..1];
        s[1..s.len() - 1].replace(&format!("{q}{q}"), q)
    } else {
        s.to_string()
    }
}

/// `db.table` (quoted or not) into its parts, with `default_db` when unqualified.
fn split_qualified(name: &str, default_db: &str) -> (String, String) {
    // Split at a dot outside backticks.
    let mut in_q = false;
    for (i, c) in name.char_indices() {
        match c {
            '`' => in_q = !in_q,
            '.' if !in_q => return (unquote(&name[..i]), unquote(&name[i + 1..])),
            _ => {}
        }
    }
    (default_db.to_string(), unquote(name))
}

fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0i32;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => i = closing_quote(b, i, q),
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits at commas outside parentheses and quotes.
fn top_level_parts(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => i = closing_quote(b, i, q),
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(s[start..].trim());
    out
}

const NOT_COLUMNS: &[&str] = &[
    "PRIMARY",
    "KEY",
    "INDEX",
    "UNIQUE",
    "CONSTRAINT",
    "FOREIGN",
    "FULLTEXT",
    "SPATIAL",
    "CHECK",
    "PERIOD",
    "VECTOR",
];

fn parse_definitions(body: &str) -> TableSchema {
    let mut t = TableSchema::default();
    let mut pk_names: Vec<String> = Vec::new();
    for def in top_level_parts(body) {
        let words = tokens(def);
        let Some(first) = words.first() else { continue };
        let upper = first.to_ascii_uppercase();
        let quoted = first.starts_with('`') || first.starts_with('"');
        if !quoted && NOT_COLUMNS.contains(&upper.as_str()) {
            let is_pk = upper == "PRIMARY"
                || (upper == "CONSTRAINT"
                    && words.iter().any(|w| w.eq_ignore_ascii_case("PRIMARY")));
            if is_pk {
                if let (Some(o), Some(c)) = (def.find('('), def.rfind(')')) {
                    for part in top_level_parts(&def[o + 1..c]) {
                        let name = tokens(part).first().map(|n| unquote(n)).unwrap_or_default();
                        if !name.is_empty() {
                            pk_names.push(name);
                        }
                    }
                }
            }
            continue;
        }
        let name = unquote(first);
        let upper_words: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        if upper_words
            .windows(2)
            .any(|w| w[0] == "PRIMARY" && w[1] == "KEY")
        {
            pk_names.push(name.clone());
        }
        t.columns.push(name);
    }
    t.primary_key = pk_names
        .iter()
        .filter_map(|n| t.columns.iter().position(|c| c.eq_ignore_ascii_case(n)))
        .collect();
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mysqldump_output() {
        let text = r#"
-- MySQL dump, with a comment right before a statement
/* and a block comment */
/*!40101 SET NAMES utf8mb4 */;
USE `shop`;
DROP TABLE IF EXISTS `orders`;
CREATE TABLE `orders` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `note` varchar(20) DEFAULT 'a,b;c',
  `price` decimal(10,2) DEFAULT NULL,
  `st` enum('x','y') DEFAULT NULL,
  PRIMARY KEY (`id`,`note`(5)),
  KEY `k` (`price`),
  CONSTRAINT `c1` CHECK (`price` > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS other.t2 (a INT PRIMARY KEY, `b``q` TEXT);
"#;
        let s = Schema::parse(text);
        assert_eq!(s.len(), 2);
        let o = s.table("shop", "orders").unwrap();
        assert_eq!(o.columns, ["id", "note", "price", "st"]);
        assert_eq!(o.primary_key, [0, 1]);
        let t = s.table("other", "t2").unwrap();
        assert_eq!(t.columns, ["a", "b`q"]);
        assert_eq!(t.primary_key, [0]);
        assert!(s.table("shop", "t2").is_none());
    }
}
