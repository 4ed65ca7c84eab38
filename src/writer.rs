//! Writing binlogs: [`BinlogWriter`] frames event bodies with a header whose `event_len` and
//! `log_pos` it computes, and a CRC32 when the format says so.

use std::io::Write;

use crate::error::{Error, Result};
use crate::event::control::Rotate;
use crate::event::fde::Format;
use crate::event::header::{EventHeader, EventType, CHECKSUM_LEN, HEADER_LEN, MAGIC};
use crate::event::query::{Query, QUERY_POST_HEADER_LEN};
use crate::event::{event_crc, Event, EventData};

/// The header fields a caller chooses; length and position are the writer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Event timestamp.
    pub timestamp: u32,
    /// Server id.
    pub server_id: u32,
    /// Header flags.
    pub flags: u16,
}

impl Stamp {
    /// The stamp of an existing event.
    pub fn of(h: &EventHeader) -> Stamp {
        Stamp {
            timestamp: h.timestamp,
            server_id: h.server_id,
            flags: h.flags,
        }
    }
}

/// A statement as a QUERY event carries it: the session's thread id and status
/// variables (encoded, see [`crate::event::query::encode_status_vars`]), the current
/// database (empty for none) and the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The session's thread id.
    pub thread_id: u32,
    /// The encoded status variables.
    pub status: &'a [u8],
    /// The current database, empty for none.
    pub db: &'a [u8],
    /// The statement.
    pub text: &'a [u8],
}

impl<'a> Statement<'a> {
    /// `BEGIN`, with no current database.
    pub fn begin(thread_id: u32, status: &'a [u8]) -> Statement<'a> {
        Statement {
            thread_id,
            status,
            db: b"",
            text: b"BEGIN",
        }
    }
}

/// Writes a binlog: the magic and an FDE first, then events, positions and checksums
/// computed as the server computes them.
pub struct BinlogWriter<W: Write> {
    out: W,
    pos: u64,
    format: Format,
    scratch: Vec<u8>,
    /// Zeros past the classic QUERY post-header, as long as the format's is.
    query_extra: Vec<u8>,
    /// CRC32 fields are left zero, for [`relocate`] to compute once the events' place is
    /// known.
    crc_later: bool,
}

impl<W: Write> std::fmt::Debug for BinlogWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogWriter")
            .field("pos", &self.pos)
            .field("format", &self.format.server_version)
            .finish()
    }
}

impl<W: Write> BinlogWriter<W> {
    /// Starts a binlog in `format`: writes the magic and an FDE stamped `stamp`, whose
    /// creation time is `create_timestamp` (0, as in a rotated-to file, or the stamp's time).
    pub fn new(
        out: W,
        format: Format,
        stamp: Stamp,
        create_timestamp: u32,
    ) -> Result<BinlogWriter<W>> {
        if usize::from(format.header_len) != HEADER_LEN {
            return Err(Error::unsupported(
                0,
                "writing binlogs with a pre-v4 header",
            ));
        }
        let mut w = BinlogWriter::continuing(out, format, 0)?;
        w.put(&MAGIC)?;
        let body = w.format.to_fde(create_timestamp)?;
        let stamp = Stamp {
            flags: stamp.flags & !crate::event::header::FLAG_BINLOG_IN_USE,
            ..stamp
        };
        w.write_parts(EventType::FORMAT_DESCRIPTION, stamp, &[&body])?;
        Ok(w)
    }

    /// A writer that goes on from position `pos` of a binlog in `format` whose magic and
    /// FDE are elsewhere (with `pos` 0: events encoded apart, to be put in place by
    /// [`relocate`]).
    pub fn continuing(out: W, format: Format, pos: u64) -> Result<BinlogWriter<W>> {
        if usize::from(format.header_len) != HEADER_LEN {
            return Err(Error::unsupported(
                0,
                "writing binlogs with a pre-v4 header",
            ));
        }
        let query_extra = vec![
            0;
            format
                .post_header_len(EventType::QUERY)
                .saturating_sub(QUERY_POST_HEADER_LEN)
        ];
        Ok(BinlogWriter {
            out,
            pos,
            format,
            scratch: Vec::with_capacity(8192),
            query_extra,
            crc_later: false,
        })
    }

    /// A [`BinlogWriter::continuing`] writer whose events are to be moved (by
    /// [`relocate`], which computes their CRC32s where they land): their CRC32 fields are
    /// left zero rather than computed twice.
    pub fn apart(out: W, format: Format) -> Result<BinlogWriter<W>> {
        let mut w = BinlogWriter::continuing(out, format, 0)?;
        w.crc_later = true;
        Ok(w)
    }

