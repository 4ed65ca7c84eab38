//! What kind of SQL statement a QUERY event holds, from its first keyword: enough to tell
//! transaction control, DDL and data changes apart without parsing SQL; and, for the
//! common statements that change tables, which tables or database they name
//! ([`targets`]).

/// The first keyword of a statement: after white space, `#` and `-- ` comments, plain
/// `/* … */` comments and opening parentheses. A versioned comment (`/*!40101 …`) holds
/// the statement itself, so its inside is read.
pub fn first_keyword(text: &[u8]) -> &[u8] {
    let mut t = text;
    loop {
        let start = t
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != b'(')
            .unwrap_or(t.len());
        t = &t[start..];
        if let Some(rest) = t.strip_prefix(b"/*!") {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            t = &rest[digits..];
        } else if let Some(rest) = t.strip_prefix(b"/*") {
            match rest.windows(2).position(|w| w == b"*/") {
                Some(e) => t = &rest[e + 2..],
                None => return &[],
            }
        } else if t.starts_with(b"#") || t.starts_with(b"-- ") {
            match t.iter().position(|&b| b == b'\n') {
                Some(e) => t = &t[e + 1..],
                None => return &[],
            }
        } else {
            break;
        }
    }
    let end = t
        .iter()
        .position(|b| !b.is_ascii_alphabetic() && *b != b'_')
        .unwrap_or(t.len());
    &t[..end]
}

fn keyword_in(text: &[u8], words: &[&str]) -> bool {
    let w = first_keyword(text);
    words.iter().any(|k| w.eq_ignore_ascii_case(k.as_bytes()))
}

/// Whether a statement changes a schema (CREATE, ALTER, DROP, RENAME, TRUNCATE) or
/// privileges (GRANT, REVOKE).
pub fn is_ddl(text: &[u8]) -> bool {
    keyword_in(
        text,
        &[
            "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "GRANT", "REVOKE",
        ],
    )
}

/// Whether a statement changes rows (as opposed to DDL and administration).
pub fn is_dml(text: &[u8]) -> bool {
    keyword_in(
        text,
        &[
            "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD", "CALL", "DO", "WITH", "SELECT",
        ],
    )
}

/// Whether a statement only controls a transaction (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
/// RELEASE, XA …, START TRANSACTION).
pub fn is_transaction_control(text: &[u8]) -> bool {
    keyword_in(
        text,
        &[
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT",
            "RELEASE",
            "XA",
            "START",
        ],
    )
}

/// A statement's text shortened for a message: on one line, at most 60 characters.
pub fn excerpt(text: &[u8]) -> String {
    let s = String::from_utf8_lossy(text);
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// A table a statement names: its database when the statement qualifies it, and the
/// table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// The database written before the table (`db.t`), or `None` for the session's.
    pub db: Option<String>,
    /// The table.
    pub table: String,
}

/// What a statement changes, as far as its text tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// These tables (and nothing else): CREATE, ALTER, DROP, RENAME, TRUNCATE TABLE,
    /// CREATE/DROP INDEX, single-table INSERT, REPLACE, UPDATE, DELETE, LOAD DATA, and
    /// OPTIMIZE/ANALYZE/REPAIR TABLE.
    Tables(Vec<TableName>),
    /// A whole database: CREATE, ALTER or DROP DATABASE (or SCHEMA). `drops` is true for
    /// DROP, which removes its tables.
    Database {
        /// The database.
        name: String,
        /// Whether the statement drops it.
        drops: bool,
    },
    /// No table's columns or rows: views, triggers, routines, events, accounts,
    /// privileges, transaction control, SET, FLUSH.
    NoTable,
    /// Cannot tell from the text (multi-table changes, CALL, unusual syntax).
    Unknown,
}

/// Reads which tables or database a statement changes. Conservative: whatever it cannot
/// read with certainty is [`Targets::Unknown`].
pub fn targets(text: &[u8]) -> Targets {
    let toks = tokens(text);
    let mut p = Parser { toks: &toks, i: 0 };
    p.statement().unwrap_or(Targets::Unknown)
}

