//! The temporary file `flashback --check` spills its rows to: created in the temporary
//! directory ($TMPDIR, else /tmp) and unlinked at once, so that nothing is left behind
//! whatever ends the process. Its first failure is kept as one line naming the directory
//! (a full disk, an unwritable $TMPDIR); a signal makes its next read or write fail, so
//! that the run stops between two runs or two batches.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::signals;

/// The first failure of a temporary file, shared with whoever reports it.
#[derive(Debug, Clone, Default)]
pub struct Fault(Rc<RefCell<Option<String>>>);

impl Fault {
    /// The failure's line, if one happened.
    pub fn message(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    fn note(&self, message: String) {
        let mut m = self.0.borrow_mut();
        if m.is_none() {
            *m = Some(message);
        }
    }
}

/// An unlinked file in the temporary directory.
#[derive(Debug)]
pub struct TempFile {
    file: File,
    dir: PathBuf,
    fault: Fault,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TempFile {
    /// Creates the file (no other process can have its name) and unlinks it.
    pub fn create(fault: &Fault) -> io::Result<TempFile> {
        let dir = std::env::temp_dir();
        let fail = |what: &str, e: io::Error| {
            fault.note(format!(
                "--check: {what} a temporary file in {} (set TMPDIR to another directory): {e}",
                dir.display()
            ));
            e
        };
        if let Some(sig) = signals::caught() {
            return Err(io::Error::other(format!(
                "interrupted by {}",
                signals::name(sig)
            )));
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".binlog-tool-check-{}-{n}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| fail("cannot create", e))?;
        std::fs::remove_file(&path).map_err(|e| fail("cannot unlink", e))?;
        Ok(TempFile {
            file,
            dir,
            fault: fault.clone(),
        })
    }

    /// Fails once a signal has arrived.
    fn check_signal(&self) -> io::Result<()> {
        match signals::caught() {
            Some(sig) => Err(io::Error::other(format!(
                "interrupted by {}",
                signals::name(sig)
            ))),
            None => Ok(()),
        }
    }

    fn failed(&self, what: &str, e: io::Error) -> io::Error {
        if signals::caught().is_none() {
            self.fault.note(format!(
                "--check: {what} the temporary file in {} (free space there, set TMPDIR to \
                 another directory, or raise --check-memory): {e}",
                self.dir.display()
            ));
        }
        e
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_signal()?;
        self.file.write(buf).map_err(|e| self.failed("writing", e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().map_err(|e| self.failed("writing", e))
    }
}

impl Read for TempFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check_signal()?;
        self.file.read(buf).map_err(|e| self.failed("reading", e))
    }
}

impl Seek for TempFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file
            .seek(pos)
            .map_err(|e| self.failed("seeking in", e))
    }
}
