//! MySQL's GTID events: GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT and (8.3+)
//! GTID_TAGGED_LOG_EVENT, the identity of the transaction that follows with its
//! group-commit and timing fields.

use super::varlen::{
    put_varlen_uint, varlen_nonneg, varlen_u32, varlen_u8, varlen_uint, varlen_uint_size, zigzag,
};
use crate::bytes::{put_packed, put_uint, put_uint_checked, Cursor};
use crate::error::{Error, Result};
use crate::event::header::EventType;
use crate::gtid_set::Uuid;

/// `LOGICAL_TIMESTAMP_TYPECODE`: marks the logical-clock fields of a GTID event.
const LOGICAL_CLOCK_TYPECODE: u8 = 2;
const COMMIT_TS_ORIGINAL_DIFFERS: u64 = 1 << 55;
const SERVER_VERSION_ORIGINAL_DIFFERS: u32 = 1 << 31;
/// The only version of the serialization format tagged GTID events use.
const TAGGED_SERIALIZATION_VERSION: u8 = 2;

/// Which of the three MySQL GTID event types this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtidKind {
    /// GTID_LOG_EVENT (33).
    Gtid,
    /// ANONYMOUS_GTID_LOG_EVENT (34): gtid_mode=OFF; sid and gno are zero.
    Anonymous,
    /// GTID_TAGGED_LOG_EVENT (42, MySQL 8.3+): `uuid:tag:gno`.
    Tagged,
}

/// A MySQL GTID event (33, 34 or 42): the identity of the transaction that follows, and its
/// group-commit and timing information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gtid<'a> {
    /// Which type of event.
    pub kind: GtidKind,
    /// Flags (bit 0: the transaction may contain statement-based changes).
    pub flags: u8,
    /// Source UUID.
    pub sid: Uuid,
    /// Transaction number.
    pub gno: u64,
    /// The tag of a tagged GTID.
    pub tag: Option<&'a [u8]>,
    /// `(last_committed, sequence_number)` of the logical clock (5.7+).
    pub logical_clock: Option<(u64, u64)>,
    /// Commit time on this server, microseconds since the epoch (8.0.1+).
    pub immediate_commit_ts: Option<u64>,
    /// Commit time on the original source, when stored apart from the immediate one.
    pub original_commit_ts: Option<u64>,
    /// Length of the whole transaction in bytes, this event included (8.0.2+).
    pub transaction_length: Option<u64>,
    /// Version of this server as a number (80045 for 8.0.45) (8.0.14+).
    pub immediate_server_version: Option<u32>,
    /// Version of the original source, when stored apart from the immediate one.
    pub original_server_version: Option<u32>,
    /// Commit group ticket (8.0.33+, when the server writes one).
    pub commit_group_ticket: Option<u64>,
    /// Bytes after the known fields (untagged form), kept as they are.
    pub rest: &'a [u8],
    /// How the tagged form laid its fields out, to write them back the same way.
    tagged_layout: Option<TaggedLayout>,
    /// Fields of the tagged form this library does not know (ignorable ones), as stored.
    tagged_unknown: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TaggedLayout {
    last_non_ignorable: u64,
    field_order: Vec<u64>,
}

