//! Row images of rows events: finding each row's bytes (cheap, allocation-free), and
//! decoding or encoding column values.
//!
//! A rows event's data is a sequence of rows; a row is one image (WRITE: after, DELETE:
//! before) or two (UPDATE: before then after). An image is a null bitmap with one bit per
//! *present* column (the event's column bitmap says which are present), then the values of
//! the present, non-NULL columns. The after-image of a PARTIAL_UPDATE_ROWS event starts
//! with a packed `value_options` and, when its bit 0 is set, a bitmap with one bit per JSON
//! column of the table telling which JSON values are diffs.

pub mod column;
pub mod count;
pub mod decimal;
pub mod encode;
pub mod json;
pub mod json_diff;
pub mod table_cache;
pub mod table_ctx;
pub mod temporal;
pub mod value;

use crate::bytes::Cursor;
use crate::error::{Error, Result};
use crate::event::rows::{RowsEvent, RowsKind, RowsVersion};
use crate::event::table_map::TableMap;
use column::{Column, ColumnType};
use count::Width;
pub use table_ctx::TableCtx;
pub use value::Value;

/// `value_options` bit: JSON columns may hold partial updates.
pub const PARTIAL_JSON_UPDATES: u64 = 1;

/// What decoding row images needs to know about a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// The columns.
    pub columns: Vec<Column>,
    /// Whether each column is unsigned (false when the metadata does not say).
    pub unsigned: Vec<bool>,
    /// For each column, its index among the table's JSON columns.
    pub json_index: Vec<Option<usize>>,
    /// Number of JSON columns.
    pub json_count: usize,
    /// How each column's value length is found, settled once.
    pub(crate) widths: Vec<Width>,
}

impl TableInfo {
    /// From a TABLE_MAP event (signedness from its optional metadata when present).
    pub fn from_table_map(tm: &TableMap) -> Result<TableInfo> {
        let columns = tm.columns()?;
        let unsigned = if tm.optional.is_empty() {
            vec![false; columns.len()]
        } else {
            let m = tm.optional_metadata(&columns)?;
            m.unsigned.iter().map(|u| u.unwrap_or(false)).collect()
        };
        Ok(TableInfo::new(columns, unsigned))
    }

    /// Whether column `i` is unsigned (false for a column the list does not reach).
    #[inline]
    pub fn is_unsigned(&self, i: usize) -> bool {
        self.unsigned.get(i).copied().unwrap_or(false)
    }

    /// Column `i`'s index among the JSON columns, if it is one.
    #[inline]
    pub fn json_position(&self, i: usize) -> Option<usize> {
        self.json_index.get(i).copied().flatten()
    }

    /// From columns and their signedness.
    pub fn new(columns: Vec<Column>, unsigned: Vec<bool>) -> TableInfo {
        let mut json_count = 0;
        let json_index = columns
            .iter()
            .map(|c| {
                (c.real_type == ColumnType::JSON).then(|| {
                    json_count += 1;
                    json_count - 1
                })
            })
            .collect();
        let widths = columns.iter().map(count::width).collect();
        TableInfo {
            columns,
            unsigned,
            json_index,
            json_count,
            widths,
        }
    }
}

/// Whether bit `i` of a little-endian bitmap (column bitmaps, null bitmaps) is set.
#[inline]
pub fn bit(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// The columns an image holds, in order, each with whether its value is NULL: the
/// `present` bitmap walked over `columns` columns, the k-th present column's NULL flag
/// being bit k of `nulls`.
fn present_columns<'a>(
    present: &'a [u8],
    nulls: &'a [u8],
    columns: usize,
) -> impl Iterator<Item = (usize, bool)> + 'a {
    (0..columns)
        .filter(move |&i| bit(present, i))
        .enumerate()
        .map(move |(k, i)| (i, bit(nulls, k)))
}

