//! Test support, shared with the diff tests: walks the row images of the real binlogs of
//! the shared corpus to pull out JSON column values, and reads them with mysql_common.

use super::text::write_opaque;
use super::Json;
use std::path::PathBuf;

/// One JSON column value of a row image.
pub struct JsonCell {
    /// Whether the value is a diff list (partial bit set) rather than a document.
    pub partial: bool,
    /// The bytes after the length prefix.
    pub bytes: Vec<u8>,
}

/// The three real binlogs with JSON columns.
pub const FILES: [&str; 3] = [
    "rust_mysql_common/json.binlog.000001",
    "rust_mysql_common/json-opaque.binlog",
    "mariadb-server-mysql-test_10.11.19/std_data/mdev35643_mysql_80_binlog.000001",
];

/// Reads a file of the shared fixture corpus, or says why not and returns `None`.
pub fn read(rel: &str) -> Option<Vec<u8>> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "shared", "fixtures", rel]
        .iter()
        .collect();
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("skipping fixture {}: {e}", path.display());
            None
        }
    }
}

fn packed(b: &[u8], p: &mut usize) -> u64 {
    let first = b[*p];
    *p += 1;
    let n = match first {
        0..=0xfa => return u64::from(first),
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => panic!("bad packed integer"),
    };
    let v = b[*p..*p + n]
        .iter()
        .rev()
        .fold(0u64, |a, &x| (a << 8) | u64::from(x));
    *p += n;
    v
}

fn le(b: &[u8]) -> usize {
    b.iter()
        .rev()
        .fold(0usize, |a, &x| (a << 8) | usize::from(x))
}

struct Table {
    types: Vec<u8>,
    meta: Vec<Vec<u8>>,
}

/// Every JSON column value of every rows event at the top level of `file` (only the
/// column types these fixtures use: INT, VARCHAR, JSON).
pub fn json_cells(file: &[u8]) -> Vec<JsonCell> {
    let mut cells = Vec::new();
    let mut tables = std::collections::HashMap::new();
    let mut crc = 0;
    let mut p = 4;
    while p + 19 <= file.len() {
        let typ = file[p + 4];
        let len = le(&file[p + 9..p + 13]);
        let event = &file[p..p + len];
        p += len;
        if typ == 15 {
            crc = if event[len - 5] == 1 { 4 } else { 0 };
            continue;
        }
        let body = &event[19..len - crc];
        match typ {
            19 => {
                let id = le(&body[..6]);
                let mut q = 8;
                q += usize::from(body[q]) + 2;
                q += usize::from(body[q]) + 2;
                let n = packed(body, &mut q) as usize;
                let types = body[q..q + n].to_vec();
                q += n;
                packed(body, &mut q);
                let mut meta = Vec::new();
                for &t in &types {
                    let m = match t {
                        3 => 0,
                        15 => 2,
                        245 => 1,
                        _ => panic!("column type {t} not handled by the test walker"),
                    };
                    meta.push(body[q..q + m].to_vec());
                    q += m;
                }
                tables.insert(id, Table { types, meta });
            }
            30..=32 | 39 => {
                let t = &tables[&le(&body[..6])];
                let mut q = 8;
                q += le(&body[q..q + 2]);
                let n = packed(body, &mut q) as usize;
                let bl = n.div_ceil(8);
                let before_cols = body[q..q + bl].to_vec();
                q += bl;
                let after_cols = if typ == 31 || typ == 39 {
                    q += bl;
                    body[q - bl..q].to_vec()
                } else {
                    before_cols.clone()
                };
                let images: &[bool] = match typ {
                    30 => &[true],
                    32 => &[false],
                    _ => &[false, true],
                };
                while q < body.len() {
                    for &after in images {
                        let cols = if after { &after_cols } else { &before_cols };
                        let mut partial_bits = Vec::new();
                        if typ == 39 && after {
                            let options = packed(body, &mut q);
                            if options & 1 == 1 {
                                let json_cols = t.types.iter().filter(|&&x| x == 245).count();
                                partial_bits = body[q..q + json_cols.div_ceil(8)].to_vec();
                                q += partial_bits.len();
                            }
                        }
                        let present: Vec<usize> = (0..n)
                            .filter(|&i| cols[i / 8] >> (i % 8) & 1 == 1)
                            .collect();
                        let nulls = body[q..q + present.len().div_ceil(8)].to_vec();
                        q += nulls.len();
                        let mut json_index = 0;
                        let mut k = 0;
                        for i in 0..n {
                            let is_json = t.types[i] == 245;
                            let partial = is_json
                                && partial_bits
                                    .get(json_index / 8)
                                    .is_some_and(|b| b >> (json_index % 8) & 1 == 1);
                            json_index += usize::from(is_json);
                            if !present.contains(&i) {
                                continue;
                            }
                            let null = nulls[k / 8] >> (k % 8) & 1 == 1;
                            k += 1;
                            if null {
                                continue;
                            }
                            match t.types[i] {
                                3 => q += 4,
                                15 => {
                                    let w = if le(&t.meta[i]) < 256 { 1 } else { 2 };
                                    q += w + le(&body[q..q + w]);
                                }
                                _ => {
                                    let w = usize::from(t.meta[i][0]);
                                    let len = le(&body[q..q + w]);
                                    cells.push(JsonCell {
                                        partial,
                                        bytes: body[q + w..q + w + len].to_vec(),
                                    });
                                    q += w + len;
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    cells
}

/// mysql_common's reading of a binary JSON value, as serde_json.
pub fn oracle(b: &[u8]) -> serde_json::Value {
    use mysql_common::binlog::jsonb::Value;
    use mysql_common::io::ParseBuf;
    let v: Value = ParseBuf(b).parse(()).unwrap();
    serde_json::Value::from(v.parse().unwrap())
}

/// Our value as mysql_common renders it: decimals and temporals as strings, other
/// opaque values as unbroken base64 strings.
pub fn to_oracle_serde(v: &Json) -> serde_json::Value {
    use serde_json::json;
    use serde_json::Value as V;
    match v {
        Json::Null => V::Null,
        Json::Bool(b) => V::Bool(*b),
        Json::Int16(x) => json!(x),
        Json::UInt16(x) => json!(x),
        Json::Int32(x) => json!(x),
        Json::UInt32(x) => json!(x),
        Json::Int64(x) => json!(x),
        Json::UInt64(x) => json!(x),
        Json::Double(x) => serde_json::Number::from_f64(*x).map_or(json!(0), V::Number),
        Json::String(s) => V::String(String::from_utf8_lossy(s).into_owned()),
        Json::Array(a) => V::Array(a.iter().map(to_oracle_serde).collect()),
        Json::Object(m) => V::Object(
            m.iter()
                .map(|(k, x)| (String::from_utf8_lossy(k).into_owned(), to_oracle_serde(x)))
                .collect(),
        ),
        Json::Opaque {
            field_type: ft,
            data,
        } => {
            let mut s = String::new();
            write_opaque(*ft, data, false, &mut s);
            V::String(s.replace('\n', ""))
        }
    }
}
