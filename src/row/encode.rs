//! Encoding values into row images: the writer's side of [`super::value::decode`] and
//! [`super::image_len`].

use super::column::{Column, ColumnType};
use super::temporal;
use super::value::Value;
use super::{bit, TableInfo, PARTIAL_JSON_UPDATES};
use crate::bytes::{field_max, put_packed, put_uint, put_uint_be, put_uint_checked};
use crate::error::{Error, Result};
use crate::row::decimal;

fn mismatch(col: &Column, v: &Value) -> Error {
    Error::malformed(
        0,
        format!("cannot store {v:?} in a column of type {:?}", col.real_type),
    )
}

fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8], len_bytes: usize, col: &Column) -> Result<()> {
    if !(1..=4).contains(&len_bytes) {
        return Err(Error::unsupported(
            0,
            format!(
                "a {:?} column with a {len_bytes}-byte length",
                col.real_type
            ),
        ));
    }
    if bytes.len() as u64 > field_max(len_bytes) {
        return Err(Error::malformed(
            0,
            format!(
                "{} bytes do not fit a {:?} column with a {len_bytes}-byte length",
                bytes.len(),
                col.real_type
            ),
        ));
    }
    put_uint(out, bytes.len() as u64, len_bytes);
    out.extend_from_slice(bytes);
    Ok(())
}

/// Appends an integer of `width` bytes, checked against the column's range.
fn encode_int(
    col: &Column,
    unsigned: bool,
    v: &Value,
    width: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let bits = 8 * width as u32;
    let raw = match (v, unsigned) {
        (&Value::Int(i), false) => {
            let min = if bits == 64 {
                i64::MIN
            } else {
                -(1i64 << (bits - 1))
            };
            let max = if bits == 64 {
                i64::MAX
            } else {
                (1i64 << (bits - 1)) - 1
            };
            if i < min || i > max {
                return Err(Error::malformed(
                    0,
                    format!("{i} out of range for {bits}-bit column"),
                ));
            }
            i as u64
        }
        (&Value::UInt(u), true) => {
            if bits < 64 && u >> bits != 0 {
                return Err(Error::malformed(
                    0,
                    format!("{u} out of range for {bits}-bit column"),
                ));
            }
            u
        }
        (&Value::Int(i), true) if i >= 0 => i as u64,
        (&Value::UInt(u), false) if u <= i64::MAX as u64 => u,
        _ => return Err(mismatch(col, v)),
    };
    put_uint(out, raw, width);
    Ok(())
}

