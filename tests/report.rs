//! `report`: its JSON against `bigtxn --format json` (every transaction, per-table counts)
//! and an independent header walk (events per type), on the fixtures, the shared corpus
//! and a multi-file binlog written by a real MariaDB (bursts on several tables, rotations,
//! DDL, a big transaction, a pause); its HTML rendered by headless Chromium without
//! console errors, with the expected numbers in the DOM and every binlog string escaped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use binlog::EventType;
use serde_json::Value;

use crate::bigtxn::{bigtxn_json, header_walk};
use crate::common::{project_binlogs, root, shared_fixtures, tool};
use crate::server::{Server, ROW_DEFAULTS};

/// `report --format json ARGS FILES` (to standard output): exit status and the object.
fn report_json(files: &[&Path], args: &[&str]) -> (i32, Value, String) {
    let r = tool(&["report", "--format", "json", "-o", "-"])
        .args(args)
        .args(files)
        .run();
    if r.code == 2 {
        return (2, Value::Null, r.stderr);
    }
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r.code, v, r.stderr)
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned number: {v}"))
}

/// Checks a report of `files` against bigtxn's transactions and a header walk of each
/// file; returns the report.
fn check_against_bigtxn_and_walk(files: &[&Path], args: &[&str]) -> Option<Value> {
    let (code, rep, err) = report_json(files, &[&["--top", "0"], args].concat());
    let (bcode, txns, berr) = bigtxn_json(files, &["--top", "0"]);
    let what = format!("{files:?}");
    if code == 2 {
        assert_eq!(
            bcode, 2,
            "{what}: report refused ({err}), bigtxn did not ({berr})"
        );
        return None;
    }
    let t = &rep["totals"];
    // Transactions: the same ones, ranked the same way, with the same numbers.
    let top = rep["top"].as_array().unwrap();
    assert_eq!(top.len(), txns.len(), "{what}: transactions");
    assert_eq!(u(&t["transactions"]), txns.len() as u64, "{what}");
    for (a, b) in top.iter().zip(&txns) {
        let mut a = a.clone();
        let cmd = a.as_object_mut().unwrap().remove("decode_command").unwrap();
        assert_eq!(&a, b, "{what}: a transaction differs");
        let expect = format!(
            "--start-position {} --stop-position {} ",
            b["start_pos"], b["end_pos"]
        );
        assert!(cmd.as_str().unwrap().contains(&expect), "{what}: {cmd}");
    }
    let sum = |k: &str| txns.iter().map(|x| u(&x[k])).sum::<u64>();
    assert_eq!(u(&t["transaction_bytes"]), sum("bytes"), "{what}");
    assert_eq!(u(&t["rows"]), sum("rows"), "{what}");
    assert_eq!(
        u(&t["uncounted_rows_events"]),
        sum("uncounted_rows_events"),
        "{what}"
    );
    // Per-table counts: bigtxn's transactions summed.
    let mut tables: BTreeMap<(String, String), [u64; 4]> = BTreeMap::new();
    for x in &txns {
        for tb in x["tables"].as_array().unwrap() {
            let e = tables
                .entry((
                    tb["schema"].as_str().unwrap().into(),
                    tb["table"].as_str().unwrap().into(),
                ))
                .or_default();
            e[0] += u(&tb["inserted"]);
            e[1] += u(&tb["updated"]);
            e[2] += u(&tb["deleted"]);
            e[3] += 1;
        }
    }
    let mut got: BTreeMap<(String, String), [u64; 4]> = BTreeMap::new();
    let mut table_bytes = 0;
    for tb in rep["tables"].as_array().unwrap() {
        got.insert(
            (
                tb["schema"].as_str().unwrap().into(),
                tb["table"].as_str().unwrap().into(),
            ),
            [
                u(&tb["inserted"]),
                u(&tb["updated"]),
                u(&tb["deleted"]),
                u(&tb["transactions"]),
            ],
        );
        table_bytes += u(&tb["bytes"]);
    }
    assert_eq!(got, tables, "{what}: per-table counts");
    // Each transaction that changed counted rows gives all its bytes to its tables.
    let with_tables: u64 = txns
        .iter()
        .filter(|x| !x["tables"].as_array().unwrap().is_empty())
        .map(|x| u(&x["bytes"]))
        .sum();
    assert_eq!(table_bytes, with_tables, "{what}: table bytes");
    // The timeline holds every transaction, byte and row exactly once.
    let buckets = rep["timeline"]["buckets"].as_array().unwrap();
    let over = |k: &str| -> u64 {
        buckets
            .iter()
            .map(|b| b[k].as_array().unwrap().iter().map(u).sum::<u64>())
            .sum()
    };
    // ...but for those far from all others, counted apart (at most 1 in 1000 per end).
    let lo = &rep["timeline"]["left_out"];
    assert_eq!(
        over("bytes") + u(&lo["bytes"]),
        u(&t["transaction_bytes"]),
        "{what}: timeline bytes"
    );
    assert_eq!(
        over("rows") + u(&lo["rows"]),
        u(&t["rows"]),
        "{what}: timeline rows"
    );
    let tl_txns: u64 = buckets.iter().map(|b| u(&b["transactions"])).sum();
    assert_eq!(
        tl_txns + u(&lo["transactions"]),
        txns.len() as u64,
        "{what}: timeline transactions"
    );
    assert!(
        u(&lo["transactions"]) <= 2 * (txns.len() as u64 / 1000),
        "{what}: {lo}"
    );
    assert!(buckets.len() <= 2000, "{what}: {} intervals", buckets.len());
    // Each file against a header walk and info.
    let mut truncated = false;
    let mut crc = 0;
    for (path, f) in files.iter().zip(rep["files"].as_array().unwrap()) {
        let bytes = std::fs::read(path).unwrap();
        let info = tool(&["info", "--format", "json"]).arg(path).run();
        let info: Value = serde_json::from_str(&info.stdout).unwrap();
        let info = &info[0];
        assert_eq!(f["server_version"], info["server_version"], "{what}");
        assert_eq!(f["events"], info["events"], "{path:?}: events");
        assert_eq!(f["gtids"], info["gtids"], "{path:?}: gtids");
        assert_eq!(f["end_position"], info["end_position"], "{path:?}");
        let cut = f["ending"]["kind"] == "truncated";
        assert_eq!(cut, info["end"] == "truncated", "{path:?}: ending");
        truncated |= cut;
        crc += u(&f["crc_errors"]);
        let walk = header_walk(&bytes);
        if !cut {
            let mut by_type: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
            for (_, code, len) in &walk {
                let e = by_type.entry(u64::from(*code)).or_default();
                e.0 += 1;
                e.1 += len;
            }
            let got: BTreeMap<u64, (u64, u64)> = f["event_types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (u(&e["code"]), (u(&e["count"]), u(&e["bytes"]))))
                .collect();
            assert_eq!(got, by_type, "{path:?}: events per type");
            assert_eq!(u(&f["events"]), walk.len() as u64, "{path:?}");
        }
    }
    let expect_code = i32::from(truncated || crc > 0);
    assert_eq!(code, expect_code, "{what}: exit status ({err})");
    Some(rep)
}

#[test]
fn report_equals_bigtxn_and_header_walk_on_fixtures() {
    let all = project_binlogs();
    let mut dirs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for f in &all {
        dirs.entry(f.parent().unwrap().to_path_buf())
            .or_default()
            .push(f.clone());
    }
    let mut checked = 0;
    for files in dirs.values() {
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        check_against_bigtxn_and_walk(&refs, &[]).expect("fixtures are readable");
        for f in &refs {
            check_against_bigtxn_and_walk(&[f], &[]).unwrap();
        }
        checked += 1;
    }
    assert!(checked >= 5);
    // The truncated file: exit status 1, the cut named.
    let cut = root().join("fixtures/open_truncated/truncated.bin");
    let (code, rep, _) = report_json(&[&cut], &[]);
    assert_eq!(code, 1);
    assert_eq!(rep["files"][0]["ending"]["kind"], "truncated");
    assert_eq!(rep["totals"]["truncated_files"], 1);
}

#[test]
fn report_equals_bigtxn_and_header_walk_on_the_corpus() {
    let Some(dir) = shared_fixtures() else { return };
    let mut checked = 0;
    let mut with_payloads = 0;
    for row in crate::common::manifest(&dir) {
        let Some(rep) = check_against_bigtxn_and_walk(&[&row.path], &[]) else {
            continue;
        };
        checked += 1;
        // Events inside compressed payloads, per type, as the corpus' manifest lists them.
        let inner = row
            .notes
            .split(' ')
            .find_map(|n| n.strip_prefix("payload_inner="));
        let types = |v: &Value| -> BTreeMap<String, u64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let code = EventType(u(&e["code"]) as u8);
                    assert!(u(&e["bytes"]) > 0, "{}: {e}", row.rel);
                    (code.code_name().unwrap().to_string(), u(&e["count"]))
                })
                .collect()
        };
        let want: BTreeMap<String, u64> = inner
            .into_iter()
            .flat_map(|l| l.split(','))
            .map(|kv| {
                let (k, v) = kv.rsplit_once(':').unwrap();
                (k.to_string(), v.parse().unwrap())
            })
            .collect();
        assert_eq!(types(&rep["payload_event_types"]), want, "{}", row.rel);
        let f = &rep["files"][0];
        assert_eq!(types(&f["payload_event_types"]), want, "{}", row.rel);
        assert_eq!(u(&f["payload_events"]), want.values().sum::<u64>());
        if !want.is_empty() {
            with_payloads += 1;
            // The page lists them beside the file's own events.
            let dir = tempfile::tempdir().unwrap();
            let page = dir.path().join("r.html");
            let r = tool(&["report", "-o"]).arg(&page).arg(&row.path).run();
            assert_eq!(r.code, 0, "{}", r.stderr);
            let html = std::fs::read_to_string(&page).unwrap();
            assert!(
                html.contains("<th class=\"n\">in payloads</th>"),
                "{}",
                row.rel
            );
            // Each type's row: its name and code, then the count inside payloads in the
            // fifth cell.
            for (name, n) in &want {
                let t = (0..=255u8)
                    .map(EventType)
                    .find(|t| t.code_name() == Some(name.as_str()))
                    .unwrap();
                let head = format!(
                    "<td>{}</td><td class=\"n\">{}</td>",
                    t.show_name(),
                    t.code()
                );
                let tr = html
                    .split("<tr>")
                    .find(|tr| tr.starts_with(&head))
                    .unwrap_or_else(|| panic!("{}: no row {head}", row.rel));
                let fifth = tr.split("</td>").nth(4).unwrap();
                assert!(fifth.ends_with(&format!(">{n}")), "{}: {tr}", row.rel);
            }
        }
    }
    assert!(checked > 50, "{checked} corpus files checked");
    assert!(with_payloads >= 3, "{with_payloads} files with payloads");
}

