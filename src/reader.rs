//! Walking a binlog: [`Binlog`] over bytes, [`BinlogFile`] over a memory-mapped file, and the
//! [`Events`] iterator. Walking copies nothing: every [`Event`] borrows its bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checked_ahead::{CheckedAhead, TELL_EVERY};
use crate::error::{Error, ErrorKind, Result};
use crate::event::fde::{Format, FormatDescription, StartV3};
use crate::event::header::{EventHeader, EventType, HEADER_LEN, MAGIC, V1_HEADER_LEN};
use crate::event::Event;

/// A binlog held in memory (usually a memory map): the magic has been checked and the
/// first event (FDE or START_V3) read.
#[derive(Debug, Clone)]
pub struct Binlog<'a> {
    data: &'a [u8],
    format: Format,
    has_format_event: bool,
    encrypted_from: Option<u64>,
    /// A thread checking the events' CRC32s ahead of the walks of [`Binlog::events`].
    checked: Option<&'a CheckedAhead>,
}

impl<'a> Binlog<'a> {
    /// Checks the magic and reads the format from the first event. A file whose first event
    /// is neither an FDE nor a START_V3 gets [`Format::fallback`].
    pub fn parse(data: &'a [u8]) -> Result<Binlog<'a>> {
        match data.get(..4) {
            Some(m) if m == MAGIC => {}
            Some(_) => return Err(Error::new(ErrorKind::BadMagic, 0)),
            None => {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof {
                        what: "binlog magic",
                        needed: 4,
                        available: data.len() as u64,
                    },
                    0,
                ))
            }
        }
        let (format, has_format_event) = match first_format(data)? {
            Some(f) => (f, true),
            None => (Format::fallback(), false),
        };
        let mut log = Binlog {
            data,
            format,
            has_format_event,
            encrypted_from: None,
            checked: None,
        };
        // MariaDB writes START_ENCRYPTION right after the FDE; everything after it is
        // encrypted. Note where, so that walks starting later know.
        let mut first = log.events().verify_checksums(false);
        if let (Some(Ok(_)), Some(Ok(second))) = (first.next(), first.next()) {
            if second.event_type() == EventType::MARIADB_START_ENCRYPTION {
                log.encrypted_from = Some(second.end_offset());
            }
        }
        Ok(log)
    }

    /// Offset from which events are encrypted (MariaDB `encrypt_binlog`), if they are.
    pub fn encrypted_from(&self) -> Option<u64> {
        self.encrypted_from
    }

    /// The same file, whose walks from the first event ([`Binlog::events`]) leave the
    /// CRC32 checks to `checker`, a thread running [`CheckedAhead::check`] on it (see
    /// [`crate::checked_ahead`]).
    pub fn checked_ahead(&self, checker: &'a CheckedAhead) -> Binlog<'a> {
        Binlog {
            checked: Some(checker),
            ..self.clone()
        }
    }

    /// The same file without a checker.
    pub(crate) fn unchecked(&self) -> Binlog<'a> {
        Binlog {
            checked: None,
            ..self.clone()
        }
    }

    /// The whole file.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The format given by the first event.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// Whether the file starts with an FDE or START_V3 (false for an empty file after the
    /// magic or a fragment).
    pub fn has_format_event(&self) -> bool {
        self.has_format_event
    }

    /// The events from the first one on, with CRC32 checks on.
    pub fn events(&self) -> Events<'a> {
        // The first FDE is framed by the default v4 header, whatever header length it
        // announces for the events after it (some patched 5.1 servers used 23 to 31 bytes).
        let format = if self.format.binlog_version >= 4 {
            let mut f = Format::fallback();
            f.header_len = HEADER_LEN as u8;
            f
        } else {
            self.format.clone()
        };
        let mut ev = Events::new(self.data, 4, 0, format);
        ev.checked = self.checked;
        ev
    }

    /// The events starting at byte `offset`, which must be an event boundary; the format
    /// is the file's first one (later FDEs in the file are not seen when starting past them).
    pub fn events_from(&self, offset: u64) -> Events<'a> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).max(4);
        let mut ev = Events::new(self.data, start, 0, self.format.clone());
        ev.encrypted = self.encrypted_from.is_some_and(|e| offset >= e);
        ev
    }
}