/// Appends the image bytes of `v` (not NULL) for column `col`.
pub fn encode_value(col: &Column, unsigned: bool, v: &Value, out: &mut Vec<u8>) -> Result<()> {
    let fsp = col.meta1().min(6);
    match (col.real_type, v) {
        (ColumnType::TINY, _) => encode_int(col, unsigned, v, 1, out)?,
        (ColumnType::SHORT, _) => encode_int(col, unsigned, v, 2, out)?,
        (ColumnType::INT24, _) => encode_int(col, unsigned, v, 3, out)?,
        (ColumnType::LONG, _) => encode_int(col, unsigned, v, 4, out)?,
        (ColumnType::LONGLONG, _) => encode_int(col, unsigned, v, 8, out)?,
        (ColumnType::FLOAT, Value::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (ColumnType::DOUBLE, Value::Double(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (ColumnType::NEWDECIMAL, Value::Decimal(d)) => {
            let (p, s) = col.decimal_precision();
            if (d.precision(), d.scale()) == (p, s) {
                out.extend_from_slice(d.bytes());
            } else {
                // Another DECIMAL type: the same number, if it fits this one.
                decimal::encode(&d.to_string(), p, s, out)?;
            }
        }
        (ColumnType::YEAR, Value::Year(y)) => {
            let b = match *y {
                0 => 0,
                1901..=2155 => (*y - 1900) as u8,
                _ => return Err(Error::malformed(0, format!("YEAR {y} out of range"))),
            };
            out.push(b);
        }
        (ColumnType::DATE | ColumnType::NEWDATE, Value::Date(d)) => temporal::encode_date(*d, out)?,
        (ColumnType::TIME, Value::Time(t, _)) => temporal::encode_time_old(*t, out)?,
        (ColumnType::TIME2, Value::Time(t, _)) => temporal::encode_time2(*t, fsp, out)?,
        (ColumnType::DATETIME, Value::DateTime(t, _)) => temporal::encode_datetime_old(*t, out)?,
        (ColumnType::DATETIME2, Value::DateTime(t, _)) => temporal::encode_datetime2(*t, fsp, out)?,
        (ColumnType::TIMESTAMP, Value::Timestamp { secs, .. }) => {
            out.extend_from_slice(&secs.to_le_bytes())
        }
        (ColumnType::TIMESTAMP2, Value::Timestamp { secs, micros, .. }) => {
            temporal::encode_timestamp2(*secs, *micros, fsp, out)?
        }
        (ColumnType::BIT, Value::Bit(b)) => {
            let (bytes, bits) = col.bit_len();
            let n = usize::from(bytes) + usize::from(bits > 0);
            if n > 8 {
                return Err(Error::unsupported(0, format!("BIT column of {n} bytes")));
            }
            if n < 8 && b >> (8 * n) != 0 {
                return Err(Error::malformed(
                    0,
                    format!("BIT value {b:#x} wider than {n} bytes"),
                ));
            }
            put_uint_be(out, *b, n);
        }
        (ColumnType::ENUM, Value::Enum(e)) if col.meta[1] <= 2 => {
            put_uint_checked(out, u64::from(*e), usize::from(col.meta[1]), "ENUM index")?
        }
        (ColumnType::SET, Value::Set(s)) if col.meta[1] <= 8 => {
            put_uint_checked(out, *s, usize::from(col.meta[1]), "SET bits")?
        }
        (ColumnType::VARCHAR | ColumnType::VAR_STRING, Value::Bytes(b)) => {
            let max = usize::from(col.meta_le16());
            if b.len() > max {
                return Err(Error::malformed(
                    0,
                    format!("{} bytes over VARCHAR maximum {max}", b.len()),
                ));
            }
            put_prefixed(out, b, if max > 255 { 2 } else { 1 }, col)?
        }
        (ColumnType::STRING, Value::Bytes(b)) => {
            let max = col.string_max_len() as usize;
            if b.len() > max {
                return Err(Error::malformed(
                    0,
                    format!("{} bytes over CHAR maximum {max}", b.len()),
                ));
            }
            put_prefixed(out, b, if max > 255 { 2 } else { 1 }, col)?
        }
        (
            ColumnType::BLOB
            | ColumnType::TINY_BLOB
            | ColumnType::MEDIUM_BLOB
            | ColumnType::LONG_BLOB,
            Value::Bytes(b),
        )
        | (ColumnType::JSON, Value::Json(b) | Value::JsonDiff(b))
        | (ColumnType::GEOMETRY, Value::Geometry(b))
        | (ColumnType::VECTOR, Value::Vector(b)) => {
            put_prefixed(out, b, usize::from(col.meta1()), col)?
        }
        _ => return Err(mismatch(col, v)),
    }
    Ok(())
}

/// Appends a whole image: for each present column (per `present`) the value in `values`
/// (indexed by column), NULL bitmap first. `value_options` writes a PARTIAL_UPDATE_ROWS
/// after-image header with those options; when they include [`PARTIAL_JSON_UPDATES`], the
/// JSON columns whose value is a [`Value::JsonDiff`] are marked as diffs. `unused_bits_set`
/// says how to fill the null bitmap's unused high bits: set, as MariaDB and MySQL before 8.0
/// leave them, or clear, as MySQL 8.0 and later do (see
/// [`crate::Format::sets_unused_null_bits`]).
pub fn encode_image(
    table: &TableInfo,
    present: &[u8],
    values: &[Value],
    value_options: Option<u64>,
    unused_bits_set: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    let n = table.columns.len();
    if values.len() != n {
        return Err(Error::malformed(
            0,
            format!("{} values for {n} columns", values.len()),
        ));
    }
    if let Some(opts) = value_options {
        put_packed(out, opts);
        if opts & PARTIAL_JSON_UPDATES != 0 {
            let mut bits = vec![0u8; table.json_count.div_ceil(8)];
            for (i, v) in values.iter().enumerate() {
                if let (Some(j), Value::JsonDiff(_)) = (table.json_position(i), v) {
                    if let Some(b) = bits.get_mut(j / 8) {
                        *b |= 1 << (j % 8);
                    }
                }
            }
            out.extend_from_slice(&bits);
        }
    }
    let present_cols: Vec<usize> = (0..n).filter(|&i| bit(present, i)).collect();
    let mut nulls = vec![0u8; present_cols.len().div_ceil(8)];
    for (k, &i) in present_cols.iter().enumerate() {
        if values[i].is_null() {
            nulls[k / 8] |= 1 << (k % 8);
        }
    }
    let used = present_cols.len() % 8;
    if unused_bits_set && used != 0 {
        if let Some(last) = nulls.last_mut() {
            *last |= 0xffu8 << used;
        }
    }
    out.extend_from_slice(&nulls);
    for &i in &present_cols {
        if !values[i].is_null() {
            encode_value(&table.columns[i], table.is_unsigned(i), &values[i], out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::decimal::{self, Decimal};

    fn decimal_col(p: u8, s: u8) -> Column {
        Column::new(ColumnType::NEWDECIMAL, &[p, s], true)
    }

    fn enc(text: &str, p: u8, s: u8) -> Vec<u8> {
        let mut out = Vec::new();
        decimal::encode(text, p, s, &mut out).unwrap();
        out
    }

    #[test]
    fn a_decimal_keeps_its_bytes_in_its_type_and_its_number_in_another() {
        // Its own type: the bytes as they came, a negative zero too.
        let negative_zero: Vec<u8> = enc("0.00", 5, 2).iter().map(|b| !b).collect();
        for bytes in [enc("-123.45", 5, 2), negative_zero] {
            let v = Value::Decimal(Decimal::new(&bytes, 5, 2).unwrap());
            let mut out = Vec::new();
            encode_value(&decimal_col(5, 2), false, &v, &mut out).unwrap();
            assert_eq!(out, bytes);
        }
        // Another type: the same number in that type's bytes, or an error when it does
        // not fit (nothing written).
        let v = Value::Decimal(Decimal::parse("-123.45", 5, 2).unwrap());
        let mut out = Vec::new();
        encode_value(&decimal_col(10, 4), false, &v, &mut out).unwrap();
        assert_eq!(out, enc("-123.4500", 10, 4));
        out.clear();
        assert!(encode_value(&decimal_col(4, 2), false, &v, &mut out).is_err());
        assert!(out.is_empty());
    }
}
