//! Rows events: WRITE/UPDATE/DELETE_ROWS in their pre-GA, v1 and v2 forms,
//! PARTIAL_UPDATE_ROWS, and MariaDB's compressed variants. This module frames the event
//! (table id, flags, extra data, column bitmaps); [`crate::row`] walks the row images.

use std::borrow::Cow;

use crate::bytes::{put_packed, put_uint_checked, Cursor, Short};
use crate::compress;
use crate::error::{Error, Result};
use crate::event::fde::Format;
use crate::event::header::EventType;

/// `STMT_END_F`: the last rows event of a statement.
pub const STMT_END_F: u16 = 0x0001;
/// `NO_FOREIGN_KEY_CHECKS_F`.
pub const NO_FOREIGN_KEY_CHECKS_F: u16 = 0x0002;
/// `RELAXED_UNIQUE_CHECKS_F`.
pub const RELAXED_UNIQUE_CHECKS_F: u16 = 0x0004;
/// `COMPLETE_ROWS_F`: the images hold every column.
pub const COMPLETE_ROWS_F: u16 = 0x0008;

/// What a rows event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowsKind {
    /// Rows inserted: after-images only.
    Write,
    /// Rows changed: before and after images.
    Update,
    /// Rows deleted: before-images only.
    Delete,
    /// MySQL PARTIAL_UPDATE_ROWS: an update whose after-images may hold JSON diffs.
    PartialUpdate,
}

impl RowsKind {
    /// `insert`, `update` or `delete`.
    pub fn sql_name(self) -> &'static str {
        match self {
            RowsKind::Write => "insert",
            RowsKind::Update | RowsKind::PartialUpdate => "update",
            RowsKind::Delete => "delete",
        }
    }
}

/// The wire layout generation of a rows event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowsVersion {
    /// MySQL 5.1 pre-GA (types 20–22).
    V0,
    /// 5.1 GA to 5.5, and MariaDB (types 23–25, 166–168).
    V1,
    /// MySQL 5.6+ with extra data (types 30–32, 39, 169–171).
    V2,
}

/// Kind, version and compression of a rows event type, or `None` if `t` is not one.
pub fn rows_type_info(t: EventType) -> Option<(RowsKind, RowsVersion, bool)> {
    use RowsKind::*;
    use RowsVersion::*;
    Some(match t.0 {
        20 => (Write, V0, false),
        21 => (Update, V0, false),
        22 => (Delete, V0, false),
        23 => (Write, V1, false),
        24 => (Update, V1, false),
        25 => (Delete, V1, false),
        30 => (Write, V2, false),
        31 => (Update, V2, false),
        32 => (Delete, V2, false),
        39 => (PartialUpdate, V2, false),
        166 => (Write, V1, true),
        167 => (Update, V1, true),
        168 => (Delete, V1, true),
        169 => (Write, V2, true),
        170 => (Update, V2, true),
        171 => (Delete, V2, true),
        _ => return None,
    })
}

/// The event type for a kind, version and compression (`None` for combinations no server
/// writes, such as a compressed partial update).
pub fn rows_event_type(
    kind: RowsKind,
    version: RowsVersion,
    compressed: bool,
) -> Option<EventType> {
    (20..=171u8)
        .map(EventType)
        .find(|&t| rows_type_info(t) == Some((kind, version, compressed)))
}

/// A rows event, framed but with its row images undecoded.
#[derive(Clone, PartialEq, Eq)]
pub struct RowsEvent<'a> {
    /// The event type.
    pub event_type: EventType,
    /// Insert, update, delete or partial update.
    pub kind: RowsKind,
    /// Layout generation.
    pub version: RowsVersion,
    /// Whether `data` is a MariaDB compressed block.
    pub compressed: bool,
    /// The table id of the TABLE_MAP this event uses.
    pub table_id: u64,
    /// Bytes the table id takes (6, or 4 on early 5.1).
    pub table_id_len: u8,
    /// `*_F` flags.
    pub flags: u16,
    /// v2 extra data, without its 2-byte length.
    pub extra: Option<&'a [u8]>,
    /// Number of columns of the table.
    pub column_count: u64,
    /// Columns present in the (before) images.
    pub columns: &'a [u8],
    /// Columns present in the after images of an update (v1/v2).
    pub columns_after: Option<&'a [u8]>,
    /// The row images as stored (compressed when `compressed`).
    pub data: &'a [u8],
    /// Absolute offset of `data`.
    pub data_offset: u64,
}

impl std::fmt::Debug for RowsEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowsEvent")
            .field("event_type", &self.event_type)
            .field("table_id", &self.table_id)
            .field("flags", &self.flags)
            .field("column_count", &self.column_count)
            .field("data", &Short(self.data))
            .finish()
    }
}

