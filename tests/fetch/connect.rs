//! Connections (TLS, client_ed25519) and GTID starts (MariaDB positions; MySQL's
//! COM_BINLOG_DUMP_GTID encoding).

use std::path::Path;
use std::process::Command;

use super::*;
use crate::common::tool;
use crate::server::{Server, ROW_DEFAULTS};

#[test]
fn tls_and_ed25519_connections() {
    let certs = tempfile::tempdir().unwrap();
    let c = certs.path();
    let sh = |cmd: &str| {
        let st = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(c)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=fetch-test-ca");
    sh("openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=fetch-test-server");
    sh("printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 -extfile ext.cnf");
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout other-key.pem -out other-ca.pem -days 2 -subj /CN=other-ca");
    let port = free_port();
    let mut opts: Vec<String> = ROW_DEFAULTS.iter().map(|s| s.to_string()).collect();
    opts.push(format!("--port={port}"));
    opts.push(format!("--ssl-ca={}", c.join("ca.pem").display()));
    opts.push(format!("--ssl-cert={}", c.join("server.pem").display()));
    opts.push(format!("--ssl-key={}", c.join("server-key.pem").display()));
    opts.push("--plugin-load-add=auth_ed25519".into());
    let o: Vec<&str> = opts.iter().map(String::as_str).collect();
    let server = Server::start(49, &o);
    setup_tables(&server);
    server.sql(
        "CREATE USER tls@'%' IDENTIFIED BY 'pw' REQUIRE SSL; GRANT REPLICATION SLAVE ON *.* TO tls@'%'; \
         CREATE USER ed@localhost IDENTIFIED VIA ed25519 USING PASSWORD('edpw'); GRANT REPLICATION SLAVE ON *.* TO ed@localhost;",
    );
    insert_batch(&server, "t", 200);
    let tcp = |mode: &str, ca: &str, dir: &Path| {
        tool(&[
            "fetch",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--user",
            "tls",
            "--password",
            "pw",
        ])
        .args(["--ssl-mode", mode, "--ssl-ca"])
        .arg(c.join(ca))
        .arg("--dir")
        .arg(dir)
        .run()
    };
    let d = tempfile::tempdir().unwrap();
    let r = tcp("VERIFY_IDENTITY", "ca.pem", d.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_same_files(&server, d.path(), 0);
    // The user requires TLS: without it the server refuses.
    let d2 = tempfile::tempdir().unwrap();
    let r = tcp("DISABLED", "ca.pem", d2.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("Access denied"), "{}", r.stderr);
    // A certificate from another CA is refused.
    let r = tcp("VERIFY_CA", "other-ca.pem", d2.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("TLS handshake failed"), "{}", r.stderr);
    // client_ed25519 over the socket.
    let d3 = tempfile::tempdir().unwrap();
    tool(&["fetch", "--user", "ed", "--password", "edpw", "--socket"])
        .arg(&server.socket)
        .arg("--dir")
        .arg(d3.path())
        .ok();
    assert_same_files(&server, d3.path(), 0);
}

#[test]
fn a_gtid_position_starts_at_its_file() {
    // Also: binlogs without checksums.
    let mut opts = ROW_DEFAULTS.to_vec();
    opts.push("--binlog-checksum=NONE");
    let server = Server::start(50, &opts);
    let pos = three_files_and_a_gtid(&server);
    let dir = tempfile::tempdir().unwrap();
    let run = tool(&["fetch", "--gtid", &pos])
        .args(root_args(&server))
        .arg("--dir")
        .arg(dir.path())
        .ok();
    assert!(
        run.stdout
            .contains("the archive ends at mariadb-bin.000003"),
        "{}",
        run.stdout
    );
    assert_same_files(&server, dir.path(), 1);
}

/// COM_BINLOG_DUMP_GTID carries a GTID set in the layout MySQL writes PREVIOUS_GTIDS event
/// bodies in (Gtid_set::encode). No MySQL server runs here; the shared corpus holds bodies
/// real MySQL servers (5.6 to 9.6, tagged GTIDs included) wrote: each set, read as text and
/// encoded again for the request, gives those bytes back.
#[test]
fn gtid_dump_sets_are_encoded_as_mysql_encodes_them() {
    use binlog::event::gtid::PreviousGtids;
    use binlog::fetch::command::encode_gtid_set;
    use binlog::gtid_set::GtidSet;
    let Some(dir) = crate::common::shared_fixtures() else {
        return;
    };
    let mut checked = 0;
    let mut tagged = 0;
    for row in crate::common::manifest(&dir) {
        if !row.histogram.iter().any(|(k, _)| k == "PREV_GTIDS") {
            continue;
        }
        let bytes = std::fs::read(&row.path).unwrap();
        let Ok(log) = binlog::Binlog::parse(&bytes) else {
            continue;
        };
        for ev in log.events().flatten() {
            if ev.event_type() != binlog::EventType::PREVIOUS_GTIDS {
                continue;
            }
            let body = ev.body();
            let set = PreviousGtids::parse(body, 0).unwrap();
            tagged += usize::from(set.tagged);
            let text = set.to_text();
            let parsed = GtidSet::parse(&text).unwrap();
            assert!(encode_gtid_set(&parsed) == body, "{}: {text}", row.rel);
            checked += 1;
        }
    }
    assert!(
        checked >= 30 && tagged >= 1,
        "{checked} sets, {tagged} tagged"
    );
}
