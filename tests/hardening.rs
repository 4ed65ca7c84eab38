//! Closed pipes, full disks and signals, on a binlog big enough to fill every pipeline:
//! every command that writes a lot stops quietly with 0 when its reader goes away, stops
//! with 2 and one line naming its output when a write fails, leaves nothing behind, and
//! exits 128 + the signal's number on SIGINT, SIGTERM or SIGHUP, removing its temporary
//! file. No run may hang: a watchdog kills it and fails the test after 20 s.
//!
//! The binlog (about 330 MB, row changes only) is written by a private MariaDB server once
//! and kept under the target directory, keyed by [`GENERATOR`], for later runs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::server::{Server, ROW_DEFAULTS};

/// The generator's version: change it when the SQL below changes.
const GENERATOR: &str = "hardening-binlog-v2";
/// How long a run may take before the watchdog fails it.
const WATCHDOG: Duration = Duration::from_secs(20);
/// Runs of each command with its output closed early.
const CLOSED_PIPE_RUNS: usize = 20;

/// The big binlog: row changes only (its tables are created in the file before it), with
/// transactions of 5,000 rows (inserts, updates, deletes) and one of 40,000 rows, over
/// the 4 MiB that `decode` renders in chunks.
fn big_binlog() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(GENERATOR);
        let file = dir.join("mariadb-bin.000002");
        if dir.join("done").is_file() {
            return file;
        }
        let started = Instant::now();
        let s = Server::start(61, ROW_DEFAULTS);
        s.sql(
            "CREATE DATABASE h;
             CREATE TABLE h.t (id INT PRIMARY KEY, k INT, d DATETIME(3), s VARCHAR(255))
                 ENGINE=InnoDB;",
        );
        s.flush_binlogs();
        let mut sql = String::from("USE h;\n");
        let row = |from: u64, to: u64| {
            format!(
                "INSERT INTO h.t SELECT seq, seq % 1000, '2024-01-01' + INTERVAL seq SECOND, \
                 REPEAT(CHAR(65 + seq % 26), 200) FROM seq_{from}_to_{to};\n"
            )
        };
        let per = 5_000u64;
        for i in 0..240 {
            sql.push_str(&row(i * per + 1, (i + 1) * per));
        }
        let big = 240 * per;
        sql.push_str(&row(big + 1, big + 40_000));
        for i in 0..20 {
            sql.push_str(&format!(
                "UPDATE h.t SET k = k + 1, s = REPEAT('u', 180) WHERE id > {} AND id <= {};\n",
                i * per,
                (i + 1) * per
            ));
        }
        for i in 20..30 {
            sql.push_str(&format!(
                "DELETE FROM h.t WHERE id > {} AND id <= {};\n",
                i * per,
                (i + 1) * per
            ));
        }
        s.sql(&sql);
        let written = s.flush_binlogs();
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{GENERATOR}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::copy(&written, tmp.join("mariadb-bin.000002")).unwrap();
        std::fs::write(tmp.join("done"), b"").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&tmp, &dir).unwrap();
        eprintln!(
            "hardening: generated {} ({} bytes) in {:.0?}",
            file.display(),
            std::fs::metadata(&file).unwrap().len(),
            started.elapsed()
        );
        file
    })
}

/// The commands that write a lot, each as arguments before its output (`-o OUT` is
/// added where a command takes one; `None` for those that print to stdout).
fn writers(file: &Path) -> Vec<(Vec<String>, bool)> {
    let f = file.display().to_string();
    let cmd = |args: &[&str], takes_o: bool| {
        let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        v.push(f.clone());
        (v, takes_o)
    };
    vec![
        cmd(&["events"], false),
        cmd(&["events", "--format", "jsonl"], false),
        cmd(&["decode"], true),
        cmd(&["decode", "--format", "jsonl"], true),
        cmd(&["decode", "-t", "h.%"], true),
        cmd(&["flashback"], true),
        cmd(&["flashback", "--format", "sql"], true),
        cmd(&["cut"], true),
        cmd(&["split", "--max-rows", "1000"], true),
    ]
}

/// What a run gave.
pub struct Outcome {
    pub code: Option<i32>,
    pub stderr: String,
}

pub fn tool() -> Command {
    Command::new(env!("CARGO_BIN_EXE_binlog-tool"))
}

/// A running command, its stderr read on a thread so that it never blocks on it.
pub struct Running {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
    started: Instant,
}

/// Starts `cmd` with its standard output as the caller set it.
pub fn start(mut cmd: Command) -> Running {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Running {
        child,
        stderr,
        started,
    }
}

