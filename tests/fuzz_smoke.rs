//! A small, deterministic stand-in for the fuzz targets that runs on the stable toolchain:
//! every binlog of `fixtures/` (and of `../shared/fixtures` when it is there) is cut short
//! at many points and mutated in a few thousand seeded ways, and each copy goes through
//! the deep walk (`deep_walk::deep_check`) and the transaction grouping; and, as the
//! `values` target does, the public value decoders (row values of every column type,
//! dates and times, DECIMAL, binary JSON, JSON diffs) get arbitrary bytes, and what they
//! decode goes back through the encoders (`deep_walk::check_value_codecs`).
//!
//! Every case runs inside `catch_unwind`; failures are collected with a description of the
//! case (file, cut point or mutations) so that one failing assertion lists them all. A cut
//! that falls inside an event of a file that walks to its end must also be *reported*: the
//! walk stops with at least one problem at or before the cut.
//!
//! The amount of work is bounded (see the constants) so that the whole module runs in
//! seconds in a debug build, and the random choices come from a fixed-seed xorshift. A
//! watchdog turns a case that hangs into an abort that names the case.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use binlog::deep_walk::{check_value_codecs, deep_check};
use binlog::txn::Transactions;
use binlog::Binlog;

use crate::common::{root, shared_fixtures};

/// Files shorter than this are cut at every byte.
const CUT_EVERY_BYTE_BELOW: usize = 4096;
/// Evenly spaced cuts in a longer file (event boundaries ±1 are cut as well).
const EVEN_CUTS: usize = 256;
/// How much work the cuts of one file may take, in bytes walked (a cut at `c` walks `c`
/// bytes); past it the cuts are thinned out evenly. The project's own files under
/// [`CUT_EVERY_BYTE_BELOW`] are exempt: they are cut at every byte whatever it costs (at
/// most 8 MiB walked each).
const PROJECT_CUT_BYTES: u64 = 4 << 20;
/// The same for each file of the shared corpus, which holds about a hundred of them.
const SHARED_CUT_BYTES: u64 = 512 << 10;
/// Mutated copies made of the project's files.
const PROJECT_MUTATIONS: usize = 3000;
/// Mutated copies made of the shared corpus's files.
const SHARED_MUTATIONS: usize = 2000;
/// Files larger than this are not mutated (each mutation walks the whole copy).
const MUTATE_MAX_LEN: usize = 256 * 1024;
/// A case that runs this long is taken to hang (the slowest takes well under a second).
const HANG_AFTER: Duration = Duration::from_secs(60);

/// One binlog to work on.
struct Sample {
    /// Path relative to the fixtures folder it came from, for messages.
    name: String,
    bytes: Vec<u8>,
    /// Offsets where events start and end, from a walk with checksums off.
    boundaries: Vec<usize>,
    /// Whether the whole file walks structurally to its end (no framing error).
    walks_to_end: bool,
}

/// Every file under `dir` (recursively) that starts with the binlog magic, sorted by path.
fn binlogs_under(dir: &Path) -> Vec<Sample> {
    let mut paths = Vec::new();
    collect_files(dir, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            if !bytes.starts_with(b"\xfebin") {
                return None;
            }
            let name = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
            Some(load(name, bytes))
        })
        .collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn load(name: String, bytes: Vec<u8>) -> Sample {
    let mut boundaries = vec![4];
    let mut walks_to_end = false;
    if let Ok(log) = Binlog::parse(&bytes) {
        walks_to_end = true;
        for ev in log.events().verify_checksums(false) {
            match ev {
                Ok(ev) => boundaries.push(ev.end_offset() as usize),
                Err(_) => {
                    walks_to_end = false;
                    break;
                }
            }
        }
    }
    Sample {
        name,
        bytes,
        boundaries,
        walks_to_end,
    }
}

