//! The report's data as one JSON object (README, "Report", describes the shape).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use binlog::report::{FileFacts, MarkerKind, Report, Series, TypeCount};
use binlog::summary::{Checksum, Ending};
use binlog::{EventType, Flavor};
use serde_json::{json, Value};

use super::decode_command;
use crate::cli::bigtxn::json_object;
use crate::cli::output::local_time_iso;

fn iso(ts: u32) -> Value {
    json!(local_time_iso(ts))
}

fn opt_time(ts: Option<u32>) -> (Value, Value) {
    match ts {
        Some(t) => (json!(t), iso(t)),
        None => (Value::Null, Value::Null),
    }
}

/// `(type name, code, count, bytes)` objects, most frequent first.
pub fn event_types(types: &BTreeMap<u8, TypeCount>) -> Value {
    let mut v: Vec<(&u8, &TypeCount)> = types.iter().collect();
    v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    Value::Array(
        v.into_iter()
            .map(|(code, c)| {
                json!({
                    "type": EventType(*code).show_name(),
                    "code": code,
                    "count": c.count,
                    "bytes": c.bytes,
                })
            })
            .collect(),
    )
}

/// `flavor` as the report names it.
pub fn flavor(f: Flavor) -> &'static str {
    match f {
        Flavor::MySql => "mysql",
        Flavor::MariaDb => "mariadb",
    }
}

/// `checksum` as the report names it.
pub fn checksum(c: Checksum) -> String {
    match c {
        Checksum::Absent => "none (pre-5.6 format)".into(),
        Checksum::Crc32 => "CRC32".into(),
        Checksum::Off => "off".into(),
        Checksum::Unknown(n) => format!("unknown ({n})"),
    }
}

fn ending(e: &Ending) -> Value {
    match e {
        Ending::Rotate(next) => json!({"kind": "rotate", "next_file": next}),
        Ending::Stop => json!({"kind": "stop"}),
        Ending::Open => json!({"kind": "open"}),
        Ending::Truncated(err) => {
            json!({"kind": "truncated", "offset": err.offset(), "error": err.kind().to_string()})
        }
    }
}

fn file(path: &Path, f: &FileFacts) -> Value {
    let (first_ts, first_time) = opt_time(f.first_timestamp);
    let (last_ts, last_time) = opt_time(f.last_timestamp);
    let known = f.has_format_event;
    json!({
        "file": path.display().to_string(),
        "size": f.size,
        "has_format_event": f.has_format_event,
        // Without a FORMAT_DESCRIPTION these would be a guess.
        "server_version": known.then_some(&f.server_version),
        "flavor": known.then(|| flavor(f.flavor)),
        "binlog_version": known.then_some(f.binlog_version),
        "checksum": known.then(|| checksum(f.checksum)),
        "events": f.events,
        "first_timestamp": first_ts,
        "first_time": first_time,
        "last_timestamp": last_ts,
        "last_time": last_time,
        "end_position": f.end_position,
        "gtids": f.gtids.to_string(),
        "previous_gtids": f.previous_gtids,
        "gtid_list": f.gtid_list,
        "in_use": f.in_use,
        "encrypted_from": f.encrypted_from,
        "ending": ending(&f.ending),
        "crc_errors": f.crc_errors,
        "first_crc_error": f.first_crc_error.as_ref().map(|e| json!({"offset": e.offset(), "error": e.kind().to_string()})),
        "transactions": f.transactions,
        "incomplete_transactions": f.incomplete_transactions,
        "transaction_bytes": f.transaction_bytes,
        "rows": f.rows,
        "uncounted_rows_events": f.uncounted_rows_events,
        "row_error": f.row_error.as_ref().map(|e| e.to_string()),
        "payload_events": f.payload_events,
        "event_types": event_types(&f.event_types),
        "payload_event_types": event_types(&f.payload_event_types),
    })
}

/// The name a series has in the report.
pub fn series_name(s: &Series) -> String {
    match s {
        Series::Table(t) => t.to_string(),
        Series::Other => "other tables".into(),
        Series::NoRows => "no rows (DDL, statements)".into(),
    }
}

