//! `split`: the pieces are well formed and within the limit, lose no row and change no
//! row image (fixtures, through the library and mariadb-binlog), apply to a real MariaDB
//! server with the same result as the original, and what cannot be split is refused
//! with nothing left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use binlog::event::rows::STMT_END_F;
use binlog::split::{split, Limit, SplitReport};
use binlog::txn::{Group, Transactions};
use binlog::txn_stats::{scan, TxnStats};
use binlog::{Binlog, EventData, EventType};

use crate::bigtxn::bigtxn_json;
use crate::common::{fixture, shared_fixtures, tool};
use crate::server::{Server, ROW_DEFAULTS};

/// Every transaction's statistics.
fn stats(bytes: &[u8]) -> Vec<TxnStats> {
    let log = Binlog::parse(bytes).unwrap();
    let mut v = Vec::new();
    let end = scan(&log, |s| v.push(s.clone()));
    assert!(end.error.is_none(), "{:?}", end.error);
    v
}

/// Rows per `(table, kind)` over a whole file.
fn row_totals(all: &[TxnStats]) -> BTreeMap<(String, &'static str), u64> {
    let mut m = BTreeMap::new();
    for s in all {
        for t in &s.tables {
            for (kind, n) in [("i", t.inserted), ("u", t.updated), ("d", t.deleted)] {
                *m.entry((t.name.to_string(), kind)).or_insert(0) += n;
            }
        }
    }
    m
}

