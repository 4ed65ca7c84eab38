//! `bigtxn`: positions and sizes against independent walks (the fixtures' event listings,
//! a header walk written here), row counts against mariadb-binlog's decoding, the edges
//! (a 100 MB transaction ending a still-open file, a file cut inside it, DDL, XA,
//! compressed events), ranking options and thread-count independence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{fixture, project_binlogs, shared_fixtures, tool};
use crate::server::{Server, ROW_DEFAULTS};

/// One event found by walking 19-byte headers: `(offset, type code, length)`. Written
/// apart from the library on purpose. Stops at the first event that does not fit.
pub fn header_walk(bytes: &[u8]) -> Vec<(u64, u8, u64)> {
    let mut out = Vec::new();
    let mut pos = 4usize;
    // A v1 file (START_V3 of 13 + 56 bytes) uses 13-byte headers.
    let hl = if bytes.len() >= 17
        && bytes[8] == 1
        && u32::from_le_bytes(bytes[13..17].try_into().unwrap()) == 69
    {
        13
    } else {
        19
    };
    while pos + hl <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos + 9..pos + 13].try_into().unwrap()) as usize;
        if len < hl || pos + len > bytes.len() {
            break;
        }
        out.push((pos as u64, bytes[pos + 4], len as u64));
        pos += len;
    }
    out
}

/// Control events: they stand between transactions.
fn is_control(t: u8) -> bool {
    matches!(t, 3 | 4 | 15 | 35 | 161 | 163)
}

/// Runs `bigtxn --format json` with `args`; the transactions sorted by file order and
/// position.
pub fn bigtxn_json(files: &[&Path], args: &[&str]) -> (i32, Vec<Value>, String) {
    let r = tool(&["bigtxn", "--format", "json"])
        .args(args)
        .args(files)
        .run();
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r.code, v.as_array().unwrap().clone(), r.stderr)
}

fn all_transactions(file: &Path) -> (i32, Vec<Value>, String) {
    let (code, mut v, err) = bigtxn_json(&[file], &["--top", "0"]);
    v.sort_by_key(|t| t["start_pos"].as_u64().unwrap());
    (code, v, err)
}

/// Row changes per transaction as `mariadb-binlog -v` decodes them: for each
/// `(start, end)`, `(table, insert|update|delete) -> rows`.
pub fn decoded_rows(file: &Path, spans: &[(u64, u64)]) -> Vec<BTreeMap<(String, String), u64>> {
    let out = Command::new("mariadb-binlog")
        .args(["--base64-output=decode-rows", "-v"])
        .arg(file)
        .output()
        .expect("run mariadb-binlog");
    assert!(out.status.success(), "mariadb-binlog -v {}", file.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut result = vec![BTreeMap::new(); spans.len()];
    let mut at = 0u64;
    for l in text.lines() {
        if let Some(p) = l.strip_prefix("# at ") {
            at = p.trim().parse().unwrap();
            continue;
        }
        let (kind, rest) = if let Some(r) = l.strip_prefix("### INSERT INTO ") {
            ("insert", r)
        } else if let Some(r) = l.strip_prefix("### UPDATE ") {
            ("update", r)
        } else if let Some(r) = l.strip_prefix("### DELETE FROM ") {
            ("delete", r)
        } else {
            continue;
        };
        let table = rest.trim().replace('`', "");
        let i = spans
            .iter()
            .position(|&(s, e)| s <= at && at < e)
            .unwrap_or_else(|| panic!("row change at {at} outside every transaction"));
        *result[i].entry((table, kind.to_string())).or_insert(0) += 1;
    }
    result
}

/// The same per-table counts from bigtxn's JSON.
fn reported_rows(t: &Value) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for tb in t["tables"].as_array().unwrap() {
        let name = format!(
            "{}.{}",
            tb["schema"].as_str().unwrap(),
            tb["table"].as_str().unwrap()
        );
        for (kind, key) in [
            ("insert", "inserted"),
            ("update", "updated"),
            ("delete", "deleted"),
        ] {
            let n = tb[key].as_u64().unwrap();
            if n > 0 {
                m.insert((name.clone(), kind.to_string()), n);
            }
        }
        assert_eq!(
            tb["rows"].as_u64().unwrap(),
            tb["inserted"].as_u64().unwrap()
                + tb["updated"].as_u64().unwrap()
                + tb["deleted"].as_u64().unwrap()
        );
    }
    m
}

