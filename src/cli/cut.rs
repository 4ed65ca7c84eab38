//! `binlog-tool cut`: exactly the selected whole transactions of consecutive binlogs, as one
//! binlog, for point-in-time recovery.

use std::path::PathBuf;
use std::process::ExitCode;

use binlog::{BinlogWriter, EventType, Stamp};

use super::args::{Inputs, Transactions};
use super::output::{fail, fail_at, fail_reading_or_writing, open, CliResult, OutputFile};

/// Write the selected whole transactions of consecutive binlogs as one binlog.
///
/// One binlog holding exactly the selected whole transactions of one or several
/// consecutive files (one FDE, positions and CRC32 recomputed), ready for
/// `mysqlbinlog OUT | mysql`. A boundary inside a transaction never yields half of one:
/// `--start-*` take transactions that start (position) or commit (time) at or after it,
/// `--stop-*` those that end before the position or committed before the time, as
/// mysqlbinlog's `--stop-datetime` keeps what committed before it.
///
/// Exit status: 0 success; 2 an error (one line on stderr, nothing left at -o).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub transactions: Transactions,
    /// Output file (`-` for standard output); written in full or not at all.
    #[arg(long, short = 'o', required = true)]
    pub output: PathBuf,
}

/// Runs `cut`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let filter = args.transactions.to_filter()?;
    let files = args.inputs.nonempty_paths()?;
    let mut out = OutputFile::create(&args.output)?;
    let mut writer: Option<BinlogWriter<&mut OutputFile>> = None;
    let mut last_stamp = None;
    let last = files.len() - 1;
    let mut copied = 0u64;
    for (n, path) in files.iter().enumerate() {
        let file = open(path)?;
        let log = file.binlog().map_err(|e| fail_at(path, &e))?;
        if writer.is_none() {
            let mut events = log.events();
            let fde = events
                .next()
                .ok_or_else(|| fail(path, "no events"))?
                .map_err(|e| fail_at(path, &e))?;
            if fde.event_type() != EventType::FORMAT_DESCRIPTION {
                return Err(fail(path, "does not start with a FORMAT_DESCRIPTION event"));
            }
            last_stamp = Some(Stamp::of(fde.header()));
            writer = Some(
                BinlogWriter::with_fde(&mut out, &fde, events.format())
                    .map_err(|e| fail_at(path, &e))?,
            );
        }
        let w = writer.as_mut().expect("writer exists");
        for txn in filter.selected(&log, n == 0, n == last) {
            let txn = txn.map_err(|e| fail_at(path, &e))?;
            for ev in txn.events(file.bytes()) {
                let ev = ev.map_err(|e| fail_at(path, &e))?;
                w.copy_event(&ev)
                    .map_err(|e| fail_reading_or_writing(path, &args.output, &e))?;
                last_stamp = Some(Stamp::of(ev.header()));
            }
            copied += 1;
        }
    }
    let stamp = last_stamp
        .map(|s| Stamp { flags: 0, ..s })
        .unwrap_or(Stamp {
            timestamp: 0,
            server_id: 0,
            flags: 0,
        });
    if let Some(w) = writer {
        w.finish_with_stop(stamp)
            .map_err(|e| fail(&args.output, e))?;
    }
    out.commit()?;
    eprintln!(
        "binlog-tool: cut: {copied} transactions written to {}",
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
