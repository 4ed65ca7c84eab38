//! `decode --format jsonl`: a row change as one JSON object.

use std::fmt::Write as _;

use binlog::event::rows::RowsKind;
use binlog::row::value::{padded_binary, BINARY_COLLATION};
use binlog::row::{json, Value};
use binlog::sql::{self, ColumnInfo};

use super::render::{Table, TxnCtx};
use crate::cli::output::{json_str, local_time};

/// Appends the JSON line of one row change (with its newline).
pub fn row_change(
    b: &mut String,
    t: &TxnCtx,
    pos: u64,
    table: &Table,
    kind: RowsKind,
    before: Option<&[Option<Value>]>,
    after: Option<&[Option<Value>]>,
) {
    b.push_str("{\"file\":");
    json_str(b, t.file);
    let _ = write!(b, ",\"pos\":{pos},\"timestamp\":{},\"time\":", t.time);
    json_str(b, &local_time(t.time));
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
    for (key, image) in [("before", &before), ("after", &after)] {
        let Some(image) = image else { continue };
        let _ = write!(b, ",\"{key}\":{{");
        let mut first = true;
        for (i, v) in image.iter().enumerate() {
            let Some(v) = v else { continue };
            if !first {
                b.push(',');
            }
            first = false;
            b.push_str(&table.json_names[i]);
            b.push(':');
            json_value(v, &table.ctx.columns()[i], b);
        }
        b.push('}');
    }
    b.push_str("}\n");
}

/// Appends a value as JSON.
pub fn json_value(v: &Value, col: &ColumnInfo, out: &mut String) {
    let hex = |b: &[u8], out: &mut String| {
        out.push_str("{\"hex\":\"");
        for x in b {
            let _ = write!(out, "{x:02X}");
        }
        out.push_str("\"}");
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
        Value::Float(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(*f)),
        Value::Double(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(*f)),
        Value::Float(_) | Value::Double(_) => out.push_str("null"),
        Value::Decimal(d) => json_str(out, d),
        Value::Year(y) => {
            let _ = write!(out, "{y}");
        }
        Value::Bit(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Enum(_) | Value::Set(_) if col.members.is_none() => {
            let n = match v {
                Value::Enum(e) => u64::from(*e),
                Value::Set(s) => *s,
                _ => 0,
            };
            let _ = write!(out, "{n}");
        }
        Value::Json(b) => match json::decode(b) {
            Ok(j) => json::to_text(&j, out),
            Err(_) => hex(b, out),
        },
        Value::Bytes(b) => {
            let padded = padded_binary(&col.column, col.charset, b);
            let text = !matches!(col.charset, Some(BINARY_COLLATION) | None);
            match std::str::from_utf8(&padded) {
                Ok(s) if text => json_str(out, s),
                _ => hex(&padded, out),
            }
        }
        Value::Geometry(b) | Value::Vector(b) => hex(b, out),
        _ => {
            // Temporal values, named ENUM/SET members, JSON diffs: their SQL text, unquoted.
            let mut s = String::new();
            sql::literal(v, col, &mut s);
            let s = s
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .map(|s| s.replace("''", "'"))
                .unwrap_or(s);
            json_str(out, &s);
        }
    }
}
