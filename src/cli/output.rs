//! Errors and output plumbing shared by the subcommands.

use std::fmt::Display;
use std::io::{self, Write};
use std::path::Path;

use binlog::row::json;
use binlog::{BinlogFile, Error};

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The reader of our output went away (`| head`): stop quietly.
    BrokenPipe,
    /// Anything else: one line for the user.
    Message(String),
    /// A bug: the panic hook has printed its line.
    Panicked,
}

/// Result of a command.
pub type CliResult<T> = Result<T, Failure>;

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("writing the output: {e}"))
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

/// A library error of a command that reads `input` and writes `output`: I/O errors are
/// the output's (reading is through a map), the rest the input's.
pub fn fail_reading_or_writing(input: &Path, output: &Path, e: &Error) -> Failure {
    if e.io_kind().is_some() {
        fail(output, format_args!("writing: {}", e.kind()))
    } else {
        fail_at(input, e)
    }
}

/// Opens and maps a binlog.
pub fn open(path: &Path) -> CliResult<BinlogFile> {
    if path.is_dir() {
        return Err(fail(path, "is a directory, not a binlog file"));
    }
    BinlogFile::open(path).map_err(|e| fail(path, format_args!("cannot open: {e}")))
}

/// Refuses an output path that names one of the files a command reads (the same path,
/// or the same file through a symbolic or hard link): writing it would destroy the input.
pub fn refuse_output_over_input<'p>(
    output: &Path,
    inputs: impl IntoIterator<Item = &'p Path>,
) -> CliResult<()> {
    if output == Path::new("-") {
        return Ok(());
    }
    // A path that does not exist yet is no input (through a dangling link it would be
    // created, which overwrites nothing).
    let Ok(out_meta) = std::fs::metadata(output) else {
        return Ok(());
    };
    let same = |input: &Path| -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(m) = std::fs::metadata(input) {
                return m.dev() == out_meta.dev() && m.ino() == out_meta.ino();
            }
        }
        match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    };
    // Devices and pipes are written to, not replaced.
    if !out_meta.is_file() {
        return Ok(());
    }
    for input in inputs {
        if same(input) {
            return Err(fail(
                output,
                format_args!(
                    "the output is the input file {}: refusing to overwrite it",
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The file name of `path`, as the output names a file.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Standard output, buffered.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Appends `s` as a JSON string literal.
pub fn json_str(out: &mut String, s: &str) {
    json::push_string(out, s.as_bytes(), json::Controls::Numbered);
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

/// A timestamp in ISO 8601 in the local time zone with its offset
/// (`2026-11-21T10:03:00+01:00`), for output read by programs.
pub fn local_time_iso(ts: u32) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(i64::from(ts), 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
        }
        chrono::LocalResult::None => ts.to_string(),
    }
}

/// Where a command writes a binlog: a file that appears only once complete (written to a
/// temporary name in the same directory, renamed on success, removed on failure), or
/// standard output for `-`, or an existing device or pipe, written directly.
pub struct OutputFile {
    target: Option<std::path::PathBuf>,
    temp: Option<std::path::PathBuf>,
    writer: Box<dyn Write + Send>,
}

impl OutputFile {
    /// Opens `-` (stdout) or a temporary file next to `path`.
    pub fn create(path: &Path) -> CliResult<OutputFile> {
        if path == Path::new("-") {
            return Ok(OutputFile {
                target: None,
                temp: None,
                writer: Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout())),
            });
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            // A device or a pipe (`/dev/null`, a FIFO): renaming a file over it would
            // replace it, so write to it directly.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| fail(path, format_args!("cannot open output: {e}")))?;
            return Ok(OutputFile {
                target: None,
                temp: None,
                writer: Box::new(io::BufWriter::with_capacity(1 << 20, f)),
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| fail(path, "output must name a file"))?
            .to_string_lossy()
            .into_owned();
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| fail(path, format_args!("cannot create output: {e}")))?;
        Ok(OutputFile {
            target: Some(path.to_path_buf()),
            temp: Some(temp),
            writer: Box::new(io::BufWriter::with_capacity(1 << 20, f)),
        })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut (dyn Write + Send) {
        &mut self.writer
    }

    /// Flushes and moves the file into place.
    pub fn commit(mut self) -> CliResult<()> {
        self.writer.flush()?;
        if let (Some(temp), Some(target)) = (self.temp.take(), &self.target) {
            // Reopen to sync: the BufWriter owns the handle.
            if let Ok(f) = std::fs::File::open(&temp) {
                let _ = f.sync_all();
            }
            std::fs::rename(&temp, target).map_err(|e| {
                let _ = std::fs::remove_file(&temp);
                fail(target, format_args!("cannot move output into place: {e}"))
            })?;
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}
