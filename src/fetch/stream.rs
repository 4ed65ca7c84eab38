//! What to do with each event a binlog dump sends, so that the files written are the
//! server's files byte for byte.
//!
//! A dump (MariaDB `mysql_binlog_send`, MySQL `Binlog_sender`) sends, for each file: an
//! artificial ROTATE naming it (`LOG_EVENT_ARTIFICIAL_F`, timestamp and log_pos 0); the
//! file's FORMAT_DESCRIPTION event with `LOG_EVENT_BINLOG_IN_USE_F` cleared (and, when the
//! dump starts past the FDE, with log_pos and the creation time zeroed and the CRC computed
//! again); then the file's events from the requested position, ending with the real ROTATE
//! (or STOP) that the server wrote. While idle it sends HEARTBEAT events (not in any file);
//! MariaDB may add artificial GTID_LIST events. [`Follower`] takes those apart: artificial
//! events and heartbeats are not written, the FDE is written with the in-use flag set (as
//! the server's own open file has it; the CRC covers the flag clear, so it stays valid), the
//! other events are checked (CRC32 with the reader's code, length, and that each ends where
//! its log_pos says) before they reach the [`Sink`], and a file ends at its ROTATE or STOP
//! (in-use flag cleared), or, when the server crashed, where the dump names the next file
//! (the flag then stays as the server leaves it: set on MariaDB, cleared by MySQL's
//! recovery).
//!
//! When a dump resumes a file the archive already holds, the FDE the server sends must be
//! the archive's (all but the fields the server changes), and the event at the resume
//! position, which the archive ends with, must come back identical: otherwise the server's
//! history is not the archive's and nothing is written.

use std::fmt;
use std::io;
use std::sync::Arc;

use crate::event::fde::{Flavor, Format};
use crate::event::header::{
    EventHeader, EventType, CHECKSUM_LEN, FLAG_ARTIFICIAL, FLAG_BINLOG_IN_USE, HEADER_LEN,
};
use crate::reader::Events;

/// Where a dump starts and what the archive already holds of that file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// The file the dump starts in.
    pub file: String,
    /// The position asked for (an event boundary, at least 4).
    pub position: u64,
    /// Whether the archive already has this file (at least its 4-byte magic).
    pub file_exists: bool,
    /// The archive's FDE of this file, when it has one.
    pub fde: Option<Vec<u8>>,
    /// The length of the archive's event at `position` (its last one), which the server
    /// sends again and which is compared with the archive's copy through
    /// [`Sink::holds`] (so that a large event is not held in memory twice).
    pub last_len: Option<u64>,
}

impl Resume {
    /// A dump of a file the archive does not have, from its start (an empty name: the
    /// server's first file).
    pub fn fresh(file: &str) -> Resume {
        Resume {
            file: file.to_string(),
            position: 4,
            ..Resume::default()
        }
    }

    /// Where the archive's copy of the file ends.
    pub fn archive_end(&self) -> u64 {
        self.position + self.last_len.unwrap_or(0)
    }
}

/// Where the events go: the archive, or a test's buffer.
pub trait Sink {
    /// A new file starts: create it with the binlog magic.
    fn begin(&mut self, file: &str) -> io::Result<()>;
    /// Appends one whole event to the current file.
    fn append(&mut self, event: &[u8]) -> io::Result<()>;
    /// The current file is complete: make it durable, and clear its FDE's in-use flag when
    /// `clear_in_use` (the server cleared its own: the file ended with ROTATE or STOP).
    fn finish(&mut self, clear_in_use: bool) -> io::Result<()>;
    /// Whether the current file holds exactly `event` at offset `at` (and nothing after
    /// it): the archive's last event, sent again when a dump resumes.
    fn holds(&mut self, at: u64, event: &[u8]) -> io::Result<bool>;
}

