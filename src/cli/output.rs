//! Errors and output plumbing shared by the subcommands.

use std::fmt::Display;
use std::io::{self, Write};
use std::path::Path;

use binlog::{BinlogFile, Error};

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The reader of our output went away (`| head`): stop quietly.
    BrokenPipe,
    /// Anything else: one line for the user.
    Message(String),
}

/// Result of a command.
pub type CliResult<T> = Result<T, Failure>;

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("writing output: {e}"))
        }
    }
}

/// A failure about `path`.
pub fn fail(path: &Path, what: impl Display) -> Failure {
    Failure::Message(format!("{}: {what}", path.display()))
}

/// A library error about `path` (its message carries the offset).
pub fn fail_at(path: &Path, e: &Error) -> Failure {
    fail(path, e)
}

/// Opens and maps a binlog.
pub fn open(path: &Path) -> CliResult<BinlogFile> {
    BinlogFile::open(path).map_err(|e| fail(path, format_args!("cannot open: {e}")))
}

/// Standard output, buffered.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Appends `s` as a JSON string literal.
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends bytes as a JSON string (lossy UTF-8).
pub fn json_bytes(out: &mut String, b: &[u8]) {
    json_str(out, &String::from_utf8_lossy(b));
}

/// Writes a line to `w`.
pub fn line(w: &mut dyn Write, s: &str) -> io::Result<()> {
    w.write_all(s.as_bytes())?;
    w.write_all(b"\n")
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS` in the local time zone (`TZ`), as mysqlbinlog
/// shows and reads times.
pub fn local_time(ts: u32) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(i64::from(ts), 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        }
        chrono::LocalResult::None => ts.to_string(),
    }
}
