//! `binlog-tool split`: make huge transactions replayable in bounded pieces.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use binlog::split::{split, Limit, Piece, SplitOptions, SplitReport};

use super::chain::tell_outcome;
use super::output::{
    fail_at, line, open, refuse_output_over_input, CliResult, Failure, OutputFile,
};
use super::size::parse_size;

/// Cut transactions over a row or byte limit into consecutive ones within it; copy the
/// rest unchanged.
///
/// Cuts fall between rows events, and between rows inside a rows event that alone is over
/// the limit (the event is then re-encoded with a subset of its rows, uncompressed if it
/// was compressed). Each piece gets a BEGIN, the TABLE_MAP events its rows need, and an XID
/// of its own (or a copy of the source's COMMIT), and its last rows event is flagged as the
/// end of a statement. The byte limit counts a piece as `bigtxn` does: from its BEGIN to
/// the end of its XID.
///
/// GTIDs: no piece carries the GTID of the transaction it comes from, so a server
/// applying the output (`mariadb-binlog OUT | mariadb`) gives each piece a fresh GTID, in
/// the domain and server id its session has at that point (mariadb-binlog sets them from
/// the last GTID event it printed). Transactions within the limit are copied unchanged,
/// GTID event included, and keep their GTIDs. The pieces take the next sequence numbers
/// of their domain, which the source gave to the transactions after them: a server with
/// gtid_strict_mode refuses those later copied transactions as out of order, and one
/// without it logs two transactions under the same GTID. Where that matters (strict mode,
/// replicas of the server being replayed to), use --drop-gtids: then no transaction
/// carries a GTID and each gets a fresh one.
///
/// Positions, CRC32s and the FORMAT_DESCRIPTION event follow the source. Refused, with
/// the file and position named and nothing written at -o: a transaction over the limit
/// that holds statement-format changes, mixes DDL with rows, is XA or a single statement,
/// or has a row bigger than the limit; encrypted input; checksum errors (named at the
/// event's offset); the output naming the input. A file whose tail is cut short (a
/// crashed server's last binlog) is written up to its last complete transaction, with a
/// note on stderr saying where it is cut, and exit status 1.
/// The input is read through a memory map and written as it is read: no more of a
/// transaction is held in memory than one rows event (a MySQL compressed transaction,
/// though, is decompressed whole).
///
/// Exit status: 0 success; 1 the output is written, but the input is cut short (stderr
/// says where); 2 an error or a refusal (one line on stderr naming the file and position;
/// nothing left at -o); 130, 143, 129 stopped by SIGINT, SIGTERM, SIGHUP (nothing left
/// at -o).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("limit").required(true).args(["max_rows", "max_bytes"])))]
pub struct Args {
    /// The binlog file.
    pub file: PathBuf,
    /// Where to write the result (`-` for standard output). It appears only once complete.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        required_unless_present = "dry_run"
    )]
    pub output: Option<PathBuf>,
    /// Most rows a transaction may change.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: Option<u64>,
    /// Most bytes a transaction may take (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_bytes: Option<u64>,
    /// Print how each transaction over the limit would be cut; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write no GTID event at all: copied transactions too get fresh GTIDs where they
    /// are applied (MariaDB GTID events become BEGIN or XA START), for a server that has
    /// seen the source's GTIDs already or runs with gtid_strict_mode.
    #[arg(long)]
    pub drop_gtids: bool,
}

