//! `binlog-tool events`: the SHOW BINLOG EVENTS view of binlog files.

use std::io::Write;
use std::process::ExitCode;

use binlog::event::payload::payload_events;
use binlog::{Event, EventData};

use super::args::{Inputs, Positions};
use super::event_info::event_info;
use super::output::{fail_at, json_str, open, CliResult, OutputFile};

/// List events as SHOW BINLOG EVENTS does.
///
/// Columns Log_name, Pos, Event_type, Server_id, End_log_pos, Info. Events inside a
/// compressed transaction payload follow it.
///
/// Exit status: 0 success; 1 events whose CRC32 is wrong were listed (each named on
/// stderr); 2 an error stopped the listing (one line on stderr).
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("start_position", |a| a.help("Start at the first event at or after this position (in the first file)")),
    mut_arg("stop_position", |a| a.help("Stop before the first event at or after this position (in the last file)")),
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub positions: Positions,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EventsFormat::Table)]
    pub format: EventsFormat,
}

/// Output formats of `events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventsFormat {
    /// A header line, then one tab-separated line per event.
    Table,
    /// One JSON object per line.
    Jsonl,
}

struct Printer<'w> {
    w: &'w mut dyn Write,
    format: EventsFormat,
    buf: String,
}

impl Printer<'_> {
    fn event(
        &mut self,
        log_name: &str,
        ev: &Event,
        decoded: &binlog::Result<EventData>,
        payload: Option<(u64, u64)>,
    ) -> std::io::Result<()> {
        let info = event_info(ev, decoded);
        let h = ev.header();
        let b = &mut self.buf;
        b.clear();
        let (pos, end_log_pos) = match payload {
            // Inner events have no file position of their own: show the payload's.
            Some((payload_pos, payload_end)) => (payload_pos, payload_end),
            None => (ev.offset(), u64::from(h.log_pos)),
        };
        let name = if ev.is_encrypted() {
            "Encrypted".into()
        } else {
            ev.event_type().show_name()
        };
        match self.format {
            EventsFormat::Table => {
                use std::fmt::Write as _;
                let _ = write!(
                    b,
                    "{log_name}\t{pos}\t{name}\t{}\t{end_log_pos}\t",
                    h.server_id
                );
                // Keep one event per line.
                for c in info.chars() {
                    b.push(match c {
                        '\n' | '\r' | '\t' => ' ',
                        c => c,
                    });
                }
            }
            EventsFormat::Jsonl => {
                use std::fmt::Write as _;
                b.push_str("{\"file\":");
                json_str(b, log_name);
                let _ = write!(b, ",\"pos\":{pos},\"end_log_pos\":{end_log_pos},\"type\":");
                json_str(b, &name);
                let _ = write!(
                    b,
                    ",\"type_code\":{},\"timestamp\":{},\"server_id\":{},\"size\":{},\"flags\":{}",
                    ev.event_type().code(),
                    h.timestamp,
                    h.server_id,
                    h.event_len,
                    h.flags
                );
                if let Some(crc) = ev.stored_checksum() {
                    let _ = write!(b, ",\"crc32\":{crc}");
                }
                if payload.is_some() {
                    let _ = write!(b, ",\"in_payload\":true,\"payload_offset\":{}", ev.offset());
                }
                b.push_str(",\"info\":");
                json_str(b, &info);
                b.push('}');
            }
        }
        b.push('\n');
        self.w.write_all(b.as_bytes())
    }
}

/// Runs `events`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let mut out = OutputFile::stdout();
    let mut p = Printer {
        w: &mut out,
        format: args.format,
        buf: String::with_capacity(512),
    };
    if args.format == EventsFormat::Table {
        writeln!(
            p.w,
            "Log_name\tPos\tEvent_type\tServer_id\tEnd_log_pos\tInfo"
        )?;
    }
    let mut crc_problems = 0usize;
    let files = args.inputs.nonempty_paths()?;
    let last = files.len().saturating_sub(1);
    for (n, path) in files.iter().enumerate() {
        let file = open(path)?;
        let log = file.binlog().map_err(|e| fail_at(path, &e))?;
        let log_name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let start = if n == 0 {
            args.positions.start_position.unwrap_or(0)
        } else {
            0
        };
        let stop = if n == last {
            args.positions.stop_position
        } else {
            None
        };
        let mut events = log.events().verify_checksums(false);
        while let Some(ev) = events.next() {
            let ev = ev.map_err(|e| fail_at(path, &e))?;
            if stop.is_some_and(|s| ev.offset() >= s) {
                break;
            }
            if ev.offset() < start {
                continue;
            }
            if let Err(e) = ev.verify_checksum() {
                crc_problems += 1;
                crate::say!("binlog-tool: warning: {}: {e}", path.display());
            }
            let format = events.shared_format();
            let decoded = ev.decode(&format);
            p.event(&log_name, &ev, &decoded, None)?;
            if let Ok(EventData::TransactionPayload(tp)) = &decoded {
                let inner = tp.decompress().map_err(|e| fail_at(path, &e))?;
                for iev in payload_events(&inner, &format) {
                    let iev = iev.map_err(|e| fail_at(path, &e.in_payload(ev.offset())))?;
                    p.event(
                        &log_name,
                        &iev,
                        &iev.decode(&format),
                        Some((ev.offset(), ev.end_offset())),
                    )?;
                }
            }
        }
    }
    out.commit()?;
    Ok(if crc_problems > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
