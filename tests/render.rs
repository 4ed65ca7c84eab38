//! What `decode` and `flashback` write as SQL and JSON lines, checked against real MariaDB
//! servers: the SQL replays the binlog's exact values (floats without a key, id 0 in an
//! AUTO_INCREMENT column, zero dates into a strict server, text in every character set,
//! rows a collation cannot tell apart, ON UPDATE columns, foreign key checks, CREATE
//! DATABASE from the start of a binlog); JSON strings are the server's own conversion to
//! UTF-8; times carry their offset; rows in MySQL compressed transactions name the
//! payload's position.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use binlog::txn::{Group, Transactions};
use binlog::{Binlog, EventData, EventType};

use crate::common::{shared_fixtures, tool, Run};
use crate::server::{Server, ROW_DEFAULTS};

type Snapshot = Vec<(String, String, String)>;

/// The first phase: a database created from nothing, and rows written under the session
/// settings that make them hard to replay.
const PHASE1: &str = r#"
SET timestamp = 1700000000;
CREATE DATABASE rd CHARACTER SET utf8mb4;
USE rd;
CREATE TABLE fl (f FLOAT, d DOUBLE) ENGINE=InnoDB;
CREATE TABLE ai (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
CREATE TABLE zd (id INT NOT NULL PRIMARY KEY, d DATE, dt DATETIME, ts TIMESTAMP NULL) ENGINE=InnoDB;
CREATE TABLE tx (
  id INT NOT NULL PRIMARY KEY,
  l1 VARCHAR(40) CHARACTER SET latin1, l2 VARCHAR(40) CHARACTER SET latin2,
  w1 VARCHAR(40) CHARACTER SET cp1251, gr VARCHAR(40) CHARACTER SET greek,
  k8 VARCHAR(40) CHARACTER SET koi8r, u16 VARCHAR(40) CHARACTER SET utf16,
  u16le VARCHAR(40) CHARACTER SET utf16le, u2 VARCHAR(40) CHARACTER SET ucs2,
  u32 VARCHAR(40) CHARACTER SET utf32, u3 VARCHAR(40) CHARACTER SET utf8mb3,
  u4 VARCHAR(40), asc7 VARCHAR(40) CHARACTER SET ascii, sj VARCHAR(40) CHARACTER SET sjis,
  bin VARBINARY(40), ch CHAR(10) CHARACTER SET latin1, t TEXT, js JSON,
  en ENUM('plain', 'é', 'it''s') CHARACTER SET latin1, st SET('a', 'ü', 'c') CHARACTER SET latin1
) ENGINE=InnoDB;
CREATE TABLE nk (name VARCHAR(20), note VARCHAR(20) CHARACTER SET latin1) ENGINE=InnoDB;
CREATE TABLE onupd (id INT NOT NULL PRIMARY KEY, v INT,
  ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  dt DATETIME NULL ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB;
CREATE TABLE parent (id INT NOT NULL PRIMARY KEY, n INT) ENGINE=InnoDB;
CREATE TABLE child (id INT NOT NULL PRIMARY KEY, p INT,
  FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE) ENGINE=InnoDB;

INSERT INTO fl VALUES (0.1, 0.1), (1.5, 2.5), (3.4028234e38, 1e308), (1.17549435e-38, -2.25e-300),
  (16777217, 5e-324), (0.1, 0.1), (-0.3, 0.3), (123456.789, 1.0000000000000002);
SET sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
INSERT INTO ai VALUES (0, 'zero'), (5, 'five');
SET sql_mode = 'ALLOW_INVALID_DATES';
INSERT INTO zd VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
  (2, '2020-02-30', '2020-00-15 10:00:00', '2038-01-19 03:14:07'), (3, '2001-01-01', NULL, '1970-01-01 00:00:01');
SET sql_mode = DEFAULT;
INSERT INTO tx VALUES
  (1, 'plain', 'zażółć', 'абв', 'αβγ', 'жук', 'x😀y', 'le 😀', 'ab', 'é ', 'ünï', 'ünïcødé 😀', 'ascii',
   '日本', x'00ff', 'pad', 'multi\nline\ttab', '{"hex": "41"}', 'é', 'a,ü'),
  (2, CONCAT('a\\b''c"', CHAR(13), 'd'), NULL, NULL, NULL, NULL, CONCAT('ctl', CHAR(1 USING utf16)), NULL,
   CONCAT(CHAR(0 USING ucs2), 'z'), NULL, NULL, CONCAT('nul', CHAR(0)), NULL, NULL, x'', '', '', '[]', 'it''s', ''),
  (3, _latin1 x'81e9', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'O''Brien \\ ok', NULL,
   NULL, NULL, NULL, NULL, '"s"', 'plain', 'c');
INSERT INTO nk VALUES ('Jose', 'a'), ('José', 'a'), ('jose', 'a'), ('jose ', 'a'), ('JOSE', 'é');
INSERT INTO onupd VALUES (1, 1, '2001-01-01 00:00:00', '2001-01-01 00:00:00'), (2, 2, '2002-02-02 00:00:00', NULL);
INSERT INTO parent VALUES (1, 1), (2, 2), (3, 3);
INSERT INTO child VALUES (10, 1), (11, 1), (20, 2), (30, 3);
DELETE FROM parent WHERE id = 1;
SET sql_mode = 'ANSI_QUOTES';
CREATE TABLE "quoted" ("a" INT NOT NULL PRIMARY KEY, "b" VARCHAR(5));
SET sql_mode = DEFAULT;
INSERT INTO quoted VALUES (1, 'q');
SET time_zone = '+05:00';
CREATE TABLE tzd (id INT NOT NULL PRIMARY KEY, ts TIMESTAMP NOT NULL DEFAULT '2001-01-01 05:00:00');
INSERT INTO tzd (id) VALUES (1);
SET time_zone = DEFAULT;
SET explicit_defaults_for_timestamp = 0, check_constraint_checks = 0;
CREATE TABLE edt (id INT NOT NULL PRIMARY KEY, ts TIMESTAMP);
SET explicit_defaults_for_timestamp = DEFAULT, check_constraint_checks = DEFAULT;
"#;

/// The second phase: the changes a flashback undoes.
const PHASE2: &str = r#"
SET timestamp = 1700000100;
USE rd;
UPDATE fl SET d = d + 1 WHERE d < 1e300;
DELETE FROM fl WHERE f > 1e38 OR f < 1e-37;
UPDATE fl SET f = 0.2 WHERE d = 1.1 LIMIT 1;
SET sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
UPDATE ai SET v = 'zero!' WHERE id = 0;
DELETE FROM ai WHERE id = 0;
INSERT INTO ai VALUES (0, 'again');
SET sql_mode = 'ALLOW_INVALID_DATES';
UPDATE zd SET d = '0000-00-00', dt = '2020-02-31 00:00:00' WHERE id = 2;
DELETE FROM zd WHERE id = 1;
SET sql_mode = DEFAULT;
UPDATE tx SET l1 = 'changed é', u16 = 'y😀x', t = CONCAT(t, '\\'), js = '{"a": 1}' WHERE id = 1;
DELETE FROM tx WHERE id = 2;
UPDATE tx SET u2 = 'ok' WHERE id = 3;
DELETE FROM nk WHERE BINARY name = 'jose';
UPDATE nk SET note = 'b' WHERE BINARY name = 'José';
DELETE FROM nk WHERE BINARY name = 'jose ';
UPDATE onupd SET v = 10, ts = ts, dt = dt WHERE id = 1;
UPDATE onupd SET v = 20 WHERE id = 2;
SET foreign_key_checks = 0;
DELETE FROM parent WHERE id = 2;
SET foreign_key_checks = 1;
CREATE DATABASE other;
CREATE TABLE other.t (id INT PRIMARY KEY);
DROP DATABASE other;
"#;

/// A server that ran both phases: the files of each, and the state after each.
struct Recorded {
    server: Server,
    phase1: Vec<PathBuf>,
    phase2: Vec<PathBuf>,
    after1: Snapshot,
    after2: Snapshot,
}

fn record(id: u32) -> Recorded {
    let server = Server::start(id, ROW_DEFAULTS);
    server.sql(PHASE1);
    let after1 = server.snapshot("rd");
    server.flush_binlogs();
    server.sql(PHASE2);
    let after2 = server.snapshot("rd");
    server.flush_binlogs();
    let all = server.binlogs();
    let n = all.len();
    Recorded {
        phase1: all[..n - 2].to_vec(),
        phase2: all[n - 2..n - 1].to_vec(),
        after1,
        after2,
        server,
    }
}

fn assert_same(label: &str, got: &Snapshot, want: &Snapshot) {
    let names = |s: &Snapshot| s.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "{label}: tables");
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.2 == w.2,
            "{label}: table {} differs:\n got: {}\nwant: {}",
            g.0,
            g.2,
            w.2
        );
        assert_eq!(g.1, w.1, "{label}: CHECKSUM TABLE of {}", g.0);
    }
}

