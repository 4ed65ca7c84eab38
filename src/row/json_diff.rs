//! The JSON diffs that replace whole JSON values in the after-images of
//! PARTIAL_UPDATE_ROWS events (type 39), written when `binlog_row_value_options =
//! PARTIAL_JSON`.
//!
//! # Where the diffs live: the PARTIAL_UPDATE_ROWS row layout
//!
//! The event body is that of an UPDATE_ROWS v2 event: table id (6 bytes), flags (2),
//! extra-data length (2, counting itself) and extra data, column count (packed integer),
//! the before-image column bitmap, the after-image column bitmap, then rows. Each row is
//! a before image followed by an after image.
//!
//! The before image is an ordinary row image: a null bitmap with one bit per column set
//! in the before-image bitmap, then the non-null values. JSON columns hold full binary
//! JSON values there.
//!
//! The after image starts with two extra fields, before its null bitmap:
//!
//! 1. `value_options`: a packed (length-encoded) integer. Bit 0 (`PARTIAL_JSON_UPDATES`,
//!    value 1) is the only one defined.
//! 2. Only if bit 0 is set: the partial bitmap, `ceil(J / 8)` bytes where `J` is the
//!    number of JSON columns in the whole table (every column whose table-map type is
//!    245, whether or not it is in the after-image bitmap). Bit `k` (least significant
//!    bit first within each byte, as in all row bitmaps) belongs to the `k`-th JSON
//!    column in column order; when set, that column's value in this after image is a
//!    diff list instead of a full document.
//!
//! Then come the usual null bitmap (one bit per column set in the after-image bitmap)
//! and the non-null values. A JSON column's value is, as always, a little-endian length
//! of `meta` bytes (the table map's metadata for the column, 4 in practice) followed by
//! that many bytes; for a column whose partial bit is set those bytes are the diff list
//! described below, otherwise a binary JSON document ([`crate::row::json`]). A partial
//! column may still be NULL, in which case the null bitmap says so and no bytes follow.
//! Before images, and after images of the other row events, have neither field.
//!
//! # The diff list
//!
//! [`parse_diffs`] and [`encode_diffs`] deal with the bytes *after* the column's length
//! prefix (exactly `length` bytes). The list is a sequence of diffs, possibly empty (a
//! no-op), each:
//!
//! ```text
//! operation  1 byte: 0 replace, 1 insert, 2 remove
//! path       packed integer length, then the JSON path text, e.g. `$.a[1]`
//! value      (not for remove) packed integer length, then a binary JSON document
//! ```
//!
//! Packed integers are MySQL's length-encoded integers ([`crate::bytes::put_packed`]).
//!
//! # Printing like mysqlbinlog -v
//!
//! mysqlbinlog prints a JSON column as `###   @N=` followed, for a full document, by
//! [`sql_quote`] of [`json::to_text_unquoted`] (`'{"a": 1}'`, `'abc'` for a top-level
//! string), and for a diff list by [`diffs_to_text`] with the column name `@N`
//! (`JSON_REPLACE(@2, '$.age', 26)`).

use crate::bytes::{put_packed_bytes, Cursor};
use crate::error::{Error, Result};
use crate::row::json::{self, field_type, Json};

/// What a diff does at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiffOp {
    /// Replace the value at the path (code 0): `JSON_REPLACE(col, path, value)`.
    Replace,
    /// Insert a value at the path (code 1): `JSON_ARRAY_INSERT` when the path ends in an
    /// array cell, `JSON_INSERT` otherwise.
    Insert,
    /// Remove the value at the path (code 2): `JSON_REMOVE(col, path)`.
    Remove,
}

impl DiffOp {
    /// The operation's byte in the binlog.
    pub fn code(self) -> u8 {
        match self {
            DiffOp::Replace => 0,
            DiffOp::Insert => 1,
            DiffOp::Remove => 2,
        }
    }

    /// The operation with binlog byte `code`, if there is one.
    pub fn from_code(code: u8) -> Option<DiffOp> {
        match code {
            0 => Some(DiffOp::Replace),
            1 => Some(DiffOp::Insert),
            2 => Some(DiffOp::Remove),
            _ => None,
        }
    }
}

/// One change to a JSON document, borrowing from the event bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDiff<'a> {
    /// The operation.
    pub op: DiffOp,
    /// The JSON path, as text (for example `$.a[1]`); not validated.
    pub path: &'a [u8],
    /// The new value as a binary JSON document ([`crate::row::json::decode`] reads it);
    /// `None` for [`DiffOp::Remove`].
    pub value: Option<&'a [u8]>,
}