/// Number of bits set among the first `n` of a bitmap.
#[inline]
pub fn count_bits(bitmap: &[u8], n: usize) -> usize {
    let full = n / 8;
    let mut c: usize = bitmap
        .iter()
        .take(full)
        .map(|b| b.count_ones() as usize)
        .sum();
    if !n.is_multiple_of(8) {
        if let Some(b) = bitmap.get(full) {
            c += (b & ((1u8 << (n % 8)) - 1)).count_ones() as usize;
        }
    }
    c
}

impl TableInfo {
    /// Bytes the value of column `i` takes at the start of `data` (a row image from the
    /// value on), as [`Column::value_len_at`] says, through the width settled for it.
    #[inline]
    fn value_len(&self, i: usize, data: &[u8], offset: u64) -> Result<usize> {
        match self.widths.get(i) {
            Some(Width::Fixed(n)) => return Ok(*n),
            Some(Width::Prefixed(k)) => {
                if let Some(p) = data.get(..*k) {
                    return Ok(k.saturating_add(crate::bytes::le_uint(p) as usize));
                }
            }
            _ => {}
        }
        self.columns[i].value_len_at(data, offset)
    }
}

/// A column's value as an image holds it: `(column index, None for NULL or its bytes)`.
pub type RawValue<'d> = (usize, Option<&'d [u8]>);

/// One image of a row: its bytes and what is needed to read them.
#[derive(Debug, Clone, Copy)]
pub struct RowImage<'d> {
    /// The image's bytes (value options and partial bitmap, null bitmap, values).
    pub bytes: &'d [u8],
    /// Which columns are present.
    pub present: &'d [u8],
    /// Number of columns of the table.
    pub column_count: usize,
    /// Whether the image starts with `value_options` (PARTIAL_UPDATE_ROWS after-image).
    pub has_value_options: bool,
    /// Absolute offset of `bytes`.
    pub offset: u64,
}

/// One row change: the byte range of its images in the rows data, and the images.
#[derive(Debug, Clone, Copy)]
pub struct Row<'d> {
    /// Start of the row in the rows data.
    pub start: usize,
    /// End of the row in the rows data.
    pub end: usize,
    /// The before-image (UPDATE, DELETE).
    pub before: Option<RowImage<'d>>,
    /// The after-image (WRITE, UPDATE).
    pub after: Option<RowImage<'d>>,
}

/// Walks the rows of a rows event.
#[derive(Debug, Clone)]
pub struct Rows<'d, 't> {
    data: &'d [u8],
    pos: usize,
    base: u64,
    table: &'t TableInfo,
    kind: RowsKind,
    before_cols: &'d [u8],
    after_cols: &'d [u8],
    column_count: usize,
    done: bool,
}

impl<'d, 't> Rows<'d, 't> {
    /// The rows of `event` whose (decompressed) rows data is `data`, with `table` the
    /// TABLE_MAP it refers to.
    pub fn new(
        event: &RowsEvent<'d>,
        data: &'d [u8],
        table: &'t TableInfo,
    ) -> Result<Rows<'d, 't>> {
        if event.version == RowsVersion::V0 {
            return Err(Error::unsupported(
                event.data_offset,
                "MySQL 5.1 pre-GA rows events (types 20-22) hold rows in the storage engine's \
                 record format, which the binlog does not describe",
            ));
        }
        let column_count = event.column_count as usize;
        if column_count != table.columns.len() {
            return Err(Error::malformed(
                event.data_offset,
                format!(
                    "rows event has {} columns, its table map {}",
                    event.column_count,
                    table.columns.len()
                ),
            ));
        }
        let after_cols = event.after_columns();
        Ok(Rows {
            data,
            pos: 0,
            // Offsets inside a compressed block's data are counted from the block's start:
            // errors then point into the event, past its header.
            base: event.data_offset,
            table,
            kind: event.kind,
            before_cols: event.columns,
            after_cols,
            column_count,
            done: false,
        })
    }

