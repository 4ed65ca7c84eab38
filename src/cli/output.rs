//! Errors and output plumbing shared by the subcommands: every command writes through an
//! [`OutputFile`] (standard output, a device, or a file that appears only once complete),
//! whose write errors name it; a closed reader stops the run quietly, any other write
//! error stops it with one line naming the output.

use std::fmt::{self, Display};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use binlog::row::json;
use binlog::{BinlogFile, Error};

use super::signals;

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The reader of our output went away (`| head`): stop quietly.
    BrokenPipe,
    /// Anything else: one line for the user.
    Message(String),
    /// A bug: the panic hook has printed its line.
    Panicked,
    /// SIGINT, SIGTERM or SIGHUP (its number) stopped the run.
    Interrupted(i32),
}

/// Result of a command.
pub type CliResult<T> = Result<T, Failure>;

impl Failure {
    /// An I/O error of the output of `kind`, with its message (which names the output):
    /// a closed pipe ends quietly.
    fn output(kind: io::ErrorKind, message: impl Display) -> Failure {
        if let Some(sig) = signals::caught() {
            Failure::Interrupted(sig)
        } else if kind == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(message.to_string())
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<WriteError>())
        {
            Some(w) => Failure::output(w.kind, w),
            None => Failure::output(e.kind(), format_args!("writing the output: {e}")),
        }
    }
}

/// A write to an output that failed: the output's name and the error. [`OutputFile`]
/// returns its errors wrapped in one, with the same kind, so that whichever way an error
/// travels (a `?`, a library error) it names the output.
#[derive(Debug)]
pub struct WriteError {
    name: String,
    kind: io::ErrorKind,
    message: String,
}

impl Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: writing: {}", self.name, self.message)
    }
}

impl std::error::Error for WriteError {}

/// Writes a line to standard error, ignoring a failure to (`eprintln!` panics when stderr
/// is a pipe whose reader is gone, and a panic there would abort the process).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A failure about `path`.
pub fn fail(path: &Path, what: impl Display) -> Failure {
    Failure::Message(format!("{}: {what}", path.display()))
}

/// A library error of a command that reads `input` (through a map) and writes an
/// [`OutputFile`]: an I/O error is the output's (its message names it, and the offset is
/// the output's, so neither the input's name nor the offset is shown), anything else the
/// input's, with the offset.
pub fn fail_at(input: &Path, e: &Error) -> Failure {
    match e.kind() {
        binlog::ErrorKind::Io { kind, message } => Failure::output(*kind, message),
        _ => fail(input, e),
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

/// Appends `s` as a JSON string literal.
pub fn json_str(out: &mut String, s: &str) {
    json::push_str(out, s, json::Controls::Numbered);
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

/// A buffered writer that writes pieces of [`Direct::THROUGH`] bytes or more straight
/// through, after what it holds: decode's rendered chunks (hundreds of kilobytes each)
/// are then not copied once more into its buffer.
struct Direct<W: Write>(io::BufWriter<W>);

impl<W: Write> Direct<W> {
    const THROUGH: usize = 64 << 10;

    fn new(w: W) -> Direct<W> {
        Direct(io::BufWriter::with_capacity(1 << 20, w))
    }
}

impl<W: Write> Write for Direct<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.write(b)
    }

    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        if b.len() < Self::THROUGH {
            return self.0.write_all(b);
        }
        self.0.flush()?;
        self.0.get_mut().write_all(b)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Where a command writes: standard output (`-`), an existing device or pipe (written
/// directly), or a file that appears only once complete (written to a temporary name in
/// the same directory, renamed on success, removed on failure or a signal). Its write
/// errors carry its name ([`WriteError`]); once a signal has arrived, its writes fail
/// (those of [`OutputFile::stdout`], which prints reports, excepted).
pub struct OutputFile {
    /// What messages call it.
    name: String,
    target: Option<PathBuf>,
    temp: Option<PathBuf>,
    writer: Box<dyn Write + Send>,
    /// Whether a signal stops the writes (not for a report printed after one).
    stop_on_signal: bool,
}

impl OutputFile {
    /// Standard output, for what a command prints.
    pub fn stdout() -> OutputFile {
        OutputFile {
            name: "standard output".into(),
            target: None,
            temp: None,
            writer: Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout())),
            stop_on_signal: false,
        }
    }

    /// Opens `-` (stdout), a device or pipe, or a temporary file next to `path` (then
    /// signals are watched, so that it is removed on SIGINT, SIGTERM or SIGHUP). When
    /// signals are watched, a signal fails the next write.
    pub fn create(path: &Path) -> CliResult<OutputFile> {
        if path == Path::new("-") {
            return Ok(OutputFile {
                name: "standard output".into(),
                target: None,
                temp: None,
                writer: Box::new(Direct::new(io::stdout())),
                stop_on_signal: true,
            });
        }
        let name = path.display().to_string();
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            // A device or a pipe (`/dev/null`, a FIFO): renaming a file over it would
            // replace it, so write to it directly.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| fail(path, format_args!("cannot open output: {e}")))?;
            return Ok(OutputFile {
                name,
                target: None,
                temp: None,
                writer: Box::new(Direct::new(f)),
                stop_on_signal: true,
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| fail(path, "output must name a file"))?
            .to_string_lossy()
            .into_owned();
        signals::watch();
        if let Some(sig) = signals::caught() {
            return Err(Failure::Interrupted(sig));
        }
        let temp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| fail(path, format_args!("cannot create output: {e}")))?;
        Ok(OutputFile {
            name,
            target: Some(path.to_path_buf()),
            temp: Some(temp),
            writer: Box::new(Direct::new(f)),
            stop_on_signal: true,
        })
    }

    /// The error `e` of this output, named.
    fn named(&self, e: io::Error) -> io::Error {
        if e.get_ref().is_some_and(|inner| inner.is::<WriteError>()) {
            return e;
        }
        io::Error::new(
            e.kind(),
            WriteError {
                name: self.name.clone(),
                kind: e.kind(),
                message: e.to_string(),
            },
        )
    }

    /// An error once a signal has arrived: the run stops at its next write (and a file
    /// written under a temporary name is removed).
    fn check_signal(&self) -> io::Result<()> {
        if !self.stop_on_signal {
            return Ok(());
        }
        match signals::caught() {
            Some(sig) => Err(self.named(io::Error::other(format!(
                "interrupted by {}",
                signals::name(sig)
            )))),
            None => Ok(()),
        }
    }

    /// Flushes and moves the file into place (synced first, so that a full disk shows
    /// now and not after the rename).
    pub fn commit(mut self) -> CliResult<()> {
        self.flush()?;
        if let (Some(temp), Some(target)) = (&self.temp, &self.target) {
            // Reopen to sync: the BufWriter owns the handle.
            std::fs::File::open(temp)
                .and_then(|f| f.sync_all())
                .map_err(|e| self.named(e))?;
            self.check_signal()?;
            std::fs::rename(temp, target)
                .map_err(|e| fail(target, format_args!("cannot move output into place: {e}")))?;
            self.temp = None;
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_signal()?;
        self.writer.write(buf).map_err(|e| self.named(e))
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check_signal()?;
        self.writer.write_all(buf).map_err(|e| self.named(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.check_signal()?;
        self.writer.flush().map_err(|e| self.named(e))
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}