/// xorshift64*: small, fast, and the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Turns a hang into a failure: when one case has run for [`HANG_AFTER`], it prints the
/// case and aborts the test process (a thread stuck in a loop cannot be stopped otherwise,
/// and a hung test would hold CI until its time limit).
struct Watchdog {
    shared: Arc<(Mutex<Watched>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

/// What the watchdog watches: the case running now.
struct Watched {
    /// Incremented for each case.
    serial: u64,
    /// The case, for the message.
    what: String,
    /// Set when the cases are over.
    done: bool,
}

impl Watchdog {
    fn start() -> Watchdog {
        let shared = Arc::new((
            Mutex::new(Watched {
                serial: 0,
                what: String::new(),
                done: false,
            }),
            Condvar::new(),
        ));
        let watched = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let (lock, wake) = &*watched;
            let mut seen = (u64::MAX, Instant::now());
            let mut w = lock.lock().unwrap();
            loop {
                w = wake.wait_timeout(w, HANG_AFTER / 4).unwrap().0;
                if w.done {
                    return;
                }
                if w.serial != seen.0 {
                    seen = (w.serial, Instant::now());
                } else if seen.1.elapsed() >= HANG_AFTER {
                    // Straight to stderr: the test harness's output capture would be
                    // lost with the process.
                    let _ = writeln!(
                        std::io::stderr(),
                        "fuzz_smoke: case still running after {HANG_AFTER:?}: {}",
                        w.what
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog {
            shared,
            thread: Some(thread),
        }
    }

    /// Notes that the case `what` starts now.
    fn case(&self, what: impl FnOnce() -> String) {
        let mut w = self.shared.0.lock().unwrap();
        w.serial += 1;
        w.what = what();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.0.lock().unwrap().done = true;
        self.shared.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one case showed.
struct Outcome {
    /// The deep walk stopped at a framing error.
    stopped: bool,
    /// Offsets of the problems it reported.
    problem_offsets: Vec<u64>,
}

/// Runs the deep walk and the transaction walk over `data`; `Err` with the panic message
/// if anything panicked.
fn run_case(data: &[u8]) -> Result<Outcome, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let report = deep_check(data);
        if let Ok(log) = Binlog::parse(data) {
            // Checksums off, so that a mutated copy is grouped past its damaged event (and
            // because CRC32 in a debug build would be most of this test's time).
            let events = log.events().verify_checksums(false);
            // A group holds at least one event, which holds at least one byte, so a walk
            // that yields more groups than there are bytes has gone wrong.
            let groups = Transactions::new(events).take(data.len() + 2).count();
            assert!(groups <= data.len(), "transaction walk does not end");
            // bigtxn's scan (with its fast row counter) and split's two passes see the
            // same bytes; they must end too, with a result or an error.
            let mut seen = 0usize;
            binlog::txn_stats::scan(&log, |_| seen += 1);
            assert!(seen <= data.len(), "bigtxn scan does not end");
            let _ = binlog::split::split(&log, binlog::split::Limit::Rows(2), std::io::sink());
        }
        Outcome {
            stopped: report.stopped,
            problem_offsets: report.problems.iter().map(|e| e.offset()).collect(),
        }
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic with a non-string payload".into())
    })
}

/// The cut points for one file: every byte of a small file, otherwise evenly spaced cuts
/// and every event boundary ±1. They are thinned out to `budget` bytes walked, except for
/// a small file when `every_byte_if_small`.
fn cut_points(b: &Sample, budget: u64, every_byte_if_small: bool) -> Vec<usize> {
    let len = b.bytes.len();
    let mut cuts: Vec<usize> = if len < CUT_EVERY_BYTE_BELOW {
        (0..len).collect()
    } else {
        let mut c: Vec<usize> = (0..EVEN_CUTS).map(|i| i * len / EVEN_CUTS).collect();
        for &o in &b.boundaries {
            c.extend([o.saturating_sub(1), o, o + 1]);
        }
        c
    };
    cuts.retain(|&c| c < len);
    cuts.sort_unstable();
    cuts.dedup();
    let cost: u64 = cuts.iter().map(|&c| c as u64 + 1).sum();
    let exempt = every_byte_if_small && len < CUT_EVERY_BYTE_BELOW;
    if cost > budget && !exempt {
        // Keep every k-th cut so that the total fits.
        let k = cost.div_ceil(budget) as usize;
        cuts = cuts.into_iter().step_by(k).collect();
    }
    cuts
}

/// Cuts every file at its cut points (see [`cut_points`]); returns the failures.
fn check_truncations(files: &[Sample], budget: u64, every_byte_if_small: bool) -> Vec<String> {
    let mut failures = Vec::new();
    let (mut cases, mut must_report) = (0, 0);
    let watchdog = Watchdog::start();
    for b in files {
        for cut in cut_points(b, budget, every_byte_if_small) {
            cases += 1;
            watchdog.case(|| format!("{} cut at {cut}", b.name));
            let data = &b.bytes[..cut];
            match run_case(data) {
                Err(msg) => failures.push(format!("{}: cut at {cut}: panicked: {msg}", b.name)),
                Ok(out) => {
                    // A cut inside an event of a sound file must be noticed, at or before
                    // the cut: the last event no longer fits.
                    let inside_event = b.boundaries.binary_search(&cut).is_err();
                    if b.walks_to_end && inside_event {
                        must_report += 1;
                        if !out.stopped {
                            failures.push(format!(
                                "{}: cut at {cut} (inside an event): the walk did not stop",
                                b.name
                            ));
                        } else if !out.problem_offsets.iter().any(|&o| o <= cut as u64) {
                            failures.push(format!(
                                "{}: cut at {cut}: no problem at or before the cut (offsets {:?})",
                                b.name, out.problem_offsets
                            ));
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "fuzz_smoke: {cases} truncations of {} files, {must_report} of them inside an event \
         of a file that walks to its end",
        files.len()
    );
    failures
}

/// Applies one random mutation to `data`, describing it in `what`.
fn mutate(rng: &mut Rng, b: &Sample, data: &mut Vec<u8>, what: &mut Vec<String>) {
    // Half the time aim at an event header (the bytes that steer the walk), otherwise
    // anywhere.
    let pos = if rng.below(2) == 0 && !b.boundaries.is_empty() {
        b.boundaries[rng.below(b.boundaries.len())] + rng.below(19)
    } else {
        rng.below(data.len().max(1))
    };
    if data.is_empty() {
        data.push(rng.byte());
        what.push("byte added to empty input".into());
        return;
    }
    let pos = pos.min(data.len() - 1);
    match rng.below(7) {
        0 => {
            let bit = rng.below(8);
            data[pos] ^= 1 << bit;
            what.push(format!("flip bit {bit} at {pos}"));
        }
        1 => {
            data[pos] = 0;
            what.push(format!("0x00 at {pos}"));
        }
        2 => {
            data[pos] = 0xff;
            what.push(format!("0xff at {pos}"));
        }
        3 => {
            let v = rng.byte();
            data[pos] = v;
            what.push(format!("{v:#04x} at {pos}"));
        }
        4 => {
            let n = 1 + rng.below(8);
            let ins: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            what.push(format!("insert {ins:02x?} at {pos}"));
            data.splice(pos..pos, ins);
        }
        5 => {
            let n = (1 + rng.below(8)).min(data.len() - pos);
            data.drain(pos..pos + n);
            what.push(format!("delete {n} bytes at {pos}"));
        }
        _ => {
            // The event length at header offset 9 of some event.
            let ev = b.boundaries[rng.below(b.boundaries.len())];
            let at = ev + 9;
            if at + 4 > data.len() {
                return;
            }
            let old = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
            let new = match rng.below(6) {
                0 => 0,
                1 => old.wrapping_add(1),
                2 => old.wrapping_sub(1),
                3 => u32::MAX,
                4 => rng.below(19) as u32,
                _ => rng.next() as u32,
            };
            data[at..at + 4].copy_from_slice(&new.to_le_bytes());
            what.push(format!("length of event at {ev}: {old} -> {new}"));
        }
    }
}

/// Makes `count` mutated copies, taking the files small enough in turn; returns the
/// failures.
fn check_mutations(files: &[Sample], count: usize) -> Vec<String> {
    let small: Vec<&Sample> = files
        .iter()
        .filter(|b| b.bytes.len() <= MUTATE_MAX_LEN)
        .collect();
    let mut failures = Vec::new();
    if small.is_empty() {
        return failures;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let watchdog = Watchdog::start();
    for i in 0..count {
        let b = small[i % small.len()];
        let mut data = b.bytes.clone();
        let mut what = Vec::new();
        // Usually one mutation, sometimes a few on top of each other.
        let n = if rng.below(4) == 0 {
            2 + rng.below(3)
        } else {
            1
        };
        for _ in 0..n {
            mutate(&mut rng, b, &mut data, &mut what);
        }
        watchdog.case(|| format!("{} mutation #{i}: {}", b.name, what.join("; ")));
        if let Err(msg) = run_case(&data) {
            failures.push(format!(
                "{}: mutation #{i} ({}): panicked: {msg}",
                b.name,
                what.join("; ")
            ));
        }
    }
    eprintln!("fuzz_smoke: {count} mutations of {} files", small.len());
    failures
}

fn assert_none(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn project_binlogs() -> Vec<Sample> {
    let files = binlogs_under(&root().join("fixtures"));
    assert!(
        files.len() >= 10,
        "found only {} binlogs in fixtures/",
        files.len()
    );
    files
}

#[test]
fn truncated_project_fixtures_are_reported() {
    let failures = check_truncations(&project_binlogs(), PROJECT_CUT_BYTES, true);
    assert_none("truncations", failures);
}

#[test]
fn mutated_project_fixtures_do_not_panic() {
    let failures = check_mutations(&project_binlogs(), PROJECT_MUTATIONS);
    assert_none("mutations", failures);
}

#[test]
fn truncated_and_mutated_shared_fixtures() {
    let Some(dir) = shared_fixtures() else { return };
    let files = binlogs_under(&dir);
    let mut failures = check_truncations(&files, SHARED_CUT_BYTES, false);
    failures.extend(check_mutations(&files, SHARED_MUTATIONS));
    assert_none("shared corpus", failures);
}

/// Inputs made for the value decoders.
const VALUE_CASES: usize = 200_000;

/// One input for [`check_value_codecs`]: a type selector, metadata that is usually
/// plausible (small fractional digits, precision and scale, length widths) and sometimes
/// anything, flags, and value bytes of a length near what such values take.
fn value_case(rng: &mut Rng) -> Vec<u8> {
    let selector = if rng.below(8) == 0 {
        rng.byte()
    } else {
        rng.byte() & 0x7f
    };
    let (m0, m1) = match rng.below(4) {
        0 => (rng.byte(), rng.byte()),
        1 => (rng.below(8) as u8, rng.below(8) as u8),
        2 => {
            let precision = 1 + rng.below(65) as u8;
            (
                precision,
                rng.below(usize::from(precision.min(30)) + 1) as u8,
            )
        }
        _ => (1 + rng.below(4) as u8, rng.byte()),
    };
    let mut data = vec![selector, m0, m1, rng.byte() & 3];
    let len = match rng.below(4) {
        0 => rng.below(4),
        1 => rng.below(16),
        2 => rng.below(40),
        _ => rng.below(300),
    };
    for _ in 0..len {
        // Bytes near the edges of their ranges, often.
        data.push(match rng.below(4) {
            0 => 0,
            1 => 0xff,
            2 => 0x80,
            _ => rng.byte(),
        });
    }
    data
}

#[test]
fn value_decoders_take_any_bytes() {
    let mut rng = Rng(0x51_7cc1_b727_220a);
    let mut failures = Vec::new();
    let watchdog = Watchdog::start();
    for i in 0..VALUE_CASES {
        let data = value_case(&mut rng);
        watchdog.case(|| format!("value case #{i}: {data:02x?}"));
        let r = catch_unwind(AssertUnwindSafe(|| check_value_codecs(&data)));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(m)) => failures.push(format!("value case #{i} {data:02x?}: {m}")),
            Err(_) => failures.push(format!("value case #{i} {data:02x?}: panicked")),
        }
        if failures.len() >= 20 {
            break;
        }
    }
    eprintln!("fuzz_smoke: {VALUE_CASES} value decoder inputs");
    assert_none("value decoders", failures);
}
