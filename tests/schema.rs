//! Column names from a schema on a server that logs none (`binlog_row_metadata=MINIMAL`),
//! followed through DDL: decode from a dump's position replayed on the restored dump gives
//! the source's tables; `--write-schema` and `--schema-from-server` agree; a schema that
//! does not fit, DDL that cannot be read and `@N` names are refused; flashback SQL across
//! later DDL addresses the tables as they are now.

use std::path::PathBuf;

use crate::common::{manifest, shared_fixtures, tool};
use crate::server::Server;

const MINIMAL: &[&str] = &[
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=MINIMAL",
    "--binlog-checksum=CRC32",
];

/// The files from `first` (a name) on.
fn files_from(server: &Server, first: &str) -> Vec<PathBuf> {
    let all = server.binlogs();
    let i = all
        .iter()
        .position(|p| p.file_name().unwrap().to_string_lossy() == first)
        .expect("the dump's file");
    all[i..].to_vec()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SETUP: &str = "CREATE DATABASE sc; USE sc;
CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20), v INT);
CREATE TABLE b (id INT NOT NULL, x DECIMAL(10,2), note TEXT, PRIMARY KEY (id));
CREATE TABLE nokey (k INT, s VARCHAR(5));
INSERT INTO a VALUES (1,'one',10),(2,'two',20),(3,'three',30);
INSERT INTO b VALUES (1,1.50,'x'),(2,2.50,NULL);
INSERT INTO nokey VALUES (1,'a'),(1,'a'),(2,'b');";

/// Changes between DDL of every kind the history follows.
const WORKLOAD: &str = "USE sc;
INSERT INTO a VALUES (4,'four',40); UPDATE a SET v = v + 1 WHERE id = 1;
ALTER TABLE a ADD COLUMN color VARCHAR(10) DEFAULT 'red' AFTER name;
INSERT INTO a VALUES (5,'five','blue',50); UPDATE a SET color = 'green' WHERE id = 2;
ALTER TABLE a ADD COLUMN f0 INT FIRST;
UPDATE a SET f0 = id * 100; DELETE FROM a WHERE id = 3;
ALTER TABLE a DROP COLUMN v;
INSERT INTO a (f0, id, name, color) VALUES (600, 6, 'six', 'black');
ALTER TABLE a MODIFY name VARCHAR(30) CHARACTER SET latin1;
UPDATE a SET name = 'Zwei' WHERE id = 2;
ALTER TABLE a CHANGE COLUMN color `Col or` TEXT;
UPDATE a SET `col OR` = 'pink' WHERE id = 1;
RENAME TABLE b TO b2;
INSERT INTO b2 VALUES (3, 3.50, 'y'); UPDATE b2 SET x = 9.99 WHERE id = 1;
ALTER TABLE b2 ADD (p INT, q BIGINT UNSIGNED), ADD UNIQUE KEY uq (p);
UPDATE b2 SET p = id, q = 18446744073709551615 WHERE id < 3;
CREATE TABLE c (id INT PRIMARY KEY, d DATE);
INSERT INTO c VALUES (1, '2024-01-02');
CREATE TABLE d LIKE a;
INSERT INTO d SELECT * FROM a;
DROP TABLE c;
CREATE TABLE c (z VARCHAR(5) PRIMARY KEY, y DOUBLE);
INSERT INTO c VALUES ('k', 1.5);
ALTER TABLE c RENAME COLUMN z TO y, RENAME COLUMN y TO z, ADD COLUMN w INT AFTER y, ADD COLUMN v INT AFTER w;
INSERT INTO c VALUES ('q', 1, 2, 2.5); UPDATE c SET z = 0.5 WHERE y = 'k';
RENAME TABLE a TO a_tmp, d TO a, a_tmp TO d;
UPDATE a SET name = 'from d' WHERE id = 1; DELETE FROM d WHERE id = 2;
ALTER TABLE nokey ADD COLUMN `odd ``name` INT FIRST;
UPDATE nokey SET `odd ``name` = 7 WHERE k = 2; DELETE FROM nokey WHERE k = 1 LIMIT 1;
ALTER TABLE b2 ALGORITHM=COPY, ENGINE=InnoDB, ADD COLUMN IF NOT EXISTS p INT, DROP COLUMN note;
INSERT INTO b2 (id, x, p, q) VALUES (4, 4.00, 4, 4);
CREATE TABLE t_ctas SELECT id, x FROM b2;
UPDATE t_ctas SET x = 0 WHERE id > 2;";