fn series(s: &Series) -> Value {
    match s {
        Series::Table(t) => {
            json!({"kind": "table", "name": series_name(s), "schema": t.schema, "table": t.table})
        }
        Series::Other => json!({"kind": "other", "name": series_name(s)}),
        Series::NoRows => json!({"kind": "no_rows", "name": series_name(s)}),
    }
}

/// The whole report.
pub fn report(r: &Report, paths: &[PathBuf], selection: &[(&str, Value)]) -> Value {
    let t = &r.totals;
    let (first_ts, first_time) = opt_time(t.first_timestamp);
    let (last_ts, last_time) = opt_time(t.last_timestamp);
    let markers: Vec<Value> = r
        .markers
        .iter()
        .map(|m| {
            let mut v = match &m.kind {
                MarkerKind::Ddl(d) => json!({
                    "kind": "ddl",
                    "start_pos": d.start,
                    "end_pos": d.end,
                    "database": d.database,
                    "statement": d.text,
                }),
                MarkerKind::Rotation { from } => json!({
                    "kind": "rotation",
                    "from_file": paths[*from].display().to_string(),
                }),
                MarkerKind::Gap(g) => json!({
                    "kind": "gap",
                    "from_timestamp": g.from,
                    "from_time": iso(g.from),
                    "seconds": g.to - g.from,
                    "position": g.position,
                }),
                MarkerKind::BigTransaction(rank) => {
                    json!({"kind": "big_transaction", "rank": rank})
                }
            };
            v["timestamp"] = json!(m.time);
            v["time"] = iso(m.time);
            v["file"] = json!(paths[m.file].display().to_string());
            v
        })
        .collect();
    let top: Vec<Value> = r
        .top
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let path = &paths[x.file];
            let mut v = json_object(i + 1, path, &x.stats);
            v["decode_command"] = json!(decode_command(path, x.stats.start, x.stats.end));
            v
        })
        .collect();
    let tables: Vec<Value> = r
        .tables
        .iter()
        .map(|(n, t)| {
            json!({
                "schema": n.schema,
                "table": n.table,
                "inserted": t.inserted,
                "updated": t.updated,
                "deleted": t.deleted,
                "rows": t.rows(),
                "bytes": t.bytes,
                "rows_event_bytes": t.rows_event_bytes,
                "transactions": t.transactions,
            })
        })
        .collect();
    let buckets: Vec<Value> = r
        .timeline
        .buckets
        .iter()
        .map(|b| {
            json!({
                "start": b.start,
                "time": u32::try_from(b.start).map(iso).unwrap_or(Value::Null),
                "transactions": b.transactions,
                "bytes": b.bytes,
                "rows": b.rows,
            })
        })
        .collect();
    json!({
        "report": "binlog-tool report",
        "version": 1,
        "utc_offset": t.first_timestamp.map(|ts| super::units::offset(i64::from(ts))),
        "totals": {
            "files": r.files.len(),
            "file_bytes": t.file_bytes,
            "events": t.events,
            "transactions": t.transactions,
            "transaction_bytes": t.transaction_bytes,
            "rows": t.rows,
            "inserted": t.inserted,
            "updated": t.updated,
            "deleted": t.deleted,
            "uncounted_rows_events": t.uncounted_rows_events,
            "crc_errors": t.crc_errors,
            "truncated_files": t.truncated_files,
            "first_timestamp": first_ts,
            "first_time": first_time,
            "last_timestamp": last_ts,
            "last_time": last_time,
        },
        "selection": (!selection.is_empty()).then(|| {
            selection
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<serde_json::Map<_, _>>()
        }),
        "files": paths.iter().zip(&r.files).map(|(p, f)| file(p, f)).collect::<Vec<_>>(),
        "timeline": {
            "width": r.timeline.width,
            "series": r.timeline.series.iter().map(series).collect::<Vec<_>>(),
            "buckets": buckets,
            "left_out": {
                "transactions": r.timeline.left_out.transactions,
                "bytes": r.timeline.left_out.bytes,
                "rows": r.timeline.left_out.rows,
            },
        },
        "markers": markers,
        "top": top,
        "tables": tables,
        "event_types": event_types(&r.event_types),
        "payload_event_types": event_types(&r.payload_event_types),
    })
}