    /// Measures one image at the current position.
    fn image(&mut self, present: &'d [u8], value_options: bool) -> Result<RowImage<'d>> {
        let start = self.pos;
        let rest = &self.data[start..];
        let len = image_len(
            rest,
            present,
            self.table,
            value_options,
            self.base + start as u64,
        )?;
        self.pos += len;
        Ok(RowImage {
            bytes: &rest[..len],
            present,
            column_count: self.column_count,
            has_value_options: value_options,
            offset: self.base + start as u64,
        })
    }

    fn next_row(&mut self) -> Result<Row<'d>> {
        let start = self.pos;
        let row = self.images(start)?;
        if row.end == start {
            // Only an event whose images select no columns can do this; no server writes
            // one, and the walk must move on.
            return Err(Error::malformed(
                self.base + start as u64,
                "rows event whose rows take no bytes",
            ));
        }
        Ok(row)
    }

    fn images(&mut self, start: usize) -> Result<Row<'d>> {
        let (before, after) = match self.kind {
            RowsKind::Write => (None, Some(self.image(self.after_cols, false)?)),
            RowsKind::Delete => (Some(self.image(self.before_cols, false)?), None),
            RowsKind::Update => (
                Some(self.image(self.before_cols, false)?),
                Some(self.image(self.after_cols, false)?),
            ),
            RowsKind::PartialUpdate => (
                Some(self.image(self.before_cols, false)?),
                Some(self.image(self.after_cols, true)?),
            ),
        };
        Ok(Row {
            start,
            end: self.pos,
            before,
            after,
        })
    }
}

impl<'d> Rows<'d, '_> {
    /// Decodes the next row's images into `before` and `after`, one slot per column of
    /// the table (`None` where the image lacks the column), measuring each image as its
    /// values are decoded: one pass where [`Iterator::next`] and then
    /// [`RowImage::values`] take two. An image the row does not have (the before-image
    /// of a WRITE_ROWS, the after-image of a DELETE_ROWS) leaves its vector empty.
    /// Returns the row's byte range in the rows data; `None` at the end, and after an
    /// error.
    pub fn next_values(
        &mut self,
        before: &mut Vec<Option<Value<'d>>>,
        after: &mut Vec<Option<Value<'d>>>,
    ) -> Option<Result<std::ops::Range<usize>>> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        // An image not in this kind of row is left empty; the others are written over
        // by `decode_image`.
        match self.kind {
            RowsKind::Write => before.clear(),
            RowsKind::Delete => after.clear(),
            RowsKind::Update | RowsKind::PartialUpdate => {}
        }
        let (b, a) = (self.before_cols, self.after_cols);
        let r = match self.kind {
            RowsKind::Write => self.decode_image(a, false, after),
            RowsKind::Delete => self.decode_image(b, false, before),
            RowsKind::Update => self
                .decode_image(b, false, before)
                .and_then(|()| self.decode_image(a, false, after)),
            RowsKind::PartialUpdate => self
                .decode_image(b, false, before)
                .and_then(|()| self.decode_image(a, true, after)),
        }
        .and_then(|()| match self.pos == start {
            true => Err(Error::malformed(
                self.base + start as u64,
                "rows event whose rows take no bytes",
            )),
            false => Ok(start..self.pos),
        });
        self.done = r.is_err();
        Some(r)
    }

    /// Decodes the image at the current position into `out` and moves past it.
    fn decode_image(
        &mut self,
        present: &'d [u8],
        value_options: bool,
        out: &mut Vec<Option<Value<'d>>>,
    ) -> Result<()> {
        let data = &self.data[self.pos..];
        let offset = self.base + self.pos as u64;
        let table = self.table;
        let head = image_head(data, present, table, value_options, offset)?;
        // Every slot of `out` is written below when every column is in the image (and
        // `out` holds one per column already): the last row's values are dropped as they
        // are replaced. Otherwise the columns not in it are `None`.
        if out.len() != self.column_count || count_bits(present, out.len()) != out.len() {
            out.clear();
            out.resize(self.column_count, None);
        }
        // What `ImageValues` does, as one loop writing straight into `out`.
        let mut pos = head.values_at;
        for (i, null) in present_columns(present, head.nulls, out.len()) {
            let slot = &mut out[i];
            if null {
                *slot = Some(Value::Null);
                continue;
            }
            let partial = match (head.partial_bits, table.json_position(i)) {
                (Some(bits), Some(j)) => bit(bits, j),
                _ => false,
            };
            let rest = data.get(pos..).unwrap_or(&[]);
            let at = offset + pos as u64;
            let n = table.value_len(i, rest, at)?;
            let col = &table.columns[i];
            *slot = Some(value::decode_sized(
                col,
                table.is_unsigned(i),
                partial,
                rest,
                n,
                at,
            )?);
            pos += n;
        }
        self.pos += pos;
        Ok(())
    }
}

