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
