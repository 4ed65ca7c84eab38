//! GTID events: MySQL's GTID / ANONYMOUS_GTID / GTID_TAGGED and PREVIOUS_GTIDS, MariaDB's
//! GTID and GTID_LIST.

use crate::bytes::{put_packed, put_uint, Cursor};
use crate::error::Result;
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
    pub fn encode(&self, out: &mut Vec<u8>) {
        if self.kind == GtidKind::Tagged {
            self.encode_tagged(out);
            return;
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
                put_uint(out, ts | flag, 7);
                if let Some(o) = self.original_commit_ts {
                    put_uint(out, o, 7);
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
    }

    fn encode_tagged(&self, out: &mut Vec<u8>) {
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
    }
}

/// Reads a variable-length unsigned integer of MySQL's serialization library: the number
/// of trailing one bits of the first byte, plus one, is the byte count; the value is the
/// little-endian number shifted right by that count. A first byte 0xff means eight more
/// bytes hold the value.
pub fn varlen_uint(c: &mut Cursor) -> Result<u64> {
    let first = *c
        .peek_rest()
        .first()
        .ok_or_else(|| c.malformed("missing varlen integer"))?;
    let n = first.trailing_ones() as usize;
    if n == 8 {
        c.u8()?;
        return c.u64();
    }
    let bytes = n + 1;
    let raw = c.uint(bytes)?;
    Ok(raw >> bytes)
}

fn varlen_u8(c: &mut Cursor) -> Result<u8> {
    let at = c.offset();
    let v = varlen_uint(c)?;
    u8::try_from(v).map_err(|_| crate::error::Error::malformed(at, format!("byte value {v}")))
}

fn varlen_u32(c: &mut Cursor) -> Result<u32> {
    let at = c.offset();
    let v = varlen_uint(c)?;
    u32::try_from(v)
        .map_err(|_| crate::error::Error::malformed(at, format!("value {v} over 32 bits")))
}

/// Reads a signed varlen integer (zig-zag: the low bit is the sign) that must not be negative.
fn varlen_nonneg(c: &mut Cursor) -> Result<u64> {
    let at = c.offset();
    let v = varlen_uint(c)?;
    if v & 1 != 0 {
        return Err(crate::error::Error::malformed(at, "negative value"));
    }
    Ok(v >> 1)
}

fn zigzag(v: u64) -> u64 {
    v << 1
}

/// Bytes [`put_varlen_uint`] writes for `v`.
pub fn varlen_uint_size(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    if bits > 56 {
        9
    } else {
        bits.max(1).div_ceil(7)
    }
}

/// Appends a variable-length unsigned integer (see [`varlen_uint`]).
pub fn put_varlen_uint(out: &mut Vec<u8>, v: u64) {
    let n = varlen_uint_size(v);
    if n == 9 {
        out.push(0xff);
        out.extend_from_slice(&v.to_le_bytes());
        return;
    }
    let encoded = (v << n) | ((1u64 << (n - 1)) - 1);
    out.extend_from_slice(&encoded.to_le_bytes()[..n]);
}

/// One source's executed intervals in a PREVIOUS_GTIDS event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidSetEntry<'a> {
    /// Source UUID.
    pub sid: Uuid,
    /// Tag (tagged format only; empty tag written as none).
    pub tag: Option<&'a [u8]>,
    /// Half-open intervals `[start, end)` of transaction numbers.
    pub intervals: Vec<(u64, u64)>,
}

/// PREVIOUS_GTIDS_LOG_EVENT: the GTIDs executed before this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousGtids<'a> {
    /// Whether the tagged layout (8.3+) is used.
    pub tagged: bool,
    /// The set, per source.
    pub entries: Vec<GtidSetEntry<'a>>,
}