impl<'a> Gtid<'a> {
    /// A new untagged GTID (or anonymous GTID when `sid` is nil and `gno` 0) with the
    /// fields a MySQL 8.0 server writes.
    pub fn new(
        kind: GtidKind,
        sid: Uuid,
        gno: u64,
        logical_clock: (u64, u64),
        commit_ts: u64,
        transaction_length: u64,
        server_version: u32,
    ) -> Gtid<'static> {
        Gtid {
            kind,
            flags: 0,
            sid,
            gno,
            tag: None,
            logical_clock: Some(logical_clock),
            immediate_commit_ts: Some(commit_ts),
            original_commit_ts: None,
            transaction_length: Some(transaction_length),
            immediate_server_version: Some(server_version),
            original_server_version: None,
            commit_group_ticket: None,
            rest: &[],
            tagged_layout: None,
            tagged_unknown: &[],
        }
    }

    /// The event type this value encodes to.
    pub fn event_type(&self) -> EventType {
        match self.kind {
            GtidKind::Gtid => EventType::GTID,
            GtidKind::Anonymous => EventType::ANONYMOUS_GTID,
            GtidKind::Tagged => EventType::GTID_TAGGED,
        }
    }

    /// The original commit time: the stored one, or the immediate one when equal.
    pub fn original_commit_ts(&self) -> Option<u64> {
        self.original_commit_ts.or(self.immediate_commit_ts)
    }

    /// The GTID, or `None` for an anonymous one. Tags compare in lower case, as the
    /// server treats them.
    pub fn value(&self) -> Option<crate::gtid_set::GtidValue> {
        (self.kind != GtidKind::Anonymous).then(|| crate::gtid_set::GtidValue::MySql {
            sid: self.sid,
            tag: self
                .tag
                .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
                .unwrap_or_default(),
            gno: self.gno,
        })
    }

    /// The GTID as text: `uuid:gno` or `uuid:tag:gno`; `ANONYMOUS` for anonymous ones.
    pub fn gtid_text(&self) -> String {
        match (self.kind, self.tag) {
            (GtidKind::Anonymous, _) => "ANONYMOUS".to_string(),
            (_, Some(tag)) => format!("{}:{}:{}", self.sid, String::from_utf8_lossy(tag), self.gno),
            _ => format!("{}:{}", self.sid, self.gno),
        }
    }

    /// Parses a body of type 33, 34 or 42.
    pub fn parse(t: EventType, body: &'a [u8], offset: u64) -> Result<Gtid<'a>> {
        if t == EventType::GTID_TAGGED {
            return Self::parse_tagged(body, offset);
        }
        let mut c = Cursor::new(body, offset);
        let mut g = Gtid {
            kind: if t == EventType::ANONYMOUS_GTID {
                GtidKind::Anonymous
            } else {
                GtidKind::Gtid
            },
            flags: c.u8()?,
            sid: Uuid(c.array("GTID sid")?),
            gno: c.u64()?,
            tag: None,
            logical_clock: None,
            immediate_commit_ts: None,
            original_commit_ts: None,
            transaction_length: None,
            immediate_server_version: None,
            original_server_version: None,
            commit_group_ticket: None,
            rest: &[],
            tagged_layout: None,
            tagged_unknown: &[],
        };
        if c.peek_rest().first() == Some(&LOGICAL_CLOCK_TYPECODE) {
            c.u8()?;
            g.logical_clock = Some((c.u64()?, c.u64()?));
            if c.remaining() >= 7 {
                let ts = c.uint(7)?;
                g.immediate_commit_ts = Some(ts & !COMMIT_TS_ORIGINAL_DIFFERS);
                if ts & COMMIT_TS_ORIGINAL_DIFFERS != 0 {
                    g.original_commit_ts = Some(c.uint(7)?);
                }
            }
            if !c.is_empty() {
                g.transaction_length = Some(c.packed()?);
            }
            if c.remaining() >= 4 {
                let v = c.u32()?;
                g.immediate_server_version = Some(v & !SERVER_VERSION_ORIGINAL_DIFFERS);
                if v & SERVER_VERSION_ORIGINAL_DIFFERS != 0 {
                    g.original_server_version = Some(c.u32()?);
                }
            }
            if c.remaining() >= 8 {
                g.commit_group_ticket = Some(c.u64()?);
            }
        }
        g.rest = c.rest();
        Ok(g)
    }

    fn parse_tagged(body: &'a [u8], offset: u64) -> Result<Gtid<'a>> {
        let mut c = Cursor::new(body, offset);
        let version = c.u8()?;
        if version != TAGGED_SERIALIZATION_VERSION {
            return Err(c.malformed(format!("tagged GTID serialization version {version}")));
        }
        let payload_size = varlen_uint(&mut c)?;
        let last_non_ignorable = varlen_uint(&mut c)?;
        let consumed = c.position() as u64;
        let fields_len = payload_size
            .checked_sub(consumed)
            .filter(|&n| n <= c.remaining() as u64)
            .ok_or_else(|| c.malformed(format!("tagged GTID payload size {payload_size}")))?;
        let mut f = c.sub(fields_len as usize, "tagged GTID fields")?;
        let mut g = Gtid {
            kind: GtidKind::Tagged,
            flags: 0,
            sid: Uuid([0; 16]),
            gno: 0,
            tag: None,
            logical_clock: None,
            immediate_commit_ts: None,
            original_commit_ts: None,
            transaction_length: None,
            immediate_server_version: None,
            original_server_version: None,
            commit_group_ticket: None,
            rest: &[],
            tagged_layout: None,
            tagged_unknown: &[],
        };
        let mut order = Vec::with_capacity(12);
        let (mut last_committed, mut sequence_number) = (0u64, 0u64);
        while !f.is_empty() {
            let at = f.offset();
            let id = varlen_uint(&mut f)?;
            match id {
                0 => g.flags = varlen_u8(&mut f)?,
                1 => {
                    for b in g.sid.0.iter_mut() {
                        *b = varlen_u8(&mut f)?;
                    }
                }
                2 => g.gno = varlen_nonneg(&mut f)?,
                3 => {
                    let n = usize::try_from(varlen_uint(&mut f)?).unwrap_or(usize::MAX);
                    g.tag = Some(f.take(n, "GTID tag")?);
                }
                4 => last_committed = varlen_nonneg(&mut f)?,
                5 => sequence_number = varlen_nonneg(&mut f)?,
                6 => g.immediate_commit_ts = Some(varlen_uint(&mut f)?),
                7 => g.original_commit_ts = Some(varlen_uint(&mut f)?),
                8 => g.transaction_length = Some(varlen_uint(&mut f)?),
                9 => g.immediate_server_version = Some(varlen_u32(&mut f)?),
                10 => g.original_server_version = Some(varlen_u32(&mut f)?),
                11 => g.commit_group_ticket = Some(varlen_uint(&mut f)?),
                _ if id <= last_non_ignorable => {
                    return Err(crate::error::Error::unsupported(
                        at,
                        format!("tagged GTID field {id}, which a reader may not ignore"),
                    ))
                }
                _ => {
                    // A field of a newer server that readers may ignore: its length is not
                    // known, so it and what follows are kept as they are.
                    let start = (at - offset) as usize;
                    g.tagged_unknown = body
                        .get(start..(start + f.remaining() + (f.offset() - at) as usize))
                        .unwrap_or(&[]);
                    break;
                }
            }
            order.push(id);
        }
        if order.contains(&4) || order.contains(&5) {
            g.logical_clock = Some((last_committed, sequence_number));
        }
        g.rest = c.rest();
        g.tagged_layout = Some(TaggedLayout {
            last_non_ignorable,
            field_order: order,
        });
        Ok(g)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.kind == GtidKind::Tagged {
            return self.encode_tagged(out);
        }
        out.push(self.flags);
        out.extend_from_slice(&self.sid.0);
        out.extend_from_slice(&self.gno.to_le_bytes());
        if let Some((lc, seq)) = self.logical_clock {
            out.push(LOGICAL_CLOCK_TYPECODE);
            out.extend_from_slice(&lc.to_le_bytes());
            out.extend_from_slice(&seq.to_le_bytes());
            if let Some(ts) = self.immediate_commit_ts {
                let flag = if self.original_commit_ts.is_some() {
                    COMMIT_TS_ORIGINAL_DIFFERS
                } else {
                    0
                };
                // 55 bits of microseconds; the 56th is the flag.
                if ts >= COMMIT_TS_ORIGINAL_DIFFERS {
                    return Err(Error::too_long(
                        "commit timestamp",
                        ts,
                        COMMIT_TS_ORIGINAL_DIFFERS - 1,
                    ));
                }
                put_uint(out, ts | flag, 7);
                if let Some(o) = self.original_commit_ts {
                    put_uint_checked(out, o, 7, "original commit timestamp")?;
                }
            }
            if let Some(n) = self.transaction_length {
                put_packed(out, n);
            }
            if let Some(v) = self.immediate_server_version {
                let flag = if self.original_server_version.is_some() {
                    SERVER_VERSION_ORIGINAL_DIFFERS
                } else {
                    0
                };
                if v & SERVER_VERSION_ORIGINAL_DIFFERS != 0 {
                    return Err(Error::too_long(
                        "server version number",
                        u64::from(v),
                        u64::from(SERVER_VERSION_ORIGINAL_DIFFERS - 1),
                    ));
                }
                out.extend_from_slice(&(v | flag).to_le_bytes());
                if let Some(o) = self.original_server_version {
                    out.extend_from_slice(&o.to_le_bytes());
                }
            }
            if let Some(t) = self.commit_group_ticket {
                out.extend_from_slice(&t.to_le_bytes());
            }
        }
        out.extend_from_slice(self.rest);
        Ok(())
    }

    fn encode_tagged(&self, out: &mut Vec<u8>) -> Result<()> {
        const DEFAULT_ORDER: [u64; 10] = [0, 1, 2, 3, 4, 5, 6, 8, 9, 11];
        let (order, lnif): (&[u64], u64) = match &self.tagged_layout {
            Some(l) => (&l.field_order, l.last_non_ignorable),
            None => (&DEFAULT_ORDER, 9),
        };
        let (lc, seq) = self.logical_clock.unwrap_or((0, 0));
        let mut fields = Vec::with_capacity(64);
        for &id in order {
            let value = match id {
                0 => Some(u64::from(self.flags)),
                1 => {
                    put_varlen_uint(&mut fields, 1);
                    for &b in &self.sid.0 {
                        put_varlen_uint(&mut fields, u64::from(b));
                    }
                    None
                }
                2 => Some(zigzag(self.gno)),
                3 => {
                    let tag = self.tag.unwrap_or(&[]);
                    put_varlen_uint(&mut fields, 3);
                    put_varlen_uint(&mut fields, tag.len() as u64);
                    fields.extend_from_slice(tag);
                    None
                }
                4 => Some(zigzag(lc)),
                5 => Some(zigzag(seq)),
                6 => self.immediate_commit_ts,
                7 => self.original_commit_ts,
                8 => self.transaction_length,
                9 => self.immediate_server_version.map(u64::from),
                10 => self.original_server_version.map(u64::from),
                11 => self.commit_group_ticket,
                _ => None,
            };
            if let Some(v) = value {
                put_varlen_uint(&mut fields, id);
                put_varlen_uint(&mut fields, v);
            }
        }
        fields.extend_from_slice(self.tagged_unknown);
        // The payload size counts itself, the version byte and the lnif field.
        let fixed = 1 + varlen_uint_size(lnif) as u64 + fields.len() as u64;
        let mut size = fixed + 1;
        loop {
            let next = fixed + varlen_uint_size(size) as u64;
            if next == size {
                break;
            }
            size = next;
        }
        out.push(TAGGED_SERIALIZATION_VERSION);
        put_varlen_uint(out, size);
        put_varlen_uint(out, lnif);
        out.extend_from_slice(&fields);
        out.extend_from_slice(self.rest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_gtid_keeps_fields_it_does_not_know() {
        let mut g = Gtid::new(
            GtidKind::Tagged,
            Uuid([9; 16]),
            42,
            (1, 2),
            1_700_000_000_000_000,
            300,
            90600,
        );
        g.tag = Some(b"mytag");
        // Field 20 (ignorable: the last non-ignorable field is 9) holding 7.
        g.tagged_unknown = &[0x28, 0x0e];
        let mut b = Vec::new();
        g.encode(&mut b).unwrap();
        let back = Gtid::parse(EventType::GTID_TAGGED, &b, 0).unwrap();
        assert_eq!(back.tagged_unknown, &[0x28, 0x0e]);
        assert_eq!(back.gno, 42);
        assert_eq!(back.tag, Some(&b"mytag"[..]));
        let mut again = Vec::new();
        back.encode(&mut again).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn untagged_gtid_round_trip() {
        let mut g = Gtid::new(
            GtidKind::Gtid,
            Uuid([7; 16]),
            5,
            (3, 4),
            1_700_000_000_000_000,
            300,
            80045,
        );
        g.original_commit_ts = Some(1);
        let mut b = Vec::new();
        g.encode(&mut b).unwrap();
        assert_eq!(Gtid::parse(EventType::GTID, &b, 0).unwrap(), g);
    }
}