/// Transactions of a MariaDB binlog by an independent rule: each starts at a GTID event
/// and runs to the last event before the next GTID or control event.
fn expected_spans(events: &[(u64, u8, u64)]) -> Vec<(u64, u64, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < events.len() {
        if events[i].1 != 162 {
            i += 1;
            continue;
        }
        let start = events[i].0;
        let mut j = i + 1;
        while j < events.len() && events[j].1 != 162 && !is_control(events[j].1) {
            j += 1;
        }
        let last = events[j - 1];
        out.push((start, last.0 + last.2, j - i));
        i = j;
    }
    out
}

#[test]
fn positions_and_sizes_agree_with_the_fixture_listings() {
    for path in project_binlogs() {
        let bytes = std::fs::read(&path).unwrap();
        let events = header_walk(&bytes);
        // The generator's own listing and our header walk agree first.
        let tsv = std::fs::read_to_string(format!("{}.events.tsv", path.display())).unwrap();
        let listed: Vec<u64> = tsv
            .lines()
            .skip(1)
            .filter(|l| !l.contains("TRUNCATED"))
            .map(|l| l.split('\t').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            listed,
            events.iter().map(|e| e.0).collect::<Vec<_>>(),
            "{}",
            path.display()
        );

        let (code, txns, stderr) = all_transactions(&path);
        let want = expected_spans(&events);
        let got: Vec<(u64, u64, usize)> = txns
            .iter()
            .map(|t| {
                let (s, e) = (
                    t["start_pos"].as_u64().unwrap(),
                    t["end_pos"].as_u64().unwrap(),
                );
                assert_eq!(t["bytes"].as_u64().unwrap(), e - s);
                (s, e, t["events"].as_u64().unwrap() as usize)
            })
            .collect();
        assert_eq!(got, want, "{}", path.display());
        let truncated = path.ends_with("truncated.bin");
        assert_eq!(code, if truncated { 1 } else { 0 }, "{stderr}");
        for t in &txns {
            let complete = t["complete"].as_bool().unwrap();
            let last = t["end_pos"].as_u64().unwrap()
                == events.last().unwrap().0 + events.last().unwrap().2;
            assert_eq!(complete, !(truncated && last), "{t}");
            assert_eq!(t["end"] == "incomplete", !complete);
        }
        if truncated {
            assert!(stderr.contains("stopped at offset 1922"), "{stderr}");
        }
    }
}

#[test]
fn row_counts_agree_with_mariadb_binlog() {
    let mut files: Vec<PathBuf> = project_binlogs()
        .into_iter()
        .filter(|p| {
            // mariadb-binlog -v cannot decode the old temporal columns of row_full and
            // row_minimal (see fixtures/README.md), and truncated.bin is cut.
            let s = p.to_string_lossy();
            !(s.contains("row_full") || s.contains("row_minimal") || s.ends_with("truncated.bin"))
        })
        .collect();
    if let Some(shared) = shared_fixtures() {
        let dir = shared.join("local-mariadb-10.11.19-generated");
        for sub in [
            "row_full",
            "row_compressed",
            "row_minimal_image",
            "mixed_compressed",
        ] {
            for n in 1..=2 {
                files.push(dir.join(sub).join(format!("mariadb-bin.00000{n}")));
            }
        }
    }
    let mut total = 0;
    for path in files {
        let (code, txns, stderr) = all_transactions(&path);
        assert_eq!(code, 0, "{stderr}");
        let spans: Vec<(u64, u64)> = txns
            .iter()
            .map(|t| {
                (
                    t["start_pos"].as_u64().unwrap(),
                    t["end_pos"].as_u64().unwrap(),
                )
            })
            .collect();
        let decoded = decoded_rows(&path, &spans);
        for (t, want) in txns.iter().zip(decoded) {
            assert_eq!(reported_rows(t), want, "{} {t}", path.display());
            assert_eq!(
                t["rows"].as_u64().unwrap(),
                want.values().sum::<u64>(),
                "{t}"
            );
            total += t["rows"].as_u64().unwrap();
        }
    }
    assert!(total > 200, "too few rows compared: {total}");
}

