//! PREVIOUS_GTIDS_LOG_EVENT: the GTID set a MySQL server had executed before the file.

use super::varlen::{put_varlen_uint, varlen_uint};
use crate::bytes::Cursor;
use crate::error::Result;
use crate::gtid_set::Uuid;

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
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
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
        Ok(())
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
