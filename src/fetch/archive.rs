//! A directory of binlogs copied from a server ([`Archive`]): the server's file names, each
//! file byte-identical to the server's (the one still being written a prefix of it), and a
//! `<basename>.index` listing them as the server's index does.
//!
//! Opening an archive finds where it ends: the last file is walked with the reader (CRC32s
//! included); a partial last event (a crash or a kill mid-write) is cut off, as is a tail of
//! zeros a crash can leave; damage anywhere else is refused. The archive then says where a
//! dump resumes ([`ArchiveEnd`]): at the last event of an open file (which the server sends
//! again, so that it can be compared), or at the start of the next file.
//!
//! Writing goes through [`Sink`]: whole events only, the FDE's in-use flag cleared when a
//! file is complete (its CRC32 is computed with the flag clear, so it stays valid), fsync of
//! the file and of the directory when a file is complete or created.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::stream::{is_plain_name, Resume, Sink};
use crate::event::fde::Format;
use crate::event::header::{EventType, CHECKSUM_LEN, FLAG_BINLOG_IN_USE, HEADER_LEN, MAGIC};
use crate::reader::Events;
use crate::{BinlogFile, ErrorKind};

/// Offset of the FDE's flags in a file (magic, then header offset 17).
const FDE_FLAGS_AT: u64 = 4 + 17;

/// Bytes written between background writebacks: a file's final fsync then has little
/// left to do, and the copy does not stall on a gigabyte of dirty pages at each ROTATE.
const WRITEBACK_EVERY: u64 = 64 << 20;

/// Where an archive ends, and so where a dump resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveEnd {
    /// No binlog yet.
    Empty,
    /// The last file is complete: it ends with a ROTATE naming `next`, or with a STOP
    /// (`next` unknown: the server restarted and its next file has the next number).
    Finished {
        /// The last file.
        file: String,
        /// The file the ROTATE names.
        next: Option<String>,
    },
    /// The last file is still open: resume in it.
    Open(Resume),
}

/// Something about the archive that stops a fetch.
#[derive(Debug)]
pub struct ArchiveError {
    /// The file (or directory) concerned.
    pub path: PathBuf,
    /// The offset in it, when one applies.
    pub offset: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(o) => write!(
                f,
                "{}: at offset {o}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ArchiveError {}

fn aerr(path: &Path, offset: Option<u64>, message: impl Into<String>) -> ArchiveError {
    ArchiveError {
        path: path.to_path_buf(),
        offset,
        message: message.into(),
    }
}

/// The file being written.
struct Current {
    name: String,
    out: BufWriter<File>,
    len: u64,
    /// Where its last whole event starts (4 when it has none).
    last_start: u64,
    last_type: Option<EventType>,
    /// Its FDE, as written.
    fde: Option<Vec<u8>>,
    format: Option<Arc<Format>>,
    finished: bool,
    /// The file ROTATE names, once the file ends with one.
    next: Option<String>,
    /// Length at the last background writeback, and the thread doing it.
    written_back: u64,
    writeback: Option<std::thread::JoinHandle<()>>,
}

impl Current {
    fn new(name: &str, file: File, len: u64) -> Current {
        Current {
            name: name.to_string(),
            out: BufWriter::with_capacity(1 << 20, file),
            len,
            last_start: 4,
            last_type: None,
            fde: None,
            format: None,
            finished: false,
            next: None,
            written_back: len,
            writeback: None,
        }
    }

    /// Every [`WRITEBACK_EVERY`] bytes, has a thread fsync what was written so far (one at
    /// a time; writing goes on meanwhile).
    fn maybe_write_back(&mut self) -> io::Result<()> {
        if self.len - self.written_back < WRITEBACK_EVERY {
            return Ok(());
        }
        if self.writeback.as_ref().is_some_and(|h| !h.is_finished()) {
            return Ok(());
        }
        if let Some(h) = self.writeback.take() {
            let _ = h.join();
        }
        self.out.flush()?;
        let f = self.out.get_ref().try_clone()?;
        self.writeback = Some(std::thread::spawn(move || {
            let _ = f.sync_data();
        }));
        self.written_back = self.len;
        Ok(())
    }
}

/// A binlog archive directory.
pub struct Archive {
    dir: PathBuf,
    base: Option<String>,
    files: Vec<String>,
    current: Option<Current>,
    /// A complete last file, when no file is open.
    finished_last: Option<(String, Option<String>)>,
    notes: Vec<String>,
    unsynced: bool,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("dir", &self.dir)
            .field("files", &self.files.len())
            .field("current", &self.current.as_ref().map(|c| (&c.name, c.len)))
            .finish()
    }
}

/// Splits `name.000123` into its base and sequence number.
pub fn split_name(name: &str) -> Option<(&str, u64)> {
    let (base, num) = name.rsplit_once('.')?;
    if base.is_empty() || num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, num.parse().ok()?))
}

