//! Private MariaDB servers for end-to-end tests: each test starts its own `mariadbd` on a
//! temporary datadir and socket (no network), drives it with the real `mariadb` client and
//! reads its binlogs. The servers stop when the test ends.
//!
//! Needs Debian's `mariadb-server` and `mariadb-client` packages (`.ci/run` installs them).
//! Without them these tests fail, saying so: they are not skipped.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Options every test server gets: ROW format with full metadata and CRC32, as the
/// issues' end-to-end checks ask.
pub const ROW_DEFAULTS: &[&str] = &[
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
    "--binlog-checksum=CRC32",
];

fn which(prog: &str) -> PathBuf {
    let candidates = [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/bin",
        "/usr/local/sbin",
        "/sbin",
        "/bin",
    ];
    for d in candidates {
        let p = Path::new(d).join(prog);
        if p.is_file() {
            return p;
        }
    }
    panic!("{prog} not found: install Debian's mariadb-server and mariadb-client (see .ci/run)");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A datadir made once by `mariadb-install-db` and copied for each server.
fn template_datadir() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        remove_stale_templates();
        let base =
            std::env::temp_dir().join(format!("binlog-tool-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let data = base.join("data");
        let mut cmd = Command::new(which("mariadb-install-db"));
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if is_root() {
            cmd.arg("--user=root");
        }
        let out = cmd.output().expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        data
    })
}