#[test]
fn known_transactions_ddl_xa_and_compression() {
    let f = fixture("row_full/mariadb-bin.000002");
    let (code, txns, stderr) = all_transactions(&f);
    assert_eq!(code, 0);
    // The old-format temporal table cannot be sized from the binlog: said, not guessed.
    assert!(stderr.contains("could not be counted"), "{stderr}");
    assert!(txns.iter().any(|t| t["uncounted_rows_events"] == 1));

    let bulk = txns
        .iter()
        .find(|t| t["tables"].as_array().unwrap().len() == 2)
        .expect("the t_bulk transaction");
    assert_eq!(bulk["rows"], 321);
    assert_eq!(bulk["gtid"], "0-1-93");
    assert_eq!(bulk["kind"], "dml");
    assert_eq!(bulk["end"], "xid");
    let tables = reported_rows(bulk);
    assert_eq!(tables[&("fx.t_bulk".into(), "insert".into())], 300);
    assert_eq!(tables[&("fx.t_bulk".into(), "update".into())], 10);
    assert_eq!(tables[&("fx.t_bulk".into(), "delete".into())], 10);
    assert_eq!(tables[&("fx.t_int".into(), "update".into())], 1);

    let kinds: Vec<&str> = txns.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "xa_prepare").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "xa_end").count(), 1);
    let xa = txns.iter().find(|t| t["kind"] == "xa_prepare").unwrap();
    assert_eq!(xa["end"], "xa_prepare");
    assert!(xa["rows"].as_u64().unwrap() > 0);
    let ddl: Vec<&Value> = txns.iter().filter(|t| t["kind"] == "ddl").collect();
    assert!(ddl.len() >= 5, "{}", ddl.len());
    for t in ddl {
        assert_eq!(t["rows"], 0);
        assert_eq!(t["end"], "statement");
        assert_eq!(t["statements"], 1);
    }
    // MyISAM changes end with a COMMIT query.
    assert!(txns.iter().any(|t| t["end"] == "commit"));

    // MariaDB compressed events: both sizes.
    let (_, txns, _) = all_transactions(&fixture("row_compressed/mariadb-bin.000001"));
    let big = txns.iter().find(|t| t["rows"] == 100).unwrap();
    assert_eq!(big["compressed"], true);
    assert_eq!(big["compressed_bytes"], big["bytes"]);
    assert!(big["uncompressed_bytes"].as_u64().unwrap() > 5 * big["bytes"].as_u64().unwrap());
    let plain = txns.iter().find(|t| t["compressed"] == false).unwrap();
    assert_eq!(plain["compressed_bytes"], Value::Null);
    assert_eq!(plain["uncompressed_bytes"], plain["bytes"]);
}

