//! Helpers shared by the fuzz targets and by `make_seeds`.
//!
//! Most of this file is the input format of the `row_decoder` target: a few header bytes
//! that describe a table the way a TABLE_MAP does, then the rows data of one rows event.
//! [`RowCase::parse`] reads it (every input means *some* table, so the fuzzer never wastes
//! time on inputs that are rejected before the row decoder runs) and [`RowCase::encode`]
//! writes it, so that `make_seeds` can turn the table maps and rows events of real binlogs
//! into starting points.
//!
//! Layout (missing bytes read as zero):
//!
//! ```text
//! byte 0       mode: bits 0-1 kind (0 write, 1 update, 2 partial update, 3 delete)
//!                    bit 2     v2 layout (partial updates always are)
//!                    bit 3     rows data is a MariaDB compressed block (not for partial)
//!                    bit 4     explicit column bitmaps follow (else every column present)
//!                    bit 5     optional metadata follows
//! byte 1       number of columns, n (0..=63: the low 6 bits)
//! per column   one byte choosing the type from COLUMN_TYPES (modulo its length),
//!              then as many metadata bytes as that type has in a TABLE_MAP
//! ceil(n/8)    nullability bitmap of the TABLE_MAP
//! if bit 5     u16 LE length, then that many bytes of optional metadata (TLV fields)
//! if bit 4     ceil(n/8) bytes of before-image bitmap, and for update kinds as many
//!              again for the after image
//! the rest     the rows data
//! ```

use binlog::bytes::put_packed;
use binlog::event::payload::payload_events;
use binlog::event::rows::{rows_event_type, RowsEvent, RowsKind, RowsVersion};
use binlog::event::TableMap;
use binlog::row::column::ColumnType;
use binlog::row::count_bits;
use binlog::{Binlog, EventData, EventType, Events};
use std::borrow::Cow;

/// The binlog magic.
pub const MAGIC: &[u8] = b"\xfebin";

/// `data` as a binlog: unchanged when it starts with the magic, otherwise with the magic in
/// front (so the fuzzer does not have to find those four bytes by itself).
pub fn with_magic(data: &[u8]) -> Cow<'_, [u8]> {
    if data.starts_with(MAGIC) {
        Cow::Borrowed(data)
    } else {
        let mut v = Vec::with_capacity(data.len() + MAGIC.len());
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(data);
        Cow::Owned(v)
    }
}

/// Known bug 1 (README.md, "Known bugs"): when a row's images hold no column at all, they
/// take no bytes, and `row::Rows` yields the same empty row forever. This says whether
/// `data` (a whole binlog) has a rows event that could do that, at top level or inside a
/// transaction payload, so that a run with the `skip-known-bugs` feature can leave it out.
pub fn has_rows_event_without_columns(data: &[u8]) -> bool {
    match Binlog::parse(data) {
        Ok(log) => rows_event_without_columns(log.events().verify_checksums(false), true),
        Err(_) => false,
    }
}

