//! `snapshot` end to end against private MariaDB servers: the TABLE_MAPs and row images it
//! writes are the bytes the server itself logged for the same rows; the file alone rebuilds
//! every table on an empty server with gtid_strict_mode; writes made while it runs stay out
//! of it, and replaying the source's binlog from its coordinates converges; the output does
//! not depend on --threads; failures leave no file and replication as it was.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use binlog::row::{Rows, TableInfo};
use binlog::{Binlog, EventData, EventType};

use crate::common::{root, tool, Run, Tool};
use crate::server::{Server, ROW_DEFAULTS};

fn sql_file(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

/// The every-type schema and rows of the fixtures (database `fx`) and ours (`sx`).
fn load_types(s: &Server) {
    s.sql(&sql_file("fixtures/gen/schema.sql"));
    s.sql(&sql_file("fixtures/gen/inserts.sql"));
    s.sql(&sql_file("tests/sql/snapshot_extra.sql"));
}

fn snap(s: &Server) -> Tool {
    tool(&["snapshot", "--user", "root"])
        .arg("--socket")
        .arg(&s.socket)
        .env("HOME", "/nonexistent")
}

/// TABLE_MAP bodies (without the table id) and after-images of each table, as logged.
#[derive(Default, Debug)]
struct Logged {
    maps: BTreeMap<String, Vec<u8>>,
    rows: BTreeMap<String, Vec<Vec<u8>>>,
}

/// The table whose 5.3-format fractional columns snapshot writes in the current format.
const OLD_FORMAT: &str = "fx.t_temporal_old";

fn logged(files: &[PathBuf], dbs: &[&str], from_server: bool) -> Logged {
    let mut out = Logged::default();
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        let log = Binlog::parse(&bytes).unwrap();
        let mut events = log.events();
        let mut current: Option<(String, TableInfo)> = None;
        while let Some(ev) = events.next() {
            let ev = ev.unwrap();
            ev.verify_checksum().unwrap();
            match ev.decode(events.format()).unwrap() {
                EventData::TableMap(tm) => {
                    let db = String::from_utf8_lossy(tm.schema).into_owned();
                    if !dbs.contains(&db.as_str()) {
                        current = None;
                        continue;
                    }
                    let name = tm.qualified_name();
                    out.maps.insert(name.clone(), ev.body()[6..].to_vec());
                    current = Some((name, TableInfo::from_table_map(&tm).unwrap()));
                }
                EventData::Rows(r) => {
                    let Some((name, info)) = &current else {
                        continue;
                    };
                    if name == OLD_FORMAT && from_server {
                        // The server's images of 5.3-format columns cannot be sized.
                        out.rows.entry(name.clone()).or_default();
                        continue;
                    }
                    assert_eq!(ev.event_type(), EventType::WRITE_ROWS_V1, "{name}");
                    let data = r.rows_data().unwrap();
                    for row in Rows::new(&r, &data, info).unwrap() {
                        let row = row.unwrap();
                        out.rows
                            .entry(name.clone())
                            .or_default()
                            .push(row.after.unwrap().bytes.to_vec());
                    }
                }
                _ => {}
            }
        }
    }
    for v in out.rows.values_mut() {
        v.sort();
    }
    out
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("binlog-tool-snapshot-")
        .tempdir()
        .unwrap()
}