/// Reads the format from the event at offset 4, if it is an FDE or START_V3.
fn first_format(data: &[u8]) -> Result<Option<Format>> {
    let Some(&code) = data.get(4 + 4) else {
        return Ok(None);
    };
    let len_bytes = data.get(4 + 9..4 + 13);
    let Some(len) = len_bytes.map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
        return Ok(None);
    };
    let Some(ev) = data.get(4..4 + len) else {
        return Ok(None);
    };
    match EventType(code) {
        EventType::FORMAT_DESCRIPTION => {
            let body = ev.get(HEADER_LEN..).unwrap_or(&[]);
            let fde = parse_fde_with_trailer(body, 4 + HEADER_LEN as u64)?;
            Ok(Some(Format::from_fde(&fde)))
        }
        EventType::START_V3 => {
            // A 13-byte header (v1) makes the event 13 + 56 bytes long.
            let hl = if len == V1_HEADER_LEN + 56 {
                V1_HEADER_LEN
            } else {
                HEADER_LEN
            };
            let body = ev.get(hl..).unwrap_or(&[]);
            let s = StartV3::parse(body, 4 + hl as u64)?;
            let mut f = Format::from_start_v3(&s);
            f.header_len = hl as u8;
            Ok(Some(f))
        }
        _ => Ok(None),
    }
}

/// Parses an FDE body that may still end with its 4-byte CRC (decided by the version).
fn parse_fde_with_trailer(body_and_crc: &[u8], offset: u64) -> Result<FormatDescription<'_>> {
    let probe = FormatDescription::parse(body_and_crc, offset)?;
    if probe.checksum_alg.is_some() {
        let n = body_and_crc.len().saturating_sub(4);
        FormatDescription::parse(&body_and_crc[..n], offset)
    } else {
        Ok(probe)
    }
}

/// A fallible iterator of events. After an error it ends.
///
/// It follows FDEs it meets (a relay log carries the source's FDE after its own), so each
/// event is framed by the format in force where it stands.
#[derive(Debug, Clone)]
pub struct Events<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    format: Arc<Format>,
    verify: bool,
    /// Who checks the CRC32s of the events from the first one, when not this walk.
    checked: Option<&'a CheckedAhead>,
    /// Events ending there or before were checked by `checked`, as it said when last
    /// asked (at `told`).
    checked_to: u64,
    told: u64,
    done: bool,
    encrypted: bool,
}

