//! What fetch refuses, writing nothing: a wrong password, a missing privilege, another
//! server's history, a purged file, RESET MASTER.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::common::tool;
use crate::server::{Server, ROW_DEFAULTS};

#[test]
fn refusals_write_nothing() {
    let server = Server::start(46, ROW_DEFAULTS);
    let other = Server::start(47, ROW_DEFAULTS);
    setup_tables(&server);
    setup_tables(&other);
    server.sql(
        "CREATE USER fetcher@localhost IDENTIFIED BY 'right'; \
         GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO fetcher@localhost; \
         CREATE USER reader@localhost IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO reader@localhost;",
    );
    let sock = server.socket.display().to_string();
    let empty = tempfile::tempdir().unwrap();
    let only_lock = |d: &Path| {
        let names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![".binlog-tool-fetch.lock".to_string()]);
    };
    let one_line = |r: &crate::common::Run, what: &str| {
        assert_eq!(r.code, 2, "{what}: {} {}", r.stdout, r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(what), "{what}: {}", r.stderr);
    };
    // Wrong password.
    let r = tool(&[
        "fetch",
        "--socket",
        &sock,
        "--user",
        "fetcher",
        "--password",
        "wrong",
        "--dir",
    ])
    .arg(empty.path())
    .run();
    one_line(&r, "Access denied for user 'fetcher'@'localhost'");
    only_lock(empty.path());
    // No REPLICATION SLAVE privilege.
    let r = tool(&["fetch", "--socket", &sock, "--user", "reader", "--dir"])
        .arg(empty.path())
        .env("MYSQL_PWD", "pw")
        .run();
    one_line(&r, "REPLICATION SLAVE");
    only_lock(empty.path());

    // An archive of `server`, its last file still open.
    insert_batch(&server, "a", 100);
    flush(&server);
    insert_batch(&server, "b", 100);
    let archive = tempfile::tempdir().unwrap();
    tool(&[
        "fetch",
        "--socket",
        &sock,
        "--user",
        "fetcher",
        "--password",
        "right",
        "--dir",
    ])
    .arg(archive.path())
    .ok();
    assert_same_files(&server, archive.path(), 0);
    let before = snapshot_dir(archive.path());

    // Another server behind the address: its mariadb-bin.000002 is not ours.
    flush(&other);
    insert_batch(&other, "c", 300);
    let r = tool(&["fetch", "--user", "root", "--socket"])
        .arg(&other.socket)
        .arg("--dir")
        .arg(archive.path())
        .run();
    one_line(
        &r,
        "mariadb-bin.000002 at offset 4: the server's binlog is not the archive's",
    );
    assert_eq!(snapshot_dir(archive.path()), before);

    // The file the archive continues is purged.
    // (PURGE keeps a file InnoDB may still need for crash recovery: retry until it goes.)
    let deadline = Instant::now() + Duration::from_secs(30);
    while server
        .sql("SHOW BINARY LOGS")
        .contains("mariadb-bin.000002")
    {
        assert!(
            Instant::now() < deadline,
            "PURGE BINARY LOGS kept mariadb-bin.000002"
        );
        server.sql("FLUSH BINARY LOGS");
        let last = file_name(&server.binlogs().pop().unwrap());
        server.sql(&format!("PURGE BINARY LOGS TO '{last}'"));
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = tool(&["fetch", "--socket", &sock, "--user", "root", "--dir"])
        .arg(archive.path())
        .run();
    one_line(&r, "the server has no binlog mariadb-bin.000002");
    assert_eq!(snapshot_dir(archive.path()), before);
}

#[test]
fn reset_master_under_an_open_file_is_refused() {
    let server = Server::start(48, ROW_DEFAULTS);
    setup_tables(&server);
    insert_batch(&server, "a", 300);
    let dir = tempfile::tempdir().unwrap();
    let args = into_dir(root_args(&server), dir.path());
    tool(&["fetch"]).args(&args).ok();
    let before = snapshot_dir(dir.path());
    server.sql("RESET MASTER");
    insert_batch(&server, "b", 400);
    let r = tool(&["fetch"]).args(&args).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("mariadb-bin.000001 at offset"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("not the archive's") || r.stderr.contains("shorter"),
        "{}",
        r.stderr
    );
    assert_eq!(snapshot_dir(dir.path()), before);
}

/// A replica registered with the server id asked for: a dump with that id would make the
/// server drop the replica's, so fetch refuses and the replica keeps replicating.
#[test]
fn a_server_id_a_replica_uses_is_refused() {
    let port = free_port();
    let port_opt = format!("--port={port}");
    let primary = Server::start(55, &[ROW_DEFAULTS, &[port_opt.as_str()]].concat());
    primary.sql(
        "CREATE USER repl@'%' IDENTIFIED BY 'rp'; GRANT REPLICATION SLAVE ON *.* TO repl@'%';",
    );
    setup_tables(&primary);
    let replica = Server::start(56, ROW_DEFAULTS);
    replica.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', \
         MASTER_PASSWORD='rp', MASTER_USE_GTID=slave_pos; START SLAVE;"
    ));
    let registered = |s: &Server| {
        s.sql("SHOW SLAVE HOSTS")
            .lines()
            .any(|l| l.starts_with("56\t"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !registered(&primary) {
        assert!(Instant::now() < deadline, "the replica did not register");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir().unwrap();
    let r = tool(&["fetch", "--server-id", "56", "--user", "root", "--socket"])
        .arg(&primary.socket)
        .arg("--dir")
        .arg(dir.path())
        .run();
    assert_eq!(r.code, 2, "{} {}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("server id 56") && r.stderr.contains("--server-id"),
        "{}",
        r.stderr
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![".binlog-tool-fetch.lock".to_string()]);
    // The replica's connection was left alone: it still follows, with no error.
    insert_batch(&primary, "after", 10);
    let deadline = Instant::now() + Duration::from_secs(30);
    while replica.value("SELECT COUNT(*) FROM w.t") != "10" {
        assert!(Instant::now() < deadline, "the replica stopped following");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::process::Command::new("mariadb")
        .args(replica.client_args())
        .args(["-e", "SHOW SLAVE STATUS\\G"])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains(" Last_IO_Errno: 0\n"), "{status}");
    assert!(status.contains(" Slave_IO_Running: Yes\n"), "{status}");
}

/// Two fetches given the same --server-id: the server drops the first one's dump when the
/// second registers; the first stops (exit 2, saying why) instead of taking the id back,
/// and the second goes on.
#[test]
fn a_fetch_displaced_by_its_server_id_stops() {
    let server = Server::start(57, ROW_DEFAULTS);
    setup_tables(&server);
    insert_batch(&server, "a", 50);
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = |d: &Path| {
        let mut a = following(super::root_args(&server), d);
        a.extend(["--server-id", "4242"].map(String::from));
        a
    };
    let mut first = Fetch::start(&args(one.path()));
    wait_caught_up(&server, one.path(), Some(&first));
    let second = Fetch::start(&args(two.path()));
    let (code, _, err) = first.wait();
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("server id 4242") && err.contains("--server-id"),
        "{err}"
    );
    insert_batch(&server, "b", 50);
    wait_caught_up(&server, two.path(), Some(&second));
    let (code, _, err) = second.terminate();
    assert_eq!(code, 0, "{err}");
    assert_same_files(&server, two.path(), 0);
}