impl Archive {
    /// Opens the archive in `dir` (an existing directory), cutting a partial last event off
    /// the last file (see [`Archive::notes`]).
    pub fn open(dir: &Path) -> Result<Archive, ArchiveError> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| aerr(dir, None, format!("cannot read: {e}")))?;
        let mut found: Vec<(String, u64, String)> = Vec::new();
        for e in entries {
            let e = e.map_err(|e| aerr(dir, None, format!("cannot read: {e}")))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            if let Some((base, n)) = split_name(&name) {
                found.push((base.to_string(), n, name));
            }
        }
        let mut bases: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        bases.sort_unstable();
        bases.dedup();
        if bases.len() > 1 {
            return Err(aerr(
                dir,
                None,
                format!(
                    "holds binlogs of several names ({}); an archive keeps one server's",
                    bases.join(", ")
                ),
            ));
        }
        let base = bases.first().map(|b| b.to_string());
        found.sort_by_key(|f| f.1);
        let mut archive = Archive {
            dir: dir.to_path_buf(),
            base,
            files: found.into_iter().map(|f| f.2).collect(),
            current: None,
            finished_last: None,
            notes: Vec::new(),
            unsynced: false,
        };
        if let Some(last) = archive.files.last().cloned() {
            archive.open_last(&last)?;
            archive
                .write_index()
                .map_err(|e| aerr(dir, None, format!("cannot write the index: {e}")))?;
        }
        Ok(archive)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files, oldest first.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The index file's path (`<basename>.index`), once the base name is known.
    pub fn index_path(&self) -> Option<PathBuf> {
        self.base
            .as_ref()
            .map(|b| self.dir.join(format!("{b}.index")))
    }

    /// What opening the archive repaired, one line each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Walks the last file, cuts a partial tail, and opens it for appending.
    fn open_last(&mut self, name: &str) -> Result<(), ArchiveError> {
        let path = self.dir.join(name);
        let len = std::fs::metadata(&path)
            .map_err(|e| aerr(&path, None, format!("cannot read: {e}")))?
            .len();
        if len < 4 {
            // Not even the magic: start the file again.
            if len > 0 {
                self.notes.push(format!(
                    "{}: {len} bytes, less than the binlog magic; written again from the start",
                    path.display()
                ));
            }
            std::fs::remove_file(&path)
                .map_err(|e| aerr(&path, None, format!("cannot remove: {e}")))?;
            self.files.pop();
            return Ok(());
        }
        let map =
            BinlogFile::open(&path).map_err(|e| aerr(&path, None, format!("cannot read: {e}")))?;
        let data = map.bytes();
        if data.get(..4) != Some(&MAGIC[..]) {
            return Err(aerr(&path, Some(0), "not a binlog (bad magic number)"));
        }
        let Walked { last, fde, cut } = walk(&path, data)?;
        drop(map);
        let end = last.map_or(4, |l| l.1);
        if let Some((at, why)) = &cut {
            self.notes.push(format!(
                "{}: {why} at offset {at}; truncated to {at}",
                path.display()
            ));
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| aerr(&path, None, format!("cannot open: {e}")))?;
            f.set_len(*at)
                .and_then(|_| f.sync_all())
                .map_err(|e| aerr(&path, Some(*at), format!("cannot truncate: {e}")))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| aerr(&path, None, format!("cannot open: {e}")))?;
        file.seek(SeekFrom::Start(end))
            .map_err(|e| aerr(&path, None, format!("cannot open: {e}")))?;
        let (fde_bytes, format) = match fde {
            Some((b, f)) => (Some(b), Some(f)),
            None => (None, None),
        };
        let mut cur = Current::new(name, file, end);
        cur.last_start = last.map_or(4, |l| l.0);
        cur.last_type = last.map(|l| l.2);
        cur.fde = fde_bytes;
        cur.format = format;
        if let Some(t) = cur.last_type {
            if t == EventType::ROTATE || t == EventType::STOP {
                if t == EventType::ROTATE {
                    let ev = read_at(
                        cur.out.get_mut(),
                        cur.last_start,
                        (end - cur.last_start) as usize,
                    )
                    .map_err(|e| aerr(&path, Some(cur.last_start), format!("cannot read: {e}")))?;
                    cur.next = rotate_target(&ev, cur.format.as_deref());
                }
                // Complete: make sure the in-use flag is clear (a kill between the ROTATE
                // and clearing it leaves it set).
                finish_file(&mut cur, true)
                    .map_err(|e| aerr(&path, None, format!("cannot write: {e}")))?;
                self.finished_last = Some((cur.name.clone(), cur.next.clone()));
                return Ok(());
            }
        }
        self.current = Some(cur);
        Ok(())
    }

    /// Where the archive ends now (the last event of an open file is read back from disk).
    pub fn end(&mut self) -> io::Result<ArchiveEnd> {
        if let Some(cur) = &mut self.current {
            if cur.finished {
                return Ok(ArchiveEnd::Finished {
                    file: cur.name.clone(),
                    next: cur.next.clone(),
                });
            }
            cur.out.flush()?;
            return Ok(ArchiveEnd::Open(Resume {
                file: cur.name.clone(),
                position: cur.last_start,
                file_exists: true,
                fde: cur.fde.clone(),
                last_len: (cur.len > 4).then_some(cur.len - cur.last_start),
            }));
        }
        Ok(match &self.finished_last {
            Some((file, next)) => ArchiveEnd::Finished {
                file: file.clone(),
                next: next.clone(),
            },
            None => ArchiveEnd::Empty,
        })
    }

    /// The open file and its length.
    pub fn position(&self) -> Option<(&str, u64)> {
        self.current.as_ref().map(|c| (c.name.as_str(), c.len))
    }

    /// Hands buffered events to the operating system.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(c) = &mut self.current {
            c.out.flush()?;
        }
        Ok(())
    }

    /// Makes everything written durable (fsync), if anything was written since the last
    /// time.
    pub fn sync(&mut self) -> io::Result<()> {
        if let Some(c) = &mut self.current {
            c.out.flush()?;
            if self.unsynced {
                c.out.get_ref().sync_data()?;
            }
        }
        self.unsynced = false;
        Ok(())
    }

    fn write_index(&self) -> io::Result<()> {
        let Some(index) = self.index_path() else {
            return Ok(());
        };
        let mut text = String::new();
        for f in &self.files {
            text.push_str("./");
            text.push_str(f);
            text.push('\n');
        }
        let tmp = self.dir.join(format!(
            ".{}.tmp",
            index
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &index)?;
        sync_dir(&self.dir)
    }
}