impl<'a> Events<'a> {
    /// Events in `data` from `pos` on, where `data[0]` lives at absolute offset `base`.
    pub fn new(data: &'a [u8], pos: usize, base: u64, format: Format) -> Events<'a> {
        Events {
            data,
            pos,
            base,
            format: Arc::new(format),
            verify: true,
            checked: None,
            checked_to: 0,
            told: 0,
            done: false,
            encrypted: false,
        }
    }

    /// Events of `data` between absolute offsets `start` and `end` (event boundaries) of a
    /// file whose format there is `format`: how a transaction found earlier is walked again.
    pub fn range(data: &'a [u8], start: u64, end: u64, format: Arc<Format>) -> Events<'a> {
        let end = usize::try_from(end).unwrap_or(usize::MAX).min(data.len());
        let start = usize::try_from(start).unwrap_or(usize::MAX).min(end);
        Events {
            data: &data[..end],
            pos: start,
            base: 0,
            format,
            verify: true,
            checked: None,
            checked_to: 0,
            told: 0,
            done: false,
            encrypted: false,
        }
    }

    /// Turns CRC32 verification on or off (on by default). With it off, only lengths are
    /// checked: a header walk.
    pub fn verify_checksums(mut self, on: bool) -> Events<'a> {
        self.verify = on;
        self
    }

    /// The format in force at the current position.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The format in force at the current position, shared.
    pub fn shared_format(&self) -> Arc<Format> {
        Arc::clone(&self.format)
    }

    /// Absolute offset of the next event.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Whether the checker checked the event ending at `end`. It is asked only past what
    /// it said last time, or every [`TELL_EVERY`] bytes (so that it knows where the walk
    /// is): not at every event, which would have both threads write one cache line.
    fn checked_by_another(&mut self, end: u64) -> bool {
        let Some(c) = self.checked else {
            return false;
        };
        if end > self.checked_to || end >= self.told.saturating_add(TELL_EVERY) {
            self.checked_to = c.reach(end);
            self.told = end;
        }
        end <= self.checked_to
    }

    fn next_event(&mut self) -> Result<Option<Event<'a>>> {
        let rest = match self.data.get(self.pos..) {
            Some(r) if !r.is_empty() => r,
            _ => return Ok(None),
        };
        let offset = self.offset();
        let header_len = usize::from(self.format.header_len);
        if self.encrypted {
            // Only the length (header offset 9) is in clear; the rest is ciphertext.
            let header = EventHeader::parse(rest, header_len, offset)?;
            let len = header.event_len as usize;
            let raw = rest
                .get(..len)
                .filter(|_| len >= header_len)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::EventPastEof {
                            len: header.event_len,
                            available: rest.len() as u64,
                        },
                        offset,
                    )
                })?;
            self.pos += len;
            return Event::encrypted(offset, header, raw, header_len as u8).map(Some);
        }
        let header = EventHeader::parse(rest, header_len, offset)?;
        let len = header.event_len as usize;
        if len < header_len {
            return Err(Error::new(
                ErrorKind::EventTooShort {
                    len: header.event_len,
                },
                offset,
            ));
        }
        let Some(raw) = rest.get(..len) else {
            return Err(Error::new(
                ErrorKind::EventPastEof {
                    len: header.event_len,
                    available: rest.len() as u64,
                },
                offset,
            ));
        };
        let (checksum, verifiable) = if header.event_type == EventType::FORMAT_DESCRIPTION {
            let fde = parse_fde_with_trailer(&raw[header_len..], offset + header_len as u64)?;
            self.format = Arc::new(Format::from_fde(&fde));
            // The trailer is there on every checksum-aware server; like the server, only
            // check it when the algorithm is CRC32.
            (self.format.fde_has_checksum(), self.format.has_checksum())
        } else {
            (self.format.has_checksum(), self.format.has_checksum())
        };
        let mut ev = Event::new(offset, header, raw, header_len as u8, checksum)?;
        ev.set_checksum_verifiable(verifiable);
        let end = offset + len as u64;
        if self.verify && !self.checked_by_another(end) {
            ev.verify_checksum()?;
        }
        if header.event_type == EventType::MARIADB_START_ENCRYPTION {
            self.encrypted = true;
        }
        self.pos += len;
        Ok(Some(ev))
    }
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Event<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_event() {
            Ok(Some(ev)) => Some(Ok(ev)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A binlog file mapped into memory.
///
/// The map is read-only. A binlog the server is still writing only grows, which a map
/// tolerates; a file truncated while mapped would fault on access to the lost pages, so
/// do not point the tool at a file something else is shrinking.
pub struct BinlogFile {
    path: PathBuf,
    map: Option<memmap2::Mmap>,
}

impl std::fmt::Debug for BinlogFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogFile")
            .field("path", &self.path)
            .field("len", &self.bytes().len())
            .finish()
    }
}

