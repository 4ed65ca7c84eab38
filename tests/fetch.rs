//! `binlog-tool fetch` against private MariaDB servers: the archive's files compared byte
//! for byte with the server's, while the server flushes, restarts, and while fetch is
//! killed, cut off or fed a damaged byte by a proxy; and the refusals.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::tool;
use crate::server::{Server, ROW_DEFAULTS};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn root_args(server: &Server) -> Vec<String> {
    vec![
        "--socket".into(),
        server.socket.display().to_string(),
        "--user".into(),
        "root".into(),
    ]
}

/// A `fetch` running in the background; its output goes to files.
struct Fetch {
    child: Child,
    out: PathBuf,
    err: PathBuf,
    _logs: tempfile::TempDir,
}

impl Fetch {
    fn start(args: &[String]) -> Fetch {
        let logs = tempfile::tempdir().unwrap();
        let out = logs.path().join("out");
        let err = logs.path().join("err");
        let child = Command::new(env!("CARGO_BIN_EXE_binlog-tool"))
            .arg("fetch")
            .args(args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Fetch {
            child,
            out,
            err,
            _logs: logs,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Sends SIGTERM and waits: (exit code, stdout, stderr).
    fn terminate(mut self) -> (i32, String, String) {
        let pid = self.child.id();
        Command::new("sh")
            .arg("-c")
            .arg(format!("kill -TERM {pid}"))
            .status()
            .unwrap();
        self.wait()
    }

    fn wait(&mut self) -> (i32, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (
                    st.code().unwrap_or(-1),
                    std::fs::read_to_string(&self.out).unwrap_or_default(),
                    self.stderr(),
                );
            }
            assert!(
                Instant::now() < deadline,
                "fetch did not end: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Waits until the archive holds as many bytes of every server binlog as the server has.
fn wait_caught_up(server: &Server, dir: &Path, fetch: Option<&Fetch>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let done = server.binlogs().iter().all(|f| {
            let theirs = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            let ours = std::fs::metadata(dir.join(file_name(f)))
                .map(|m| m.len())
                .unwrap_or(0);
            theirs == ours
        });
        if done {
            return;
        }
        if Instant::now() > deadline {
            let sizes: Vec<(String, u64, u64)> = server
                .binlogs()
                .iter()
                .map(|f| {
                    let theirs = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
                    let ours = std::fs::metadata(dir.join(file_name(f)))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    (file_name(f), theirs, ours)
                })
                .collect();
            panic!(
                "the archive did not catch up: {sizes:?}: {}",
                fetch.map(|f| f.stderr()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every server binlog is in the archive with the same bytes, and nothing else is.
fn assert_same_files(server: &Server, dir: &Path, from: usize) {
    let files = server.binlogs();
    for f in &files[from..] {
        let theirs = std::fs::read(f).unwrap();
        let ours = std::fs::read(dir.join(file_name(f)))
            .unwrap_or_else(|e| panic!("{}: {e}", file_name(f)));
        assert!(
            theirs == ours,
            "{} differs ({} vs {} bytes)",
            file_name(f),
            theirs.len(),
            ours.len()
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".index"))
        .collect();
    names.sort();
    let expect: Vec<String> = files[from..].iter().map(|f| file_name(f)).collect();
    assert_eq!(names, expect);
    let index = std::fs::read_to_string(dir.join("mariadb-bin.index")).unwrap();
    let listed: Vec<String> = index
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect();
    assert_eq!(listed, expect);
}

/// Where the last whole event of a binlog ends.
fn complete_end(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    if bytes.len() < 4 {
        return 0;
    }
    let log = binlog::Binlog::parse(&bytes).unwrap();
    let mut end = 4;
    for e in log.events() {
        match e {
            Ok(e) => end = e.end_offset(),
            Err(_) => break,
        }
    }
    end
}

fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn setup_tables(server: &Server) {
    server.sql(
        "CREATE DATABASE w; CREATE TABLE w.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200)); \
         CREATE TABLE w.big (id INT PRIMARY KEY, b LONGBLOB);",
    );
}

fn insert_batch(server: &Server, tag: &str, rows: usize) {
    let values: Vec<String> = (0..rows)
        .map(|j| format!("(REPEAT('{tag}-{j}', 8))"))
        .collect();
    server.sql(&format!("INSERT INTO w.t (v) VALUES {};", values.join(",")));
}

#[test]
fn following_a_server_through_flushes_gives_its_files() {
    let server = Server::start(41, ROW_DEFAULTS);
    setup_tables(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut args = root_args(&server);
    args.extend(
        [
            "--dir",
            dir.path().to_str().unwrap(),
            "--stop-never",
            "--heartbeat",
            "1",
            "--format",
            "json",
        ]
        .map(String::from),
    );
    let fetch = Fetch::start(&args);
    for i in 0..6 {
        insert_batch(&server, &format!("f{i}"), 300);
        if i % 2 == 1 {
            server.flush_binlogs();
        }
    }
    // An event over 16 MiB arrives in several packets.
    server.sql("INSERT INTO w.big VALUES (1, REPEAT('b', 40 * 1024 * 1024));");
    insert_batch(&server, "after", 50);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    // Idle longer than the silence fetch tolerates (2 x 1 s + 10 s): heartbeats keep the
    // connection, so no reconnection happens.
    std::thread::sleep(Duration::from_secs(13));
    insert_batch(&server, "late", 20);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    let (code, out, err) = fetch.terminate();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["reconnects"], 0, "{out} {err}");
    assert_eq!(v["stopped_by"], "signal");
    assert_eq!(v["files"].as_array().unwrap().len(), server.binlogs().len());
    assert_same_files(&server, dir.path(), 0);
    // The archive reads as the server's binlogs do.
    let index = dir.path().join("mariadb-bin.index");
    tool(&["verify", "--index"]).arg(&index).ok();
    let info = tool(&["info", "--format", "json", "--index"])
        .arg(&index)
        .ok();
    assert!(
        info.stdout.contains("mariadb-bin.000004"),
        "{}",
        info.stdout
    );
}

#[test]
fn a_killed_fetch_resumes_without_loss_or_duplicates() {
    let server = Server::start(42, ROW_DEFAULTS);
    setup_tables(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut args = root_args(&server);
    args.extend(["--dir", dir.path().to_str().unwrap(), "--stop-never"].map(String::from));
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                insert_batch(&server, &format!("k{i}"), 100);
                if i % 7 == 6 {
                    server.flush_binlogs();
                }
                i += 1;
            }
        });
        for round in 0..3 {
            let mut fetch = Fetch::start(&args);
            std::thread::sleep(Duration::from_millis(700 + 300 * round));
            fetch.child.kill().unwrap();
            fetch.child.wait().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    // A kill mid-write can leave part of an event: make sure one is there.
    let last = std::fs::read_to_string(dir.path().join("mariadb-bin.index"))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("./")
        .to_string();
    let path = dir.path().join(&last);
    let len = std::fs::metadata(&path).unwrap().len();
    let whole = complete_end(&path);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&[0x55, 0x01, 0x02, 0x03, 0x02, 0x2a, 0, 0, 0, 0x99, 0x1])
        .unwrap();
    let mut a = root_args(&server);
    a.extend(["--dir", dir.path().to_str().unwrap()].map(String::from));
    let run = tool(&["fetch"]).args(&a).ok();
    let partial = len + 11 - whole;
    assert!(
        run.stderr.contains(&format!(
            "partial event ({partial} bytes) at offset {whole}; truncated to {whole}"
        )),
        "{}",
        run.stderr
    );
    assert_same_files(&server, dir.path(), 0);
    // Nothing new: a second run (with the FIRST_FILE the archive started at, as a
    // command line run again has it) writes nothing and changes nothing.
    let before = snapshot_dir(dir.path());
    let again = tool(&["fetch"]).args(&a).arg("mariadb-bin.000001").ok();
    assert!(
        again.stdout.starts_with("fetched 0 events"),
        "{}",
        again.stdout
    );
    assert_eq!(snapshot_dir(dir.path()), before);
}

#[test]
fn server_restarts_and_crashes_mid_stream_are_followed() {
    let mut server = Server::start(43, ROW_DEFAULTS);
    setup_tables(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut args = root_args(&server);
    args.extend(
        [
            "--dir",
            dir.path().to_str().unwrap(),
            "--stop-never",
            "--heartbeat",
            "1",
        ]
        .map(String::from),
    );
    let fetch = Fetch::start(&args);
    insert_batch(&server, "before", 500);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    server.restart();
    insert_batch(&server, "after", 500);
    server.flush_binlogs();
    insert_batch(&server, "later", 10);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    // A crash: the file ends without ROTATE or STOP, its in-use flag left set (MariaDB).
    server.crash_and_restart();
    insert_batch(&server, "crashed", 300);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    let (code, _, err) = fetch.terminate();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("reconnecting in"), "{err}");
    assert!(err.lines().all(|l| l.starts_with("binlog-tool: ")), "{err}");
    assert_same_files(&server, dir.path(), 0);
    tool(&["verify", "--index"])
        .arg(dir.path().join("mariadb-bin.index"))
        .ok();
}

/// A TCP proxy to a server's Unix socket. Armed, it acts once on the server's stream at the
/// first sight of `marker`: cuts the connection there, or flips a byte of it.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
}

#[derive(Clone, Copy, PartialEq)]
enum Act {
    Cut,
    Flip,
}

impl Proxy {
    fn start(socket: PathBuf, act: Act, marker: &'static [u8]) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let armed = Arc::new(AtomicBool::new(true));
        let st = stop.clone();
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let server = UnixStream::connect(&socket).unwrap();
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut s_out);
                    let _ = s_out.shutdown(Shutdown::Write);
                });
                let armed = armed.clone();
                std::thread::spawn(move || pump(server, client, armed, act, marker));
            }
        });
        Proxy { port, stop }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn pump(mut from: UnixStream, mut to: TcpStream, armed: Arc<AtomicBool>, act: Act, marker: &[u8]) {
    let mut buf = vec![0u8; 1 << 16];
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        if armed.load(Ordering::Relaxed) {
            // Look across the chunk boundary too.
            let mut window = tail.clone();
            window.extend_from_slice(chunk);
            if let Some(at) = window.windows(marker.len()).position(|w| w == marker) {
                armed.store(false, Ordering::Relaxed);
                let in_chunk = (at + marker.len() / 2)
                    .saturating_sub(tail.len())
                    .min(n - 1);
                match act {
                    Act::Cut => {
                        let _ = to.write_all(&chunk[..in_chunk]);
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                        return;
                    }
                    Act::Flip => chunk[in_chunk] ^= 0x20,
                }
            }
            tail = window[window.len().saturating_sub(marker.len())..].to_vec();
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

const MARKER: &[u8] = b"ZQXJ-proxy-acts-here-ZQXJ";

/// Where the first event holding `marker` starts in `file`.
fn event_with(file: &Path, marker: &[u8]) -> u64 {
    let bytes = std::fs::read(file).unwrap();
    let log = binlog::Binlog::parse(&bytes).unwrap();
    log.events()
        .map(|e| e.unwrap())
        .find(|e| e.raw().windows(marker.len()).any(|w| w == marker))
        .map(|e| e.offset())
        .expect("marker event")
}

#[test]
fn a_connection_cut_mid_event_is_resumed_exactly() {
    let server = Server::start(44, ROW_DEFAULTS);
    setup_tables(&server);
    let proxy = Proxy::start(server.socket.clone(), Act::Cut, MARKER);
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "--host",
        "127.0.0.1",
        "--port",
        &proxy.port.to_string(),
        "--user",
        "root",
        "--ssl-mode",
        "DISABLED",
        "--dir",
        dir.path().to_str().unwrap(),
        "--stop-never",
        "--heartbeat",
        "1",
    ]
    .map(String::from)
    .to_vec();
    let fetch = Fetch::start(&args);
    insert_batch(&server, "pre", 200);
    let big = String::from_utf8_lossy(MARKER).repeat(2000);
    server.sql(&format!(
        "INSERT INTO w.t (v) VALUES ('x'); INSERT INTO w.big VALUES (7, '{big}');"
    ));
    insert_batch(&server, "post", 200);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    let (code, _, err) = fetch.terminate();
    assert_eq!(code, 0, "{err}");
    let reconnects: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("reconnecting in"))
        .collect();
    assert_eq!(reconnects.len(), 1, "{err}");
    assert!(
        reconnects[0].contains("connection lost at mariadb-bin.000001:"),
        "{err}"
    );
    assert_same_files(&server, dir.path(), 0);
}

#[test]
fn a_damaged_byte_stops_fetch_before_the_event() {
    let server = Server::start(45, ROW_DEFAULTS);
    setup_tables(&server);
    insert_batch(&server, "pre", 200);
    let big = String::from_utf8_lossy(MARKER).repeat(100);
    server.sql(&format!("INSERT INTO w.big VALUES (7, '{big}');"));
    insert_batch(&server, "post", 200);
    let file = server.binlogs().pop().unwrap();
    let at = event_with(&file, MARKER);
    let proxy = Proxy::start(server.socket.clone(), Act::Flip, MARKER);
    let dir = tempfile::tempdir().unwrap();
    let run = tool(&[
        "fetch",
        "--host",
        "127.0.0.1",
        "--user",
        "root",
        "--ssl-mode",
        "DISABLED",
        "--dir",
    ])
    .arg(dir.path())
    .args(["--port", &proxy.port.to_string()])
    .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "mariadb-bin.000001 at offset {at}: the event received is damaged"
        )),
        "{}",
        run.stderr
    );
    let ours = std::fs::read(dir.path().join("mariadb-bin.000001")).unwrap();
    let theirs = std::fs::read(&file).unwrap();
    assert_eq!(ours.len() as u64, at);
    assert!(theirs[..ours.len()] == ours[..]);
}

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
    server.flush_binlogs();
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
    other.flush_binlogs();
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
    let mut args = root_args(&server);
    args.extend(["--dir".to_string(), dir.path().display().to_string()]);
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
    setup_tables(&server);
    insert_batch(&server, "one", 50);
    server.flush_binlogs();
    insert_batch(&server, "two", 50);
    let pos = server.value("SELECT @@gtid_binlog_pos");
    insert_batch(&server, "three", 50);
    server.flush_binlogs();
    insert_batch(&server, "four", 50);
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
