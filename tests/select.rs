//! Selections that never do the wrong thing silently, on binlogs a private MariaDB server
//! writes in each test: GTID lists and ranges, comma lists of tables and databases,
//! positions inside transactions, an output naming an input, input files that do not
//! follow each other, a tail cut short, statements of other schemas, `cut` with row
//! options and --drop-gtids, DDL after the rows to undo, and the statistics of bigtxn,
//! split, info.

use std::path::{Path, PathBuf};

use binlog::txn::{Group, Transaction, Transactions};
use binlog::{Binlog, EventData};

use crate::common::{shared_fixtures, tool, Run};
use crate::server::{Server, ROW_DEFAULTS};

/// The complete transactions of a file.
fn transactions(path: &Path) -> Vec<Transaction> {
    let bytes = std::fs::read(path).unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    Transactions::new(log.events().verify_checksums(false))
        .filter_map(|g| match g {
            Ok(Group::Transaction(t)) if t.is_complete() => Some(t),
            _ => None,
        })
        .collect()
}

/// The transaction of a file with this GTID.
fn by_gtid(path: &Path, gtid: &str) -> Transaction {
    transactions(path)
        .into_iter()
        .find(|t| t.gtid.as_ref().is_some_and(|g| g.to_string() == gtid))
        .unwrap_or_else(|| panic!("no {gtid} in {}", path.display()))
}

/// Offsets of the events of `t` in the file, in order.
fn event_offsets(path: &Path, t: &Transaction) -> Vec<u64> {
    let bytes = std::fs::read(path).unwrap();
    t.events(&bytes).map(|e| e.unwrap().offset()).collect()
}

/// `flashback --dry-run --format json` of `files` with `extra`.
fn dry_run(files: &[&Path], extra: &[&str]) -> serde_json::Value {
    let r = tool(&["flashback", "--dry-run", "--format", "json"])
        .args(files)
        .args(extra)
        .ok();
    serde_json::from_str(r.stdout.trim()).unwrap()
}

fn tables_of(v: &serde_json::Value) -> Vec<String> {
    v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect()
}

fn assert_refused(r: &Run, phrases: &[&str]) {
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    for p in phrases {
        assert!(r.stderr.contains(p), "wanted {p:?} in: {}", r.stderr);
    }
}

