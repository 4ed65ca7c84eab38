//! `binlog-tool bigtxn`: the biggest transactions of binlog files.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use binlog::txn_stats::{scan, Measure, Ranked, ScanEnd, TopN, TxnStats};
use binlog::Error;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use super::args::Inputs;
use super::chain::refuse_same_file_twice;
use super::output::{fail_at, line, local_time, open, CliResult, Failure, OutputFile};
use super::size::parse_size;

/// Rank transactions by size, rows or duration and show the top N, for incident triage.
///
/// For each transaction: file, start_pos and end_pos (the end of its last event), bytes,
/// events, rows changed (counted by walking every row image) with inserted/updated/deleted
/// per table, GTID, the earliest and latest times of its events and the duration between
/// them (rows and statement events carry the time their statement started; MariaDB's GTID
/// and XID events carry the commit's),
/// and for MySQL 8 the immediate/original commit timestamps (µs) and the GTID event's
/// transaction_length. Compressed transactions (MariaDB log_bin_compress, MySQL
/// TRANSACTION_PAYLOAD) show both their size in the file and their size uncompressed.
///
/// A transaction that ends a still-open file is reported like any other; one cut off by
/// the end of the file is reported with `end: incomplete`. Files are scanned in parallel
/// (RAYON_NUM_THREADS threads); ties are ranked by file order, then position, so the
/// output does not depend on the thread count. CRC32s are not checked (use `verify`).
/// The files may be given in any order; the same file twice is refused.
///
/// `--format json` prints one array, best first, of objects with these keys: rank, file,
/// start_pos, end_pos, bytes, compressed, compressed_bytes, uncompressed_bytes, events,
/// payload_events, rows_events, rows, uncounted_rows_events, statements, kind (dml, ddl,
/// statement, xa_prepare, xa_end), end (xid, commit, rollback, xa_prepare, statement,
/// incomplete), complete, gtid, server_id, first_timestamp, last_timestamp,
/// first_event_time, last_event_time, duration, immediate_commit_ts, original_commit_ts,
/// transaction_length, tables (schema, table, inserted, updated, deleted, rows).
///
/// Exit status: 0 success; 1 a file ends inside an event (truncated or damaged; what came
/// before is reported); 2 a file cannot be read at all.
#[derive(Debug, clap::Args)]
#[command(mut_arg("files", |a| a.help("Binlog files")))]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// How many transactions to show; 0 shows all.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// What to rank by.
    #[arg(long, value_enum, default_value_t = By::Bytes)]
    pub by: By,
    /// Only transactions of at least this many bytes (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub min_bytes: Option<u64>,
    /// Only transactions changing at least this many rows.
    #[arg(long, value_name = "N")]
    pub min_rows: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Table)]
    pub format: OutFormat,
}

/// Ranking measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Bytes in the file, first event to last.
    Bytes,
    /// Rows changed.
    Rows,
    /// Seconds from the earliest event timestamp to the latest.
    Duration,
}

impl By {
    fn measure(self) -> Measure {
        match self {
            By::Bytes => Measure::Bytes,
            By::Rows => Measure::Rows,
            By::Duration => Measure::Duration,
        }
    }

    fn name(self) -> &'static str {
        match self {
            By::Bytes => "bytes",
            By::Rows => "rows",
            By::Duration => "duration",
        }
    }
}

/// Output formats of `bigtxn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    /// A block of lines per transaction.
    Table,
    /// One JSON array of objects.
    Json,
}

/// What scanning one file gave.
struct FileScan {
    top: TopN,
    end: ScanEnd,
    uncounted: u64,
    row_error: Option<Error>,
}

fn scan_file(index: usize, path: &Path, args: &Args) -> CliResult<FileScan> {
    let file = open(path)?;
    let log = file.binlog().map_err(|e| fail_at(path, &e))?;
    let mut top = TopN::new(args.by.measure(), args.top);
    let mut uncounted = 0;
    let mut row_error = None;
    let end = scan(&log, |s| {
        if s.uncounted_rows_events > 0 {
            uncounted += s.uncounted_rows_events;
            if row_error.is_none() {
                row_error.clone_from(&s.row_error);
            }
        }
        if args.min_bytes.is_some_and(|m| s.bytes() < m)
            || args.min_rows.is_some_and(|m| s.rows < m)
        {
            return;
        }
        top.offer(index, s);
    });
    Ok(FileScan {
        top,
        end,
        uncounted,
        row_error,
    })
}

