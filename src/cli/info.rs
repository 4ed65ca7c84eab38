//! `binlog-tool info`: what a binlog file is and what it holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use binlog::summary::{summarize, Checksum, Ending, Summary};

use super::args::Inputs;
use super::output::{fail_at, json_str, line, local_time, open, CliResult, OutputFile};

/// Summarize binlog files: version, checksums, size, events, times, GTIDs, ending.
///
/// Shows server version, flavor, checksums, size, event count, time and position range,
/// GTIDs, and how each file ends (rotated, stopped, still open, or truncated and where).
///
/// Exit status: 0 success; 1 a file is truncated (it is described all the same); 2 an
/// error (one line on stderr).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InfoFormat::Table)]
    pub format: InfoFormat,
}

/// Output formats of `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InfoFormat {
    /// `key: value` lines, a blank line between files.
    Table,
    /// One JSON array of objects.
    Json,
}

/// What `info` reports about one file.
struct FileInfo {
    path: PathBuf,
    summary: Summary,
}

/// Reads `path` and gathers its [`Summary`].
fn file_info(path: &Path) -> CliResult<FileInfo> {
    let file = open(path)?;
    let log = file.binlog().map_err(|e| fail_at(path, &e))?;
    Ok(FileInfo {
        path: path.to_path_buf(),
        summary: summarize(&log),
    })
}

fn checksum_text(c: Checksum) -> &'static str {
    match c {
        Checksum::Absent => "none (server predates checksums)",
        Checksum::Crc32 => "CRC32",
        Checksum::Off => "NONE",
        Checksum::Unknown(_) => "unknown",
    }
}

fn ending_text(e: &Ending) -> String {
    match e {
        Ending::Rotate(n) => format!("rotated to {n}"),
        Ending::Stop => "stopped (STOP event)".into(),
        Ending::Open => {
            "open: no ROTATE or STOP at the end (still written, or the server crashed)".into()
        }
        Ending::Truncated(e) => format!("truncated at offset {}: {}", e.offset(), e.kind()),
    }
}

fn table(w: &mut dyn Write, f: &FileInfo) -> std::io::Result<()> {
    let i = &f.summary;
    let opt_time = |t: Option<u32>| {
        t.map(|t| format!("{} ({t})", local_time(t)))
            .unwrap_or_else(|| "-".into())
    };
    let opt_pos = |p: Option<u64>| p.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
    line(w, &format!("file:            {}", f.path.display()))?;
    line(w, &format!("size:            {}", i.size))?;
    if i.has_format_event {
        line(w, &format!("server version:  {}", i.server_version))?;
        line(w, &format!("flavor:          {}", i.flavor.name()))?;
        line(w, &format!("binlog version:  {}", i.binlog_version))?;
        line(
            w,
            &format!("checksum:        {}", checksum_text(i.checksum)),
        )?;
    } else {
        line(
            w,
            "server version:  - (no FORMAT_DESCRIPTION event: which server wrote it is unknown)",
        )?;
        line(w, "flavor:          -")?;
        line(w, "binlog version:  -")?;
        line(w, "checksum:        -")?;
    }
    line(w, &format!("events:          {}", i.events))?;
    line(
        w,
        &format!("first event:     {}", opt_time(i.first_timestamp)),
    )?;
    line(
        w,
        &format!("last event:      {}", opt_time(i.last_timestamp)),
    )?;
    line(
        w,
        &format!("first position:  {}", opt_pos(i.first_position)),
    )?;
    line(w, &format!("last position:   {}", opt_pos(i.last_position)))?;
    line(w, &format!("end position:    {}", i.end_position))?;
    if let Some(p) = &i.previous_gtids {
        line(
            w,
            &format!("previous GTIDs:  {}", if p.is_empty() { "-" } else { p }),
        )?;
    }
    if let Some(l) = &i.gtid_list {
        line(
            w,
            &format!("GTID list:       {}", if l.is_empty() { "-" } else { l }),
        )?;
    }
    let g = i.gtids.to_string();
    line(
        w,
        &format!("GTIDs:           {}", if g.is_empty() { "-" } else { &g }),
    )?;
    line(
        w,
        &format!(
            "in use flag:     {}",
            if i.in_use { "set" } else { "clear" }
        ),
    )?;
    if i.encrypted {
        line(
            w,
            "encrypted:       yes (events after START_ENCRYPTION are not readable)",
        )?;
    }
    line(w, &format!("ends:            {}", ending_text(&i.ending)))
}

