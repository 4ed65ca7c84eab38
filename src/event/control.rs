//! Small fixed-layout events: ROTATE, XID, INTVAR, RAND, USER_VAR, INCIDENT, HEARTBEAT,
//! ROWS_QUERY, XA_PREPARE, and MariaDB's ANNOTATE_ROWS, BINLOG_CHECKPOINT, START_ENCRYPTION.

use crate::bytes::{put_len_bytes, put_uint, Cursor, Short};
use crate::error::{Error, Result};
use crate::event::header::EventType;

/// ROTATE_EVENT: where the next binlog file starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate<'a> {
    /// Position in the next file (4 for a server-written rotate), when the post-header has it.
    pub position: Option<u64>,
    /// Post-header bytes past the position (none from any known server).
    pub post_header_extra: &'a [u8],
    /// Name of the next file.
    pub next_file: &'a [u8],
}

impl<'a> Rotate<'a> {
    /// Parses the body; `post_header_len` is 8 in every format that has a position.
    pub fn parse(body: &'a [u8], offset: u64, post_header_len: usize) -> Result<Rotate<'a>> {
        let mut c = Cursor::new(body, offset);
        let (position, post_header_extra) = if post_header_len >= 8 {
            let p = c.u64()?;
            (Some(p), c.take(post_header_len - 8, "rotate post-header")?)
        } else {
            (None, &[][..])
        };
        Ok(Rotate {
            position,
            post_header_extra,
            next_file: c.rest(),
        })
    }

    /// Appends the body (an 8-byte post-header when a position is set).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        if let Some(p) = self.position {
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(self.post_header_extra);
        }
        out.extend_from_slice(self.next_file);
        Ok(())
    }
}

/// XID_EVENT: the commit of a transaction on a transactional engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xid {
    /// The server's internal transaction id.
    pub xid: u64,
}

impl Xid {
    /// Parses the body.
    pub fn parse(body: &[u8], offset: u64) -> Result<Xid> {
        let mut c = Cursor::new(body, offset);
        let xid = c.u64()?;
        expect_end(&c, "XID")?;
        Ok(Xid { xid })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.xid.to_le_bytes());
        Ok(())
    }
}

/// INTVAR_EVENT: LAST_INSERT_ID or INSERT_ID for the next statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intvar {
    /// 1 = LAST_INSERT_ID, 2 = INSERT_ID.
    pub kind: u8,
    /// The value.
    pub value: u64,
}

impl Intvar {
    /// Parses the body.
    pub fn parse(body: &[u8], offset: u64) -> Result<Intvar> {
        let mut c = Cursor::new(body, offset);
        let v = Intvar {
            kind: c.u8()?,
            value: c.u64()?,
        };
        expect_end(&c, "INTVAR")?;
        Ok(v)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(self.kind);
        out.extend_from_slice(&self.value.to_le_bytes());
        Ok(())
    }

    /// `LAST_INSERT_ID` or `INSERT_ID`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            1 => "LAST_INSERT_ID",
            2 => "INSERT_ID",
            _ => "INVALID_INT",
        }
    }
}

/// RAND_EVENT: the seeds of RAND() for the next statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rand {
    /// First seed.
    pub seed1: u64,
    /// Second seed.
    pub seed2: u64,
}

impl Rand {
    /// Parses the body.
    pub fn parse(body: &[u8], offset: u64) -> Result<Rand> {
        let mut c = Cursor::new(body, offset);
        let v = Rand {
            seed1: c.u64()?,
            seed2: c.u64()?,
        };
        expect_end(&c, "RAND")?;
        Ok(v)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.seed1.to_le_bytes());
        out.extend_from_slice(&self.seed2.to_le_bytes());
        Ok(())
    }
}

