//! `binlog-tool events`: the SHOW BINLOG EVENTS view of binlog files.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use binlog::event::payload::{payload_events, TransactionPayload};
use binlog::reader::Events;
use binlog::{Event, EventData, EventType, Format};
use rayon::prelude::*;

use super::args::{Inputs, Positions};
use super::event_info::event_info;
use super::output::{fail_at, json_str, open, CliResult, Failure, OutputFile};

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

/// Events are listed in pieces of about this many bytes of binlog, in parallel.
const PIECE_BYTES: u64 = 1 << 20;
/// Pieces listed at once, per pool thread.
const PIECES_PER_THREAD: usize = 4;

/// Formats events as lines.
struct Printer {
    format: EventsFormat,
}

impl Printer {
    /// Appends the line of one event to `b`.
    fn event(
        &self,
        b: &mut String,
        log_name: &str,
        ev: &Event,
        decoded: &binlog::Result<EventData>,
        payload: Option<(u64, u64)>,
    ) {
        use std::fmt::Write as _;
        let info = event_info(ev, decoded);
        let h = ev.header();
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
    }
}

/// Events of one file to list together: their byte range, and the format in force at
/// its start.
struct Piece {
    start: u64,
    end: u64,
    format: Arc<Format>,
}

/// What listing a piece gave: its lines, the CRC warnings for stderr, and the error
/// that stopped it (after the lines before it).
#[derive(Default)]
struct Listed {
    text: String,
    warnings: Vec<String>,
    failure: Option<Failure>,
}

/// One input file being listed.
struct Input<'a> {
    path: &'a Path,
    log_name: &'a str,
    data: &'a [u8],
}

/// Lists a piece's events (verifying each one's CRC32, going into compressed payloads).
fn list(input: &Input, piece: &Piece, p: &Printer, text: String) -> Listed {
    let mut listed = Listed {
        text,
        ..Listed::default()
    };
    let events = Events::range(
        input.data,
        piece.start,
        piece.end,
        Arc::clone(&piece.format),
    )
    .verify_checksums(false);
    let mut events = events;
    while let Some(ev) = events.next() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                listed.failure = Some(fail_at(input.path, &e));
                break;
            }
        };
        if let Err(e) = ev.verify_checksum() {
            listed.warnings.push(format!(
                "binlog-tool: warning: {}: {e}",
                input.path.display()
            ));
        }
        let format = events.shared_format();
        let decoded = ev.decode(&format);
        p.event(&mut listed.text, input.log_name, &ev, &decoded, None);
        if let Ok(EventData::TransactionPayload(tp)) = &decoded {
            if let Err(f) = list_payload(input, &ev, tp, &format, p, &mut listed.text) {
                listed.failure = Some(f);
                break;
            }
        }
    }
    listed
}

/// Lists the events inside a compressed transaction payload.
fn list_payload(
    input: &Input,
    ev: &Event,
    tp: &TransactionPayload,
    format: &Format,
    p: &Printer,
    b: &mut String,
) -> CliResult<()> {
    let inner = tp.decompress().map_err(|e| fail_at(input.path, &e))?;
    for iev in payload_events(&inner, format) {
        let iev = iev.map_err(|e| fail_at(input.path, &e.in_payload(ev.offset())))?;
        let decoded = iev.decode(format);
        p.event(
            b,
            input.log_name,
            &iev,
            &decoded,
            Some((ev.offset(), ev.end_offset())),
        );
    }
    Ok(())
}

/// Cuts the events of a file between `start` and `stop` into pieces, up to `max` of
/// them; the walk's error ends the gathering. Events after a START_ENCRYPTION stay in
/// the piece it is in (only a walk through it reads them).
struct Cutter<'a> {
    walk: Events<'a>,
    start: u64,
    stop: Option<u64>,
    /// Whether the walk has passed a START_ENCRYPTION.
    encrypted: bool,
    /// A piece begun when the batch was full.
    pending: Option<Piece>,
    done: bool,
}