/// Renders `html` in headless Chromium: the DOM after load, and a screenshot at `png`.
/// Fails (never skips) when Chromium cannot run, and on any console message or
/// uncaught error.
fn chromium(html: &Path, png: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", html.display());
    let run = |extra: &[String]| -> (String, String) {
        let out = Command::new("timeout")
            .arg("120")
            .arg(chromium_binary())
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,2000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium (Debian's chromium package; .ci/run installs it)");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "chromium failed: {stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    };
    let (dom, err1) = run(&["--dump-dom".to_string()]);
    let (_, err2) = run(&[format!("--screenshot={}", png.display())]);
    for err in [&err1, &err2] {
        for l in err.lines() {
            assert!(
                !(l.contains("CONSOLE")
                    || l.contains("Uncaught")
                    || l.contains("ERR_FILE_NOT_FOUND")),
                "chromium reported: {l}"
            );
        }
    }
    let shot = std::fs::metadata(png).expect("a screenshot was written");
    assert!(shot.len() > 10_000, "screenshot of {} bytes", shot.len());
    dom
}

fn chromium_binary() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!("chromium not found: install Debian's chromium package (see .ci/run)");
}

/// The shape of the page: self-contained, no script, escaped.
fn check_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "the page has a script element");
    assert!(!lower.contains("<link"), "the page links something");
    assert!(!lower.contains(" src="), "the page loads something");
    assert!(!lower.contains("@import") && !lower.contains("url("));
    let outside = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!outside.contains("http://") && !outside.contains("https://"));
    assert!(lower.contains("@media print"));
}