/// The value part of a USER_VAR_EVENT, absent when the variable is NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVarValue<'a> {
    /// Item_result type: 0 STRING, 1 REAL, 2 INT, 4 DECIMAL.
    pub kind: u8,
    /// Character set (collation) number.
    pub charset: u32,
    /// The value bytes (string bytes, 8-byte double, 8-byte int, or precision+scale+binary
    /// decimal).
    pub value: &'a [u8],
    /// The flags byte written since MySQL 5.1.41 / MariaDB (bit 0: unsigned), when present.
    pub flags: Option<u8>,
    /// Bytes after the flags (newer fields), kept as they are.
    pub rest: &'a [u8],
}

/// USER_VAR_EVENT: a user variable used by the next statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVar<'a> {
    /// The variable name, without '@'.
    pub name: &'a [u8],
    /// The value, `None` for NULL.
    pub value: Option<UserVarValue<'a>>,
}

impl<'a> UserVar<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<UserVar<'a>> {
        let mut c = Cursor::new(body, offset);
        let name_len = c.u32()? as usize;
        let name = c.take(name_len, "user variable name")?;
        let is_null = c.u8()?;
        if is_null > 1 {
            return Err(c.malformed(format!("user variable is_null byte {is_null}")));
        }
        let value = if is_null != 0 {
            None
        } else {
            let kind = c.u8()?;
            let charset = c.u32()?;
            let len = c.u32()? as usize;
            let value = c.take(len, "user variable value")?;
            let flags = if c.is_empty() { None } else { Some(c.u8()?) };
            Some(UserVarValue {
                kind,
                charset,
                value,
                flags,
                rest: c.rest(),
            })
        };
        if value.is_none() && !c.is_empty() {
            return Err(c.malformed("bytes after a NULL user variable"));
        }
        Ok(UserVar { name, value })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_len_bytes(out, self.name, 4, "user variable name length")?;
        match &self.value {
            None => out.push(1),
            Some(v) => {
                out.push(0);
                out.push(v.kind);
                out.extend_from_slice(&v.charset.to_le_bytes());
                put_len_bytes(out, v.value, 4, "user variable value length")?;
                if let Some(f) = v.flags {
                    out.push(f);
                }
                out.extend_from_slice(v.rest);
            }
        }
        Ok(())
    }
}

/// INCIDENT_EVENT: something happened on the source that replicas cannot follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident<'a> {
    /// Incident number (1 = LOST_EVENTS).
    pub incident: u16,
    /// The message.
    pub message: &'a [u8],
}

impl<'a> Incident<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<Incident<'a>> {
        let mut c = Cursor::new(body, offset);
        let incident = c.u16()?;
        let message = if c.is_empty() {
            &[][..]
        } else {
            c.u8_bytes("incident message")?
        };
        expect_end(&c, "INCIDENT")?;
        Ok(Incident { incident, message })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.incident.to_le_bytes());
        put_len_bytes(out, self.message, 1, "incident message length")?;
        Ok(())
    }
}

/// HEARTBEAT_LOG_EVENT (27) and HEARTBEAT_LOG_EVENT_V2 (41), sent by a source to an idle
/// replica; they appear in relay logs and network captures, not in a server's own binlog.
#[derive(Clone, PartialEq, Eq)]
pub struct Heartbeat<'a> {
    /// Whether this is the v2 (serialized, 64-bit position) form.
    pub v2: bool,
    /// The source's current binlog file name.
    pub log_file: &'a [u8],
    /// The v2 form's 64-bit position (v1 carries it in the header's `log_pos`).
    pub position: Option<u64>,
    /// The whole body, for re-encoding v2 exactly.
    body: &'a [u8],
}

impl std::fmt::Debug for Heartbeat<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heartbeat")
            .field("v2", &self.v2)
            .field("log_file", &String::from_utf8_lossy(self.log_file))
            .field("position", &self.position)
            .finish()
    }
}