/// Why a dump was stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// An event's CRC32 (or length) is wrong: the bytes were damaged on the way.
    Corrupt(crate::Error),
    /// The server's history is not the archive's (another server, RESET MASTER, a file
    /// recreated under the same name).
    History(String),
    /// The stream skipped bytes: the event sent does not start where the file ends.
    Hole {
        /// Where the event sent says it ends (its log_pos).
        event_end: u64,
    },
    /// The server's binlogs are encrypted: the dump sends them decrypted, so they cannot
    /// be copied byte for byte.
    Encrypted,
    /// Something the protocol does not allow.
    Protocol(String),
    /// Writing the archive failed.
    Io(io::Error),
}

/// A stopped dump: what, and the file and offset it concerns.
#[derive(Debug)]
pub struct FetchError {
    /// The file (the server's name).
    pub file: String,
    /// The byte offset in that file.
    pub offset: u64,
    /// What happened.
    pub kind: FetchErrorKind,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, at) = (&self.file, self.offset);
        match &self.kind {
            FetchErrorKind::Corrupt(e) => write!(
                f,
                "{file} at offset {at}: the event received is damaged ({}); nothing of it was written",
                e.kind()
            ),
            FetchErrorKind::History(m) => write!(
                f,
                "{file} at offset {at}: the server's binlog is not the archive's ({m}); nothing was written"
            ),
            FetchErrorKind::Hole { event_end } => write!(
                f,
                "{file} at offset {at}: the server sent an event ending at {event_end}, which does not follow the archive's last event; nothing was written"
            ),
            FetchErrorKind::Encrypted => write!(
                f,
                "{file} at offset {at}: the server's binlogs are encrypted (encrypt_binlog); a dump sends them decrypted, so they cannot be archived byte for byte"
            ),
            FetchErrorKind::Protocol(m) => write!(f, "{file} at offset {at}: {m}"),
            FetchErrorKind::Io(e) => write!(f, "{file} at offset {at}: writing the archive: {e}"),
        }
    }
}

impl std::error::Error for FetchError {}

/// What an event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// Written to the current file (its length).
    Appended(u64),
    /// Written, and it ended the file (a ROTATE or STOP).
    Finished(u64),
    /// A heartbeat: the server is idle, the connection alive.
    Heartbeat,
    /// Not written: an artificial event, the resent FDE, or the archive's own last event
    /// sent again.
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The first artificial ROTATE, naming the file asked for.
    Rotate,
    /// The file's FDE.
    Fde,
    /// The event at the resume position, which the archive holds.
    Known,
    /// The file's events.
    Events,
}

/// Decides, event by event, what a dump's stream means for the archive. One per connection.
#[derive(Debug)]
pub struct Follower {
    resume: Resume,
    phase: Phase,
    file: String,
    /// Where the next event goes in the current file.
    offset: u64,
    /// Whether the current file exists in the archive.
    have_file: bool,
    /// Whether the current file has been finished.
    finished: bool,
    /// Whether the archive's copy of the current file has an FDE.
    have_fde: bool,
    format: Arc<Format>,
    /// Whether the server's artificial events and heartbeats carry a CRC32 now: at first as
    /// `@master_binlog_checksum` said, then as the last FDE sent says (the server's rule).
    checksum: bool,
}

impl Follower {
    /// A follower for a dump asked to start at `resume`; `checksum_at_connect` is whether
    /// the checksum algorithm the session announced (`@master_binlog_checksum`) is CRC32.
    pub fn new(resume: Resume, checksum_at_connect: bool) -> Follower {
        let mut format = Format::fallback();
        format.header_len = HEADER_LEN as u8;
        Follower {
            file: resume.file.clone(),
            offset: resume.archive_end(),
            have_file: resume.file_exists,
            have_fde: resume.fde.is_some(),
            finished: false,
            phase: Phase::Rotate,
            resume,
            format: Arc::new(format),
            checksum: checksum_at_connect,
        }
    }

    /// The current file (the server's name).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Where the current file ends in the archive.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the first events of the dump (the file named, its FDE, the archive's last
    /// event again) have arrived and checked out.
    pub fn in_stream(&self) -> bool {
        self.phase == Phase::Events
    }

    /// Whether the current file is complete.
    pub fn file_finished(&self) -> bool {
        self.finished
    }

    fn err(&self, kind: FetchErrorKind) -> FetchError {
        FetchError {
            file: self.file.clone(),
            offset: self.offset,
            kind,
        }
    }