fn json(out: &mut String, f: &FileInfo) {
    let i = &f.summary;
    let opt_num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "null".into());
    out.push_str("{\"file\":");
    json_str(out, &f.path.display().to_string());
    out.push_str(&format!(",\"size\":{}", i.size));
    out.push_str(&format!(",\"format_description\":{}", i.has_format_event));
    if i.has_format_event {
        out.push_str(",\"server_version\":");
        json_str(out, &i.server_version);
        out.push_str(",\"flavor\":");
        json_str(out, i.flavor.name());
        out.push_str(&format!(",\"binlog_version\":{}", i.binlog_version));
        out.push_str(",\"checksum\":");
        json_str(out, checksum_text(i.checksum));
    } else {
        out.push_str(
            ",\"server_version\":null,\"flavor\":null,\"binlog_version\":null,\"checksum\":null",
        );
    }
    out.push_str(&format!(",\"events\":{}", i.events));
    out.push_str(&format!(
        ",\"first_timestamp\":{}",
        opt_num(i.first_timestamp.map(u64::from))
    ));
    out.push_str(&format!(
        ",\"last_timestamp\":{}",
        opt_num(i.last_timestamp.map(u64::from))
    ));
    for (k, t) in [
        ("first_event_time", i.first_timestamp),
        ("last_event_time", i.last_timestamp),
    ] {
        out.push_str(&format!(",\"{k}\":"));
        match t {
            Some(t) => json_str(out, &local_time(t)),
            None => out.push_str("null"),
        }
    }
    out.push_str(&format!(
        ",\"first_position\":{}",
        opt_num(i.first_position)
    ));
    out.push_str(&format!(",\"last_position\":{}", opt_num(i.last_position)));
    out.push_str(&format!(",\"end_position\":{}", i.end_position));
    out.push_str(",\"gtids\":");
    json_str(out, &i.gtids.to_string());
    for (k, v) in [
        ("previous_gtids", &i.previous_gtids),
        ("gtid_list", &i.gtid_list),
    ] {
        out.push_str(&format!(",\"{k}\":"));
        match v {
            Some(v) => json_str(out, v),
            None => out.push_str("null"),
        }
    }
    out.push_str(&format!(
        ",\"in_use\":{},\"encrypted\":{}",
        i.in_use, i.encrypted
    ));
    let (end, next, at, err) = match &i.ending {
        Ending::Rotate(n) => ("rotate", Some(n.as_str()), None, None),
        Ending::Stop => ("stop", None, None, None),
        Ending::Open => ("open", None, None, None),
        Ending::Truncated(e) => (
            "truncated",
            None,
            Some(e.offset()),
            Some(e.kind().to_string()),
        ),
    };
    out.push_str(",\"end\":");
    json_str(out, end);
    out.push_str(",\"next_file\":");
    match next {
        Some(n) => json_str(out, n),
        None => out.push_str("null"),
    }
    out.push_str(&format!(",\"truncated_at\":{}", opt_num(at)));
    out.push_str(",\"error\":");
    match err {
        Some(e) => json_str(out, &e),
        None => out.push_str("null"),
    }
    out.push('}');
}

/// Runs `info`.
pub fn run(args: Args) -> CliResult<std::process::ExitCode> {
    let files = args.inputs.paths()?;
    let mut w = OutputFile::stdout();
    let mut json_out = String::from("[");
    let mut truncated = false;
    for (n, path) in files.iter().enumerate() {
        let i = file_info(path)?;
        if let Ending::Truncated(e) = &i.summary.ending {
            truncated = true;
            crate::say!(
                "binlog-tool: {}: truncated at offset {}: {}",
                path.display(),
                e.offset(),
                e.kind()
            );
        }
        match args.format {
            InfoFormat::Table => {
                if n > 0 {
                    line(&mut w, "")?;
                }
                table(&mut w, &i)?;
            }
            InfoFormat::Json => {
                if n > 0 {
                    json_out.push(',');
                }
                json(&mut json_out, &i);
            }
        }
    }
    if args.format == InfoFormat::Json {
        json_out.push(']');
        line(&mut w, &json_out)?;
    }
    // A truncated file is described like any other, and the exit status says so.
    w.flush()?;
    Ok(if truncated {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}