impl<'a> PreviousGtids<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<PreviousGtids<'a>> {
        let mut c = Cursor::new(body, offset);
        let at = c.offset();
        let head = c.u64()?;
        let tagged = match head >> 56 {
            0 => false,
            1 if head & 0xff == 1 => true,
            f => {
                return Err(crate::error::Error::malformed(
                    at,
                    format!("GTID set format {f} (header {head:#018x})"),
                ))
            }
        };
        let n = if tagged {
            (head >> 8) & 0xffff_ffff_ffff
        } else {
            head & 0x00ff_ffff_ffff_ffff
        };
        // Each entry takes at least 24 bytes: refuse counts the body cannot hold.
        if n > (c.remaining() / 24) as u64 {
            return Err(c.malformed(format!("{n} GTID set entries in {} bytes", c.remaining())));
        }
        let mut entries = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let sid = Uuid(c.array("GTID sid")?);
            let tag = if tagged {
                let len = usize::try_from(varlen_uint(&mut c)?).unwrap_or(usize::MAX);
                let t = c.take(len, "GTID tag")?;
                (!t.is_empty()).then_some(t)
            } else {
                None
            };
            let k = c.u64()?;
            if k > (c.remaining() / 16) as u64 {
                return Err(c.malformed(format!("{k} GTID intervals in {} bytes", c.remaining())));
            }
            let mut intervals = Vec::with_capacity(k as usize);
            for _ in 0..k {
                intervals.push((c.u64()?, c.u64()?));
            }
            entries.push(GtidSetEntry {
                sid,
                tag,
                intervals,
            });
        }
        if !c.is_empty() {
            return Err(c.malformed("bytes left over in PREVIOUS_GTIDS event"));
        }
        Ok(PreviousGtids { tagged, entries })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let n = self.entries.len() as u64;
        let head = if self.tagged {
            (1 << 56) | (n << 8) | 1
        } else {
            n
        };
        out.extend_from_slice(&head.to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.sid.0);
            if self.tagged {
                let t = e.tag.unwrap_or(&[]);
                put_varlen_uint(out, t.len() as u64);
                out.extend_from_slice(t);
            }
            out.extend_from_slice(&(e.intervals.len() as u64).to_le_bytes());
            for (a, b) in &e.intervals {
                out.extend_from_slice(&a.to_le_bytes());
                out.extend_from_slice(&b.to_le_bytes());
            }
        }
    }

    /// The set as text, `uuid:1-5:7,uuid2:1-3` (intervals shown closed, as MySQL prints).
    pub fn to_text(&self) -> String {
        let mut parts = Vec::new();
        for e in &self.entries {
            let mut s = e.sid.to_string();
            if let Some(t) = e.tag {
                s.push(':');
                s.push_str(&String::from_utf8_lossy(t));
            }
            for (a, b) in &e.intervals {
                if b.saturating_sub(*a) <= 1 {
                    s.push_str(&format!(":{a}"));
                } else {
                    s.push_str(&format!(":{a}-{}", b - 1));
                }
            }
            parts.push(s);
        }
        parts.join(",")
    }
}

/// MariaDB GTID flag: a standalone event group (no BEGIN; a DDL or non-transactional
/// statement follows alone).
pub const FL_STANDALONE: u8 = 1;
/// MariaDB GTID flag: a commit id for group commit follows.
pub const FL_GROUP_COMMIT_ID: u8 = 2;
/// MariaDB GTID flag: the group is transactional.
pub const FL_TRANSACTIONAL: u8 = 4;
/// MariaDB GTID flag: may be applied in parallel.
pub const FL_ALLOW_PARALLEL: u8 = 8;
/// MariaDB GTID flag: waited for a row lock before commit.
pub const FL_WAITED: u8 = 16;
/// MariaDB GTID flag: DDL.
pub const FL_DDL: u8 = 32;
/// MariaDB GTID flag: the first phase of an XA transaction (XID follows).
pub const FL_PREPARED_XA: u8 = 64;
/// MariaDB GTID flag: XA COMMIT/ROLLBACK of a prepared transaction (XID follows).
pub const FL_COMPLETED_XA: u8 = 128;
/// MariaDB extra flag: the transaction involved more than one engine.
pub const FL_EXTRA_MULTI_ENGINE: u8 = 1;
/// MariaDB extra flag: first part of a two-phase ALTER.
pub const FL_START_ALTER: u8 = 2;
/// MariaDB extra flag: commit of a two-phase ALTER (the START ALTER's seq_no follows).
pub const FL_COMMIT_ALTER: u8 = 4;
/// MariaDB extra flag: rollback of a two-phase ALTER (the START ALTER's seq_no follows).
pub const FL_ROLLBACK_ALTER: u8 = 8;
/// MariaDB extra flag (11.x): the originating thread id follows.
pub const FL_EXTRA_THREAD_ID: u8 = 16;

/// The XID carried by a MariaDB GTID event of an XA transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariadbXid<'a> {
    /// Format id.
    pub format_id: u32,
    /// Global transaction id part.
    pub gtrid: &'a [u8],
    /// Branch qualifier part.
    pub bqual: &'a [u8],
}