    /// Appends `events` that [`relocate`] moved to this writer's position. Refuses them
    /// (writing nothing) when the first event's end position says they were moved
    /// elsewhere.
    pub fn append_placed(&mut self, events: &[u8]) -> Result<()> {
        if let Some(head) = events.get(..HEADER_LEN) {
            let field = |r: std::ops::Range<usize>| {
                u32::from_le_bytes([
                    head[r.start],
                    head[r.start + 1],
                    head[r.start + 2],
                    head[r.start + 3],
                ])
            };
            let (len, log_pos) = (field(9..13), field(13..17));
            if log_pos != (self.pos as u32).wrapping_add(len) {
                return Err(Error::malformed(
                    self.pos,
                    "events placed for another position",
                ));
            }
        }
        self.put(events)
    }

    /// Starts a binlog with a copy of an existing FDE (`fde` must be one), so the output
    /// describes itself exactly as the source did, the in-use flag cleared.
    pub fn with_fde(out: W, fde: &Event, format: &Format) -> Result<BinlogWriter<W>> {
        match fde.decode(format)? {
            EventData::FormatDescription(d) => {
                let f = Format::from_fde(&d);
                Self::new(out, f, Stamp::of(fde.header()), d.create_timestamp)
            }
            _ => Err(Error::malformed(
                fde.offset(),
                "not a FORMAT_DESCRIPTION event",
            )),
        }
    }

