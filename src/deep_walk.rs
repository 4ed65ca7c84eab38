//! A deep walk: every event decoded, every row of every rows event found, every value
//! decoded (JSON rendered, diffs parsed). `verify --rows` uses it; so do the fuzz targets,
//! because it reaches every parser the library has.

use std::collections::HashMap;

use crate::error::Error;
use crate::event::payload::payload_events;
use crate::event::{Event, EventData};
use crate::reader::{Binlog, Events};
use crate::row::{json, json_diff};
use crate::row::{Rows, TableInfo, Value};

/// What a deep walk found.
#[derive(Debug, Default)]
pub struct DeepReport {
    /// Events walked (top level and inside payloads).
    pub events: u64,
    /// Rows found.
    pub rows: u64,
    /// Values decoded.
    pub values: u64,
    /// Problems, in order (at most [`MAX_PROBLEMS`]).
    pub problems: Vec<Error>,
    /// The walk stopped at a structural error (this one is also in `problems`).
    pub stopped: bool,
}

/// Most problems a report keeps.
pub const MAX_PROBLEMS: usize = 1000;

impl DeepReport {
    fn problem(&mut self, e: Error) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(e);
        }
    }
}

/// Walks `data` (a whole binlog) as deeply as the library can.
pub fn deep_check(data: &[u8]) -> DeepReport {
    let mut r = DeepReport::default();
    let log = match Binlog::parse(data) {
        Ok(l) => l,
        Err(e) => {
            r.problem(e);
            r.stopped = true;
            return r;
        }
    };
    let mut tables: HashMap<u64, TableInfo> = HashMap::new();
    walk(
        log.events().verify_checksums(false),
        &mut tables,
        &mut r,
        None,
    );
    r
}

fn walk(
    mut events: Events,
    tables: &mut HashMap<u64, TableInfo>,
    r: &mut DeepReport,
    payload: Option<u64>,
) {
    while let Some(ev) = events.next() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                r.problem(wrap(e, payload));
                r.stopped = payload.is_none();
                return;
            }
        };
        r.events += 1;
        if let Err(e) = ev.verify_checksum() {
            r.problem(e);
        }
        if let Err(e) = event(&ev, &events, tables, r, payload) {
            r.problem(wrap(e, payload));
        }
    }
}

fn wrap(e: Error, payload: Option<u64>) -> Error {
    match payload {
        Some(p) => e.in_payload(p),
        None => e,
    }
}

