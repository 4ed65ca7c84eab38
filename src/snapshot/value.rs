//! From the values a server returns for [`TableLayout::select_sql`] over the binary
//! protocol (prepared statements) to row images.
//!
//! How each type is read exactly:
//!
//! | column | what the server sends | row-image value |
//! |---|---|---|
//! | integers, YEAR | an integer | the integer |
//! | FLOAT, DOUBLE | the 4- or 8-byte IEEE value | the same bits |
//! | DECIMAL | its exact text | packed decimal |
//! | DATE, DATETIME, TIME | year … microseconds (days and hours for TIME) | the same fields |
//! | TIMESTAMP | a date and time in the session's time zone, which must be `+00:00` | seconds and microseconds since the epoch |
//! | BIT | big-endian bytes | the integer |
//! | ENUM (`col+0`), SET (`CAST(col AS UNSIGNED)`) | index, bits | the same |
//! | CHAR, VARCHAR, TEXT, BLOB | bytes in the column's character set (the session's `character_set_results` must be NULL or binary); CHAR without trailing spaces | the bytes |
//! | BINARY, UUID, INET4, INET6 (`CAST(col AS BINARY(n))`) | `n` bytes | without trailing zero bytes, as servers log them |
//! | GEOMETRY | SRID and WKB | the same bytes |
//! | MySQL JSON | JSON text | binary JSON ([`crate::row::json`]) |

use std::borrow::Cow;

use super::table::{ReadAs, TableLayout};
use crate::error::{Error, Result};
use crate::row::column::Column;
use crate::row::decimal::Decimal;
use crate::row::encode::encode_value;
use crate::row::json;
use crate::row::temporal::{Date, DateTime, Time};
use crate::row::Value;

/// A value as a server sends it over the binary protocol: what a client library's value
/// type holds, without the client library.
#[derive(Clone, Copy, PartialEq)]
pub enum ServerValue<'a> {
    /// NULL.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A FLOAT.
    Float(f32),
    /// A DOUBLE.
    Double(f64),
    /// Bytes: strings, DECIMAL text, BIT, JSON text, geometry.
    Bytes(&'a [u8]),
    /// A date and time: year, month, day, hour, minute, second, microseconds (a DATE has
    /// zero time fields).
    Date(u16, u8, u8, u8, u8, u8, u32),
    /// A time: negative, days, hours, minutes, seconds, microseconds.
    Time(bool, u32, u8, u8, u8, u32),
}

impl std::fmt::Debug for ServerValue<'_> {
    /// As client libraries show values: a short prefix of bytes, dates and times quoted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ServerValue::Null => f.write_str("Null"),
            ServerValue::Int(v) => f.debug_tuple("Int").field(&v).finish(),
            ServerValue::UInt(v) => f.debug_tuple("UInt").field(&v).finish(),
            ServerValue::Float(v) => f.debug_tuple("Float").field(&v).finish(),
            ServerValue::Double(v) => f.debug_tuple("Double").field(&v).finish(),
            ServerValue::Bytes(b) => {
                let shown = String::from_utf8_lossy(&b[..b.len().min(8)]).replace('\n', "\\n");
                let more = if b.len() > 8 { ".." } else { "" };
                f.debug_tuple("Bytes")
                    .field(&format!("{shown}{more}"))
                    .finish()
            }
            ServerValue::Date(y, mo, d, h, mi, s, us) => {
                let mut text = format!("'{y:04}-{mo:02}-{d:02}");
                if (h, mi, s, us) != (0, 0, 0, 0) {
                    text.push_str(&format!(" {h:02}:{mi:02}:{s:02}"));
                }
                if us != 0 {
                    text.push_str(&format!(".{us:06}"));
                }
                text.push('\'');
                f.debug_tuple("Date").field(&text).finish()
            }
            ServerValue::Time(neg, days, h, mi, s, us) => {
                let sign = if neg { "-" } else { "" };
                let hours = days * 24 + u32::from(h);
                let mut text = format!("'{sign}{hours:03}:{mi:02}:{s:02}");
                if us != 0 {
                    text.push_str(&format!(".{us:06}"));
                }
                text.push('\'');
                f.debug_tuple("Time").field(&text).finish()
            }
        }
    }
}

fn wrong(read: ReadAs, v: &ServerValue) -> Error {
    Error::malformed(0, format!("unexpected {v:?} for a column read as {read:?}"))
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_text<T: std::str::FromStr>(b: &[u8], read: ReadAs) -> Result<T> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            Error::malformed(
                0,
                format!("cannot read {:?} as {read:?}", String::from_utf8_lossy(b)),
            )
        })
}

fn integer(v: &ServerValue, read: ReadAs) -> Result<i128> {
    Ok(match v {
        ServerValue::Int(i) => i128::from(*i),
        ServerValue::UInt(u) => i128::from(*u),
        ServerValue::Bytes(b) => parse_text(b, read)?,
        _ => return Err(wrong(read, v)),
    })
}

