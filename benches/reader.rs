//! Reader throughput, in bytes of binlog per second.
//!
//! Four walks, from cheapest to most expensive:
//!
//! - `header_walk`: `events().verify_checksums(false)`, counting events: lengths only.
//! - `crc32_walk`: `events()`: the same plus the CRC32 of every event.
//! - `deep_check`: `binlog::deep_walk::deep_check`: every event decoded, every row value of
//!   every rows event decoded (what `verify --rows` does).
//! - `transactions`: `binlog::txn::Transactions` over a header walk (no CRC), so that
//!   `transactions - header_walk` is the cost of grouping itself.
//!
//! Inputs: a few of the project's fixtures (small: they mostly measure per-event costs
//! with a hot cache) and, when `BINLOG_BENCH_FILE` names a file, that file, memory-mapped
//! with `BinlogFile` like the CLI does (make one with `benches/gen-big-binlog.sh`).
//!
//! ```text
//! cargo bench --bench reader                          # fixtures, about 1 minute
//! cargo bench --bench reader -- deep_check            # one walk only
//! BINLOG_BENCH_FILE=/tmp/bigbinlog/mariadb-bin.000001 cargo bench --bench reader -- big
//! ```
//!
//! Every benchmark checks the result of its walk (a walk that stops at an error would
//! measure nothing useful) and the first time prints what it found to stderr.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use binlog::deep_walk::deep_check;
use binlog::txn::{Group, Transactions};
use binlog::{Binlog, BinlogFile};
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};

/// Fixtures used as inputs, relative to `fixtures/`: the largest row-based files (full and
/// minimal row images), one with compressed rows events, and a statement-based one.
const FIXTURES: &[&str] = &[
    "row_full/mariadb-bin.000001",
    "row_full/mariadb-bin.000002",
    "row_minimal/mariadb-bin.000001",
    "row_compressed/mariadb-bin.000002",
    "statement/mariadb-bin.000001",
];

/// One input file, mapped.
struct Input {
    /// Benchmark parameter name: `row_full/000001`, or `big` for `BINLOG_BENCH_FILE`.
    name: String,
    file: BinlogFile,
    big: bool,
}

fn inputs() -> Vec<Input> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut v: Vec<Input> = FIXTURES
        .iter()
        .map(|rel| {
            let path = dir.join(rel);
            let file = BinlogFile::open(&path)
                .unwrap_or_else(|e| panic!("cannot open fixture {}: {e}", path.display()));
            Input {
                name: rel.replace("mariadb-bin.", ""),
                file,
                big: false,
            }
        })
        .collect();
    if let Some(p) = std::env::var_os("BINLOG_BENCH_FILE") {
        let path = PathBuf::from(p);
        let file = BinlogFile::open(&path)
            .unwrap_or_else(|e| panic!("BINLOG_BENCH_FILE={}: {e}", path.display()));
        v.push(Input {
            name: "big".into(),
            file,
            big: true,
        });
    }
    v
}

/// Prints `what` for (`walk`, `input`) the first time only.
fn note(walk: &str, input: &str, what: impl FnOnce() -> String) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!("{walk}/{input}");
    let mut seen = SEEN.lock().unwrap();
    if seen.get_or_insert_with(HashSet::new).insert(key.clone()) {
        eprintln!("  [{key}] {}", what());
    }
}

fn parse(data: &[u8]) -> Binlog<'_> {
    Binlog::parse(data).unwrap_or_else(|e| panic!("not a binlog: {e}"))
}

/// (a) Header walk: lengths only.
fn header_walk(data: &[u8]) -> u64 {
    let log = parse(data);
    let mut n = 0u64;
    for ev in log.events().verify_checksums(false) {
        if let Err(e) = ev {
            panic!("header walk failed: {e}");
        }
        n += 1;
    }
    n
}

/// (b) Walk with CRC32 verification of every event.
fn crc32_walk(data: &[u8]) -> u64 {
    let log = parse(data);
    let mut n = 0u64;
    for ev in log.events() {
        if let Err(e) = ev {
            panic!("CRC32 walk failed: {e}");
        }
        n += 1;
    }
    n
}

/// (d) Transaction grouping: number of groups and bytes in transactions.
fn transactions(data: &[u8]) -> (u64, u64, u64) {
    let log = parse(data);
    let (mut groups, mut txn_bytes, mut biggest) = (0u64, 0u64, 0u64);
    for g in Transactions::new(log.events().verify_checksums(false)) {
        match g {
            Ok(Group::Transaction(t)) => {
                txn_bytes += t.len();
                biggest = biggest.max(t.len());
            }
            Ok(Group::Control(_)) => {}
            Err(e) => panic!("transaction walk failed: {e}"),
        }
        groups += 1;
    }
    (groups, txn_bytes, biggest)
}

/// Sets the group's sampling for an input: quick for the fixtures, few flat samples for
/// a big file (one iteration of a deep check of 1 GiB takes seconds).
fn configure(g: &mut BenchmarkGroup<'_, WallTime>, input: &Input) {
    g.throughput(Throughput::Bytes(input.file.bytes().len() as u64));
    if input.big {
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(10));
    } else {
        g.sample_size(30)
            .sampling_mode(SamplingMode::Auto)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
    }
}

fn benches(c: &mut Criterion) {
    let inputs = inputs();

    let mut g = c.benchmark_group("header_walk");
    for input in &inputs {
        configure(&mut g, input);
        g.bench_with_input(&input.name, input.file.bytes(), |b, data| {
            note("header_walk", &input.name, || {
                format!("{} events", header_walk(data))
            });
            b.iter(|| header_walk(black_box(data)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("crc32_walk");
    for input in &inputs {
        configure(&mut g, input);
        g.bench_with_input(&input.name, input.file.bytes(), |b, data| {
            note("crc32_walk", &input.name, || {
                format!("{} events", crc32_walk(data))
            });
            b.iter(|| crc32_walk(black_box(data)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("deep_check");
    for input in &inputs {
        configure(&mut g, input);
        g.bench_with_input(&input.name, input.file.bytes(), |b, data| {
            note("deep_check", &input.name, || {
                let r = deep_check(data);
                let mut s = format!(
                    "{} events, {} rows, {} values, {} problems{}",
                    r.events,
                    r.rows,
                    r.values,
                    r.problems.len(),
                    if r.stopped {
                        " (STOPPED EARLY: throughput is not meaningful)"
                    } else {
                        ""
                    }
                );
                if let Some(p) = r.problems.first() {
                    s.push_str(&format!("; first: {p}"));
                }
                s
            });
            b.iter(|| {
                let r = deep_check(black_box(data));
                black_box((r.events, r.rows, r.values))
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("transactions");
    for input in &inputs {
        configure(&mut g, input);
        g.bench_with_input(&input.name, input.file.bytes(), |b, data| {
            note("transactions", &input.name, || {
                let (groups, bytes, biggest) = transactions(data);
                format!("{groups} groups, {bytes} bytes in transactions, biggest {biggest}")
            });
            b.iter(|| transactions(black_box(data)))
        });
    }
    g.finish();
}

criterion_group!(reader, benches);
criterion_main!(reader);