/// Parses one column's diff list: the bytes after the column's length prefix.
///
/// Every value is checked with [`json::decode`]. Error offsets are relative to the start
/// of `bytes`.
pub fn parse_diffs(bytes: &[u8]) -> Result<Vec<JsonDiff<'_>>> {
    let mut c = Cursor::new(bytes, 0);
    let mut diffs = Vec::new();
    while !c.is_empty() {
        let at = c.offset();
        let code = c.u8()?;
        let op = DiffOp::from_code(code)
            .ok_or_else(|| Error::malformed(at, format!("JSON diff operation {code}")))?;
        let path = c.packed_bytes("JSON diff path")?;
        let value = if op == DiffOp::Remove {
            None
        } else {
            let v = c.packed_bytes("JSON diff value")?;
            let value_at = c.offset() - v.len() as u64;
            json::decode(v).map_err(|e| e.shifted(value_at))?;
            Some(v)
        };
        diffs.push(JsonDiff { op, path, value });
    }
    Ok(diffs)
}

/// Appends the binary form of a diff list (without the column's length prefix).
///
/// A non-remove diff without a value is written with an empty value, which MySQL reads as
/// `null`; the value of a remove diff is not written.
pub fn encode_diffs(diffs: &[JsonDiff], out: &mut Vec<u8>) {
    for d in diffs {
        out.push(d.op.code());
        put_packed_bytes(out, d.path);
        if d.op != DiffOp::Remove {
            put_packed_bytes(out, d.value.unwrap_or_default());
        }
    }
}

/// What mysqlbinlog prints between the lines of a multi-diff column.
const LINE_SEPARATOR: &str = "\n###      ";

/// Appends one diff applied to `column`, as mysqlbinlog -v shows it, e.g.
/// `JSON_REPLACE(@3, '$.a', 5)` or `JSON_REMOVE(@3, '$[0]')`.
pub fn diff_to_text(d: &JsonDiff, column: &str, out: &mut String) {
    diffs_to_text(std::slice::from_ref(d), column, out);
}

/// Appends a whole diff list applied to `column` exactly as mysqlbinlog -v prints a
/// partially updated JSON column (after its `###   @N=`).
///
/// Consecutive diffs with the same function share one call, and the calls nest in list
/// order, one per line:
///
/// ```text
/// JSON_INSERT(
/// ###      JSON_REPLACE(@2, '$.a', 1,
/// ###      '$.b', 'x'),
/// ###      '$.c', CAST('[1, 2]' AS JSON))
/// ```
///
/// Paths and string-like values are quoted with [`sql_quote`]; numbers, booleans, null
/// and decimals are printed bare; objects and arrays as `CAST('<json>' AS JSON)`. An
/// empty list prints just the column. A value that does not decode prints as
/// `Invalid JSON`.
pub fn diffs_to_text(diffs: &[JsonDiff], column: &str, out: &mut String) {
    let names: Vec<&str> = diffs.iter().map(function_name).collect();
    let mut printed = false;
    for (i, name) in names.iter().enumerate().rev() {
        if i == 0 || names.get(i - 1) != Some(name) {
            if printed {
                out.push_str(LINE_SEPARATOR);
            }
            out.push_str(name);
            out.push('(');
            printed = true;
        }
    }
    out.push_str(column);
    if diffs.is_empty() {
        return;
    }
    out.push_str(", ");
    for (i, d) in diffs.iter().enumerate() {
        sql_quote(d.path, out);
        if d.op != DiffOp::Remove {
            out.push_str(", ");
            write_value(d.value.unwrap_or_default(), out);
        }
        let last = i + 1 == diffs.len();
        if last || names.get(i + 1) != names.get(i) {
            out.push(')');
        }
        if !last {
            out.push(',');
            out.push_str(LINE_SEPARATOR);
        }
    }
}

/// The SQL function mysqlbinlog names a diff after.
fn function_name(d: &JsonDiff) -> &'static str {
    match d.op {
        DiffOp::Replace => "JSON_REPLACE",
        DiffOp::Insert if d.path.last() == Some(&b']') => "JSON_ARRAY_INSERT",
        DiffOp::Insert => "JSON_INSERT",
        DiffOp::Remove => "JSON_REMOVE",
    }
}