impl<'d> Iterator for Rows<'d, '_> {
    type Item = Result<Row<'d>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let r = self.next_row();
        self.done = r.is_err();
        Some(r)
    }
}

/// Parsed prefix of an image: where the null bitmap and values start.
struct ImageHead<'d> {
    partial_bits: Option<&'d [u8]>,
    nulls: &'d [u8],
    values_at: usize,
}

fn image_head<'d>(
    data: &'d [u8],
    present: &[u8],
    table: &TableInfo,
    value_options: bool,
    offset: u64,
) -> Result<ImageHead<'d>> {
    let mut c = Cursor::new(data, offset);
    let mut partial_bits = None;
    if value_options {
        let opts = c.packed()?;
        if opts & PARTIAL_JSON_UPDATES != 0 {
            partial_bits = Some(c.take(table.json_count.div_ceil(8), "partial JSON bitmap")?);
        }
    }
    let n = count_bits(present, table.columns.len());
    let nulls = c.take(n.div_ceil(8), "row null bitmap")?;
    Ok(ImageHead {
        partial_bits,
        nulls,
        values_at: c.position(),
    })
}

/// Length of the image at the start of `data`. Only length prefixes are read.
pub fn image_len(
    data: &[u8],
    present: &[u8],
    table: &TableInfo,
    value_options: bool,
    offset: u64,
) -> Result<usize> {
    let head = image_head(data, present, table, value_options, offset)?;
    let columns = table.columns.len();
    if count_bits(present, columns) == columns {
        if let Some(end) = full_image_len(data, head.values_at, head.nulls, &table.widths) {
            return Ok(end);
        }
        // A width the table map does not settle, or a value past the end: the walk
        // below finds which, and says so.
    }
    let mut pos = head.values_at;
    for (i, null) in present_columns(present, head.nulls, columns) {
        if null {
            continue;
        }
        let rest = data.get(pos..).unwrap_or(&[]);
        let n = table.value_len(i, rest, offset + pos as u64)?;
        if n > rest.len() {
            return Err(Error::malformed(
                offset + pos as u64,
                format!(
                    "value of column {} needs {n} bytes, {} left in the rows data",
                    i + 1,
                    rest.len()
                ),
            ));
        }
        pos += n;
    }
    Ok(pos)
}

/// End of the values of an image holding every column (the common case: FULL row
/// images), the values starting at `pos`: the null bitmap's bits are the columns'. `None`
/// when a column's width is not settled by the table map or a value does not fit in
/// `data` ([`image_len`]'s careful walk then tells which).
fn full_image_len(data: &[u8], mut pos: usize, nulls: &[u8], widths: &[Width]) -> Option<usize> {
    for (i, w) in widths.iter().enumerate() {
        if bit(nulls, i) {
            continue;
        }
        let len = match *w {
            Width::Fixed(n) => n,
            Width::Prefixed(k) => {
                let prefix = data.get(pos..pos.checked_add(k)?)?;
                k.checked_add(usize::try_from(crate::bytes::le_uint(prefix)).ok()?)?
            }
            Width::Unknown => return None,
        };
        pos = pos.checked_add(len)?;
    }
    (pos <= data.len()).then_some(pos)
}