/// The row-image value for what the server sent for a column read as `read`.
pub fn convert<'v>(
    read: ReadAs,
    col: &Column,
    unsigned: bool,
    v: &ServerValue<'v>,
) -> Result<Value<'v>> {
    if let ServerValue::Null = v {
        return Ok(Value::Null);
    }
    let fsp = col.meta1().min(6);
    Ok(match read {
        ReadAs::Integer => {
            let i = integer(v, read)?;
            if unsigned {
                Value::UInt(u64::try_from(i).map_err(|_| wrong(read, v))?)
            } else {
                Value::Int(i64::try_from(i).map_err(|_| wrong(read, v))?)
            }
        }
        ReadAs::Year => Value::Year(u16::try_from(integer(v, read)?).map_err(|_| wrong(read, v))?),
        ReadAs::EnumIndex => {
            Value::Enum(u16::try_from(integer(v, read)?).map_err(|_| wrong(read, v))?)
        }
        // A 64-member SET may come back as a negative BIGINT: the bits are what count.
        ReadAs::SetBits => Value::Set(integer(v, read)? as u64),
        ReadAs::Float => match v {
            ServerValue::Float(f) => Value::Float(*f),
            ServerValue::Double(d) if f64::from(*d as f32) == *d => Value::Float(*d as f32),
            ServerValue::Bytes(b) => Value::Float(parse_text(b, read)?),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Double => match v {
            ServerValue::Double(d) => Value::Double(*d),
            ServerValue::Float(f) => Value::Double(f64::from(*f)),
            ServerValue::Bytes(b) => Value::Double(parse_text(b, read)?),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Decimal => match v {
            ServerValue::Bytes(b) => {
                let text = std::str::from_utf8(b).map_err(|_| wrong(read, v))?;
                let (p, s) = col.decimal_precision();
                Value::Decimal(Decimal::parse(text, p, s)?)
            }
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Date | ReadAs::DateTime | ReadAs::Time | ReadAs::Timestamp => {
            return temporal(read, v, fsp)
        }
        ReadAs::Bit | ReadAs::Bytes | ReadAs::FixedBinary | ReadAs::Geometry | ReadAs::JsonText => {
            return bytes(read, v)
        }
    })
}

/// DATE, DATETIME, TIME and TIMESTAMP values (`fsp`: fractional digits).
fn temporal<'v>(read: ReadAs, v: &ServerValue<'v>, fsp: u8) -> Result<Value<'v>> {
    Ok(match read {
        ReadAs::Date => match *v {
            ServerValue::Date(y, m, d, ..) => Value::Date(Date {
                year: u32::from(y),
                month: m,
                day: d,
            }),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::DateTime => match *v {
            ServerValue::Date(y, mo, d, h, mi, s, us) => Value::DateTime(
                DateTime {
                    date: Date {
                        year: u32::from(y),
                        month: mo,
                        day: d,
                    },
                    hour: h,
                    minute: mi,
                    second: s,
                    micros: us,
                },
                fsp,
            ),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Time => match *v {
            ServerValue::Time(negative, days, h, mi, s, us) => Value::Time(
                Time {
                    negative,
                    hours: days * 24 + u32::from(h),
                    minutes: mi,
                    seconds: s,
                    micros: us,
                },
                fsp,
            ),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Timestamp => match *v {
            ServerValue::Date(0, 0, 0, 0, 0, 0, 0) => Value::Timestamp {
                secs: 0,
                micros: 0,
                fsp,
            },
            ServerValue::Date(y, mo, d, h, mi, s, us) => {
                let secs = days_from_civil(i64::from(y), u32::from(mo), u32::from(d)) * 86_400
                    + i64::from(h) * 3600
                    + i64::from(mi) * 60
                    + i64::from(s);
                Value::Timestamp {
                    secs: u32::try_from(secs).map_err(|_| wrong(read, v))?,
                    micros: us,
                    fsp,
                }
            }
            _ => return Err(wrong(read, v)),
        },
        _ => return Err(wrong(read, v)),
    })
}

/// Values sent as bytes: BIT, strings, fixed-length binary, geometry, MySQL JSON text.
fn bytes<'v>(read: ReadAs, v: &ServerValue<'v>) -> Result<Value<'v>> {
    Ok(match read {
        ReadAs::Bit => match v {
            ServerValue::Bytes(b) if b.len() <= 8 => Value::Bit(crate::bytes::be_uint(b)),
            ServerValue::Int(_) | ServerValue::UInt(_) => Value::Bit(integer(v, read)? as u64),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Bytes => match v {
            ServerValue::Bytes(b) => Value::Bytes(Cow::Borrowed(b)),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::FixedBinary => match v {
            ServerValue::Bytes(b) => {
                let end = b.iter().rposition(|&x| x != 0).map_or(0, |p| p + 1);
                Value::Bytes(Cow::Borrowed(&b[..end]))
            }
            _ => return Err(wrong(read, v)),
        },
        ReadAs::Geometry => match v {
            ServerValue::Bytes(b) => Value::Geometry(Cow::Borrowed(b)),
            _ => return Err(wrong(read, v)),
        },
        ReadAs::JsonText => match v {
            ServerValue::Bytes(b) => {
                let parsed: serde_json::Value = serde_json::from_slice(b).map_err(|e| {
                    Error::malformed(0, format!("JSON value the server sent does not parse: {e}"))
                })?;
                let mut bin = Vec::with_capacity(b.len() + 16);
                json::encode(&json::from_serde(&parsed), &mut bin)?;
                Value::Json(Cow::Owned(bin))
            }
            _ => return Err(wrong(read, v)),
        },
        _ => return Err(wrong(read, v)),
    })
}

/// Encodes a row image of every column (a WRITE_ROWS after-image) from one value per
/// column, as the server sent them for [`TableLayout::select_sql`].
pub fn encode_row<'a>(
    layout: &TableLayout,
    values: impl ExactSizeIterator<Item = ServerValue<'a>>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let n = layout.columns.len();
    if values.len() != n {
        return Err(Error::malformed(
            0,
            format!("{} values for {n} columns", values.len()),
        ));
    }
    let start = out.len();
    let bitmap_len = n.div_ceil(8);
    out.resize(start + bitmap_len, 0);
    if layout.unused_null_bits_set && !n.is_multiple_of(8) {
        out[start + bitmap_len - 1] |= 0xffu8 << (n % 8);
    }
    for (i, v) in values.enumerate() {
        let col = &layout.columns[i];
        let unsigned = layout.unsigned[i];
        let value =
            convert(layout.reads[i], col, unsigned, &v).map_err(|e| column_error(layout, i, &e))?;
        if value.is_null() {
            if !col.nullable {
                return Err(column_error(
                    layout,
                    i,
                    &Error::malformed(0, "NULL in a NOT NULL column"),
                ));
            }
            out[start + i / 8] |= 1 << (i % 8);
        } else {
            encode_value(col, unsigned, &value, out).map_err(|e| column_error(layout, i, &e))?;
        }
    }
    Ok(())
}

fn column_error(layout: &TableLayout, i: usize, e: &Error) -> Error {
    Error::malformed(
        0,
        format!(
            "{}.{}: {}",
            layout.qualified_name(),
            layout.column_names[i],
            e.kind()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::fde::Flavor;
    use crate::row::column::ColumnType;
    use crate::snapshot::table::{ColumnDef, TableDef};

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2038, 1, 19), 24_855);
    }

    fn def(cols: &[(&str, &str, &str)]) -> TableDef {
        TableDef {
            schema: "d".into(),
            name: "t".into(),
            columns: cols
                .iter()
                .map(|&(n, dt, ct)| ColumnDef {
                    name: n.into(),
                    data_type: dt.into(),
                    column_type: ct.into(),
                    nullable: n != "id",
                    octet_length: Some(4),
                    precision: Some(13),
                    scale: Some(0),
                    datetime_precision: Some(2),
                    collation: Some(63),
                    ..Default::default()
                })
                .collect(),
            primary_key: vec![(0, 0)],
        }
    }

    /// The image a MariaDB 10.11 server logged for a row of
    /// `(id int, b bit(13), bn binary(4), ts timestamp(2), tm time(2))`.
    #[test]
    fn row_matches_the_server() {
        let l = TableLayout::new(
            &def(&[
                ("id", "int", "int(11)"),
                ("b", "bit", "bit(13)"),
                ("bn", "binary", "binary(4)"),
                ("ts", "timestamp", "timestamp(2)"),
                ("tm", "time", "time(2)"),
            ]),
            Flavor::MariaDb,
            (10, 11, 19),
        )
        .unwrap();
        assert_eq!(l.columns[3].binlog_type, ColumnType::TIMESTAMP2);
        let vals = [
            ServerValue::Int(1),
            ServerValue::Bytes(&[0, 5]),
            ServerValue::Bytes(b"a\0\0\0"),
            ServerValue::Date(2020, 1, 2, 3, 4, 5, 670_000),
            ServerValue::Null,
        ];
        let mut out = Vec::new();
        encode_row(&l, vals.into_iter(), &mut out).unwrap();
        assert_eq!(
            out,
            [0xf0, 1, 0, 0, 0, 0, 5, 1, b'a', 0x5e, 0x0d, 0x5d, 0xa5, 0x43]
        );
        let bad = [ServerValue::Null; 5];
        let e = encode_row(&l, bad.into_iter(), &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("d.t.id"), "{e}");
    }

    #[test]
    fn mysql_json_becomes_binary() {
        let l =
            TableLayout::new(&def(&[("j", "json", "json")]), Flavor::MySql, (8, 0, 40)).unwrap();
        let vals = [ServerValue::Bytes(br#"{"a": [1, 2.5, "x"]}"#)];
        let mut out = Vec::new();
        encode_row(&l, vals.into_iter(), &mut out).unwrap();
        assert_eq!(out[0], 0);
        let len = u32::from_le_bytes([out[1], out[2], out[3], out[4]]) as usize;
        let back = json::decode(&out[5..5 + len]).unwrap();
        let mut text = String::new();
        json::to_text(&back, &mut text);
        assert_eq!(text, r#"{"a": [1, 2.5, "x"]}"#);
    }
}