impl<'a> Heartbeat<'a> {
    /// Parses the body of a type 27 or 41 event.
    ///
    /// The v2 body is a list of packed integers `type, length, value`, ended by a type 0:
    /// type 1 is the log file name (`length` bytes), type 2 the position (a packed integer
    /// of `length` bytes). Unknown types are skipped by their length.
    pub fn parse(t: EventType, body: &'a [u8], offset: u64) -> Result<Heartbeat<'a>> {
        if t != EventType::HEARTBEAT_V2 {
            return Ok(Heartbeat {
                v2: false,
                log_file: body,
                position: None,
                body,
            });
        }
        let mut c = Cursor::new(body, offset);
        let mut log_file: &[u8] = &[];
        let mut position = None;
        while !c.is_empty() {
            let kind = c.packed()?;
            if kind == 0 {
                break;
            }
            let value = c.packed_bytes("heartbeat field")?;
            match kind {
                1 => log_file = value,
                2 => position = Some(Cursor::new(value, 0).packed()?),
                _ => {}
            }
        }
        Ok(Heartbeat {
            v2: true,
            log_file,
            position,
            body,
        })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(self.body);
        Ok(())
    }
}

/// ROWS_QUERY_LOG_EVENT: the statement behind the rows events that follow (MySQL, with
/// binlog_rows_query_log_events).
#[derive(Clone, PartialEq, Eq)]
pub struct RowsQuery<'a> {
    /// The length byte the server wrote (the query length, capped at 255; readers ignore it).
    pub length_byte: u8,
    /// The statement text.
    pub query: &'a [u8],
}

impl std::fmt::Debug for RowsQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowsQuery")
            .field("query", &Short(self.query))
            .finish()
    }
}

impl<'a> RowsQuery<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<RowsQuery<'a>> {
        let mut c = Cursor::new(body, offset);
        Ok(RowsQuery {
            length_byte: c.u8()?,
            query: c.rest(),
        })
    }

    /// A new event for `query`, with the length byte as the server writes it.
    pub fn new(query: &'a [u8]) -> RowsQuery<'a> {
        RowsQuery {
            length_byte: query.len().min(255) as u8,
            query,
        }
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(self.length_byte);
        out.extend_from_slice(self.query);
        Ok(())
    }
}

/// MariaDB ANNOTATE_ROWS_EVENT: the statement behind the rows events that follow.
#[derive(Clone, PartialEq, Eq)]
pub struct AnnotateRows<'a> {
    /// The statement text.
    pub query: &'a [u8],
}

impl std::fmt::Debug for AnnotateRows<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnotateRows")
            .field("query", &Short(self.query))
            .finish()
    }
}

impl<'a> AnnotateRows<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], _offset: u64) -> Result<AnnotateRows<'a>> {
        Ok(AnnotateRows { query: body })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(self.query);
        Ok(())
    }
}

/// MariaDB BINLOG_CHECKPOINT_EVENT: the oldest binlog file crash recovery still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogCheckpoint<'a> {
    /// The file name.
    pub file: &'a [u8],
}

impl<'a> BinlogCheckpoint<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<BinlogCheckpoint<'a>> {
        let mut c = Cursor::new(body, offset);
        let n = c.u32()? as usize;
        let file = c.take(n, "checkpoint file name")?;
        expect_end(&c, "BINLOG_CHECKPOINT")?;
        Ok(BinlogCheckpoint { file })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_len_bytes(out, self.file, 4, "checkpoint file name length")?;
        Ok(())
    }
}

/// MariaDB START_ENCRYPTION_EVENT: every event after it is encrypted (only each event's
/// length at header offset 9 stays readable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartEncryption<'a> {
    /// Encryption scheme (1).
    pub scheme: u8,
    /// Key version.
    pub key_version: u32,
    /// The 12-byte nonce.
    pub nonce: &'a [u8],
}

impl<'a> StartEncryption<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<StartEncryption<'a>> {
        let mut c = Cursor::new(body, offset);
        let v = StartEncryption {
            scheme: c.u8()?,
            key_version: c.u32()?,
            nonce: c.take(12, "encryption nonce")?,
        };
        expect_end(&c, "START_ENCRYPTION")?;
        Ok(v)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(self.scheme);
        out.extend_from_slice(&self.key_version.to_le_bytes());
        out.extend_from_slice(self.nonce);
        Ok(())
    }
}