/// mariadb-binlog's decoding of the row images (`###` lines), which must come out the
/// same after a split; also checks that mariadb-binlog reads the file without complaint.
fn decoded_images(file: &Path) -> String {
    let out = Command::new("mariadb-binlog")
        .args(["--base64-output=decode-rows", "-vv"])
        .arg(file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "{}: {err}",
        file.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("###"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks the shape of the pieces of a split output (the transactions starting at
/// `starts`): no GTID, BEGIN first, XID or COMMIT last, STMT_END_F on the last rows event,
/// every rows event after its TABLE_MAP.
fn check_pieces(bytes: &[u8], starts: &[u64]) -> usize {
    let log = Binlog::parse(bytes).unwrap();
    let mut pieces = 0;
    for g in Transactions::new(log.events()) {
        let Group::Transaction(t) = g.unwrap() else {
            continue;
        };
        assert!(t.is_complete());
        if !starts.contains(&t.start) {
            continue;
        }
        assert!(t.gtid.is_none());
        pieces += 1;
        let evs: Vec<_> = t.events(bytes).map(|e| e.unwrap()).collect();
        match evs[0].decode(&t.format).unwrap() {
            EventData::Query(q) => assert!(q.is_begin(), "piece at {} starts with {q:?}", t.start),
            other => panic!("piece at {} starts with {other:?}", t.start),
        }
        let last = evs.last().unwrap();
        assert!(
            matches!(last.event_type(), EventType::XID | EventType::QUERY),
            "piece at {} ends with {:?}",
            t.start,
            last.event_type()
        );
        let last_rows = evs.iter().rev().find(|e| e.event_type().is_rows()).unwrap();
        match last_rows.decode(&t.format).unwrap() {
            EventData::Rows(r) => assert!(r.flags & STMT_END_F != 0, "at {}", last_rows.offset()),
            _ => unreachable!(),
        }
        // Every rows event is preceded by its TABLE_MAP within the piece.
        let mut mapped = std::collections::HashSet::new();
        for e in &evs {
            match e.decode(&t.format).unwrap() {
                EventData::TableMap(tm) => {
                    mapped.insert(tm.table_id);
                }
                EventData::Rows(r) => assert!(mapped.contains(&r.table_id), "at {}", e.offset()),
                _ => {}
            }
        }
    }
    pieces
}

/// Splits through the library and checks what can be checked without a server.
fn split_and_check(src: &Path, limit: Limit) -> (Vec<u8>, SplitReport) {
    let bytes = std::fs::read(src).unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    let (out, report) = split(&log, limit, Vec::new()).unwrap();
    // Checksums and positions hold: a verifying walk reads every event.
    let out_log = Binlog::parse(&out).unwrap();
    let mut pos = 4;
    for ev in out_log.events() {
        let ev = ev.unwrap();
        assert_eq!(ev.offset(), pos);
        assert_eq!(u64::from(ev.header().log_pos), ev.end_offset());
        pos = ev.end_offset();
    }
    assert_eq!(pos, out.len() as u64);
    // The FDE is the source's, but for the in-use flag.
    let fde_len = u32::from_le_bytes(bytes[13..17].try_into().unwrap()) as usize;
    let (mut a, mut b) = (out[..4 + fde_len].to_vec(), bytes[..4 + fde_len].to_vec());
    a[4 + 17] &= !1;
    b[4 + 17] &= !1;
    assert_eq!(a, b);

    let before = stats(&bytes);
    let after = stats(&out);
    assert_eq!(row_totals(&before), row_totals(&after), "{}", src.display());
    for s in &after {
        match limit {
            Limit::Bytes(b) => assert!(s.bytes() <= b, "{} bytes at {}", s.bytes(), s.start),
            Limit::Rows(n) => assert!(s.rows <= n, "{} rows at {}", s.rows, s.start),
        }
    }
    let starts: Vec<u64> = report
        .split
        .iter()
        .flat_map(|t| t.pieces.iter().map(|p| p.out_start))
        .collect();
    assert_eq!(check_pieces(&out, &starts), starts.len());
    let pieces = starts.len();
    assert_eq!(report.transactions, before.len() as u64);
    assert_eq!(
        report.copied + report.split.len() as u64,
        report.transactions
    );
    assert_eq!(after.len(), report.copied as usize + pieces);
    // No GTID of a split transaction is written again.
    let gtids_after: std::collections::HashSet<_> =
        after.iter().filter_map(|s| s.gtid.clone()).collect();
    for t in &report.split {
        if let Some(g) = &t.gtid {
            assert!(!gtids_after.contains(g), "{g} reused");
        }
    }
    (out, report)
}

#[test]
fn pieces_keep_every_row_image_and_stay_within_the_limit() {
    let work = tempfile::tempdir().unwrap();
    let mut cases: Vec<(PathBuf, Limit, bool)> = vec![
        (
            fixture("row_full/mariadb-bin.000002"),
            Limit::Bytes(4096),
            false,
        ),
        (
            fixture("row_compressed/mariadb-bin.000001"),
            Limit::Rows(20),
            true,
        ),
        (
            fixture("row_compressed/mariadb-bin.000002"),
            Limit::Bytes(1000),
            true,
        ),
        (
            fixture("row_noblob/mariadb-bin.000002"),
            Limit::Rows(1),
            true,
        ),
        (
            fixture("row_noblob/mariadb-bin.000001"),
            Limit::Bytes(2000),
            true,
        ),
    ];
    if let Some(shared) = shared_fixtures() {
        let d = shared.join("local-mariadb-10.11.19-generated");
        cases.push((
            d.join("row_full/mariadb-bin.000002"),
            Limit::Bytes(64 << 10),
            true,
        ));
        // MySQL 8 compressed transactions (TRANSACTION_PAYLOAD) are split from their
        // decompressed events.
        cases.push((
            shared.join(
                "mariadb-server-mysql-test_10.11.19/std_data/mdev35643_mysql_80_binlog.000001",
            ),
            Limit::Rows(10),
            false,
        ));
        cases.push((
            d.join("row_compressed/mariadb-bin.000002"),
            Limit::Rows(100),
            true,
        ));
        cases.push((
            d.join("row_minimal_image/mariadb-bin.000002"),
            Limit::Rows(7),
            true,
        ));
    }
    for (i, (src, limit, decodable)) in cases.into_iter().enumerate() {
        let (out, report) = split_and_check(&src, limit);
        assert!(!report.split.is_empty(), "{}: nothing split", src.display());
        let path = work.path().join(format!("out{i}.bin"));
        std::fs::write(&path, &out).unwrap();
        // The server's own reader takes it when it takes the source (it does not read
        // MySQL's partial updates), and (where it can decode the source) sees the same
        // row images in the same order.
        let reads = |p: &Path| {
            let st = Command::new("mariadb-binlog").arg(p).output().unwrap();
            st.status.success() && st.stderr.is_empty()
        };
        if reads(&src) {
            assert!(
                reads(&path),
                "mariadb-binlog fails on the split {}",
                src.display()
            );
        }
        if decodable {
            assert_eq!(
                decoded_images(&src),
                decoded_images(&path),
                "{}",
                src.display()
            );
        }
        // The CLI writes the same bytes.
        let cli_out = work.path().join(format!("cli{i}.bin"));
        let mut t = tool(&["split", "-o"]).arg(&cli_out).arg(&src);
        t = match limit {
            Limit::Rows(n) => t.args(["--max-rows", &n.to_string()]),
            Limit::Bytes(b) => t.args(["--max-bytes", &b.to_string()]),
        };
        let r = t.ok();
        assert!(r.stderr.contains(" split into "), "{}", r.stderr);
        assert_eq!(std::fs::read(&cli_out).unwrap(), out);
    }
}

#[test]
fn drop_gtids_leaves_no_gtid_and_keeps_every_row() {
    use binlog::split::SplitOptions;
    for (src, limit) in [
        (fixture("row_full/mariadb-bin.000002"), Limit::Bytes(4096)),
        (
            fixture("statement/mariadb-bin.000001"),
            Limit::Bytes(1 << 20),
        ),
    ] {
        let bytes = std::fs::read(&src).unwrap();
        let log = Binlog::parse(&bytes).unwrap();
        let options = SplitOptions {
            limit,
            drop_gtids: true,
        };
        let (out, report) = split(&log, options, Vec::new()).unwrap();
        let out_log = Binlog::parse(&out).unwrap();
        assert!(out_log.events().all(|e| !e.unwrap().event_type().is_gtid()));
        let (before, after) = (stats(&bytes), stats(&out));
        assert_eq!(row_totals(&before), row_totals(&after));
        // Each transaction keeps its shape: BEGIN for the transactional ones, XA START
        // for the prepared one, the statement alone for DDL.
        assert_eq!(before.len(), report.copied as usize + report.split.len());
        let kinds = |v: &[TxnStats]| {
            v.iter()
                .map(|s| s.kind_name())
                .filter(|k| *k != "dml")
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&before), kinds(&after), "{}", src.display());
        let path = std::env::temp_dir().join(format!("drop-gtids-{}.bin", std::process::id()));
        std::fs::write(&path, &out).unwrap();
        let st = Command::new("mariadb-binlog").arg(&path).output().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(st.status.success() && st.stderr.is_empty());
        let text = String::from_utf8_lossy(&st.stdout);
        assert!(!text.contains("gtid_seq_no"));
    }
}

#[test]
fn a_transaction_within_the_limit_is_copied_byte_for_byte() {
    let src = fixture("row_compressed/mariadb-bin.000002");
    let bytes = std::fs::read(&src).unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    let (out, report) = split(&log, Limit::Bytes(1 << 30), Vec::new()).unwrap();
    assert!(report.split.is_empty());
    let mut want = bytes.clone();
    want[4 + 17] &= !1;
    assert_eq!(out, want);
}

#[test]
fn dry_run_prints_the_cuts_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("never.bin");
    let src = fixture("row_full/mariadb-bin.000002");
    let r = tool(&["split", "--max-bytes", "4K", "--dry-run", "-o"])
        .arg(&out)
        .arg(&src)
        .ok();
    assert!(!out.exists());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].contains("1 over 4096 bytes would be split into"),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].starts_with("transaction 19379..56095 (gtid 0-1-93, 36716 bytes, 321 rows) -> "),
        "{}",
        r.stdout
    );
    let bytes = std::fs::read(&src).unwrap();
    let (_, report) = split(
        &Binlog::parse(&bytes).unwrap(),
        Limit::Bytes(4096),
        std::io::sink(),
    )
    .unwrap();
    let pieces = &report.split[0].pieces;
    assert_eq!(lines.len(), 2 + pieces.len());
    for (l, p) in lines[2..].iter().zip(pieces) {
        assert!(
            l.contains(&format!(
                "output {}..{} ({} bytes",
                p.out_start,
                p.out_end,
                p.bytes()
            )),
            "{l}"
        );
    }
    // A cut inside a rows event names the rows.
    assert!(
        r.stdout.contains("(to row 34)") && r.stdout.contains("(from row 35)"),
        "{}",
        r.stdout
    );
    // -o is not needed for a dry run; a limit is.
    tool(&["split", "--max-rows", "10", "--dry-run"])
        .arg(&src)
        .run();
    let r = tool(&["split", "--dry-run"]).arg(&src).run();
    assert_eq!(r.code, 2);
    let r = tool(&["split", "--max-rows", "0", "--dry-run"])
        .arg(&src)
        .run();
    assert_eq!(r.code, 2);
}

