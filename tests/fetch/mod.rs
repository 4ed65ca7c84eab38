//! `binlog-tool fetch` against private MariaDB servers: the archive's files compared byte
//! for byte with the server's while the server flushes, restarts and crashes, while fetch is
//! killed, stopped by a signal, cut off or fed a damaged byte by a proxy; the refusals; TLS
//! and authentication; GTID starts. This file holds the helpers.

mod connect;
mod follow;
mod proxy;
mod refusals;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::Server;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn root_args(server: &Server) -> Vec<String> {
    vec![
        "--socket".into(),
        server.socket.display().to_string(),
        "--user".into(),
        "root".into(),
    ]
}

/// `base` with `--dir DIR`.
pub fn into_dir(mut base: Vec<String>, dir: &Path) -> Vec<String> {
    base.extend(["--dir".to_string(), dir.display().to_string()]);
    base
}

/// `base` with `--dir DIR --stop-never --heartbeat 1`: following the server, with a
/// heartbeat a second.
pub fn following(base: Vec<String>, dir: &Path) -> Vec<String> {
    let mut args = into_dir(base, dir);
    args.extend(["--stop-never", "--heartbeat", "1"].map(String::from));
    args
}

/// A `fetch` running in the background; its output goes to files.
pub struct Fetch {
    pub child: Child,
    out: PathBuf,
    err: PathBuf,
    _logs: tempfile::TempDir,
}

impl Fetch {
    pub fn start(args: &[String]) -> Fetch {
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

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Sends SIGTERM and waits: (exit code, stdout, stderr).
    pub fn terminate(self) -> (i32, String, String) {
        self.signal("TERM")
    }

    /// Sends SIGINT (Ctrl-C) and waits: (exit code, stdout, stderr).
    pub fn interrupt(self) -> (i32, String, String) {
        self.signal("INT")
    }

    fn signal(mut self, sig: &str) -> (i32, String, String) {
        let pid = self.child.id();
        Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{sig} {pid}"))
            .status()
            .unwrap();
        self.wait()
    }

    pub fn wait(&mut self) -> (i32, String, String) {
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

pub fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Waits until the archive holds as many bytes of every server binlog as the server has.
pub fn wait_caught_up(server: &Server, dir: &Path, fetch: Option<&Fetch>) {
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
pub fn assert_same_files(server: &Server, dir: &Path, from: usize) {
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
    // The index as a server whose log-bin is relative to its datadir writes it (MariaDB
    // 10.11 with log-bin=mysql-bin: `./mysql-bin.000001` and a newline per file).
    let index = std::fs::read_to_string(dir.join("mariadb-bin.index")).unwrap();
    let lines: String = expect.iter().map(|n| format!("./{n}\n")).collect();
    assert_eq!(index, lines);
}

/// Where the last whole event of a binlog ends.
pub fn complete_end(path: &Path) -> u64 {
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

pub fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
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

pub fn setup_tables(server: &Server) {
    server.sql(
        "CREATE DATABASE w; CREATE TABLE w.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200)); \
         CREATE TABLE w.big (id INT PRIMARY KEY, b LONGBLOB);",
    );
}

pub fn insert_batch(server: &Server, tag: &str, rows: usize) {
    let values: Vec<String> = (0..rows)
        .map(|j| format!("(REPEAT('{tag}-{j}', 8))"))
        .collect();
    server.sql(&format!("INSERT INTO w.t (v) VALUES {};", values.join(",")));
}

/// FLUSH BINARY LOGS, then a wait for the BINLOG_CHECKPOINT event naming the new file,
/// which MariaDB writes into it in the background once the old file's transactions are
/// durable: a copy taken before that is rightly a prefix of the file, not all of it.
pub fn flush(server: &Server) {
    server.flush_binlogs();
    let file = server.binlogs().pop().unwrap();
    let name = file_name(&file);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let bytes = std::fs::read(&file).unwrap();
        let checkpoint = binlog::Binlog::parse(&bytes).is_ok_and(|log| {
            log.events().flatten().any(|e| {
                e.event_type() == binlog::EventType::MARIADB_BINLOG_CHECKPOINT
                    && e.raw().windows(name.len()).any(|w| w == name.as_bytes())
            })
        });
        if checkpoint {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no BINLOG_CHECKPOINT naming {name}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Three binlogs of a few transactions; the GTID position reached in the middle of the
/// second (so that a dump from it starts in mariadb-bin.000002).
pub fn three_files_and_a_gtid(server: &Server) -> String {
    setup_tables(server);
    insert_batch(server, "one", 50);
    flush(server);
    insert_batch(server, "two", 50);
    let pos = server.value("SELECT @@gtid_binlog_pos");
    insert_batch(server, "three", 50);
    flush(server);
    insert_batch(server, "four", 50);
    pos
}