impl Running {
    /// Waits for the end under the watchdog.
    pub fn finish(mut self, what: &str) -> Outcome {
        let code = wait_or_fail(&mut self.child, self.started, what);
        Outcome {
            code,
            stderr: self.stderr.join().unwrap(),
        }
    }
}

/// Waits for the child, killing it and failing the test after [`WATCHDOG`].
fn wait_or_fail(child: &mut Child, started: Instant, what: &str) -> Option<i32> {
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {WATCHDOG:?} (killed)");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `cmd`, reads 4 KB of its output, closes the pipe and waits.
pub fn closed_after_4k(mut cmd: Command, what: &str) -> Outcome {
    cmd.stdout(Stdio::piped());
    let mut run = start(cmd);
    let mut out = run.child.stdout.take().unwrap();
    let mut buf = vec![0u8; 4096];
    out.read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("{what}: fewer than 4 KB of output: {e}"));
    drop(out);
    run.finish(&format!("{what} | head -c 4096"))
}

#[test]
fn a_reader_that_goes_away_ends_every_writer_quietly() {
    let file = big_binlog();
    for (mut args, takes_o) in writers(file) {
        if takes_o {
            args.extend(["-o".into(), "-".into()]);
        }
        for run in 0..CLOSED_PIPE_RUNS {
            let mut cmd = tool();
            cmd.args(&args);
            let o = closed_after_4k(cmd, &format!("{args:?}"));
            assert_eq!(o.code, Some(0), "{args:?} run {run}: {}", o.stderr);
            assert_eq!(o.stderr, "", "{args:?} run {run}");
        }
    }
}

/// A directory where writes fail after a few megabytes: a 4 MB tmpfs, or (when mounting
/// is not allowed) a plain directory with the runs held to a file size limit.
pub struct SmallDisk {
    pub dir: tempfile::TempDir,
    mounted: bool,
}

impl SmallDisk {
    pub fn new() -> SmallDisk {
        let dir = tempfile::Builder::new()
            .prefix("binlog-tool-small-")
            .tempdir()
            .unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!(
                "note: cannot mount a 4 MB tmpfs here (not root?): the full-disk checks write \
                 under a 4 MB file size limit (RLIMIT_FSIZE, EFBIG) instead"
            );
        }
        SmallDisk { dir, mounted }
    }

    /// The command running the tool with `args`, held to the file size limit when there
    /// is no tmpfs.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        if self.mounted {
            let mut c = tool();
            c.args(args);
            c
        } else {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("trap '' XFSZ; ulimit -f 8192; exec \"$0\" \"$@\"")
                .arg(env!("CARGO_BIN_EXE_binlog-tool"))
                .args(args);
            c
        }
    }

    pub fn listing(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(self.dir.path()).status();
        }
    }
}

/// Exit 2 and exactly one line on stderr, naming `name` and saying that writing failed.
pub fn one_line_naming(o: &Outcome, name: &str, what: &str) {
    assert_eq!(o.code, Some(2), "{what}: {}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{what}: {}", o.stderr);
    assert!(
        o.stderr.starts_with("binlog-tool: error: ") && o.stderr.contains(name),
        "{what}: the message does not name {name}: {}",
        o.stderr
    );
    assert!(o.stderr.contains("writing"), "{what}: {}", o.stderr);
    assert!(!o.stderr.contains("offset"), "{what}: {}", o.stderr);
}

#[test]
fn a_full_disk_stops_every_writer_with_one_line_and_nothing_left() {
    let file = big_binlog();
    let disk = SmallDisk::new();
    let out = disk.dir.path().join("out");
    let out_name = out.display().to_string();
    for (mut args, takes_o) in writers(file) {
        if !takes_o {
            continue;
        }
        args.extend(["-o".into(), out_name.clone()]);
        let what = format!("{args:?} on a small disk");
        let mut cmd = disk.command(&args);
        cmd.stdout(Stdio::null());
        let o = start(cmd).finish(&what);
        one_line_naming(&o, &out_name, &what);
        assert!(disk.listing().is_empty(), "{what}: {:?}", disk.listing());
    }

    // Standard output on a full device, and -o naming the device.
    for (args, takes_o) in writers(file) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut cmd = tool();
        cmd.args(&args);
        if takes_o {
            cmd.args(["-o", "-"]);
        }
        cmd.stdout(full);
        let what = format!("{args:?} > /dev/full");
        let o = start(cmd).finish(&what);
        one_line_naming(&o, "standard output", &what);
        if takes_o {
            let mut cmd = tool();
            cmd.args(&args)
                .args(["-o", "/dev/full"])
                .stdout(Stdio::null());
            let what = format!("{args:?} -o /dev/full");
            let o = start(cmd).finish(&what);
            one_line_naming(&o, "/dev/full", &what);
        }
    }
}