/// The last GTID sequence number the server logged in domain 0.
fn last_seq(server: &Server) -> u64 {
    let pos = server.value("SELECT @@gtid_binlog_pos");
    pos.split(',')
        .find_map(|g| g.strip_prefix("0-"))
        .and_then(|g| g.rsplit('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// GTID lists and ranges, comma lists, positions inside transactions, an output naming an
/// input, directories and files without a FORMAT_DESCRIPTION event.
#[test]
fn gtids_lists_positions_and_outputs() {
    let server = Server::start(61, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE s1; CREATE DATABASE other;
         CREATE TABLE s1.a (id INT PRIMARY KEY, v INT);
         CREATE TABLE s1.b (id INT PRIMARY KEY, v INT);
         CREATE TABLE other.keep (id INT PRIMARY KEY, v INT);",
    );
    server.flush_binlogs();
    let k = last_seq(&server);
    server.sql("INSERT INTO s1.a VALUES (1, 1)");
    server.sql("INSERT INTO s1.b VALUES (1, 1)");
    server.sql("INSERT INTO other.keep VALUES (1, 1)");
    server.sql("BEGIN; INSERT INTO s1.a VALUES (2, 2); INSERT INTO s1.b VALUES (2, 2); UPDATE s1.a SET v = 5 WHERE id = 1; COMMIT");
    server.sql("UPDATE s1.a SET v = v + 1");
    let file = server.flush_binlogs();
    let f = file.as_path();
    let g = |n: u64| format!("0-61-{}", k + n);

    // A MariaDB GTID in a list is that one transaction; ranges are written with both ends.
    let one = dry_run(&[f], &["--include-gtids", &g(3)]);
    assert_eq!(one["transactions"], 1, "{one}");
    assert_eq!(tables_of(&one), ["other.keep"]);
    let two = dry_run(&[f], &["--include-gtids", &format!("{},{}", g(1), g(5))]);
    assert_eq!(two["transactions"], 2, "{two}");
    let all_but = dry_run(&[f], &["--exclude-gtids", &g(3)]);
    assert_eq!(all_but["transactions"], 4, "{all_but}");
    let range = dry_run(&[f], &["--include-gtids", &format!("{}..{}", g(2), g(4))]);
    assert_eq!(range["transactions"], 3, "{range}");
    let r = tool(&[
        "flashback",
        "--dry-run",
        "--include-gtids",
        &format!("{}:{}", g(1), k + 3),
    ])
    .arg(f)
    .run();
    assert_refused(&r, &["--include-gtids", "D-S-A..D-S-B"]);
    // The same GTIDs select the same transactions in decode and cut.
    let r = tool(&["decode", "--format", "jsonl", "--include-gtids", &g(3)])
        .arg(f)
        .ok();
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    // locate takes one GTID and refuses a range.
    let r = tool(&["locate", "--format", "json", "--gtid", &g(3)])
        .arg(f)
        .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["start_pos"], by_gtid(f, &g(3)).start);
    for range in [
        format!("{}:{}", g(1), k + 3),
        format!("{}..{}", g(1), g(3)),
        format!("{},{}", g(1), g(3)),
    ] {
        let r = tool(&["locate", "--gtid", &range]).arg(f).run();
        assert_refused(&r, &["--gtid"]);
    }

    // -t and -d take comma lists, as --sql-type does, and stay repeatable.
    let listed = dry_run(&[f], &["-t", "s1.a,s1.b"]);
    let repeated = dry_run(&[f], &["-t", "s1.a", "-t", "s1.b"]);
    assert_eq!(listed, repeated);
    assert_eq!(tables_of(&listed), ["s1.a", "s1.b"]);
    assert_eq!(listed["transactions"], 4, "{listed}");
    let dbs = dry_run(&[f], &["-d", "s1,other"]);
    assert_eq!(dbs["transactions"], 5, "{dbs}");
    let r = tool(&["decode", "--format", "jsonl", "-t", "s1.b, other.keep"])
        .arg(f)
        .ok();
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    let r = tool(&["decode", "-t", "s1.a,,s1.b"]).arg(f).run();
    assert_refused(&r, &["--table", "empty"]);

    // A start position inside a transaction (a rows event's, as mysqlbinlog shows it) is
    // refused, naming the transaction's start; at its start it is taken.
    let t4 = by_gtid(f, &g(4));
    let inside = event_offsets(f, &t4)[3];
    assert!(t4.start < inside && inside < t4.end);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    let name = f.display().to_string();
    let want = [
        name.as_str(),
        &format!(
            "--start-position {inside} is inside the transaction at {}..{}",
            t4.start, t4.end
        ),
        &format!("use {}", t4.start),
    ];
    let r = tool(&[
        "flashback",
        "--dry-run",
        "--start-position",
        &inside.to_string(),
    ])
    .arg(f)
    .run();
    assert_refused(&r, &want);
    let r = tool(&["decode", "--start-position", &inside.to_string()])
        .arg(f)
        .run();
    assert_refused(&r, &want);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let r = tool(&["cut", "--start-position", &inside.to_string(), "-o"])
        .arg(&out)
        .arg(f)
        .run();
    assert_refused(&r, &want);
    assert!(!out.exists());
    let from = dry_run(&[f], &["--start-position", &t4.start.to_string()]);
    assert_eq!(from["transactions"], 2, "{from}");
    // A stop position inside one leaves it out, and says so.
    let r = tool(&["cut", "--stop-position", &inside.to_string(), "-o"])
        .arg(&out)
        .arg(f)
        .ok();
    assert!(
        r.stderr.contains(&format!(
            "--stop-position falls inside the transaction at {}..{}",
            t4.start, t4.end
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("3 transactions written"), "{}", r.stderr);
    std::fs::remove_file(&out).unwrap();

    // -o naming an input is refused before anything is written, through links too.
    let copy = dir.path().join("mariadb-bin.000009");
    std::fs::copy(f, &copy).unwrap();
    let original = std::fs::read(&copy).unwrap();
    let hard = dir.path().join("hard.bin");
    std::fs::hard_link(&copy, &hard).unwrap();
    let soft = dir.path().join("soft.bin");
    std::os::unix::fs::symlink(&copy, &soft).unwrap();
    for (cmd, target) in [
        (&["flashback", "-o"][..], &copy),
        (&["cut", "-o"], &hard),
        (&["decode", "-o"], &soft),
        (&["split", "--max-rows", "1", "-o"], &soft),
        (&["flashback", "--format", "sql", "-o"], &hard),
    ] {
        let r = tool(cmd).arg(target).arg(&copy).run();
        assert_refused(
            &r,
            &["the output is the input file", "refusing to overwrite"],
        );
        assert_eq!(std::fs::read(&copy).unwrap(), original, "{cmd:?}");
    }
    let index = dir.path().join("mariadb-bin.index");
    std::fs::write(&index, "./mariadb-bin.000009\n").unwrap();
    let r = tool(&["cut", "--index"])
        .arg(&index)
        .arg("-o")
        .arg(&index)
        .run();
    assert_refused(&r, &["the output is the input file"]);

    // A directory is said to be one, by every command that reads binlogs.
    let d = dir.path().display().to_string();
    for cmd in [
        &["info"][..],
        &["events"],
        &["verify"],
        &["bigtxn"],
        &["decode"],
        &["flashback", "--dry-run"],
        &["split", "--max-rows", "1", "--dry-run"],
        &["locate", "--datetime", "2024-01-01"],
    ] {
        let r = tool(cmd).arg(dir.path()).run();
        assert_refused(&r, &[&d, "is a directory"]);
    }

    // A file of the magic alone has no FORMAT_DESCRIPTION event: no version is invented.
    let magic = dir.path().join("magic.bin");
    std::fs::write(&magic, &original[..4]).unwrap();
    for format in ["table", "json"] {
        let r = tool(&["info", "--format", format]).arg(&magic).ok();
        assert!(
            !r.stdout.contains("8.0") && !r.stdout.contains("MySQL"),
            "{}",
            r.stdout
        );
        if format == "table" {
            assert!(
                r.stdout.contains("no FORMAT_DESCRIPTION event"),
                "{}",
                r.stdout
            );
        } else {
            let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
            assert_eq!(v[0]["format_description"], false, "{v}");
            assert!(v[0]["server_version"].is_null(), "{v}");
        }
    }

    // split names a CRC32 mismatch at the event's offset, as the other commands do.
    let rows_at = event_offsets(f, &t4)[3];
    let mut bad = original.clone();
    bad[rows_at as usize + 25] ^= 0x40;
    let damaged = dir.path().join("damaged.bin");
    std::fs::write(&damaged, &bad).unwrap();
    let r = tool(&["split", "--max-rows", "1", "-o"])
        .arg(&out)
        .arg(&damaged)
        .run();
    assert_refused(&r, &[&format!("at offset {rows_at}: CRC32 mismatch")]);
    assert!(!r.stderr.contains("truncated"), "{}", r.stderr);
    assert!(!out.exists());
    let r = tool(&["verify"]).arg(&damaged).run();
    assert!(
        r.stdout
            .contains(&format!("offset {rows_at}: CRC32 mismatch")),
        "{}",
        r.stdout
    );
}

/// Files out of order, the same file twice, a file missing: refused by flashback, cut and
/// decode, naming both files, unless --allow-gaps; bigtxn takes any order but refuses a
/// file twice; verify --index holds an index to the same rules.
#[test]
fn input_files_must_follow_each_other() {
    let server = Server::start(62, ROW_DEFAULTS);
    server.sql("CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY, v INT)");
    let mut files = Vec::new();
    for i in 0..3 {
        server.sql(&format!(
            "INSERT INTO c.t VALUES ({0}, {0}); UPDATE c.t SET v = v + 1",
            i + 1
        ));
        files.push(server.flush_binlogs());
    }
    let [f1, f2, f3] = [&files[0], &files[1], &files[2]];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    let run = |cmd: &str, list: &[&Path], extra: &[&str]| -> Run {
        let t = tool(&[cmd]).args(list).args(extra);
        match cmd {
            "flashback" => t.args(["--dry-run", "--skip-ddl"]).run(),
            "cut" => t.arg("-o").arg(&out).run(),
            _ => t.run(),
        }
    };
    let name = |p: &Path| p.display().to_string();
    for cmd in ["flashback", "cut", "decode"] {
        // In order they are taken.
        let r = run(cmd, &[f1, f2, f3], &[]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        let _ = std::fs::remove_file(&out);
        // Out of order.
        let r = run(cmd, &[f2, f1], &[]);
        assert_refused(&r, &[&name(f1), &name(f2), "out of order", "--allow-gaps"]);
        // The same file twice, by its path or through a link.
        let r = run(cmd, &[f1, f1], &[]);
        assert_refused(&r, &["the same file"]);
        let link = dir.path().join(format!("link-{cmd}"));
        std::fs::hard_link(f1, &link).unwrap();
        let r = run(cmd, &[f1, &link], &["--allow-gaps"]);
        assert_refused(&r, &["the same file"]);
        // A file missing between two.
        let r = run(cmd, &[f1, f3], &[]);
        assert_refused(&r, &[&name(f1), &name(f3), "missing"]);
        let r = run(cmd, &[f1, f3], &["--allow-gaps"]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        let _ = std::fs::remove_file(&out);
        assert!(!out.exists());
    }
    // Copies under other names are held to their GTID states.
    let copy = |from: &Path, to: &str| -> PathBuf {
        let p = dir.path().join(to);
        std::fs::copy(from, &p).unwrap();
        p
    };
    let (a, b, c, a2) = (
        copy(f1, "a.bin"),
        copy(f2, "b.bin"),
        copy(f3, "c.bin"),
        copy(f1, "a-again.bin"),
    );
    let r = run("cut", &[&a, &b, &c], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::remove_file(&out).unwrap();
    for (list, what) in [
        (&[&a, &c][..], "does not continue"),
        (&[&b, &a], "does not continue"),
        (&[&a, &a2], "does not continue"),
    ] {
        let paths: Vec<&Path> = list.iter().map(|p| p.as_path()).collect();
        let r = run("decode", &paths, &[]);
        assert_refused(&r, &[what, "GTID state"]);
    }
    // bigtxn: any order, each file once.
    let r = tool(&["bigtxn"]).args([f2, f1]).run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = tool(&["bigtxn"]).args([f1, f2, f1]).run();
    assert_refused(&r, &["the same file"]);
    // verify --index checks the GTID states too.
    let index = dir.path().join("copies.index");
    std::fs::write(&index, "./a.bin\n./c.bin\n").unwrap();
    let r = tool(&["verify", "--index"]).arg(&index).run();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("c.bin does not continue a.bin"),
        "{}",
        r.stdout
    );
}

/// A file whose tail is cut short (a crashed primary's last binlog): every complete
/// transaction is read, stderr says where the file is cut, and the exit status is 1 —
/// or 0 when a stop option ends the selection before the cut.
#[test]
fn a_tail_cut_short_is_read_up_to_its_last_complete_transaction() {
    let source = Server::start(63, ROW_DEFAULTS);
    source.sql("CREATE DATABASE tc; CREATE TABLE tc.t (id INT PRIMARY KEY, v VARCHAR(2000))");
    source.flush_binlogs();
    source.sql("SET timestamp = 1700000000; INSERT INTO tc.t VALUES (1, 'a'), (2, 'b')");
    source.sql("SET timestamp = 1700000100; UPDATE tc.t SET v = 'c' WHERE id = 1");
    let before_last = source.snapshot("tc");
    source.sql(
        "SET timestamp = 1700000200; USE tc; INSERT INTO tc.t SELECT seq + 10, REPEAT('z', 1500) FROM seq_1_to_40",
    );
    let file = source.flush_binlogs();
    let txns = transactions(&file);
    let last = txns.last().unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let cut_at = (last.start + last.end) / 2;
    let dir = tempfile::tempdir().unwrap();
    let crashed = dir.path().join("mariadb-bin.000002");
    std::fs::write(&crashed, &bytes[..cut_at as usize]).unwrap();
    let note = format!("the transaction at {} is incomplete", last.start);

    // cut: the complete transactions, applied, give the state before the cut one.
    let out = dir.path().join("pitr.bin");
    let r = tool(&["cut", "-o"]).arg(&out).arg(&crashed).run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&note) && r.stderr.contains("the file is damaged"),
        "{}",
        r.stderr
    );
    tool(&["verify"]).arg(&out).ok();
    let target = Server::start(64, ROW_DEFAULTS);
    target.sql("CREATE DATABASE tc; CREATE TABLE tc.t (id INT PRIMARY KEY, v VARCHAR(2000))");
    target.apply_binlog(&[&out], &[]);
    assert_eq!(target.snapshot("tc"), before_last);

    // A stop before the damage: the same output, exit 0, the note all the same.
    let out2 = dir.path().join("pitr2.bin");
    for stop in [
        vec!["--stop-position".to_string(), last.start.to_string()],
        vec![
            "--stop-datetime".to_string(),
            "2023-11-14 22:16:40".to_string(),
        ],
    ] {
        let r = tool(&["cut", "-o"])
            .arg(&out2)
            .args(&stop)
            .arg(&crashed)
            .env("TZ", "UTC")
            .run();
        assert_eq!(r.code, 0, "{stop:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&note) && r.stderr.contains("the selection stops before"),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read(&out2).unwrap(), std::fs::read(&out).unwrap());
    }

    // decode, flashback and split read it the same way.
    let r = tool(&["decode", "--format", "jsonl"]).arg(&crashed).run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&note), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    let r = tool(&["flashback", "--dry-run", "--format", "json", "--skip-ddl"])
        .arg(&crashed)
        .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&note), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["transactions"], 2, "{v}");
    let undo = dir.path().join("undo.bin");
    let r = tool(&["flashback", "-o"]).arg(&undo).arg(&crashed).run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    target.apply_binlog(&[&undo], &[]);
    assert_eq!(target.value("SELECT COUNT(*) FROM tc.t"), "0");
    let split = dir.path().join("split.bin");
    let r = tool(&["split", "--max-rows", "1", "-o"])
        .arg(&split)
        .arg(&crashed)
        .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&note), "{}", r.stderr);
    let r = tool(&["bigtxn", "--format", "json", "--top", "0"])
        .arg(&crashed)
        .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// cut with --table, --database, --sql-type and --drop-gtids, applied through
/// mariadb-binlog | mariadb to a gtid_strict_mode server whose domain is past the
/// source's sequence numbers; decode --table leaves statements of other schemas and
/// empty transactions out.
#[test]
fn cut_and_decode_keep_only_the_selection() {
    let schema = "CREATE DATABASE s; CREATE DATABASE other;
         CREATE TABLE s.a (id INT PRIMARY KEY, v INT);
         CREATE TABLE s.b (id INT PRIMARY KEY, v INT);
         CREATE TABLE s.c (id INT PRIMARY KEY);
         CREATE TABLE other.keep (id INT PRIMARY KEY, v INT);
         CREATE TABLE other.gone (id INT PRIMARY KEY);
         INSERT INTO s.a VALUES (1, 1), (2, 2), (3, 3);
         INSERT INTO s.b VALUES (1, 10), (2, 20), (3, 30);
         INSERT INTO s.c VALUES (1);
         INSERT INTO other.gone VALUES (1);";
    let source = Server::start(65, ROW_DEFAULTS);
    source.sql(schema);
    let start = source.flush_binlogs();
    let _ = start;
    source.sql(
        "INSERT INTO s.a VALUES (4, 4), (5, 5);
         INSERT INTO s.b VALUES (4, 40);
         BEGIN; UPDATE s.a SET v = v * 10 WHERE id <= 2; DELETE FROM s.b WHERE id = 1;
           INSERT INTO other.keep VALUES (1, 1); COMMIT;
         UPDATE s.a JOIN s.b ON s.a.id = s.b.id SET s.a.v = s.a.v + 100, s.b.v = s.b.v + 100 WHERE s.a.id = 3;
         USE s; DROP TABLE other.gone;
         USE other; ALTER TABLE s.a ADD COLUMN w INT DEFAULT 7;
         INSERT INTO s.a (id, v, w) VALUES (6, 6, 6);
         INSERT INTO other.keep VALUES (2, 2);
         UPDATE other.keep SET v = 0;
         DELETE FROM s.a WHERE id = 1;
         INSERT INTO s.c VALUES (10), (11), (12); DELETE FROM s.c WHERE id IN (1, 10);
         INSERT INTO s.c VALUES (13);",
    );
    let file = source.flush_binlogs();
    let dir = tempfile::tempdir().unwrap();
    // The multi-table UPDATE logs s.a's rows before s.b's: the statement's end flag is on
    // s.b's event, which -t s.a leaves out.
    let bytes = std::fs::read(&file).unwrap();
    let mut unflagged_a = 0;
    for t in transactions(&file) {
        let mut names = std::collections::HashMap::new();
        for ev in t.events(&bytes) {
            let ev = ev.unwrap();
            match ev.decode(&t.format).unwrap() {
                EventData::TableMap(tm) => {
                    names.insert(tm.table_id, tm.qualified_name());
                }
                EventData::Rows(re) if names[&re.table_id] == "s.a" && !re.is_stmt_end() => {
                    unflagged_a += 1
                }
                _ => {}
            }
        }
    }
    assert_eq!(unflagged_a, 1);

    // The target has the schema and is far ahead in domain 0, in strict mode.
    let target = Server::start(66, &[ROW_DEFAULTS, &["--gtid-strict-mode=ON"]].concat());
    target.sql(schema);
    target.sql("CREATE DATABASE busy; CREATE TABLE busy.t (id INT PRIMARY KEY)");
    for i in 0..60 {
        target.sql(&format!("INSERT INTO busy.t VALUES ({i})"));
    }
    assert!(last_seq(&target) > last_seq(&source) + 20);
    let b_before = target.table_contents("s", "b");

    let out = dir.path().join("a.bin");
    let r = tool(&["cut", "-t", "s.a", "--drop-gtids", "-o"])
        .arg(&out)
        .arg(&file)
        .ok();
    assert!(r.stderr.contains("left out"), "{}", r.stderr);
    tool(&["verify"]).arg(&out).ok();
    // Only s.a's rows, their TABLE_MAPs, each statement's last kept rows event flagged
    // as its end, and no GTID event.
    let bytes = std::fs::read(&out).unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    for g in Transactions::new(log.events()) {
        let Group::Transaction(t) = g.unwrap() else {
            continue;
        };
        let mut last_rows = None;
        for ev in t.events(&bytes) {
            let ev = ev.unwrap();
            assert!(!ev.event_type().is_gtid());
            match ev.decode(&t.format).unwrap() {
                EventData::TableMap(tm) => assert_eq!(tm.qualified_name(), "s.a"),
                EventData::Rows(re) => last_rows = Some(re.is_stmt_end()),
                _ => {}
            }
        }
        if let Some(flagged) = last_rows {
            assert!(
                flagged,
                "transaction at {} ends its statement unflagged",
                t.start
            );
        }
    }
    target.apply_binlog(&[&out], &[]);
    assert_eq!(
        target.table_contents("s", "a"),
        source.table_contents("s", "a")
    );
    assert_eq!(target.table_contents("s", "b"), b_before);
    assert_eq!(target.value("SELECT COUNT(*) FROM other.gone"), "1");
    assert_eq!(target.value("SELECT COUNT(*) FROM other.keep"), "0");

    // --sql-type insert with -d: only the inserts of s.c (its deletes left out).
    let ins = dir.path().join("ins.bin");
    tool(&[
        "cut",
        "-d",
        "s",
        "-t",
        "s.c",
        "--sql-type",
        "insert",
        "--drop-gtids",
        "-o",
    ])
    .arg(&ins)
    .arg(&file)
    .ok();
    target.apply_binlog(&[&ins], &[]);
    assert_eq!(
        target
            .sql("SELECT id FROM s.c ORDER BY id")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["1", "10", "11", "12", "13"]
    );

    // decode -t s.a: no statement of another schema, the ALTER run from another default
    // database kept, no empty BEGIN; COMMIT; block.
    let r = tool(&["decode", "-t", "s.a"]).arg(&file).ok();
    let sql = r.stdout;
    assert!(!sql.contains("gone"), "{sql}");
    assert!(
        !sql.contains("`keep`") && !sql.contains("other.keep"),
        "{sql}"
    );
    assert!(sql.contains("ALTER TABLE s.a ADD COLUMN w"), "{sql}");
    assert!(!sql.contains("BEGIN;\nCOMMIT;"), "{sql}");
    let blocks = sql.matches("BEGIN;\n").count();
    assert_eq!(blocks, 5, "{sql}");
    // Replayed on a copy of the source's start, s.a ends as the source's.
    let replay = Server::start(67, ROW_DEFAULTS);
    replay.sql(schema);
    replay.sql(&sql);
    assert_eq!(
        replay.table_contents("s", "a"),
        source.table_contents("s", "a")
    );
    assert_eq!(replay.value("SELECT COUNT(*) FROM other.gone"), "1");
}

/// Flashback refuses to undo rows of a table that DDL changed after them; bigtxn measures
/// a MariaDB transaction's duration from its statements' times.
#[test]
fn ddl_after_the_undone_rows_and_durations() {
    let server = Server::start(68, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, a INT, b INT);
         CREATE TABLE f.u (id INT PRIMARY KEY);
         INSERT INTO f.t VALUES (1, 10, 100), (2, 20, 200), (3, 30, 300), (4, 40, 400);",
    );
    server.flush_binlogs();
    server.sql("SET timestamp = 1700000000; DELETE FROM f.t WHERE id <= 2");
    server.sql("SET timestamp = 1700000100; ALTER TABLE f.u ADD COLUMN x INT");
    server.sql("SET timestamp = 1700000200; ALTER TABLE f.t MODIFY a INT AFTER b");
    server.sql("SET timestamp = 1700000300; UPDATE f.t SET a = a + 1");
    server.sql("SET timestamp = 1700000350; ALTER TABLE f.u COMMENT 'after'");
    server.sql(
        "SET timestamp = 1700000400; BEGIN; INSERT INTO f.u VALUES (1, 1);
         SET timestamp = 1700000407; INSERT INTO f.u VALUES (2, 2); COMMIT;",
    );
    let file = server.flush_binlogs();
    let alter = transactions(&file)
        .into_iter()
        .find(|t| t.first_timestamp == 1700000200)
        .unwrap();
    let ddl_at = alter.end_event.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let undo = dir.path().join("undo.bin");
    let name = file.display().to_string();
    // Undoing the DELETE before the ALTER that swapped a and b: refused, naming the DDL.
    for extra in [
        &["--stop-datetime", "2023-11-14 22:14:00"][..],
        &["--stop-position", &alter.start.to_string(), "-t", "f.t"],
        &["--skip-ddl"],
        &["--skip-ddl", "--format", "sql"],
    ] {
        let r = tool(&["flashback", "-o"])
            .arg(&undo)
            .args(extra)
            .arg(&file)
            .env("TZ", "UTC")
            .run();
        assert_refused(
            &r,
            &[
                &format!("{name}: at offset {ddl_at}:"),
                "ALTER TABLE f.t MODIFY a INT AFTER b",
                "after rows of it to undo",
            ],
        );
        assert!(!undo.exists());
    }
    // DDL of another table, or before the rows: the undo is written and applies.
    let r = tool(&["flashback", "-o"])
        .arg(&undo)
        .args(["--start-datetime", "2023-11-14 22:17:00", "-t", "f.t"])
        .arg(&file)
        .env("TZ", "UTC")
        .run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    server.apply_binlog(&[&undo], &[]);
    assert_eq!(
        server.sql("SELECT id, a, b FROM f.t ORDER BY id"),
        "3\t30\t300\n4\t40\t400\n"
    );
    let r = tool(&["flashback", "--dry-run", "-t", "f.u"])
        .args(["--start-datetime", "2023-11-14 22:20:00"])
        .arg(&file)
        .env("TZ", "UTC")
        .ok();
    assert!(r.stdout.contains("transactions: 1"), "{}", r.stdout);

    // bigtxn: from the first statement's time to the commit's.
    let r = tool(&[
        "bigtxn", "--by", "duration", "--top", "1", "--format", "json",
    ])
    .arg(&file)
    .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["duration"], 7, "{v}");
    assert_eq!(v[0]["first_timestamp"], 1700000400, "{v}");
    assert_eq!(v[0]["last_timestamp"], 1700000407, "{v}");
}