#[test]
fn decode_with_a_schema_follows_ddl_and_rebuilds_the_tables() {
    let source = Server::start(31, MINIMAL);
    source.sql(SETUP);
    let (full, dump_file, dump_pos) = source.dump(&["--databases", "sc"]);
    let (nodata, nodata_file, nodata_pos) = source.dump(&["--no-data", "--databases", "sc"]);
    assert_eq!((&dump_file, dump_pos), (&nodata_file, nodata_pos));
    source.sql(WORKLOAD);
    source.flush_binlogs();
    let files = files_from(&source, &dump_file);
    let dir = tempfile::tempdir().unwrap();
    let schema = write(&dir, "nodata.sql", &nodata);
    let end_schema = dir.path().join("end.sql");
    let pos = dump_pos.to_string();

    // Replayed from the dump's position on the restored dump: the source's tables.
    let out = tool(&["decode", "--start-position", &pos, "--schema"])
        .arg(&schema)
        .arg("--write-schema")
        .arg(&end_schema)
        .args(&files)
        .ok();
    assert!(out.stdout.contains("`Col or` = 'pink'"), "{}", out.stdout);
    assert!(out.stdout.contains("`odd ``name`"), "{}", out.stdout);
    let target = Server::start(32, MINIMAL);
    target.sql(&full);
    target.sql(&out.stdout);
    let want = source.snapshot("sc");
    assert_eq!(want.len(), 6, "{want:?}");
    assert_eq!(target.snapshot("sc"), want);

    // The schema at the end, read back, names the next file's rows as the live server's
    // does (no DDL follows), and they replay.
    let end_text = std::fs::read_to_string(&end_schema).unwrap();
    assert!(end_text.contains("CREATE TABLE `b2`"), "{end_text}");
    source.sql(
        "USE sc; UPDATE a SET name = 'later' WHERE id = 4; INSERT INTO c VALUES ('m', 3, 4, 2.5);
         UPDATE b2 SET q = 1 WHERE id = 4; DELETE FROM d WHERE id = 4;
         UPDATE nokey SET s = 'z' WHERE k = 2; INSERT INTO t_ctas VALUES (9, 9.00);",
    );
    let next = source.flush_binlogs();
    let from_file = tool(&["decode", "--schema"])
        .arg(&end_schema)
        .arg(&next)
        .ok();
    let socket = source.socket.to_string_lossy().into_owned();
    let from_server = tool(&[
        "decode",
        "--schema-from-server",
        "--socket",
        &socket,
        "--user",
        "root",
    ])
    .arg(&next)
    .ok();
    assert_eq!(from_file.stdout, from_server.stdout);
    assert!(
        from_file.stdout.contains("UPDATE `sc`.`a` SET `name` = "),
        "{}",
        from_file.stdout
    );
    target.sql(&from_file.stdout);
    assert_eq!(target.snapshot("sc"), source.snapshot("sc"));

    // Today's schema for files with DDL on the selected tables: refused, naming the DDL.
    let r = tool(&[
        "decode",
        "--start-position",
        &pos,
        "--schema-from-server",
        "--socket",
        &socket,
        "--user",
        "root",
    ])
    .args(&files)
    .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("at offset")
            && r.stderr.contains("--schema-from-server")
            && r.stderr.contains("ALTER TABLE a ADD COLUMN color"),
        "{}",
        r.stderr
    );

    // A schema with a column missing, or a column of another type: refused, naming the
    // table, the column and both sides.
    let missing = write(
        &dir,
        "missing.sql",
        &nodata.replace("  `v` int(11) DEFAULT NULL,\n", ""),
    );
    let r = tool(&["decode", "--start-position", &pos, "--schema"])
        .arg(&missing)
        .args(&files)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("table sc.a: the binlog's TABLE_MAP has 3 columns, the schema 2 (id, name)"),
        "{}",
        r.stderr
    );
    let wrong = write(
        &dir,
        "wrong.sql",
        &nodata.replace(
            "  `v` int(11) DEFAULT NULL,",
            "  `v` varchar(11) DEFAULT NULL,",
        ),
    );
    let r = tool(&[
        "decode",
        "--format",
        "jsonl",
        "--start-position",
        &pos,
        "--schema",
    ])
    .arg(&wrong)
    .args(&files)
    .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("table sc.a, column 3 `v`: the binlog has INT, the schema has varchar(11)"),
        "{}",
        r.stderr
    );

    // No names at all: SQL refused (it could not run), JSON lines numbered.
    let r = tool(&["decode", "--start-position", &pos])
        .args(&files)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("table sc.a has no column names") && r.stderr.contains("--schema"),
        "{}",
        r.stderr
    );
    let r = tool(&["decode", "--format", "jsonl", "--start-position", &pos])
        .args(&files)
        .ok();
    assert!(r.stdout.contains("\"@1\":"), "{}", r.stdout);

    // DDL the reader cannot follow, on a selected table: refused with its position and
    // statement; on another table, passed over.
    source.sql("USE sc; ALTER TABLE c ADD COLUMN pp POINT REF_SYSTEM_ID=4326; UPDATE a SET name = 'x' WHERE id = 4;");
    let last = source.flush_binlogs();
    let r = tool(&["decode", "--schema"])
        .arg(&end_schema)
        .arg(&next)
        .arg(&last)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{}: at offset", last.display()))
            && r.stderr.contains("REF_SYSTEM_ID"),
        "{}",
        r.stderr
    );
    let r = tool(&["decode", "-t", "sc.a", "--schema"])
        .arg(&end_schema)
        .arg(&next)
        .arg(&last)
        .ok();
    assert!(
        r.stdout.contains("UPDATE `sc`.`a` SET `name` = "),
        "{}",
        r.stdout
    );
}

