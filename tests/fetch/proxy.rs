//! A TCP proxy between fetch and the server that cuts the connection mid-event or flips a
//! byte of it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::common::tool;
use crate::server::{Server, ROW_DEFAULTS};

/// A TCP proxy to a server's Unix socket. Armed, it acts once on the server's stream at a
/// sighting of `marker` (after letting `skip` sightings pass, over all connections): cuts
/// the connection there, or flips a byte of it. With `rate`, it forwards the server's
/// bytes at that many bytes a second.
pub struct Proxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Bytes forwarded from the server, over all connections.
    pub forwarded: Arc<AtomicU64>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Act {
    Cut,
    Flip,
    /// Nothing: only forward (at `rate`).
    Pass,
}

/// What a proxy does.
#[derive(Clone, Copy)]
pub struct Plan {
    pub act: Act,
    pub marker: &'static [u8],
    pub skip: usize,
    pub rate: Option<u64>,
}

/// What the connections of a proxy share.
struct Shared {
    plan: Plan,
    armed: AtomicBool,
    sightings: AtomicUsize,
    forwarded: Arc<AtomicU64>,
}

impl Proxy {
    fn start(socket: PathBuf, act: Act, marker: &'static [u8]) -> Proxy {
        Proxy::with(
            socket,
            Plan {
                act,
                marker,
                skip: 0,
                rate: None,
            },
        )
    }

    pub fn with(socket: PathBuf, plan: Plan) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let forwarded = Arc::new(AtomicU64::new(0));
        let shared = Arc::new(Shared {
            plan,
            armed: AtomicBool::new(plan.act != Act::Pass),
            sightings: AtomicUsize::new(0),
            forwarded: forwarded.clone(),
        });
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
                let shared = shared.clone();
                std::thread::spawn(move || pump(server, client, &shared));
            }
        });
        Proxy {
            port,
            stop,
            forwarded,
        }
    }

    /// Arguments that point fetch at the proxy as root, without TLS.
    pub fn args(&self) -> Vec<String> {
        [
            "--host",
            "127.0.0.1",
            "--port",
            &self.port.to_string(),
            "--user",
            "root",
            "--ssl-mode",
            "DISABLED",
        ]
        .map(String::from)
        .to_vec()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn pump(mut from: UnixStream, mut to: TcpStream, shared: &Shared) {
    let plan = shared.plan;
    let marker = plan.marker;
    let mut buf = vec![
        0u8;
        if plan.rate.is_some() {
            1 << 14
        } else {
            1 << 16
        }
    ];
    let mut tail: Vec<u8> = Vec::new();
    let started = Instant::now();
    let mut sent = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        if shared.armed.load(Ordering::Relaxed) {
            // Look across the chunk boundary too.
            let mut window = tail.clone();
            window.extend_from_slice(chunk);
            if let Some(at) = window.windows(marker.len()).position(|w| w == marker) {
                if shared.sightings.fetch_add(1, Ordering::Relaxed) >= plan.skip {
                    shared.armed.store(false, Ordering::Relaxed);
                    let in_chunk = (at + marker.len() / 2)
                        .saturating_sub(tail.len())
                        .min(n - 1);
                    match plan.act {
                        Act::Cut => {
                            let _ = to.write_all(&chunk[..in_chunk]);
                            let _ = to.shutdown(Shutdown::Both);
                            let _ = from.shutdown(Shutdown::Both);
                            return;
                        }
                        Act::Flip => chunk[in_chunk] ^= 0x20,
                        Act::Pass => {}
                    }
                }
                tail.clear();
            } else {
                tail = window[window.len().saturating_sub(marker.len())..].to_vec();
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
        sent += n as u64;
        shared.forwarded.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(rate) = plan.rate {
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
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
    let args = following(proxy.args(), dir.path());
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
    let run = tool(&["fetch", "--dir"])
        .arg(dir.path())
        .args(proxy.args())
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

/// A `--gtid` start is looked up on a connection of its own; when the connection that
/// follows is lost before the first file begins, the next attempt starts at the same file
/// (not at the server's first).
#[test]
fn a_gtid_start_survives_a_lost_connection() {
    let server = Server::start(51, ROW_DEFAULTS);
    let pos = three_files_and_a_gtid(&server);
    // The artificial ROTATE a dump of mariadb-bin.000002 begins with: the lookup's dump
    // sends it first, the copy's dump second, and is cut there.
    let proxy = Proxy::with(
        server.socket.clone(),
        Plan {
            act: Act::Cut,
            marker: b"\x04\0\0\0\0\0\0\0mariadb-bin.000002",
            skip: 1,
            rate: None,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let run = tool(&["fetch", "--gtid", &pos, "--retries", "1", "--dir"])
        .arg(dir.path())
        .args(proxy.args())
        .ok();
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("reconnecting in"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert_same_files(&server, dir.path(), 1);
}

/// SIGTERM while a large event is on its way: fetch stops without waiting for the rest of
/// it, writes none of it, and exits 0; the next run copies it.
#[test]
fn a_signal_during_a_large_event_stops_before_it() {
    let server = Server::start(52, ROW_DEFAULTS);
    setup_tables(&server);
    insert_batch(&server, "pre", 100);
    server.sql("INSERT INTO w.big VALUES (1, REPEAT('s', 64 * 1024 * 1024));");
    insert_batch(&server, "post", 100);
    let file = server.binlogs().pop().unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let log = binlog::Binlog::parse(&bytes).unwrap();
    let big = log
        .events()
        .map(|e| e.unwrap())
        .find(|e| e.raw().len() > 60 << 20)
        .map(|e| e.offset())
        .unwrap();
    // 16 MB/s: the 64 MB event takes four seconds to pass.
    let proxy = Proxy::with(
        server.socket.clone(),
        Plan {
            act: Act::Pass,
            marker: b"-",
            skip: 0,
            rate: Some(16 << 20),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let args = into_dir(proxy.args(), dir.path());
    let fetch = Fetch::start(&args);
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.forwarded.load(Ordering::Relaxed) < big + (8 << 20) {
        assert!(Instant::now() < deadline, "{}", fetch.stderr());
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = Instant::now();
    let (code, out, err) = fetch.terminate();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("stopped by a signal"), "{out}");
    assert!(
        signalled.elapsed() < Duration::from_secs(2),
        "{:?}",
        signalled.elapsed()
    );
    let ours = std::fs::read(dir.path().join(file_name(&file))).unwrap();
    assert_eq!(ours.len() as u64, big);
    assert!(bytes[..ours.len()] == ours[..]);
    let again = into_dir(root_args(&server), dir.path());
    tool(&["fetch"]).args(&again).ok();
    assert_same_files(&server, dir.path(), 0);
}