#[test]
fn shared_corpus_agrees_with_a_header_walk() {
    let Some(dir) = shared_fixtures() else {
        return;
    };
    let mut mysql8 = 0;
    let mut payloads = 0;
    for row in crate::common::manifest(&dir) {
        let bytes = std::fs::read(&row.path).unwrap();
        let events = header_walk(&bytes);
        let (code, txns, stderr) = all_transactions(&row.path);
        assert!(code == 0 || code == 1, "{}: {stderr}", row.rel);
        let bounds: std::collections::HashSet<u64> =
            events.iter().flat_map(|e| [e.0, e.0 + e.2]).collect();
        let mut prev_end = 0;
        let starts: std::collections::HashSet<u64> = txns
            .iter()
            .map(|t| t["start_pos"].as_u64().unwrap())
            .collect();
        let encrypted = row.rel.contains("encrypted");
        for e in &events {
            if matches!(e.1, 33 | 34 | 42 | 162) && !encrypted {
                assert!(
                    starts.contains(&e.0),
                    "{}: GTID at {} starts no transaction",
                    row.rel,
                    e.0
                );
            }
        }
        for t in &txns {
            let (s, e) = (
                t["start_pos"].as_u64().unwrap(),
                t["end_pos"].as_u64().unwrap(),
            );
            assert!(
                bounds.contains(&s) && bounds.contains(&e),
                "{}: {t}",
                row.rel
            );
            assert!(s >= prev_end && e > s, "{}: {t}", row.rel);
            prev_end = e;
            let n = events.iter().filter(|x| s <= x.0 && x.0 < e).count();
            assert_eq!(
                t["events"].as_u64().unwrap() as usize,
                n,
                "{}: {t}",
                row.rel
            );
            if let Some(len) = t["transaction_length"].as_u64() {
                // MySQL 8 announces the transaction's length in its GTID event.
                assert_eq!(len, e - s, "{}: {t}", row.rel);
                mysql8 += 1;
                assert!(t["immediate_commit_ts"].as_u64().is_some());
                assert!(t["original_commit_ts"].as_u64().is_some());
            }
            if t["payload_events"].as_u64().unwrap() > 0 {
                payloads += 1;
                assert_eq!(t["compressed"], true);
                assert!(t["rows"].as_u64().unwrap() > 0, "{}: {t}", row.rel);
            }
        }
    }
    assert!(mysql8 > 10, "{mysql8}");
    assert!(payloads >= 2, "{payloads}");
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let mut files = project_binlogs();
    if let Some(shared) = shared_fixtures() {
        for row in crate::common::manifest(&shared).into_iter().take(40) {
            files.push(row.path);
        }
    }
    for args in [
        &["--top", "0", "--format", "json"][..],
        &["--top", "7", "--by", "rows"],
        &["--top", "5", "--by", "duration", "--format", "json"],
        &["--top", "12", "--min-bytes", "1K"],
    ] {
        let run = |threads: &str| {
            tool(&["bigtxn"])
                .args(args)
                .args(&files)
                .env("RAYON_NUM_THREADS", threads)
                .run()
        };
        let one = run("1");
        let four = run("4");
        assert_eq!(one.code, four.code);
        assert!(!one.stdout.is_empty());
        assert_eq!(one.stdout, four.stdout, "{args:?}");
    }
}