/// MySQL 8's default sql_mode: strict, zero dates refused.
const STRICT: &str = "--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

fn decode(files: &[PathBuf], extra: &[&str]) -> Run {
    tool(&["decode"])
        .args(extra)
        .args(files)
        .env("TZ", "Asia/Kolkata")
        .run()
}

/// `decode --format sql` from the first binlog, fed to a fresh server whose sql_mode is
/// strict, gives every table exactly as the source has it.
#[test]
fn decode_sql_from_the_start_replays_exactly_on_a_strict_server() {
    let rec = record(61);
    let files: Vec<PathBuf> = rec.phase1.iter().chain(&rec.phase2).cloned().collect();
    let r = decode(&files, &["--format", "sql"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sql = r.stdout;

    // Readable where it can be: text in its own characters, floats in their digits.
    for want in [
        "'plain'",
        "'zażółć'",
        "'абв'",
        "'x😀y'",
        "'a\\\\b''c\"\\rd'",
        "'multi\\nline\\ttab'",
        "'O''Brien \\\\ ok'",
        "(0.1, 0.1)",
        "SET sql_mode",
    ] {
        assert!(sql.contains(want), "{want} missing from:\n{sql}");
    }
    assert!(!sql.contains("X'706C61696E'"), "{sql}");
    assert!(!sql.contains("WHERE FALSE"), "{sql}");
    assert!(!sql.contains("0.10000000149011612,"), "{sql}");
    // CREATE DATABASE runs before its database exists: no USE in front of it.
    for line in sql.lines() {
        if line.contains("CREATE DATABASE") || line.contains("DROP DATABASE") {
            assert!(!line.contains("USE "), "{line}");
        }
    }

    let target = Server::start(62, &[ROW_DEFAULTS, &[STRICT]].concat());
    target.sql(&sql);
    assert_same("decode --format sql", &target.snapshot("rd"), &rec.after2);
    assert_eq!(target.value("SELECT v FROM rd.ai WHERE id = 0"), "again");
    // Statements ran with their own settings: the time zone their TIMESTAMP default was
    // written in.
    for server in [&rec.server, &target] {
        server.sql("INSERT INTO rd.tzd (id) VALUES (2)");
    }
    assert_eq!(
        target.table_contents("rd", "tzd"),
        rec.server.table_contents("rd", "tzd")
    );
    // …and every table is created as it was (ANSI_QUOTES, explicit_defaults_for_timestamp).
    for (table, _, _) in &rec.after2 {
        let show = |s: &Server| s.sql(&format!("SHOW CREATE TABLE rd.`{table}`"));
        assert_eq!(show(&target), show(&rec.server), "{table}");
    }
    assert_eq!(
        target
            .value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'other'"),
        "0"
    );
}

/// A statement whose text is not UTF-8 (a latin1 client's é) cannot be written into
/// UTF-8 output unchanged: decode refuses it, naming it, and writes nothing.
#[test]
fn decode_sql_refuses_a_statement_it_cannot_carry() {
    let server = Server::start(66, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE cs; USE cs; SET NAMES latin1; \
         CREATE TABLE l (id INT PRIMARY KEY, c VARCHAR(5) DEFAULT 'é');",
    );
    let file = server.flush_binlogs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.sql");
    let r = tool(&["decode", "-o"]).arg(&out).arg(&file).run();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("not UTF-8"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(!out.exists());
    // JSON lines print no statements: nothing to refuse.
    tool(&["decode", "--format", "jsonl"]).arg(&file).ok();
}

/// `flashback --format sql` of the second phase, applied to the source, gives back the
/// state after the first.
#[test]
fn flashback_sql_undoes_exactly() {
    let rec = record(63);
    assert_ne!(rec.after1, rec.after2);
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.sql");
    let r = tool(&["flashback", "--format", "sql", "--skip-ddl", "-d", "rd"])
        .args(&rec.phase2)
        .arg("-o")
        .arg(&undo)
        .run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sql = std::fs::read_to_string(&undo).unwrap();
    assert!(!sql.contains("WHERE FALSE"), "{sql}");
    rec.server.sql(&sql);
    assert_same(
        "flashback --format sql",
        &rec.server.snapshot("rd"),
        &rec.after1,
    );
    assert_eq!(rec.server.value("SELECT v FROM rd.ai WHERE id = 0"), "zero");
}

/// `events` shows a QUERY's database as SHOW BINLOG EVENTS does: not for statements
/// logged with LOG_EVENT_SUPPRESS_USE_F (CREATE/DROP DATABASE).
#[test]
fn events_info_of_queries_is_the_servers() {
    let server = Server::start(64, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE ev1; USE ev1; CREATE TABLE t (id INT PRIMARY KEY); \
         ALTER DATABASE ev1 CHARACTER SET latin1; CREATE DATABASE ev2; DROP DATABASE ev2; \
         INSERT INTO t VALUES (1); DROP TABLE t; DROP DATABASE ev1;",
    );
    let file = server.flush_binlogs();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let theirs: HashMap<String, String> = server
        .sql(&format!("SHOW BINLOG EVENTS IN '{name}'"))
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[2] == "Query")
        .map(|f| (f[1].to_string(), f[5].to_string()))
        .collect();
    assert!(theirs.len() >= 7, "{theirs:?}");
    let ours = tool(&["events"]).arg(&file).ok();
    let mut compared = 0;
    for l in ours.stdout.lines().skip(1) {
        let f: Vec<&str> = l.split('\t').collect();
        if f[2] != "Query" {
            continue;
        }
        assert_eq!(
            Some(&f[5].to_string()),
            theirs.get(f[1]),
            "event at {}",
            f[1]
        );
        compared += 1;
    }
    assert_eq!(compared, theirs.len());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// JSON lines: strings are the column's text converted to UTF-8 as the server converts it,
/// hex where the character set has no exact mapping here; a JSON column's document is a
/// string, so that only bytes are objects; times carry their zone.
#[test]
fn jsonl_text_follows_the_charset_and_times_carry_their_zone() {
    let s = Server::start(65, ROW_DEFAULTS);
    s.sql(PHASE1);
    let file = s.flush_binlogs();
    let r = decode(
        &[file],
        &["--format", "jsonl", "-t", "rd.tx", "-t", "rd.zd"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut compared = 0;
    for l in &lines {
        // The event time in ISO 8601 with the local offset (TZ=Asia/Kolkata, +05:30).
        let ts = l["timestamp"].as_i64().unwrap();
        let want = chrono::DateTime::from_timestamp(ts + 19800, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S+05:30")
            .to_string();
        assert_eq!(l["time"], want.as_str(), "{l}");
        let after = &l["after"];
        let id = after["id"].as_i64().unwrap();
        let table = l["table"].as_str().unwrap();
        for (col, v) in after.as_object().unwrap() {
            if col == "id" || v.is_null() {
                continue;
            }
            let q = |e: &str| s.value(&format!("SELECT {e} FROM rd.{table} WHERE id = {id}"));
            match (table, col.as_str()) {
                ("tx", "sj") | ("tx", "bin") => {
                    assert_eq!(v["hex"], q(&format!("HEX(`{col}`)")).as_str(), "{col}: {v}");
                    assert_eq!(v.as_object().unwrap().len(), 1);
                }
                ("tx", _) => {
                    let theirs = q(&format!("HEX(CONVERT(`{col}` USING utf8mb4))"));
                    let ours = v.as_str().unwrap_or_else(|| panic!("{col}: {v}"));
                    assert_eq!(hex(ours.as_bytes()), theirs, "{col} of {id}: {v}");
                }
                ("zd", "ts") => {
                    let theirs = q(
                        "IF(ts = 0, '0000-00-00 00:00:00', DATE_FORMAT(ts, '%Y-%m-%dT%H:%i:%sZ'))",
                    );
                    assert_eq!(v.as_str().unwrap(), theirs, "ts of {id}");
                    if theirs != "0000-00-00 00:00:00" {
                        assert!(theirs.ends_with('Z'));
                    }
                }
                ("zd", _) => {
                    assert_eq!(v.as_str().unwrap(), q(&format!("`{col}`")), "{col} of {id}");
                }
                _ => unreachable!(),
            }
            compared += 1;
        }
    }
    assert!(compared >= 40, "{compared}");
    // The JSON column's document `{"hex": "41"}` is a string, never an object.
    let first = lines.iter().find(|l| l["table"] == "tx").unwrap();
    assert_eq!(first["after"]["js"], r#"{"hex": "41"}"#);
}

/// Rows inside MySQL compressed transactions: `pos` is the TRANSACTION_PAYLOAD event's
/// position in the file, `payload_index` the rows event's place inside it; the SQL comments
/// say the same.
#[test]
fn rows_in_compressed_transactions_name_the_payload_position() {
    let Some(dir) = shared_fixtures() else { return };
    let mut checked = 0;
    for rel in [
        "rust_mysql_common/transaction_compression.000001",
        "mysql-binlog-connector-java/mysql-bin.compressed",
    ] {
        let path = dir.join(rel);
        let want = payload_rows(&path);
        assert!(!want.is_empty(), "{rel}");
        let r = tool(&["decode", "--format", "jsonl"]).arg(&path).ok();
        let got: Vec<(u64, u64)> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| {
                (
                    v["pos"].as_u64().unwrap(),
                    v["payload_index"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{rel}");
        // MINIMAL metadata: SQL needs the tables' columns (types as the TABLE_MAPs log them).
        let schema = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(schema.path(), PAYLOAD_FIXTURE_TABLES).unwrap();
        let sql = tool(&["decode", "--schema"])
            .arg(schema.path())
            .arg(&path)
            .ok()
            .stdout;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (pos, idx) in &want {
            let comment = format!("/* {name}:{pos} payload event {idx} */");
            assert!(sql.contains(&comment), "{comment} missing:\n{sql}");
        }
        checked += want.len();
    }
    assert!(checked >= 2);
}

/// The tables of the two compressed corpus files, which log no column names.
const PAYLOAD_FIXTURE_TABLES: &str = "\
CREATE DATABASE test; USE test;
CREATE TABLE tb1 (a INT);
CREATE DATABASE demo; USE demo;
CREATE TABLE movies (id INT, title VARCHAR(256), year INT, country VARCHAR(256),
  genre VARCHAR(256), actors VARCHAR(1024), director VARCHAR(512), composer VARCHAR(256),
  screenwriter VARCHAR(256), cinematographer VARCHAR(256), production_company VARCHAR(256));
";

/// (payload position, index inside the payload) of each row of each rows event inside a
/// TRANSACTION_PAYLOAD, walked with the library.
fn payload_rows(path: &Path) -> Vec<(u64, u64)> {
    let bytes = std::fs::read(path).unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    let mut out = Vec::new();
    let mut tables = HashMap::new();
    for g in Transactions::new(log.events()) {
        let Group::Transaction(t) = g.unwrap() else {
            continue;
        };
        for ev in t.events(&bytes) {
            let ev = ev.unwrap();
            if ev.event_type() != EventType::TRANSACTION_PAYLOAD {
                continue;
            }
            let EventData::TransactionPayload(p) = ev.decode(&t.format).unwrap() else {
                unreachable!()
            };
            let inner = p.decompress().unwrap();
            let mut events = binlog::event::payload::payload_events(&inner, &t.format);
            let mut index = 0u64;
            while let Some(iev) = events.next() {
                let iev = iev.unwrap();
                match iev.decode(events.format()).unwrap() {
                    EventData::TableMap(tm) => {
                        tables.insert(
                            tm.table_id,
                            binlog::row::TableInfo::from_table_map(&tm).unwrap(),
                        );
                    }
                    EventData::Rows(re) => {
                        let data = re.rows_data().unwrap();
                        let n = binlog::row::Rows::new(&re, &data, &tables[&re.table_id])
                            .unwrap()
                            .count();
                        out.extend(std::iter::repeat_n((ev.offset(), index), n));
                    }
                    _ => {}
                }
                index += 1;
            }
        }
    }
    out
}

/// Every byte of every single-byte character set reads as the server converts it to
/// UTF-8, and is text here only when the server converts that text back to the same byte.
#[test]
fn charset_tables_match_the_server() {
    use binlog::sql::text::{single_byte_sets, Charset};
    let server = Server::start(67, ROW_DEFAULTS);
    let mut sets: Vec<&str> = single_byte_sets().collect();
    sets.push("ascii");
    assert!(sets.len() >= 20);
    for cs in sets {
        let id: u16 = server
            .value(&format!(
                "SELECT ID FROM information_schema.COLLATIONS WHERE CHARACTER_SET_NAME = '{cs}' AND IS_DEFAULT = 'Yes'"
            ))
            .parse()
            .unwrap();
        let ours = Charset::of(Some(id));
        assert_eq!(ours.name(), Some(cs));
        let rows = server.sql(&format!(
            "SELECT seq, HEX(CONVERT(CONVERT(UNHEX(LPAD(HEX(seq), 2, '0')) USING {cs}) USING utf8mb4)), \
             HEX(CONVERT(CONVERT(CONVERT(UNHEX(LPAD(HEX(seq), 2, '0')) USING {cs}) USING utf8mb4) USING {cs})) \
             FROM mysql.seq_0_to_255"
        ));
        let theirs: Vec<(u8, String, String)> = rows
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].parse().unwrap(), f[1].to_string(), f[2].to_string())
            })
            .collect();
        assert_eq!(theirs.len(), 256, "{cs}");
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for (_, utf8, _) in &theirs {
            *uses.entry(utf8.as_str()).or_default() += 1;
        }
        for (b, utf8, back) in &theirs {
            match ours.decode(&[*b]) {
                Some(text) => {
                    assert_eq!(&hex(text.as_bytes()), utf8, "{cs} byte {b:#04x}");
                    assert_eq!(back, &format!("{b:02X}"), "{cs} byte {b:#04x} back");
                }
                None => assert!(
                    (utf8 == "3F" && *b != 0x3f)
                        || back != &format!("{b:02X}")
                        || uses[utf8.as_str()] > 1,
                    "{cs} byte {b:#04x} is text to the server ({utf8}) but not here"
                ),
            }
        }
    }
}