/// MariaDB GTID_EVENT: starts an event group with `domain-server-seq_no`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariadbGtid<'a> {
    /// Sequence number.
    pub seq_no: u64,
    /// Replication domain.
    pub domain_id: u32,
    /// `FL_*` flags.
    pub flags: u8,
    /// Group commit id, with `FL_GROUP_COMMIT_ID`.
    pub commit_id: Option<u64>,
    /// XID, with `FL_PREPARED_XA` or `FL_COMPLETED_XA`.
    pub xid: Option<MariadbXid<'a>>,
    /// Extra flags byte (10.5+ when non-zero).
    pub flags_extra: Option<u8>,
    /// Number of extra engines, with `FL_EXTRA_MULTI_ENGINE`.
    pub extra_engines: Option<u8>,
    /// The START ALTER's seq_no, with `FL_COMMIT_ALTER` or `FL_ROLLBACK_ALTER`.
    pub start_alter_seq_no: Option<u64>,
    /// The originating thread id, with `FL_EXTRA_THREAD_ID`.
    pub thread_id: Option<u32>,
    /// Trailing bytes: the zero padding up to the 19-byte minimum, or fields of a newer
    /// server.
    pub rest: &'a [u8],
}

impl<'a> MariadbGtid<'a> {
    /// A new GTID event for a transactional group (BEGIN … COMMIT), padded as the server pads.
    pub fn new(domain_id: u32, seq_no: u64, flags: u8) -> MariadbGtid<'static> {
        MariadbGtid {
            seq_no,
            domain_id,
            flags,
            commit_id: None,
            xid: None,
            flags_extra: None,
            extra_engines: None,
            start_alter_seq_no: None,
            thread_id: None,
            rest: &[0; 6],
        }
    }

    /// Parses the body; the post-header length (19) is the minimum body size.
    pub fn parse(body: &'a [u8], offset: u64, _post_header_len: usize) -> Result<MariadbGtid<'a>> {
        let mut c = Cursor::new(body, offset);
        let mut g = MariadbGtid {
            seq_no: c.u64()?,
            domain_id: c.u32()?,
            flags: c.u8()?,
            commit_id: None,
            xid: None,
            flags_extra: None,
            extra_engines: None,
            start_alter_seq_no: None,
            thread_id: None,
            rest: &[],
        };
        if g.flags & FL_GROUP_COMMIT_ID != 0 {
            g.commit_id = Some(c.u64()?);
        }
        if g.flags & (FL_PREPARED_XA | FL_COMPLETED_XA) != 0 {
            let format_id = c.u32()?;
            let gl = usize::from(c.u8()?);
            let bl = usize::from(c.u8()?);
            if gl > 64 || bl > 64 {
                return Err(c.malformed(format!("XID lengths {gl}/{bl} over 64")));
            }
            g.xid = Some(MariadbXid {
                format_id,
                gtrid: c.take(gl, "XA gtrid")?,
                bqual: c.take(bl, "XA bqual")?,
            });
        }
        // What is left is either zero padding or the extra-flags part.
        let tail = c.peek_rest();
        if tail.first().is_some_and(|&b| b != 0) {
            let fe = c.u8()?;
            g.flags_extra = Some(fe);
            if fe & FL_EXTRA_MULTI_ENGINE != 0 {
                g.extra_engines = Some(c.u8()?);
            }
            if fe & (FL_COMMIT_ALTER | FL_ROLLBACK_ALTER) != 0 {
                g.start_alter_seq_no = Some(c.u64()?);
            }
            if fe & FL_EXTRA_THREAD_ID != 0 {
                g.thread_id = Some(c.u32()?);
            }
        }
        g.rest = c.rest();
        Ok(g)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seq_no.to_le_bytes());
        out.extend_from_slice(&self.domain_id.to_le_bytes());
        out.push(self.flags);
        if let Some(id) = self.commit_id {
            out.extend_from_slice(&id.to_le_bytes());
        }
        if let Some(x) = &self.xid {
            out.extend_from_slice(&x.format_id.to_le_bytes());
            out.push(x.gtrid.len() as u8);
            out.push(x.bqual.len() as u8);
            out.extend_from_slice(x.gtrid);
            out.extend_from_slice(x.bqual);
        }
        if let Some(fe) = self.flags_extra {
            out.push(fe);
            if let Some(n) = self.extra_engines {
                out.push(n);
            }
            if let Some(s) = self.start_alter_seq_no {
                out.extend_from_slice(&s.to_le_bytes());
            }
            if let Some(t) = self.thread_id {
                out.extend_from_slice(&t.to_le_bytes());
            }
        }
        out.extend_from_slice(self.rest);
    }

    /// Whether the group is standalone (no BEGIN follows).
    pub fn is_standalone(&self) -> bool {
        self.flags & FL_STANDALONE != 0
    }

    /// The GTID, given the event's server id.
    pub fn value(&self, server_id: u32) -> crate::gtid_set::GtidValue {
        crate::gtid_set::GtidValue::MariaDb {
            domain: self.domain_id,
            server: server_id,
            seq: self.seq_no,
        }
    }

    /// The GTID as text given the event's server id: `domain-server-seq`.
    pub fn gtid_text(&self, server_id: u32) -> String {
        format!("{}-{}-{}", self.domain_id, server_id, self.seq_no)
    }
}

