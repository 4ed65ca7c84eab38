//! `flashback --check` against a real MariaDB: rows changed since the mistake are found by
//! key, exactly those; the default refuses and leaves no file; `--on-conflict skip` gives
//! an undo that, applied with `mariadb-binlog | mariadb` (or as SQL with `mariadb`),
//! restores every other row exactly and leaves the conflicting ones as they are; every
//! column type compares without false conflicts; composite and missing keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common::{tool, Run};
use crate::flashback::{files_after, initial_data, run_workload, SCHEMA};
use crate::server::{Server, ROW_DEFAULTS};

/// `flashback FILES --check` on `server` with `extra` arguments.
fn check(server: &Server, files: &[PathBuf], extra: &[&str]) -> Run {
    tool(&[
        "flashback",
        "--check",
        "--user",
        "root",
        "--mycnf",
        "/dev/null",
    ])
    .arg("--socket")
    .arg(&server.socket)
    .args(files)
    .args(extra)
    .env("TZ", "UTC")
    .run()
}

/// The JSON lines of a report, parsed.
fn report(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Rows of `db.table` keyed by their first column, in a lossless text form.
fn rows_by_id(server: &Server, db: &str, table: &str) -> BTreeMap<String, String> {
    server
        .table_contents(db, table)
        .lines()
        .map(|l| (l.split('\t').next().unwrap().to_string(), l.to_string()))
        .collect()
}

const T: &str = "CREATE DATABASE ck; USE ck; \
    CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b VARCHAR(40), c DOUBLE, \
    d DECIMAL(12,3), f FLOAT, e DATETIME(6)) ENGINE=InnoDB;";

fn fill(server: &Server, n: u32) {
    server.sql(T);
    let mut s = String::from("USE ck;");
    for chunk in (1..=n).collect::<Vec<_>>().chunks(5000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "({i}, {i}, 'row {i} é', {i}.1e-3, {i}.125, {i}.3, '2026-11-21 10:00:00.{:06}')",
                    i % 1_000_000
                )
            })
            .collect();
        s.push_str(&format!("INSERT INTO t VALUES {};", rows.join(",")));
    }
    server.sql(&s);
}