/// Runs `bigtxn`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let files = args.inputs.nonempty_paths()?;
    // Their order does not matter; a file twice would count its transactions twice.
    refuse_same_file_twice(&files)?;
    let scans: Vec<CliResult<FileScan>> = files
        .par_iter()
        .enumerate()
        .map(|(i, p)| scan_file(i, p, &args))
        .collect();
    let mut top = TopN::new(args.by.measure(), args.top);
    let mut total = 0;
    let mut stopped = false;
    for (path, scan) in files.iter().zip(scans) {
        let scan = scan?;
        total += scan.end.transactions;
        if let Some(e) = &scan.end.error {
            stopped = true;
            crate::say!(
                "binlog-tool: {}: stopped at offset {}: {}; a transaction it cuts short is reported as incomplete",
                path.display(),
                e.offset(),
                e.kind()
            );
        }
        if let Some(at) = scan.end.encrypted_from {
            crate::say!(
                "binlog-tool: {}: encrypted from offset {at} on; those transactions are not seen",
                path.display()
            );
        }
        if scan.uncounted > 0 {
            let why = scan
                .row_error
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default();
            crate::say!(
                "binlog-tool: {}: the rows of {} rows events could not be counted{why}",
                path.display(),
                scan.uncounted
            );
        }
        top.merge(scan.top);
    }
    let ranked = top.into_sorted();
    let mut w = OutputFile::stdout();
    match args.format {
        OutFormat::Table => {
            let shown = if args.top == 0 {
                "all".to_string()
            } else {
                format!("the top {}", args.top)
            };
            line(
                &mut w,
                &format!(
                    "{total} transactions in {} file(s); {shown} by {}",
                    files.len(),
                    args.by.name()
                ),
            )?;
            for (i, r) in ranked.iter().enumerate() {
                table_block(&mut w, i + 1, &files[r.file], r)?;
            }
        }
        OutFormat::Json => {
            let arr: Vec<Value> = ranked
                .iter()
                .enumerate()
                .map(|(i, r)| json_object(i + 1, &files[r.file], &r.stats))
                .collect();
            line(&mut w, &Value::Array(arr).to_string())?;
        }
    }
    w.flush().map_err(Failure::from)?;
    Ok(if stopped {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Bytes with a binary-unit rendering for humans.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{n} bytes ({v:.1} {})", UNITS[u])
}

/// A µs-since-epoch timestamp as local time with microseconds.
fn micros_time(us: u64) -> String {
    let secs = u32::try_from(us / 1_000_000).unwrap_or(u32::MAX);
    format!("{}.{:06}", local_time(secs), us % 1_000_000)
}

fn table_block(w: &mut dyn Write, rank: usize, path: &Path, r: &Ranked) -> std::io::Result<()> {
    let s = &r.stats;
    line(
        w,
        &format!(
            "#{rank}  {}  start_pos {}  end_pos {}  {}",
            path.display(),
            s.start,
            s.end,
            human_bytes(s.bytes())
        ),
    )?;
    let gtid = s
        .gtid
        .as_ref()
        .map(|g| g.to_string())
        .unwrap_or_else(|| "-".into());
    let mut rows = s.rows.to_string();
    if s.uncounted_rows_events > 0 {
        rows.push_str(&format!(
            " (+ {} rows events not counted)",
            s.uncounted_rows_events
        ));
    }
    line(
        w,
        &format!(
            "    gtid {gtid}  server_id {}  kind {}  end {}  events {}  rows {rows}",
            s.server_id,
            s.kind_name(),
            s.end_name(),
            s.events
        ),
    )?;
    line(
        w,
        &format!(
            "    time {} .. {}  duration {} s",
            local_time(s.first_timestamp),
            local_time(s.last_timestamp),
            s.duration()
        ),
    )?;
    let c = &s.commit;
    if c.immediate_commit_ts.is_some() || c.transaction_length.is_some() {
        let mut parts = Vec::new();
        if let Some(t) = c.immediate_commit_ts {
            parts.push(format!("immediate commit {} ({t})", micros_time(t)));
        }
        if let Some(t) = c.original_commit_ts {
            parts.push(format!("original commit {} ({t})", micros_time(t)));
        }
        if let Some(n) = c.transaction_length {
            parts.push(format!("transaction_length {n}"));
        }
        line(w, &format!("    {}", parts.join("  ")))?;
    }
    if s.compressed {
        line(
            w,
            &format!(
                "    compressed: {} in the file, {} uncompressed",
                s.bytes(),
                s.uncompressed_bytes
            ),
        )?;
    }
    if s.statements > 0 {
        line(
            w,
            &format!(
                "    statements logged as text: {}{}",
                s.statements,
                if s.ddl { " (DDL among them)" } else { "" }
            ),
        )?;
    }
    for t in &s.tables {
        let mut parts = Vec::new();
        for (n, what) in [
            (t.inserted, "inserted"),
            (t.updated, "updated"),
            (t.deleted, "deleted"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        line(w, &format!("    table {}: {}", t.name, parts.join(", ")))?;
    }
    Ok(())
}

/// The JSON object of one transaction. Key names are part of the interface.
pub fn json_object(rank: usize, path: &Path, s: &TxnStats) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("rank", json!(rank));
    put("file", json!(path.display().to_string()));
    put("start_pos", json!(s.start));
    put("end_pos", json!(s.end));
    put("bytes", json!(s.bytes()));
    put("compressed", json!(s.compressed));
    put(
        "compressed_bytes",
        if s.compressed {
            json!(s.bytes())
        } else {
            Value::Null
        },
    );
    put("uncompressed_bytes", json!(s.uncompressed_bytes));
    put("events", json!(s.events));
    put("payload_events", json!(s.payload_events));
    put("rows_events", json!(s.rows_events));
    put("rows", json!(s.rows));
    put("uncounted_rows_events", json!(s.uncounted_rows_events));
    put("statements", json!(s.statements));
    put("kind", json!(s.kind_name()));
    put("end", json!(s.end_name()));
    put("complete", json!(s.is_complete()));
    put("gtid", json!(s.gtid.as_ref().map(|g| g.to_string())));
    put("server_id", json!(s.server_id));
    put("first_timestamp", json!(s.first_timestamp));
    put("last_timestamp", json!(s.last_timestamp));
    put("first_event_time", json!(local_time(s.first_timestamp)));
    put("last_event_time", json!(local_time(s.last_timestamp)));
    put("duration", json!(s.duration()));
    put("immediate_commit_ts", json!(s.commit.immediate_commit_ts));
    put("original_commit_ts", json!(s.commit.original_commit_ts));
    put("transaction_length", json!(s.commit.transaction_length));
    let tables: Vec<Value> = s
        .tables
        .iter()
        .map(|t| {
            json!({
                "schema": t.name.schema,
                "table": t.name.table,
                "inserted": t.inserted,
                "updated": t.updated,
                "deleted": t.deleted,
                "rows": t.rows(),
            })
        })
        .collect();
    put("tables", Value::Array(tables));
    Value::Object(m)
}
