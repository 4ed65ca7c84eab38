//! `binlog-tool flashback`, end to end: a private MariaDB server records a workload, the
//! tool writes its undo, `mariadb-binlog undo.bin | mariadb` applies it, and every table
//! must be back exactly as recorded (contents as hex and CHECKSUM TABLE). Also the MySQL
//! files of the shared corpus: the undo must be a valid binlog whose row images are the
//! source's, swapped and in reverse order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use binlog::event::rows::RowsKind;
use binlog::row::{Rows, TableInfo};
use binlog::txn::{Group, Transactions};
use binlog::{Binlog, EventData};

use crate::common::{manifest, run_mariadb_binlog, shared_fixtures, tool, Run};
use crate::server::{Server, ROW_DEFAULTS};

type Snapshot = Vec<(String, String, String)>;

/// Tables covering every column type family, keys of every kind, two engines.
pub(crate) const SCHEMA: &str = r#"
SET time_zone = '+00:00';
CREATE DATABASE fb CHARACTER SET utf8mb4;
USE fb;
CREATE TABLE t_all (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
  mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
  dc DECIMAL(10,3), dw DECIMAL(65,30), du DECIMAL(8,2) UNSIGNED,
  f FLOAT, d DOUBLE, b1 BIT(1), b13 BIT(13), b64 BIT(64),
  da DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL,
  tm TIME, tm2 TIME(2), yr YEAR,
  c CHAR(10), cu CHAR(255) CHARACTER SET utf8mb4, vc VARCHAR(300) CHARACTER SET utf8mb4,
  vl VARCHAR(2000) CHARACTER SET latin1, bn BINARY(4), vb VARBINARY(20),
  tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT, tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  js JSON, en ENUM('a','b','c'), st SET('x','y','z'), g GEOMETRY NULL, pt POINT NULL,
  u UUID NULL, i6 INET6 NULL, i4 INET4 NULL
) ENGINE=InnoDB;
CREATE TABLE t_pk (id INT NOT NULL PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;
CREATE TABLE t_uk (id INT NOT NULL PRIMARY KEY, u VARCHAR(10) NOT NULL, n INT, UNIQUE KEY (u)) ENGINE=InnoDB;
CREATE TABLE t_other (id INT NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
CREATE TABLE t_nopk (a INT, b VARCHAR(10)) ENGINE=InnoDB;
CREATE TABLE t_my (id INT NOT NULL PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;
CREATE TABLE t_keep (id INT NOT NULL PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
"#;

/// One full-valued row of `t_all`.
pub(crate) fn all_row(id: u32, k: u32) -> String {
    format!(
        "({id}, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, \
         -9223372036854775808, 18446744073709551615, \
         1234567.89{k}, -12345678901234567890123456789012345.123456789012345678901234567890, 999999.99, \
         1.5, -2.25e-300, b'1', b'1010101010101', b'1111111111111111111111111111111111111111111111111111111111111111', \
         '1000-01-0{d}', '9999-12-31 23:59:59', '2024-02-29 23:59:59.12345{k}', '2038-01-19 03:14:07', \
         '1970-01-01 00:00:01.001', '-838:59:59', '838:59:58.99', 2155, \
         'abc  ', 'ünï 😀 {k}', REPEAT('é', 300), REPEAT('l', 2000), x'0100', x'00ff10', \
         'tiny', REPEAT('t', 1000), REPEAT('m', 70000), REPEAT('L', 3000), x'00', REPEAT(x'AB', 3000), \
         REPEAT(x'CD', 70000), REPEAT(x'EF', 5000), \
         '{{\"a\":[1,2,{{\"b\":null}}],\"k\":{k}}}', 'b', 'x,z', \
         ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), ST_GeomFromText('POINT(1 2)'), \
         'ecf5ee49-9f2b-11ef-a3f7-0242ac11000{k}', '2001:db8::{k}', '10.0.0.{k}')",
        d = k % 9 + 1
    )
}

/// The state the workload starts from.
pub(crate) fn initial_data() -> String {
    let mut s = String::from("USE fb;\n");
    for id in 1..=6 {
        s.push_str(&format!("INSERT INTO t_all VALUES {};\n", all_row(id, id)));
    }
    s.push_str("INSERT INTO t_all (id) VALUES (7);\n");
    let pk: Vec<String> = (1..=300)
        .map(|i| format!("({i}, REPEAT('p{}', 90))", i % 10))
        .collect();
    s.push_str(&format!("INSERT INTO t_pk VALUES {};\n", pk.join(",")));
    s.push_str("INSERT INTO t_uk VALUES (1,'u1',10),(2,'u2',20),(3,'u3',30);\n");
    let other: Vec<String> = (1..=50).map(|i| format!("({i},{})", i * 3)).collect();
    s.push_str(&format!(
        "INSERT INTO t_other VALUES {};\n",
        other.join(",")
    ));
    s.push_str("INSERT INTO t_nopk VALUES (1,'a'),(1,'a'),(2,'b'),(NULL,NULL);\n");
    s.push_str("INSERT INTO t_my VALUES (1,'m1'),(2,'m2');\n");
    s.push_str("INSERT INTO t_keep VALUES (1,'k1');\n");
    s
}

/// The changes to undo: single- and multi-row INSERT/UPDATE/DELETE, multi-statement
/// transactions, a primary key shift, a unique-key swap, REPLACE, big BLOB and JSON
/// values, XA, MyISAM, a table without a key, a multi-table UPDATE, DELETE without WHERE.
/// It never touches `t_keep`.
pub(crate) fn workload() -> Vec<String> {
    let mut w: Vec<String> = vec![
        format!("INSERT INTO t_all VALUES {}", all_row(10, 8)),
        "INSERT INTO t_all (id, vc) VALUES (11, 'eleven'), (12, NULL), (13, 'thirteen')".into(),
        "UPDATE t_all SET vc = 'changed', js = JSON_SET(js, '$.k', 5), i = i + 1 WHERE id = 1"
            .into(),
        "UPDATE t_all SET tx = CONCAT(IFNULL(tx, ''), '+'), ti = IFNULL(ti, 0) + 1 WHERE id IN (2, 3, 11)".into(),
        "UPDATE t_all SET lb = REPEAT(x'5A', 300000), mt = REPEAT('q', 120000), \
         js = CONCAT('[', REPEAT('\"abcdefghij\",', 25000), '1]') WHERE id = 2"
            .into(),
        "DELETE FROM t_all WHERE id = 3".into(),
        "DELETE FROM t_all WHERE id IN (4, 12)".into(),
        "BEGIN; INSERT INTO t_pk VALUES (1000, 'x'); UPDATE t_other SET v = v * 2 WHERE id <= 5; \
         DELETE FROM t_all WHERE id = 5; INSERT INTO t_all (id, vc) VALUES (14, 'in trx'); \
         SAVEPOINT s1; UPDATE t_all SET vc = 'rolled back' WHERE id = 14; ROLLBACK TO SAVEPOINT s1; \
         UPDATE t_all SET vc = 'again' WHERE id = 14; COMMIT"
            .into(),
        "UPDATE t_pk SET id = id + 1 ORDER BY id DESC".into(),
        "BEGIN; UPDATE t_uk SET u = 'tmp' WHERE id = 1; UPDATE t_uk SET u = 'u1' WHERE id = 2; \
         UPDATE t_uk SET u = 'u2' WHERE id = 1; COMMIT"
            .into(),
        "UPDATE t_uk SET n = n + 1".into(),
        "REPLACE INTO t_uk VALUES (3, 'u3new', 33)".into(),
        "REPLACE INTO t_uk VALUES (4, 'u1', 44)".into(),
        "INSERT INTO t_uk VALUES (1, 'zz', 0) ON DUPLICATE KEY UPDATE n = n + 100".into(),
        "UPDATE t_pk p JOIN t_uk k ON p.id = k.id SET p.v = 'joined', k.n = k.n + 1".into(),
        "DELETE FROM t_nopk WHERE a = 1 LIMIT 1; UPDATE t_nopk SET b = 'c' WHERE a = 2; \
         INSERT INTO t_nopk VALUES (3, 'd'), (3, 'd')"
            .into(),
        "INSERT INTO t_my VALUES (3, 'm3'); UPDATE t_my SET v = 'm1x' WHERE id = 1; DELETE FROM t_my WHERE id = 2"
            .into(),
        "XA START 'fbx'; INSERT INTO t_all (id, vc) VALUES (20, 'xa'); UPDATE t_other SET v = -1 WHERE id = 7; \
         XA END 'fbx'; XA PREPARE 'fbx'; XA COMMIT 'fbx'"
            .into(),
        "XA START 'fby'; INSERT INTO t_all (id, vc) VALUES (21, 'xa rolled back'); XA END 'fby'; \
         XA PREPARE 'fby'; XA ROLLBACK 'fby'"
            .into(),
        "BEGIN; UPDATE t_pk SET id = id + 1000 WHERE id <= 100 ORDER BY id DESC; \
         UPDATE t_pk SET v = REPEAT('z', 200) WHERE id > 1000; DELETE FROM t_pk WHERE id > 250 AND id < 1000; COMMIT"
            .into(),
        "UPDATE t_all SET dt6 = '2001-01-01 00:00:00.000001', ts3 = NULL, g = NULL, u = NULL, en = 'c', st = '' WHERE id = 6".into(),
        "DELETE FROM t_other".into(),
    ];
    for s in &mut w {
        s.insert_str(0, "USE fb; ");
    }
    w
}

fn setup(server: &Server) -> Snapshot {
    server.sql(SCHEMA);
    server.sql(&initial_data());
    snapshot(server)
}

fn snapshot(server: &Server) -> Snapshot {
    server.snapshot("fb")
}

/// Runs each statement group in its own session, with `@@timestamp` pinned when given.
pub(crate) fn run_workload(server: &Server, timestamp: Option<u32>) {
    for sql in workload() {
        let sql = match timestamp {
            Some(t) => format!("SET timestamp = {t}; {sql}"),
            None => sql,
        };
        server.sql(&sql);
    }
}

/// Closes the current binlog and returns the files written since `after` (exclusive).
pub(crate) fn files_after(server: &Server, after: &Path) -> Vec<PathBuf> {
    server.flush_binlogs();
    let all = server.binlogs();
    let i = all.iter().position(|p| p == after).unwrap();
    all[i + 1..all.len() - 1].to_vec()
}

fn flashback(files: &[PathBuf], extra: &[&str], out: &Path) -> Run {
    tool(&["flashback"])
        .args(files)
        .args(extra)
        .arg("-o")
        .arg(out)
        .env("TZ", "UTC")
        .run()
}

fn assert_tables_equal(got: &Snapshot, want: &Snapshot, only: Option<&[&str]>) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        if only.is_some_and(|o| !o.contains(&g.0.as_str())) {
            continue;
        }
        assert_eq!(g.0, w.0);
        assert!(
            g.2 == w.2,
            "table {} differs from the record:\n got: {:.3000}\nwant: {:.3000}",
            g.0,
            g.2,
            w.2
        );
        assert_eq!(g.1, w.1, "CHECKSUM TABLE of {} differs", g.0);
    }
}

fn table<'s>(s: &'s Snapshot, name: &str) -> &'s (String, String, String) {
    s.iter().find(|t| t.0 == name).unwrap()
}

