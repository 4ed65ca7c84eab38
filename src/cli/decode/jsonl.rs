//! `decode --format jsonl`: a row change as one JSON object.
//!
//! Values: numbers for integers, floats, YEAR and BIT; strings for DECIMAL, dates and
//! times (TIMESTAMP in UTC as `YYYY-MM-DDTHH:MM:SS[.frac]Z`), ENUM and SET members, text
//! (converted from its column's character set to UTF-8), and JSON documents (their text);
//! `{"hex": "…"}` for bytes that are not text here (binary columns, geometry, unknown
//! character sets, bytes invalid in theirs). The only JSON objects among values are hex.
//!
//! Lines are written into bytes, not a `String`: what is appended is UTF-8 already (text
//! checked in its character set, or ASCII made here), and bytes take it without checking
//! it again.

use std::io::Write as _;

use binlog::bytes::TextOut;
use binlog::event::rows::RowsKind;
use binlog::row::value::padded_binary;
use binlog::row::{json, Value};
use binlog::sql::text::Charset;
use binlog::sql::{self, timestamp_text, ColumnInfo};

use super::render::{Place, Table, TxnCtx};

/// Appends `s` as a JSON string.
fn json_str(out: &mut Vec<u8>, s: &str) {
    json::push_str_bytes(out, s.as_bytes(), json::Controls::Numbered);
}

/// Appends what the lines of a rows event's row changes share, `{"file":…,"op":"…"`:
/// written once per event and copied into each line.
pub fn row_prefix(b: &mut Vec<u8>, t: &TxnCtx, place: Place, table: &Table, kind: RowsKind) {
    b.push_str("{\"file\":");
    json_str(b, t.file);
    b.push_str(",\"pos\":");
    b.push_str(itoa::Buffer::new().format(place.pos));
    if let Some(i) = place.payload_index {
        b.push_str(",\"payload_index\":");
        b.push_str(itoa::Buffer::new().format(i));
    }
    b.push_str(",\"timestamp\":");
    b.push_str(itoa::Buffer::new().format(t.time));
    b.push_str(",\"time\":");
    json_str(b, &t.time_iso);
    b.push_str(",\"gtid\":");
    if t.gtid.is_empty() {
        b.push_str("null");
    } else {
        json_str(b, &t.gtid);
    }
    b.push_str(",\"db\":");
    json_str(b, &table.ctx.db);
    b.push_str(",\"table\":");
    json_str(b, &table.ctx.table);
    b.push_str(",\"op\":");
    json_str(b, kind.sql_name());
}

/// Appends the JSON line of one row change (with its newline), after its event's
/// [`row_prefix`]; `scratch` is a buffer for the values' text.
pub fn row_change(
    b: &mut Vec<u8>,
    prefix: &[u8],
    table: &Table,
    before: Option<&[Option<Value>]>,
    after: Option<&[Option<Value>]>,
    scratch: &mut String,
) {
    b.extend_from_slice(prefix);
    for (key, image) in [(",\"before\":{", &before), (",\"after\":{", &after)] {
        let Some(image) = image else { continue };
        b.push_str(key);
        let mut first = true;
        for (i, v) in image.iter().enumerate() {
            let Some(v) = v else { continue };
            if !first {
                b.push(b',');
            }
            first = false;
            b.push_str(&table.json_names[i]);
            b.push(b':');
            json_value(v, &table.ctx.columns()[i], table.charsets[i], b, scratch);
        }
        b.push(b'}');
    }
    b.push_str("}\n");
}

/// Appends `{"hex":"…"}`.
fn hex(b: &[u8], out: &mut Vec<u8>) {
    out.push_str("{\"hex\":\"");
    binlog::bytes::push_hex_upper(out, b);
    out.push_str("\"}");
}

