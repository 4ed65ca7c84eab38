//! Counting the rows of a rows event quickly.
//!
//! [`crate::row::Rows`] finds each row's bytes and is the reference; it asks every column
//! for its value length through the general type dispatch. To count millions of rows, a
//! [`RowLayout`] settles once per table how each column's length is found (a fixed width,
//! or a little-endian length prefix of some size) and then walks images with a tight loop.
//! Whatever the layout cannot handle (a column whose size the binlog does not give,
//! PARTIAL_UPDATE_ROWS value options, damaged data) makes [`RowLayout::count`] return
//! `None`, and the caller falls back to the reference walk, which also says what is wrong.

use crate::event::rows::{RowsEvent, RowsKind, RowsVersion};
use crate::row::column::Column;
use crate::row::{bit, TableInfo};

/// How the length of one column's value is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Width {
    /// Always this many bytes.
    Fixed(usize),
    /// A little-endian length of this many bytes, then that many bytes.
    Prefixed(usize),
    /// Not known from the table map.
    Unknown,
}

/// Learns a column's width from [`Column::value_len`] itself, so that the two cannot
/// disagree: a value length that does not depend on the bytes is fixed; one that is the
/// prefix size for a zero prefix and one more for a prefix of 1 is a length prefix.
pub(crate) fn width(col: &Column) -> Width {
    let zeros = [0u8; 8];
    let ones = [0xffu8; 8];
    let mut one = [0u8; 8];
    one[0] = 1;
    match (col.value_len(&zeros), col.value_len(&ones)) {
        (Some(a), Some(b)) if a == b => Width::Fixed(a),
        (Some(n), Some(_)) if (1..=4).contains(&n) && col.value_len(&one) == Some(n + 1) => {
            Width::Prefixed(n)
        }
        _ => Width::Unknown,
    }
}

/// The widths of a table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLayout {
    widths: Vec<Width>,
}

/// Reusable buffers for [`RowLayout::count`].
#[derive(Debug, Default)]
pub struct CountScratch {
    before: Vec<Width>,
    after: Vec<Width>,
}

impl RowLayout {
    /// The layout of a table.
    pub fn new(info: &TableInfo) -> RowLayout {
        RowLayout {
            widths: info.widths.clone(),
        }
    }

    /// Counts the rows of `event`, whose (decompressed) rows data is `data`; `None` when
    /// the quick walk cannot tell (use [`crate::row::Rows`] then).
    pub fn count(&self, event: &RowsEvent, data: &[u8], scratch: &mut CountScratch) -> Option<u64> {
        if event.column_count as usize != self.widths.len() || event.kind == RowsKind::PartialUpdate
        {
            return None;
        }
        let present = |bitmap: &[u8], out: &mut Vec<Width>| {
            out.clear();
            out.extend(
                self.widths
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| bit(bitmap, *i))
                    .map(|(_, w)| *w),
            );
            !out.contains(&Width::Unknown)
        };
        let after_cols = if event.version == RowsVersion::V0 {
            event.columns
        } else {
            event.after_columns()
        };
        let images: &[&[Width]] = match event.kind {
            RowsKind::Write => {
                if !present(after_cols, &mut scratch.after) {
                    return None;
                }
                &[&scratch.after]
            }
            RowsKind::Delete => {
                if !present(event.columns, &mut scratch.before) {
                    return None;
                }
                &[&scratch.before]
            }
            _ => {
                if !present(event.columns, &mut scratch.before)
                    || !present(after_cols, &mut scratch.after)
                {
                    return None;
                }
                &[&scratch.before, &scratch.after]
            }
        };
        let mut pos = 0usize;
        let mut rows = 0u64;
        while pos < data.len() {
            let start = pos;
            for widths in images {
                pos = image_end(data, pos, widths)?;
            }
            if pos == start {
                // Rows of no bytes: let the reference walk report the event.
                return None;
            }
            rows += 1;
        }
        Some(rows)
    }
}

/// Where the image starting at `pos` ends, or `None` if it runs past the data.
#[inline]
fn image_end(data: &[u8], mut pos: usize, widths: &[Width]) -> Option<usize> {
    let nulls_len = widths.len().div_ceil(8);
    let nulls = data.get(pos..pos + nulls_len)?;
    pos += nulls_len;
    for (k, w) in widths.iter().enumerate() {
        if nulls[k / 8] & (1 << (k % 8)) != 0 {
            continue;
        }
        match *w {
            Width::Fixed(n) => pos += n,
            Width::Prefixed(n) => {
                let p = data.get(pos..pos + n)?;
                let len = p
                    .iter()
                    .rev()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                pos += n + len;
            }
            Width::Unknown => return None,
        }
        if pos > data.len() {
            return None;
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::column::ColumnType;

    #[test]
    fn widths_follow_value_len() {
        let w = |t: ColumnType, meta: &[u8]| width(&Column::new(t, meta, true));
        assert_eq!(w(ColumnType::LONG, &[]), Width::Fixed(4));
        assert_eq!(w(ColumnType::DATETIME2, &[6]), Width::Fixed(8));
        assert_eq!(w(ColumnType::NEWDECIMAL, &[10, 2]), Width::Fixed(5));
        assert_eq!(w(ColumnType::VARCHAR, &[0x2c, 0x01]), Width::Prefixed(2));
        assert_eq!(w(ColumnType::VARCHAR, &[20, 0]), Width::Prefixed(1));
        assert_eq!(w(ColumnType::BLOB, &[3]), Width::Prefixed(3));
        assert_eq!(w(ColumnType::STRING, &[247, 1]), Width::Fixed(1));
        assert_eq!(w(ColumnType::BLOB, &[9]), Width::Unknown);
    }

    #[test]
    fn counts_and_gives_up_on_short_data() {
        use crate::event::header::EventType;
        let cols = vec![
            Column::new(ColumnType::LONG, &[], false),
            Column::new(ColumnType::VARCHAR, &[20, 0], true),
        ];
        let info = TableInfo::new(cols, vec![false; 2]);
        let layout = RowLayout::new(&info);
        // Two rows: (1, "ab") and (2, NULL).
        let data = [0u8, 1, 0, 0, 0, 2, b'a', b'b', 2, 2, 0, 0, 0];
        let ev = RowsEvent {
            event_type: EventType::WRITE_ROWS_V1,
            kind: RowsKind::Write,
            version: RowsVersion::V1,
            compressed: false,
            table_id: 1,
            table_id_len: 6,
            flags: 0,
            extra: None,
            column_count: 2,
            columns: &[3],
            columns_after: None,
            data: &data,
            data_offset: 0,
        };
        let mut s = CountScratch::default();
        assert_eq!(layout.count(&ev, &data, &mut s), Some(2));
        assert_eq!(layout.count(&ev, &data[..12], &mut s), None);
        assert_eq!(crate::txn_stats::count_rows(&ev, &data, &info).unwrap(), 2);
    }
}