/// Removes templates left by earlier test runs whose process is gone.
fn remove_stale_templates() {
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("binlog-tool-template-") {
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// A running private server.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub datadir: PathBuf,
    pub binlog_dir: PathBuf,
    pub server_id: u32,
    options: Vec<String>,
    child: Option<Child>,
}

impl Server {
    /// Starts a server with `--server-id=server_id` and the given extra options (for
    /// example [`ROW_DEFAULTS`], `--gtid-strict-mode=ON`).
    pub fn start(server_id: u32, options: &[&str]) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("binlog-tool-mdb-")
            .tempdir()
            .unwrap();
        let datadir = dir.path().join("data");
        let status = Command::new("cp")
            .arg("-a")
            .arg(template_datadir())
            .arg(&datadir)
            .status()
            .unwrap();
        assert!(status.success());
        let binlog_dir = dir.path().join("binlog");
        std::fs::create_dir_all(&binlog_dir).unwrap();
        let socket = dir.path().join("mysqld.sock");
        let mut server = Server {
            dir,
            socket,
            datadir,
            binlog_dir,
            server_id,
            options: options.iter().map(|o| o.to_string()).collect(),
            child: None,
        };
        server.spawn();
        server
    }

    /// Starts `mariadbd` on this server's datadir and waits until it answers.
    fn spawn(&mut self) {
        let mut cmd = Command::new(which("mariadbd"));
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.datadir.display()))
            .arg(format!("--socket={}", self.socket.display()))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mysqld.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                self.dir.path().join("error.log").display()
            ))
            .arg(format!(
                "--log-bin={}",
                self.binlog_dir.join("mariadb-bin").display()
            ))
            .arg(format!("--server-id={}", self.server_id))
            // Its own temporary directory: the test servers once crashed while creating
            // an information-schema temporary table (`create_tmp_table_for_schema`,
            // failing in `/tmp` shared by every test of the parallel suite).
            .arg(format!("--tmpdir={}", self.dir.path().display()));
        // With a --port option the server listens on 127.0.0.1 too.
        if self.options.iter().any(|o| o.starts_with("--port=")) {
            cmd.arg("--bind-address=127.0.0.1");
        } else {
            cmd.arg("--skip-networking");
        }
        cmd.args([
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=48M",
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--default-time-zone=+00:00",
            "--max-allowed-packet=256M",
            "--secure-file-priv=",
        ])
        .args(&self.options)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if is_root() {
            cmd.arg("--user=root");
        }
        self.child = Some(cmd.spawn().expect("start mariadbd"));
        self.wait_ready();
    }

    /// Kills the server (SIGKILL: a crash) and starts it again on the same datadir.
    pub fn crash_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
        self.spawn();
    }

    /// Stops the server cleanly and starts it again on the same datadir.
    pub fn restart(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.socket);
        self.spawn();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.socket.exists() {
                let ok = Command::new(which("mariadb"))
                    .args(self.client_args())
                    .args(["-e", "SELECT 1"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                if ok {
                    return;
                }
            }
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                panic!("mariadbd did not start within 60 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Arguments that point a client at this server as root.
    pub fn client_args(&self) -> Vec<String> {
        vec![
            "--no-defaults".into(),
            format!("--socket={}", self.socket.display()),
            "--user=root".into(),
            "--default-character-set=utf8mb4".into(),
        ]
    }

    /// Runs SQL through the `mariadb` client; returns its output in batch form (tab-
    /// separated, no column names, raw). Panics with the client's error on failure.
    pub fn sql(&self, sql: &str) -> String {
        let mut child = Command::new(which("mariadb"))
            .args(self.client_args())
            .args(["--batch", "--raw", "--skip-column-names"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Feed the statements from another thread: the client may print (errors echo the
        // statement) while we write, and both pipes must keep moving.
        let mut stdin = child.stdin.take().unwrap();
        let input = sql.to_string();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().unwrap();
        let _ = feeder.join();
        assert!(
            out.status.success(),
            "SQL failed: {}\n--- SQL ---\n{}\n--- the end of the server's error log ---\n{}",
            String::from_utf8_lossy(&out.stderr),
            sql.get(..2000).unwrap_or(sql),
            self.error_log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The last lines of the server's error log (a crash's stack, when it crashed).
    pub fn error_log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// One value (first column of the first row).
    pub fn value(&self, sql: &str) -> String {
        self.sql(sql)
            .lines()
            .next()
            .unwrap_or("")
            .split('\t')
            .next()
            .unwrap_or("")
            .to_string()
    }

    /// Pipes `mariadb-binlog ARGS FILES` into `mariadb` connected to this server.
    /// Returns mariadb-binlog's stderr; panics if either side fails.
    pub fn apply_binlog(&self, files: &[&Path], binlog_args: &[&str]) -> String {
        let mut dump = Command::new(which("mariadb-binlog"))
            .args(binlog_args)
            .args(files)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let client = Command::new(which("mariadb"))
            .args(self.client_args())
            .stdin(dump.stdout.take().unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let client_out = client.wait_with_output().unwrap();
        let dump_out = dump.wait_with_output().unwrap();
        let dump_err = String::from_utf8_lossy(&dump_out.stderr).into_owned();
        assert!(
            dump_out.status.success(),
            "mariadb-binlog {files:?} failed: {dump_err}"
        );
        assert!(
            client_out.status.success(),
            "applying {files:?} failed: {}",
            String::from_utf8_lossy(&client_out.stderr)
        );
        dump_err
    }

    /// The binlog files, in order (from the index file).
    pub fn binlogs(&self) -> Vec<PathBuf> {
        let index = self.binlog_dir.join("mariadb-bin.index");
        std::fs::read_to_string(index)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let p = Path::new(l.trim());
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    self.datadir.join(p)
                }
            })
            .collect()
    }

    /// `FLUSH BINARY LOGS`, returning the file that was just closed.
    pub fn flush_binlogs(&self) -> PathBuf {
        let current = self.binlogs().pop().unwrap();
        self.sql("FLUSH BINARY LOGS");
        current
    }

    /// Current binlog file name and position (SHOW MASTER STATUS).
    pub fn master_status(&self) -> (String, u64) {
        let line = self.sql("SHOW MASTER STATUS");
        let f: Vec<&str> = line.lines().next().unwrap().split('\t').collect();
        (f[0].to_string(), f[1].parse().unwrap())
    }

    /// The rows of `db.table` ordered by its first columns, every column in a lossless text
    /// form: numbers as the server prints them (floats as exact doubles), everything else
    /// as hex, so that nothing is lost in printing.
    pub fn table_contents(&self, db: &str, table: &str) -> String {
        // SHOW COLUMNS rather than information_schema.COLUMNS: a test's server once
        // crashed in the latter while the whole suite ran (a NULL dereference in mariadbd).
        let cols = self.sql(&format!("SHOW COLUMNS FROM `{db}`.`{table}`"));
        let exprs: Vec<String> = cols
            .lines()
            .map(|l| {
                let mut f = l.split('\t');
                let c = f.next().unwrap_or_default().replace('`', "``");
                // `int(11) unsigned`, `decimal(10,2)`, `double`: the name before the
                // parameters.
                let full = f.next().unwrap_or_default();
                let ty = full.split(['(', ' ']).next().unwrap_or_default();
                match ty {
                    "float" | "double" => format!("IFNULL(CAST(`{c}` AS DOUBLE),'NULL')"),
                    "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal"
                    | "year" | "bit" => {
                        format!("IFNULL(CAST(`{c}` AS CHAR),'NULL')")
                    }
                    _ => format!("IFNULL(HEX(`{c}`),'NULL')"),
                }
            })
            .collect();
        self.sql(&format!(
            "SELECT {} FROM `{db}`.`{table}` ORDER BY 1,2",
            exprs.join(",")
        ))
    }

    /// `mariadb-dump --single-transaction --master-data=2 ARGS`: the dump text and the
    /// binlog file and position it was taken at.
    pub fn dump(&self, args: &[&str]) -> (String, String, u64) {
        let out = Command::new(which("mariadb-dump"))
            .args(self.client_args())
            .args(["--single-transaction", "--master-data=2"])
            .args(args)
            .stderr(Stdio::piped())
            .output()
            .expect("run mariadb-dump");
        assert!(
            out.status.success(),
            "mariadb-dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains("CHANGE MASTER TO MASTER_LOG_FILE="))
            .expect("dump has the binlog position");
        let file = line.split('\'').nth(1).unwrap().to_string();
        let pos: u64 = line
            .split("MASTER_LOG_POS=")
            .nth(1)
            .unwrap()
            .trim_end_matches(';')
            .trim()
            .parse()
            .unwrap();
        (text, file, pos)
    }

    /// CHECKSUM TABLE's value.
    pub fn checksum(&self, db: &str, table: &str) -> String {
        let out = self.sql(&format!("CHECKSUM TABLE `{db}`.`{table}` EXTENDED"));
        out.split('\t').nth(1).unwrap_or("").trim().to_string()
    }

    /// Contents and checksum of every base table of `db`, keyed by table name.
    pub fn snapshot(&self, db: &str) -> Vec<(String, String, String)> {
        let tables = self.sql(&format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='{db}' AND TABLE_TYPE='BASE TABLE' ORDER BY 1"
        ));
        tables
            .lines()
            .map(|t| {
                (
                    t.to_string(),
                    self.checksum(db, t),
                    self.table_contents(db, t),
                )
            })
            .collect()
    }

    /// Stops the server cleanly.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new(which("mariadb-admin"))
                .args(
                    self.client_args()
                        .iter()
                        .filter(|a| !a.starts_with("--default-character-set")),
                )
                .arg("shutdown")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn a_private_server_logs_rows_we_can_read() {
    let server = Server::start(11, ROW_DEFAULTS);
    server.sql("CREATE DATABASE h; CREATE TABLE h.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO h.t VALUES (1,'a'),(2,'b');");
    let file = server.flush_binlogs();
    let bytes = std::fs::read(&file).unwrap();
    let report = binlog::deep_walk::deep_check(&bytes);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.rows, 2);
    assert_eq!(server.value("SELECT COUNT(*) FROM h.t"), "2");
    assert_eq!(server.snapshot("h").len(), 1);
}