    fn io(&self, e: io::Error) -> FetchError {
        self.err(FetchErrorKind::Io(e))
    }

    /// Handles one event (a dump packet's bytes after the status byte).
    pub fn feed(&mut self, ev: &[u8], sink: &mut dyn Sink) -> Result<Fed, FetchError> {
        let header = EventHeader::parse(ev, HEADER_LEN, self.offset).map_err(|_| {
            self.err(FetchErrorKind::Protocol(format!(
                "the server sent a {}-byte event, shorter than an event header",
                ev.len()
            )))
        })?;
        if header.event_len as usize != ev.len() {
            return Err(self.err(FetchErrorKind::Corrupt(crate::Error::new(
                crate::ErrorKind::EventPastEof {
                    len: header.event_len,
                    available: ev.len() as u64,
                },
                self.offset,
            ))));
        }
        let t = header.event_type;
        if t == EventType::HEARTBEAT || t == EventType::HEARTBEAT_V2 {
            if self.checksum {
                self.check_artificial_crc(ev)?;
            }
            return Ok(Fed::Heartbeat);
        }
        if t == EventType::MARIADB_START_ENCRYPTION {
            return Err(self.err(FetchErrorKind::Encrypted));
        }
        if header.flags & FLAG_ARTIFICIAL != 0 {
            if t == EventType::ROTATE {
                return self.artificial_rotate(ev, sink);
            }
            if self.checksum {
                self.check_artificial_crc(ev)?;
            }
            return Ok(Fed::Skipped);
        }
        match self.phase {
            Phase::Rotate => Err(self.err(FetchErrorKind::Protocol(format!(
                "the server sent a {} event before naming the file",
                t.show_name()
            )))),
            Phase::Fde => self.first_fde(&header, ev, sink),
            Phase::Known => self.known_event(&header, ev, sink),
            Phase::Events => self.event(&header, ev, sink),
        }
    }