    /// Starts a binlog that copies events of `log`: its FORMAT_DESCRIPTION event is
    /// copied first (see [`BinlogWriter::with_fde`]). Returns the writer, the events of
    /// `log` after that FDE, and the FDE's header fields. Refuses a file that does not
    /// start with one (binlog v4).
    pub fn copying<'a>(
        out: W,
        log: &crate::reader::Binlog<'a>,
    ) -> Result<(BinlogWriter<W>, crate::reader::Events<'a>, Stamp)> {
        let mut events = log.events();
        let fde = match events.next() {
            Some(Ok(ev)) if ev.event_type() == EventType::FORMAT_DESCRIPTION => ev,
            Some(Err(e)) => return Err(e),
            _ => {
                return Err(Error::unsupported(
                    4,
                    "the binlog does not start with a FORMAT_DESCRIPTION event (binlog v4)",
                ))
            }
        };
        let w = BinlogWriter::with_fde(out, &fde, events.format())?;
        Ok((w, events, Stamp::of(fde.header())))
    }

    /// The format being written.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// Bytes written so far: the position of the next event.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The size in the file of an event (not the FDE) with a body of `body_len` bytes:
    /// header, body, and the CRC32 when the format has checksums.
    pub fn framed_len(&self, body_len: usize) -> u64 {
        let crc = if self.format.has_checksum() {
            CHECKSUM_LEN
        } else {
            0
        };
        (HEADER_LEN + body_len + crc) as u64
    }

    /// Appends the body of a QUERY event running `s`, framed for this format. Refuses a
    /// database name or status block too long for its length field.
    pub fn statement_body(&self, s: &Statement, out: &mut Vec<u8>) -> Result<()> {
        Query {
            compressed: false,
            thread_id: s.thread_id,
            exec_time: 0,
            error_code: 0,
            post_header_extra: &self.query_extra,
            status: Some(s.status),
            db: s.db,
            query: s.text,
        }
        .encode(out)
    }

    /// Writes a QUERY event running `s`. Returns its offset.
    pub fn write_statement(&mut self, stamp: Stamp, s: &Statement) -> Result<u64> {
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        let r = match self.statement_body(s, &mut body) {
            Ok(()) => self.write_parts(EventType::QUERY, stamp, &[&body]),
            Err(e) => Err(e.shifted(self.pos)),
        };
        self.scratch = body;
        r
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.out.write_all(b).map_err(|e| Error::io(self.pos, &e))?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// The header of an event of `len` bytes in all, written at this writer's position.
    /// Refuses an event over the 4 GiB limit.
    fn header(&self, t: EventType, stamp: Stamp, len: usize) -> Result<Vec<u8>> {
        let Ok(event_len) = u32::try_from(len) else {
            return Err(Error::unsupported(
                self.pos,
                format!("event of {len} bytes exceeds the 4 GiB event limit"),
            ));
        };
        let header = EventHeader {
            timestamp: stamp.timestamp,
            event_type: t,
            server_id: stamp.server_id,
            event_len,
            // Past 4 GiB the position wraps, as it does in the servers' own files.
            log_pos: (self.pos + len as u64) as u32,
            flags: stamp.flags,
        };
        let mut hb = Vec::with_capacity(HEADER_LEN);
        header.write(&mut hb);
        Ok(hb)
    }

    /// Writes an event whose body is the concatenation of `parts`. Returns its offset.
    pub fn write_parts(&mut self, t: EventType, stamp: Stamp, parts: &[&[u8]]) -> Result<u64> {
        let checksum = if t == EventType::FORMAT_DESCRIPTION {
            self.format.fde_has_checksum()
        } else {
            self.format.has_checksum()
        };
        let body_len: usize = parts.iter().map(|p| p.len()).sum();
        let len = HEADER_LEN + body_len + if checksum { CHECKSUM_LEN } else { 0 };
        let start = self.pos;
        let hb = self.header(t, stamp, len)?;
        self.put(&hb)?;
        for p in parts {
            self.put(p)?;
        }
        if checksum {
            let crc = if self.crc_later {
                0
            } else {
                let mut crc = crc32fast::Hasher::new();
                if t == EventType::FORMAT_DESCRIPTION {
                    crc = crc32fast::Hasher::new_with_initial(event_crc(&hb, t));
                } else {
                    crc.update(&hb);
                }
                parts.iter().for_each(|p| crc.update(p));
                crc.finalize()
            };
            self.put(&crc.to_le_bytes())?;
        }
        Ok(start)
    }

    /// Writes an event with a body.
    pub fn write_event(&mut self, t: EventType, stamp: Stamp, body: &[u8]) -> Result<u64> {
        self.write_parts(t, stamp, &[body])
    }

    /// Encodes `data` and writes it as an event of type `t`. A value that does not fit its
    /// field is refused (the error's offset is where the event would have started).
    pub fn write_data(&mut self, t: EventType, stamp: Stamp, data: &EventData) -> Result<u64> {
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        let r = match data.encode(&mut body) {
            Ok(()) => self.write_parts(t, stamp, &[&body]),
            Err(e) => Err(e.shifted(self.pos)),
        };
        self.scratch = body;
        r
    }

    /// Copies an existing event: same header fields and body, with `event_len`, `log_pos`
    /// and the checksum computed for this file.
    pub fn copy_event(&mut self, ev: &Event) -> Result<u64> {
        self.write_parts(ev.event_type(), Stamp::of(ev.header()), &[ev.body()])
    }

    /// Writes what stands for a GTID event `ev` that is left out (so that the server
    /// applying the output gives the transaction a fresh GTID): for a MariaDB transaction
    /// the BEGIN (or XA START) its GTID event implied; nothing before a standalone
    /// statement, an XA COMMIT, or a MySQL transaction (it has a BEGIN of its own).
    pub fn write_in_place_of_gtid(&mut self, ev: &Event, format: &Format) -> Result<()> {
        use crate::event::control::xid_sql;
        use crate::event::gtid::{FL_COMPLETED_XA, FL_PREPARED_XA, FL_STANDALONE};
        let EventData::MariadbGtid(g) = ev.decode(format)? else {
            return Ok(());
        };
        let text = match &g.xid {
            Some(x) if g.flags & FL_PREPARED_XA != 0 => {
                format!("XA START {}", xid_sql(x.gtrid, x.bqual, x.format_id))
            }
            _ if g.flags & (FL_STANDALONE | FL_COMPLETED_XA) != 0 => return Ok(()),
            _ => "BEGIN".to_string(),
        };
        let stamp = Stamp {
            flags: crate::event::header::FLAG_SUPPRESS_USE,
            ..Stamp::of(ev.header())
        };
        let s = Statement {
            thread_id: 0,
            status: &[],
            db: &[],
            text: text.as_bytes(),
        };
        self.write_statement(stamp, &s)?;
        Ok(())
    }

    /// Ends the file with a ROTATE to `next_file` (position 4), as a server does when it
    /// switches files, and returns the output.
    pub fn finish_with_rotate(mut self, stamp: Stamp, next_file: &[u8]) -> Result<W> {
        let r = EventData::Rotate(Rotate {
            position: Some(4),
            post_header_extra: &[],
            next_file,
        });
        self.write_data(EventType::ROTATE, stamp, &r)?;
        self.finish()
    }

    /// Ends the file with a STOP event, as a server does at shutdown, and returns the output.
    pub fn finish_with_stop(mut self, stamp: Stamp) -> Result<W> {
        self.write_parts(EventType::STOP, stamp, &[])?;
        self.finish()
    }

    /// Flushes and returns the output without an end event.
    pub fn finish(mut self) -> Result<W> {
        self.out.flush().map_err(|e| Error::io(self.pos, &e))?;
        Ok(self.out)
    }
}

