//! The shared corpus of real MySQL and MariaDB binlogs: every file walks with the manifest's
//! per-type histogram, every CRC is right except in the files documented as corrupt (which
//! fail at the right offset), and every typed event re-encodes byte-identically.

use std::collections::BTreeMap;

use binlog::event::payload::payload_events;
use binlog::{Binlog, ErrorKind, EventData, EventType};

use crate::common::{manifest, shared_fixtures};

/// What walking one file found.
#[derive(Debug, Default)]
struct Walk {
    histogram: BTreeMap<String, usize>,
    payload_histogram: BTreeMap<String, usize>,
    structural_error: Option<(u64, String)>,
    crc_errors: Vec<u64>,
    decode_errors: Vec<(u64, String)>,
    reencode_mismatches: Vec<(u64, EventType)>,
    typed: usize,
}

fn type_name(ev: &binlog::Event) -> String {
    if ev.is_encrypted() {
        return "ENCRYPTED_EVENT".into();
    }
    match ev.event_type().code_name() {
        Some(n) => n.to_string(),
        None => format!("T{}", ev.event_type().code()),
    }
}

fn check_reencode(ev: &binlog::Event, data: &EventData, w: &mut Walk) {
    if !data.is_typed() {
        return;
    }
    w.typed += 1;
    let mut out = Vec::new();
    data.encode(&mut out).unwrap();
    if out != ev.body() {
        w.reencode_mismatches.push((ev.offset(), ev.event_type()));
    }
}

fn walk(bytes: &[u8]) -> Walk {
    let mut w = Walk::default();
    let log = match Binlog::parse(bytes) {
        Ok(l) => l,
        Err(e) => {
            w.structural_error = Some((e.offset(), e.to_string()));
            return w;
        }
    };
    let mut events = log.events().verify_checksums(false);
    while let Some(ev) = events.next() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                w.structural_error = Some((e.offset(), e.to_string()));
                break;
            }
        };
        *w.histogram.entry(type_name(&ev)).or_default() += 1;
        if ev.is_encrypted() {
            continue;
        }
        if ev.verify_checksum().is_err() {
            w.crc_errors.push(ev.offset());
        }
        let format = events.format().clone();
        let data = match ev.decode(&format) {
            Ok(d) => d,
            Err(e) => {
                w.decode_errors.push((ev.offset(), e.to_string()));
                continue;
            }
        };
        check_reencode(&ev, &data, &mut w);
        if let EventData::TransactionPayload(p) = &data {
            let inner = match p.decompress() {
                Ok(b) => b,
                Err(e) => {
                    w.decode_errors.push((ev.offset(), e.to_string()));
                    continue;
                }
            };
            let mut inner_events = payload_events(&inner, &format);
            while let Some(iev) = inner_events.next() {
                match iev {
                    Ok(iev) => {
                        *w.payload_histogram.entry(type_name(&iev)).or_default() += 1;
                        match iev.decode(inner_events.format()) {
                            Ok(d) => check_reencode(&iev, &d, &mut w),
                            Err(e) => w.decode_errors.push((ev.offset(), e.to_string())),
                        }
                    }
                    Err(e) => {
                        w.decode_errors.push((ev.offset(), e.to_string()));
                        break;
                    }
                }
            }
        }
    }
    w
}

/// Files broken on purpose (see the corpus README), and how.
fn expected_breakage(rel: &str) -> Option<&'static str> {
    let known = [
        ("binlog_truncated_event.000001", "truncated"),
        ("binlog_truncated_prev_gtid_event.000001", "truncated"),
        ("bug11747416_32228_binlog.000001", "truncated"),
        ("corrupt-relay-bin.000624", "decode"),
        ("ver_5_1-wl2325_r.001", "decode"),
        // A 5.2 development tree whose rows event codes meant other layouts: its type-20
        // event has no column count.
        ("ver_5_1-wl2325_s.001", "decode"),
        ("binlog_before_20574.bin", "encrypted"),
        ("invalid_row_v2_tag.001", "decode"),
        ("mdev-39404-binlog.000001", "crc"),
    ];
    known
        .iter()
        .find(|(name, _)| rel.ends_with(name))
        .map(|(_, how)| *how)
}