/// The whole workload undone; then, on the same server, a second run undone for one table
/// only.
#[test]
fn undo_restores_every_table_and_a_table_filter_restores_one() {
    let server = Server::start(41, ROW_DEFAULTS);
    let before = setup(&server);
    let setup_file = server.flush_binlogs();
    run_workload(&server, None);
    let files = files_after(&server, &setup_file);
    assert!(!files.is_empty());
    let changed = snapshot(&server);
    assert_ne!(changed, before);

    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");
    let r = flashback(&files, &[], &undo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    tool(&["verify"]).arg(&undo).ok();
    // mariadb-binlog reads it; it holds no GTID to replay.
    let text = run_mariadb_binlog(&[], &undo);
    assert!(!text.contains("gtid_seq_no"), "no GTID is replayed");
    server.apply_binlog(&[&undo], &[]);
    assert_tables_equal(&snapshot(&server), &before, None);

    // Second round: only t_other is restored; the rest stays as the workload left it.
    let mark = server.flush_binlogs();
    run_workload(&server, None);
    let files = files_after(&server, &mark);
    let changed = snapshot(&server);
    let undo2 = dir.path().join("undo-other.bin");
    let r = flashback(&files, &["-d", "fb", "-t", "fb.t_oth%"], &undo2);
    assert_eq!(r.code, 0, "{}", r.stderr);
    server.apply_binlog(&[&undo2], &[]);
    let after = snapshot(&server);
    assert_tables_equal(&after, &before, Some(&["t_other"]));
    for t in ["t_all", "t_pk", "t_uk", "t_nopk", "t_my"] {
        assert_eq!(
            table(&after, t),
            table(&changed, t),
            "{t} must be untouched"
        );
    }
}

/// Only the transactions that committed in a time window are undone; changes before and
/// after it stay.
#[test]
fn time_window_undoes_only_what_committed_in_it() {
    let server = Server::start(42, ROW_DEFAULTS);
    setup(&server);
    let mark = server.flush_binlogs();
    // 2030-01-01 10:00, 11:00 and 12:00 UTC.
    let (t1, t2, t3) = (1_893_492_000u32, 1_893_495_600u32, 1_893_499_200u32);
    server.sql(&format!(
        "SET timestamp = {t1}; USE fb; INSERT INTO t_keep VALUES (2, 'k2'); UPDATE t_other SET v = 0 WHERE id = 1"
    ));
    let phase1 = snapshot(&server);
    run_workload(&server, Some(t2));
    server.sql(&format!(
        "SET timestamp = {t3}; USE fb; UPDATE t_keep SET v = 'k1 later' WHERE id = 1; INSERT INTO t_keep VALUES (3, 'k3')"
    ));
    let phase3 = snapshot(&server);
    let files = files_after(&server, &mark);
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");

    let dry = tool(&["flashback", "--dry-run", "--format", "json"])
        .args(&files)
        .args(["--start-datetime", "2030-01-01 10:30:00"])
        .args(["--stop-datetime", "2030-01-01 11:30:00"])
        .env("TZ", "UTC")
        .ok();
    let v: serde_json::Value = serde_json::from_str(dry.stdout.trim()).unwrap();
    assert_eq!(v["first_time"], "2030-01-01 11:00:00");
    assert_eq!(v["last_time"], "2030-01-01 11:00:00");
    let names: Vec<&str> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"fb.t_keep"), "{names:?}");

    let r = flashback(
        &files,
        &[
            "--start-datetime",
            "2030-01-01 10:30:00",
            "--stop-datetime",
            "2030-01-01 11:30:00",
        ],
        &undo,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    server.apply_binlog(&[&undo], &[]);
    let after = snapshot(&server);
    let others: Vec<&str> = ["t_all", "t_pk", "t_uk", "t_other", "t_nopk", "t_my"].to_vec();
    assert_tables_equal(&after, &phase1, Some(&others));
    assert_eq!(table(&after, "t_keep"), table(&phase3, "t_keep"));
}

