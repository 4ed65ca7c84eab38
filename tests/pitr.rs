//! decode, cut and locate end to end: a dump taken mid-workload is restored on other
//! servers, then the binlog is applied from the dump's position — as `decode --format sql`
//! (all of it) or as `cut --stop-datetime T` (up to a time) — and the tables must equal
//! the source's state at the end, or at T.

use std::path::{Path, PathBuf};

use crate::common::{root, tool};
use crate::server::{Server, ROW_DEFAULTS};

fn sql_file(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/sql").join(name)).unwrap()
}

/// `mariadb-dump --single-transaction --master-data=2` of `db`: the dump text and the
/// binlog file and position it was taken at.
fn dump(server: &Server, db: &str) -> (String, String, u64) {
    server.dump(&["--hex-blob", "--databases", db])
}

fn load(server: &Server, sql: &str) {
    server.sql(sql);
}

/// Runs the workload the tests share: schema and rows, a dump, then two phases of
/// changes stamped before and after the time `T`. Returns the source server, the dump,
/// the dump position, the binlog files (after a flush), the state at T and at the end.
struct Scenario {
    source: Server,
    dump: String,
    dump_file: String,
    dump_pos: u64,
    files: Vec<PathBuf>,
    at_t: Vec<(String, String, String)>,
    at_end: Vec<(String, String, String)>,
    t: &'static str,
}

const T: &str = "2024-01-01 12:00:00";

fn scenario() -> Scenario {
    let source = Server::start(21, ROW_DEFAULTS);
    source.sql(&sql_file("alltypes_schema.sql"));
    source.sql(&format!(
        "SET @base = 0; SET @f = 1.5e30; SET timestamp = 1700100100; {}",
        sql_file("alltypes_rows.sql")
    ));
    source.sql("SET timestamp = 1700100200; USE pt; INSERT INTO acct VALUES (1,'ann',10.00),(2,'bob',20.00),(3,'cy',30.00); INSERT INTO nokey VALUES (1,'x',0.5),(1,'x',0.5),(2,NULL,NULL);");
    let (dump, dump_file, dump_pos) = dump(&source, "pt");
    // Phase 1: before T (2024-01-01 12:00:00 UTC = 1704110400).
    source.sql(&format!(
        "SET timestamp = 1704100000; SET @base = 100; SET @f = 3.4028234e38; {}
         USE pt;
         UPDATE kinds SET i = i + 1, vc = CONCAT(LEFT(IFNULL(vc,''), 10), '+'), ts = '2030-01-01 00:00:00' WHERE id IN (1, 2, 3);
         UPDATE kinds SET id = id + 1000 WHERE id = 4;
         DELETE FROM kinds WHERE id = 101;
         BEGIN; UPDATE acct SET owner = 'tmp' WHERE id = 1; UPDATE acct SET owner = 'ann' WHERE id = 2; UPDATE acct SET owner = 'bob' WHERE id = 1; COMMIT;
         REPLACE INTO acct VALUES (3, 'cy', 33.30);
         UPDATE acct SET id = id + 10;
         UPDATE nokey SET b = 'y' WHERE a = 1 LIMIT 1;
         ALTER TABLE acct ADD COLUMN note VARCHAR(10) DEFAULT 'n';
         INSERT INTO acct (id, owner, balance) VALUES (50, 'dee', 5.00);
         UPDATE kinds SET js = JSON_SET(js, '$.c', 'e'), lb = REPEAT(x'EE', 80000) WHERE id = 102;",
        sql_file("alltypes_rows.sql")
    ));
    let at_t = source.snapshot("pt");
    // Phase 2: at and after T.
    source.sql(
        "SET timestamp = 1704110400; USE pt;
         DELETE FROM kinds WHERE id > 100 AND id < 200;
         UPDATE acct SET balance = balance * 2, note = 'late';
         SET timestamp = 1704120000;
         INSERT INTO nokey VALUES (9, 'late', 9.5);
         CREATE TABLE later (id INT PRIMARY KEY, v TEXT); INSERT INTO later VALUES (1, 'after T');",
    );
    let at_end = source.snapshot("pt");
    source.flush_binlogs();
    let files: Vec<PathBuf> = source.binlogs();
    let files = files[..files.len() - 1].to_vec();
    Scenario {
        source,
        dump,
        dump_file,
        dump_pos,
        files,
        at_t,
        at_end,
        t: T,
    }
}

