//! SQL text as the DDL reader needs it: a script cut into statements, comments taken out
//! (the inside of an executable comment `/*!50100 … */` or `/*M!100301 … */` kept, as the
//! server runs it), and a statement cut into tokens with their spans, so that its parts
//! (the definitions of CREATE TABLE, the clauses of ALTER TABLE) can be handed to the SQL
//! parser one by one.

/// Executable comments with a version at or above this are not run by any server (e.g.
/// mariadb-dump's `/*M!999999\- enable the sandbox mode */`): they are comments.
const NEVER_RUN_VERSION: u32 = 900_000;

/// One statement of a script: where it starts in the script (bytes), and its text with
/// comments taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the statement in the script.
    pub offset: usize,
    /// The statement without comments, trimmed, without its `;`.
    pub text: String,
}

/// Cuts a script into statements at `;` outside quotes and comments, taking comments out.
pub fn statements(script: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = None;
    let b = script.as_bytes();
    let mut i = 0;
    // Depth of executable comments being read (their end `*/` is dropped).
    let mut exec_depth = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let end = closing_quote(b, i, c);
                start.get_or_insert(i);
                cur.push_str(&script[i..end]);
                i = end;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()) =>
            {
                i = line_end(b, i);
                cur.push(' ');
                continue;
            }
            b'#' => {
                i = line_end(b, i);
                cur.push(' ');
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                if let Some((body, end)) = executable_comment(b, i) {
                    exec_depth += 1;
                    start.get_or_insert(i);
                    cur.push(' ');
                    i = body;
                    let _ = end;
                    continue;
                }
                let end = find(b, i + 2, b"*/").map_or(b.len(), |e| e + 2);
                cur.push(' ');
                i = end;
                continue;
            }
            b'*' if exec_depth > 0 && b.get(i + 1) == Some(&b'/') => {
                exec_depth -= 1;
                cur.push(' ');
                i += 2;
                continue;
            }
            b';' => {
                push_statement(&mut out, &mut cur, &mut start);
                i += 1;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            start.get_or_insert(i);
        }
        // Copy up to the next byte that needs a look.
        let next = b[i + 1..]
            .iter()
            .position(|x| b"'\"`-#/*;".contains(x))
            .map_or(b.len(), |p| i + 1 + p);
        cur.push_str(&script[i..next]);
        i = next;
    }
    push_statement(&mut out, &mut cur, &mut start);
    out
}

fn push_statement(out: &mut Vec<Statement>, cur: &mut String, start: &mut Option<usize>) {
    let text = cur.trim();
    if !text.is_empty() {
        out.push(Statement {
            offset: start.unwrap_or(0),
            text: text.to_string(),
        });
    }
    cur.clear();
    *start = None;
}

/// For an executable comment starting at `at` (`/*!`, `/*!NNNNN`, `/*M!NNNNNN`) that a
/// server runs: where its body starts.
fn executable_comment(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut i = at + 2;
    if b.get(i) == Some(&b'M') {
        i += 1;
    }
    if b.get(i) != Some(&b'!') {
        return None;
    }
    i += 1;
    let digits = b[i..].iter().take_while(|x| x.is_ascii_digit()).count();
    let version: u32 = std::str::from_utf8(&b[i..i + digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if digits > 0 && version >= NEVER_RUN_VERSION {
        return None;
    }
    Some((i + digits, i + digits))
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&x| x == b'\n')
        .map_or(b.len(), |p| from + p + 1)
}

fn find(b: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(what.len())
        .position(|w| w == what)
        .map(|p| from + p)
}

/// The index just past the quote that closes the one at `open` (backslash escapes in
/// strings, doubled quotes in both), or the end of the text.
fn closing_quote(b: &[u8], open: usize, q: u8) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        if b[i] == b'\\' && q != b'`' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word: keyword, unquoted name or number.
    Word,
    /// A name in backticks (or double quotes).
    Quoted,
    /// A string in single quotes.
    Str,
    /// One character of punctuation.
    Punct,
}

/// A token of a statement, by its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Start (bytes) in the statement.
    pub start: usize,
    /// End (bytes).
    pub end: usize,
}

/// A statement with its tokens.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    /// The statement.
    pub text: &'a str,
    /// Its tokens.
    pub toks: Vec<Token>,
}