impl Sink for Archive {
    fn begin(&mut self, name: &str) -> io::Result<()> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
        if !is_plain_name(name) {
            return Err(invalid(format!("{name:?} is not a plain file name")));
        }
        let Some((base, _)) = split_name(name) else {
            return Err(invalid(format!(
                "the server's binlog name {name:?} has no sequence number"
            )));
        };
        match &self.base {
            Some(b) if b != base => {
                return Err(invalid(format!(
                    "the server's binlog {name} does not have the archive's base name {b}"
                )))
            }
            _ => self.base = Some(base.to_string()),
        }
        if let Some(mut c) = self.current.take() {
            c.out.flush()?;
            if !c.finished {
                finish_file(&mut c, false)?;
            }
        }
        self.finished_last = None;
        let path = self.dir.join(name);
        if let Ok(m) = std::fs::metadata(&path) {
            if m.len() > 4 {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} already exists with {} bytes", path.display(), m.len()),
                ));
            }
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        f.write_all(&MAGIC)?;
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_string());
        }
        self.write_index()?;
        self.current = Some(Current::new(name, f, 4));
        self.unsynced = true;
        Ok(())
    }

    fn append(&mut self, event: &[u8]) -> io::Result<()> {
        let Some(c) = &mut self.current else {
            return Err(io::Error::other("no binlog file is open"));
        };
        if c.finished {
            return Err(io::Error::other("the file is complete"));
        }
        c.out.write_all(event)?;
        let t = EventType(event.get(4).copied().unwrap_or(0));
        if c.len == 4 && t == EventType::FORMAT_DESCRIPTION {
            c.fde = Some(event.to_vec());
            let mut fallback = Format::fallback();
            fallback.header_len = HEADER_LEN as u8;
            let mut ev = Events::range(event, 0, event.len() as u64, Arc::new(fallback))
                .verify_checksums(false);
            if ev.next().is_some_and(|r| r.is_ok()) {
                c.format = Some(ev.shared_format());
            }
        }
        if t == EventType::ROTATE {
            c.next = rotate_target(event, c.format.as_deref());
        }
        c.last_start = c.len;
        c.last_type = Some(t);
        c.len += event.len() as u64;
        self.unsynced = true;
        c.maybe_write_back()
    }

    fn finish(&mut self, clear_in_use: bool) -> io::Result<()> {
        match &mut self.current {
            Some(c) => {
                finish_file(c, clear_in_use)?;
                self.unsynced = false;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn holds(&mut self, at: u64, event: &[u8]) -> io::Result<bool> {
        let Some(c) = &mut self.current else {
            return Ok(false);
        };
        if at.checked_add(event.len() as u64) != Some(c.len) {
            return Ok(false);
        }
        c.out.flush()?;
        file_holds(c.out.get_mut(), at, event)
    }
}

/// Whether `f` holds `bytes` at `at`, read a piece at a time; the file position is left
/// where it was.
fn file_holds(f: &mut File, at: u64, bytes: &[u8]) -> io::Result<bool> {
    let back = f.stream_position()?;
    f.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0u8; bytes.len().min(1 << 16)];
    let mut same = true;
    for want in bytes.chunks(buf.len().max(1)) {
        let got = &mut buf[..want.len()];
        f.read_exact(got)?;
        if got != want {
            same = false;
            break;
        }
    }
    f.seek(SeekFrom::Start(back))?;
    Ok(same)
}

/// What walking an archive's last file found.
struct Walked {
    /// The last whole event: where it starts and ends, its type.
    last: Option<(u64, u64, EventType)>,
    /// The file's FDE and the format it gives.
    fde: Option<(Vec<u8>, Arc<Format>)>,
    /// Where a partial event or a tail of zeros starts, and what it is.
    cut: Option<(u64, String)>,
}

/// Walks a file with the reader (CRC32s included): its last whole event, its FDE, and a
/// tail to cut; damage before the tail is refused.
fn walk(path: &Path, data: &[u8]) -> Result<Walked, ArchiveError> {
    let mut fallback = Format::fallback();
    fallback.header_len = HEADER_LEN as u8;
    let mut events = Events::new(data, 4, 0, fallback);
    let mut last: Option<(u64, u64, EventType)> = None;
    let mut fde: Option<(Vec<u8>, Arc<Format>)> = None;
    let mut cut: Option<(u64, String)> = None;
    loop {
        let at = events.offset();
        match events.next() {
            None => break,
            Some(Ok(ev)) => {
                if at == 4 && ev.event_type() == EventType::FORMAT_DESCRIPTION {
                    fde = Some((ev.raw().to_vec(), events.shared_format()));
                }
                last = Some((ev.offset(), ev.end_offset(), ev.event_type()));
            }
            Some(Err(e)) => {
                let tail = &data[at as usize..];
                let partial = matches!(
                    e.kind(),
                    ErrorKind::EventPastEof { .. } | ErrorKind::UnexpectedEof { .. }
                );
                if partial {
                    cut = Some((
                        at,
                        format!("ended in a partial event ({} bytes)", tail.len()),
                    ));
                } else if tail.iter().all(|&b| b == 0) {
                    cut = Some((at, format!("ended in {} zero bytes", tail.len())));
                } else {
                    return Err(aerr(
                        path,
                        Some(e.offset()),
                        format!(
                            "damaged: {}; the archive must be repaired by hand",
                            e.kind()
                        ),
                    ));
                }
                break;
            }
        }
    }
    Ok(Walked { last, fde, cut })
}

/// Clears the FDE's in-use flag (when `clear_in_use`) and fsyncs the file.
fn finish_file(c: &mut Current, clear_in_use: bool) -> io::Result<()> {
    c.out.flush()?;
    if let Some(h) = c.writeback.take() {
        let _ = h.join();
    }
    let f = c.out.get_mut();
    if clear_in_use && c.len >= FDE_FLAGS_AT + 2 {
        let b = read_at(f, FDE_FLAGS_AT, 2)?;
        let flags = u16::from_le_bytes([b[0], b[1]]);
        if flags & FLAG_BINLOG_IN_USE != 0 {
            f.seek(SeekFrom::Start(FDE_FLAGS_AT))?;
            f.write_all(&(flags & !FLAG_BINLOG_IN_USE).to_le_bytes())?;
            if let Some(fde) = &mut c.fde {
                fde[17..19].copy_from_slice(&(flags & !FLAG_BINLOG_IN_USE).to_le_bytes());
            }
        }
    }
    f.seek(SeekFrom::Start(c.len))?;
    f.sync_all()?;
    c.finished = true;
    Ok(())
}

/// Reads `len` bytes at `at`, leaving the file position at its end.
fn read_at(f: &mut File, at: u64, len: usize) -> io::Result<Vec<u8>> {
    let back = f.stream_position()?;
    f.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0; len];
    f.read_exact(&mut buf)?;
    f.seek(SeekFrom::Start(back))?;
    Ok(buf)
}

/// The file a ROTATE event names.
pub fn rotate_target(ev: &[u8], format: Option<&Format>) -> Option<String> {
    let crc = if format.is_some_and(Format::has_checksum) {
        CHECKSUM_LEN
    } else {
        0
    };
    let name = ev.get(HEADER_LEN + 8..ev.len().checked_sub(crc)?)?;
    let name = std::str::from_utf8(name).ok()?;
    is_plain_name(name).then(|| name.to_string())
}

/// Makes a directory's entries durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