/// With gtid_strict_mode=ON the undo applies, getting GTIDs of its own.
#[test]
fn undo_applies_under_gtid_strict_mode() {
    let mut opts = ROW_DEFAULTS.to_vec();
    opts.extend(["--gtid-strict-mode=ON", "--gtid-domain-id=3"]);
    let server = Server::start(43, &opts);
    let before = setup(&server);
    let mark = server.flush_binlogs();
    run_workload(&server, None);
    let files = files_after(&server, &mark);
    let pos_before = server.value("SELECT @@gtid_binlog_pos");
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");
    let r = flashback(&files, &[], &undo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    server.apply_binlog(&[&undo], &[]);
    assert_tables_equal(&snapshot(&server), &before, None);
    let pos_after = server.value("SELECT @@gtid_binlog_pos");
    let seq = |p: &str| -> u64 { p.rsplit('-').next().unwrap().parse().unwrap() };
    assert!(pos_after.starts_with("3-43-"), "{pos_after}");
    assert!(
        seq(&pos_after) > seq(&pos_before),
        "{pos_before} -> {pos_after}"
    );
}

/// Refusals name the file and offset and leave nothing at -o; --skip-ddl leaves DDL out;
/// --dry-run counts rows.
#[test]
fn refusals_skip_ddl_and_dry_run() {
    let server = Server::start(44, ROW_DEFAULTS);
    server.sql("CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(10), w INT)");
    let mark = server.flush_binlogs();
    server.sql("INSERT INTO r.t VALUES (1,'a',1),(2,'b',2),(3,'c',3)");
    server.sql("UPDATE r.t SET v = 'x' WHERE id IN (1, 2)");
    server.sql("DELETE FROM r.t WHERE id = 3");
    let rows_file = server.flush_binlogs();
    server.sql("SET SESSION binlog_format = STATEMENT; INSERT INTO r.t VALUES (4,'d',4)");
    let stmt_file = server.flush_binlogs();
    server.sql("SET SESSION binlog_row_image = MINIMAL; UPDATE r.t SET v = 'y' WHERE id = 1");
    let minimal_file = server.flush_binlogs();
    server.sql("INSERT INTO r.t VALUES (5,'e',5); CREATE TABLE r.u (id INT); INSERT INTO r.t VALUES (6,'f',6)");
    let ddl_file = server.flush_binlogs();
    server.sql("INSERT INTO r.t VALUES (7,'g',7); ALTER TABLE r.t ADD COLUMN z INT; INSERT INTO r.t VALUES (8,'h',8,8)");
    let ddl_after_file = server.flush_binlogs();
    assert!(mark != rows_file);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("undo.bin");
    for (file, what) in [
        (&stmt_file, "statement-format change"),
        (&minimal_file, "MINIMAL or NOBLOB"),
        (&ddl_file, "DDL"),
    ] {
        let r = flashback(std::slice::from_ref(file), &[], &out);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let name = file.display().to_string();
        assert!(
            r.stderr.contains(&format!("{name}: at offset ")) && r.stderr.contains(what),
            "{}",
            r.stderr
        );
        assert!(!out.exists(), "nothing may be left at -o");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temp file left"
        );
    }
    // The refused files also refuse when they come after a good one.
    let r = flashback(&[rows_file.clone(), stmt_file.clone()], &[], &out);
    assert_eq!(r.code, 2);
    assert!(!out.exists());

    let r = flashback(std::slice::from_ref(&ddl_file), &["--skip-ddl"], &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("DDL left out: CREATE TABLE"),
        "{}",
        r.stderr
    );
    let text = run_mariadb_binlog(&["-v"], &out);
    assert!(!text.contains("CREATE TABLE"));
    assert!(text.contains("DELETE FROM `r`.`t`"));
    // DDL on a table after rows of it to undo is refused even with --skip-ddl: the undo's
    // images would not fit the altered table.
    std::fs::remove_file(&out).unwrap();
    let r = flashback(std::slice::from_ref(&ddl_after_file), &["--skip-ddl"], &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("ALTER TABLE r.t ADD COLUMN z INT")
            && r.stderr.contains("after rows of it to undo"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());

    let dry = tool(&["flashback", "--dry-run"]).arg(&rows_file).ok();
    let line = dry
        .stdout
        .lines()
        .find(|l| l.starts_with("r.t "))
        .unwrap_or_else(|| panic!("{}", dry.stdout));
    let counts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(counts, ["r.t", "3", "2", "1"], "{}", dry.stdout);
    assert!(dry.stdout.contains("transactions: 3"), "{}", dry.stdout);
    let json = tool(&[
        "flashback",
        "--dry-run",
        "--format",
        "json",
        "--sql-type",
        "insert,delete",
    ])
    .arg(&rows_file)
    .ok();
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(v["transactions"], 2);
    assert_eq!(v["tables"][0]["inserted"], 3);
    assert_eq!(v["tables"][0]["updated"], 0);
    assert_eq!(v["tables"][0]["deleted"], 1);
    assert!(v["first"]["position"].as_u64().unwrap() > 4);

    // Undoing the first three statements through stdout restores the table as it was.
    let r = tool(&["flashback", "-o", "-"]).arg(&rows_file).run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.len() > 4);
}

