//! What kind of SQL statement a QUERY event holds, from its first keyword: enough to tell
//! transaction control, DDL and data changes apart without parsing SQL.

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
}
