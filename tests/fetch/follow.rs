//! Following a server: flushes, a 40 MB event, heartbeats, fetch killed and resumed, the
//! server restarted and crashed.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;
use crate::common::tool;
use crate::server::{Server, ROW_DEFAULTS};

#[test]
fn following_a_server_through_flushes_gives_its_files() {
    let server = Server::start(41, ROW_DEFAULTS);
    setup_tables(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut args = following(root_args(&server), dir.path());
    args.extend(["--format", "json"].map(String::from));
    let fetch = Fetch::start(&args);
    for i in 0..6 {
        insert_batch(&server, &format!("f{i}"), 300);
        if i % 2 == 1 {
            flush(&server);
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
                    flush(&server);
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
    // A kill mid-write can leave part of an event: make sure one is there, in the file
    // a resumed fetch goes on with: the newest on disk (a kill between creating a file
    // and listing it leaves the index one file behind). A newest file killed before its
    // magic was written is started again by fetch: it is taken away here, as fetch would.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix("mariadb-bin.")
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    names.sort();
    while let Some(n) = names.last() {
        let p = dir.path().join(n);
        if std::fs::metadata(&p).unwrap().len() >= 4 {
            break;
        }
        std::fs::remove_file(p).unwrap();
        names.pop();
    }
    let last = names.pop().unwrap();
    let path = dir.path().join(&last);
    let len = std::fs::metadata(&path).unwrap().len();
    let whole = complete_end(&path);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&[0x55, 0x01, 0x02, 0x03, 0x02, 0x2a, 0, 0, 0, 0x99, 0x1])
        .unwrap();
    let a = into_dir(root_args(&server), dir.path());
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
    let args = following(root_args(&server), dir.path());
    let fetch = Fetch::start(&args);
    insert_batch(&server, "before", 500);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    server.restart();
    insert_batch(&server, "after", 500);
    flush(&server);
    insert_batch(&server, "later", 10);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    // A crash: the file ends without ROTATE or STOP, its in-use flag left set (MariaDB).
    server.crash_and_restart();
    insert_batch(&server, "crashed", 300);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    // Ctrl-C ends a follow as SIGTERM does: the current write finished, exit 0.
    let (code, _, err) = fetch.interrupt();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("reconnecting in"), "{err}");
    assert!(err.lines().all(|l| l.starts_with("binlog-tool: ")), "{err}");
    assert_same_files(&server, dir.path(), 0);
    tool(&["verify", "--index"])
        .arg(dir.path().join("mariadb-bin.index"))
        .ok();
}

/// Anonymous memory (heap) of a running process, from /proc.
fn heap_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb << 10
}

/// An archive that ends with a 100 MiB event (a kill right after writing it): the server
/// sends that event again and it is compared with the archive's copy on disk, not with a
/// second copy in memory, and the buffer it needed is given back once it is through.
#[test]
fn resuming_at_a_large_event_keeps_the_heap_small() {
    let server = Server::start(53, ROW_DEFAULTS);
    setup_tables(&server);
    insert_batch(&server, "pre", 50);
    server.sql("INSERT INTO w.big VALUES (1, REPEAT('h', 100 * 1024 * 1024));");
    insert_batch(&server, "post", 50);
    let dir = tempfile::tempdir().unwrap();
    let mut args = into_dir(root_args(&server), dir.path());
    tool(&["fetch"]).args(&args).ok();
    let path = dir.path().join("mariadb-bin.000001");
    let end = {
        let bytes = std::fs::read(&path).unwrap();
        let log = binlog::Binlog::parse(&bytes).unwrap();
        log.events()
            .map(|e| e.unwrap())
            .find(|e| e.raw().len() > 100 << 20)
            .map(|e| e.end_offset())
            .unwrap()
    };
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(end).unwrap();
    drop(f);
    args.extend(["--stop-never", "--heartbeat", "1"].map(String::from));
    let fetch = Fetch::start(&args);
    wait_caught_up(&server, dir.path(), Some(&fetch));
    std::thread::sleep(Duration::from_millis(1500));
    let heap = heap_of(fetch.child.id());
    let (code, _, err) = fetch.terminate();
    assert_eq!(code, 0, "{err}");
    assert_same_files(&server, dir.path(), 0);
    assert!(
        heap < 32 << 20,
        "{} MiB of heap after resuming at a 100 MiB event",
        heap >> 20
    );
}

/// The progress line is drawn when stderr is a terminal, and only then.
#[test]
fn progress_is_shown_on_a_terminal_only() {
    let server = Server::start(54, ROW_DEFAULTS);
    setup_tables(&server);
    insert_batch(&server, "p", 100);
    let on_tty = tempfile::tempdir().unwrap();
    let cmd = format!(
        "timeout -s TERM 3 {} fetch --socket {} --user root --dir {} --stop-never --heartbeat 1",
        env!("CARGO_BIN_EXE_binlog-tool"),
        server.socket.display(),
        on_tty.path().display()
    );
    // `script` runs the command on a pseudo-terminal and copies what it shows.
    let out = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("\r\x1b[2Kmariadb-bin.000001:") && shown.contains("events/s"),
        "{shown:?}"
    );
    let plain = tempfile::tempdir().unwrap();
    let args = following(root_args(&server), plain.path());
    let fetch = Fetch::start(&args);
    wait_caught_up(&server, plain.path(), Some(&fetch));
    std::thread::sleep(Duration::from_millis(1500));
    let (code, out, err) = fetch.terminate();
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    assert!(out.starts_with("fetched "), "{out}");
}