/// A token of a statement: a word or identifier (quoted or not), or one punctuation byte.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An unquoted word (keyword or identifier).
    Word(String),
    /// A back-quoted (or double-quoted) identifier.
    Quoted(String),
    /// A string literal (its text does not matter here).
    Str,
    /// `.`, `,`, `(`, `)`, `;`, `=`, and any other byte.
    Punct(u8),
}

/// Splits a statement into tokens, skipping white space and comments; the inside of a
/// versioned comment (`/*!40101 … */`) is read as text.
fn tokens(text: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = text.len();
    while i < n {
        let b = text[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with(b"/*!") || text[i..].starts_with(b"/*M!") {
            i += if text[i..].starts_with(b"/*M!") { 4 } else { 3 };
            while i < n && text[i].is_ascii_digit() {
                i += 1;
            }
        } else if text[i..].starts_with(b"*/") {
            // The end of a versioned comment.
            i += 2;
        } else if text[i..].starts_with(b"/*") {
            match text[i + 2..].windows(2).position(|w| w == b"*/") {
                Some(e) => i += 2 + e + 2,
                None => break,
            }
        } else if b == b'#' || text[i..].starts_with(b"-- ") || text[i..].starts_with(b"--\n") {
            match text[i..].iter().position(|&c| c == b'\n') {
                Some(e) => i += e + 1,
                None => break,
            }
        } else if b == b'`' || b == b'"' {
            // `a``b` is a name with a back quote in it.
            let mut name = Vec::new();
            let mut j = i + 1;
            loop {
                match text.get(j) {
                    None => return out,
                    Some(&c) if c == b && text.get(j + 1) == Some(&b) => {
                        name.push(b);
                        j += 2;
                    }
                    Some(&c) if c == b => break,
                    Some(&c) => {
                        name.push(c);
                        j += 1;
                    }
                }
            }
            out.push(Tok::Quoted(String::from_utf8_lossy(&name).into_owned()));
            i = j + 1;
        } else if b == b'\'' {
            let mut j = i + 1;
            loop {
                match text.get(j) {
                    None => return out,
                    Some(b'\\') => j += 2,
                    Some(b'\'') if text.get(j + 1) == Some(&b'\'') => j += 2,
                    Some(b'\'') => break,
                    Some(_) => j += 1,
                }
            }
            out.push(Tok::Str);
            i = j + 1;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 {
            let start = i;
            while i < n
                && (text[i].is_ascii_alphanumeric()
                    || text[i] == b'_'
                    || text[i] == b'$'
                    || text[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Tok::Word(
                String::from_utf8_lossy(&text[start..i]).into_owned(),
            ));
        } else {
            out.push(Tok::Punct(b));
            i += 1;
        }
    }
    out
}

/// A reader over the tokens of one statement. Each method returns `None` where the text
/// is not what it expects, which [`targets`] turns into [`Targets::Unknown`].
struct Parser<'t> {
    toks: &'t [Tok],
    i: usize,
}

impl Parser<'_> {
    fn peek_word(&self) -> Option<&str> {
        match self.toks.get(self.i) {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }

    /// Takes the next token when it is the keyword `k`.
    fn eat(&mut self, k: &str) -> bool {
        if self.peek_word().is_some_and(|w| w.eq_ignore_ascii_case(k)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Takes the keywords `ks` when they come next, in order.
    fn eat_all(&mut self, ks: &[&str]) -> bool {
        let save = self.i;
        if ks.iter().all(|k| self.eat(k)) {
            true
        } else {
            self.i = save;
            false
        }
    }

    fn eat_punct(&mut self, p: u8) -> bool {
        if self.toks.get(self.i) == Some(&Tok::Punct(p)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn at_end(&self) -> bool {
        matches!(self.toks.get(self.i), None | Some(Tok::Punct(b';')))
    }

    fn ident(&mut self) -> Option<String> {
        let t = match self.toks.get(self.i)? {
            Tok::Word(w) | Tok::Quoted(w) => w.clone(),
            _ => return None,
        };
        self.i += 1;
        Some(t)
    }

    /// `name` or `db.name`.
    fn table_name(&mut self) -> Option<TableName> {
        let first = self.ident()?;
        if self.eat_punct(b'.') {
            let table = self.ident()?;
            Some(TableName {
                db: Some(first),
                table,
            })
        } else {
            Some(TableName {
                db: None,
                table: first,
            })
        }
    }

    /// `name [, name ...]`.
    fn table_list(&mut self) -> Option<Vec<TableName>> {
        let mut v = vec![self.table_name()?];
        while self.eat_punct(b',') {
            v.push(self.table_name()?);
        }
        Some(v)
    }

    fn statement(&mut self) -> Option<Targets> {
        if self.toks.is_empty() {
            return Some(Targets::NoTable);
        }
        let first = self.peek_word()?.to_ascii_uppercase();
        self.i += 1;
        match first.as_str() {
            "CREATE" => self.create(),
            "ALTER" => self.alter(),
            "DROP" => self.drop(),
            "RENAME" => {
                if !self.eat("TABLE") && !self.eat("TABLES") {
                    // RENAME USER
                    return Some(Targets::NoTable);
                }
                self.eat_all(&["IF", "EXISTS"]);
                let mut v = Vec::new();
                loop {
                    v.push(self.table_name()?);
                    self.eat_wait();
                    if !self.eat("TO") {
                        return None;
                    }
                    v.push(self.table_name()?);
                    if !self.eat_punct(b',') {
                        break;
                    }
                    self.eat_all(&["IF", "EXISTS"]);
                }
                self.at_end().then_some(Targets::Tables(v))
            }
            "TRUNCATE" => {
                self.eat("TABLE");
                let t = self.table_name()?;
                self.eat_wait();
                self.at_end().then_some(Targets::Tables(vec![t]))
            }
            "INSERT" | "REPLACE" => {
                while self.eat("LOW_PRIORITY")
                    || self.eat("DELAYED")
                    || self.eat("HIGH_PRIORITY")
                    || self.eat("IGNORE")
                {}
                self.eat("INTO");
                let t = self.table_name()?;
                Some(Targets::Tables(vec![t]))
            }
            "UPDATE" => {
                while self.eat("LOW_PRIORITY") || self.eat("IGNORE") {}
                let t = self.table_name()?;
                // `UPDATE t [AS] a SET`; a join or a list names more tables.
                if !self.eat("SET") {
                    self.eat("AS");
                    self.ident()?;
                    if !self.eat("SET") {
                        return None;
                    }
                }
                Some(Targets::Tables(vec![t]))
            }
            "DELETE" => {
                while self.eat("LOW_PRIORITY") || self.eat("QUICK") || self.eat("IGNORE") {}
                if !self.eat("FROM") {
                    return None;
                }
                let t = self.table_name()?;
                // `DELETE FROM t [AS a] [WHERE|ORDER|LIMIT|RETURNING|PARTITION]`; USING or a
                // list names more tables.
                self.eat("AS");
                let next = self.peek_word().map(str::to_ascii_uppercase);
                let single = self.at_end()
                    || matches!(
                        next.as_deref(),
                        Some("WHERE" | "ORDER" | "LIMIT" | "RETURNING" | "PARTITION" | "FOR")
                    );
                single.then_some(Targets::Tables(vec![t]))
            }
            "LOAD" => {
                // LOAD DATA [LOCAL] INFILE 'f' [REPLACE|IGNORE] INTO TABLE t
                while !self.at_end() {
                    if self.eat_all(&["INTO", "TABLE"]) {
                        return Some(Targets::Tables(vec![self.table_name()?]));
                    }
                    self.i += 1;
                }
                None
            }
            "OPTIMIZE" | "ANALYZE" | "REPAIR" => {
                self.eat("NO_WRITE_TO_BINLOG");
                self.eat("LOCAL");
                if !self.eat("TABLE") {
                    return None;
                }
                Some(Targets::Tables(self.table_list()?))
            }
            "GRANT" | "REVOKE" | "SET" | "FLUSH" | "BEGIN" | "COMMIT" | "ROLLBACK"
            | "SAVEPOINT" | "RELEASE" | "XA" | "START" => Some(Targets::NoTable),
            _ => None,
        }
    }

    /// MariaDB's `WAIT n` / `NOWAIT` after a table name.
    fn eat_wait(&mut self) {
        if self.eat("WAIT") {
            self.i += 1;
        } else {
            self.eat("NOWAIT");
        }
    }

    /// The words between CREATE and the kind of object.
    fn create(&mut self) -> Option<Targets> {
        self.eat_all(&["OR", "REPLACE"]);
        loop {
            if self.eat("DEFINER") {
                // DEFINER = user@host, `user`@`host`, CURRENT_USER[()]
                self.eat_punct(b'=');
                while !self.at_end() && !self.peek_word().is_some_and(is_object_kind) {
                    self.i += 1;
                }
                continue;
            }
            if self.eat("TEMPORARY")
                || self.eat("ONLINE")
                || self.eat("OFFLINE")
                || self.eat("UNIQUE")
                || self.eat("FULLTEXT")
                || self.eat("SPATIAL")
                || self.eat("AGGREGATE")
            {
                continue;
            }
            if self.eat("ALGORITHM") {
                self.eat_punct(b'=');
                self.ident()?;
                continue;
            }
            if self.eat_all(&["SQL", "SECURITY"]) {
                self.ident()?;
                continue;
            }
            break;
        }
        let kind = self.peek_word()?.to_ascii_uppercase();
        self.i += 1;
        match kind.as_str() {
            "TABLE" | "SEQUENCE" => {
                self.eat_all(&["IF", "NOT", "EXISTS"]);
                Some(Targets::Tables(vec![self.table_name()?]))
            }
            "DATABASE" | "SCHEMA" => {
                self.eat_all(&["IF", "NOT", "EXISTS"]);
                Some(Targets::Database {
                    name: self.ident()?,
                    drops: false,
                })
            }
            "INDEX" => {
                self.eat_all(&["IF", "NOT", "EXISTS"]);
                self.ident()?;
                if self.eat("USING") {
                    self.ident()?;
                }
                if !self.eat("ON") {
                    return None;
                }
                Some(Targets::Tables(vec![self.table_name()?]))
            }
            k if is_object_kind(k) => Some(Targets::NoTable),
            _ => None,
        }
    }

    fn alter(&mut self) -> Option<Targets> {
        while self.eat("ONLINE") || self.eat("IGNORE") {}
        if self.eat("TABLE") || self.eat("SEQUENCE") {
            self.eat_all(&["IF", "EXISTS"]);
            let t = self.table_name()?;
            let mut v = vec![t];
            // `ALTER TABLE a RENAME [TO|AS] b` names b too.
            while !self.at_end() {
                if self.eat("RENAME") {
                    if self.eat("COLUMN") || self.eat("INDEX") || self.eat("KEY") {
                        continue;
                    }
                    let _ = self.eat("TO") || self.eat("AS");
                    if let Some(n) = self.table_name() {
                        v.push(n);
                    }
                    continue;
                }
                self.i += 1;
            }
            return Some(Targets::Tables(v));
        }
        if self.eat("DATABASE") || self.eat("SCHEMA") {
            // `ALTER DATABASE [name] CHARACTER SET ...`: the name is optional.
            let name = match self.peek_word().map(str::to_ascii_uppercase).as_deref() {
                Some("DEFAULT" | "CHARACTER" | "CHARSET" | "COLLATE" | "COMMENT" | "UPGRADE") => {
                    return None
                }
                _ => self.ident()?,
            };
            return Some(Targets::Database { name, drops: false });
        }
        let kind = self.peek_word()?.to_ascii_uppercase();
        is_object_kind(&kind).then_some(Targets::NoTable)
    }

    fn drop(&mut self) -> Option<Targets> {
        self.eat("TEMPORARY");
        if self.eat("TABLE") || self.eat("TABLES") || self.eat("SEQUENCE") {
            self.eat_all(&["IF", "EXISTS"]);
            let v = self.table_list()?;
            self.eat_wait();
            self.eat("RESTRICT");
            self.eat("CASCADE");
            return self.at_end().then_some(Targets::Tables(v));
        }
        if self.eat("DATABASE") || self.eat("SCHEMA") {
            self.eat_all(&["IF", "EXISTS"]);
            return Some(Targets::Database {
                name: self.ident()?,
                drops: true,
            });
        }
        if self.eat("INDEX") {
            self.eat_all(&["IF", "EXISTS"]);
            self.ident()?;
            if !self.eat("ON") {
                return None;
            }
            return Some(Targets::Tables(vec![self.table_name()?]));
        }
        let kind = self.peek_word()?.to_ascii_uppercase();
        is_object_kind(&kind).then_some(Targets::NoTable)
    }
}

/// Whether a DDL statement may change a table's columns (their number, order, types) or
/// replace the table, so that row images logged before it no longer fit the table. False
/// only for what certainly does not: CREATE and DROP INDEX, and ALTER TABLE whose every
/// change is to an index, a key, a constraint or a table option (COMMENT, ENGINE,
/// AUTO_INCREMENT, ...).
pub fn may_change_columns(text: &[u8]) -> bool {
    let toks = tokens(text);
    let word = |i: usize| match toks.get(i) {
        Some(Tok::Word(w)) => Some(w.to_ascii_uppercase()),
        _ => None,
    };
    match word(0).as_deref() {
        Some("CREATE") => {
            let mut i = 1;
            while matches!(
                word(i).as_deref(),
                Some("OR" | "REPLACE" | "UNIQUE" | "FULLTEXT" | "SPATIAL" | "ONLINE" | "OFFLINE")
            ) {
                i += 1;
            }
            word(i).as_deref() != Some("INDEX")
        }
        Some("DROP") => word(1).as_deref() != Some("INDEX"),
        Some("ALTER") => {
            let mut p = Parser { toks: &toks, i: 1 };
            while p.eat("ONLINE") || p.eat("IGNORE") {}
            if !p.eat("TABLE") {
                return true;
            }
            p.eat_all(&["IF", "EXISTS"]);
            if p.table_name().is_none() {
                return true;
            }
            // Each change, up to a comma outside parentheses.
            loop {
                if p.at_end() {
                    return false;
                }
                if !p.keeps_columns() {
                    return true;
                }
                let mut depth = 0usize;
                loop {
                    match p.toks.get(p.i) {
                        None | Some(Tok::Punct(b';')) => break,
                        Some(Tok::Punct(b'(')) => depth += 1,
                        Some(Tok::Punct(b')')) => depth = depth.saturating_sub(1),
                        Some(Tok::Punct(b',')) if depth == 0 => {
                            p.i += 1;
                            break;
                        }
                        _ => {}
                    }
                    p.i += 1;
                }
            }
        }
        _ => true,
    }
}

impl Parser<'_> {
    /// Whether the ALTER TABLE change that starts here leaves the columns alone.
    fn keeps_columns(&mut self) -> bool {
        const OPTIONS: &[&str] = &[
            "COMMENT",
            "AUTO_INCREMENT",
            "ENGINE",
            "ROW_FORMAT",
            "KEY_BLOCK_SIZE",
            "STATS_AUTO_RECALC",
            "STATS_PERSISTENT",
            "STATS_SAMPLE_PAGES",
            "PACK_KEYS",
            "CHECKSUM",
            "PAGE_CHECKSUM",
            "DELAY_KEY_WRITE",
            "MAX_ROWS",
            "MIN_ROWS",
            "AVG_ROW_LENGTH",
            "ALGORITHM",
            "LOCK",
            "FORCE",
            "ENABLE",
            "DISABLE",
        ];
        const KEYS: &[&str] = &[
            "INDEX",
            "KEY",
            "UNIQUE",
            "FULLTEXT",
            "SPATIAL",
            "CONSTRAINT",
            "FOREIGN",
            "CHECK",
        ];
        let Some(w) = self.peek_word().map(str::to_ascii_uppercase) else {
            return false;
        };
        self.i += 1;
        let next = self.peek_word().map(str::to_ascii_uppercase);
        let next_is = |list: &[&str]| next.as_deref().is_some_and(|n| list.contains(&n));
        match w.as_str() {
            w if OPTIONS.contains(&w) => true,
            "ADD" | "DROP" => next_is(KEYS),
            "RENAME" | "ALTER" => next_is(&["INDEX", "KEY"]),
            _ => false,
        }
    }
}

/// Objects whose creation or removal changes no table's columns or rows.
fn is_object_kind(w: &str) -> bool {
    [
        "VIEW",
        "TRIGGER",
        "PROCEDURE",
        "FUNCTION",
        "EVENT",
        "USER",
        "ROLE",
        "SERVER",
        "PACKAGE",
        "RESOURCE",
        "SPATIAL_REFERENCE",
        "LOGFILE",
        "TABLESPACE",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_told_apart() {
        assert!(is_ddl(b"CREATE TABLE t (a int)"));
        assert!(is_ddl(b"  /* x */ drop table t"));
        assert!(is_ddl(b"/*!40000 ALTER TABLE t DISABLE KEYS */"));
        assert!(!is_ddl(b"INSERT INTO t VALUES (1)"));
        assert!(is_transaction_control(b"BEGIN"));
        assert!(is_transaction_control(b"  SAVEPOINT `s1`"));
        assert!(is_transaction_control(b"XA END X'78',X'',1"));
        assert!(!is_transaction_control(b"INSERT INTO t VALUES (1)"));
        assert!(is_dml(b"/* c */ insert into t values (1)"));
        assert!(is_dml(b"# comment\nUPDATE t SET a = 1"));
        assert!(is_dml(b"(SELECT 1)"));
        assert!(!is_dml(b"ALTER TABLE t ADD COLUMN c INT"));
        assert!(!is_dml(b"CREATE TABLE ins (a INT)"));
        assert!(first_keyword(b"/* unterminated").is_empty());
    }

    fn t(db: Option<&str>, table: &str) -> TableName {
        TableName {
            db: db.map(String::from),
            table: table.into(),
        }
    }

    #[test]
    fn tables_named_by_statements() {
        let tables = |s: &str| match targets(s.as_bytes()) {
            Targets::Tables(v) => v,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(
            tables("DROP TABLE `other`.`keep` /* generated by server */"),
            [t(Some("other"), "keep")]
        );
        assert_eq!(
            tables("drop table if exists a, b.`c``d`"),
            [t(None, "a"), t(Some("b"), "c`d")]
        );
        assert_eq!(
            tables("RENAME TABLE a TO b.c, d TO e"),
            [t(None, "a"), t(Some("b"), "c"), t(None, "d"), t(None, "e")]
        );
        assert_eq!(
            tables("ALTER TABLE s.t ADD COLUMN x INT, RENAME TO s.u"),
            [t(Some("s"), "t"), t(Some("s"), "u")]
        );
        assert_eq!(tables("ALTER TABLE t RENAME COLUMN a TO b"), [t(None, "t")]);
        assert_eq!(tables("TRUNCATE t"), [t(None, "t")]);
        assert_eq!(tables("truncate table x.y"), [t(Some("x"), "y")]);
        assert_eq!(
            tables("CREATE OR REPLACE TEMPORARY TABLE IF NOT EXISTS a.b (id INT)"),
            [t(Some("a"), "b")]
        );
        assert_eq!(
            tables("CREATE UNIQUE INDEX i ON s.t (a)"),
            [t(Some("s"), "t")]
        );
        assert_eq!(tables("DROP INDEX i ON t"), [t(None, "t")]);
        assert_eq!(
            tables("/*!40000 ALTER TABLE `t` DISABLE KEYS */"),
            [t(None, "t")]
        );
        assert_eq!(
            tables("INSERT INTO a.b VALUES (1, 'x; DROP TABLE c')"),
            [t(Some("a"), "b")]
        );
        assert_eq!(tables("insert ignore x select * from y"), [t(None, "x")]);
        assert_eq!(tables("UPDATE t SET a = 1 WHERE b = 2"), [t(None, "t")]);
        assert_eq!(tables("UPDATE t AS z SET a = 1"), [t(None, "t")]);
        assert_eq!(tables("DELETE FROM d.t WHERE a = 1"), [t(Some("d"), "t")]);
        assert_eq!(tables("DELETE FROM t"), [t(None, "t")]);
        assert_eq!(
            tables("LOAD DATA INFILE '/x' INTO TABLE d.t"),
            [t(Some("d"), "t")]
        );
        assert_eq!(tables("OPTIMIZE TABLE a, b"), [t(None, "a"), t(None, "b")]);
        assert_eq!(
            targets(b"DROP DATABASE IF EXISTS shop"),
            Targets::Database {
                name: "shop".into(),
                drops: true
            }
        );
        assert_eq!(
            targets(b"CREATE DATABASE `shop`"),
            Targets::Database {
                name: "shop".into(),
                drops: false
            }
        );
        for none in [
            "CREATE DEFINER=`root`@`localhost` TRIGGER tr AFTER INSERT ON t FOR EACH ROW SET @a = 1",
            "CREATE USER u",
            "GRANT SELECT ON a.* TO u",
            "DROP VIEW v",
            "CREATE ALGORITHM=UNDEFINED DEFINER=`r`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1",
            "BEGIN",
        ] {
            assert_eq!(targets(none.as_bytes()), Targets::NoTable, "{none}");
        }
        for keeps in [
            "ALTER TABLE t_comp COMMENT = 'a comment, with (commas)'",
            "ALTER TABLE s.t ADD INDEX (a, b), DROP KEY k, ENGINE=InnoDB",
            "alter online table t rename index a to b, algorithm=inplace",
            "CREATE UNIQUE INDEX i ON t (a)",
            "DROP INDEX i ON t",
        ] {
            assert!(!may_change_columns(keeps.as_bytes()), "{keeps}");
        }
        for changes in [
            "ALTER TABLE t ADD COLUMN c INT",
            "ALTER TABLE t ADD c INT",
            "ALTER TABLE t COMMENT 'x', MODIFY a INT AFTER b",
            "ALTER TABLE t ADD PRIMARY KEY (a)",
            "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4",
            "ALTER TABLE t RENAME TO u",
            "TRUNCATE t",
            "DROP TABLE t",
            "RENAME TABLE t TO u",
            "CREATE OR REPLACE TABLE t (a INT)",
        ] {
            assert!(may_change_columns(changes.as_bytes()), "{changes}");
        }
        for unknown in [
            "UPDATE a JOIN b ON a.id = b.id SET a.x = 1",
            "UPDATE a, b SET a.x = 1",
            "DELETE a FROM a JOIN b",
            "DELETE FROM a USING a JOIN b",
            "CALL p()",
            "DO 1",
            "ALTER DATABASE CHARACTER SET utf8mb4",
            "",
        ] {
            if unknown.is_empty() {
                continue;
            }
            assert_eq!(targets(unknown.as_bytes()), Targets::Unknown, "{unknown}");
        }
    }
}