/// One row change as decoded: table, kind, before and after values (Debug text).
#[derive(Debug, Clone, PartialEq)]
struct Change {
    table: String,
    kind: RowsKind,
    before: Option<Vec<String>>,
    after: Option<Vec<String>>,
}

fn invert(c: &Change) -> Change {
    let kind = match c.kind {
        RowsKind::Write => RowsKind::Delete,
        RowsKind::Delete => RowsKind::Write,
        _ => RowsKind::Update,
    };
    Change {
        table: c.table.clone(),
        kind,
        before: c.after.clone(),
        after: c.before.clone(),
    }
}

/// Every row change of the transactions ending at or before `stop`, in order.
fn changes(bytes: &[u8], stop: Option<u64>) -> Vec<Change> {
    let log = Binlog::parse(bytes).unwrap();
    let mut tables: HashMap<u64, (String, TableInfo)> = HashMap::new();
    let mut out = Vec::new();
    for g in Transactions::new(log.events()) {
        let Group::Transaction(t) = g.unwrap() else {
            continue;
        };
        if stop.is_some_and(|s| t.end > s) {
            break;
        }
        t.visit(bytes, |ev, format, _| {
            match ev.decode(format)? {
                EventData::TableMap(tm) => {
                    let info = TableInfo::from_table_map(&tm).or_else(|_| {
                        let cols = tm.columns()?;
                        let n = cols.len();
                        Ok::<_, binlog::Error>(TableInfo::new(cols, vec![false; n]))
                    })?;
                    tables.insert(tm.table_id, (tm.qualified_name(), info));
                }
                EventData::Rows(re) => {
                    let (name, info) = &tables[&re.table_id];
                    let data = re.rows_data()?;
                    for row in Rows::new(&re, &data, info)? {
                        let row = row?;
                        let img = |i: Option<binlog::row::RowImage>| {
                            i.map(|i| {
                                i.values(info)
                                    .unwrap()
                                    .map(|v| format!("{:?}", v.unwrap()))
                                    .collect::<Vec<_>>()
                            })
                        };
                        out.push(Change {
                            table: name.clone(),
                            kind: if re.kind == RowsKind::PartialUpdate {
                                RowsKind::Update
                            } else {
                                re.kind
                            },
                            before: img(row.before),
                            after: img(row.after),
                        });
                    }
                }
                _ => {}
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("transaction at {}: {e}", t.start));
    }
    out
}

/// The start of the transaction that holds `offset`.
fn transaction_start(bytes: &[u8], offset: u64) -> u64 {
    let log = Binlog::parse(bytes).unwrap();
    for g in Transactions::new(log.events()) {
        if let Group::Transaction(t) = g.unwrap() {
            if t.start <= offset && offset < t.end {
                return t.start;
            }
        }
    }
    panic!("no transaction holds offset {offset}");
}

/// The MySQL binlogs of the shared corpus: each undo (or, where the whole file is refused,
/// the undo of the part before the refused event) passes `verify`, is read by
/// mariadb-binlog, and holds the source's row images swapped, in reverse order.
#[test]
fn mysql_corpus_undo_is_the_source_reversed() {
    let Some(dir) = shared_fixtures() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("undo.bin");
    let mut checked = 0;
    let mut payloads = 0;
    for row in manifest(&dir) {
        let has_rows = row
            .histogram
            .iter()
            .any(|(k, _)| k.contains("ROWS") || k == "TRX_PAYLOAD");
        // MySQL only; before 5.5 the corpus holds pre-GA rows events and NDB partial images.
        let mut v = row
            .server_version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let old = (v.next().unwrap_or(0), v.next().unwrap_or(0)) < (5, 5);
        if row.server_version.contains("MariaDB") || !has_rows || old {
            continue;
        }
        let mut stop = None;
        let mut r = flashback(std::slice::from_ref(&row.path), &["--skip-ddl"], &out);
        if r.code != 0 {
            assert!(
                [
                    "statement-format",
                    "MINIMAL or NOBLOB",
                    "JSON partial update",
                    "after rows of it to undo"
                ]
                .iter()
                .any(|w| r.stderr.contains(w)),
                "{}: {}",
                row.rel,
                r.stderr
            );
            assert!(!out.exists());
            let at: u64 = r
                .stderr
                .split("at offset ")
                .nth(1)
                .and_then(|s| s.split(':').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no offset in {}", r.stderr));
            // The part of the file before the refused transaction (DDL after the rows to
            // undo is refused wherever the selection ends: the input must end before it).
            let bytes = std::fs::read(&row.path).unwrap();
            let cut_at = transaction_start(&bytes, at);
            let part = tmp.path().join("part.bin");
            std::fs::write(&part, &bytes[..cut_at as usize]).unwrap();
            stop = Some(cut_at);
            r = flashback(std::slice::from_ref(&part), &["--skip-ddl"], &out);
            assert_eq!(r.code, 0, "{}: {}", row.rel, r.stderr);
        }
        tool(&["verify", "-q"]).arg(&out).ok();
        run_mariadb_binlog(&[], &out);
        eprintln!("checking {}", row.rel);
        let source = std::fs::read(&row.path).unwrap();
        let undo = std::fs::read(&out).unwrap();
        let want: Vec<Change> = changes(&source, stop).iter().rev().map(invert).collect();
        let got = changes(&undo, None);
        assert_eq!(got.len(), want.len(), "{}", row.rel);
        assert!(
            got == want,
            "{}: undo images differ from the source's",
            row.rel
        );
        if row.histogram.iter().any(|(k, _)| k == "TRX_PAYLOAD") && !want.is_empty() {
            payloads += 1;
            assert!(
                Binlog::parse(&undo)
                    .unwrap()
                    .events()
                    .all(|e| e.unwrap().event_type() != binlog::EventType::TRANSACTION_PAYLOAD),
                "payloads are written flat"
            );
        }
        let _ = std::fs::remove_file(&out);
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} MySQL files checked");
    assert!(payloads >= 2, "only {payloads} compressed files checked");
}

/// The project's own fixtures: MariaDB compressed rows events come out plain and swapped;
/// MINIMAL, NOBLOB and statement-format files are refused with file and offset.
#[test]
fn fixtures_compressed_plain_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("undo.bin");
    let files = [
        crate::common::fixture("row_compressed/mariadb-bin.000001"),
        crate::common::fixture("row_compressed/mariadb-bin.000002"),
    ];
    let r = flashback(&files, &["--skip-ddl"], &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    tool(&["verify", "-q"]).arg(&out).ok();
    run_mariadb_binlog(&["-vv"], &out);
    let undo = std::fs::read(&out).unwrap();
    for ev in Binlog::parse(&undo).unwrap().events() {
        let t = ev.unwrap().event_type();
        assert!(!(165..=171).contains(&t.code()), "{t:?} is compressed");
    }
    let mut want = Vec::new();
    for f in &files {
        want.extend(changes(&std::fs::read(f).unwrap(), None));
    }
    let want: Vec<Change> = want.iter().rev().map(invert).collect();
    assert!(want.len() > 100);
    assert!(
        changes(&undo, None) == want,
        "undo images differ from the source's"
    );
    std::fs::remove_file(&out).unwrap();

    // A device is written to, not replaced.
    tool(&["flashback", "--skip-ddl", "-o", "/dev/null"])
        .args(&files)
        .ok();
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }

    // GTID selection: one transaction by its GTID; none when all are excluded.
    let dry = |extra: &[&str]| -> serde_json::Value {
        let r = tool(&["flashback", "--dry-run", "--format", "json", "--skip-ddl"])
            .args(&files)
            .args(extra)
            .ok();
        serde_json::from_str(r.stdout.trim()).unwrap()
    };
    let one = dry(&["--include-gtids", "0-4-9"]);
    assert_eq!(one["transactions"], 1, "{one}");
    assert_eq!(one["first"]["position"], 2478);
    let none = dry(&["--exclude-gtids", "0-4-1..0-4-1000"]);
    assert_eq!(none["transactions"], 0, "{none}");
    assert!(none["tables"].as_array().unwrap().is_empty());

    for (rel, what) in [
        ("row_minimal/mariadb-bin.000002", "MINIMAL or NOBLOB"),
        ("row_noblob/mariadb-bin.000002", "MINIMAL or NOBLOB"),
        ("statement/mariadb-bin.000001", "statement-format"),
    ] {
        let f = crate::common::fixture(rel);
        let r = flashback(std::slice::from_ref(&f), &["--skip-ddl"], &out);
        assert_eq!(r.code, 2, "{rel}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{}: at offset ", f.display())) && r.stderr.contains(what),
            "{rel}: {}",
            r.stderr
        );
        assert!(!out.exists());
    }
}