impl<'a> RowsEvent<'a> {
    /// Parses the body of a rows event of type `t`.
    pub fn parse(
        t: EventType,
        body: &'a [u8],
        offset: u64,
        format: &Format,
    ) -> Result<RowsEvent<'a>> {
        let mut c = Cursor::new(body, offset);
        let (kind, version, compressed) =
            rows_type_info(t).ok_or_else(|| c.malformed("not a rows event"))?;
        let table_id_len = format.table_id_len(t);
        let table_id = c.uint(table_id_len)?;
        let flags = c.u16()?;
        let extra = if version == RowsVersion::V2 {
            let n = usize::from(c.u16()?);
            if n < 2 {
                return Err(c.malformed(format!("rows extra-data length {n}")));
            }
            Some(c.take(n - 2, "rows extra data")?)
        } else {
            None
        };
        let column_count = c.packed()?;
        let bitmap_len = usize::try_from(column_count.div_ceil(8)).unwrap_or(usize::MAX);
        let columns = c.take(bitmap_len, "column bitmap")?;
        let has_after = matches!(kind, RowsKind::Update | RowsKind::PartialUpdate)
            && version != RowsVersion::V0;
        let columns_after = if has_after {
            Some(c.take(bitmap_len, "after-image column bitmap")?)
        } else {
            None
        };
        let data_offset = c.offset();
        let ev = RowsEvent {
            event_type: t,
            kind,
            version,
            compressed,
            table_id,
            table_id_len: table_id_len as u8,
            flags,
            extra,
            column_count,
            columns,
            columns_after,
            data: c.rest(),
            data_offset,
        };
        // Servers refuse extra data they cannot read; so do we.
        ev.extra_info()
            .map_err(|e| e.shifted(offset + usize::from(ev.table_id_len) as u64 + 4))?;
        Ok(ev)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        self.encode_head(out)?;
        out.extend_from_slice(self.data);
        Ok(())
    }

    /// Appends everything but the row data (which the caller then appends itself: the way
    /// split and flashback re-encode an event with other rows).
    pub fn encode_head(&self, out: &mut Vec<u8>) -> Result<()> {
        put_table_id(out, self.table_id, self.table_id_len)?;
        out.extend_from_slice(&self.flags.to_le_bytes());
        if let Some(extra) = self.extra {
            // The length counts itself.
            put_uint_checked(
                out,
                extra.len() as u64 + 2,
                2,
                "rows event extra data length",
            )?;
            out.extend_from_slice(extra);
        }
        put_packed(out, self.column_count);
        out.extend_from_slice(self.columns);
        if let Some(a) = self.columns_after {
            out.extend_from_slice(a);
        }
        Ok(())
    }

    /// The row images, decompressed if the event is compressed.
    pub fn rows_data(&self) -> Result<Cow<'a, [u8]>> {
        if self.compressed {
            compress::mariadb_uncompress(self.data, self.data_offset).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(self.data))
        }
    }

    /// Whether `STMT_END_F` is set.
    pub fn is_stmt_end(&self) -> bool {
        self.flags & STMT_END_F != 0
    }

    /// The bitmap of columns present in after-images.
    pub fn after_columns(&self) -> &'a [u8] {
        self.columns_after.unwrap_or(self.columns)
    }

    /// The same event as another type (for example WRITE → DELETE for flashback, or
    /// compressed → plain). Fails when no event type has that shape.
    pub fn retyped(&self, kind: RowsKind, compressed: bool) -> Option<RowsEvent<'a>> {
        let t = rows_event_type(kind, self.version, compressed)?;
        let mut e = self.clone();
        e.event_type = t;
        e.kind = kind;
        e.compressed = compressed;
        Some(e)
    }

    /// The v2 extra-data items, decoded.
    pub fn extra_info(&self) -> Result<Vec<ExtraInfo<'a>>> {
        let mut out = Vec::new();
        let Some(extra) = self.extra else {
            return Ok(out);
        };
        let mut c = Cursor::new(extra, 0);
        while !c.is_empty() {
            match c.u8()? {
                0 => {
                    let len = usize::from(c.u8()?);
                    let format = c.u8()?;
                    let data = c.take(len.saturating_sub(2), "NDB extra info")?;
                    out.push(ExtraInfo::Ndb { format, data });
                }
                1 => {
                    let partition = c.u16()?;
                    let source = if matches!(self.kind, RowsKind::Update | RowsKind::PartialUpdate)
                    {
                        Some(c.u16()?)
                    } else {
                        None
                    };
                    out.push(ExtraInfo::Partition { partition, source });
                }
                tag => {
                    return Err(c.malformed(format!("rows extra-data tag {tag}")));
                }
            }
        }
        Ok(out)
    }
}