/// What refusing leaves: exit 2, one line naming the file and an offset, no output and no
/// temporary file.
fn assert_refused(src: &Path, args: &[&str], phrase: &str) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.bin");
    let r = tool(&["split", "-o"]).arg(&out).args(args).arg(src).run();
    assert_eq!(r.code, 2, "{}: {}", src.display(), r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&src.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("at offset "), "{}", r.stderr);
    assert!(r.stderr.contains(phrase), "wanted {phrase:?}: {}", r.stderr);
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}

#[test]
fn refused_inputs_leave_nothing_behind() {
    // A file cut short is split up to its last complete transaction, with a note and
    // exit status 1.
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.bin");
    let r = tool(&["split", "--max-rows", "1", "-o"])
        .arg(&out)
        .arg(fixture("open_truncated/truncated.bin"))
        .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("truncated.bin: the file is cut at offset 1922")
            && r.stderr.contains("the transaction at 1880 is incomplete"),
        "{}",
        r.stderr
    );
    tool(&["verify"]).arg(&out).ok();
    let server = Server::start(41, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE fx; USE fx;
         CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(6000)) ENGINE=InnoDB;",
    );
    let mut files = Vec::new();
    let mut case = |sql: &str| {
        server.flush_binlogs();
        server.sql(sql);
        files.push(server.flush_binlogs());
    };
    case(
        "USE fx; SET SESSION binlog_format = STATEMENT;
         BEGIN; INSERT INTO t2 VALUES (1, 'a'), (2, 'b'); UPDATE t2 SET v = 'c' WHERE id = 2; COMMIT;",
    );
    case("USE fx; CREATE TABLE t3 ENGINE=InnoDB SELECT seq AS id, REPEAT('d', 100) AS v FROM seq_1_to_2000;");
    case(
        "USE fx; XA START 'big'; INSERT INTO t2 SELECT 1000 + seq, REPEAT('x', 100) FROM seq_1_to_2000;
         XA END 'big'; XA PREPARE 'big'; XA COMMIT 'big';",
    );
    case(
        "USE fx; BEGIN; INSERT INTO t2 SELECT 20000 + seq, 'a' FROM seq_1_to_10;
         INSERT INTO t2 VALUES (99999, REPEAT('r', 5000)); COMMIT;",
    );
    // Sanity: every case is what it should be.
    let (_, t, _) = bigtxn_json(&[&files[0]], &["--top", "1"]);
    assert!(t[0]["statements"].as_u64().unwrap() >= 2, "{}", t[0]);
    assert_refused(&files[0], &["--max-bytes", "150"], "statement-format");
    assert_refused(&files[1], &["--max-rows", "100"], "mixes DDL");
    assert_refused(&files[2], &["--max-rows", "100"], "XA");
    assert_refused(&files[3], &["--max-bytes", "2K"], "takes ");
    // Within the limit, the same files are copied.
    for f in &files {
        let out = tempfile::NamedTempFile::new().unwrap();
        tool(&["split", "--max-rows", "100000", "-o"])
            .arg(out.path())
            .arg(f)
            .ok();
    }
}