#[test]
fn flashback_sql_across_later_ddl_addresses_the_tables_as_they_are_now() {
    let s = Server::start(33, MINIMAL);
    s.sql(
        "CREATE DATABASE fb; USE fb; CREATE TABLE f (id INT PRIMARY KEY, a VARCHAR(10), b INT);
           CREATE TABLE g (id INT PRIMARY KEY, a INT, b INT);
           INSERT INTO f VALUES (1,'one',1),(2,'two',2),(3,'three',3),(4,'four',4),(5,'five',5);
           INSERT INTO g VALUES (1,1,1),(2,2,2);",
    );
    s.flush_binlogs();
    let (nodata, _, _) = s.dump(&["--no-data", "--databases", "fb"]);
    s.sql("INSERT INTO fb.f VALUES (6,'six',6);");
    let before = s.sql("SELECT id, a, b FROM fb.f ORDER BY id");
    let (_, p1) = s.master_status();
    s.sql(
        "DELETE FROM fb.f WHERE id IN (2,3); UPDATE fb.f SET b = 0, a = 'oops' WHERE id > 3;
           DELETE FROM fb.g WHERE id = 1;",
    );
    let (_, p2) = s.master_status();
    s.sql(
        "USE fb; ALTER TABLE f ADD COLUMN c INT AFTER a; ALTER TABLE f CHANGE b `B renamed` INT;
           RENAME TABLE f TO f2; CREATE TABLE f (other INT); INSERT INTO f VALUES (1);
           ALTER TABLE g DROP COLUMN a;",
    );
    let file = s.flush_binlogs();
    let dir = tempfile::tempdir().unwrap();
    let schema = write(&dir, "nodata.sql", &nodata);
    let undo = dir.path().join("undo.sql");
    let (p1, p2) = (p1.to_string(), p2.to_string());
    let range = ["--start-position", &p1, "--stop-position", &p2];

    // Without a schema to follow the DDL with: refused, pointing at the schema.
    let r = tool(&["flashback", "--format", "sql", "-t", "fb.f", "-o"])
        .arg(&undo)
        .args(range)
        .arg(&file)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("changes fb.f after rows of it to undo")
            && r.stderr.contains("as SQL with the schema of the start"),
        "{}",
        r.stderr
    );
    assert!(!undo.exists());

    // With the schema of the start: the undo goes to f2 (renamed since), its column
    // renamed, not to the new table f.
    tool(&["flashback", "--format", "sql", "-t", "fb.f", "--schema"])
        .arg(&schema)
        .arg("-o")
        .arg(&undo)
        .args(range)
        .arg(&file)
        .ok();
    let sql = std::fs::read_to_string(&undo).unwrap();
    assert!(
        sql.contains("`fb`.`f2`") && sql.contains("`B renamed`"),
        "{sql}"
    );
    s.sql(&sql);
    assert_eq!(
        s.sql("SELECT id, a, `B renamed` FROM fb.f2 ORDER BY id"),
        before
    );
    assert_eq!(s.sql("SELECT * FROM fb.f"), "1\n");

    // A column dropped since: its values cannot be put back, refused.
    let r = tool(&["flashback", "--format", "sql", "-t", "fb.g", "--schema"])
        .arg(&schema)
        .arg("-o")
        .arg(dir.path().join("undo2.sql"))
        .args(range)
        .arg(&file)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("column a was dropped later"),
        "{}",
        r.stderr
    );
}

/// Every corpus file (MySQL 5.1 to 9, MariaDB) walked with an empty schema: the tables its
/// own DDL creates get names, each TABLE_MAP checked against that DDL, and nothing that
/// decodes without a schema is refused with one.
#[test]
fn corpus_files_decode_with_the_schema_their_own_ddl_builds() {
    let Some(dir) = shared_fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let empty = write(&tmp, "empty.sql", "");
    let mut gained = Vec::new();
    for row in manifest(&dir) {
        let plain = tool(&["decode", "--format", "jsonl"]).arg(&row.path).run();
        if plain.code != 0 {
            continue;
        }
        let named = tool(&["decode", "--format", "jsonl", "--schema"])
            .arg(&empty)
            .arg(&row.path)
            .run();
        assert_eq!(named.code, 0, "{}: {}", row.rel, named.stderr);
        assert_eq!(
            named.stdout.lines().count(),
            plain.stdout.lines().count(),
            "{}",
            row.rel
        );
        let numbered = |s: &str| s.lines().filter(|l| l.contains("\"@1\":")).count();
        if numbered(&named.stdout) < numbered(&plain.stdout) {
            gained.push(row.rel.clone());
        }
        if row.rel.ends_with("mysql-bin.sakila") {
            assert_eq!(numbered(&named.stdout), 0, "{}", row.rel);
        }
    }
    assert!(gained.len() >= 20, "{gained:?}");
}