fn rows_event_without_columns(mut events: Events, top_level: bool) -> bool {
    while let Some(Ok(ev)) = events.next() {
        let format = events.shared_format();
        match ev.decode(&format) {
            Ok(EventData::Rows(re)) => {
                let n = usize::try_from(re.column_count).unwrap_or(usize::MAX);
                let empty = |bitmap: &[u8]| count_bits(bitmap, n) == 0;
                // A row advances if any of its images has a column (or, for the after
                // image of a partial update, its value options byte).
                let stuck = match re.kind {
                    RowsKind::Write => empty(re.after_columns()),
                    RowsKind::Delete => empty(re.columns),
                    RowsKind::Update => empty(re.columns) && empty(re.after_columns()),
                    RowsKind::PartialUpdate => false,
                };
                if stuck && !re.data.is_empty() {
                    return true;
                }
            }
            Ok(EventData::TransactionPayload(p)) if top_level => {
                let inner = p.decompress().unwrap_or_default();
                if rows_event_without_columns(payload_events(&inner, &format), false) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Column type codes a TABLE_MAP can list (every type whose metadata length is known).
/// DECIMAL (the pre-5.0 one) is there on purpose: it has metadata but no row format, so it
/// exercises the "unsupported column" paths.
pub const COLUMN_TYPES: &[ColumnType] = &[
    ColumnType::DECIMAL,
    ColumnType::TINY,
    ColumnType::SHORT,
    ColumnType::LONG,
    ColumnType::FLOAT,
    ColumnType::DOUBLE,
    ColumnType::NULL,
    ColumnType::TIMESTAMP,
    ColumnType::LONGLONG,
    ColumnType::INT24,
    ColumnType::DATE,
    ColumnType::TIME,
    ColumnType::DATETIME,
    ColumnType::YEAR,
    ColumnType::NEWDATE,
    ColumnType::VARCHAR,
    ColumnType::BIT,
    ColumnType::TIMESTAMP2,
    ColumnType::DATETIME2,
    ColumnType::TIME2,
    ColumnType::VECTOR,
    ColumnType::JSON,
    ColumnType::NEWDECIMAL,
    ColumnType::ENUM,
    ColumnType::SET,
    ColumnType::TINY_BLOB,
    ColumnType::MEDIUM_BLOB,
    ColumnType::LONG_BLOB,
    ColumnType::BLOB,
    ColumnType::VAR_STRING,
    ColumnType::STRING,
    ColumnType::GEOMETRY,
];

/// Most columns a case describes (6 bits of the column-count byte).
pub const MAX_COLUMNS: usize = 63;

const MODE_KIND: u8 = 0b11;
const MODE_V2: u8 = 1 << 2;
const MODE_COMPRESSED: u8 = 1 << 3;
const MODE_BITMAPS: u8 = 1 << 4;
const MODE_OPTIONAL: u8 = 1 << 5;

/// Reads bytes front to back; past the end it yields zeros, so any input is a valid header.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// `n` bytes, zero-padded when the input ends first.
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }

    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }
}

/// One `row_decoder` input, decoded: the pieces of a TABLE_MAP and of a rows event body.
#[derive(Debug, Clone)]
pub struct RowCase<'a> {
    /// Insert, update, partial update or delete.
    pub kind: RowsKind,
    /// v1 or v2 layout.
    pub version: RowsVersion,
    /// Whether `rows_data` is a MariaDB compressed block.
    pub compressed: bool,
    /// TABLE_MAP column type codes.
    pub types: Vec<u8>,
    /// TABLE_MAP metadata block.
    pub metadata: Vec<u8>,
    /// TABLE_MAP nullability bitmap.
    pub null_bits: Vec<u8>,
    /// TABLE_MAP optional metadata (empty when absent).
    pub optional: Vec<u8>,
    /// Columns present in the (before) images.
    pub columns: Vec<u8>,
    /// Columns present in the after images of updates.
    pub columns_after: Option<Vec<u8>>,
    /// The rows data, as stored in the event.
    pub rows_data: &'a [u8],
}

impl<'a> RowCase<'a> {
    /// Reads a case from fuzzer input. Every input gives one.
    pub fn parse(data: &'a [u8]) -> RowCase<'a> {
        let mut r = Reader { data, pos: 0 };
        let mode = r.u8();
        let kind = match mode & MODE_KIND {
            0 => RowsKind::Write,
            1 => RowsKind::Update,
            2 => RowsKind::PartialUpdate,
            _ => RowsKind::Delete,
        };
        let partial = kind == RowsKind::PartialUpdate;
        // PARTIAL_UPDATE_ROWS exists only as v2, and never compressed.
        let version = if mode & MODE_V2 != 0 || partial {
            RowsVersion::V2
        } else {
            RowsVersion::V1
        };
        let compressed = mode & MODE_COMPRESSED != 0 && !partial;
        let n = usize::from(r.u8()) & MAX_COLUMNS;
        let mut types = Vec::with_capacity(n);
        let mut metadata = Vec::new();
        for _ in 0..n {
            let t = COLUMN_TYPES[usize::from(r.u8()) % COLUMN_TYPES.len()];
            types.push(t.0);
            metadata.extend(r.bytes(t.metadata_len().unwrap_or(0)));
        }
        let bitmap_len = n.div_ceil(8);
        let null_bits = r.bytes(bitmap_len);
        let optional = if mode & MODE_OPTIONAL != 0 {
            let len = usize::from(u16::from_le_bytes([r.u8(), r.u8()]));
            r.bytes(len.min(r.rest().len()))
        } else {
            Vec::new()
        };
        let has_after = matches!(kind, RowsKind::Update | RowsKind::PartialUpdate);
        let (columns, columns_after) = if mode & MODE_BITMAPS != 0 {
            let before = r.bytes(bitmap_len);
            let after = has_after.then(|| r.bytes(bitmap_len));
            (before, after)
        } else {
            let all = vec![0xff; bitmap_len];
            (all.clone(), has_after.then_some(all))
        };
        RowCase {
            kind,
            version,
            compressed,
            types,
            metadata,
            null_bits,
            optional,
            columns,
            columns_after,
            rows_data: r.rest(),
        }
    }

    /// Writes the case back in the input format. Returns `None` for what the format cannot
    /// express: more than [`MAX_COLUMNS`] columns, a type outside [`COLUMN_TYPES`], or
    /// optional metadata over 64 KiB.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let n = self.types.len();
        if n > MAX_COLUMNS || self.optional.len() > usize::from(u16::MAX) {
            return None;
        }
        let mut mode = match self.kind {
            RowsKind::Write => 0,
            RowsKind::Update => 1,
            RowsKind::PartialUpdate => 2,
            RowsKind::Delete => 3,
        };
        if self.version == RowsVersion::V2 {
            mode |= MODE_V2;
        }
        if self.compressed {
            mode |= MODE_COMPRESSED;
        }
        mode |= MODE_BITMAPS;
        if !self.optional.is_empty() {
            mode |= MODE_OPTIONAL;
        }
        let mut out = vec![mode, n as u8];
        let mut meta = self.metadata.as_slice();
        for &t in &self.types {
            let index = COLUMN_TYPES.iter().position(|c| c.0 == t)?;
            let m = ColumnType(t).metadata_len()?;
            out.push(index as u8);
            out.extend_from_slice(meta.get(..m)?);
            meta = &meta[m..];
        }
        let bitmap_len = n.div_ceil(8);
        let fit = |b: &[u8]| {
            let mut v = b.to_vec();
            v.resize(bitmap_len, 0);
            v
        };
        out.extend(fit(&self.null_bits));
        if !self.optional.is_empty() {
            out.extend_from_slice(&(self.optional.len() as u16).to_le_bytes());
            out.extend_from_slice(&self.optional);
        }
        out.extend(fit(&self.columns));
        if let Some(after) = &self.columns_after {
            out.extend(fit(after));
        }
        out.extend_from_slice(self.rows_data);
        Some(out)
    }