/// Appends bytes of character set `cs` as a JSON string, or as hex when they are not
/// valid text in it.
fn text(b: &[u8], cs: Charset, out: &mut Vec<u8>) {
    // Most text is ASCII: in a set where ASCII is itself, it is copied as it is when
    // there is nothing to escape (one look at the bytes), else escaped.
    if cs.ascii_is_itself() {
        match binlog::bytes::find_json_special(b) {
            None => {
                out.push(b'"');
                out.extend_from_slice(b);
                out.push(b'"');
                return;
            }
            Some(at) if b[at..].is_ascii() => {
                json::push_str_bytes(out, b, json::Controls::Numbered);
                return;
            }
            Some(_) => {}
        }
    }
    match cs.decode(b) {
        Some(s) => json_str(out, &s),
        None => hex(b, out),
    }
}

/// Appends `v` (plain ASCII text) in quotes.
fn quoted(v: impl std::fmt::Display, out: &mut Vec<u8>) {
    let _ = write!(out, "\"{v}\"");
}

/// Appends a value of a column of character set `cs` as JSON (`scratch`: a buffer for
/// the text of a JSON document).
pub fn json_value(
    v: &Value,
    col: &ColumnInfo,
    cs: Charset,
    out: &mut Vec<u8>,
    scratch: &mut String,
) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
        Value::Float(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(*f)),
        Value::Double(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(*f)),
        Value::Float(_) | Value::Double(_) => out.push_str("null"),
        Value::Decimal(d) => {
            // Digits, a point and a sign: nothing to escape.
            out.push(b'"');
            d.push_text(out);
            out.push(b'"');
        }
        Value::Year(y) => out.push_str(itoa::Buffer::new().format(*y)),
        Value::Bit(b) => out.push_str(itoa::Buffer::new().format(*b)),
        Value::Date(d) => quoted(d, out),
        Value::Time(t, fsp) => {
            out.push(b'"');
            binlog::row::temporal::WithFsp(*t, *fsp).push_to(out);
            out.push(b'"');
        }
        Value::DateTime(t, fsp) => {
            out.push(b'"');
            binlog::row::temporal::WithFsp(*t, *fsp).push_to(out);
            out.push(b'"');
        }
        Value::Timestamp { secs, micros, fsp } => {
            out.push(b'"');
            let start = out.len();
            timestamp_text(*secs, *micros, *fsp).push_to(out);
            if *secs != 0 || *micros != 0 {
                // `YYYY-MM-DD HH:MM:SS…` in UTC: ISO 8601's `T` and `Z`.
                if let Some(space) = out.get_mut(start + 10) {
                    *space = b'T';
                }
                out.push(b'Z');
            }
            out.push(b'"');
        }
        Value::Enum(_) | Value::Set(_) => match col.member_names(v) {
            Some(names) => text(&names, cs, out),
            None => {
                let n = match v {
                    Value::Enum(e) => u64::from(*e),
                    Value::Set(s) => *s,
                    _ => 0,
                };
                out.push_str(itoa::Buffer::new().format(n));
            }
        },
        // A JSON column's document as its text, so that a document is never taken for
        // the `{"hex": …}` of bytes.
        Value::Json(b) => match json::decode(b) {
            Ok(j) => {
                scratch.clear();
                json::to_text(&j, scratch);
                json_str(out, scratch);
            }
            Err(_) => hex(b, out),
        },
        Value::Bytes(b) => text(&padded_binary(&col.column, col.charset, b), cs, out),
        Value::Geometry(b) | Value::Vector(b) => hex(b, out),
        Value::JsonDiff(_) => {
            // The expression that applies the diff to the column, as SQL writes it.
            let mut s = String::new();
            sql::literal(v, col, &mut s);
            json_str(out, &s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binlog::row::column::{Column, ColumnType};
    use std::borrow::Cow;

    fn col(t: ColumnType, meta: &[u8], charset: Option<u16>) -> ColumnInfo {
        ColumnInfo {
            name: Some("c".into()),
            column: Column::new(t, meta, true),
            unsigned: false,
            charset,
            members: Some(vec![b"caf\xe9".to_vec(), b"b".to_vec()]),
        }
    }

    fn render(v: &Value, c: &ColumnInfo) -> String {
        let mut s = Vec::new();
        json_value(v, c, Charset::of(c.charset), &mut s, &mut String::new());
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn values_follow_their_charset_and_zone() {
        let latin1 = col(ColumnType::VARCHAR, &[40, 0], Some(8));
        assert_eq!(
            render(&Value::Bytes(Cow::Borrowed(b"\xc3\xa9")), &latin1),
            "\"Ã©\""
        );
        let utf16 = col(ColumnType::VARCHAR, &[40, 0], Some(54));
        assert_eq!(
            render(&Value::Bytes(Cow::Borrowed(b"\x00A\x00B")), &utf16),
            "\"AB\""
        );
        let utf8 = col(ColumnType::VARCHAR, &[40, 0], Some(45));
        assert_eq!(
            render(&Value::Bytes(Cow::Borrowed(b"\xff")), &utf8),
            "{\"hex\":\"FF\"}"
        );
        let bin = col(ColumnType::VARCHAR, &[40, 0], Some(63));
        assert_eq!(
            render(&Value::Bytes(Cow::Borrowed(b"ab")), &bin),
            "{\"hex\":\"6162\"}"
        );
        assert_eq!(render(&Value::Enum(1), &latin1), "\"café\"");
        assert_eq!(render(&Value::Set(3), &latin1), "\"café,b\"");
        let ts = col(ColumnType::TIMESTAMP2, &[3], None);
        let v = Value::Timestamp {
            secs: 1,
            micros: 500_000,
            fsp: 3,
        };
        assert_eq!(render(&v, &ts), "\"1970-01-01T00:00:01.500Z\"");
        let zero = Value::Timestamp {
            secs: 0,
            micros: 0,
            fsp: 0,
        };
        assert_eq!(render(&zero, &ts), "\"0000-00-00 00:00:00\"");
    }

    #[test]
    fn a_json_document_is_a_string_and_bytes_are_the_only_objects() {
        let mut bin = Vec::new();
        let doc: serde_json::Value = serde_json::from_str(r#"{"hex": "41"}"#).unwrap();
        json::encode(&json::from_serde(&doc), &mut bin).unwrap();
        let js = col(ColumnType::JSON, &[4], None);
        assert_eq!(
            render(&Value::Json(Cow::Owned(bin)), &js),
            r#""{\"hex\": \"41\"}""#
        );
    }

    #[test]
    fn text_takes_the_ascii_path_only_where_it_writes_the_same() {
        // Collations: utf8mb4, utf8mb3, latin1, ascii, ucs2, binary.
        let sets = [45, 33, 8, 11, 35, 63].map(|c| Charset::of(Some(c)));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 48) as usize;
            // Mostly letters; sometimes quotes, controls, DEL, UTF-8 or any byte.
            let b: Vec<u8> = (0..len)
                .map(|_| match next() % 24 {
                    0 => (next() % 256) as u8,
                    1 => [b'"', b'\\', 0x01, 0x1f, 0x7f, 0xc3, 0xa9, 0x80][(next() % 8) as usize],
                    _ => b'a' + (next() % 26) as u8,
                })
                .collect();
            for cs in sets {
                let mut fast = Vec::new();
                text(&b, cs, &mut fast);
                // The general path, into a `String` as every other JSON writer does.
                let mut general = String::new();
                match cs.decode(&b) {
                    Some(s) => crate::cli::output::json_str(&mut general, &s),
                    None => {
                        general.push_str("{\"hex\":\"");
                        binlog::bytes::push_hex_upper(&mut general, &b);
                        general.push_str("\"}");
                    }
                }
                assert_eq!(String::from_utf8(fast).unwrap(), general, "{b:?} in {cs:?}");
            }
        }
    }
}