#[test]
fn ranking_and_filters() {
    let files = [
        fixture("row_full/mariadb-bin.000001"),
        fixture("row_full/mariadb-bin.000002"),
        fixture("row_compressed/mariadb-bin.000002"),
    ];
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (_, all, _) = bigtxn_json(&paths, &["--top", "0"]);
    let (_, top, _) = bigtxn_json(&paths, &["--top", "3"]);
    assert_eq!(top.len(), 3);
    let mut sizes: Vec<u64> = all.iter().map(|t| t["bytes"].as_u64().unwrap()).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<u64> = top.iter().map(|t| t["bytes"].as_u64().unwrap()).collect();
    assert_eq!(got, sizes[..3]);
    assert_eq!(
        top.iter()
            .map(|t| t["rank"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // The 136 KB single-row transaction leads by bytes; the 321-row one by rows.
    assert_eq!(top[0]["rows"], 1);
    let (_, by_rows, _) = bigtxn_json(&paths, &["--top", "1", "--by", "rows"]);
    assert_eq!(by_rows[0]["rows"], 321);

    let (_, big, _) = bigtxn_json(&paths, &["--top", "0", "--min-bytes", "30K"]);
    assert_eq!(big.len(), 2);
    let (_, many, _) = bigtxn_json(&paths, &["--top", "0", "--min-rows", "100"]);
    assert!(many.iter().all(|t| t["rows"].as_u64().unwrap() >= 100));
    assert_eq!(
        many.len(),
        all.iter()
            .filter(|t| t["rows"].as_u64().unwrap() >= 100)
            .count()
    );

    // Ties are ranked by file order, then position.
    let (_, dur, _) = bigtxn_json(&paths, &["--top", "0", "--by", "duration"]);
    for w in dur.windows(2) {
        let key = |t: &Value| {
            (
                std::cmp::Reverse(t["duration"].as_i64().unwrap()),
                files
                    .iter()
                    .position(|f| f.display().to_string() == t["file"])
                    .unwrap(),
                t["start_pos"].as_u64().unwrap(),
            )
        };
        assert!(key(&w[0]) < key(&w[1]), "{} / {}", w[0], w[1]);
    }

    let t = tool(&["bigtxn", "--top", "2"]).args(&files).ok();
    assert!(
        t.stdout
            .contains(" transactions in 3 file(s); the top 2 by bytes"),
        "{}",
        t.stdout
    );
    assert!(t.stdout.contains("#1  "), "{}", t.stdout);
    assert!(
        t.stdout.contains("table fx.t_text: 1 inserted"),
        "{}",
        t.stdout
    );

    let bad = tool(&["bigtxn", "--min-bytes", "12Q"]).arg(&files[0]).run();
    assert_eq!(bad.code, 2);
    let missing = tool(&["bigtxn"]).arg("/nonexistent/binlog").run();
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("/nonexistent/binlog"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.stderr.lines().count(), 1);
}

/// Rows of the big transaction, and the size of its wide column.
const BIG_ROWS: u64 = 105_000;
const PAD: usize = 1000;

/// Peak anonymous memory (kB) of a child process, sampled while it runs.
fn peak_anon_kb(mut cmd: Command) -> (std::process::ExitStatus, u64) {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            for l in s.lines() {
                if let Some(v) = l.strip_prefix("RssAnon:") {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kb);
                }
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st, peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_100_mb_transaction_ending_an_open_file_and_a_copy_cut_inside_it() {
    let server = Server::start(31, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE big; USE big;
         CREATE TABLE t (id INT PRIMARY KEY, k INT, pad VARCHAR(2000)) ENGINE=InnoDB;
         CREATE TABLE small (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
         INSERT INTO small SELECT seq, seq FROM seq_1_to_100;
         UPDATE small SET v = v + 1 WHERE id <= 10;",
    );
    let (_, before) = server.master_status();
    server.sql(&format!(
        "USE big; INSERT INTO t SELECT seq, seq % 97, REPEAT(CHAR(65 + seq % 26), {PAD}) FROM seq_1_to_{BIG_ROWS};"
    ));
    let (name, after) = server.master_status();
    // Copy the file as it is while the server has it open: it ends with the COMMIT (XID)
    // of the big transaction, nothing after it.
    let work = tempfile::tempdir().unwrap();
    let open = work.path().join("open.000001");
    let live = std::fs::read(server.binlog_dir.join(&name)).unwrap();
    std::fs::write(&open, &live[..after as usize]).unwrap();
    drop(live);
    let bytes = std::fs::read(&open).unwrap();
    assert_eq!(
        bytes[4 + 17] & 1,
        1,
        "the FDE still says the file is in use"
    );
    let events = header_walk(&bytes);
    let last = *events.last().unwrap();
    assert_eq!(last.0 + last.2, after);
    assert_eq!(last.1, 16, "the file ends with the XID");
    let gtid = events.iter().rev().find(|e| e.1 == 162).unwrap().0;
    assert_eq!(gtid, before);
    let n_events = events.iter().filter(|e| e.0 >= gtid).count() as u64;

    let (code, top, stderr) = bigtxn_json(&[&open], &["--top", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let t = &top[0];
    assert_eq!(t["start_pos"], before);
    assert_eq!(t["end_pos"], after);
    assert_eq!(t["bytes"], after - before);
    assert!(after - before > 100 << 20, "{}", after - before);
    assert_eq!(t["events"], n_events);
    assert_eq!(t["rows"], BIG_ROWS);
    assert_eq!(t["end"], "xid");
    assert_eq!(t["complete"], true);
    assert_eq!(t["kind"], "dml");
    assert!(t["gtid"].as_str().unwrap().starts_with("0-31-"));
    let tables = reported_rows(t);
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[&("big.t".into(), "insert".into())], BIG_ROWS);
    let (_, by_rows, _) = bigtxn_json(&[&open], &["--top", "2", "--by", "rows"]);
    assert_eq!(by_rows[0]["rows"], BIG_ROWS);
    assert_eq!(by_rows[1]["rows"], 100);

    // Cut in the middle of the big transaction: reported as incomplete, up to the last
    // whole event, and the exit status says the file is damaged.
    let cut_at = before + (after - before) / 2;
    let truncated = work.path().join("cut.000001");
    std::fs::write(&truncated, &bytes[..cut_at as usize]).unwrap();
    let last_whole = events
        .iter()
        .filter(|e| e.0 + e.2 <= cut_at)
        .map(|e| e.0 + e.2)
        .max()
        .unwrap();
    let (code, top, stderr) = bigtxn_json(&[&truncated], &["--top", "1"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("stopped at offset {last_whole}")),
        "{stderr}"
    );
    let t = &top[0];
    assert_eq!(t["start_pos"], before);
    assert_eq!(t["end_pos"], last_whole);
    assert_eq!(t["complete"], false);
    assert_eq!(t["end"], "incomplete");
    let rows = t["rows"].as_u64().unwrap();
    assert!(rows > BIG_ROWS / 3 && rows < BIG_ROWS, "{rows}");
    // Both files at once, in either order: the same ranking.
    let (_, a, _) = bigtxn_json(&[&open, &truncated], &["--top", "0"]);
    let (_, b, _) = bigtxn_json(&[&truncated, &open], &["--top", "0"]);
    assert_eq!(a.len(), b.len());
    assert_eq!(a[0]["file"], open.display().to_string());
    assert_eq!(b[0]["file"], open.display().to_string());

    // split holds no more than a rows event in memory: a copy of the transaction would
    // show up as 100 MB of anonymous memory.
    let out = work.path().join("split.000001");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_binlog-tool"));
    cmd.args(["split", "--max-bytes", "8M", "-o"])
        .arg(&out)
        .arg(&open);
    let (status, peak_kb) = peak_anon_kb(cmd);
    assert!(status.success());
    assert!(
        peak_kb < 48 * 1024,
        "split used {peak_kb} kB of anonymous memory"
    );
    let (_, pieces, _) = bigtxn_json(&[&out], &["--top", "0", "--min-rows", "1"]);
    let total: u64 = pieces.iter().map(|t| t["rows"].as_u64().unwrap()).sum();
    assert_eq!(total, BIG_ROWS + 100 + 10);
    assert!(pieces.len() >= 13, "{}", pieces.len());
    assert!(pieces
        .iter()
        .all(|t| t["bytes"].as_u64().unwrap() <= 8 << 20));
    assert!(pieces.iter().all(|t| t["complete"] == true));

    // split of the cut copy writes its complete transactions (all before the big one),
    // says where the file is cut, and exits with status 1; no temporary file is left.
    let part = work.path().join("part.000001");
    let r = tool(&["split", "--max-bytes", "8M", "-o"])
        .arg(&part)
        .arg(&truncated)
        .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("cut.000001")
            && r.stderr
                .contains(&format!("the transaction at {before} is incomplete")),
        "{}",
        r.stderr
    );
    let (code, written, stderr) = bigtxn_json(&[&part], &["--top", "0"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!written.is_empty());
    assert!(written
        .iter()
        .all(|t| t["complete"] == true && t["end_pos"].as_u64().unwrap() <= before));
    let left: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn quick_row_count_agrees_with_the_reference_walk() {
    use binlog::event::rows::RowsKind;
    use binlog::row::count::{CountScratch, RowLayout};
    use binlog::row::table_cache::TableCache;
    use binlog::txn_stats::count_rows;
    use binlog::{Binlog, EventData};

    let mut files = project_binlogs();
    if let Some(shared) = shared_fixtures() {
        files.extend(crate::common::manifest(&shared).into_iter().map(|r| r.path));
    }
    let (mut compared, mut quick) = (0, 0);
    let mut scratch = CountScratch::default();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(log) = Binlog::parse(&bytes) else {
            continue;
        };
        let mut tables = TableCache::new();
        let mut events = log.events().verify_checksums(false);
        while let Some(Ok(ev)) = events.next() {
            match ev.decode(events.format()) {
                Ok(EventData::TableMap(tm)) => {
                    tables.insert(&tm, ev.body());
                }
                Ok(EventData::Rows(re)) => {
                    let (Some(t), Ok(data)) = (tables.get(re.table_id), re.rows_data()) else {
                        continue;
                    };
                    let Ok(info) = &t.info else { continue };
                    let reference = count_rows(&re, &data, info);
                    let fast = RowLayout::new(info).count(&re, &data, &mut scratch);
                    compared += 1;
                    match (&reference, fast) {
                        (Ok(a), Some(b)) => {
                            assert_eq!(*a, b, "{} at {}", path.display(), ev.offset());
                            quick += 1;
                        }
                        (Ok(_), None) => assert_eq!(
                            re.kind,
                            RowsKind::PartialUpdate,
                            "{} at {}: the quick walk gave up on a readable event",
                            path.display(),
                            ev.offset()
                        ),
                        (Err(_), Some(b)) => panic!(
                            "{} at {}: quick count {b} where the reference fails",
                            path.display(),
                            ev.offset()
                        ),
                        (Err(_), None) => {}
                    }
                    // Through the cache, the same answer either way.
                    assert_eq!(t.count_rows(&re, &data, &mut scratch).ok(), reference.ok());
                }
                _ => {}
            }
        }
    }
    assert!(
        compared > 500 && quick * 10 > compared * 9,
        "{quick}/{compared}"
    );
}

#[test]
fn statistics_of_a_transaction_walked_again_match_the_one_pass_scan() {
    use binlog::txn::{Group, Transactions};
    use binlog::txn_stats::{scan, Scanner, TxnStats};
    use binlog::Binlog;

    for path in [
        fixture("row_full/mariadb-bin.000002"),
        fixture("row_compressed/mariadb-bin.000001"),
    ] {
        let bytes = std::fs::read(&path).unwrap();
        let log = Binlog::parse(&bytes).unwrap();
        let mut one_pass = Vec::new();
        scan(&log, |s| one_pass.push(s.clone()));
        let mut scanner = Scanner::new();
        let mut again = Vec::new();
        for g in Transactions::new(log.events()) {
            if let Group::Transaction(t) = g.unwrap() {
                let mut s = TxnStats::default();
                scanner.transaction(&bytes, &t, &mut s);
                again.push(s);
            }
        }
        let key = |s: &TxnStats| {
            (
                s.start,
                s.end,
                s.events,
                s.rows,
                s.uncompressed_bytes,
                s.tables.clone(),
                s.kind_name(),
                s.end_name(),
            )
        };
        assert_eq!(
            one_pass.iter().map(key).collect::<Vec<_>>(),
            again.iter().map(key).collect::<Vec<_>>()
        );
    }
}

#[test]
fn json_keys_are_the_documented_ones() {
    let (_, v, _) = bigtxn_json(
        &[&fixture("row_compressed/mariadb-bin.000001")],
        &["--top", "1"],
    );
    let keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let help = tool(&["bigtxn", "--help"]).ok().stdout;
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let documented = help
        .split("objects with these keys: ")
        .nth(1)
        .unwrap()
        .split(". Exit status")
        .next()
        .unwrap()
        .to_string();
    let mut want = Vec::new();
    let mut depth = 0;
    for part in documented.split(", ") {
        let name = part.split([' ', '(']).next().unwrap();
        if depth == 0 {
            want.push(name.to_string());
        }
        depth += part.matches('(').count();
        depth -= part.matches(')').count();
    }
    assert_eq!(keys, want);
    let table_keys: Vec<&str> = v[0]["tables"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        table_keys,
        ["schema", "table", "inserted", "updated", "deleted", "rows"]
    );
}