    /// The case as built from a real TABLE_MAP and rows event (for seeds).
    pub fn from_events(tm: &TableMap<'_>, ev: &RowsEvent<'a>, rows_data: &'a [u8]) -> RowCase<'a> {
        RowCase {
            kind: ev.kind,
            version: if ev.version == RowsVersion::V2 {
                RowsVersion::V2
            } else {
                RowsVersion::V1
            },
            compressed: ev.compressed,
            types: tm.column_types.to_vec(),
            metadata: tm.metadata.to_vec(),
            null_bits: tm.null_bits.to_vec(),
            optional: tm.optional.to_vec(),
            columns: ev.columns.to_vec(),
            columns_after: ev.columns_after.map(<[u8]>::to_vec),
            rows_data,
        }
    }

    /// The event type of the rows event this case describes.
    pub fn event_type(&self) -> EventType {
        rows_event_type(self.kind, self.version, self.compressed)
            .expect("parse only yields kinds, versions and compression that exist")
    }

    /// The rows event body: table id 1, `STMT_END_F`, empty v2 extra data, the column
    /// count, the bitmaps, then the rows data.
    pub fn event_body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16 + self.rows_data.len());
        b.extend_from_slice(&1u64.to_le_bytes()[..6]);
        b.extend_from_slice(&1u16.to_le_bytes());
        if self.version == RowsVersion::V2 {
            b.extend_from_slice(&2u16.to_le_bytes());
        }
        put_packed(&mut b, self.types.len() as u64);
        b.extend_from_slice(&self.columns);
        if let Some(after) = &self.columns_after {
            b.extend_from_slice(after);
        }
        b.extend_from_slice(self.rows_data);
        b
    }

    /// The TABLE_MAP for this case, table id 1.
    pub fn table_map(&self) -> TableMap<'_> {
        TableMap::new(
            1,
            b"fuzz",
            b"t",
            &self.types,
            &self.metadata,
            &self.null_bits,
            &self.optional,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_parse_gives_the_same_case() {
        let data = [7u8, 8, 9];
        let case = RowCase {
            kind: RowsKind::Update,
            version: RowsVersion::V1,
            compressed: false,
            types: vec![
                ColumnType::LONG.0,
                ColumnType::VARCHAR.0,
                ColumnType::JSON.0,
            ],
            metadata: vec![0x2c, 0x01, 4],
            null_bits: vec![0b110],
            optional: vec![1, 1, 0x80],
            columns: vec![0b111],
            columns_after: Some(vec![0b101]),
            rows_data: &data,
        };
        let bytes = case.encode().unwrap();
        let back = RowCase::parse(&bytes);
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(back.types, case.types);
        assert_eq!(back.metadata, case.metadata);
        assert_eq!(back.optional, case.optional);
        assert_eq!(back.columns_after, case.columns_after);
        assert_eq!(back.rows_data, &data);
    }

    #[test]
    fn empty_input_is_a_case() {
        let c = RowCase::parse(&[]);
        assert_eq!(c.kind, RowsKind::Write);
        assert!(c.types.is_empty());
        assert!(c.rows_data.is_empty());
    }
}