/// The issue's scenario: 1000 rows; a mistaken UPDATE of 500 and DELETE of 51; then rows
/// 10, 20, 30 updated again, 40 deleted, 960 (deleted by the mistake) inserted again, and
/// 700 (untouched by the mistake) updated. The five rows the undo would touch are reported,
/// by key; 700 is not the undo's business.
#[test]
fn check_reports_exactly_the_rows_changed_since_and_skip_restores_the_rest() {
    let server = Server::start(141, ROW_DEFAULTS);
    fill(&server, 1000);
    let mark = server.flush_binlogs();
    let original = rows_by_id(&server, "ck", "t");
    server.sql("USE ck; UPDATE t SET a = a + 1000, b = CONCAT(b, '!'), f = f * 3 WHERE id <= 500;");
    server.sql("USE ck; DELETE FROM t WHERE id >= 950;");
    let mistake = files_after(&server, &mark);
    server.sql(
        "USE ck; UPDATE t SET a = -1 WHERE id IN (10, 20, 30); DELETE FROM t WHERE id = 40; \
         INSERT INTO t VALUES (960, 1, 'back', 0, 0, 0, '2026-01-01'); UPDATE t SET a = -2 WHERE id = 700;",
    );
    let now = rows_by_id(&server, "ck", "t");
    let dir = tempfile::tempdir().unwrap();

    // Default: refuse, no undo file; the report names the five.
    let undo = dir.path().join("undo.bin");
    let rep = dir.path().join("conflicts.jsonl");
    let r = check(
        &server,
        &mistake,
        &[
            "--check-report",
            rep.to_str().unwrap(),
            "-o",
            undo.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!undo.exists(), "no undo is left behind");
    assert!(
        r.stderr.contains("551 rows checked, 5 conflicts (ck.t: 5)"),
        "{}",
        r.stderr
    );
    let lines = report(&rep);
    let mut got: Vec<(i64, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["table"], "ck.t");
            assert_eq!(l["key"].as_object().unwrap().len(), 1);
            (
                l["key"]["id"].as_i64().unwrap(),
                l["conflict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(i64, String)> = [
        (10, "differs"),
        (20, "differs"),
        (30, "differs"),
        (40, "missing"),
        (960, "exists"),
    ]
    .iter()
    .map(|(k, v)| (*k, v.to_string()))
    .collect();
    assert_eq!(got, want);
    for l in &lines {
        let id = l["key"]["id"].as_i64().unwrap();
        assert!(l["pos"].as_str().unwrap().contains(":"), "{l}");
        match id {
            10 | 20 | 30 => {
                assert_eq!(l["expected"]["a"].as_i64(), Some(id + 1000));
                assert_eq!(l["found"]["a"].as_i64(), Some(-1));
                assert_eq!(l["expected"]["b"], format!("row {id} é!"));
            }
            40 => {
                assert!(l["found"].is_null());
                assert_eq!(l["expected"]["a"].as_i64(), Some(1040));
            }
            _ => {
                assert!(l["expected"].is_null());
                assert_eq!(l["found"]["b"], "back");
            }
        }
    }

    // skip, as a binlog and as SQL: written before either is applied.
    let undo_sql = dir.path().join("undo.sql");
    let r = check(
        &server,
        &mistake,
        &["--on-conflict", "skip", "-o", undo.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("5 rows left out of the undo"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(", 546 rows,"), "{}", r.stderr);
    let r = check(
        &server,
        &mistake,
        &[
            "--on-conflict",
            "skip",
            "--format",
            "sql",
            "-o",
            undo_sql.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // ignore: the whole undo, with the report.
    let full = dir.path().join("full.bin");
    let r = check(
        &server,
        &mistake,
        &["--on-conflict", "ignore", "-o", full.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("5 conflicts"), "{}", r.stderr);
    assert!(r.stderr.contains(", 551 rows,"), "{}", r.stderr);

    // Every row but the five is as before the mistake; the five (and 700) as they are now.
    let mut want = original.clone();
    for id in ["10", "20", "30", "960", "700"] {
        want.insert(id.into(), now[id].clone());
    }
    want.remove("40");
    server.sql("CREATE TABLE ck.saved AS SELECT * FROM ck.t");
    server.apply_binlog(&[&undo], &[]);
    assert!(
        rows_by_id(&server, "ck", "t") == want,
        "binlog undo with skip"
    );

    server.sql("USE ck; DELETE FROM t; INSERT INTO t SELECT * FROM saved;");
    assert_eq!(rows_by_id(&server, "ck", "t"), now);
    let sql = std::fs::read_to_string(&undo_sql).unwrap();
    server.sql(&sql);
    assert!(rows_by_id(&server, "ck", "t") == want, "SQL undo with skip");
}

/// Every column type of the flashback tests, unique and missing keys, composite keys, after
/// the flashback workload (multi-row changes, key shifts, unique swaps, REPLACE, XA): a
/// check right after it finds nothing but the one ambiguity of a keyless table (a row
/// deleted while an identical twin stays); later changes of a FLOAT's last bit, a
/// TIMESTAMP's millisecond and a composite-key row are found, by key.
#[test]
fn every_type_and_key_kind_compares_exactly() {
    let server = Server::start(142, ROW_DEFAULTS);
    server.sql(SCHEMA);
    server.sql(&initial_data());
    server.sql(
        "USE fb; CREATE TABLE t_comp (a INT NOT NULL, b VARCHAR(10) NOT NULL, v FLOAT, \
         PRIMARY KEY (b, a)) ENGINE=InnoDB; \
         INSERT INTO t_comp VALUES (1, 'x', 0.1), (2, 'x', 0.2), (1, 'y', 0.3);",
    );
    let mark = server.flush_binlogs();
    run_workload(&server, None);
    server.sql(
        "USE fb; UPDATE t_comp SET v = v * 2; UPDATE t_all SET vc = 'again' WHERE id IN (1, 2);",
    );
    let files = files_after(&server, &mark);
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.jsonl");
    let r = check(
        &server,
        &files,
        &["--dry-run", "--check-report", rep.to_str().unwrap()],
    );
    let lines = report(&rep);
    assert_eq!(lines.len(), 1, "{}\n{lines:?}", r.stderr);
    assert_eq!(lines[0]["table"], "fb.t_nopk");
    assert_eq!(lines[0]["key"], serde_json::json!({"a": 1, "b": "a"}));
    assert!(lines[0]["expected"].is_null());
    assert_eq!(r.code, 1, "{}", r.stderr);

    server.sql(
        "USE fb; UPDATE t_all SET f = f + 0.0000001 WHERE id = 1; \
         UPDATE t_all SET ts3 = '1970-01-01 00:00:01.002' WHERE id = 2; \
         UPDATE t_comp SET v = 0.25 WHERE a = 1 AND b = 'y';",
    );
    let r = check(
        &server,
        &files,
        &["--dry-run", "--check-report", rep.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got: Vec<String> = report(&rep)
        .iter()
        .map(|l| format!("{} {}", l["table"].as_str().unwrap(), l["key"]))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            r#"fb.t_all {"id":1}"#,
            r#"fb.t_all {"id":2}"#,
            r#"fb.t_comp {"b":"y","a":1}"#,
            r#"fb.t_nopk {"a":1,"b":"a"}"#,
        ]
    );
}

/// A table altered since the binlog is refused, naming it; a table dropped too.
#[test]
fn altered_or_dropped_tables_are_refused() {
    let server = Server::start(143, ROW_DEFAULTS);
    fill(&server, 20);
    let mark = server.flush_binlogs();
    server.sql("USE ck; UPDATE t SET a = 0;");
    let files = files_after(&server, &mark);
    server.sql("USE ck; ALTER TABLE t MODIFY d DECIMAL(14,3);");
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("u.bin");
    let r = check(&server, &files, &["-o", undo.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ck.t on the server is not the table the binlog logged"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("at offset"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(!undo.exists());
    server.sql("DROP TABLE ck.t");
    let r = check(&server, &files, &["-o", undo.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("ck.t: not found on the server"),
        "{}",
        r.stderr
    );
    assert!(!undo.exists());
}

/// 10,000 rows checked in batches: nothing changed, nothing reported, in well under the
/// time a query per row would take (the README's 100,000-row figure comes from
/// benches/check-100k.sh).
#[test]
fn ten_thousand_rows_are_checked_in_batches() {
    let server = Server::start(144, ROW_DEFAULTS);
    fill(&server, 10_000);
    let mark = server.flush_binlogs();
    server.sql("USE ck; UPDATE t SET a = a + 1; DELETE FROM t WHERE id % 10 = 0;");
    let files = files_after(&server, &mark);
    let q0 = statements_executed(&server);
    let t = Instant::now();
    let r = check(&server, &files, &["--dry-run"]);
    let took = t.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("10000 rows checked, 0 conflicts"),
        "{}",
        r.stderr
    );
    let q1 = statements_executed(&server);
    assert!(q1 - q0 <= 10, "{} statements for 10,000 keys", q1 - q0);
    eprintln!("check of 10,000 rows: {took:?}");
}

/// Prepared statements the server has executed.
fn statements_executed(server: &Server) -> u64 {
    server
        .sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'")
        .split('\t')
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `skip` leaves out a transaction whose only row conflicts, the last statement of another
/// (its first in the undo, so the statement before it must end the undo's statement), and
/// a change of key linked to a conflicting row (12 became 112, and 112 changed since).
/// Applied with `mariadb-binlog | mariadb`, and as SQL, everything else is restored.
#[test]
fn skip_leaves_out_whole_transactions_statements_and_linked_keys() {
    let server = Server::start(145, ROW_DEFAULTS);
    fill(&server, 20);
    let mark = server.flush_binlogs();
    let original = rows_by_id(&server, "ck", "t");
    server.sql(
        "USE ck; UPDATE t SET a = 100 WHERE id = 1; \
         BEGIN; UPDATE t SET a = 200 WHERE id BETWEEN 2 AND 10; UPDATE t SET a = 300 WHERE id = 11; COMMIT; \
         UPDATE t SET id = 112 WHERE id = 12;",
    );
    let mistake = files_after(&server, &mark);
    server.sql("USE ck; UPDATE t SET a = -1 WHERE id IN (1, 11, 112);");
    let now = rows_by_id(&server, "ck", "t");
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");
    let undo_sql = dir.path().join("undo.sql");
    let r = check(
        &server,
        &mistake,
        &["--on-conflict", "skip", "-o", undo.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("13 rows checked, 3 conflicts (ck.t: 3)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("4 rows left out of the undo (3 conflicting, 1 linked"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("wrote 1 undo transactions (1 rows events, 9 rows,"),
        "{}",
        r.stderr
    );
    let r = check(
        &server,
        &mistake,
        &[
            "--on-conflict",
            "skip",
            "--format",
            "sql",
            "-o",
            undo_sql.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut want = original.clone();
    for id in ["1", "11", "112"] {
        want.insert(id.into(), now[id].clone());
    }
    want.remove("12");
    server.sql("CREATE TABLE ck.saved AS SELECT * FROM ck.t");
    server.apply_binlog(&[&undo], &[]);
    assert!(
        rows_by_id(&server, "ck", "t") == want,
        "binlog undo with skip"
    );
    server.sql("USE ck; DELETE FROM t; INSERT INTO t SELECT * FROM saved;");
    server.sql(&std::fs::read_to_string(&undo_sql).unwrap());
    assert!(rows_by_id(&server, "ck", "t") == want, "SQL undo with skip");
}

/// A key the server matches only under its collation (`'ABC'` re-inserted where the
/// mistake deleted `'abc'`, case-insensitive): reported; `skip` cannot tell which change it
/// belongs to, so it writes nothing and says why.
#[test]
fn rows_matched_only_under_a_collation_are_reported_and_stop_skip() {
    let server = Server::start(146, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE ck; USE ck; CREATE TABLE s (k VARCHAR(10) NOT NULL PRIMARY KEY, v INT) \
         CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci; INSERT INTO s VALUES ('abc', 1), ('def', 2);",
    );
    let mark = server.flush_binlogs();
    server.sql("USE ck; DELETE FROM s WHERE k = 'abc';");
    let mistake = files_after(&server, &mark);
    server.sql("USE ck; INSERT INTO s VALUES ('ABC', 3);");
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.jsonl");
    let undo = dir.path().join("u.bin");
    let r = check(
        &server,
        &mistake,
        &["--check-report", rep.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = report(&rep);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["key"], serde_json::json!({"k": "ABC"}));
    assert_eq!(lines[0]["found"]["v"], 3);
    let r = check(
        &server,
        &mistake,
        &["--on-conflict", "skip", "-o", undo.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("matched a touched key only as the server compares"),
        "{}",
        r.stderr
    );
    assert!(!undo.exists());
}