impl BinlogFile {
    /// Maps `path` read-only. An empty file is held without a map.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<BinlogFile> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        let map = if len == 0 {
            None
        } else {
            Some(map_file(&file)?)
        };
        Ok(BinlogFile { path, map })
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Parses the mapped bytes as a binlog.
    pub fn binlog(&self) -> Result<Binlog<'_>> {
        Binlog::parse(self.bytes())
    }

    /// Lets the pages holding bytes `start..end` leave this process's resident memory,
    /// for walks over files larger than the memory they deserve. The bytes stay readable:
    /// a later read maps them again (from the page cache, or the file).
    pub fn release(&self, start: u64, end: u64) {
        if let Some(map) = &self.map {
            release_pages(map, start, end);
        }
    }

    /// Asks the kernel to map the pages holding bytes `start..end` now (reading them from
    /// the file when they are not cached), so that a walk reaching them later does not
    /// stop to fault them in. A hint: done on Linux only, its failure ignored.
    pub fn prefetch(&self, start: u64, end: u64) {
        #[cfg(target_os = "linux")]
        if let Some(map) = &self.map {
            let len = map.len() as u64;
            let (s, e) = (start.min(len), end.min(len));
            if e > s {
                let _ =
                    map.advise_range(memmap2::Advice::PopulateRead, s as usize, (e - s) as usize);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (start, end);
    }
}

/// Drops the pages of `start..end` of a map from the resident set.
#[allow(unsafe_code)]
fn release_pages(map: &memmap2::Mmap, start: u64, end: u64) {
    #[cfg(unix)]
    {
        let len = map.len() as u64;
        let (s, e) = (start.min(len), end.min(len));
        if e > s {
            // SAFETY: the map is private and read-only, so none of its pages was ever
            // written: dropping them loses nothing, and a later access maps the same file
            // bytes again (the hazard of a file changed under the map is the map's own,
            // see `map_file`).
            let _ = unsafe {
                map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    s as usize,
                    (e - s) as usize,
                )
            };
        }
    }
    #[cfg(not(unix))]
    let _ = (map, start, end);
}

/// Maps a whole file read-only.
#[allow(unsafe_code)]
fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and private to this process. The file may be appended
    // to while mapped (a live binlog), which only adds bytes past the mapped length. If
    // another process truncated it, reads of the lost pages would raise SIGBUS; binlogs
    // are only ever purged whole (unlinked, which keeps the mapping valid), never shrunk.
    let map = unsafe { memmap2::Mmap::map(file)? };
    #[cfg(unix)]
    {
        // A sequential walk benefits from read-ahead; the hint is advisory only.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventData;

    /// A MySQL 3.23-style file: START_EVENT_V3 with binlog version 1 and 13-byte headers.
    #[test]
    fn v1_files_are_listed_and_decoded() {
        let mut f = MAGIC.to_vec();
        let mut event = |t: u8, body: &[u8]| {
            let len = (13 + body.len()) as u32;
            f.extend_from_slice(&1_000_000u32.to_le_bytes());
            f.push(t);
            f.extend_from_slice(&7u32.to_le_bytes());
            f.extend_from_slice(&len.to_le_bytes());
            f.extend_from_slice(body);
        };
        let mut start = vec![1u8, 0];
        let mut version = b"3.23.58-log".to_vec();
        version.resize(50, 0);
        start.extend_from_slice(&version);
        start.extend_from_slice(&1_000_000u32.to_le_bytes());
        event(1, &start);
        let mut q = Vec::new();
        q.extend_from_slice(&5u32.to_le_bytes()); // thread id
        q.extend_from_slice(&0u32.to_le_bytes()); // exec time
        q.push(4); // db length
        q.extend_from_slice(&0u16.to_le_bytes()); // error code
        q.extend_from_slice(b"test\0insert into t values (1)");
        event(2, &q);
        event(3, &[]);
        let log = Binlog::parse(&f).unwrap();
        assert_eq!(log.format().binlog_version, 1);
        assert_eq!(log.format().header_len, 13);
        let mut events = log.events();
        let mut types = Vec::new();
        while let Some(ev) = events.next() {
            let ev = ev.unwrap();
            types.push(ev.event_type());
            if let EventData::Query(q) = ev.decode(events.format()).unwrap() {
                assert_eq!(q.db, b"test");
                assert_eq!(q.query, b"insert into t values (1)");
                assert_eq!(q.status, None);
            }
        }
        assert_eq!(
            types,
            [EventType::START_V3, EventType::QUERY, EventType::STOP]
        );
    }
}
