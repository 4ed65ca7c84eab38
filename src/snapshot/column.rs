//! One column's binlog type and metadata, as a server logs it, from what
//! `information_schema` says of it; and how to read its values exactly.

use super::table::{quote_ident, ColumnDef, ReadAs};
use crate::error::{Error, Result};
use crate::event::fde::Flavor;
use crate::row::column::{Column, ColumnType};
use crate::row::value::BINARY_COLLATION;

/// Geometry subtype codes of the GEOMETRY_TYPE optional metadata field.
pub(super) fn geometry_subtype(data_type: &str) -> Option<u64> {
    Some(match data_type {
        "geometry" => 0,
        "point" => 1,
        "linestring" => 2,
        "polygon" => 3,
        "multipoint" => 4,
        "multilinestring" => 5,
        "multipolygon" => 6,
        "geometrycollection" | "geomcollection" => 7,
        _ => return None,
    })
}

/// Metadata bytes of a CHAR/BINARY column of `max_bytes` bytes: the real type with the
/// two high bits of the length folded in, then the low byte.
fn string_meta(real_type: u8, max_bytes: u64) -> [u8; 2] {
    let len = max_bytes as u32;
    [real_type ^ (((len & 0x300) >> 4) as u8), (len & 0xff) as u8]
}

/// Bytes a SET of `n` members takes in a row image.
fn set_pack_len(n: usize) -> u8 {
    match n.div_ceil(8) {
        0 => 1,
        k @ 1..=4 => k as u8,
        _ => 8,
    }
}

fn blob_pack_len(data_type: &str) -> u8 {
    if data_type.starts_with("tiny") {
        1
    } else if data_type.starts_with("medium") {
        3
    } else if data_type.starts_with("long") || data_type == "json" {
        4
    } else {
        2
    }
}

/// What one column is in the binlog.
pub(super) struct Mapped {
    pub(super) column: Column,
    pub(super) unsigned: bool,
    pub(super) read: ReadAs,
    pub(super) select: String,
    /// Counts in the SIGNEDNESS bitmap.
    pub(super) numeric: bool,
    /// Has an entry in the character-set lists.
    pub(super) character: bool,
    pub(super) geometry: Option<u64>,
    pub(super) note: Option<String>,
}

impl Mapped {
    /// The binlog type, metadata and way of reading.
    fn set(&mut self, t: ColumnType, meta: &[u8], read: ReadAs) {
        self.column = Column::new(t, meta, self.column.nullable);
        self.read = read;
    }
}

/// A column that cannot be written, and why.
fn unsupported(c: &ColumnDef, what: &str) -> Error {
    Error::unsupported(0, format!("column {} ({}): {what}", c.name, c.column_type))
}

pub(super) fn map_column(c: &ColumnDef, flavor: Flavor) -> Result<Mapped> {
    let ct = c.column_type.to_ascii_lowercase();
    let mut m = Mapped {
        column: Column::new(ColumnType::NULL, &[], c.nullable),
        unsigned: false,
        read: ReadAs::Bytes,
        select: quote_ident(&c.name),
        numeric: false,
        character: false,
        geometry: None,
        note: None,
    };
    let dt = c.data_type.to_ascii_lowercase();
    match dt.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "float"
        | "double" | "real" | "double precision" | "decimal" | "numeric" | "year" | "bit" => {
            map_number(&mut m, c, &dt, flavor)?
        }
        "date" | "time" | "datetime" | "timestamp" => map_temporal(&mut m, c, &dt),
        "char" | "binary" | "uuid" | "inet6" | "inet4" | "varchar" | "varbinary" | "tinytext"
        | "text" | "mediumtext" | "longtext" | "tinyblob" | "blob" | "mediumblob" | "longblob"
        | "json" => map_string(&mut m, c, &dt, flavor)?,
        "enum" => {
            let n = c.members.len();
            let len = if n < 256 { 1 } else { 2 };
            m.set(
                ColumnType::STRING,
                &[ColumnType::ENUM.0, len],
                ReadAs::EnumIndex,
            );
            m.select = format!("{}+0", quote_ident(&c.name));
        }
        "set" => {
            m.set(
                ColumnType::STRING,
                &[ColumnType::SET.0, set_pack_len(c.members.len())],
                ReadAs::SetBits,
            );
            m.select = format!("CAST({} AS UNSIGNED)", quote_ident(&c.name));
        }
        t if geometry_subtype(t).is_some() => {
            m.set(ColumnType::GEOMETRY, &[4], ReadAs::Geometry);
            m.geometry = geometry_subtype(t);
            // MariaDB gives geometry columns a character set (binary) in the table map.
            m.character = flavor == Flavor::MariaDb;
        }
        _ => return Err(unsupported(c, "type not supported")),
    }
    if ct.contains("compressed") && m.character {
        return Err(unsupported(
            c,
            "MariaDB compressed columns are logged compressed, which snapshot does not write",
        ));
    }
    Ok(m)
}