#[test]
fn a_signal_stops_every_writer_and_removes_its_file() {
    let file = big_binlog();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let listing = || -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let signals = [("INT", 130), ("TERM", 143), ("HUP", 129)];
    for (i, (mut args, takes_o)) in writers(file).into_iter().enumerate() {
        if !takes_o {
            continue;
        }
        args.push("-o".into());
        args.push(out.display().to_string());
        // SIGINT for every command; SIGTERM and SIGHUP in turn.
        for (sig, code) in [signals[0], signals[1 + i % 2]] {
            let what = format!("{args:?}, SIG{sig} once its output exists");
            let mut cmd = tool();
            cmd.args(&args).stdout(Stdio::null());
            let mut run = start(cmd);
            // The signal arrives while the output is being written: wait for the file (the
            // handlers are installed before it is created), stop the process so that a fast
            // machine cannot finish first, send the signal, and let it go on.
            let waited = Instant::now();
            while listing().is_empty()
                && run.child.try_wait().unwrap().is_none()
                && waited.elapsed() < Duration::from_secs(120)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            let pid = run.child.id().to_string();
            let send = |s: &str| {
                let sent = Command::new("kill")
                    .arg(format!("-{s}"))
                    .arg(&pid)
                    .status()
                    .unwrap();
                assert!(sent.success(), "{what}: kill -{s}");
            };
            send("STOP");
            assert!(
                run.child.try_wait().unwrap().is_none(),
                "{what}: finished before the signal (the input is too small for this check)"
            );
            send(sig);
            send("CONT");
            let o = run.finish(&what);
            assert_eq!(o.code, Some(code), "{what}: {}", o.stderr);
            assert_eq!(
                o.stderr.trim_end(),
                format!("binlog-tool: interrupted by SIG{sig}"),
                "{what}"
            );
            assert!(listing().is_empty(), "{what}: left {:?}", listing());
        }
    }
}

/// A pipe whose reader has already gone.
fn pipe_without_reader() -> Stdio {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let end = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    Stdio::from(end)
}

/// Notes and errors on a standard error whose reader went away (`2>&1 | head`) are lost,
/// not a panic and an abort: the exit status is the command's.
#[test]
fn a_stderr_that_goes_away_changes_no_exit_status() {
    let fixture = crate::common::fixture("row_compressed/mariadb-bin.000001");
    let mut cmd = tool();
    cmd.args(["flashback", "--skip-ddl", "-o", "/dev/null"])
        .arg(&fixture)
        .stdout(Stdio::null())
        .stderr(pipe_without_reader());
    assert_eq!(cmd.status().unwrap().code(), Some(0));
    let mut cmd = tool();
    cmd.args(["info", "/nonexistent/binlog.000001"])
        .stdout(Stdio::null())
        .stderr(pipe_without_reader());
    assert_eq!(cmd.status().unwrap().code(), Some(2));
}

/// `flashback` encodes groups of undo transactions on the pool and writes them in order,
/// positions and CRC32s set where each lands: its output (on the big binlog, 271
/// transactions, one over the 4 MiB encoded whole on the writing thread) is the same for
/// any number of threads, the same as the library's one-thread [`write_binlog`], and a
/// binlog whose every CRC32 and position `verify` accepts.
///
/// [`write_binlog`]: binlog::flashback::write_binlog
#[test]
fn flashback_is_the_same_for_any_number_of_threads() {
    let file = big_binlog();
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "5"] {
        let out = dir.path().join(format!("undo-{threads}.bin"));
        let r = crate::common::tool(&["flashback", "-o"])
            .arg(&out)
            .arg(file)
            .env("RAYON_NUM_THREADS", threads)
            .run();
        assert_eq!(r.code, 0, "{}", r.stderr);
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert!(outputs[0].len() > 100 << 20, "{}", outputs[0].len());
    assert!(outputs[0] == outputs[1], "1 and 2 threads differ");
    assert!(outputs[0] == outputs[2], "1 and 5 threads differ");

    let input = binlog::BinlogFile::open(file).unwrap();
    let logs = [input.binlog().unwrap()];
    let opts = binlog::flashback::Options::default();
    let plan = binlog::flashback::plan(&logs, &opts).unwrap();
    let (one_thread, stats) =
        binlog::flashback::write_binlog(&logs, &plan, &opts, Vec::new()).unwrap();
    assert_eq!(stats.transactions, 271);
    assert!(
        one_thread == outputs[0],
        "the library's one-thread output differs"
    );

    let r = crate::common::tool(&["verify"])
        .arg(dir.path().join("undo-2.bin"))
        .run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