/// Runs `split`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let limit = match (args.max_rows, args.max_bytes) {
        (Some(n), _) => Limit::Rows(n),
        (None, Some(b)) if b > 0 => Limit::Bytes(b),
        _ => return Err(Failure::Message("--max-bytes must be more than 0".into())),
    };
    let options = SplitOptions {
        limit,
        drop_gtids: args.drop_gtids,
    };
    let path = &args.file;
    if let Some(target) = args.output.as_deref().filter(|_| !args.dry_run) {
        refuse_output_over_input(target, [path.as_path()])?;
    }
    let file = open(path)?;
    let log = file.binlog().map_err(|e| fail_at(path, &e))?;
    if args.dry_run {
        let (_, report) = split(&log, options, std::io::sink()).map_err(|e| fail_at(path, &e))?;
        let mut w = OutputFile::stdout();
        print_plan(&mut w, &report, limit)?;
        w.commit()?;
        return Ok(tell_damage(path, &report));
    }
    let target = args
        .output
        .as_ref()
        .expect("clap requires -o without --dry-run");
    let mut out = OutputFile::create(target)?;
    let (_, report) = split(&log, options, &mut out).map_err(|e| fail_at(path, &e))?;
    out.commit()?;
    let pieces: usize = report.split.iter().map(|t| t.pieces.len()).sum();
    crate::say!(
        "binlog-tool: {}: {} transactions: {} copied, {} over {limit} split into {pieces}",
        path.display(),
        report.transactions,
        report.copied,
        report.split.len()
    );
    note_dropped(&report);
    Ok(tell_damage(path, &report))
}

/// Tells on stderr where the input is cut short and which transactions were cut off;
/// the exit status: 1 when the input is cut short.
fn tell_damage(path: &std::path::Path, report: &SplitReport) -> ExitCode {
    let outcome = binlog::filter::Outcome {
        truncated: report.truncated.clone(),
        abandoned: report.abandoned.clone(),
        ..Default::default()
    };
    if tell_outcome(path, &outcome) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn note_dropped(report: &SplitReport) {
    if !report.dropped_annotations.is_empty() {
        let at: Vec<String> = report
            .dropped_annotations
            .iter()
            .map(u64::to_string)
            .collect();
        crate::say!(
            "binlog-tool: statement annotations left out (too big for a piece) at: {}",
            at.join(", ")
        );
    }
}

fn piece_source(p: &Piece) -> String {
    let from = if p.from_row == 0 {
        format!("{}", p.from_event)
    } else {
        format!("{} (from row {})", p.from_event, p.from_row + 1)
    };
    let to = match p.to_row {
        Some(r) => format!("{} (to row {r})", p.to_event),
        None => format!("{}", p.to_event),
    };
    format!("rows events {from} .. {to}")
}

fn print_plan(w: &mut dyn Write, report: &SplitReport, limit: Limit) -> std::io::Result<()> {
    let pieces: usize = report.split.iter().map(|t| t.pieces.len()).sum();
    line(
        w,
        &format!(
            "{} transactions; {} over {limit} would be split into {pieces}; {} copied",
            report.transactions,
            report.split.len(),
            report.copied
        ),
    )?;
    let opt = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
    for t in &report.split {
        let gtid = t
            .gtid
            .as_ref()
            .map(|g| format!("gtid {g}, "))
            .unwrap_or_default();
        let payload = t
            .payload
            .map(|p| format!(" (rows event offsets inside the payload at {p})"))
            .unwrap_or_default();
        line(
            w,
            &format!(
                "transaction {}..{} ({gtid}{} bytes, {} rows) -> {} transactions{payload}:",
                t.start,
                t.end,
                t.end - t.start,
                opt(t.rows),
                t.pieces.len()
            ),
        )?;
        for (i, p) in t.pieces.iter().enumerate() {
            line(
                w,
                &format!(
                    "  {}: output {}..{} ({} bytes, {} rows): {}",
                    i + 1,
                    p.out_start,
                    p.out_end,
                    p.bytes(),
                    opt(p.rows),
                    piece_source(p)
                ),
            )?;
        }
    }
    if !report.dropped_annotations.is_empty() {
        let at: Vec<String> = report
            .dropped_annotations
            .iter()
            .map(u64::to_string)
            .collect();
        line(
            w,
            &format!(
                "statement annotations left out (too big for a piece) at: {}",
                at.join(", ")
            ),
        )?;
    }
    Ok(())
}