/// Database `{db}` with the starting data, built the same way on every server.
fn setup_sql(db: &str) -> String {
    format!(
        "CREATE DATABASE {db}; USE {db};
         SET timestamp = 1700000000;
         CREATE TABLE t (id INT PRIMARY KEY, k INT, v VARCHAR(200), d DECIMAL(10,2),
                         ts DATETIME(6), b BLOB) ENGINE=InnoDB;
         CREATE TABLE u (id INT PRIMARY KEY, t_id INT, note TEXT) ENGINE=InnoDB;
         CREATE TABLE m (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=MyISAM;
         CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, t_id INT, what VARCHAR(10))
           ENGINE=InnoDB;
         CREATE TRIGGER t_upd AFTER UPDATE ON t FOR EACH ROW
           INSERT INTO audit (t_id, what) VALUES (NEW.id, 'upd');
         INSERT INTO t SELECT seq, seq % 10, CONCAT('start ', seq), seq / 7,
           TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, NULL FROM seq_1_to_5000;
         INSERT INTO u SELECT seq, seq, REPEAT('n', seq % 50) FROM seq_1_to_2000;
         INSERT INTO m SELECT seq, CONCAT('m', seq) FROM seq_1_to_500;"
    )
}

/// The changes whose binlog is split: big and small transactions, statements touching
/// several tables, DDL in between, non-transactional changes, compressed events.
const WORKLOAD: &[&str] = &[
    "USE fx; SET timestamp = 1700001000;
     UPDATE t SET v = 'small 1' WHERE id = 1;
     INSERT INTO u VALUES (5001, 1, 'one');
     INSERT INTO t SELECT 100000 + seq, seq % 10, REPEAT('x', 150), seq / 3,
       TIMESTAMP'2024-02-01 00:00:00' + INTERVAL seq SECOND,
       IF(seq % 100 = 0, REPEAT('b', 3000), NULL) FROM seq_1_to_20000;
     UPDATE t SET k = k + 1, v = CONCAT(v, '!') WHERE id <= 3000;
     BEGIN;
     INSERT INTO u SELECT 10000 + seq, seq, REPEAT('w', 100) FROM seq_1_to_3000;
     UPDATE u JOIN t ON u.t_id = t.id SET u.note = CONCAT('joined ', t.v)
       WHERE u.id BETWEEN 10001 AND 12000;
     DELETE FROM t WHERE id BETWEEN 100001 AND 105000;
     UPDATE t SET b = REPEAT('z', 10000) WHERE id = 7;
     COMMIT;
     ALTER TABLE u ADD COLUMN extra INT DEFAULT 7;
     UPDATE u SET extra = id % 13 WHERE id > 10000;
     INSERT INTO m SELECT 1000 + seq, REPEAT('m', 80) FROM seq_1_to_3000;
     SET GLOBAL log_bin_compress = ON;",
    "USE fx; SET timestamp = 1700002000;
     UPDATE t SET d = d + 1, v = REPEAT('c', 100) WHERE id > 100000;
     DELETE FROM u WHERE id > 11000;
     SET GLOBAL log_bin_compress = OFF;",
    "USE fx; SET timestamp = 1700003000;
     UPDATE t SET v = 'last' WHERE id = 2;",
];