/// XA_PREPARE_LOG_EVENT: the end of the first phase of an XA transaction (MySQL 5.7+,
/// MariaDB 10.5+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XaPrepare<'a> {
    /// Whether it was `XA COMMIT ... ONE PHASE`.
    pub one_phase: bool,
    /// The XID's format id.
    pub format_id: u32,
    /// Global transaction id part.
    pub gtrid: &'a [u8],
    /// Branch qualifier part.
    pub bqual: &'a [u8],
}

impl<'a> XaPrepare<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<XaPrepare<'a>> {
        let mut c = Cursor::new(body, offset);
        let one_phase = c.u8()? != 0;
        let format_id = c.u32()?;
        let gl = c.u32()? as usize;
        let bl = c.u32()? as usize;
        if gl > 64 || bl > 64 {
            return Err(c.malformed(format!("XID lengths {gl}/{bl} over 64")));
        }
        let gtrid = c.take(gl, "XA gtrid")?;
        let bqual = c.take(bl, "XA bqual")?;
        expect_end(&c, "XA_PREPARE")?;
        Ok(XaPrepare {
            one_phase,
            format_id,
            gtrid,
            bqual,
        })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(u8::from(self.one_phase));
        out.extend_from_slice(&self.format_id.to_le_bytes());
        // As parse: an XID part holds at most 64 bytes.
        for part in [self.gtrid, self.bqual] {
            if part.len() > 64 {
                return Err(Error::too_long("XID part length", part.len() as u64, 64));
            }
        }
        put_uint(out, self.gtrid.len() as u64, 4);
        put_uint(out, self.bqual.len() as u64, 4);
        out.extend_from_slice(self.gtrid);
        out.extend_from_slice(self.bqual);
        Ok(())
    }

    /// The XID as `XA COMMIT` takes it: `X'gtrid',X'bqual',format_id`.
    pub fn xid_sql(&self) -> String {
        xid_sql(self.gtrid, self.bqual, self.format_id)
    }
}

/// An XID in the SQL form `X'..',X'..',N`.
pub fn xid_sql(gtrid: &[u8], bqual: &[u8], format_id: u32) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!("X'{}',X'{}',{}", hex(gtrid), hex(bqual), format_id)
}

fn expect_end(c: &Cursor, what: &str) -> Result<()> {
    if c.is_empty() {
        Ok(())
    } else {
        Err(c.malformed(format!("{} bytes left over in {what} event", c.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! round_trip {
        ($body:expr, $parse:expr) => {{
            let body: &[u8] = $body;
            let v = $parse(body).unwrap();
            let mut out = Vec::new();
            v.encode(&mut out).unwrap();
            assert_eq!(out, body);
        }};
    }

    #[test]
    fn small_events_round_trip() {
        round_trip!(&[1, 0, 0, 0, 0, 0, 0, 0], |b| Xid::parse(b, 0));
        round_trip!(&[2, 5, 0, 0, 0, 0, 0, 0, 0], |b| Intvar::parse(b, 0));
        round_trip!(b"\x04\0\0\0\0\0\0\0mysql-bin.000002", |b| Rotate::parse(
            b, 0, 8
        ));
        round_trip!(b"\x01\0\0\0a\0\0\x21\0\0\0\x01\0\0\0x\0", |b| {
            UserVar::parse(b, 0)
        });
        round_trip!(b"\x01\0\0\0b\x01", |b| UserVar::parse(b, 0));
        round_trip!(b"\0\x01\0\0\0\x01\0\0\0\x01\0\0\0ab", |b| XaPrepare::parse(
            b, 0
        ));
    }

    #[test]
    fn leftovers_and_short_bodies_are_errors() {
        assert!(Xid::parse(&[0; 9], 0).is_err());
        assert!(Xid::parse(&[0; 7], 0).is_err());
        let e = UserVar::parse(b"\xff\xff\xff\xff", 50).unwrap_err();
        assert_eq!(e.offset(), 54);
    }
}