/// Integers, FLOAT, DOUBLE, DECIMAL, YEAR, BIT.
fn map_number(m: &mut Mapped, c: &ColumnDef, dt: &str, flavor: Flavor) -> Result<()> {
    let unsigned = c.column_type.to_ascii_lowercase().contains("unsigned");
    m.numeric = true;
    m.unsigned = unsigned;
    match dt {
        "float" => m.set(ColumnType::FLOAT, &[4], ReadAs::Float),
        "double" | "real" | "double precision" => m.set(ColumnType::DOUBLE, &[8], ReadAs::Double),
        "decimal" | "numeric" => {
            let p = c.precision.ok_or_else(|| unsupported(c, "no precision"))?;
            let s = c.scale.unwrap_or(0);
            if p == 0 || p > 65 || s > 30 || s > p {
                return Err(unsupported(c, "precision out of range"));
            }
            m.set(ColumnType::NEWDECIMAL, &[p as u8, s as u8], ReadAs::Decimal);
        }
        "year" => {
            m.set(ColumnType::YEAR, &[], ReadAs::Year);
            // MariaDB counts YEAR among the numeric columns (an unsigned one); MySQL
            // does not.
            m.numeric = flavor == Flavor::MariaDb;
            m.unsigned = m.numeric;
        }
        "bit" => {
            let n = c.precision.ok_or_else(|| unsupported(c, "no width"))?;
            if !(1..=64).contains(&n) {
                return Err(unsupported(c, "width out of range"));
            }
            m.set(
                ColumnType::BIT,
                &[(n % 8) as u8, (n / 8) as u8],
                ReadAs::Bit,
            );
            m.numeric = false;
            m.unsigned = false;
        }
        _ => {
            let t = match dt {
                "tinyint" => ColumnType::TINY,
                "smallint" => ColumnType::SHORT,
                "mediumint" => ColumnType::INT24,
                "bigint" => ColumnType::LONGLONG,
                _ => ColumnType::LONG,
            };
            m.set(t, &[], ReadAs::Integer);
        }
    }
    Ok(())
}

/// DATE, TIME, DATETIME, TIMESTAMP: the current forms, or MariaDB's 5.3 ones.
fn map_temporal(m: &mut Mapped, c: &ColumnDef, dt: &str) {
    let old_temporal = c.column_type.to_ascii_lowercase().contains("mariadb-5.3");
    let fsp = c.datetime_precision.unwrap_or(0).min(6) as u8;
    let read = match dt {
        "date" => return m.set(ColumnType::DATE, &[], ReadAs::Date),
        "time" => ReadAs::Time,
        "datetime" => ReadAs::DateTime,
        _ => ReadAs::Timestamp,
    };
    let (new, old) = match read {
        ReadAs::Time => (ColumnType::TIME2, ColumnType::TIME),
        ReadAs::DateTime => (ColumnType::DATETIME2, ColumnType::DATETIME),
        _ => (ColumnType::TIMESTAMP2, ColumnType::TIMESTAMP),
    };
    if old_temporal && fsp == 0 {
        // The pre-5.6 forms, without metadata, exactly as the server logs them.
        m.set(old, &[], read);
    } else {
        m.set(new, &[fsp], read);
        if old_temporal {
            m.note = Some(format!(
                "column {} is {} in the MariaDB 5.3 format, which no binlog reader can size; written as {}({fsp})",
                c.name,
                c.column_type,
                new.name()
            ));
        }
    }
}

/// CHAR, BINARY, VARCHAR, VARBINARY, TEXT, BLOB, JSON and the types read as fixed binary
/// (UUID, INET4, INET6).
fn map_string(m: &mut Mapped, c: &ColumnDef, dt: &str, flavor: Flavor) -> Result<()> {
    let octets = |what: &str| {
        c.octet_length
            .ok_or_else(|| unsupported(c, &format!("no {what} length in information_schema")))
    };
    m.character = true;
    match dt {
        "char" | "binary" => {
            let n = octets("character")?;
            if n > 1023 {
                return Err(unsupported(c, "CHAR longer than 1023 bytes"));
            }
            let binary = dt == "binary" || c.collation == Some(BINARY_COLLATION);
            let read = if binary {
                ReadAs::FixedBinary
            } else {
                ReadAs::Bytes
            };
            m.set(
                ColumnType::STRING,
                &string_meta(ColumnType::STRING.0, n),
                read,
            );
        }
        "uuid" | "inet6" | "inet4" => {
            let n: u64 = if dt == "inet4" { 4 } else { 16 };
            m.set(
                ColumnType::STRING,
                &string_meta(ColumnType::STRING.0, n),
                ReadAs::FixedBinary,
            );
            m.select = format!("CAST({} AS BINARY({n}))", quote_ident(&c.name));
        }
        "varchar" | "varbinary" => {
            let n = octets("character")?;
            if n > 65535 {
                return Err(unsupported(c, "VARCHAR longer than 65535 bytes"));
            }
            m.set(
                ColumnType::VARCHAR,
                &(n as u16).to_le_bytes(),
                ReadAs::Bytes,
            );
        }
        "json" if flavor == Flavor::MySql => {
            m.set(ColumnType::JSON, &[4], ReadAs::JsonText);
            m.character = false;
        }
        // MariaDB's JSON is LONGTEXT.
        "json" => m.set(ColumnType::BLOB, &[4], ReadAs::Bytes),
        _ => m.set(ColumnType::BLOB, &[blob_pack_len(dt)], ReadAs::Bytes),
    }
    Ok(())
}
