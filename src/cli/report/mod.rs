//! `binlog-tool report`: a self-contained HTML triage report (or its data as JSON).

mod html;
mod json;
mod svg;
mod units;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use binlog::report::{scan_file, FileScan, Options, Report};
use binlog::summary::Ending;
use rayon::prelude::*;

use super::args::{Inputs, Transactions};
use super::chain::refuse_same_file_twice;
use super::output::{fail_at, open, refuse_output_over_input, CliResult, OutputFile};

/// Write a triage report of binlog files: one HTML page that a browser opens from disk.
///
/// The page shows a timeline of the bytes and rows written per interval, stacked by table
/// (the top tables by bytes, the rest as "other"), with DDL, file rotations, gaps (no
/// events for --gap seconds) and the biggest transactions marked; the biggest
/// transactions (bytes, rows, duration, tables, file:start-end, GTID) each with the
/// `decode` command that shows it; inserts, updates, deletes and bytes per table; an
/// event-type histogram; and per file the server version, flavor, checksum, GTIDs, how
/// it ends and its problems (truncation, CRC32 errors, rows that could not be counted).
/// Times are in the local time zone (TZ), with its offset shown.
///
/// Each file is read once, files in parallel (RAYON_NUM_THREADS threads), rows counted
/// as bigtxn counts them (no row values are decoded). A transaction's bytes are split
/// among its tables in proportion to their rows events' bytes, and counted at the time
/// of its last event. The files may be given in any order; the same file twice is
/// refused. The page is self-contained: no network, no scripts, no external fonts or
/// styles; it prints.
///
/// `--format json` writes the same data as one JSON object (see README, "Report").
///
/// --start-position/--stop-position (first/last file, in the order given),
/// --start-datetime/--stop-datetime (commit time) and --include-gtids/--exclude-gtids
/// select transactions as `decode` does: the timeline, transactions, tables, DDL, gaps
/// and event types are then those of the selected transactions (and of the events
/// between transactions), and so are each file's transactions, rows and GTIDs; what each
/// file is (server, checksum, events, how it ends, CRC32 problems) stays the whole file's.
///
/// Exit status: 0 success; 1 the report is written but a file is damaged (cut short
/// inside an event, or events with bad CRC32s); 2 a file cannot be read at all or the
/// output cannot be written (nothing is left at -o).
#[derive(Debug, clap::Args)]
#[command(mut_arg("files", |a| a.help("Binlog files")))]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub transactions: Transactions,
    /// Where to write the report (`-` for standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// How many of the biggest transactions to list; 0 lists all.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// How many tables the timeline draws apart (the rest are "other").
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub tables: usize,
    /// Seconds without events that make a gap worth marking (0: none).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub gap: u32,
    /// At most this many intervals in the timeline.
    #[arg(long, default_value_t = 120, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub intervals: u32,
}

/// Formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// One JSON object.
    Json,
}

fn scan_one(index: usize, last: bool, path: &Path, opts: &Options) -> CliResult<FileScan> {
    let file = open(path)?;
    let log = file.binlog().map_err(|e| fail_at(path, &e))?;
    if let (0, Some(s)) = (index, &opts.selection) {
        // A start position inside an event is refused, as decode refuses it.
        s.check_start_position(&log)
            .map_err(|e| fail_at(path, &e))?;
    }
    Ok(scan_file(&log, index, last, opts))
}

/// Runs `report`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let files = args.inputs.nonempty_paths()?;
    refuse_same_file_twice(&files)?;
    let mut guarded: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    if let Some(index) = &args.inputs.index {
        guarded.push(index);
    }
    refuse_output_over_input(&args.output, guarded)?;
    let opts = Options {
        top: args.top,
        top_tables: args.tables,
        gap_seconds: args.gap,
        max_buckets: args.intervals as usize,
        selection: args
            .transactions
            .selects()
            .then(|| args.transactions.to_filter())
            .transpose()?,
        ..Options::default()
    };
    let last = files.len() - 1;
    let scans = files
        .par_iter()
        .enumerate()
        .map(|(i, p)| scan_one(i, i == last, p, &opts))
        .collect::<CliResult<Vec<FileScan>>>()?;
    let report = Report::build(scans, &opts);
    let mut damaged = false;
    for (path, f) in files.iter().zip(&report.files) {
        if let Ending::Truncated(e) = &f.ending {
            damaged = true;
            crate::say!(
                "binlog-tool: {}: stopped at offset {}: {}",
                path.display(),
                e.offset(),
                e.kind()
            );
        }
        if let Some(e) = &f.first_crc_error {
            damaged = true;
            crate::say!(
                "binlog-tool: {}: {} events with a bad CRC32 (first at offset {})",
                path.display(),
                f.crc_errors,
                e.offset()
            );
        }
    }
    let selected = selection(&args.transactions);
    let mut out = OutputFile::create(&args.output)?;
    match args.format {
        ReportFormat::Html => {
            let page = html::page(&report, &files, &selected);
            out.write_all(page.as_bytes())?;
        }
        ReportFormat::Json => {
            let v = json::report(&report, &files, &selected);
            out.write_all(v.to_string().as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    out.commit()?;
    Ok(if damaged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The selection options given, by their names: positions as numbers, the others as
/// text.
fn selection(t: &Transactions) -> Vec<(&'static str, serde_json::Value)> {
    let (p, d, g) = (&t.positions, &t.times, &t.gtids);
    let mut v = Vec::new();
    let number = |v: &mut Vec<_>, name, n: Option<u64>| {
        if let Some(n) = n {
            v.push((name, serde_json::Value::from(n)));
        }
    };
    number(&mut v, "start_position", p.start_position);
    number(&mut v, "stop_position", p.stop_position);
    let texts = [
        ("start_datetime", &d.start_datetime),
        ("stop_datetime", &d.stop_datetime),
        ("include_gtids", &g.include_gtids),
        ("exclude_gtids", &g.exclude_gtids),
    ];
    for (name, s) in texts {
        if let Some(s) = s {
            v.push((name, serde_json::Value::from(s.as_str())));
        }
    }
    v
}

/// The selection as the options that make it: `--start-datetime '2026-12-01 10:00:00'`.
pub fn selection_text(selection: &[(&str, serde_json::Value)]) -> String {
    let words: Vec<String> = selection
        .iter()
        .map(|(name, v)| {
            let v = match v {
                serde_json::Value::String(s) => shell_quote(s),
                other => other.to_string(),
            };
            format!("--{} {v}", name.replace('_', "-"))
        })
        .collect();
    words.join(" ")
}

/// The `decode` command line that shows the transaction at `start..end` of `path`.
pub fn decode_command(path: &Path, start: u64, end: u64) -> String {
    format!(
        "binlog-tool decode --start-position {start} --stop-position {end} {}",
        shell_quote(&path.display().to_string())
    )
}

/// `s` as one shell word.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-+:=@%,".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_paths() {
        assert_eq!(
            decode_command(Path::new("/b/mysql-bin.000001"), 4, 100),
            "binlog-tool decode --start-position 4 --stop-position 100 /b/mysql-bin.000001"
        );
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    }
}
