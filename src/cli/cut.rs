//! `binlog-tool cut`: exactly the selected whole transactions of consecutive binlogs, as one
//! binlog, for point-in-time recovery.

use std::path::PathBuf;
use std::process::ExitCode;

use binlog::cut::Cutter;

use super::args::{Inputs, Selection};
use super::chain::{parse_all, tell_outcome, ChainArgs};
use super::output::{fail_at, open, refuse_output_over_input, CliResult, OutputFile};

/// Write the selected whole transactions of consecutive binlogs as one binlog.
///
/// One binlog holding exactly the selected whole transactions of one or several
/// consecutive files (one FDE, positions and CRC32 recomputed), ready for
/// `mysqlbinlog OUT | mysql`. A boundary inside a transaction never yields half of one:
/// `--start-*` take transactions that start (position) or commit (time) at or after it,
/// `--stop-*` those that end before the position or committed before the time, as
/// mysqlbinlog's `--stop-datetime` keeps what committed before it. A start position
/// inside a transaction is refused; a stop position inside one leaves it out, with a note.
///
/// With --database, --table or --sql-type, each transaction keeps only the rows events
/// of the selection (with the TABLE_MAPs they need, the last one of each statement
/// flagged as its end) and the statements naming selected tables; one left with nothing
/// is not written. A statement whose tables cannot be told from its text (multi-table
/// changes, CALL, accounts) is left out with a note on stderr. --drop-gtids writes no
/// GTID event, so that the server applying the output gives each transaction a fresh
/// GTID (needed on a gtid_strict_mode server whose domain is past the source's sequence
/// numbers: ERROR 1950 otherwise).
///
/// Several files must be one server's consecutive files (as `verify --index` checks
/// them: ROTATE names, sequence numbers, GTID_LIST / PREVIOUS_GTIDS); --allow-gaps
/// reads them anyway. A file whose tail is cut short (a crashed server's last binlog) is
/// read up to its last complete transaction, with a note saying where it is cut.
///
/// Exit status: 0 success; 1 the output is written, but a file is cut short inside the
/// selection (its complete transactions are in the output; stderr says where the cut
/// is); 2 an error (one line on stderr, nothing left at -o); 130, 143, 129 stopped by
/// SIGINT, SIGTERM, SIGHUP (nothing left at -o).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Write no GTID event: every transaction gets a fresh GTID where it is applied
    /// (MariaDB GTID events become BEGIN or XA START).
    #[arg(long)]
    pub drop_gtids: bool,
    /// Output file (`-` for standard output); written in full or not at all.
    #[arg(long, short = 'o', required = true)]
    pub output: PathBuf,
}

/// Runs `cut`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let filter = args.selection.to_filter()?;
    let paths = args.inputs.nonempty_paths()?;
    refuse_output_over_input(
        &args.output,
        paths
            .iter()
            .map(|p| p.as_path())
            .chain(args.inputs.index.as_deref()),
    )?;
    let files = paths
        .iter()
        .map(|p| open(p))
        .collect::<CliResult<Vec<_>>>()?;
    let logs = parse_all(&files, &paths)?;
    args.chain.check_selection(&paths, &logs, &filter)?;
    let mut out = OutputFile::create(&args.output)?;
    let mut cutter = Cutter::new(&mut out, &logs[0], &filter, args.drop_gtids)
        .map_err(|e| fail_at(&paths[0], &e))?;
    let last = logs.len() - 1;
    let (mut written, mut emptied, mut damaged) = (0, 0, false);
    for (n, (log, path)) in logs.iter().zip(&paths).enumerate() {
        let cut = cutter
            .file(log, n == 0, n == last)
            .map_err(|e| fail_at(path, &e))?;
        for note in &cut.notes {
            crate::say!("binlog-tool: note: {}: {}", path.display(), note.message);
        }
        damaged |= tell_outcome(path, &cut.outcome);
        written += cut.written;
        emptied += cut.emptied;
    }
    cutter.finish().map_err(|e| fail_at(&args.output, &e))?;
    out.commit()?;
    let left_out = if emptied > 0 {
        format!(" ({emptied} selected transactions left out: none of their rows or statements is selected)")
    } else {
        String::new()
    };
    crate::say!(
        "binlog-tool: cut: {written} transactions written to {}{left_out}",
        args.output.display()
    );
    Ok(if damaged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
