//! `decode` on files, without a server: names from metadata, from `--schema`, or `@N`; one
//! change per row of every rows event, MySQL files included.

use std::collections::HashMap;

use binlog::row::{Rows, TableInfo};
use binlog::{Binlog, EventData};

use crate::common::{fixture, manifest, root, run_mariadb_binlog, shared_fixtures, tool};
use crate::server::{Server, ROW_DEFAULTS};

/// Rows per file, counted with the library directly.
fn rows_in(bytes: &[u8]) -> Option<usize> {
    let log = Binlog::parse(bytes).ok()?;
    let mut tables = HashMap::new();
    let mut n = 0;
    let mut events = log.events();
    while let Some(ev) = events.next() {
        let ev = ev.ok()?;
        match ev.decode(events.format()).ok()? {
            EventData::TableMap(tm) => {
                tables.insert(tm.table_id, TableInfo::from_table_map(&tm).ok()?);
            }
            EventData::Rows(re) => {
                let data = re.rows_data().ok()?;
                n += Rows::new(&re, &data, tables.get(&re.table_id)?)
                    .ok()?
                    .count();
            }
            EventData::TransactionPayload(p) => {
                let inner = p.decompress().ok()?;
                let mut ie = binlog::event::payload::payload_events(&inner, events.format());
                while let Some(iev) = ie.next() {
                    let iev = iev.ok()?;
                    match iev.decode(ie.format()).ok()? {
                        EventData::TableMap(tm) => {
                            tables.insert(tm.table_id, TableInfo::from_table_map(&tm).ok()?);
                        }
                        EventData::Rows(re) => {
                            let data = re.rows_data().ok()?;
                            n += Rows::new(&re, &data, tables.get(&re.table_id)?)
                                .ok()?
                                .count();
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some(n)
}

#[test]
fn one_json_line_per_row_change_in_every_corpus_file() {
    let Some(dir) = shared_fixtures() else { return };
    let mut checked = 0;
    for row in manifest(&dir) {
        let bytes = std::fs::read(&row.path).unwrap();
        let Some(want) = rows_in(&bytes) else {
            continue;
        };
        if want == 0 {
            continue;
        }
        let r = tool(&["decode", "--format", "jsonl"]).arg(&row.path).run();
        assert_eq!(r.code, 0, "{}: {}", row.rel, r.stderr);
        let lines: Vec<serde_json::Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", row.rel)))
            .collect();
        assert_eq!(lines.len(), want, "{}", row.rel);
        for l in &lines {
            assert!(
                l["op"].is_string() && l["table"].is_string() && l["pos"].is_u64(),
                "{l}"
            );
        }
        // The SQL form has one statement per change too, or is refused when a table has
        // no names (MINIMAL metadata and no schema: `@N` cannot run).
        let s = tool(&["decode"]).arg(&row.path).run();
        if s.code == 2 && s.stderr.contains("has no column names") {
            assert!(
                lines.iter().any(|l| l.to_string().contains("\"@1\":")),
                "{}",
                row.rel
            );
            checked += 1;
            continue;
        }
        assert_eq!(s.code, 0, "{}: {}", row.rel, s.stderr);
        let statements = s
            .stdout
            .lines()
            .filter(|l| {
                l.starts_with("/* ")
                    && (l.contains(" INSERT INTO ")
                        || l.contains(" UPDATE ")
                        || l.contains(" DELETE FROM "))
            })
            .count();
        assert!(
            statements >= want,
            "{}: {statements} statements for {want} rows",
            row.rel
        );
        checked += 1;
    }
    assert!(checked >= 20, "{checked} files checked");
}

#[test]
fn names_come_from_metadata_from_a_schema_file_or_sql_is_refused() {
    // row_full was written with binlog_row_metadata=FULL: names are in the binlog.
    let r = tool(&["decode", "-t", "fx.t_int", "--format", "jsonl"])
        .arg(fixture("row_full/mariadb-bin.000001"))
        .ok();
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert!(first["after"]["biu"].is_u64(), "{first}");

    // row_minimal was written with binlog_row_metadata=MINIMAL: @N without a schema in
    // JSON lines, and SQL refused (`@N` cannot run)…
    let f = fixture("row_minimal/mariadb-bin.000002");
    let r = tool(&["decode", "-t", "fx.t_int", "--format", "jsonl"])
        .arg(&f)
        .ok();
    assert!(r.stdout.contains("\"@1\":"), "{}", r.stdout);
    let r = tool(&["decode", "-t", "fx.t_int"]).arg(&f).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("table fx.t_int has no column names")
            && r.stderr.contains("--schema FILE"),
        "{}",
        r.stderr
    );
    // …and the generator's CREATE TABLE statements name them.
    let schema = root().join("fixtures/gen/schema.sql");
    let r = tool(&["decode", "-t", "fx.t_int", "--schema"])
        .arg(&schema)
        .arg(&f)
        .ok();
    assert!(!r.stdout.contains("`@1`"), "{}", r.stdout);
    assert!(r.stdout.contains("WHERE `id` = "), "{}", r.stdout);
}

#[test]
fn output_is_the_same_for_any_number_of_threads() {
    let files = [
        fixture("row_full/mariadb-bin.000002"),
        fixture("row_compressed/mariadb-bin.000001"),
        fixture("statement/mariadb-bin.000001"),
    ];
    for f in &files {
        for format in ["sql", "jsonl"] {
            // (fx.t_temporal_old cannot be decoded: leave it out.)
            let tables = [
                "-t",
                "fx.t_int",
                "-t",
                "fx.t_json",
                "-t",
                "fx.t_text",
                "-t",
                "fx.t_bulk",
                "-t",
                "fx.t_string",
                "-t",
                "%.t_comp%",
                "-d",
                "fx",
                "-d",
                "fx_extra",
            ];
            let tables: &[&str] = if f.ends_with("statement/mariadb-bin.000001") {
                &[]
            } else {
                &tables
            };
            let one = tool(&["decode", "--format", format])
                .args(tables)
                .arg(f)
                .env("RAYON_NUM_THREADS", "1")
                .run();
            let four = tool(&["decode", "--format", format])
                .args(tables)
                .arg(f)
                .env("RAYON_NUM_THREADS", "4")
                .run();
            assert_eq!(one.code, 0, "{}: {}", f.display(), one.stderr);
            assert_eq!(one.code, four.code, "{}", f.display());
            assert_eq!(one.stdout, four.stdout, "{} {format}", f.display());
            assert!(
                format == "jsonl" || one.stdout.len() > 100,
                "{}",
                f.display()
            );
        }
    }
}

/// A transaction over the 4 MiB that `decode` renders whole is cut into pieces rendered
/// on the pool (JSON lines): its lines are those of the same rows when `split` has made
/// them small transactions (rendered whole, in chunks), but for where each row lies and
/// the GTID and commit time of its transaction; and they do not depend on the number
/// of threads.
#[test]
fn a_big_transaction_renders_in_pieces_as_its_split_pieces_do() {
    let server = Server::start(171, ROW_DEFAULTS);
    server.sql(
        "CREATE DATABASE p;
         CREATE TABLE p.a (id INT PRIMARY KEY, s VARCHAR(400), d DECIMAL(12,3));
         CREATE TABLE p.b (id INT PRIMARY KEY, j JSON, t DATETIME(6));",
    );
    server.flush_binlogs();
    let mut sql = String::from("USE p;\nBEGIN;\n");
    for i in 0..8 {
        let (a0, a1) = (i * 2500 + 1, (i + 1) * 2500);
        let (b0, b1) = (i * 1500 + 1, (i + 1) * 1500);
        sql.push_str(&format!(
            "INSERT INTO p.a SELECT seq, REPEAT(CHAR(97 + seq % 26), 300 + seq % 50), seq / 7
                 FROM seq_{a0}_to_{a1};
             INSERT INTO p.b SELECT seq, JSON_OBJECT('n', seq, 'q', '\"x\"'),
                 '2024-01-01' + INTERVAL seq SECOND FROM seq_{b0}_to_{b1};
             UPDATE p.a SET s = CONCAT(LEFT(s, 100), 'é') WHERE id % 10 = {i};\n"
        ));
    }
    sql.push_str("DELETE FROM p.b WHERE id % 3 = 0;\nCOMMIT;\n");
    server.sql(&sql);
    let file = server.flush_binlogs();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > 8 << 20, "the transaction must pass 4 MiB: {size}");

    let decode = |f: &std::path::Path, threads: &str| {
        let r = tool(&["decode", "--format", "jsonl"])
            .arg(f)
            .env("RAYON_NUM_THREADS", threads)
            .run();
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let one = decode(&file, "1");
    for threads in ["2", "3", "8"] {
        assert!(one == decode(&file, threads), "{threads} threads");
    }

    // `events` lists pieces of the file in parallel too: every event, once, in order.
    for format in ["table", "jsonl"] {
        let list = |threads: &str| {
            let r = tool(&["events", "--format", format])
                .arg(&file)
                .env("RAYON_NUM_THREADS", threads)
                .run();
            assert_eq!(r.code, 0, "{}", r.stderr);
            r.stdout
        };
        let one = list("1");
        assert!(one == list("3"), "events --format {format}");
        if format == "table" {
            let ours: Vec<&str> = one
                .lines()
                .skip(1)
                .map(|l| l.split('\t').nth(1).unwrap())
                .collect();
            let theirs = run_mariadb_binlog(&[], &file);
            let theirs: Vec<&str> = theirs
                .lines()
                .filter_map(|l| l.strip_prefix("# at "))
                .collect();
            assert!(ours.len() > 1000, "{}", ours.len());
            assert_eq!(ours, theirs);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("split.bin");
    let r = tool(&["split", "--max-bytes", "300K", "-o"])
        .arg(&small)
        .arg(&file)
        .run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    // What a row's line says of the row itself.
    let rows = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                let o = v.as_object_mut().unwrap();
                for k in ["file", "pos", "gtid", "time", "timestamp"] {
                    o.shift_remove(k);
                }
                v.to_string()
            })
            .collect()
    };
    let whole = rows(&one);
    let pieces = rows(&decode(&small, "2"));
    // 20,000 + 12,000 inserts, 9,000 updates (each id % 10 once the ids are there),
    // 4,000 deletes.
    let updates: u64 = (0..8u64).map(|i| (i + 1) * 2500 / 10).sum();
    assert_eq!(whole.len() as u64, 20_000 + 12_000 + updates + 4_000);
    assert_eq!(whole.len(), pieces.len());
    for (n, (a, b)) in whole.iter().zip(&pieces).enumerate() {
        assert_eq!(a, b, "line {}", n + 1);
    }
}
