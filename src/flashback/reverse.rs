//! Reversing one rows event: the opposite kind, the column bitmaps and images of updates
//! swapped, the rows in reverse order. Rows are found as byte spans ([`RowSpan`]) of the
//! source's (decompressed) rows data; the undo event is written from those spans, so no
//! value is ever decoded.

use crate::bytes::{put_packed, put_uint_checked, Cursor};
use crate::error::{Error, Result};
use crate::event::header::EventType;
use crate::event::rows::{
    put_table_id, rows_event_type, ExtraInfo, RowsEvent, RowsKind, RowsVersion, STMT_END_F,
};
use crate::event::table_map::TableMap;
use crate::row::{bit, Rows, TableInfo, PARTIAL_JSON_UPDATES};
use crate::writer::Stamp;

/// Where one row lies in a rows event's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSpan {
    /// Start of the row (its first image).
    pub start: usize,
    /// End of the first image: the start of the second (UPDATE), or `end`.
    pub split: usize,
    /// End of the row.
    pub end: usize,
    /// Bytes at the start of the second image to leave out (the `value_options` header of
    /// a PARTIAL_UPDATE_ROWS after-image).
    pub skip: usize,
}

impl RowSpan {
    /// The first image: the after-image of a WRITE, the before-image of an UPDATE or DELETE.
    pub fn first(&self) -> std::ops::Range<usize> {
        self.start..self.split
    }

    /// The after-image of an UPDATE (without any `value_options` header); empty otherwise.
    pub fn second(&self) -> std::ops::Range<usize> {
        (self.split + self.skip).min(self.end)..self.end
    }
}

/// Finds the rows of `event` (rows data `data`, already decompressed) into `spans`, in
/// source order.
pub fn row_spans(
    event: &RowsEvent,
    data: &[u8],
    table: &TableInfo,
    spans: &mut Vec<RowSpan>,
) -> Result<()> {
    spans.clear();
    for row in Rows::new(event, data, table)? {
        let row = row?;
        let (split, skip) = match (row.before, row.after) {
            (Some(b), Some(a)) => {
                let skip = if a.has_value_options {
                    value_options_len(a.bytes, table, a.offset)?.0
                } else {
                    0
                };
                (row.start + b.bytes.len(), skip)
            }
            _ => (row.end, 0),
        };
        spans.push(RowSpan {
            start: row.start,
            split,
            end: row.end,
            skip,
        });
    }
    Ok(())
}

/// Length of the `value_options` header of a PARTIAL_UPDATE_ROWS after-image, and whether
/// it marks any JSON column as a diff.
fn value_options_len(image: &[u8], table: &TableInfo, offset: u64) -> Result<(usize, bool)> {
    let mut c = Cursor::new(image, offset);
    let opts = c.packed()?;
    let mut diff = false;
    if opts & PARTIAL_JSON_UPDATES != 0 {
        let bits = c.take(table.json_count.div_ceil(8), "partial JSON bitmap")?;
        diff = (0..table.json_count).any(|j| bit(bits, j));
    }
    Ok((c.position(), diff))
}

/// The offset of the first row of a PARTIAL_UPDATE_ROWS event that holds a JSON diff, if
/// any: such a row's new value is not in the binlog, only how to compute it.
pub fn partial_json_diff(event: &RowsEvent, data: &[u8], table: &TableInfo) -> Result<Option<u64>> {
    if event.kind != RowsKind::PartialUpdate {
        return Ok(None);
    }
    for row in Rows::new(event, data, table)? {
        if let Some(a) = row?.after {
            if value_options_len(a.bytes, table, a.offset)?.1 {
                return Ok(Some(a.offset));
            }
        }
    }
    Ok(None)
}

/// The kind of change that undoes `kind`.
pub fn undo_kind(kind: RowsKind) -> RowsKind {
    match kind {
        RowsKind::Write => RowsKind::Delete,
        RowsKind::Delete => RowsKind::Write,
        RowsKind::Update | RowsKind::PartialUpdate => RowsKind::Update,
    }
}

/// A rows event of the undo: the source event and where its rows are, with what the undo
/// event changes (type, flags). [`UndoRows::encode_body`] writes the undo event's body.
#[derive(Debug)]
pub struct UndoRows<'d, 't> {
    /// The source event (its `data` possibly compressed: use `data` below).
    pub source: &'t RowsEvent<'d>,
    /// The source's rows data, decompressed.
    pub data: &'t [u8],
    /// The source event's header fields (the undo event keeps them).
    pub stamp: Stamp,
    /// The TABLE_MAP the event uses.
    pub table_map: &'t TableMap<'d>,
    /// The table's layout.
    pub table: &'t TableInfo,
    /// The source's rows, in source order (the undo writes them last first).
    pub rows: &'t [RowSpan],
    /// The undo event's type: the opposite kind, same version, never compressed.
    pub event_type: EventType,
    /// The undo event's flags: the source's, with STMT_END_F where the undo's statement
    /// ends.
    pub flags: u16,
}