/// Files in `dir` (to check that nothing is left behind).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn table_maps_and_row_images_are_what_the_server_logs() {
    let s = Server::start(31, ROW_DEFAULTS);
    load_types(&s);
    s.flush_binlogs();
    let files = s.binlogs();
    let theirs = logged(&files[..files.len() - 1], &["fx", "sx"], true);
    let dir = temp_dir();
    let out = dir.path().join("s.bin");
    snap(&s)
        .args(["--db", "fx,sx", "--rows-per-event", "3", "-o"])
        .arg(&out)
        .ok();
    let ours = logged(std::slice::from_ref(&out), &["fx", "sx"], false);
    // The 5.3-format fractional columns are written in the current format: the one table
    // whose bytes differ, on purpose.
    let converted = OLD_FORMAT;
    let mut compared = 0;
    for (name, map) in &theirs.maps {
        let Some(rows) = theirs.rows.get(name) else {
            continue;
        };
        if name == converted {
            assert_ne!(ours.maps.get(name), Some(map));
            assert_eq!(ours.rows[name].len(), 6);
            assert!(rows.is_empty());
            continue;
        }
        assert_eq!(ours.maps.get(name), Some(map), "TABLE_MAP of {name}");
        assert_eq!(ours.rows.get(name), Some(rows), "row images of {name}");
        compared += 1;
    }
    assert!(compared >= 23, "only {compared} tables compared");
    // Every table with rows is in both.
    let ours_with_rows: Vec<&String> = ours.rows.keys().collect();
    let theirs_with_rows: Vec<&String> = theirs.rows.keys().collect();
    assert_eq!(ours_with_rows, theirs_with_rows);
    // mariadb-binlog reads the whole file and decodes every row.
    crate::common::run_mariadb_binlog(&["--base64-output=decode-rows", "-vv"], &out);
}

/// Compares two servers' copies of `db`: ordered contents always, CHECKSUM TABLE except
/// for `no_checksum` (tables whose storage format differs on purpose).
fn assert_same_db(source: &Server, target: &Server, db: &str, no_checksum: &[&str]) {
    let a = source.snapshot(db);
    let b = target.snapshot(db);
    let names = |v: &[(String, String, String)]| v.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "tables of {db}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.2, y.2, "contents of {db}.{}", x.0);
        if !no_checksum.contains(&x.0.as_str()) {
            assert_eq!(x.1, y.1, "CHECKSUM TABLE of {db}.{}", x.0);
        }
    }
}

#[test]
fn the_file_alone_rebuilds_every_table_and_threads_change_nothing() {
    let source = Server::start(32, ROW_DEFAULTS);
    load_types(&source);
    source.sql(
        "CREATE DATABASE bg; USE bg;
         CREATE TABLE big (id INT NOT NULL PRIMARY KEY, k INT NOT NULL, pad VARCHAR(60) NOT NULL,
                           d DOUBLE, t DATETIME(3), KEY (k)) ENGINE=InnoDB;
         INSERT INTO big SELECT seq, seq % 1000, CONCAT('row ', seq, ' ', MD5(seq)), seq / 7,
                                '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_1000000;
         CREATE TABLE small_copy LIKE big;
         INSERT INTO small_copy SELECT * FROM big WHERE id % 5 = 0;
         ANALYZE TABLE big, small_copy;",
    );
    let dir = temp_dir();
    let out = dir.path().join("s.bin");
    let r = snap(&source)
        .args(["--with-schema", "--format", "json", "-o"])
        .arg(&out)
        .ok();
    let report: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let (file, pos) = source.master_status();
    assert_eq!(report["coordinates"]["file"], file.as_str());
    assert_eq!(report["coordinates"]["position"], pos);
    assert_eq!(
        report["coordinates"]["gtid"],
        source.value("SELECT @@gtid_binlog_pos").as_str()
    );
    assert_eq!(
        report["coordinates"]["method"],
        "flush_tables_with_read_lock"
    );
    let total: u64 = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(report["rows"], total);
    assert!(total > 1_200_000);
    assert_eq!(report["bytes"], std::fs::metadata(&out).unwrap().len());
    for key in [
        "table_count",
        "seconds",
        "server",
        "replica",
        "output",
        "notes",
    ] {
        assert!(report.get(key).is_some(), "{key} missing");
    }

    let target = Server::start(33, &[ROW_DEFAULTS, &["--gtid-strict-mode=ON"]].concat());
    target.apply_binlog(&[&out], &[]);
    assert_same_db(&source, &target, "fx", &["t_temporal_old"]);
    assert_same_db(&source, &target, "sx", &[]);
    assert_same_db(&source, &target, "bg", &[]);

    // The same snapshot with one connection (no lock, MariaDB's binlog_snapshot) and with
    // four (pieces of the big table read in parallel) is the same file.
    let one = dir.path().join("one.bin");
    let four = dir.path().join("four.bin");
    for (threads, path) in [("1", &one), ("4", &four)] {
        snap(&source)
            .args([
                "--threads",
                threads,
                "--timestamp",
                "1700000000",
                "--with-schema",
                "-o",
            ])
            .arg(path)
            .ok();
    }
    let a = std::fs::read(&one).unwrap();
    let b = std::fs::read(&four).unwrap();
    assert!(a == b, "--threads 1 and 4 differ");
}