/// One item of v2 extra data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraInfo<'a> {
    /// NDB cluster information.
    Ndb {
        /// Format byte.
        format: u8,
        /// Data.
        data: &'a [u8],
    },
    /// The partition the row went to (and, for updates, came from).
    Partition {
        /// Partition id.
        partition: u16,
        /// Source partition of an update.
        source: Option<u16>,
    },
}

/// `FL_ORIG_EVENT_SIZE`: the first fragment carries the original event's size.
pub const FL_ORIG_EVENT_SIZE: u8 = 0x01;

/// MariaDB PARTIAL_ROW_DATA_EVENT (172, MariaDB 12.3+): one fragment of a rows event too big
/// for one event. The chunks of fragments 1..=total, concatenated, are the original rows
/// event (its common header and body, without its checksum).
#[derive(Clone, PartialEq, Eq)]
pub struct PartialRowData<'a> {
    /// Number of fragments of the original event.
    pub total_fragments: u32,
    /// This fragment's number, from 1.
    pub seq_no: u32,
    /// Flags (`FL_ORIG_EVENT_SIZE`).
    pub flags: u8,
    /// The original event's size, on the first fragment.
    pub original_size: Option<u64>,
    /// This fragment's bytes of the original event.
    pub chunk: &'a [u8],
}

impl std::fmt::Debug for PartialRowData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartialRowData")
            .field("total_fragments", &self.total_fragments)
            .field("seq_no", &self.seq_no)
            .field("original_size", &self.original_size)
            .field("chunk", &Short(self.chunk))
            .finish()
    }
}

impl<'a> PartialRowData<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<PartialRowData<'a>> {
        let mut c = Cursor::new(body, offset);
        let total_fragments = c.u32()?;
        let seq_no = c.u32()?;
        let flags = c.u8()?;
        if seq_no == 0 || seq_no > total_fragments {
            return Err(c.malformed(format!("fragment {seq_no} of {total_fragments}")));
        }
        let original_size = if flags & FL_ORIG_EVENT_SIZE != 0 {
            Some(c.u64()?)
        } else {
            None
        };
        Ok(PartialRowData {
            total_fragments,
            seq_no,
            flags,
            original_size,
            chunk: c.rest(),
        })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.total_fragments.to_le_bytes());
        out.extend_from_slice(&self.seq_no.to_le_bytes());
        out.push(self.flags);
        if let Some(n) = self.original_size {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(self.chunk);
        Ok(())
    }
}

/// Appends a table id in its `len`-byte field (6, or 4 in old formats); an id the field
/// cannot hold, or a width over 8 bytes, is refused.
pub fn put_table_id(out: &mut Vec<u8>, table_id: u64, len: u8) -> Result<()> {
    if len > 8 {
        return Err(Error::malformed(
            0,
            format!("table id field of {len} bytes"),
        ));
    }
    put_uint_checked(out, table_id, usize::from(len), "table id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_row_data_round_trip() {
        let p = PartialRowData {
            total_fragments: 3,
            seq_no: 1,
            flags: FL_ORIG_EVENT_SIZE,
            original_size: Some(70_000),
            chunk: &[1, 2, 3],
        };
        let mut b = Vec::new();
        p.encode(&mut b).unwrap();
        assert_eq!(PartialRowData::parse(&b, 0).unwrap(), p);
        let mut bad = b.clone();
        bad[4] = 4;
        assert!(PartialRowData::parse(&bad, 0).is_err());
    }

    #[test]
    fn type_table_is_consistent() {
        for t in 0..=255u8 {
            let t = EventType(t);
            assert_eq!(rows_type_info(t).is_some(), t.is_rows(), "{t:?}");
            if let Some((k, v, c)) = rows_type_info(t) {
                assert_eq!(rows_event_type(k, v, c), Some(t));
            }
        }
    }

    #[test]
    fn v2_update_round_trip() {
        let f = Format::mysql_80();
        let e = RowsEvent {
            event_type: EventType::UPDATE_ROWS_V2,
            kind: RowsKind::Update,
            version: RowsVersion::V2,
            compressed: false,
            table_id: 77,
            table_id_len: 6,
            flags: STMT_END_F,
            extra: Some(&[]),
            column_count: 3,
            columns: &[7],
            columns_after: Some(&[7]),
            data: &[1, 2, 3],
            data_offset: 0,
        };
        let mut b = Vec::new();
        e.encode(&mut b).unwrap();
        let mut back = RowsEvent::parse(EventType::UPDATE_ROWS_V2, &b, 0, &f).unwrap();
        back.data_offset = 0;
        assert_eq!(back, e);
        let d = e.retyped(RowsKind::Delete, false).unwrap();
        assert_eq!(d.event_type, EventType::DELETE_ROWS_V2);
    }
}