#[test]
fn split_binlogs_apply_like_the_original_on_a_real_server() {
    let source = Server::start(21, ROW_DEFAULTS);
    source.sql(&setup_sql("fx"));
    source.flush_binlogs();
    for sql in WORKLOAD {
        source.sql(sql);
    }
    let binlog = source.flush_binlogs();
    let want = source.snapshot("fx");
    assert_eq!(want.len(), 4);

    let work = tempfile::tempdir().unwrap();
    let by_bytes = work.path().join("by-bytes.bin");
    let by_rows = work.path().join("by-rows.bin");
    let limits = [("64K", 64u64 << 10), ("500", 500)];
    tool(&["split", "--max-bytes", limits[0].0, "-o"])
        .arg(&by_bytes)
        .arg(&binlog)
        .ok();
    tool(&["split", "--max-rows", limits[1].0, "-o"])
        .arg(&by_rows)
        .arg(&binlog)
        .ok();

    // Something was split, and bigtxn finds every transaction of the outputs within the
    // limit; the same rows are there.
    let (_, orig, _) = bigtxn_json(&[&binlog], &["--top", "0"]);
    let compressed = orig
        .iter()
        .filter(|t| t["compressed"] == true && t["bytes"].as_u64().unwrap() > limits[0].1)
        .count();
    assert!(
        compressed >= 1,
        "no big compressed transaction in the workload"
    );
    let rows = |v: &[serde_json::Value]| v.iter().map(|t| t["rows"].as_u64().unwrap()).sum::<u64>();
    for (out, by, limit) in [
        (&by_bytes, "bytes", limits[0].1),
        (&by_rows, "rows", limits[1].1),
    ] {
        let over = orig
            .iter()
            .filter(|t| t[by].as_u64().unwrap() > limit)
            .count();
        assert!(over >= 4, "only {over} transactions over {limit} {by}");
        let (code, all, err) = bigtxn_json(&[out], &["--top", "0"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(rows(&all), rows(&orig));
        let (_, top, _) = bigtxn_json(&[out], &["--top", "1", "--by", by]);
        assert!(top[0][by].as_u64().unwrap() <= limit, "{}", top[0]);
        assert!(all.len() > orig.len() + over);
        tool(&["verify"]).arg(out).ok();
        // mariadb-binlog reads it cleanly.
        let st = Command::new("mariadb-binlog").arg(out).output().unwrap();
        assert!(
            st.status.success() && st.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }

    // Apply the original and the split files to copies of the starting data.
    let target = Server::start(22, ROW_DEFAULTS);
    for db in ["a", "b", "c"] {
        target.sql(&setup_sql(db));
    }
    target.apply_binlog(&[&binlog], &["--rewrite-db=fx->a"]);
    target.apply_binlog(&[&by_bytes], &["--rewrite-db=fx->b"]);
    target.apply_binlog(&[&by_rows], &["--rewrite-db=fx->c"]);
    let a = target.snapshot("a");
    assert_eq!(a, want, "the original binlog does not reproduce the source");
    assert_eq!(target.snapshot("b"), a, "split by bytes differs");
    assert_eq!(target.snapshot("c"), a, "split by rows differs");
    // With --drop-gtids the output replays on a server with gtid_strict_mode whose own
    // GTID history is ahead of the source's, and no source GTID shows up there.
    let no_gtids = work.path().join("no-gtids.bin");
    tool(&["split", "--max-bytes", "64K", "--drop-gtids", "-o"])
        .arg(&no_gtids)
        .arg(&binlog)
        .ok();
    let mut strict_opts = ROW_DEFAULTS.to_vec();
    strict_opts.push("--gtid-strict-mode=ON");
    let strict = Server::start(23, &strict_opts);
    strict.sql(&setup_sql("d"));
    strict.sql("CREATE DATABASE pad; USE pad; CREATE TABLE p (id INT PRIMARY KEY); INSERT INTO p SELECT seq FROM seq_1_to_100;");
    for _ in 0..30 {
        strict.sql("INSERT INTO pad.p SELECT MAX(id) + 1 FROM pad.p;");
    }
    strict.apply_binlog(&[&no_gtids], &["--rewrite-db=fx->d"]);
    assert_eq!(
        strict.snapshot("d"),
        want,
        "split with --drop-gtids differs"
    );
    let pos = strict.value("SELECT @@gtid_binlog_pos");
    assert!(!pos.contains("-21-"), "{pos}");
    let (_, txns, _) = bigtxn_json(&[&no_gtids], &["--top", "0"]);
    assert!(txns.iter().all(|t| t["gtid"].is_null()));

    // The replay did change things: 20000 rows came and 5000 went.
    assert_eq!(target.value("SELECT COUNT(*) FROM b.t"), "20000");
    assert_eq!(target.value("SELECT COUNT(*) FROM c.audit"), "18003");
}