/// Foreign keys, triggers, generated columns, partitions, a second database, AUTO_INCREMENT.
#[test]
fn undo_with_keys_triggers_generated_columns_and_partitions() {
    let server = Server::start(45, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE k; USE k;
         CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
         CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, pid INT NOT NULL, v VARCHAR(20),
           FOREIGN KEY (pid) REFERENCES parent (id)) ENGINE=InnoDB;
         CREATE TABLE gen (id INT PRIMARY KEY, a INT, dbl INT AS (a * 2) VIRTUAL,
           inc INT AS (a + 1) STORED, KEY (inc)) ENGINE=InnoDB;
         CREATE TABLE part (id INT PRIMARY KEY, v INT) ENGINE=InnoDB
           PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE);
         CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40)) ENGINE=InnoDB;
         CREATE TRIGGER part_ins AFTER INSERT ON part FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('ins ', NEW.id));
         CREATE TRIGGER part_upd AFTER UPDATE ON part FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('upd ', NEW.id));
         INSERT INTO parent VALUES (1, 'one'), (2, 'two');
         INSERT INTO child (pid, v) VALUES (1, 'a'), (1, 'b'), (2, 'c');
         INSERT INTO gen (id, a) VALUES (1, 10), (2, 20);
         INSERT INTO part VALUES (5, 5), (150, 150);
         CREATE DATABASE k2; CREATE TABLE k2.t (id INT PRIMARY KEY, v INT);
         INSERT INTO k2.t VALUES (1, 1);",
    );
    let before = (server.snapshot("k"), server.snapshot("k2"));
    let mark = server.flush_binlogs();
    for sql in [
        "BEGIN; INSERT INTO parent VALUES (3, 'three'); INSERT INTO child (pid, v) VALUES (3, 'd'), (3, 'e'); COMMIT",
        "BEGIN; DELETE FROM child WHERE pid = 2; DELETE FROM parent WHERE id = 2; COMMIT",
        "UPDATE child SET pid = 3 WHERE v = 'a'",
        "UPDATE gen SET a = a + 5; INSERT INTO gen (id, a) VALUES (3, 30); DELETE FROM gen WHERE id = 1",
        "UPDATE part SET id = id + 100; INSERT INTO part VALUES (7, 7), (300, 300); DELETE FROM part WHERE id = 250",
        "UPDATE k2.t SET v = v + 1; INSERT INTO k2.t VALUES (2, 2)",
        "BEGIN; UPDATE k.gen SET a = 0; UPDATE k2.t SET v = 0; COMMIT",
    ] {
        server.sql(&format!("USE k; {sql}"));
    }
    let files = files_after(&server, &mark);
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");
    // First only the second database: the other stays as it is.
    let changed_k = server.snapshot("k");
    let r = flashback(&files, &["-d", "k2"], &undo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    server.apply_binlog(&[&undo], &[]);
    assert_eq!(server.snapshot("k2"), before.1);
    assert_eq!(server.snapshot("k"), changed_k);
    // Then the rest.
    let r = flashback(&files, &["-d", "k"], &undo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    server.apply_binlog(&[&undo], &[]);
    let after = server.snapshot("k");
    assert_tables_equal(&after, &before.0, None);
    assert_eq!(server.snapshot("k2"), before.1);
}

#[test]
fn undo_as_sql_restores_every_table() {
    let server = Server::start(48, ROW_DEFAULTS);
    let before = setup(&server);
    let setup_file = server.flush_binlogs();
    run_workload(&server, None);
    let files = files_after(&server, &setup_file);
    assert_ne!(snapshot(&server), before);
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.sql");
    let r = flashback(&files, &["--format", "sql"], &undo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sql = std::fs::read_to_string(&undo).unwrap();
    assert!(sql.contains("BEGIN;") && sql.contains("COMMIT;"), "{sql}");
    server.sql(&sql);
    assert_tables_equal(&snapshot(&server), &before, None);
}