/// The files from the one the dump names on.
fn files_from(s: &Scenario) -> Vec<&Path> {
    let i = s
        .files
        .iter()
        .position(|f| f.file_name().unwrap().to_string_lossy() == s.dump_file)
        .expect("dump file among the binlogs");
    s.files[i..].iter().map(|p| p.as_path()).collect()
}

fn assert_same(label: &str, got: &[(String, String, String)], want: &[(String, String, String)]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{label}: tables {:?} vs {:?}",
        got.iter().map(|t| &t.0).collect::<Vec<_>>(),
        want.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.0, w.0, "{label}");
        assert_eq!(g.2, w.2, "{label}: contents of {} differ", g.0);
        assert_eq!(g.1, w.1, "{label}: CHECKSUM TABLE of {} differs", g.0);
    }
}

#[test]
fn decode_sql_and_cut_reproduce_the_source() {
    let s = scenario();
    let env_tz = ("TZ", "UTC");
    let files = files_from(&s);

    // decode --format sql from the dump position reproduces the end state.
    let dir = tempfile::tempdir().unwrap();
    let sql_out = dir.path().join("changes.sql");
    tool(&["decode", "--format", "sql", "--start-position"])
        .arg(s.dump_pos.to_string())
        .args(&files)
        .arg("-o")
        .arg(&sql_out)
        .env(env_tz.0, env_tz.1)
        .ok();
    let replica = Server::start(22, ROW_DEFAULTS);
    load(&replica, &s.dump);
    replica.sql(&std::fs::read_to_string(&sql_out).unwrap());
    assert_same("decode --format sql", &replica.snapshot("pt"), &s.at_end);

    // cut --start-position <dump> --stop-datetime T, through mariadb-binlog | mariadb,
    // gives the state at T.
    let cut_out = dir.path().join("pitr.bin");
    tool(&["cut", "--start-position"])
        .arg(s.dump_pos.to_string())
        .arg("--stop-datetime")
        .arg(s.t)
        .args(&files)
        .arg("-o")
        .arg(&cut_out)
        .env(env_tz.0, env_tz.1)
        .ok();
    tool(&["verify"]).arg(&cut_out).ok();
    let restored = Server::start(23, ROW_DEFAULTS);
    load(&restored, &s.dump);
    restored.apply_binlog(&[&cut_out], &[]);
    assert_same("cut --stop-datetime", &restored.snapshot("pt"), &s.at_t);

    // locate --datetime T names the first transaction of phase 2 and the last of phase 1.
    let r = tool(&["locate", "--format", "json", "--datetime", s.t])
        .args(&files)
        .env(env_tz.0, env_tz.1)
        .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["first_at_or_after"]["commit_timestamp"], 1704110400,
        "{}",
        r.stdout
    );
    assert!(v["last_before"]["commit_timestamp"].as_u64().unwrap() < 1704110400);
    let gtid = v["first_at_or_after"]["gtid"].as_str().unwrap().to_string();
    let r = tool(&["locate", "--format", "json", "--gtid", &gtid])
        .args(&files)
        .ok();
    let g: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(g["start_pos"], v["first_at_or_after"]["start_pos"]);
    // …and cutting at exactly that start position gives the same state as the time.
    let cut2 = dir.path().join("pitr2.bin");
    let last_file = Path::new(v["first_at_or_after"]["file"].as_str().unwrap());
    assert_eq!(
        last_file,
        *files.last().unwrap(),
        "phase 2 starts in the last file"
    );
    tool(&["cut", "--start-position"])
        .arg(s.dump_pos.to_string())
        .arg("--stop-position")
        .arg(g["start_pos"].to_string())
        .args(&files)
        .arg("-o")
        .arg(&cut2)
        .ok();
    assert_eq!(
        std::fs::read(&cut_out).unwrap(),
        std::fs::read(&cut2).unwrap()
    );
    drop(s.source);
}

