//! The `info`, `events` and `verify` subcommands, run as a user runs them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{fixture, project_binlogs, shared_fixtures, tool};

/// The fixture's own event listing (`*.events.tsv`, written by the generator's independent
/// header walk): `(offset, type_code, size, end_log_pos)`.
fn listed_events(binlog: &Path) -> Vec<(u64, u8, u64, u64)> {
    let tsv = binlog.with_file_name(format!(
        "{}.events.tsv",
        binlog.file_name().unwrap().to_string_lossy()
    ));
    std::fs::read_to_string(tsv)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.contains("TRUNCATED"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn events_lists_what_an_independent_walk_lists() {
    for path in project_binlogs() {
        let want = listed_events(&path);
        let r = tool(&["events", "--format", "jsonl"]).arg(&path).run();
        if path.ends_with("truncated.bin") {
            assert_eq!(r.code, 2);
            assert!(r.stderr.contains("at offset 1922"), "{}", r.stderr);
        } else {
            assert_eq!(r.code, 0, "{}", r.stderr);
        }
        let got: Vec<(u64, u8, u64, u64)> = r
            .stdout
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                for key in [
                    "file",
                    "pos",
                    "end_log_pos",
                    "type",
                    "type_code",
                    "timestamp",
                    "server_id",
                    "size",
                ] {
                    assert!(v.get(key).is_some(), "{key} missing in {l}");
                }
                (
                    v["pos"].as_u64().unwrap(),
                    v["type_code"].as_u64().unwrap() as u8,
                    v["size"].as_u64().unwrap(),
                    v["end_log_pos"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{}", path.display());

        // The table view has the SHOW BINLOG EVENTS columns and one line per event.
        let t = tool(&["events"]).arg(&path).run();
        let mut lines = t.stdout.lines();
        assert_eq!(
            lines.next().unwrap(),
            "Log_name\tPos\tEvent_type\tServer_id\tEnd_log_pos\tInfo"
        );
        assert_eq!(lines.count(), want.len());
    }
}

#[test]
fn events_window_and_payload_contents() {
    let f = fixture("row_full/mariadb-bin.000002");
    let all = listed_events(&f);
    let (start, stop) = (all[4].0, all[10].0);
    let r = tool(&["events", "--format", "jsonl", "--start-position"])
        .arg(start.to_string())
        .arg("--stop-position")
        .arg(stop.to_string())
        .arg(&f)
        .ok();
    let pos: Vec<u64> = r
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["pos"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(pos, all[4..10].iter().map(|e| e.0).collect::<Vec<_>>());

    let Some(shared) = shared_fixtures() else {
        return;
    };
    let r = tool(&["events", "--format", "jsonl"])
        .arg(shared.join("rust_mysql_common/transaction_compression.000001"))
        .ok();
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let inner: Vec<&str> = lines
        .iter()
        .filter(|v| v["in_payload"] == true)
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    assert_eq!(inner, ["Query", "Table_map", "Write_rows", "Xid"]);
    let payload_at = lines
        .iter()
        .position(|v| v["type"] == "Transaction_payload")
        .unwrap();
    assert_eq!(lines[payload_at + 1]["in_payload"], true);
}

#[test]
fn info_reports_format_range_and_ending() {
    let files = [
        fixture("row_full/mariadb-bin.000001"),
        fixture("row_full/mariadb-bin.000002"),
        fixture("open_truncated/mariadb-bin.000001"),
        fixture("open_truncated/truncated.bin"),
    ];
    let r = tool(&["info", "--format", "json"]).args(&files).run();
    assert_eq!(r.code, 1, "a truncated file makes the exit status 1");
    assert!(
        r.stderr.contains("truncated.bin: truncated at offset 1922"),
        "{}",
        r.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a[0]["flavor"], "MariaDB");
    assert_eq!(a[0]["checksum"], "CRC32");
    assert_eq!(a[0]["binlog_version"], 4);
    assert_eq!(a[0]["end"], "rotate");
    assert_eq!(a[0]["next_file"], "mariadb-bin.000002");
    assert_eq!(a[0]["size"], std::fs::metadata(&files[0]).unwrap().len());
    assert_eq!(a[0]["events"], listed_events(&files[0]).len());
    assert_eq!(a[0]["end_position"], a[0]["size"]);
    assert!(
        a[0]["gtids"].as_str().unwrap().contains("0-1-1.."),
        "{}",
        a[0]["gtids"]
    );
    assert_eq!(a[1]["end"], "stop");
    assert_eq!(a[2]["end"], "open");
    assert_eq!(a[2]["in_use"], true);
    assert_eq!(a[1]["in_use"], false);
    assert_eq!(a[3]["end"], "truncated");
    assert_eq!(a[3]["truncated_at"], 1922);
    assert_eq!(a[3]["end_position"], 1922);
    assert!(a[0]["first_timestamp"].as_u64().unwrap() <= a[0]["last_timestamp"].as_u64().unwrap());

    let t = tool(&["info"]).arg(&files[3]).run();
    assert!(
        t.stdout.contains("truncated at offset 1922"),
        "{}",
        t.stdout
    );
}

#[test]
fn verify_passes_clean_files_and_names_offsets_of_broken_ones() {
    let clean: Vec<_> = project_binlogs()
        .into_iter()
        .filter(|p| !p.ends_with("truncated.bin"))
        .collect();
    let r = tool(&["verify"]).args(&clean).run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.lines().filter(|l| l.contains(": OK, ")).count(),
        clean.len()
    );

    let r = tool(&["verify"])
        .arg(fixture("open_truncated/truncated.bin"))
        .run();
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("offset 1922:") && r.stdout.contains("ends at 1922"),
        "{}",
        r.stdout
    );

    // A flipped byte in an event body: CRC mismatch at that event's offset.
    let src = std::fs::read(fixture("row_full/mariadb-bin.000002")).unwrap();
    let events = listed_events(&fixture("row_full/mariadb-bin.000002"));
    let victim = events[7];
    let mut bad = src.clone();
    bad[victim.0 as usize + 25] ^= 0x40;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.000001");
    std::fs::write(&p, &bad).unwrap();
    let r = tool(&["verify", "-q"]).arg(&p).run();
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains(&format!("offset {}: CRC32 mismatch", victim.0)),
        "{}",
        r.stdout
    );

    // Not a binlog at all.
    let p2 = dir.path().join("notes.txt");
    std::fs::write(&p2, b"hello world").unwrap();
    let r = tool(&["verify"]).arg(&p2).run();
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("offset 0: not a binlog"), "{}", r.stdout);

    let Some(shared) = shared_fixtures() else {
        return;
    };
    let r =
        tool(&["verify", "-q"])
            .arg(shared.join(
                "mariadb-server-mysql-test_10.11.19/std_data/bug11747416_32228_binlog.000001",
            ))
            .run();
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("offset 316:"), "{}", r.stdout);
}