impl<'d> RowImage<'d> {
    /// Where the image's null bitmap and values start.
    fn head(&self, table: &TableInfo) -> Result<ImageHead<'d>> {
        image_head(
            self.bytes,
            self.present,
            table,
            self.has_value_options,
            self.offset,
        )
    }

    /// The values of the present columns in column order: `(column index, value)`.
    pub fn values<'t>(&self, table: &'t TableInfo) -> Result<ImageValues<'d, 't>> {
        let head = self.head(table)?;
        Ok(ImageValues {
            bytes: self.bytes,
            pos: head.values_at,
            present: self.present,
            nulls: head.nulls,
            partial_bits: head.partial_bits,
            table,
            col: 0,
            k: 0,
            offset: self.offset,
        })
    }

    /// The `value_options` of a PARTIAL_UPDATE_ROWS after-image.
    pub fn value_options(&self) -> Result<Option<u64>> {
        if !self.has_value_options {
            return Ok(None);
        }
        Cursor::new(self.bytes, self.offset).packed().map(Some)
    }

    /// The raw bytes of each present column's value, in column order: `(column index,
    /// None for NULL or the value's bytes as logged)`. Nothing is decoded but lengths.
    pub fn raw_values(&self, table: &TableInfo) -> Result<Vec<RawValue<'d>>> {
        let head = self.head(table)?;
        let mut pos = head.values_at;
        let mut out = Vec::with_capacity(table.columns.len());
        for (i, null) in present_columns(self.present, head.nulls, table.columns.len()) {
            if null {
                out.push((i, None));
                continue;
            }
            let col = &table.columns[i];
            let rest = self.bytes.get(pos..).unwrap_or(&[]);
            let n = col.value_len_at(rest, self.offset + pos as u64)?;
            let v = rest.get(..n).ok_or_else(|| {
                Error::malformed(self.offset + pos as u64, "row image ends inside a value")
            })?;
            out.push((i, Some(v)));
            pos += n;
        }
        Ok(out)
    }

    /// Whether column `i` is present in this image.
    pub fn has_column(&self, i: usize) -> bool {
        bit(self.present, i)
    }
}

/// Iterator over the values of one image.
#[derive(Debug, Clone)]
pub struct ImageValues<'d, 't> {
    bytes: &'d [u8],
    pos: usize,
    present: &'d [u8],
    nulls: &'d [u8],
    partial_bits: Option<&'d [u8]>,
    table: &'t TableInfo,
    col: usize,
    k: usize,
    offset: u64,
}

impl<'d> Iterator for ImageValues<'d, '_> {
    type Item = Result<(usize, Value<'d>)>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.col < self.table.columns.len() {
            let i = self.col;
            self.col += 1;
            if !bit(self.present, i) {
                continue;
            }
            let null = bit(self.nulls, self.k);
            self.k += 1;
            if null {
                return Some(Ok((i, Value::Null)));
            }
            let col = &self.table.columns[i];
            let partial = match (self.partial_bits, self.table.json_position(i)) {
                (Some(bits), Some(j)) => bits.get(j / 8).is_some_and(|b| b & (1 << (j % 8)) != 0),
                _ => false,
            };
            let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
            let at = self.offset + self.pos as u64;
            let r = self.table.value_len(i, rest, at).and_then(|n| {
                let v = value::decode_sized(col, self.table.is_unsigned(i), partial, rest, n, at)?;
                self.pos += n;
                Ok((i, v))
            });
            if r.is_err() {
                self.col = usize::MAX;
            }
            return Some(r);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_counting() {
        assert_eq!(count_bits(&[0xff, 0x01], 9), 9);
        assert_eq!(count_bits(&[0xff, 0xff], 9), 9);
        assert_eq!(count_bits(&[0b101], 3), 2);
        assert!(bit(&[0, 2], 9));
        assert!(!bit(&[0, 2], 8));
    }
}