#[test]
fn decode_jsonl_values_equal_what_the_server_returned() {
    let server = Server::start(24, ROW_DEFAULTS);
    server.sql(&sql_file("alltypes_schema.sql"));
    server.sql(&format!(
        "SET @base = 0; SET @f = 1.5e30; SET timestamp = 1700100100; {}",
        sql_file("alltypes_rows.sql")
    ));
    let file = server.flush_binlogs();
    let r = tool(&["decode", "--format", "jsonl", "-t", "pt.kinds"])
        .arg(&file)
        .ok();
    let rows: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    let cols: Vec<String> = server
        .sql("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='pt' AND TABLE_NAME='kinds' ORDER BY ORDINAL_POSITION")
        .lines()
        .map(str::to_string)
        .collect();
    let types: Vec<String> = server
        .sql("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='pt' AND TABLE_NAME='kinds' ORDER BY ORDINAL_POSITION")
        .lines()
        .map(str::to_string)
        .collect();
    let mut compared = 0;
    for row in &rows {
        assert_eq!(row["op"], "insert");
        let after = &row["after"];
        let id = after["id"].as_i64().unwrap();
        for (c, ty) in cols.iter().zip(&types) {
            let v = &after[c.as_str()];
            if v.is_null() {
                let isnull = server.value(&format!(
                    "SELECT `{c}` IS NULL FROM pt.kinds WHERE id = {id}"
                ));
                assert_eq!(isnull, "1", "{c} of {id}");
                continue;
            }
            compared += 1;
            let (ours, theirs) = match ty.as_str() {
                "float" | "double" => {
                    let theirs = server.value(&format!(
                        "SELECT CAST(`{c}` AS DOUBLE) FROM pt.kinds WHERE id = {id}"
                    ));
                    let ours = v.as_f64().unwrap();
                    let ours = if ty == "float" {
                        f64::from(ours as f32)
                    } else {
                        ours
                    };
                    (
                        format!("{ours}"),
                        format!("{}", theirs.parse::<f64>().unwrap()),
                    )
                }
                // UTC (the server's time zone here) in ISO 8601 with a `Z`.
                "timestamp" => (
                    v.as_str().unwrap().to_string(),
                    server.value(&format!(
                        "SELECT IF(`{c}` = 0, '0000-00-00 00:00:00', \
                         CONCAT(REPLACE(`{c}`, ' ', 'T'), 'Z')) FROM pt.kinds WHERE id = {id}"
                    )),
                ),
                "decimal" | "date" | "time" | "datetime" | "enum" | "set" => (
                    v.as_str().unwrap().to_string(),
                    server.value(&format!("SELECT `{c}` FROM pt.kinds WHERE id = {id}")),
                ),
                "bit" => (
                    v.to_string(),
                    server.value(&format!("SELECT `{c}`+0 FROM pt.kinds WHERE id = {id}")),
                ),
                "year" => (
                    v.to_string(),
                    server.value(&format!("SELECT `{c}`+0 FROM pt.kinds WHERE id = {id}")),
                ),
                "uuid" | "inet6" => (
                    v["hex"].as_str().unwrap().to_string(),
                    server.value(&format!(
                        "SELECT HEX(CAST(`{c}` AS BINARY(16))) FROM pt.kinds WHERE id = {id}"
                    )),
                ),
                "json" | "longtext" => {
                    let theirs =
                        server.value(&format!("SELECT HEX(`{c}`) FROM pt.kinds WHERE id = {id}"));
                    let ours: String = v
                        .as_str()
                        .unwrap()
                        .bytes()
                        .map(|b| format!("{b:02X}"))
                        .collect();
                    (ours, theirs)
                }
                _ if v.is_object() => (
                    v["hex"].as_str().unwrap().to_string(),
                    server.value(&format!("SELECT HEX(`{c}`) FROM pt.kinds WHERE id = {id}")),
                ),
                // Text in UTF-8, as the server converts it from the column's charset.
                _ if v.is_string() => {
                    let theirs = server.value(&format!(
                        "SELECT HEX(CONVERT(`{c}` USING utf8mb4)) FROM pt.kinds WHERE id = {id}"
                    ));
                    let ours: String = v
                        .as_str()
                        .unwrap()
                        .bytes()
                        .map(|b| format!("{b:02X}"))
                        .collect();
                    (ours, theirs)
                }
                _ => (
                    v.to_string(),
                    server.value(&format!("SELECT `{c}` FROM pt.kinds WHERE id = {id}")),
                ),
            };
            assert_eq!(ours, theirs, "column {c} ({ty}) of row {id}: {v}");
        }
    }
    assert!(compared > 70, "{compared}");
}