#[test]
fn every_manifest_file_walks_as_the_manifest_says() {
    let Some(dir) = shared_fixtures() else { return };
    let rows = manifest(&dir);
    assert!(rows.len() >= 90, "manifest lists {} files", rows.len());
    let mut failures = Vec::new();
    let mut typed_total = 0;
    for row in &rows {
        let bytes = std::fs::read(&row.path).unwrap_or_else(|e| panic!("{}: {e}", row.rel));
        assert_eq!(bytes.len() as u64, row.size, "{}", row.rel);
        let w = walk(&bytes);
        typed_total += w.typed;
        let want: BTreeMap<String, usize> = row.histogram.iter().cloned().collect();
        if w.histogram != want {
            failures.push(format!(
                "{}: histogram {:?} != manifest {:?}",
                row.rel, w.histogram, want
            ));
        }
        if let Some(inner) = row
            .notes
            .split(' ')
            .find_map(|n| n.strip_prefix("payload_inner="))
        {
            let want: BTreeMap<String, usize> = inner
                .split(',')
                .map(|kv| {
                    let (k, v) = kv.rsplit_once(':').unwrap();
                    (k.to_string(), v.parse().unwrap())
                })
                .collect();
            if w.payload_histogram != want {
                failures.push(format!(
                    "{}: payload histogram {:?} != {:?}",
                    row.rel, w.payload_histogram, want
                ));
            }
        }
        if !w.reencode_mismatches.is_empty() {
            failures.push(format!(
                "{}: re-encoding differs at {:?}",
                row.rel, w.reencode_mismatches
            ));
        }
        match expected_breakage(&row.rel) {
            None => {
                if let Some(e) = &w.structural_error {
                    failures.push(format!("{}: unexpected error {e:?}", row.rel));
                }
                if !w.crc_errors.is_empty() {
                    failures.push(format!("{}: CRC errors at {:?}", row.rel, w.crc_errors));
                }
                if !w.decode_errors.is_empty() {
                    failures.push(format!("{}: decode errors {:?}", row.rel, w.decode_errors));
                }
            }
            Some("truncated") => {
                if w.structural_error.is_none() {
                    failures.push(format!("{}: truncation not detected", row.rel));
                }
            }
            Some("encrypted") => {
                // Fuzzed, but encrypted with a key we do not have: only lengths are
                // readable, and they all are.
                if w.structural_error.is_some() || !w.histogram.contains_key("ENCRYPTED_EVENT") {
                    failures.push(format!("{}: encrypted events not walked", row.rel));
                }
            }
            Some("crc") => {
                if w.crc_errors.is_empty() {
                    failures.push(format!("{}: bad CRC not detected", row.rel));
                }
            }
            Some(_) => {
                if w.decode_errors.is_empty() {
                    failures.push(format!("{}: malformed body not detected", row.rel));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        typed_total > 10_000,
        "only {typed_total} typed events re-encoded"
    );
}

#[test]
fn corrupt_files_fail_at_the_documented_offsets() {
    let Some(dir) = shared_fixtures() else { return };
    let at = |rel: &str| -> Walk { walk(&std::fs::read(dir.join(rel)).unwrap()) };

    // A row event announces more bytes than the file holds, at offset 316.
    let w = at("mariadb-server-mysql-test_10.11.19/std_data/bug11747416_32228_binlog.000001");
    assert_eq!(w.structural_error.as_ref().map(|e| e.0), Some(316));

    // Magic and 10 bytes: the first header is cut at offset 4.
    let w = at("rust_mysql_common/binlog_truncated_event.000001");
    assert_eq!(w.structural_error.as_ref().map(|e| e.0), Some(4));

    // One bad CRC, on the GTID event after the FDE.
    let bytes = std::fs::read(
        dir.join("mariadb-server-mysql-test_10.11.19/std_data/mdev-39404-binlog.000001"),
    )
    .unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    let fde_end = log.events().next().unwrap().unwrap().end_offset();
    let w = walk(&bytes);
    assert_eq!(w.crc_errors, vec![fde_end]);
    let err = log
        .events()
        .find_map(|e| e.err())
        .expect("checked walk fails");
    assert_eq!(err.offset(), fde_end);
    assert!(matches!(err.kind(), ErrorKind::BadChecksum { .. }));
}

/// Inputs the fuzzers found (fuzz/regressions): each walks to an end, and every event that
/// decodes to a typed form writes back to the same bytes.
#[test]
fn fuzz_findings_stay_fixed() {
    let dir = crate::common::root().join("fuzz/regressions");
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let report = binlog::deep_walk::deep_check(&bytes);
        assert!(report.events < 1000, "{}: {report:?}", path.display());
        let w = walk(&bytes);
        assert!(
            w.reencode_mismatches.is_empty(),
            "{}: {:?}",
            path.display(),
            w.reencode_mismatches
        );
        n += 1;
    }
    assert!(n >= 7);
}