impl<'d, 't> UndoRows<'d, 't> {
    /// Prepares the undo of `source`; `statement_end` says whether it is the last rows event
    /// of its statement in the undo.
    pub fn new(
        source: &'t RowsEvent<'d>,
        data: &'t [u8],
        stamp: Stamp,
        table_map: &'t TableMap<'d>,
        table: &'t TableInfo,
        rows: &'t [RowSpan],
        statement_end: bool,
    ) -> Result<UndoRows<'d, 't>> {
        let kind = undo_kind(source.kind);
        let event_type = rows_event_type(kind, source.version, false).ok_or_else(|| {
            Error::unsupported(
                source.data_offset,
                format!("no rows event type undoes {:?}", source.event_type),
            )
        })?;
        let mut flags = source.flags & !STMT_END_F;
        if statement_end {
            flags |= STMT_END_F;
        }
        Ok(UndoRows {
            source,
            data,
            stamp,
            table_map,
            table,
            rows,
            event_type,
            flags,
        })
    }

    /// What the undo event does.
    pub fn kind(&self) -> RowsKind {
        undo_kind(self.source.kind)
    }

    /// Whether source images are swapped (an update).
    fn is_update(&self) -> bool {
        self.kind() == RowsKind::Update
    }

    /// The undo event's column bitmaps: (before or only, after).
    pub fn bitmaps(&self) -> (&'d [u8], Option<&'d [u8]>) {
        match (self.is_update(), self.source.columns_after) {
            (true, Some(after)) => (after, Some(self.source.columns)),
            _ => (self.source.columns, self.source.columns_after),
        }
    }

    /// The images of the undo's `i`-th row (in undo order): (first, second) as byte ranges
    /// of `data`. For an update, first is the undo's before-image (the source's after).
    pub fn undo_row(&self, i: usize) -> (std::ops::Range<usize>, Option<std::ops::Range<usize>>) {
        let s = &self.rows[self.rows.len() - 1 - i];
        if self.is_update() {
            (s.second(), Some(s.first()))
        } else {
            (s.first(), None)
        }
    }

    /// Appends the undo event's body.
    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        let src = self.source;
        put_table_id(out, src.table_id, src.table_id_len)?;
        out.extend_from_slice(&self.flags.to_le_bytes());
        if src.version == RowsVersion::V2 {
            // The extra data's length counts itself.
            let mut extra = Vec::new();
            encode_extra(src, self.is_update(), &mut extra)?;
            put_uint_checked(
                out,
                extra.len() as u64 + 2,
                2,
                "rows event extra data length",
            )?;
            out.extend_from_slice(&extra);
        }
        put_packed(out, src.column_count);
        let (first, second) = self.bitmaps();
        out.extend_from_slice(first);
        if let Some(b) = second {
            out.extend_from_slice(b);
        }
        out.reserve(self.data.len());
        for i in 0..self.rows.len() {
            let (a, b) = self.undo_row(i);
            out.extend_from_slice(&self.data[a]);
            if let Some(b) = b {
                out.extend_from_slice(&self.data[b]);
            }
        }
        Ok(())
    }
}

