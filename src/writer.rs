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
    /// FDE are elsewhere: events encoded apart, to be put in place with
    /// [`BinlogWriter::append_relocated`].
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
        })
    }

    /// Appends `events`, which a [`BinlogWriter::continuing`] writer in this format
    /// encoded from position 0: each event's end position is moved to where it lands
    /// here, and its CRC32 computed again. Refuses bytes that are not whole events.
    pub fn append_relocated(&mut self, events: &mut [u8]) -> Result<()> {
        let shift = self.pos;
        let checksum = self.format.has_checksum();
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
        let end = start + len as u64;
        let Ok(event_len) = u32::try_from(len) else {
            return Err(Error::unsupported(
                start,
                format!("event of {len} bytes exceeds the 4 GiB event limit"),
            ));
        };
        // Past 4 GiB the position wraps, as it does in the servers' own files.
        let log_pos = end as u32;
        let header = EventHeader {
            timestamp: stamp.timestamp,
            event_type: t,
            server_id: stamp.server_id,
            event_len,
            log_pos,
            flags: stamp.flags,
        };
        let mut hb = Vec::with_capacity(HEADER_LEN);
        header.write(&mut hb);
        let mut crc = crc32fast::Hasher::new();
        if t == EventType::FORMAT_DESCRIPTION {
            crc = crc32fast::Hasher::new_with_initial(event_crc(&hb, t));
        } else {
            crc.update(&hb);
        }
        self.put(&hb)?;
        for p in parts {
            crc.update(p);
            self.put(p)?;
        }
        if checksum {
            self.put(&crc.finalize().to_le_bytes())?;
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