impl<'a> Tokens<'a> {
    /// Cuts `text` (a statement without comments) into tokens.
    pub fn new(text: &'a str) -> Tokens<'a> {
        let b = text.as_bytes();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let (kind, end) = match c {
                b'`' | b'"' => (TokenKind::Quoted, closing_quote(b, i, c)),
                b'\'' => (TokenKind::Str, closing_quote(b, i, c)),
                _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                    let n = b[i..]
                        .iter()
                        .take_while(|&&x| {
                            x.is_ascii_alphanumeric() || x == b'_' || x == b'$' || x >= 0x80
                        })
                        .count();
                    (TokenKind::Word, i + n)
                }
                _ => (TokenKind::Punct, i + 1),
            };
            toks.push(Token {
                kind,
                start: i,
                end,
            });
            i = end;
        }
        Tokens { text, toks }
    }

    /// The text of token `i` as written.
    pub fn raw(&self, i: usize) -> &'a str {
        self.toks.get(i).map_or("", |t| &self.text[t.start..t.end])
    }

    /// Whether token `i` is the keyword `kw` (case-insensitive; never a quoted name).
    pub fn is(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == TokenKind::Word)
            && self.raw(i).eq_ignore_ascii_case(kw)
    }

    /// Whether token `i` is the punctuation `p`.
    pub fn is_punct(&self, i: usize, p: char) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == TokenKind::Punct) && self.raw(i).starts_with(p)
    }

    /// Whether the tokens from `i` are the keywords `kws`.
    pub fn are(&self, i: usize, kws: &[&str]) -> bool {
        kws.iter().enumerate().all(|(k, kw)| self.is(i + k, kw))
    }

    /// Token `i` as a name: unquoted, or a word as written.
    pub fn name(&self, i: usize) -> Option<String> {
        let t = self.toks.get(i)?;
        match t.kind {
            TokenKind::Word => Some(self.raw(i).to_string()),
            TokenKind::Quoted | TokenKind::Str => Some(unquote(self.raw(i))),
            TokenKind::Punct => None,
        }
    }

    /// A possibly qualified name starting at token `i` (`a`, `db`.`a`): its parts and the
    /// index after it.
    pub fn qualified_name(&self, i: usize) -> Option<(Option<String>, String, usize)> {
        let first = self.name(i)?;
        if self.is_punct(i + 1, '.') {
            let second = self.name(i + 2)?;
            return Some((Some(first), second, i + 3));
        }
        Some((None, first, i + 1))
    }

    /// The index of the token closing the parenthesis at `open`.
    pub fn closing_paren(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in open..self.toks.len() {
            if self.is_punct(i, '(') {
                depth += 1;
            } else if self.is_punct(i, ')') {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Splits tokens `from..to` at commas outside parentheses: the ranges of the parts.
    pub fn split_commas(&self, from: usize, to: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let (mut depth, mut start) = (0i32, from);
        for i in from..to {
            if self.is_punct(i, '(') {
                depth += 1;
            } else if self.is_punct(i, ')') {
                depth -= 1;
            } else if depth == 0 && self.is_punct(i, ',') {
                out.push((start, i));
                start = i + 1;
            }
        }
        if start < to {
            out.push((start, to));
        }
        out
    }

    /// The text of tokens `from..to`, as written.
    pub fn span(&self, from: usize, to: usize) -> &'a str {
        if from >= to || from >= self.toks.len() {
            return "";
        }
        let end = self.toks[to.min(self.toks.len()) - 1].end;
        &self.text[self.toks[from].start..end]
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }
}

/// Removes the quotes of a quoted name or string, undoing doubled quotes (and backslash
/// escapes in strings).
pub fn unquote(s: &str) -> String {
    let Some(q) = s.chars().next().filter(|c| matches!(c, '`' | '"' | '\'')) else {
        return s.to_string();
    };
    let inner = s
        .strip_prefix(q)
        .map(|r| r.strip_suffix(q).unwrap_or(r))
        .unwrap_or(s);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == q && chars.peek() == Some(&q) {
            chars.next();
            out.push(q);
        } else if c == '\\' && q != '`' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('Z') => out.push('\x1a'),
                Some(x) => out.push(x),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A name quoted with backticks.
pub fn quote(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    crate::sql::quote_ident(name, &mut s);
    s
}

/// The start of a statement for messages: its first 120 characters on one line.
pub fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_cut_into_statements_without_comments() {
        let s = statements(
            "/*M!999999\\- enable the sandbox mode */\n-- a comment; with a semicolon\n\
             /*!40101 SET NAMES utf8mb4 */;\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `a;b` \
             /*!40100 DEFAULT CHARACTER SET latin1 */;\n# another\nCREATE TABLE t (c VARCHAR(3) \
             DEFAULT 'x;y' /* in */ COMMENT 'it''s') /*!50100 PARTITION BY KEY (c) */",
        );
        let texts: Vec<_> = s
            .iter()
            .map(|s| s.text.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            texts,
            [
                "SET NAMES utf8mb4",
                "CREATE DATABASE IF NOT EXISTS `a;b` DEFAULT CHARACTER SET latin1",
                "CREATE TABLE t (c VARCHAR(3) DEFAULT 'x;y' COMMENT 'it''s') PARTITION BY KEY (c)",
            ]
        );
    }

    #[test]
    fn tokens_and_names() {
        let t = Tokens::new("ALTER TABLE `d``b`.t2 ADD (a INT, b ENUM('x,y')), DROP c");
        assert!(t.are(0, &["alter", "TABLE"]));
        assert_eq!(
            t.qualified_name(2),
            Some((Some("d`b".into()), "t2".into(), 5))
        );
        let open = 6;
        assert!(t.is_punct(open, '('));
        let close = t.closing_paren(open).unwrap();
        assert_eq!(t.split_commas(open + 1, close).len(), 2);
        assert_eq!(t.split_commas(5, t.len()).len(), 2);
        assert_eq!(unquote("'a\\'b''c'"), "a'b'c");
        assert_eq!(quote("a`b"), "`a``b`");
    }
}