/// Appends a diff's value the way mysqlbinlog prints it.
fn write_value(bytes: &[u8], out: &mut String) {
    let Ok(value) = json::decode(bytes) else {
        out.push_str("Invalid JSON");
        return;
    };
    match &value {
        Json::Null
        | Json::Bool(_)
        | Json::Int16(_)
        | Json::UInt16(_)
        | Json::Int32(_)
        | Json::UInt32(_)
        | Json::Int64(_)
        | Json::UInt64(_)
        | Json::Double(_)
        | Json::Opaque {
            field_type: field_type::NEWDECIMAL,
            ..
        } => json::to_text(&value, out),
        Json::String(_) | Json::Opaque { .. } => {
            let mut text = String::new();
            json::to_text_unquoted(&value, &mut text);
            sql_quote(text.as_bytes(), out);
        }
        Json::Object(_) | Json::Array(_) => {
            let mut text = String::new();
            json::to_text(&value, &mut text);
            out.push_str("CAST(");
            sql_quote(text.as_bytes(), out);
            out.push_str(" AS JSON)");
        }
    }
}

/// Appends `bytes` between single quotes the way mysqlbinlog quotes strings: `\b \f \n
/// \r \t \\ \'` escaped, other bytes below 0x20 as `\xNN`, the rest copied (bytes that
/// are not UTF-8 become U+FFFD).
pub fn sql_quote(bytes: &[u8], out: &mut String) {
    out.push('\'');
    crate::bytes::push_escaped(out, bytes, |b| {
        Some(std::borrow::Cow::Borrowed(match b {
            0x08 => "\\b",
            0x0c => "\\f",
            0x0a => "\\n",
            0x0d => "\\r",
            0x09 => "\\t",
            b'\\' => "\\\\",
            b'\'' => "\\'",
            0..=0x1f => return Some(format!("\\x{b:02x}").into()),
            _ => return None,
        }))
    });
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::json::fixture;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn json(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        json::encode(
            &json::from_serde(&serde_json::from_str(text).unwrap()),
            &mut out,
        )
        .unwrap();
        out
    }

    fn show(diffs: &[JsonDiff], column: &str) -> String {
        let mut s = String::new();
        diffs_to_text(diffs, column, &mut s);
        s
    }

    /// The diff lists of the two real PARTIAL_UPDATE_ROWS events, with mysqlbinlog's text.
    fn real_vectors() -> Vec<(Vec<u8>, String)> {
        let mut mdev = hex("00 03 242e62 99 0c 9601");
        mdev.extend_from_slice("oOo".repeat(50).as_bytes());
        vec![
            // json.binlog.000001 (MySQL 8.0.22): UPDATE t SET json_col = JSON_REPLACE(...)
            (
                hex("00 05 242e616765 03 051a00"),
                "JSON_REPLACE(@2, '$.age', 26)".into(),
            ),
            (
                hex("00 05 242e616765 03 052200"),
                "JSON_REPLACE(@2, '$.age', 34)".into(),
            ),
            (
                hex("00 05 242e616765 03 052a00"),
                "JSON_REPLACE(@2, '$.age', 42)".into(),
            ),
            // mdev35643_mysql_80_binlog.000001 (MySQL 8.0.40)
            (
                mdev,
                format!("JSON_REPLACE(@2, '$.b', '{}')", "oOo".repeat(50)),
            ),
        ]
    }

    #[test]
    fn real_vectors_parse_print_and_reencode() {
        for (bytes, text) in real_vectors() {
            let diffs = parse_diffs(&bytes).unwrap();
            assert_eq!(diffs.len(), 1);
            assert_eq!(diffs[0].op, DiffOp::Replace);
            assert_eq!(show(&diffs, "@2"), text);
            let mut out = Vec::new();
            encode_diffs(&diffs, &mut out);
            assert_eq!(out, bytes);
        }
    }

    /// Every diff list in the real binlogs: parsed like mysql_common parses it, and
    /// re-encoded byte for byte.
    #[test]
    fn real_binlogs() {
        use mysql_common::binlog::jsondiff::{JsonDiff as TheirDiff, JsonDiffOperation};
        use mysql_common::io::ParseBuf;
        let mut seen = 0;
        for file in fixture::FILES {
            let Some(bytes) = fixture::read(file) else {
                continue;
            };
            for cell in fixture::json_cells(&bytes)
                .into_iter()
                .filter(|c| c.partial)
            {
                seen += 1;
                let ours = parse_diffs(&cell.bytes).unwrap();
                let mut buf = ParseBuf(&cell.bytes);
                let mut theirs = Vec::new();
                while !buf.is_empty() {
                    theirs.push(buf.parse::<TheirDiff>(()).unwrap());
                }
                assert_eq!(ours.len(), theirs.len());
                for (o, t) in ours.iter().zip(&theirs) {
                    let op = match t.operation() {
                        JsonDiffOperation::REPLACE => DiffOp::Replace,
                        JsonDiffOperation::INSERT => DiffOp::Insert,
                        JsonDiffOperation::REMOVE => DiffOp::Remove,
                    };
                    assert_eq!(o.op, op);
                    assert_eq!(o.path, t.path());
                    match (o.value, t.value()) {
                        (None, None) => {}
                        (Some(v), Some(tv)) => {
                            let mine = json::decode(v).unwrap();
                            let theirs = serde_json::Value::from(tv.clone().parse().unwrap());
                            assert_eq!(fixture::to_oracle_serde(&mine), theirs);
                        }
                        _ => panic!("value presence differs"),
                    }
                }
                let mut out = Vec::new();
                encode_diffs(&ours, &mut out);
                assert_eq!(out, cell.bytes, "{file}");
            }
        }
        eprintln!("checked {seen} diff lists from real binlogs");
        let have_corpus = fixture::FILES.iter().any(|f| fixture::read(f).is_some());
        assert!(!have_corpus || seen >= 2, "only {seen} diff lists found");
    }

    #[test]
    fn multi_diff_text_like_mysqlbinlog() {
        let one = json("1");
        let x = json("\"it's\"");
        let arr = json("[1, \"a\"]");
        let diffs = [
            JsonDiff {
                op: DiffOp::Replace,
                path: b"$.a",
                value: Some(&one),
            },
            JsonDiff {
                op: DiffOp::Replace,
                path: b"$.b",
                value: Some(&x),
            },
            JsonDiff {
                op: DiffOp::Insert,
                path: b"$.c",
                value: Some(&arr),
            },
            JsonDiff {
                op: DiffOp::Insert,
                path: b"$.d[0]",
                value: Some(&one),
            },
            JsonDiff {
                op: DiffOp::Remove,
                path: b"$.e",
                value: None,
            },
        ];
        assert_eq!(
            show(&diffs, "@3"),
            "JSON_REMOVE(\n\
             ###      JSON_ARRAY_INSERT(\n\
             ###      JSON_INSERT(\n\
             ###      JSON_REPLACE(@3, '$.a', 1,\n\
             ###      '$.b', 'it\\'s'),\n\
             ###      '$.c', CAST('[1, \"a\"]' AS JSON)),\n\
             ###      '$.d[0]', 1),\n\
             ###      '$.e')"
        );
        assert_eq!(show(&[], "@3"), "@3");
        let mut s = String::new();
        diff_to_text(&diffs[4], "`doc`", &mut s);
        assert_eq!(s, "JSON_REMOVE(`doc`, '$.e')");
    }

    #[test]
    fn value_kinds_in_text() {
        let cases = [
            ("null", "null"),
            ("true", "true"),
            ("-5", "-5"),
            ("18446744073709551615", "18446744073709551615"),
            ("2.5", "2.5"),
            ("\"a\\nb\"", "'a\\nb'"),
            ("{\"k\": \"v'\"}", "CAST('{\"k\": \"v\\'\"}' AS JSON)"),
        ];
        for (value, printed) in cases {
            let v = json(value);
            let d = JsonDiff {
                op: DiffOp::Replace,
                path: b"$",
                value: Some(&v),
            };
            let mut s = String::new();
            diff_to_text(&d, "@1", &mut s);
            assert_eq!(s, format!("JSON_REPLACE(@1, '$', {printed})"));
        }
        // Opaque values: a decimal is bare, a date is quoted without its double quotes.
        let dec = hex("0f f6 04 0402 7ef3");
        let date = hex("0f 0a 08 0000000000e48b19");
        let blob = hex("0f fc 02 0a00");
        let mut s = String::new();
        diffs_to_text(
            &[
                JsonDiff {
                    op: DiffOp::Replace,
                    path: b"$[0]",
                    value: Some(&dec),
                },
                JsonDiff {
                    op: DiffOp::Replace,
                    path: b"$[1]",
                    value: Some(&date),
                },
                JsonDiff {
                    op: DiffOp::Replace,
                    path: b"$[2]",
                    value: Some(&blob),
                },
                JsonDiff {
                    op: DiffOp::Replace,
                    path: b"$[3]",
                    value: Some(b"\x0d"),
                },
            ],
            "@1",
            &mut s,
        );
        assert_eq!(
            s,
            "JSON_REPLACE(@1, '$[0]', -1.12,\n###      '$[1]', '2012-03-18',\n\
             ###      '$[2]', 'base64:type252:CgA=',\n###      '$[3]', Invalid JSON)"
        );
    }

    #[test]
    fn full_documents_like_mysqlbinlog() {
        for (text, printed) in [
            (
                r#"{"b": "it's", "a": [1.5, null]}"#,
                r#"'{"a": [1.5, null], "b": "it\'s"}'"#,
            ),
            (r#""a\"b""#, r#"'a"b'"#),
            ("7", "'7'"),
        ] {
            let doc = json::decode(&json(text)).unwrap().into_owned();
            let mut unquoted = String::new();
            json::to_text_unquoted(&doc, &mut unquoted);
            let mut s = String::new();
            sql_quote(unquoted.as_bytes(), &mut s);
            assert_eq!(s, printed);
        }
    }

    #[test]
    fn sql_quoting() {
        let mut s = String::new();
        sql_quote(b"a'b\\c\x08\x0c\n\r\t\x00\x1f\x7f\xc3\xa9\"", &mut s);
        assert_eq!(s, "'a\\'b\\\\c\\b\\f\\n\\r\\t\\x00\\x1f\u{7f}é\"'");
    }

    #[test]
    fn encode_parse_round_trip() {
        let big = json(&format!("[\"{}\"]", "z".repeat(70_000)));
        let small = json("{\"a\": [1, 2]}");
        let path = vec![b'p'; 300];
        let diffs = [
            JsonDiff {
                op: DiffOp::Insert,
                path: b"$.x",
                value: Some(&small),
            },
            JsonDiff {
                op: DiffOp::Remove,
                path: &path,
                value: None,
            },
            JsonDiff {
                op: DiffOp::Replace,
                path: b"$[0]",
                value: Some(&big),
            },
            JsonDiff {
                op: DiffOp::Replace,
                path: b"",
                value: Some(b""),
            },
        ];
        let mut out = Vec::new();
        encode_diffs(&diffs, &mut out);
        // 300-byte path and 70 KB value use the 3- and 4-byte packed lengths.
        assert_eq!(out[6 + small.len()..][..4], [2, 0xfc, 0x2c, 0x01]);
        assert_eq!(parse_diffs(&out).unwrap(), diffs);
        assert!(parse_diffs(&[]).unwrap().is_empty());
        // A value given to a remove is not written; a missing value is written empty.
        let mut a = Vec::new();
        encode_diffs(
            &[JsonDiff {
                op: DiffOp::Remove,
                path: b"$",
                value: Some(&small),
            }],
            &mut a,
        );
        assert_eq!(a, b"\x02\x01$");
        let mut b = Vec::new();
        encode_diffs(
            &[JsonDiff {
                op: DiffOp::Insert,
                path: b"$",
                value: None,
            }],
            &mut b,
        );
        assert_eq!(b, b"\x01\x01$\x00");
    }

    #[test]
    fn malformed_lists() {
        for (bytes, offset) in [
            (hex("03 01 24"), 0),         // unknown operation
            (hex("00 05 2424"), 2),       // path runs past the end
            (hex("00 01 24"), 3),         // value length missing
            (hex("00 01 24 02 04"), 4),   // value runs past the end
            (hex("00 01 24 01 0d"), 4),   // value is not JSON
            (hex("00 01 24 02 0403"), 5), // bad literal inside the value
            (hex("02 01 24 ff"), 3),      // second diff: unknown operation
            (hex("02 fb"), 1),            // NULL marker as a length
        ] {
            let e = parse_diffs(&bytes).unwrap_err();
            assert_eq!(e.offset(), offset, "{bytes:02x?}: {e}");
        }
    }

    #[test]
    fn fuzz_does_not_panic() {
        let mut seed = 0xdead_beef_cafe_f00du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let samples: Vec<Vec<u8>> = real_vectors().into_iter().map(|(b, _)| b).collect();
        for _ in 0..100_000 {
            let mut b = samples[(next() % samples.len() as u64) as usize].clone();
            if next() % 2 == 0 {
                let i = (next() % b.len() as u64) as usize;
                b[i] = next() as u8;
            } else {
                b.truncate((next() % b.len() as u64) as usize);
            }
            if let Ok(diffs) = parse_diffs(&b) {
                let mut out = Vec::new();
                encode_diffs(&diffs, &mut out);
                let _ = show(&diffs, "@1");
            }
        }
    }
}