/// Appends a v2 event's extra data for its undo: the same items, except that an update's
/// partition pair (where the row went, where it came from) is swapped.
fn encode_extra(src: &RowsEvent, update: bool, out: &mut Vec<u8>) -> Result<()> {
    let Some(raw) = src.extra else {
        return Ok(());
    };
    let items = match src.extra_info() {
        Ok(items) if update => items,
        _ => {
            out.extend_from_slice(raw);
            return Ok(());
        }
    };
    for item in items {
        match item {
            ExtraInfo::Ndb { format, data } => {
                out.push(0);
                put_uint_checked(out, data.len() as u64 + 2, 1, "NDB extra data length")?;
                out.push(format);
                out.extend_from_slice(data);
            }
            ExtraInfo::Partition { partition, source } => {
                out.push(1);
                match source {
                    Some(s) => {
                        out.extend_from_slice(&s.to_le_bytes());
                        out.extend_from_slice(&partition.to_le_bytes());
                    }
                    None => out.extend_from_slice(&partition.to_le_bytes()),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::fde::Format;
    use crate::row::column::{Column, ColumnType};

    fn table() -> (TableInfo, TableMap<'static>) {
        let cols = vec![
            Column::new(ColumnType::LONG, &[], false),
            Column::new(ColumnType::VARCHAR, &[20, 0], true),
        ];
        let tm = TableMap::new(7, b"d", b"t", &[3, 15], &[20, 0], &[2], &[]);
        (TableInfo::new(cols, vec![false, false]), tm)
    }

    /// One image of (id, v): null bitmap, 4-byte id, 1-byte length and bytes.
    fn image(id: u32, v: &str) -> Vec<u8> {
        let mut b = vec![0xfc];
        b.extend_from_slice(&id.to_le_bytes());
        b.push(v.len() as u8);
        b.extend_from_slice(v.as_bytes());
        b
    }

    /// An image of `v` alone.
    fn v_image(v: &str) -> Vec<u8> {
        let mut b = vec![0xfe, v.len() as u8];
        b.extend_from_slice(v.as_bytes());
        b
    }

    #[test]
    fn update_is_swapped_and_reversed() {
        let (info, tm) = table();
        let mut data = Vec::new();
        for (id, old, new) in [(1, "a", "b"), (2, "cc", "d")] {
            data.extend(image(id, old));
            data.extend(v_image(new));
        }
        let src = RowsEvent {
            event_type: EventType::UPDATE_ROWS_V1,
            kind: RowsKind::Update,
            version: RowsVersion::V1,
            compressed: false,
            table_id: 7,
            table_id_len: 6,
            flags: STMT_END_F | crate::event::rows::NO_FOREIGN_KEY_CHECKS_F,
            extra: None,
            column_count: 2,
            columns: &[0b11],
            columns_after: Some(&[0b10]),
            data: &data,
            data_offset: 0,
        };
        let mut spans = Vec::new();
        row_spans(&src, &data, &info, &mut spans).unwrap();
        assert_eq!(spans.len(), 2);
        let stamp = Stamp {
            timestamp: 1,
            server_id: 2,
            flags: 0,
        };
        let undo = UndoRows::new(&src, &data, stamp, &tm, &info, &spans, false).unwrap();
        assert_eq!(undo.event_type, EventType::UPDATE_ROWS_V1);
        assert_eq!(undo.flags, crate::event::rows::NO_FOREIGN_KEY_CHECKS_F);
        let mut body = Vec::new();
        undo.encode_body(&mut body).unwrap();
        let back = RowsEvent::parse(undo.event_type, &body, 0, &Format::mariadb_1011()).unwrap();
        assert_eq!(back.columns, &[0b10]);
        assert_eq!(back.columns_after, Some(&[0b11][..]));
        let mut want = Vec::new();
        for (id, old, new) in [(2, "cc", "d"), (1, "a", "b")] {
            want.extend(v_image(new));
            want.extend(image(id, old));
        }
        assert_eq!(back.data, &want[..]);
    }

    #[test]
    fn write_becomes_delete_with_rows_reversed() {
        let (info, tm) = table();
        let data: Vec<u8> = [image(1, "x"), image(2, "yy"), image(3, "")].concat();
        let src = RowsEvent {
            event_type: EventType::WRITE_ROWS_V2,
            kind: RowsKind::Write,
            version: RowsVersion::V2,
            compressed: false,
            table_id: 7,
            table_id_len: 6,
            flags: 0,
            extra: Some(&[]),
            column_count: 2,
            columns: &[0b11],
            columns_after: None,
            data: &data,
            data_offset: 0,
        };
        let mut spans = Vec::new();
        row_spans(&src, &data, &info, &mut spans).unwrap();
        let stamp = Stamp {
            timestamp: 1,
            server_id: 2,
            flags: 0,
        };
        let undo = UndoRows::new(&src, &data, stamp, &tm, &info, &spans, true).unwrap();
        assert_eq!(undo.event_type, EventType::DELETE_ROWS_V2);
        let mut body = Vec::new();
        undo.encode_body(&mut body).unwrap();
        let back = RowsEvent::parse(undo.event_type, &body, 0, &Format::mysql_80()).unwrap();
        assert!(back.is_stmt_end());
        assert_eq!(
            back.data,
            &[image(3, ""), image(2, "yy"), image(1, "x")].concat()[..]
        );
    }

    #[test]
    fn update_partition_pair_is_swapped() {
        let src = RowsEvent {
            event_type: EventType::UPDATE_ROWS_V2,
            kind: RowsKind::Update,
            version: RowsVersion::V2,
            compressed: false,
            table_id: 1,
            table_id_len: 6,
            flags: 0,
            extra: Some(&[1, 5, 0, 9, 0]),
            column_count: 1,
            columns: &[1],
            columns_after: Some(&[1]),
            data: &[],
            data_offset: 0,
        };
        let mut out = Vec::new();
        encode_extra(&src, true, &mut out).unwrap();
        assert_eq!(out, [1, 9, 0, 5, 0]);
    }
}
