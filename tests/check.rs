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

/// The check's lines on stderr, without the one that says it spilled.
fn check_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.contains("outgrew --check-memory"))
        .collect()
}

/// Sorted runs written, from the line that says it spilled.
fn runs_spilled(stderr: &str) -> Option<usize> {
    let l = stderr
        .lines()
        .find(|l| l.contains("outgrew --check-memory"))?;
    let rest = l.split("): ").nth(1)?;
    rest.split(' ').next()?.parse().ok()
}

/// The report's lines as a set (spilled, rows come in key order; in memory, first touched).
fn report_set(path: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A selection of ~4,500 rows over three tables (INT key, composite key, no key) with
/// changes since in each, and changes of key: checked with `--check-memory 64K` (past it,
/// over ten sorted runs in a temporary file, merged in several passes) and with the
/// default (all in memory), every `--on-conflict` mode gives the same undo bytes (binlog
/// and SQL), the same report lines, the same summary and exit status. Then `skip` with
/// more conflicts than a quarter of 64K holds is refused, saying so, with no undo.
#[test]
fn spilling_to_a_temporary_file_changes_no_byte() {
    let server = Server::start(147, ROW_DEFAULTS);
    fill(&server, 3000);
    let mut s = String::from(
        "USE ck; CREATE TABLE c (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, \
         PRIMARY KEY (b, a)) ENGINE=InnoDB; CREATE TABLE n (x INT, y VARCHAR(20)) ENGINE=InnoDB;",
    );
    let c: Vec<String> = (1..=1500)
        .map(|i| format!("({i}, 'k{}', {i})", i % 7))
        .collect();
    s.push_str(&format!("INSERT INTO c VALUES {};", c.join(",")));
    let n: Vec<String> = (1..=1000).map(|i| format!("({i}, 'y{i}')")).collect();
    s.push_str(&format!("INSERT INTO n VALUES {};", n.join(",")));
    server.sql(&s);
    let mark = server.flush_binlogs();
    server.sql(
        "USE ck; UPDATE t SET a = a + 1, b = CONCAT(b, '!'); DELETE FROM t WHERE id % 10 = 0; \
         UPDATE t SET id = id + 100000 WHERE id IN (5, 15, 25); \
         UPDATE c SET v = v + 1 WHERE a % 2 = 0; DELETE FROM c WHERE a % 5 = 0; \
         DELETE FROM n WHERE x % 3 = 0; UPDATE n SET y = CONCAT(y, '!') WHERE x % 30 = 1;",
    );
    let mistake = files_after(&server, &mark);
    server.sql(
        "USE ck; UPDATE t SET a = -1 WHERE id IN (1, 2, 3, 100005); DELETE FROM t WHERE id = 4; \
         INSERT INTO t VALUES (20, 1, 'back', 0, 0, 0, '2026-01-01'); \
         UPDATE c SET v = -1 WHERE a IN (2, 4) ; INSERT INTO c VALUES (10, 'k3', 0); \
         INSERT INTO n VALUES (3, 'y3'); UPDATE n SET y = 'z' WHERE x = 31;",
    );
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |extra: &[&str], memory: Option<&str>| {
        let mut args: Vec<&str> = extra.to_vec();
        if let Some(m) = memory {
            args.extend(["--check-memory", m]);
        }
        let mut t = tool(&[
            "flashback",
            "--check",
            "--user",
            "root",
            "--mycnf",
            "/dev/null",
        ])
        .arg("--socket")
        .arg(&server.socket)
        .args(&mistake)
        .args(&args)
        .env("TZ", "UTC");
        t = t.env("TMPDIR", &tmp);
        t.run()
    };
    let modes: [(&str, &[&str]); 5] = [
        ("refuse", &["--on-conflict", "refuse"]),
        ("skip", &["--on-conflict", "skip"]),
        ("skip sql", &["--on-conflict", "skip", "--format", "sql"]),
        ("ignore", &["--on-conflict", "ignore"]),
        (
            "ignore sql",
            &["--on-conflict", "ignore", "--format", "sql"],
        ),
    ];
    for (what, mode) in modes {
        let mut outcomes = Vec::new();
        for memory in [None, Some("64K")] {
            let tag = memory.unwrap_or("default");
            let undo = dir.path().join(format!("{what} {tag}.undo"));
            let rep = dir.path().join(format!("{what} {tag}.jsonl"));
            let mut args = mode.to_vec();
            args.extend([
                "-o",
                undo.to_str().unwrap(),
                "--check-report",
                rep.to_str().unwrap(),
            ]);
            let r = run(&args, memory);
            let runs = runs_spilled(&r.stderr);
            match memory {
                None => assert_eq!(runs, None, "{what}: {}", r.stderr),
                Some(_) => assert!(runs.is_some_and(|n| n >= 10), "{what}: {}", r.stderr),
            }
            assert!(
                std::fs::read_dir(&tmp).unwrap().next().is_none(),
                "{what}: a temporary file is left"
            );
            let bytes = std::fs::read(&undo).ok();
            // The lines say where the undo went: its name differs.
            let lines = check_lines(&r.stderr)
                .join("\n")
                .replace(undo.to_str().unwrap(), "UNDO");
            outcomes.push((r.code, lines, bytes, report_set(&rep)));
        }
        let (a, b) = (&outcomes[0], &outcomes[1]);
        assert_eq!(a.0, b.0, "{what}: exit status");
        assert_eq!(a.1, b.1, "{what}: stderr");
        assert!(a.2 == b.2, "{what}: the undo's bytes differ");
        assert_eq!(a.3, b.3, "{what}: report lines");
        // The check found what changed since: 4 + 1 + 1 in t (100005 moved from 5), 2 + 1
        // in c, 2 in n; with refuse nothing is written.
        assert!(
            a.1.contains("rows checked, 11 conflicts (ck.c: 3, ck.n: 2, ck.t: 6)"),
            "{what}: {}",
            a.1
        );
        assert_eq!(a.3.len(), 11, "{what}");
        match what {
            "refuse" => assert_eq!((a.0, &a.2), (1, &None), "{what}"),
            _ => assert!(
                a.0 == 0 && a.2.as_ref().is_some_and(|b| !b.is_empty()),
                "{what}"
            ),
        }
        if what == "skip" {
            assert!(
                a.1.contains("13 rows left out of the undo (11 conflicting, 2 linked"),
                "{}",
                a.1
            );
        }
    }

    // More conflicts than a quarter of the budget can hold for skip: refused, no undo.
    server.sql("USE ck; UPDATE t SET a = -2 WHERE id <= 1000;");
    let undo = dir.path().join("many.undo");
    let args = ["--on-conflict", "skip", "-o", undo.to_str().unwrap()];
    let r = run(&args, Some("64K"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("conflicts found so far") && r.stderr.contains("raise --check-memory"),
        "{}",
        r.stderr
    );
    assert!(!undo.exists());
    let r = run(&args, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(undo.exists());
}

/// A temporary directory that cannot be written: one line naming it, exit 2, nothing left
/// at -o. SIGINT while runs are being written (the unlinked temporary file is open):
/// exit 130, one line, nothing left at -o nor in the temporary directory.
#[test]
fn a_full_disk_or_a_signal_while_spilling_leaves_nothing() {
    use std::process::{Command, Stdio};
    let server = Server::start(148, ROW_DEFAULTS);
    fill(&server, 60000);
    let mark = server.flush_binlogs();
    server.sql("USE ck; UPDATE t SET a = a + 1, b = CONCAT(b, '!');");
    let mistake = files_after(&server, &mark);
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");
    let base = |tmp: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_binlog-tool"));
        c.args([
            "flashback",
            "--check",
            "--user",
            "root",
            "--mycnf",
            "/dev/null",
        ])
        .arg("--socket")
        .arg(&server.socket)
        .args(&mistake)
        .args(["--check-memory", "64K", "-o"])
        .arg(&undo)
        .env("TMPDIR", tmp);
        c
    };

    let missing = dir.path().join("no such dir");
    let out = base(&missing).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot create a temporary file in")
            && stderr.contains(missing.to_str().unwrap()),
        "{stderr}"
    );
    assert!(!undo.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = base(&tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Spilling has begun when the process holds the (unlinked) temporary file open.
    let spilling = || {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.filter_map(|f| std::fs::read_link(f.ok()?.path()).ok())
                    .any(|l| l.to_string_lossy().contains(".binlog-tool-check-"))
            })
            .unwrap_or(false)
    };
    let started = Instant::now();
    while !spilling() && child.try_wait().unwrap().is_none() {
        assert!(started.elapsed().as_secs() < 120, "no spill after 120 s");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let send = |s: &str| {
        let ok = Command::new("kill")
            .arg(format!("-{s}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{s}");
    };
    send("STOP");
    assert!(
        child.try_wait().unwrap().is_none(),
        "finished before the signal"
    );
    send("INT");
    send("CONT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.trim_end(), "binlog-tool: interrupted by SIGINT");
    assert!(!undo.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["tmp"], "left behind");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}
