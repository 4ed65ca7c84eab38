//! What a run tells: the counters, the progress line on a terminal (file and offset,
//! bytes, events/s, how far behind the server), and the summary at the end (a line, or a
//! JSON object with `--format json`).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use binlog::fetch::{Archive, ArchiveEnd, Fed};
use serde_json::json;

use super::{msg, Ended, ReportFormat, Run};
use crate::cli::output::{CliResult, OutputFile};
use crate::cli::size::human;

/// Counters for the progress line and the summary.
pub struct Stats {
    started: Instant,
    /// Events written.
    pub events: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Files written to, in order.
    pub files: Vec<String>,
    /// Connections lost and tried again.
    pub reconnects: u32,
    /// The server's version, as the last connection said.
    pub server_version: String,
    /// The timestamp of the last event written that has one.
    last_ts: u32,
    /// Whether the server has nothing more to send for now.
    pub caught_up: bool,
    /// The progress line, when stderr is a terminal.
    progress: Option<Progress>,
}

struct Progress {
    last_draw: Instant,
    window_start: Instant,
    window_events: u64,
    rate: f64,
}

impl Stats {
    /// Counters at zero; a progress line only if stderr is a terminal.
    pub fn new() -> Stats {
        let now = Instant::now();
        Stats {
            started: now,
            events: 0,
            bytes: 0,
            files: Vec::new(),
            reconnects: 0,
            server_version: String::new(),
            last_ts: 0,
            caught_up: false,
            progress: std::io::stderr().is_terminal().then_some(Progress {
                last_draw: now,
                window_start: now,
                window_events: 0,
                rate: 0.0,
            }),
        }
    }

    /// Counts what one event of the dump came to, in `file`.
    pub fn record(&mut self, fed: Fed, event: &[u8], file: &str) {
        match fed {
            Fed::Appended(n) | Fed::Finished(n) => {
                self.events += 1;
                self.bytes += n;
                self.caught_up = false;
                let ts = event
                    .get(..4)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                if ts != 0 {
                    self.last_ts = ts;
                }
            }
            Fed::Heartbeat => self.caught_up = true,
            Fed::Skipped => {}
        }
        if !file.is_empty()
            && self.files.last().is_none_or(|f| f != file)
            && !self.files.iter().any(|f| f == file)
        {
            self.files.push(file.to_string());
        }
    }

    /// Draws the progress line (at most four times a second unless `force`).
    pub fn tick(&mut self, file: &str, offset: u64, force: bool) {
        let Some(p) = &mut self.progress else { return };
        let now = Instant::now();
        if !force && now.duration_since(p.last_draw) < Duration::from_millis(250) {
            return;
        }
        let span = now.duration_since(p.window_start).as_secs_f64();
        if span >= 1.0 {
            p.rate = (self.events - p.window_events) as f64 / span;
            p.window_start = now;
            p.window_events = self.events;
        }
        p.last_draw = now;
        let behind = if self.caught_up || self.last_ts == 0 {
            "caught up".to_string()
        } else {
            let now_s = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            format!("{} s behind", now_s.saturating_sub(u64::from(self.last_ts)))
        };
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r\x1b[2K{file}:{offset}  {} in {} events, {:.0} events/s, {behind}",
            human(self.bytes),
            self.events,
            p.rate
        );
        let _ = err.flush();
    }

    /// Erases the progress line (before another line is printed, and at the end).
    pub fn clear_line(&self) {
        if self.progress.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Prints the summary on stdout: where the archive ends, what was fetched, why it stopped.
pub fn summary(run: &Run, archive: &mut Archive, stats: &Stats, outcome: &Ended) -> CliResult<()> {
    let args = run.args;
    let end = archive
        .end()
        .map_err(|e| msg(format!("{}: {e}", args.dir.display())))?;
    let (file, position, complete) = match &end {
        ArchiveEnd::Empty => (String::new(), 0, false),
        ArchiveEnd::Finished { file, .. } => {
            let len = std::fs::metadata(args.dir.join(file)).map_or(0, |m| m.len());
            (file.clone(), len, true)
        }
        ArchiveEnd::Open(r) => (r.file.clone(), r.archive_end(), false),
    };
    let stopped = match outcome {
        Ended::End => "end",
        Ended::Signal => "signal",
    };
    let mut out = OutputFile::stdout();
    match args.format {
        ReportFormat::Json => {
            let v = json!({
                "dir": args.dir.display().to_string(),
                "server": run.spec.target(),
                "server_version": stats.server_version,
                "server_id": run.server_id,
                "events": stats.events,
                "bytes": stats.bytes,
                "files": stats.files,
                "reconnects": stats.reconnects,
                "seconds": (stats.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
                "end": {"file": file, "position": position, "complete": complete},
                "stopped_by": stopped,
                "notes": archive.notes(),
            });
            writeln!(out, "{v}")?;
        }
        ReportFormat::Text => {
            let ends = if file.is_empty() {
                "the archive is empty".to_string()
            } else {
                format!(
                    "the archive ends at {file}:{position}{}",
                    if complete { " (complete)" } else { "" }
                )
            };
            let signal = if stopped == "signal" {
                "; stopped by a signal"
            } else {
                ""
            };
            writeln!(
                out,
                "fetched {} events ({}) into {}; {ends}{signal}",
                stats.events,
                human(stats.bytes),
                args.dir.display(),
            )?;
        }
    }
    out.commit()
}
