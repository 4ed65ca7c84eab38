//! The report as one self-contained HTML page: inline CSS and SVG, no script, nothing
//! fetched. Every string that comes from a binlog is escaped.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;

use binlog::report::{MarkerKind, Report, TypeCount};
use binlog::summary::Ending;
use binlog::EventType;

use super::json::{checksum, flavor, series_name};
use super::svg::{chart, colour, marker_text};
use super::units::{bytes, count, duration, esc, offset, short, time};
use super::{decode_command, selection_text};
use crate::cli::output::file_name;

const STYLE: &str = r#"
:root{--fg:#1d2430;--muted:#5b6472;--line:#d9dde3;--bg:#fff;--soft:#f4f6f8;--bad:#b3261e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1280px;padding:20px 28px 40px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--muted);margin:0 0 14px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{background:var(--soft);border-radius:6px;padding:8px 14px;min-width:140px}
.card b{display:block;font-size:19px}.card span{color:var(--muted);font-size:12px}
.problems{border-left:4px solid var(--bad);background:#fdf0ef;padding:8px 14px;margin:12px 0}
.problems li{margin:2px 0}
.ok{color:#2e7d32}
table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
code.cmd{user-select:all;background:var(--soft);padding:1px 4px;border-radius:3px;word-break:break-all}
.wrap{word-break:break-all}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:#e6e9ed}.chart .axis{stroke:#889}.chart .tick{stroke:#889}
.chart .ylab{font-size:11px;fill:var(--muted);text-anchor:end}
.chart .xlab{font-size:11px;fill:var(--muted);text-anchor:middle}
.chart .gap{fill:#e9e4f5;opacity:.8}
.chart .bar:hover rect{opacity:.8}
.marker line{stroke-width:1.3}.marker text{font-size:10px;text-anchor:middle;font-weight:700}
.m-ddl line{stroke:#6a3d9a;stroke-dasharray:3 2}.m-ddl text{fill:#6a3d9a}
.m-rot line{stroke:#444;stroke-dasharray:1 2}.m-rot text{fill:#444}
.m-big line{stroke:#c62828}.m-big text{fill:#c62828}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:4px 0 6px;font-size:12px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.bar-cell{width:28%}.hbar{height:10px;background:#4e79a7;border-radius:2px;min-width:1px}
.caption{color:var(--muted);font-size:12px;margin:2px 0 10px}
details summary{cursor:pointer;color:var(--muted)}
@media print{
 body{max-width:none;padding:0;font-size:11px}
 h2{break-after:avoid}
 tr,.chart,.card{break-inside:avoid}
 code.cmd{background:none;border:1px solid var(--line)}
 details{display:block}details>*{display:block}
 a{color:inherit;text-decoration:none}
}
"#;

/// The page.
pub fn page(r: &Report, paths: &[PathBuf], selection: &[(&str, serde_json::Value)]) -> String {
    let names: Vec<String> = paths.iter().map(|p| file_name(p)).collect();
    let mut h = String::with_capacity(256 * 1024);
    let t = &r.totals;
    let span = match (t.first_timestamp, t.last_timestamp) {
        (Some(a), Some(b)) => format!(
            "{} to {} ({})",
            time(i64::from(a)),
            time(i64::from(b)),
            duration(i64::from(b) - i64::from(a))
        ),
        _ => "no events with a time".into(),
    };
    let zone = t
        .first_timestamp
        .map(|ts| offset(i64::from(ts)))
        .unwrap_or_else(|| "+00:00".into());
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>binlog report: {}</title><style>{STYLE}</style></head><body>",
        esc(&title(&names))
    );
    let _ = write!(
        h,
        "<h1>Binlog report</h1><p class=\"sub\">{} file(s): {} · {span} · times in the local zone, UTC{zone}</p>",
        names.len(),
        esc(&title(&names))
    );
    if !selection.is_empty() {
        let _ = write!(
            h,
            "<p class=\"sub\" id=\"selection\">Only the transactions selected by <code>{}</code>; each file's facts are the whole file's.</p>",
            esc(&selection_text(selection))
        );
    }
    cards(&mut h, r);
    problems(&mut h, r, &names);
    timeline(&mut h, r, &names);
    top(&mut h, r, paths, &names);
    tables(&mut h, r);
    markers(&mut h, r, &names);
    event_types(&mut h, r);
    files(&mut h, r, &names);
    let _ = writeln!(
        h,
        "<p class=\"caption\">Made by binlog-tool {} report. Rows are counted from row images without decoding values; a transaction's bytes are split among its tables in proportion to their rows events' bytes and counted at the time of its last event.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn title(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} … {last}"),
    }
}

fn cards(h: &mut String, r: &Report) {
    let t = &r.totals;
    let biggest = r
        .top
        .first()
        .map(|x| bytes(x.stats.bytes()))
        .unwrap_or_else(|| "–".into());
    let ddl = r
        .markers
        .iter()
        .filter(|m| matches!(m.kind, MarkerKind::Ddl(_)))
        .count();
    let gaps = r
        .markers
        .iter()
        .filter(|m| matches!(m.kind, MarkerKind::Gap(_)))
        .count();
    h.push_str("<div class=\"cards\">");
    for (id, v, what) in [
        ("c-bytes", bytes(t.file_bytes), "in the files"),
        ("c-txns", count(t.transactions), "transactions"),
        ("c-rows", short(t.rows), "rows changed"),
        ("c-events", count(t.events), "events"),
        ("c-tables", count(r.tables.len() as u64), "tables written"),
        ("c-biggest", biggest, "biggest transaction"),
        ("c-ddl", count(ddl as u64), "DDL statements"),
        ("c-gaps", count(gaps as u64), "gaps"),
    ] {
        let _ = write!(
            h,
            "<div class=\"card\" id=\"{id}\"><b>{}</b><span>{}</span></div>",
            esc(&v),
            what
        );
    }
    h.push_str("</div>");
}

fn problems(h: &mut String, r: &Report, names: &[String]) {
    let mut items = Vec::new();
    for (f, name) in r.files.iter().zip(names) {
        if let Ending::Truncated(e) = &f.ending {
            items.push(format!(
                "{name}: cut short at offset {}: {} (the transaction it cuts is listed as incomplete)",
                e.offset(),
                e.kind()
            ));
        }
        if let Some(e) = &f.first_crc_error {
            items.push(format!(
                "{name}: {} events with a bad CRC32, the first at offset {}",
                f.crc_errors,
                e.offset()
            ));
        }
        if f.uncounted_rows_events > 0 {
            let why = f
                .row_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default();
            items.push(format!(
                "{name}: the rows of {} rows events could not be counted{why}",
                f.uncounted_rows_events
            ));
        }
        if let Some(at) = f.encrypted_from {
            items.push(format!(
                "{name}: encrypted from offset {at} on; those events are counted but not read"
            ));
        }
        if !f.has_format_event {
            items.push(format!(
                "{name}: no FORMAT_DESCRIPTION event; its server version and checksum are unknown"
            ));
        }
    }
    if items.is_empty() {
        h.push_str("<p class=\"ok\" id=\"problems\">No problems found: every file reads to its end, every CRC32 matches, every rows event's rows were counted.</p>");
        return;
    }
    h.push_str("<div class=\"problems\" id=\"problems\"><b>Problems</b><ul>");
    for i in items {
        let _ = write!(h, "<li>{}</li>", esc(&i));
    }
    h.push_str("</ul></div>");
}

fn timeline(h: &mut String, r: &Report, names: &[String]) {
    let tl = &r.timeline;
    h.push_str("<h2>Timeline</h2>");
    if tl.buckets.is_empty() {
        h.push_str("<p>No events with a time.</p>");
        return;
    }
    let _ = write!(
        h,
        "<p class=\"caption\">Per {} interval, by the time of each transaction's last event. Marks: <b style=\"color:#6a3d9a\">D</b> DDL, <b style=\"color:#444\">R</b> next file, <b style=\"color:#c62828\">#N</b> the N-th biggest transaction, shaded: no events for at least the gap threshold. Hover for details.</p>",
        duration(i64::from(tl.width))
    );
    let lo = &tl.left_out;
    if lo.transactions > 0 {
        let _ = write!(
            h,
            "<p class=\"caption\" id=\"left-out\">Not drawn: {} transactions ({}, {}) whose times lie far from all the others' (a pinned or wrong clock).</p>",
            count(lo.transactions),
            bytes(lo.bytes),
            short(lo.rows)
        );
    }
    h.push_str("<div class=\"legend\">");
    for (i, s) in tl.series.iter().enumerate() {
        let _ = write!(
            h,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            colour(r, i),
            esc(&series_name(s))
        );
    }
    h.push_str("</div>");
    h.push_str("<h3 style=\"font-size:14px;margin:8px 0 0\">Bytes written</h3>");
    h.push_str(&chart(
        r,
        "chart-bytes",
        "bytes written per interval",
        &|k| tl.buckets[k].bytes.clone(),
        &bytes,
        names,
    ));
    h.push_str("<h3 style=\"font-size:14px;margin:8px 0 0\">Rows changed</h3>");
    h.push_str(&chart(
        r,
        "chart-rows",
        "rows changed per interval",
        &|k| tl.buckets[k].rows.clone(),
        &short,
        names,
    ));
}

fn top(h: &mut String, r: &Report, paths: &[PathBuf], names: &[String]) {
    let _ = write!(h, "<h2>Biggest transactions</h2>");
    if r.top.is_empty() {
        h.push_str("<p>No transactions.</p>");
        return;
    }
    h.push_str("<p class=\"caption\">By bytes. Each command prints the transaction's changes.</p><table id=\"top\"><thead><tr><th class=\"n\">#</th><th class=\"n\">bytes</th><th class=\"n\">rows</th><th class=\"n\">duration</th><th>time</th><th>tables</th><th>where</th><th>GTID</th><th>show it</th></tr></thead><tbody>");
    for (i, x) in r.top.iter().enumerate() {
        let s = &x.stats;
        let mut tables = String::new();
        for t in &s.tables {
            let mut parts = Vec::new();
            for (n, what) in [(t.inserted, "ins"), (t.updated, "upd"), (t.deleted, "del")] {
                if n > 0 {
                    parts.push(format!("{} {what}", short(n)));
                }
            }
            let _ = write!(
                tables,
                "<div>{} <span class=\"caption\">{}</span></div>",
                esc(&t.name.to_string()),
                parts.join(", ")
            );
        }
        if s.tables.is_empty() {
            tables.push_str(&format!("<span class=\"caption\">{}</span>", s.kind_name()));
        }
        let mut flags = String::new();
        if !s.is_complete() {
            flags.push_str(" <b style=\"color:var(--bad)\">incomplete</b>");
        }
        if s.compressed {
            let _ = write!(
                flags,
                " <span class=\"caption\">compressed, {} uncompressed</span>",
                bytes(s.uncompressed_bytes)
            );
        }
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"n\" title=\"{} bytes\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"mono\">{}</td><td>{tables}</td><td class=\"mono wrap\">{}:{}-{}{flags}</td><td class=\"mono wrap\">{}</td><td><code class=\"cmd\">{}</code></td></tr>",
            i + 1,
            s.bytes(),
            bytes(s.bytes()),
            count(s.rows),
            duration(s.duration()),
            esc(&time(i64::from(s.first_timestamp))),
            esc(&names[x.file]),
            s.start,
            s.end,
            esc(&s.gtid.as_ref().map(|g| g.to_string()).unwrap_or_else(|| "–".into())),
            esc(&decode_command(&paths[x.file], s.start, s.end)),
        );
    }
    h.push_str("</tbody></table>");
}

fn tables(h: &mut String, r: &Report) {
    h.push_str("<h2>Tables</h2>");
    if r.tables.is_empty() {
        h.push_str("<p>No rows changed.</p>");
        return;
    }
    let max = r
        .tables
        .iter()
        .map(|(_, t)| t.bytes)
        .max()
        .unwrap_or(1)
        .max(1);
    h.push_str("<table id=\"tables\"><thead><tr><th>table</th><th class=\"n\">inserted</th><th class=\"n\">updated</th><th class=\"n\">deleted</th><th class=\"n\">rows</th><th class=\"n\">transactions</th><th class=\"n\">bytes</th><th class=\"bar-cell\"></th></tr></thead><tbody>");
    for (n, t) in &r.tables {
        let _ = write!(
            h,
            "<tr><td class=\"wrap\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\" title=\"{} bytes\">{}</td><td><div class=\"hbar\" style=\"width:{:.1}%\"></div></td></tr>",
            esc(&n.to_string()),
            count(t.inserted),
            count(t.updated),
            count(t.deleted),
            count(t.rows()),
            count(t.transactions),
            t.bytes,
            bytes(t.bytes),
            t.bytes as f64 * 100.0 / max as f64
        );
    }
    h.push_str("</tbody></table><p class=\"caption\">bytes: each transaction's bytes split among its tables by their rows events' bytes.</p>");
}

fn markers(h: &mut String, r: &Report, names: &[String]) {
    let ddl: Vec<_> = r
        .markers
        .iter()
        .filter(|m| !matches!(m.kind, MarkerKind::BigTransaction(_)))
        .collect();
    h.push_str("<h2>DDL, rotations and gaps</h2>");
    if ddl.is_empty() {
        h.push_str("<p>None.</p>");
        return;
    }
    h.push_str("<table id=\"markers\"><thead><tr><th>time</th><th>what</th><th>where</th><th>details</th></tr></thead><tbody>");
    for m in ddl {
        let (what, at, detail) = match &m.kind {
            MarkerKind::Ddl(d) => (
                "DDL",
                format!("{}:{}", names[m.file], d.start),
                format!(
                    "{}{}",
                    if d.database.is_empty() {
                        String::new()
                    } else {
                        format!("[{}] ", d.database)
                    },
                    d.text
                ),
            ),
            MarkerKind::Rotation { from } => (
                "rotation",
                names[m.file].clone(),
                format!("{} → {}", names[*from], names[m.file]),
            ),
            MarkerKind::Gap(g) => (
                "gap",
                format!("{}:{}", names[m.file], g.position),
                format!(
                    "no events for {} (since {})",
                    duration(i64::from(g.to - g.from)),
                    time(i64::from(g.from))
                ),
            ),
            MarkerKind::BigTransaction(_) => continue,
        };
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td>{what}</td><td class=\"mono wrap\">{}</td><td class=\"mono wrap\" title=\"{}\">{}</td></tr>",
            esc(&time(i64::from(m.time))),
            esc(&at),
            esc(&marker_text(m, r, names)),
            esc(&detail)
        );
    }
    h.push_str("</tbody></table>");
}

fn event_types(h: &mut String, r: &Report) {
    h.push_str("<h2>Event types</h2>");
    let none = TypeCount::default();
    // Every type met, in the file or inside a payload; the most frequent first.
    let mut v: Vec<(u8, &TypeCount, &TypeCount)> = r
        .event_types
        .keys()
        .chain(r.payload_event_types.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|code| {
            let top = r.event_types.get(code).unwrap_or(&none);
            let inner = r.payload_event_types.get(code).unwrap_or(&none);
            (*code, top, inner)
        })
        .collect();
    v.sort_by(|a, b| {
        (b.1.count + b.2.count)
            .cmp(&(a.1.count + a.2.count))
            .then(a.0.cmp(&b.0))
    });
    let max = v.first().map_or(1, |(_, t, i)| (t.count + i.count).max(1));
    let payloads = !r.payload_event_types.is_empty();
    h.push_str("<table id=\"event-types\"><thead><tr><th>type</th><th class=\"n\">code</th><th class=\"n\">events</th><th class=\"n\">bytes</th>");
    if payloads {
        h.push_str("<th class=\"n\">in payloads</th><th class=\"n\">their bytes</th>");
    }
    h.push_str("<th class=\"bar-cell\"></th></tr></thead><tbody>");
    for (code, top, inner) in v {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{code}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(&EventType(code).show_name()),
            count(top.count),
            bytes(top.bytes),
        );
        if payloads {
            let _ = write!(
                h,
                "<td class=\"n\">{}</td><td class=\"n\">{}</td>",
                count(inner.count),
                bytes(inner.bytes),
            );
        }
        let _ = write!(
            h,
            "<td><div class=\"hbar\" style=\"width:{:.1}%;background:#76b7b2\"></div></td></tr>",
            (top.count + inner.count) as f64 * 100.0 / max as f64
        );
    }
    h.push_str("</tbody></table>");
    if payloads {
        h.push_str("<p class=\"caption\">In payloads: events inside TRANSACTION_PAYLOAD events (MySQL's binlog_transaction_compression), with their bytes decompressed; each payload is counted once under events as Transaction_payload.</p>");
    }
}

fn files(h: &mut String, r: &Report, names: &[String]) {
    h.push_str("<h2>Files</h2><table id=\"files\"><thead><tr><th>file</th><th class=\"n\">size</th><th>server</th><th>checksum</th><th class=\"n\">events</th><th class=\"n\">transactions</th><th>first / last event</th><th>GTIDs</th><th>ends</th></tr></thead><tbody>");
    for (f, name) in r.files.iter().zip(names) {
        let server = if f.has_format_event {
            format!(
                "{} {} (v{})",
                flavor(f.flavor),
                f.server_version,
                f.binlog_version
            )
        } else {
            "unknown (no format description)".into()
        };
        let ends = match &f.ending {
            Ending::Rotate(next) => format!("rotated to {next}"),
            Ending::Stop => "server stopped".into(),
            Ending::Open => {
                if f.in_use {
                    "still open (in use)".into()
                } else {
                    "no end event".into()
                }
            }
            Ending::Truncated(e) => format!("cut short at {}", e.offset()),
        };
        let mut gtids = Vec::new();
        if !f.gtids.is_empty() {
            gtids.push(format!("written: {}", f.gtids));
        }
        if let Some(p) = &f.previous_gtids {
            gtids.push(format!("previous: {p}"));
        }
        if let Some(l) = &f.gtid_list {
            gtids.push(format!("list: {l}"));
        }
        let times = match (f.first_timestamp, f.last_timestamp) {
            (Some(a), Some(b)) => format!(
                "{}<br>{}",
                esc(&time(i64::from(a))),
                esc(&time(i64::from(b)))
            ),
            _ => "–".into(),
        };
        let _ = write!(
            h,
            "<tr><td class=\"mono wrap\">{}</td><td class=\"n\" title=\"{} bytes\">{}</td><td>{}</td><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"mono\">{times}</td><td class=\"mono wrap\">{}</td><td>{}</td></tr>",
            esc(name),
            f.size,
            bytes(f.size),
            esc(&server),
            esc(&checksum(f.checksum)),
            if f.crc_errors > 0 {
                format!(" <b style=\"color:var(--bad)\">{} bad</b>", f.crc_errors)
            } else {
                String::new()
            },
            count(f.events),
            count(f.transactions),
            gtids.iter().map(|g| esc(g)).collect::<Vec<_>>().join("<br>"),
            esc(&ends)
        );
    }
    h.push_str("</tbody></table>");
}
