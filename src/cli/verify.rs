//! `binlog-tool verify`: check every event of binlog files, and an index file's list.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use binlog::verify::{check, check_link, check_list, Ends, ListProblem, Listed, Report};

use super::args::Inputs;
use super::index_file::read_index;
use super::output::{file_name, line, open, CliResult, OutputFile};

/// Check lengths, positions and CRC32s of every event, and an index file.
///
/// Walks every event and checks its length, its place in the position chain and its
/// CRC32, and the events inside compressed transaction payloads; reports each problem
/// with file and byte offset.
///
/// Exit status: 0 everything is clean; 1 problems were found; 2 an error stopped the
/// check (one line on stderr).
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("files", |a| a.help("Binlog files (default with --index: the files the index lists)")),
    mut_arg("index", |a| a.help(
        "Also check a binlog index file: every file it names exists, in increasing order, \
         and each continues the one before (its ROTATE names the next one, sequence numbers \
         leave no gap, and the GTID_LIST or PREVIOUS_GTIDS of each is the GTID state the \
         one before ends at)"
    )),
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Print only problems, not a line per clean file.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn report(w: &mut dyn Write, path: &Path, r: &Report, quiet: bool) -> std::io::Result<()> {
    for p in &r.problems {
        line(
            w,
            &format!("{}: offset {}: {}", path.display(), p.offset, p.what),
        )?;
    }
    if r.problems.is_empty() && !quiet {
        line(w, &format!("{}: OK, {} events", path.display(), r.events))?;
    }
    Ok(())
}

/// Runs `verify`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let mut w = OutputFile::stdout();
    let mut bad = false;
    let mut files = args.inputs.files.clone();
    let mut index_order: Vec<PathBuf> = Vec::new();
    let mut out_of_order: Vec<PathBuf> = Vec::new();
    if let Some(index) = &args.inputs.index {
        let entries = read_index(index)?;
        let listed: Vec<Listed> = entries
            .iter()
            .map(|e| Listed {
                line: e.line,
                written: &e.written,
                exists: e.path.is_file(),
            })
            .collect();
        for p in check_list(&listed) {
            bad = true;
            if let ListProblem::OutOfOrder(e, _) = &p {
                if let Some(x) = entries.iter().find(|x| x.line == e.line) {
                    out_of_order.push(x.path.clone());
                }
            }
            let text = match p {
                ListProblem::Missing(e) => format!(
                    "{}: line {}: names {}, which does not exist",
                    index.display(),
                    e.line,
                    e.written
                ),
                ListProblem::OutOfOrder(e, after) => format!(
                    "{}: line {}: {} is out of order (comes after {after})",
                    index.display(),
                    e.line,
                    e.written
                ),
            };
            line(&mut w, &text)?;
        }
        index_order = entries.iter().map(|e| e.path.clone()).collect();
        if files.is_empty() {
            files = entries
                .into_iter()
                .filter(|e| e.path.is_file())
                .map(|e| e.path)
                .collect();
        }
    }
    let mut ends: Vec<(PathBuf, Ends)> = Vec::new();
    for path in &files {
        let file = open(path)?;
        let r = check(file.bytes());
        bad |= !r.problems.is_empty();
        report(&mut w, path, &r, args.quiet)?;
        if let Ok(log) = file.binlog() {
            ends.push((path.clone(), binlog::verify::ends(&log, true)));
        }
    }
    // Each file the index lists must continue the one before it: its ROTATE, sequence
    // number and GTID state (the order problems are reported above already).
    if let Some(index) = &args.inputs.index {
        for pair in index_order.windows(2) {
            if out_of_order.contains(&pair[1]) {
                continue;
            }
            let find = |p: &PathBuf| ends.iter().find(|(q, _)| q == p).map(|(_, e)| e);
            if let (Some(a), Some(b)) = (find(&pair[0]), find(&pair[1])) {
                if let Some(why) = check_link(&file_name(&pair[0]), a, &file_name(&pair[1]), b) {
                    bad = true;
                    line(&mut w, &format!("{}: {why}", index.display()))?;
                }
            }
        }
    }
    w.flush()?;
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