/// MySQL 8 files of the shared corpus: PREVIOUS_GTIDS continue the file before, in order
/// only; renamed copies are held to them too.
#[test]
fn mysql_chains_of_the_shared_corpus() {
    let Some(dir) = shared_fixtures() else {
        return;
    };
    let gtid = dir.join("percona-binlog-server/data_80045_gtid");
    let (one, two) = (gtid.join("binlog.000001"), gtid.join("binlog.000002"));
    tool(&["decode", "--format", "jsonl"])
        .args([&one, &two])
        .ok();
    let r = tool(&["decode"]).args([&two, &one]).run();
    assert_refused(&r, &["out of order"]);
    let tmp = tempfile::tempdir().unwrap();
    let (x, y) = (tmp.path().join("x.bin"), tmp.path().join("y.bin"));
    std::fs::copy(&one, &x).unwrap();
    std::fs::copy(&two, &y).unwrap();
    tool(&["decode", "--format", "jsonl"]).args([&x, &y]).ok();
    let r = tool(&["decode"]).args([&y, &x]).run();
    assert_refused(
        &r,
        &[
            "x.bin does not continue y.bin",
            "396e294c-1ca4-11f1-9ae7-00155da79c6b:1-6",
        ],
    );
    let r = tool(&["decode", "--format", "jsonl", "--allow-gaps"])
        .args([&y, &x])
        .run();
    assert_eq!(r.code, 0, "{}", r.stderr);
}