fn start_writer(s: &Server, iterations: u32) -> Child {
    let mut c = Command::new("mariadb")
        .args(s.client_args())
        .args(["-e", &format!("CALL w.work({iterations})")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = c.stdin.take();
    c
}

#[test]
fn writes_during_the_snapshot_stay_out_and_the_binlog_continues_it() {
    let source = Server::start(34, ROW_DEFAULTS);
    source.sql(
        "CREATE DATABASE w; USE w;
         CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;
         CREATE TABLE c (id INT NOT NULL PRIMARY KEY, n INT NOT NULL, last INT) ENGINE=InnoDB;
         INSERT INTO c VALUES (1, 0, NULL);
         CREATE TABLE halt (id INT NOT NULL PRIMARY KEY, stop INT NOT NULL) ENGINE=InnoDB;
         INSERT INTO halt VALUES (1, 0);
         CREATE TABLE filler (id INT NOT NULL PRIMARY KEY, pad VARCHAR(100)) ENGINE=InnoDB;
         INSERT INTO filler SELECT seq, REPEAT('f', 90) FROM seq_1_to_300000;
         ANALYZE TABLE filler;
         DELIMITER //
         CREATE PROCEDURE work(cnt INT) BEGIN
           DECLARE i INT DEFAULT 0;
           WHILE i < cnt AND (SELECT stop FROM halt WHERE id = 1) = 0 DO
             START TRANSACTION;
             INSERT INTO t (v) VALUES (i);
             UPDATE t SET v = v + 1 WHERE id = i DIV 2 + 1;
             UPDATE c SET n = n + 1, last = i WHERE id = 1;
             COMMIT;
             SET i = i + 1;
           END WHILE;
         END //
         DELIMITER ;",
    );
    let mut writer = start_writer(&source, 1_000_000);
    let deadline = Instant::now() + Duration::from_secs(30);
    while source.value("SELECT n FROM w.c").parse::<u64>().unwrap() < 200 {
        assert!(Instant::now() < deadline, "the writer does not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dir = temp_dir();
    let mut snaps = Vec::new();
    for threads in ["4", "1"] {
        let path = dir.path().join(format!("w{threads}.bin"));
        let r = snap(&source)
            .args([
                "--db",
                "w",
                "--with-schema",
                "--format",
                "json",
                "--threads",
                threads,
                "-o",
            ])
            .arg(&path)
            .ok();
        let report: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
        snaps.push((path, report));
    }
    // Some more writes after the second snapshot, then the writer stops.
    let after: u64 = source.value("SELECT n FROM w.c").parse().unwrap();
    while source.value("SELECT n FROM w.c").parse::<u64>().unwrap() < after + 100 {
        assert!(
            Instant::now() < deadline + Duration::from_secs(60),
            "the writer stalls"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    source.sql("UPDATE w.halt SET stop = 1");
    let status = writer.wait().unwrap();
    assert!(status.success());
    let final_n: u64 = source.value("SELECT n FROM w.c").parse().unwrap();
    assert_eq!(
        final_n,
        source
            .value("SELECT COUNT(*) FROM w.t")
            .parse::<u64>()
            .unwrap()
    );
    source.flush_binlogs();
    let files = source.binlogs();
    let files = &files[..files.len() - 1];

    let target = Server::start(35, ROW_DEFAULTS);
    for (path, report) in &snaps {
        target.sql("DROP DATABASE IF EXISTS w");
        target.apply_binlog(&[path], &[]);
        // One consistent point: the counter equals the rows, the ids have no holes, and
        // the writer was busy before and after it.
        let n: u64 = target.value("SELECT n FROM w.c").parse().unwrap();
        let rows: u64 = target.value("SELECT COUNT(*) FROM w.t").parse().unwrap();
        let max: u64 = target
            .value("SELECT IFNULL(MAX(id), 0) FROM w.t")
            .parse()
            .unwrap();
        assert_eq!((n, max), (rows, rows), "{}", path.display());
        assert!(
            n > 0 && n < final_n,
            "no writes around the snapshot ({n} of {final_n})"
        );
        // Replaying the source's binlog from the recorded coordinates converges.
        let file = report["coordinates"]["file"].as_str().unwrap();
        let pos = report["coordinates"]["position"].as_u64().unwrap();
        let from = files
            .iter()
            .position(|f| f.file_name().unwrap().to_string_lossy() == file)
            .unwrap();
        let rest: Vec<&Path> = files[from..].iter().map(|p| p.as_path()).collect();
        target.apply_binlog(&rest, &[&format!("--start-position={pos}")]);
        assert_same_db(&source, &target, "w", &[]);
    }
}

#[test]
fn failures_are_one_line_and_leave_nothing() {
    let s = Server::start(36, ROW_DEFAULTS);
    s.sql(&sql_file("tests/sql/snapshot_extra.sql"));
    s.sql("CREATE USER lo@localhost IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO lo@localhost;");
    let dir = temp_dir();
    let out = dir.path().join("s.bin");
    let fails = |r: Run, what: &str| {
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(what), "{what}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            listing(dir.path()).is_empty(),
            "{what}: {:?}",
            listing(dir.path())
        );
    };
    fails(
        tool(&[
            "snapshot",
            "--socket",
            "/nonexistent/mysqld.sock",
            "--user",
            "root",
            "-o",
        ])
        .arg(&out)
        .run(),
        "cannot connect to socket /nonexistent/mysqld.sock",
    );
    let r = snap(&s)
        .args(["--password", "s3cret-guess", "-o"])
        .arg(&out)
        .run();
    assert!(!r.stderr.contains("s3cret-guess"));
    fails(r, "Access denied");
    fails(
        snap(&s).args(["--db", "nope", "-o"]).arg(&out).run(),
        "unknown database nope",
    );
    fails(
        snap(&s).args(["--table", "sx.nope", "-o"]).arg(&out).run(),
        "unknown table sx.nope",
    );
    fails(
        snap(&s).args(["--db", "mysql", "-o"]).arg(&out).run(),
        "system schema",
    );
    closed_pipes_and_full_disks(&s);
    // A user without RELOAD cannot take the lock that several connections need; one
    // connection needs none on MariaDB.
    let lo = |threads: &str| {
        tool(&[
            "snapshot",
            "--user",
            "lo",
            "--password",
            "pw",
            "--db",
            "sx",
            "--threads",
            threads,
        ])
        .arg("--socket")
        .arg(&s.socket)
        .env("HOME", "/nonexistent")
    };
    fails(lo("2").arg("-o").arg(&out).run(), "RELOAD");
    lo("1").arg("-o").arg(&out).ok();
    std::fs::remove_file(&out).unwrap();
    // The password from MYSQL_PWD and from a my.cnf file.
    tool(&["snapshot", "--user", "lo", "--db", "sx", "--threads", "1"])
        .arg("--socket")
        .arg(&s.socket)
        .env("HOME", "/nonexistent")
        .env("MYSQL_PWD", "pw")
        .arg("-o")
        .arg(&out)
        .ok();
    std::fs::remove_file(&out).unwrap();
    let cnf = temp_dir();
    let cnf_path = cnf.path().join("my.cnf");
    std::fs::write(
        &cnf_path,
        format!(
            "[client]\nuser = lo\npassword = \"pw\"\nsocket = {}\n",
            s.socket.display()
        ),
    )
    .unwrap();
    tool(&["snapshot", "--db", "sx", "--threads", "1", "--mycnf"])
        .arg(&cnf_path)
        .arg("-o")
        .arg(&out)
        .ok();
    std::fs::remove_file(&out).unwrap();

    // A connection killed mid-way: b_parent is write-locked by another session, so the
    // read of it waits after the tables before it are written; then it is killed. Then
    // the same wait ended by SIGINT.
    let mut locker = Command::new("mariadb")
        .args(s.client_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = locker.stdin.take().unwrap();
    stdin
        .write_all(b"LOCK TABLES sx.b_parent WRITE;\n")
        .unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s
        .sql("SHOW OPEN TABLES FROM sx WHERE `Table` = 'b_parent' AND In_use > 0")
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the lock is not taken");
        std::thread::sleep(Duration::from_millis(20));
    }
    let waiting_read = || {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let id = s.value(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT %`b_parent`%' AND STATE LIKE '%metadata lock%'",
            );
            if !id.is_empty() {
                break id;
            }
            assert!(
                Instant::now() < deadline,
                "the read does not wait: {}",
                s.sql("SELECT ID, STATE, INFO FROM information_schema.PROCESSLIST")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let child = snap(&s)
        .args(["--db", "sx", "--threads", "1", "--rows-per-txn", "1", "-o"])
        .arg(&out);
    let run = std::thread::spawn(move || child.run());
    let victim = waiting_read();
    s.sql(&format!("KILL {victim}"));
    let r = run.join().unwrap();
    assert!(r.stderr.contains("b_parent"), "{}", r.stderr);
    fails(r, "reading sx.b_parent");

    let child = Command::new(env!("CARGO_BIN_EXE_binlog-tool"))
        .args([
            "snapshot",
            "--user",
            "root",
            "--db",
            "sx",
            "--threads",
            "1",
            "--socket",
        ])
        .arg(&s.socket)
        .arg("-o")
        .arg(&out)
        .env("HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    waiting_read();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    // Stopped by SIGINT: exit status 130, one line, nothing left.
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.trim_end(), "binlog-tool: interrupted by SIGINT");
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
    // The lock several connections need waits for the table lock, but not for ever.
    let started = Instant::now();
    fails(
        snap(&s)
            .args([
                "--db",
                "sx",
                "--threads",
                "2",
                "--lock-wait-timeout",
                "1",
                "-o",
            ])
            .arg(&out)
            .run(),
        "Lock wait timeout",
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    drop(stdin);
    let _ = locker.wait();
}

/// A snapshot of 20 MB into a pipe closed after 4 KB ends quietly with 0; into a 4 MB
/// tmpfs or /dev/full, with 2 and one line naming the output, nothing left.
fn closed_pipes_and_full_disks(s: &Server) {
    use crate::hardening::{closed_after_4k, one_line_naming, start, SmallDisk};
    s.sql(
        "CREATE DATABASE big; USE big; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200));
         INSERT INTO t SELECT seq, REPEAT('x', 200) FROM seq_1_to_100000;",
    );
    let socket = s.socket.display().to_string();
    let args = |out: &str| -> Vec<String> {
        [
            "snapshot", "--user", "root", "--socket", &socket, "--db", "big", "-o", out,
        ]
        .map(String::from)
        .to_vec()
    };
    for run in 0..5 {
        let mut cmd = crate::hardening::tool();
        cmd.args(args("-")).env("HOME", "/nonexistent");
        let o = closed_after_4k(cmd, "snapshot -o -");
        assert_eq!(o.code, Some(0), "run {run}: {}", o.stderr);
        assert_eq!(o.stderr, "", "run {run}");
    }
    let disk = SmallDisk::new();
    let out = disk.dir.path().join("s.bin").display().to_string();
    let mut cmd = disk.command(&args(&out));
    cmd.env("HOME", "/nonexistent").stdout(Stdio::null());
    let o = start(cmd).finish("snapshot on a small disk");
    one_line_naming(&o, &out, "snapshot on a small disk");
    assert!(disk.listing().is_empty(), "{:?}", disk.listing());
    let mut cmd = crate::hardening::tool();
    cmd.args(args("-")).env("HOME", "/nonexistent").stdout(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    );
    let o = start(cmd).finish("snapshot > /dev/full");
    one_line_naming(&o, "standard output", "snapshot > /dev/full");
    s.sql("DROP DATABASE big");
}

fn sql_thread_running(s: &Server) -> (String, String) {
    let out = Command::new("mariadb")
        .args(s.client_args())
        .args(["-e", "SHOW SLAVE STATUS\\G"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("{name}: "))
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    (field("Slave_IO_Running"), field("Slave_SQL_Running"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(s: &Server, sql: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.value(sql) != want {
        assert!(
            Instant::now() < deadline,
            "{sql} never gave {want}: {:?}",
            sql_thread_running(s)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_replicas_sql_thread_is_stopped_and_restored() {
    let port = free_port();
    let port_opt = format!("--port={port}");
    let primary = Server::start(
        41,
        &[
            ROW_DEFAULTS,
            &["--skip-networking=0", "--bind-address=127.0.0.1", &port_opt],
        ]
        .concat(),
    );
    primary.sql(
        "CREATE USER repl@'%' IDENTIFIED BY 'rp'; GRANT REPLICATION SLAVE ON *.* TO repl@'%';
         CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO r.t VALUES (1, 'a'), (2, 'b');",
    );
    let replica = Server::start(42, ROW_DEFAULTS);
    replica.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl',
           MASTER_PASSWORD='rp', MASTER_USE_GTID=slave_pos;
         START SLAVE;"
    ));
    wait_for(
        &replica,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'r' AND TABLE_NAME = 't'",
        "1",
    );
    wait_for(&replica, "SELECT COUNT(*) FROM r.t", "2");
    assert_eq!(sql_thread_running(&replica), ("Yes".into(), "Yes".into()));
    let dir = temp_dir();
    let out = dir.path().join("r.bin");

    // By default the SQL thread is stopped, and left stopped; its position is reported.
    let r = snap(&replica)
        .args(["--db", "r", "--format", "json", "-o"])
        .arg(&out)
        .ok();
    let report: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(report["replica"]["sql_thread_stopped"], true);
    assert_eq!(report["replica"]["sql_thread_restarted"], false);
    let (pfile, ppos) = primary.master_status();
    assert_eq!(
        report["replica"]["channels"][0]["source_file"],
        pfile.as_str()
    );
    let rpos = report["replica"]["channels"][0]["source_position"]
        .as_u64()
        .unwrap();
    assert!(rpos > 4 && rpos <= ppos, "{rpos} vs {ppos}");
    assert_eq!(
        report["replica"]["gtid_slave_pos"],
        primary.value("SELECT @@gtid_binlog_pos").as_str()
    );
    assert_eq!(sql_thread_running(&replica), ("Yes".into(), "No".into()));
    std::fs::remove_file(&out).unwrap();

    // --start-slave runs it again.
    replica.sql("START SLAVE SQL_THREAD");
    snap(&replica)
        .args(["--db", "r", "--start-slave", "-o"])
        .arg(&out)
        .ok();
    assert_eq!(sql_thread_running(&replica), ("Yes".into(), "Yes".into()));
    std::fs::remove_file(&out).unwrap();

    // A failure after the thread was stopped runs it again, and leaves no file.
    primary.sql("CREATE TABLE r.z (id INT PRIMARY KEY, c VARCHAR(100) COMPRESSED)");
    wait_for(
        &replica,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'z'",
        "1",
    );
    let r = snap(&replica).args(["--db", "r", "-o"]).arg(&out).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("compressed"), "{}", r.stderr);
    assert!(listing(dir.path()).is_empty());
    assert_eq!(sql_thread_running(&replica), ("Yes".into(), "Yes".into()));

    // --no-stop-slave leaves replication alone.
    snap(&replica)
        .args(["--db", "r", "--skip", "r.z", "--no-stop-slave", "-o"])
        .arg(&out)
        .ok();
    assert_eq!(sql_thread_running(&replica), ("Yes".into(), "Yes".into()));
}