impl Cutter<'_> {
    fn pieces(&mut self, max: usize) -> (Vec<Piece>, Option<binlog::Error>) {
        let mut pieces: Vec<Piece> = self.pending.take().into_iter().collect();
        while !self.done {
            let at = self.walk.offset();
            let format = self.walk.shared_format();
            let ev = match self.walk.next() {
                None => break,
                Some(Err(e)) => {
                    self.done = true;
                    return (pieces, Some(e));
                }
                Some(Ok(ev)) => ev,
            };
            if self.stop.is_some_and(|s| ev.offset() >= s) {
                self.done = true;
                break;
            }
            if ev.offset() < self.start {
                continue;
            }
            let end = ev.end_offset();
            let encrypted = self.encrypted;
            self.encrypted |= ev.event_type() == EventType::MARIADB_START_ENCRYPTION;
            match pieces.last_mut() {
                Some(last)
                    if last.end == at && (encrypted || last.end - last.start < PIECE_BYTES) =>
                {
                    last.end = end;
                }
                _ => {
                    let piece = Piece {
                        start: at,
                        end,
                        format,
                    };
                    if pieces.len() == max {
                        // The first piece of the next batch.
                        self.pending = Some(piece);
                        return (pieces, None);
                    }
                    pieces.push(piece);
                }
            }
        }
        (pieces, None)
    }
}

/// Runs `events`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let mut out = OutputFile::stdout();
    let p = Printer {
        format: args.format,
    };
    if args.format == EventsFormat::Table {
        writeln!(
            out,
            "Log_name\tPos\tEvent_type\tServer_id\tEnd_log_pos\tInfo"
        )?;
    }
    let mut crc_problems = 0usize;
    let files = args.inputs.nonempty_paths()?;
    let last = files.len().saturating_sub(1);
    let batch = rayon::current_num_threads().max(1) * PIECES_PER_THREAD;
    for (n, path) in files.iter().enumerate() {
        let file = open(path)?;
        let log = file.binlog().map_err(|e| fail_at(path, &e))?;
        let log_name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let input = Input {
            path,
            log_name: &log_name,
            data: file.bytes(),
        };
        let mut cutter = Cutter {
            walk: log.events().verify_checksums(false),
            start: if n == 0 {
                args.positions.start_position.unwrap_or(0)
            } else {
                0
            },
            stop: if n == last {
                args.positions.stop_position
            } else {
                None
            },
            encrypted: false,
            pending: None,
            done: false,
        };
        // Each batch of pieces is listed on the pool while the batch before it is written.
        let mut written: Vec<Listed> = Vec::new();
        // Buffers of written pieces, listed into again: fresh ones would each be faulted
        // in page by page.
        let mut spare: Vec<String> = Vec::new();
        let mut next = cutter.pieces(batch);
        loop {
            let (pieces, walk_error) = next;
            let more = !pieces.is_empty() && walk_error.is_none();
            let buffers = std::mem::take(&mut spare)
                .into_iter()
                .chain(std::iter::repeat_with(String::new));
            let work: Vec<(&Piece, String)> = pieces.iter().zip(buffers).collect();
            // The batch before is written and the next one cut while this one is listed.
            let ((w, following), listed) = rayon::join(
                || {
                    let w = write_listed(&mut out, std::mem::take(&mut written), &mut crc_problems);
                    let following = (more && w.is_ok()).then(|| cutter.pieces(batch));
                    (w, following)
                },
                || {
                    work.into_par_iter()
                        .map(|(piece, text)| list(&input, piece, &p, text))
                        .collect::<Vec<_>>()
                },
            );
            spare = w?;
            written = listed;
            if !more {
                write_listed(&mut out, std::mem::take(&mut written), &mut crc_problems)?;
                if let Some(e) = walk_error {
                    return Err(fail_at(path, &e));
                }
                break;
            }
            // Cut above, since there was more.
            next = following.unwrap_or_default();
        }
    }
    out.commit()?;
    Ok(if crc_problems > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes listed pieces in order (each one's warnings on stderr first), up to the
/// first error. Returns their text buffers, emptied.
fn write_listed(
    out: &mut OutputFile,
    listed: Vec<Listed>,
    crc_problems: &mut usize,
) -> CliResult<Vec<String>> {
    let mut buffers = Vec::with_capacity(listed.len());
    for mut piece in listed {
        *crc_problems += piece.warnings.len();
        for w in &piece.warnings {
            crate::say!("{w}");
        }
        out.write_all(piece.text.as_bytes())?;
        if let Some(f) = piece.failure {
            return Err(f);
        }
        piece.text.clear();
        buffers.push(piece.text);
    }
    Ok(buffers)
}