#[test]
fn verify_checks_an_index_file() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["mariadb-bin.000001", "mariadb-bin.000002"] {
        std::fs::copy(fixture(&format!("row_full/{n}")), dir.path().join(n)).unwrap();
    }
    let index = dir.path().join("mariadb-bin.index");
    std::fs::write(&index, "./mariadb-bin.000001\n./mariadb-bin.000002\n").unwrap();
    let r = tool(&["verify", "--index"]).arg(&index).run();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.stdout.matches(": OK, ").count(), 2);

    std::fs::write(
        &index,
        "./mariadb-bin.000002\n./mariadb-bin.000001\n./mariadb-bin.000003\n",
    )
    .unwrap();
    let r = tool(&["verify", "--index"]).arg(&index).run();
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("line 3: names ./mariadb-bin.000003, which does not exist"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("line 2: ./mariadb-bin.000001 is out of order"),
        "{}",
        r.stdout
    );
}

#[test]
fn errors_are_one_line_with_the_file_and_a_nonzero_exit() {
    let r = tool(&["info", "/nonexistent/mysql-bin.000001"]).run();
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("/nonexistent/mysql-bin.000001: cannot open"),
        "{}",
        r.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("short.bin");
    std::fs::write(&p, b"\xfebin\x01\x02").unwrap();
    for cmd in ["info", "events"] {
        let r = tool(&[cmd]).arg(&p).run();
        assert!(r.code != 0, "{cmd}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("short.bin") && r.stderr.contains("offset 4"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_binlog-tool"))
        .args(["events"])
        .arg(fixture("row_full/mariadb-bin.000001"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("Log_name"));
    drop(out);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn info_reads_the_files_of_an_index_in_order() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["mariadb-bin.000001", "mariadb-bin.000002"] {
        std::fs::copy(fixture(&format!("row_full/{n}")), dir.path().join(n)).unwrap();
    }
    let index = dir.path().join("mariadb-bin.index");
    std::fs::write(&index, "./mariadb-bin.000001\n./mariadb-bin.000002\n").unwrap();
    let r = tool(&["info", "--format", "json", "--index"])
        .arg(&index)
        .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 2);
    assert!(a[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("mariadb-bin.000001"));
    assert!(a[1]["file"]
        .as_str()
        .unwrap()
        .ends_with("mariadb-bin.000002"));
    // Time and GTID ranges follow one another: the second file starts where the first ends.
    assert!(a[0]["last_timestamp"].as_u64() <= a[1]["first_timestamp"].as_u64().map(|t| t + 1));
    assert_eq!(a[0]["next_file"], "mariadb-bin.000002");
    assert!(
        a[1]["gtid_list"].as_str().unwrap().contains("0-1-60"),
        "{}",
        a[1]["gtid_list"]
    );
    assert!(
        a[1]["gtids"].as_str().unwrap().starts_with("0-1-61.."),
        "{}",
        a[1]["gtids"]
    );
}