    /// Checks the CRC32 of an event the server made up (its trailer is there when the
    /// server's current algorithm is CRC32).
    fn check_artificial_crc(&self, ev: &[u8]) -> Result<(), FetchError> {
        let n = ev.len().saturating_sub(CHECKSUM_LEN);
        let stored = ev
            .get(n..)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes);
        let computed = crc32fast::hash(ev.get(..n).unwrap_or_default());
        if ev.len() < HEADER_LEN + CHECKSUM_LEN || stored != computed {
            return Err(self.err(FetchErrorKind::Corrupt(crate::Error::new(
                crate::ErrorKind::BadChecksum { stored, computed },
                self.offset,
            ))));
        }
        Ok(())
    }

    fn artificial_rotate(&mut self, ev: &[u8], sink: &mut dyn Sink) -> Result<Fed, FetchError> {
        let mut body = ev.get(HEADER_LEN..).unwrap_or_default();
        if self.checksum {
            self.check_artificial_crc(ev)?;
            body = body
                .get(..body.len().saturating_sub(CHECKSUM_LEN))
                .unwrap_or_default();
        }
        if body.len() < 8 {
            return Err(self.err(FetchErrorKind::Protocol(
                "the server sent a ROTATE event too short to name a file".into(),
            )));
        }
        let position = u64::from_le_bytes(body[..8].try_into().unwrap_or([0; 8]));
        let name = String::from_utf8_lossy(&body[8..]).into_owned();
        if !is_plain_name(&name) {
            return Err(self.err(FetchErrorKind::Protocol(format!(
                "the server named a binlog {name:?}, which is not a plain file name"
            ))));
        }
        match self.phase {
            Phase::Rotate => {
                // An empty name asks for the server's first file: it names it here.
                let chosen = self.resume.file.is_empty() && position == 4;
                if !chosen && (name != self.resume.file || position != self.resume.position) {
                    return Err(self.err(FetchErrorKind::Protocol(format!(
                        "asked for {}:{}, the server starts at {name}:{position}",
                        self.resume.file, self.resume.position
                    ))));
                }
                self.file = name;
                if !self.have_file {
                    sink.begin(&self.file).map_err(|e| self.io(e))?;
                    self.have_file = true;
                    self.offset = 4;
                }
                self.phase = Phase::Fde;
                Ok(Fed::Skipped)
            }
            _ if name == self.file => Ok(Fed::Skipped),
            _ => {
                // The next file. One that ended without ROTATE or STOP (the server
                // crashed) is complete now too.
                if position != 4 {
                    return Err(self.err(FetchErrorKind::Protocol(format!(
                        "the server moved on to {name} at position {position}, not at its start"
                    ))));
                }
                if self.phase != Phase::Events {
                    return Err(self.err(FetchErrorKind::Protocol(format!(
                        "the server moved on to {name} before resending the archive's last event"
                    ))));
                }
                if !self.finished {
                    // A server that crashed leaves the flag set in that file (MariaDB);
                    // MySQL's crash recovery clears it.
                    let clear = self.format.flavor == Flavor::MySql;
                    sink.finish(clear).map_err(|e| self.io(e))?;
                }
                self.file = name;
                self.offset = 0;
                sink.begin(&self.file).map_err(|e| self.io(e))?;
                self.offset = 4;
                self.finished = false;
                self.have_fde = false;
                self.phase = Phase::Fde;
                Ok(Fed::Skipped)
            }
        }
    }

    /// Reads an FDE's format, checking its CRC32 and length with the reader.
    fn read_fde(&self, ev: &[u8]) -> Result<Arc<Format>, FetchError> {
        let mut events = Events::range(ev, 0, ev.len() as u64, Arc::clone(&self.format));
        match events.next() {
            Some(Ok(_)) => Ok(events.shared_format()),
            Some(Err(e)) => Err(self.err(FetchErrorKind::Corrupt(e.shifted(self.offset)))),
            None => Err(self.err(FetchErrorKind::Protocol("empty event".into()))),
        }
    }

    fn first_fde(
        &mut self,
        h: &EventHeader,
        ev: &[u8],
        sink: &mut dyn Sink,
    ) -> Result<Fed, FetchError> {
        if h.event_type != EventType::FORMAT_DESCRIPTION {
            return Err(self.err(FetchErrorKind::Protocol(format!(
                "the server sent a {} event where the file's FORMAT_DESCRIPTION belongs",
                h.event_type.show_name()
            ))));
        }
        let fde_offset = self.offset;
        self.offset = 4;
        let format = self.read_fde(ev);
        self.offset = fde_offset;
        let format = format?;
        self.checksum = format.has_checksum();
        self.format = format;
        if !self.have_fde {
            // The file is new to the archive: this FDE is its first event.
            if self.offset != 4 {
                return Err(self.err(FetchErrorKind::Protocol(
                    "a FORMAT_DESCRIPTION event past the start of the file".into(),
                )));
            }
            self.phase = Phase::Events;
            return self.append(h, ev, sink, true);
        }
        let archived = self.resume.fde.as_deref().unwrap_or(&[]);
        if !same_fde(archived, ev, self.format.fde_has_checksum()) {
            return Err(FetchError {
                file: self.file.clone(),
                offset: 4,
                kind: FetchErrorKind::History(
                    "its FORMAT_DESCRIPTION event differs from the archive's: another server or a recreated file".into(),
                ),
            });
        }
        self.phase = if self.resume.position == 4 {
            // The FDE was the event at the resume position: it has come back.
            self.after_known(h.event_type, sink)?;
            Phase::Events
        } else {
            Phase::Known
        };
        Ok(Fed::Skipped)
    }

    fn known_event(
        &mut self,
        h: &EventHeader,
        ev: &[u8],
        sink: &mut dyn Sink,
    ) -> Result<Fed, FetchError> {
        let archived = self.resume.last_len.unwrap_or(0);
        let same = ev.len() as u64 == archived
            && sink
                .holds(self.resume.position, ev)
                .map_err(|e| self.io(e))?;
        if !same {
            return Err(FetchError {
                file: self.file.clone(),
                offset: self.resume.position,
                kind: FetchErrorKind::History(format!(
                    "the event there differs from the archive's last event ({} {} bytes sent, {archived} bytes archived)",
                    h.event_type.show_name(),
                    ev.len(),
                )),
            });
        }
        self.after_known(h.event_type, sink)?;
        self.phase = Phase::Events;
        Ok(Fed::Skipped)
    }

    /// The archive's last event has come back: if it ended the file, the file is complete.
    fn after_known(&mut self, t: EventType, sink: &mut dyn Sink) -> Result<(), FetchError> {
        if t == EventType::ROTATE || t == EventType::STOP {
            sink.finish(true).map_err(|e| self.io(e))?;
            self.finished = true;
        }
        Ok(())
    }

    fn event(
        &mut self,
        h: &EventHeader,
        ev: &[u8],
        sink: &mut dyn Sink,
    ) -> Result<Fed, FetchError> {
        if self.finished {
            return Err(self.err(FetchErrorKind::Protocol(format!(
                "the server sent a {} event after the file's {}",
                h.event_type.show_name(),
                "ROTATE or STOP"
            ))));
        }
        // CRC32 and length, by the reader's own checks (an FDE here would change the
        // format, as it does for a reader).
        let mut events = Events::range(ev, 0, ev.len() as u64, Arc::clone(&self.format));
        match events.next() {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(self.err(FetchErrorKind::Corrupt(e.shifted(self.offset)))),
            None => return Err(self.err(FetchErrorKind::Protocol("empty event".into()))),
        }
        if h.event_type == EventType::FORMAT_DESCRIPTION {
            self.format = events.shared_format();
        }
        self.append(h, ev, sink, false)
    }

    fn append(
        &mut self,
        h: &EventHeader,
        ev: &[u8],
        sink: &mut dyn Sink,
        first_fde: bool,
    ) -> Result<Fed, FetchError> {
        let end = self.offset + ev.len() as u64;
        // log_pos is where the event ends (modulo 2^32 past 4 GiB, as servers write it).
        if h.log_pos != 0 && u64::from(h.log_pos) != end & 0xffff_ffff {
            return Err(self.err(FetchErrorKind::Hole {
                event_end: u64::from(h.log_pos),
            }));
        }
        if first_fde {
            // As in the server's open file: in use until the file is complete.
            let mut fde = ev.to_vec();
            let flags = u16::from_le_bytes([fde[17], fde[18]]) | FLAG_BINLOG_IN_USE;
            fde[17..19].copy_from_slice(&flags.to_le_bytes());
            sink.append(&fde).map_err(|e| self.io(e))?;
            self.have_fde = true;
        } else {
            sink.append(ev).map_err(|e| self.io(e))?;
        }
        self.offset = end;
        let n = ev.len() as u64;
        if h.event_type == EventType::ROTATE || h.event_type == EventType::STOP {
            sink.finish(true).map_err(|e| self.io(e))?;
            self.finished = true;
            return Ok(Fed::Finished(n));
        }
        Ok(Fed::Appended(n))
    }
}

/// Whether two copies of a file's FDE are the same but for what a dump changes: log_pos
/// and the creation time (zeroed when the dump starts past it), the in-use flag, and so the
/// CRC32 (`has_crc`: the last 4 bytes are one).
pub fn same_fde(archived: &[u8], sent: &[u8], has_crc: bool) -> bool {
    // Header: timestamp, type, server id, length (0..13); log_pos (13..17); flags (17..19).
    // Body: binlog version and server version (19..71), created (71..75), the rest.
    const CREATED: std::ops::Range<usize> = 71..75;
    if archived.len() != sent.len() || sent.len() < CREATED.end {
        return false;
    }
    let flags = |b: &[u8]| u16::from_le_bytes([b[17], b[18]]) & !FLAG_BINLOG_IN_USE;
    let end = sent.len() - if has_crc { CHECKSUM_LEN } else { 0 };
    archived[..13] == sent[..13]
        && flags(archived) == flags(sent)
        && archived[19..CREATED.start] == sent[19..CREATED.start]
        && archived.get(CREATED.end..end) == sent.get(CREATED.end..end)
}

/// Whether a name the server sent is a plain file name (no directory part).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
}