#[test]
fn report_of_a_multi_file_session_renders_in_chromium() {
    let mut server = Server::start(61, ROW_DEFAULTS);
    let evil = "<script>alert(1)</script>";
    server.sql(&format!(
        "CREATE DATABASE shop;
         CREATE TABLE shop.orders (id INT PRIMARY KEY, amount DECIMAL(10,2), note VARCHAR(200));
         CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(100), qty INT);
         CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, what TEXT);
         CREATE TABLE shop.`{evil}` (id INT PRIMARY KEY, v INT);"
    ));
    // Burst 1: small transactions on three tables.
    let mut sql = String::new();
    for i in 0..200 {
        sql.push_str(&format!(
            "INSERT INTO shop.orders VALUES ({i}, {i}.50, 'order {i}');
             INSERT INTO shop.items VALUES ({i}, 'item {i}', {i});
             INSERT INTO shop.audit (what) VALUES ('burst one {i}');\n"
        ));
    }
    sql.push_str(&format!("INSERT INTO shop.`{evil}` VALUES (1, 1), (2, 2);"));
    server.sql(&sql);
    server.flush_binlogs();
    // A pause long enough to be a gap, then DDL and burst 2 with updates and deletes.
    std::thread::sleep(std::time::Duration::from_millis(3100));
    server.sql(
        "ALTER TABLE shop.items ADD COLUMN price INT DEFAULT 0;
         UPDATE shop.items SET price = id * 2 WHERE id < 100;
         DELETE FROM shop.orders WHERE id >= 150;",
    );
    server.sql(&format!("UPDATE shop.`{evil}` SET v = v + 1;"));
    server.flush_binlogs();
    // Burst 3: one big transaction.
    server.sql(
        "USE shop; INSERT INTO shop.audit (what) SELECT CONCAT('bulk ', seq, REPEAT('x', 200)) FROM seq_1_to_20000;",
    );
    server.flush_binlogs();
    let files = server.binlogs();
    assert!(files.len() >= 4, "{files:?}");
    // Stopped, so that no event lands in the last file between the runs compared.
    server.stop();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let rep = check_against_bigtxn_and_walk(&refs, &["--gap", "2"]).unwrap();

    // What the session did, as the report tells it.
    let top = &rep["top"][0];
    assert_eq!(top["rows"], 20000, "the big INSERT is the biggest: {top}");
    let kinds = |k: &str| -> Vec<&Value> {
        rep["markers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == k)
            .collect()
    };
    let ddl = kinds("ddl");
    assert!(
        ddl.iter().any(|m| m["statement"]
            .as_str()
            .unwrap()
            .contains("ADD COLUMN price")),
        "{ddl:?}"
    );
    assert_eq!(kinds("rotation").len(), files.len() - 1);
    let gaps = kinds("gap");
    assert!(
        gaps.iter().any(|g| u(&g["seconds"]) >= 2),
        "the pause is a gap: {gaps:?}"
    );
    assert!(!kinds("big_transaction").is_empty());
    let tables: Vec<String> = rep["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect();
    assert!(tables.contains(&evil.to_string()), "{tables:?}");
    let series = rep["timeline"]["series"].as_array().unwrap();
    assert!(series.iter().any(|s| s["table"] == "audit"));

    // The page.
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    tool(&["report", "--gap", "2", "-o"])
        .arg(&html)
        .args(&refs)
        .env("TZ", "Europe/Warsaw")
        .ok();
    let text = std::fs::read_to_string(&html).unwrap();
    check_self_contained(&text);
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let shot = root().join("target/report-screenshot.png");
    let dom = chromium(&html, &shot);
    // The DOM holds the escaped name as text, never as an element.
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "a script element in the DOM"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The numbers: totals, the biggest transaction and its command, the offset shown.
    let t = &rep["totals"];
    let commas = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert!(
        dom.contains(&format!(">{}<", commas(u(&t["transactions"])))),
        "transactions"
    );
    assert!(
        dom.contains(&format!(">{}<", commas(u(&t["events"])))),
        "events"
    );
    assert!(dom.contains(">20,000<"), "the big transaction's rows");
    let cmd = top["decode_command"].as_str().unwrap();
    assert!(dom.contains(cmd), "{cmd}");
    assert!(
        dom.contains("+01:00"),
        "local times with the offset (Warsaw in winter)"
    );
    for s in series {
        let name = s["name"].as_str().unwrap();
        let escaped = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(dom.contains(&escaped), "legend lacks {name}");
    }
    let _ = std::fs::copy(&shot, root().join("target/report-screenshot-session.png"));
}

#[test]
fn refusals_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let bad = dir.path().join("bad.bin");
    std::fs::write(&bad, b"not a binlog at all").unwrap();
    let r = tool(&["report", "-o"]).arg(&out).arg(&bad).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.bin"), "{}", r.stderr);
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let f = root().join("fixtures/row_full/mariadb-bin.000001");
    let r = tool(&["report", "-o"]).arg(&out).arg(&f).arg(&f).run();
    assert_eq!(r.code, 2, "the same file twice: {}", r.stderr);
    let r = tool(&["report", "-o"]).arg(&f).arg(&f).run();
    assert_eq!(r.code, 2, "the output over the input: {}", r.stderr);
}

