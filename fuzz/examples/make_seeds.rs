//! Turns real binlogs into seeds for the targets that do not read whole binlogs:
//!
//! - `row_decoder`: each rows event with the TABLE_MAP it refers to, in the `RowCase`
//!   format (rows data cut to whole rows within 16 KiB);
//! - `jsonb`: each JSON value found in those rows.
//!
//! Usage: `make_seeds OUT_DIR BINLOG...`; writes `OUT_DIR/row_decoder/*` and
//! `OUT_DIR/jsonb/*`, one file per distinct seed, named by a hash of its bytes. Files that
//! are not binlogs, or are damaged, just give fewer seeds.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use binlog::event::payload::payload_events;
use binlog::event::TableMap;
use binlog::row::{Rows, TableInfo, Value};
use binlog::{Binlog, EventData, Events};
use binlog_fuzz::RowCase;

/// Largest rows data kept in one row_decoder seed.
const MAX_ROWS_DATA: usize = 16 * 1024;
/// Most seeds taken from one binlog, per target (big files repeat themselves).
const MAX_PER_FILE: usize = 200;

/// Seeds collected so far, deduplicated.
struct Seeds {
    out: PathBuf,
    seen: HashSet<u64>,
    written: HashMap<&'static str, usize>,
}

impl Seeds {
    /// Writes `bytes` as a seed for `target` unless an identical one exists.
    fn add(&mut self, target: &'static str, bytes: &[u8]) {
        let mut h = DefaultHasher::new();
        target.hash(&mut h);
        bytes.hash(&mut h);
        let key = h.finish();
        if !self.seen.insert(key) {
            return;
        }
        let dir = self.out.join(target);
        std::fs::create_dir_all(&dir).expect("create seed directory");
        std::fs::write(dir.join(format!("seed-{key:016x}")), bytes).expect("write seed");
        *self.written.entry(target).or_default() += 1;
    }
}

/// The table maps seen so far in one file, kept as owned bodies so that they outlive the
/// (possibly decompressed) buffer they came from.
type Tables = HashMap<u64, Vec<u8>>;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(args.next().expect("usage: make_seeds OUT_DIR BINLOG..."));
    let mut seeds = Seeds {
        out,
        seen: HashSet::new(),
        written: HashMap::new(),
    };
    for path in args {
        let before: usize = seeds.written.values().sum();
        from_file(Path::new(&path), &mut seeds);
        let after: usize = seeds.written.values().sum();
        if after > before {
            eprintln!("{}: {} seeds", Path::new(&path).display(), after - before);
        }
    }
    for (target, n) in &seeds.written {
        println!("{target}: {n} seeds");
    }
}

fn from_file(path: &Path, seeds: &mut Seeds) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let Ok(log) = Binlog::parse(&bytes) else {
        return;
    };
    let mut tables = Tables::new();
    let mut budget = (MAX_PER_FILE, MAX_PER_FILE);
    walk(
        log.events().verify_checksums(false),
        &mut tables,
        seeds,
        &mut budget,
        true,
    );
}

fn walk(
    mut events: Events,
    tables: &mut Tables,
    seeds: &mut Seeds,
    budget: &mut (usize, usize),
    top_level: bool,
) {
    while let Some(Ok(ev)) = events.next() {
        if ev.is_encrypted() {
            continue;
        }
        let format = events.shared_format();
        match ev.decode(&format) {
            Ok(EventData::TableMap(tm)) => {
                tables.insert(tm.table_id, ev.body().to_vec());
            }
            Ok(EventData::Rows(re)) => {
                let Some(tm_body) = tables.get(&re.table_id) else {
                    continue;
                };
                let Ok(tm) = TableMap::parse(tm_body, 0, usize::from(re.table_id_len)) else {
                    continue;
                };
                let Ok(table) = TableInfo::from_table_map(&tm) else {
                    continue;
                };
                let Ok(data) = re.rows_data() else { continue };
                let Ok(rows) = Rows::new(&re, &data, &table) else {
                    continue;
                };
                // Whole rows up to the size cap (at least one row).
                let mut cut = 0;
                for row in rows {
                    let Ok(row) = row else { break };
                    // An empty row would come back forever (known bug 1 in README.md).
                    if row.end == row.start || (row.end > MAX_ROWS_DATA && cut > 0) {
                        break;
                    }
                    cut = row.end;
                    for image in [row.before, row.after].into_iter().flatten() {
                        let Ok(values) = image.values(&table) else {
                            continue;
                        };
                        for (_, v) in values.flatten() {
                            if let Value::Json(b) | Value::JsonDiff(b) = v {
                                if budget.1 > 0 && b.len() <= MAX_ROWS_DATA {
                                    budget.1 -= 1;
                                    seeds.add("jsonb", &b);
                                }
                            }
                        }
                    }
                }
                if budget.0 == 0 {
                    continue;
                }
                // A compressed event's stored bytes can only be kept whole.
                let case = if re.compressed {
                    (re.data.len() <= MAX_ROWS_DATA)
                        .then(|| RowCase::from_events(&tm, &re, re.data))
                } else {
                    Some(RowCase::from_events(&tm, &re, &data[..cut]))
                };
                if let Some(bytes) = case.and_then(|c| c.encode()) {
                    budget.0 -= 1;
                    seeds.add("row_decoder", &bytes);
                }
            }
            Ok(EventData::TransactionPayload(p)) if top_level => {
                if let Ok(inner) = p.decompress() {
                    walk(
                        payload_events(&inner, &format),
                        tables,
                        seeds,
                        budget,
                        false,
                    );
                }
            }
            _ => {}
        }
    }
}