fn event(
    ev: &Event,
    events: &Events,
    tables: &mut HashMap<u64, TableInfo>,
    r: &mut DeepReport,
    payload: Option<u64>,
) -> crate::Result<()> {
    let format = events.format();
    match ev.decode(format)? {
        EventData::TableMap(tm) => {
            // A table map whose metadata we cannot read leaves its id unmapped: the rows
            // events that use it then report that.
            let info = TableInfo::from_table_map(&tm);
            match info {
                Ok(info) => {
                    tables.insert(tm.table_id, info);
                }
                Err(e) => {
                    tables.remove(&tm.table_id);
                    return Err(e);
                }
            }
        }
        EventData::Rows(re) => {
            let table = tables.get(&re.table_id).ok_or_else(|| {
                Error::malformed(
                    ev.offset(),
                    format!("rows event for unmapped table id {}", re.table_id),
                )
            })?;
            let data = re.rows_data()?;
            for row in Rows::new(&re, &data, table)? {
                let row = row?;
                r.rows += 1;
                for image in [row.before, row.after].into_iter().flatten() {
                    for v in image.values(table)? {
                        let (_, v) = v?;
                        r.values += 1;
                        value(&v, image.offset)?;
                    }
                }
            }
        }
        EventData::TransactionPayload(p) if payload.is_none() => {
            let inner = p.decompress()?;
            walk(payload_events(&inner, format), tables, r, Some(ev.offset()));
        }
        EventData::Query(q) => {
            q.text()?;
            for v in q.status_vars() {
                v?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn value(v: &Value, offset: u64) -> crate::Result<()> {
    match v {
        Value::Json(b) => {
            let j = json::decode(b).map_err(|e| e.shifted(offset))?;
            let mut s = String::new();
            json::to_text(&j, &mut s);
        }
        Value::JsonDiff(b) => {
            for d in json_diff::parse_diffs(b).map_err(|e| e.shifted(offset))? {
                let mut s = String::new();
                json_diff::diff_to_text(&d, "@", &mut s);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Column type codes a value can be decoded as (and a few that cannot), for
/// [`check_value_codecs`].
const TYPE_CODES: [u8; 33] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 242, 245, 246, 247,
    248, 249, 250, 251, 252, 253, 254, 255,
];

/// Runs the public value decoders on arbitrary bytes, and the encoders on what they
/// decode: whatever an encoder accepts must decode back to the same value. Returns a
/// description of the first value that did not; a panic is a bug of its own.
///
/// Layout of `data` (missing bytes read as zero): a type selector (below 128: an index
/// into the known column types; from 128: the code itself), two metadata bytes, a flags
/// byte (bit 0 unsigned, bit 1 a JSON diff list), then the value bytes. Besides the column
/// decoder, the value bytes also go through every temporal decoder (with the first
/// metadata byte as the fractional digits), the DECIMAL decoder (with the metadata bytes
/// as precision and scale), and the binary JSON and JSON diff decoders and renderers.
pub fn check_value_codecs(data: &[u8]) -> std::result::Result<(), String> {
    use crate::row::column::{Column, ColumnType};
    use crate::row::value::decode as decode_value;
    use crate::row::{decimal, encode::encode_value, temporal};
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let (selector, m0, m1, flags) = (at(0), at(1), at(2), at(3));
    let rest = data.get(4..).unwrap_or(&[]);
    let code = if selector < 128 {
        TYPE_CODES[usize::from(selector) % TYPE_CODES.len()]
    } else {
        selector
    };
    let t = ColumnType(code);
    let meta = [m0, m1];
    let col = Column::new(t, &meta[..t.metadata_len().unwrap_or(2)], true);
    let (unsigned, partial) = (flags & 1 != 0, flags & 2 != 0);
    let mismatch = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        Err(format!("{what}: {a:?} encoded and decoded as {b:?}"))
    };

    // The column decoder, its length function, its renderings, and its encoder.
    let len = col.value_len(rest);
    if let Ok((v, n)) = decode_value(&col, unsigned, partial, rest, 0) {
        if len != Some(n) {
            return Err(format!("{t:?}: value_len {len:?}, decode took {n}"));
        }
        let _ = format!("{v:?}");
        let _ = value(&v, 0);
        let mut out = Vec::new();
        if encode_value(&col, unsigned, &v, &mut out).is_ok() {
            match decode_value(&col, unsigned, partial, &out, 0) {
                Ok((back, m)) if m == out.len() && same_value(&back, &v) => {}
                other => return mismatch("column value", &v, &other),
            }
        }
    }

    // The temporal decoders and encoders.
    let fsp = m0;
    temporal_round_trip("DATE", rest, temporal::decode_date, temporal::encode_date)?;
    temporal_round_trip(
        "TIME",
        rest,
        temporal::decode_time_old,
        temporal::encode_time_old,
    )?;
    temporal_round_trip(
        "DATETIME",
        rest,
        temporal::decode_datetime_old,
        temporal::encode_datetime_old,
    )?;
    temporal_round_trip(
        "TIME2",
        rest,
        |b| temporal::decode_time2(b, fsp),
        |t, out| {
            let _ = temporal::WithFsp(t, fsp).to_string();
            temporal::encode_time2(t, fsp, out)
        },
    )?;
    temporal_round_trip(
        "DATETIME2",
        rest,
        |b| temporal::decode_datetime2(b, fsp),
        |t, out| {
            let _ = temporal::WithFsp(t, fsp).to_string();
            temporal::encode_datetime2(t, fsp, out)
        },
    )?;
    temporal_round_trip(
        "TIMESTAMP2",
        rest,
        |b| temporal::decode_timestamp2(b, fsp),
        |(secs, micros), out| temporal::encode_timestamp2(secs, micros, fsp, out),
    )?;

    // DECIMAL, on all the bytes and on exactly as many as the type takes.
    let (precision, scale) = (m0, m1);
    let exact = rest.get(..decimal::bin_size(precision, scale));
    for bytes in [Some(rest), exact].into_iter().flatten() {
        let mut text = String::new();
        if decimal::decode(bytes, precision, scale, &mut text).is_ok() {
            let mut out = Vec::new();
            let mut back = String::new();
            // A zero comes back without its sign.
            let zero = text.bytes().all(|c| matches!(c, b'-' | b'0' | b'.'));
            let want = if zero {
                text.trim_start_matches('-')
            } else {
                &text
            };
            if decimal::encode(&text, precision, scale, &mut out).is_ok()
                && (decimal::decode(&out, precision, scale, &mut back).is_err() || back != want)
            {
                return mismatch("DECIMAL", &text, &back);
            }
        }
    }

    // Binary JSON and JSON diff lists.
    if let Ok(j) = json::decode(rest) {
        let mut text = String::new();
        json::to_text(&j, &mut text);
        json::to_text_unquoted(&j, &mut String::new());
        let mut out = Vec::new();
        if json::encode(&j, &mut out).is_ok() {
            // Compared as Debug text: a double may be a NaN.
            match json::decode(&out) {
                Ok(back) if format!("{back:?}") == format!("{j:?}") => {}
                other => return mismatch("JSON", &j, &other),
            }
        }
    }
    if let Ok(diffs) = json_diff::parse_diffs(rest) {
        json_diff::diffs_to_text(&diffs, "@1", &mut String::new());
    }
    Ok(())
}

/// Decodes `bytes`; when that works and the encoder takes the value, its encoding must
/// decode to the same value.
fn temporal_round_trip<T: Copy + PartialEq + std::fmt::Debug>(
    what: &str,
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> crate::Result<T>,
    encode: impl Fn(T, &mut Vec<u8>) -> crate::Result<()>,
) -> std::result::Result<(), String> {
    let Ok(v) = decode(bytes) else { return Ok(()) };
    let mut out = Vec::new();
    if encode(v, &mut out).is_err() {
        return Ok(());
    }
    match decode(&out) {
        Ok(back) if back == v => Ok(()),
        other => Err(format!("{what}: {v:?} encoded and decoded as {other:?}")),
    }
}

/// Whether two decoded values are the same (floats by their bits: NaN is NaN).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}
