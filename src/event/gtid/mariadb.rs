//! MariaDB's GTID_EVENT (the start of an event group, `domain-server-seq`) with its flags,
//! and GTID_LIST_EVENT (the binlog state at the start of a file).

use crate::bytes::Cursor;
use crate::error::{Error, Result};

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
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.seq_no.to_le_bytes());
        out.extend_from_slice(&self.domain_id.to_le_bytes());
        out.push(self.flags);
        if let Some(id) = self.commit_id {
            out.extend_from_slice(&id.to_le_bytes());
        }
        if let Some(x) = &self.xid {
            out.extend_from_slice(&x.format_id.to_le_bytes());
            // As parse: an XID part holds at most 64 bytes.
            for part in [x.gtrid, x.bqual] {
                if part.len() > 64 {
                    return Err(Error::too_long("XID part length", part.len() as u64, 64));
                }
                out.push(part.len() as u8);
            }
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
        Ok(())
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
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        // A 28-bit count and 4 bits of flags share one word.
        if self.list.len() > 0x0fff_ffff {
            return Err(Error::too_long(
                "GTID list length",
                self.list.len() as u64,
                0x0fff_ffff,
            ));
        }
        if self.flags > 15 {
            return Err(Error::too_long(
                "GTID list flags",
                u64::from(self.flags),
                15,
            ));
        }
        let word = self.list.len() as u32 | (u32::from(self.flags) << 28);
        out.extend_from_slice(&word.to_le_bytes());
        for g in &self.list {
            out.extend_from_slice(&g.domain_id.to_le_bytes());
            out.extend_from_slice(&g.server_id.to_le_bytes());
            out.extend_from_slice(&g.seq_no.to_le_bytes());
        }
        out.extend_from_slice(self.rest);
        Ok(())
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
    fn mariadb_gtid_padding_and_extras() {
        let g = MariadbGtid::new(0, 42, FL_STANDALONE);
        let mut b = Vec::new();
        g.encode(&mut b).unwrap();
        assert_eq!(b.len(), 19);
        assert_eq!(MariadbGtid::parse(&b, 0, 19).unwrap(), g);
        let mut g2 = MariadbGtid::new(3, 7, FL_TRANSACTIONAL | FL_GROUP_COMMIT_ID);
        g2.commit_id = Some(9);
        g2.flags_extra = Some(FL_EXTRA_MULTI_ENGINE);
        g2.extra_engines = Some(1);
        g2.rest = &[];
        let mut b = Vec::new();
        g2.encode(&mut b).unwrap();
        assert_eq!(MariadbGtid::parse(&b, 0, 19).unwrap(), g2);
    }
}
