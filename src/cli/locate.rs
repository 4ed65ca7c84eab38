//! `binlog-tool locate`: where a point in time, or a GTID, is in a set of binlogs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use binlog::gtid_set::GtidValue;
use binlog::locate::{Found, GtidSearch, TimeSearch};
use binlog::Binlog;

use super::args::{parse_datetime, Inputs};
use super::output::{fail_at, json_str, line, local_time, open, CliResult, Failure, OutputFile};

/// Find the transactions around a time, or the one with a GTID.
///
/// Around a time: the first transaction that committed at or after it and the last before
/// it. For each: file, start and end position, time, GTID — for `--start-position` and
/// `--stop-position` of a point-in-time recovery.
///
/// Exit status: 0 found; 1 nothing found; 2 an error (one line on stderr).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["datetime", "gtid"])))]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// A local time, 'YYYY-MM-DD HH:MM:SS'.
    #[arg(long)]
    pub datetime: Option<String>,
    /// One GTID: `uuid[:tag]:N` (MySQL) or `domain-server-seq` (MariaDB). A range or a
    /// list is refused.
    #[arg(long)]
    pub gtid: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LocateFormat::Table)]
    pub format: LocateFormat,
}

/// Output formats of `locate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LocateFormat {
    /// `key: value` lines.
    Table,
    /// One JSON object.
    Json,
}

fn describe_table(
    w: &mut dyn Write,
    files: &[PathBuf],
    label: &str,
    f: Option<&Found>,
) -> std::io::Result<()> {
    match f {
        None => line(w, &format!("{label}: none")),
        Some(f) => {
            let t = &f.txn;
            let gtid = t
                .gtid
                .as_ref()
                .map(|g| g.to_string())
                .unwrap_or_else(|| "-".into());
            line(
                w,
                &format!(
                    "{label}: {} start {} end {} committed {} ({}) GTID {gtid}",
                    files[f.file].display(),
                    t.start,
                    t.end,
                    local_time(t.last_timestamp),
                    t.last_timestamp
                ),
            )
        }
    }
}

fn describe_json(out: &mut String, files: &[PathBuf], f: Option<&Found>) {
    match f {
        None => out.push_str("null"),
        Some(f) => {
            let t = &f.txn;
            out.push_str("{\"file\":");
            json_str(out, &files[f.file].display().to_string());
            out.push_str(&format!(
                ",\"start_pos\":{},\"end_pos\":{},\"first_timestamp\":{},\"commit_timestamp\":{},\"commit_time\":",
                t.start, t.end, t.first_timestamp, t.last_timestamp
            ));
            json_str(out, &local_time(t.last_timestamp));
            out.push_str(",\"gtid\":");
            match &t.gtid {
                Some(g) => json_str(out, &g.to_string()),
                None => out.push_str("null"),
            }
            out.push('}');
        }
    }
}

/// Feeds the files, in order, to a search until it knows the answer.
fn search(
    files: &[PathBuf],
    mut feed: impl FnMut(usize, &Binlog) -> binlog::Result<bool>,
) -> CliResult<()> {
    for (n, path) in files.iter().enumerate() {
        let file = open(path)?;
        let log = file.binlog().map_err(|e| fail_at(path, &e))?;
        if feed(n, &log).map_err(|e| fail_at(path, &e))? {
            break;
        }
    }
    Ok(())
}

/// Runs `locate`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let files = args.inputs.nonempty_paths()?;
    let mut w = OutputFile::stdout();
    let found_any;
    if let Some(dt) = &args.datetime {
        let t = parse_datetime(dt)?;
        let mut found = TimeSearch::new(t);
        search(&files, |n, log| found.feed(n, log))?;
        let (before, after) = (found.before.as_ref(), found.after.as_ref());
        found_any = before.is_some() || after.is_some();
        match args.format {
            LocateFormat::Table => {
                describe_table(&mut w, &files, "last before", before)?;
                describe_table(&mut w, &files, "first at or after", after)?;
            }
            LocateFormat::Json => {
                let mut s = String::from("{\"datetime\":");
                json_str(&mut s, dt);
                s.push_str(&format!(",\"timestamp\":{t},\"last_before\":"));
                describe_json(&mut s, &files, before);
                s.push_str(",\"first_at_or_after\":");
                describe_json(&mut s, &files, after);
                s.push('}');
                line(&mut w, &s)?;
            }
        }
    } else {
        let text = args.gtid.as_deref().unwrap_or_default();
        let g = GtidValue::parse(text).map_err(|e| Failure::Message(format!("--gtid: {e}")))?;
        let mut found = GtidSearch::new(g.clone());
        search(&files, |n, log| found.feed(n, log))?;
        let hit = found.found.as_ref();
        found_any = hit.is_some();
        match args.format {
            LocateFormat::Table => describe_table(&mut w, &files, &format!("GTID {g}"), hit)?,
            LocateFormat::Json => {
                let mut s = String::new();
                describe_json(&mut s, &files, hit);
                line(&mut w, &s)?;
            }
        }
    }
    w.flush()?;
    Ok(if found_any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