/// One entry of a MariaDB GTID_LIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariadbGtidPos {
    /// Domain.
    pub domain_id: u32,
    /// Server.
    pub server_id: u32,
    /// Sequence number.
    pub seq_no: u64,
}

/// MariaDB GTID_LIST_EVENT: the binlog state (last GTID per domain and server) at the start
/// of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidList<'a> {
    /// The four flag bits stored above the count.
    pub flags: u8,
    /// The GTIDs.
    pub list: Vec<MariadbGtidPos>,
    /// Bytes after the list, kept as they are.
    pub rest: &'a [u8],
}

impl<'a> GtidList<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<GtidList<'a>> {
        let mut c = Cursor::new(body, offset);
        let word = c.u32()?;
        let n = (word & 0x0fff_ffff) as usize;
        if n > c.remaining() / 16 {
            return Err(c.malformed(format!("{n} GTIDs in {} bytes", c.remaining())));
        }
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            list.push(MariadbGtidPos {
                domain_id: c.u32()?,
                server_id: c.u32()?,
                seq_no: c.u64()?,
            });
        }
        Ok(GtidList {
            flags: (word >> 28) as u8,
            list,
            rest: c.rest(),
        })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let word = (self.list.len() as u32 & 0x0fff_ffff) | (u32::from(self.flags) << 28);
        out.extend_from_slice(&word.to_le_bytes());
        for g in &self.list {
            out.extend_from_slice(&g.domain_id.to_le_bytes());
            out.extend_from_slice(&g.server_id.to_le_bytes());
            out.extend_from_slice(&g.seq_no.to_le_bytes());
        }
        out.extend_from_slice(self.rest);
    }

    /// The list as text: `0-1-100,5-1-3`.
    pub fn to_text(&self) -> String {
        self.list
            .iter()
            .map(|g| format!("{}-{}-{}", g.domain_id, g.server_id, g.seq_no))
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varlen_round_trip() {
        for v in [
            0u64,
            1,
            127,
            128,
            16383,
            16384,
            1 << 40,
            (1 << 56) - 1,
            1 << 56,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varlen_uint(&mut out, v);
            assert_eq!(out.len(), varlen_uint_size(v), "{v}");
            let mut c = Cursor::new(&out, 0);
            assert_eq!(varlen_uint(&mut c).unwrap(), v);
            assert!(c.is_empty());
        }
    }

    #[test]
    fn mariadb_gtid_padding_and_extras() {
        let g = MariadbGtid::new(0, 42, FL_STANDALONE);
        let mut b = Vec::new();
        g.encode(&mut b);
        assert_eq!(b.len(), 19);
        assert_eq!(MariadbGtid::parse(&b, 0, 19).unwrap(), g);
        let mut g2 = MariadbGtid::new(3, 7, FL_TRANSACTIONAL | FL_GROUP_COMMIT_ID);
        g2.commit_id = Some(9);
        g2.flags_extra = Some(FL_EXTRA_MULTI_ENGINE);
        g2.extra_engines = Some(1);
        g2.rest = &[];
        let mut b = Vec::new();
        g2.encode(&mut b);
        assert_eq!(MariadbGtid::parse(&b, 0, 19).unwrap(), g2);
    }

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
        g.encode(&mut b);
        let back = Gtid::parse(EventType::GTID_TAGGED, &b, 0).unwrap();
        assert_eq!(back.tagged_unknown, &[0x28, 0x0e]);
        assert_eq!(back.gno, 42);
        assert_eq!(back.tag, Some(&b"mytag"[..]));
        let mut again = Vec::new();
        back.encode(&mut again);
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
        g.encode(&mut b);
        assert_eq!(Gtid::parse(EventType::GTID, &b, 0).unwrap(), g);
    }
}