impl BinlogWriter<Vec<u8>> {
    /// Writes an event (not a FORMAT_DESCRIPTION) whose body `body` appends straight to
    /// the bytes written, with no copy in between. Returns its offset. When `body` fails,
    /// nothing of the event is left.
    pub fn write_built(
        &mut self,
        t: EventType,
        stamp: Stamp,
        body: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<u64> {
        if t == EventType::FORMAT_DESCRIPTION {
            return Err(Error::unsupported(
                self.pos,
                "a FORMAT_DESCRIPTION event is written whole",
            ));
        }
        let at = self.out.len();
        self.out.resize(at + HEADER_LEN, 0);
        if let Err(e) = body(&mut self.out) {
            self.out.truncate(at);
            return Err(e);
        }
        let checksum = self.format.has_checksum();
        let len = self.out.len() - at + if checksum { CHECKSUM_LEN } else { 0 };
        let start = self.pos;
        let hb = match self.header(t, stamp, len) {
            Ok(hb) => hb,
            Err(e) => {
                self.out.truncate(at);
                return Err(e);
            }
        };
        self.out[at..at + HEADER_LEN].copy_from_slice(&hb);
        if checksum {
            let crc = if self.crc_later {
                0
            } else {
                crc32fast::hash(&self.out[at..])
            };
            self.out.extend_from_slice(&crc.to_le_bytes());
        }
        self.pos = start + len as u64;
        Ok(start)
    }

    /// Moves the events written so far (from position 0: a [`BinlogWriter::continuing`]
    /// writer from 0, or [`BinlogWriter::apart`]) to the end of `to` (see [`relocate`])
    /// and starts again from position 0 with no bytes: a long run of events goes out in
    /// pieces, as it is encoded.
    pub fn drain_into<W2: Write>(&mut self, to: &mut BinlogWriter<W2>) -> Result<()> {
        relocate(&mut self.out, &self.format, to.pos)?;
        to.put(&self.out)?;
        self.out.clear();
        self.pos = 0;
        Ok(())
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.out
    }
}

/// Moves `events`, encoded from position 0 in `format` (by a [`BinlogWriter::continuing`]
/// or [`BinlogWriter::apart`] writer), to position `shift` of a binlog: each event's end
/// position is moved by `shift`, and its CRC32 computed there when the format has
/// checksums (not for a FORMAT_DESCRIPTION event, whose CRC32 leaves out its in-use
/// flag). Refuses bytes that are not whole events (the error's offset is where the bad
/// event would land).
pub fn relocate(events: &mut [u8], format: &Format, shift: u64) -> Result<()> {
    let checksum = format.has_checksum();
    let mut at = 0usize;
    while at < events.len() {
        let bad = || Error::malformed(shift + at as u64, "not a whole event to relocate");
        let ev = &mut events[at..];
        let len = ev
            .get(9..13)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_le_bytes(b) as usize)
            .filter(|&n| n >= HEADER_LEN + if checksum { CHECKSUM_LEN } else { 0 })
            .ok_or_else(bad)?;
        let ev = ev.get_mut(..len).ok_or_else(bad)?;
        let mut log_pos = [0u8; 4];
        log_pos.copy_from_slice(&ev[13..17]);
        // Past 4 GiB the position wraps, as the writer's own does.
        let moved = u32::from_le_bytes(log_pos).wrapping_add(shift as u32);
        ev[13..17].copy_from_slice(&moved.to_le_bytes());
        if checksum {
            let crc = crc32fast::hash(&ev[..len - CHECKSUM_LEN]);
            ev[len - CHECKSUM_LEN..].copy_from_slice(&crc.to_le_bytes());
        }
        at += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::header::FLAG_SUPPRESS_USE;

    const STAMP: Stamp = Stamp {
        timestamp: 1_700_000_000,
        server_id: 7,
        flags: FLAG_SUPPRESS_USE,
    };

    /// A few events of each kind of write, into `w`.
    fn events(w: &mut BinlogWriter<Vec<u8>>) {
        w.write_statement(STAMP, &Statement::begin(3, &[])).unwrap();
        w.write_parts(EventType::XID, STAMP, &[&[1, 2, 3, 4], &[5, 6, 7, 8]])
            .unwrap();
        w.write_built(EventType::XID, STAMP, |out| {
            out.extend_from_slice(&9u64.to_le_bytes());
            Ok(())
        })
        .unwrap();
    }

    fn formats() -> [Format; 2] {
        let mut plain = Format::mariadb_1011();
        plain.checksum_alg = None;
        [Format::mariadb_1011(), plain]
    }

    #[test]
    fn events_written_apart_and_moved_are_those_written_in_place() {
        for format in formats() {
            for shift in [0u64, 4, 1234, (1 << 32) - 20] {
                let mut here = BinlogWriter::continuing(Vec::new(), format.clone(), shift).unwrap();
                events(&mut here);
                let mut apart = BinlogWriter::apart(Vec::new(), format.clone()).unwrap();
                events(&mut apart);
                let mut moved = apart.finish().unwrap();
                relocate(&mut moved, &format, shift).unwrap();
                assert_eq!(moved, here.finish().unwrap(), "shift {shift}");
            }
        }
    }

    #[test]
    fn a_built_body_is_framed_as_a_whole_one() {
        for format in formats() {
            let mut whole = BinlogWriter::continuing(Vec::new(), format.clone(), 100).unwrap();
            whole
                .write_event(EventType::XID, STAMP, b"abcdefgh")
                .unwrap();
            let mut built = BinlogWriter::continuing(Vec::new(), format.clone(), 100).unwrap();
            let at = built
                .write_built(EventType::XID, STAMP, |out| {
                    out.extend_from_slice(b"abcdefgh");
                    Ok(())
                })
                .unwrap();
            assert_eq!(at, 100);
            assert_eq!(built.position(), whole.position());
            // A body that fails leaves nothing behind.
            let failed = built.write_built(EventType::XID, STAMP, |out| {
                out.extend_from_slice(b"half");
                Err(Error::malformed(0, "no"))
            });
            assert!(failed.is_err());
            assert!(built
                .write_built(EventType::FORMAT_DESCRIPTION, STAMP, |_| Ok(()))
                .is_err());
            assert_eq!(built.position(), whole.position());
            assert_eq!(built.finish().unwrap(), whole.finish().unwrap());
        }
    }

    #[test]
    fn events_drained_in_pieces_are_those_written_at_once() {
        let format = Format::mariadb_1011();
        let mut at_once = BinlogWriter::continuing(Vec::new(), format.clone(), 4).unwrap();
        let mut pieces = BinlogWriter::continuing(Vec::new(), format.clone(), 4).unwrap();
        let mut apart = BinlogWriter::apart(Vec::new(), format.clone()).unwrap();
        for _ in 0..3 {
            events(&mut at_once);
            events(&mut apart);
            apart.drain_into(&mut pieces).unwrap();
            assert!(apart.bytes().is_empty() && apart.position() == 0);
        }
        assert_eq!(pieces.position(), at_once.position());
        assert_eq!(pieces.finish().unwrap(), at_once.finish().unwrap());
    }

    #[test]
    fn events_placed_for_another_position_are_refused() {
        let format = Format::mariadb_1011();
        let mut apart = BinlogWriter::apart(Vec::new(), format.clone()).unwrap();
        events(&mut apart);
        let mut moved = apart.finish().unwrap();
        relocate(&mut moved, &format, 50).unwrap();
        let mut out = BinlogWriter::continuing(Vec::new(), format.clone(), 60).unwrap();
        assert!(out.append_placed(&moved).is_err());
        assert_eq!(out.position(), 60);
        let mut out = BinlogWriter::continuing(Vec::new(), format.clone(), 50).unwrap();
        out.append_placed(&moved).unwrap();
        assert_eq!(out.finish().unwrap(), moved);
    }

    #[test]
    fn bytes_that_are_not_whole_events_are_not_moved() {
        let format = Format::mariadb_1011();
        let mut apart = BinlogWriter::apart(Vec::new(), format.clone()).unwrap();
        events(&mut apart);
        let bytes = apart.finish().unwrap();
        let mut cut = bytes[..bytes.len() - 1].to_vec();
        assert!(relocate(&mut cut, &format, 0).is_err());
        let mut short = bytes.clone();
        short[9..13].copy_from_slice(&3u32.to_le_bytes());
        assert!(relocate(&mut short, &format, 0).is_err());
    }
}