/// Whether a transaction (an object of `top`) is one the options select.
type Selects<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

/// `report --top 0 --format json` of `files` with `args`, in UTC.
fn report_utc(files: &[PathBuf], args: &[&str]) -> Value {
    let r = tool(&["report", "--format", "json", "--top", "0", "-o", "-"])
        .env("TZ", "UTC")
        .args(args)
        .args(files)
        .ok();
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn a_selection_reports_the_transactions_it_selects() {
    let dir = root().join("fixtures/row_full");
    let files = vec![
        dir.join("mariadb-bin.000001"),
        dir.join("mariadb-bin.000002"),
    ];
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let full = report_utc(&files, &[]);
    let all = full["top"].as_array().unwrap().clone();
    // Transactions in file order, to pick bounds from.
    let mut by_place = all.clone();
    by_place.sort_by_key(|t| (t["file"] != names[0].as_str(), u(&t["start_pos"])));
    let in_file = |i: usize| -> Vec<&Value> {
        by_place
            .iter()
            .filter(|t| t["file"] == names[i].as_str())
            .collect()
    };
    let (first, last) = (in_file(0), in_file(1));
    assert!(
        first.len() > 6 && last.len() > 2,
        "{} {}",
        first.len(),
        last.len()
    );
    let start = u(&first[3]["start_pos"]);
    let stop = u(&last[last.len() - 2]["end_pos"]);
    let times: Vec<u64> = by_place.iter().map(|t| u(&t["last_timestamp"])).collect();
    let (t0, t1) = (times[4], times[times.len() - 3]);
    assert!(t0 < t1, "the fixture's commit times are spread: {times:?}");
    let iso = |t: u64| {
        chrono::DateTime::from_timestamp(t as i64, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let gtid = first[5]["gtid"].as_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, Selects)> = vec![
        (
            vec!["--start-position".into(), start.to_string()],
            Box::new(|t: &Value| t["file"] != names[0].as_str() || u(&t["start_pos"]) >= start),
        ),
        (
            vec!["--stop-position".into(), stop.to_string()],
            Box::new(|t: &Value| t["file"] != names[1].as_str() || u(&t["end_pos"]) <= stop),
        ),
        (
            vec![
                "--start-datetime".into(),
                iso(t0),
                "--stop-datetime".into(),
                iso(t1),
            ],
            Box::new(|t: &Value| (t0..t1).contains(&u(&t["last_timestamp"]))),
        ),
        (
            vec!["--include-gtids".into(), gtid.clone()],
            Box::new(|t: &Value| t["gtid"] == gtid.as_str()),
        ),
        (
            vec!["--exclude-gtids".into(), gtid.clone()],
            Box::new(|t: &Value| t["gtid"] != gtid.as_str()),
        ),
    ];
    // Events outside transactions (format descriptions, rotations, GTID lists, ...).
    let hist_total = |r: &Value| -> u64 {
        r["event_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| u(&e["count"]))
            .sum()
    };
    let events = |txns: &[&Value]| txns.iter().map(|t| u(&t["events"])).sum::<u64>();
    let control = hist_total(&full) - events(&all.iter().collect::<Vec<_>>());
    for (args, selects) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let rep = report_utc(&files, &args);
        let want: Vec<&Value> = all.iter().filter(|t| selects(t)).collect();
        assert!(
            !want.is_empty() && want.len() < all.len(),
            "{args:?} selects some, not all"
        );
        let strip = |t: &Value| {
            let mut t = t.clone();
            t.as_object_mut().unwrap().remove("rank");
            t
        };
        let got: Vec<Value> = rep["top"].as_array().unwrap().iter().map(strip).collect();
        let want_stripped: Vec<Value> = want.iter().map(|t| strip(t)).collect();
        assert_eq!(got, want_stripped, "{args:?}: transactions");
        let t = &rep["totals"];
        assert_eq!(u(&t["transactions"]), want.len() as u64, "{args:?}");
        let sum = |k: &str| want.iter().map(|x| u(&x[k])).sum::<u64>();
        assert_eq!(u(&t["rows"]), sum("rows"), "{args:?}");
        assert_eq!(u(&t["transaction_bytes"]), sum("bytes"), "{args:?}");
        assert_eq!(
            hist_total(&rep),
            events(&want) + control,
            "{args:?}: event types"
        );
        assert_eq!(u(&t["events"]), hist_total(&rep), "{args:?}: events in all");
        // What the files are stays the whole files'.
        for (a, b) in rep["files"]
            .as_array()
            .unwrap()
            .iter()
            .zip(full["files"].as_array().unwrap())
        {
            for k in [
                "size",
                "server_version",
                "checksum",
                "events",
                "end_position",
                "ending",
                "crc_errors",
            ] {
                assert_eq!(a[k], b[k], "{args:?}: {k}");
            }
        }
        let (from, to) = (u(&t["first_timestamp"]), u(&t["last_timestamp"]));
        for m in rep["markers"].as_array().unwrap() {
            assert!((from..=to).contains(&u(&m["timestamp"])), "{args:?}: {m}");
        }
        assert_eq!(rep["selection"].as_object().unwrap().len(), args.len() / 2);
    }
    // The page says what it shows.
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("r.html");
    tool(&["report", "--start-position", &start.to_string(), "-o"])
        .arg(&page)
        .args(&files)
        .ok();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains(&format!(
            "Only the transactions selected by <code>--start-position {start}</code>"
        )),
        "the page names its selection"
    );
    // A start position inside a transaction is refused, as decode refuses it.
    let inside = tool(&["report", "--format", "json", "-o", "-"])
        .args(["--start-position", &(start + 1).to_string()])
        .args(&files)
        .run();
    assert_eq!(inside.code, 2, "{}", inside.stderr);
    assert!(
        inside.stderr.contains("inside the transaction"),
        "{}",
        inside.stderr
    );
    assert!(inside.stdout.is_empty());
}
