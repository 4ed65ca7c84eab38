//! Reading the tables in parallel: the pieces each table is read in, and the workers that
//! read them into their spools as row images.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use binlog::snapshot::{encode_row, ServerValue, TableLayout};
use mysql::prelude::Queryable;
use mysql::Conn;

use super::catalog::Chosen;
use super::msg;
use super::spool::Spool;
use crate::cli::connection::{cell, describe, first, ConnSpec};
use crate::cli::output::CliResult;

/// One piece of work: a table, or a range of its primary key.
pub struct Item {
    /// Index of the table.
    pub table: usize,
    /// The SELECT that reads it.
    pub sql: String,
    /// Whether it is the table's first piece.
    pub first: bool,
    /// Whether it is the table's last piece.
    pub last: bool,
}

/// Rows per piece when a big InnoDB table is read by several connections.
pub const PIECE_ROWS: u64 = 100_000;
/// Bytes of row images a worker gathers before handing them on.
const CHUNK_BYTES: usize = 256 << 10;

/// The pieces each table is read in: one per table, or, for a big InnoDB table with a
/// one-column integer primary key read by several connections, ranges of that key. InnoDB
/// tables are read in primary key order, so that the pieces join up in the order a single
/// read gives.
pub fn plan(
    conn: &mut Conn,
    chosen: &[Chosen],
    layouts: &[TableLayout],
    workers: usize,
) -> CliResult<Vec<Item>> {
    use binlog::snapshot::table::quote_ident;
    let mut items = Vec::new();
    for (i, (t, l)) in chosen.iter().zip(layouts).enumerate() {
        let base = l.select_sql();
        let innodb = t.engine.eq_ignore_ascii_case("InnoDB");
        let order = if innodb {
            l.order_by_primary_key()
        } else {
            String::new()
        };
        let pieces = (t.estimated_rows / PIECE_ROWS).clamp(1, 64);
        let key = l
            .integer_primary_key()
            .filter(|_| innodb && workers > 1 && pieces > 1);
        let range = match key {
            Some(k) => {
                let q = quote_ident(&l.column_names[k]);
                let row = first(
                    conn,
                    &format!(
                        "SELECT CAST(MIN({q}) AS CHAR), CAST(MAX({q}) AS CHAR) FROM {}.{}",
                        quote_ident(&t.schema),
                        quote_ident(&t.name)
                    ),
                )
                .map_err(|e| msg(format!("reading {}.{}: {}", t.schema, t.name, describe(&e))))?;
                match row.map(|r| (cell(&r, 0), cell(&r, 1))) {
                    Some((Some(lo), Some(hi))) => match (lo.parse::<i128>(), hi.parse::<i128>()) {
                        (Ok(lo), Ok(hi)) if hi > lo => Some((q, lo, hi)),
                        _ => None,
                    },
                    _ => None,
                }
            }
            None => None,
        };
        let Some((q, lo, hi)) = range else {
            items.push(Item {
                table: i,
                sql: format!("{base}{order}"),
                first: true,
                last: true,
            });
            continue;
        };
        // Boundaries lo + j*step; the first piece has no lower bound and the last no
        // upper one, so no row can fall between pieces.
        let k = i128::from(pieces);
        let step = ((hi - lo) / k).max(1);
        let bounds: Vec<i128> = (1..k).map(|j| lo + j * step).filter(|&b| b <= hi).collect();
        for j in 0..=bounds.len() {
            let mut cond = Vec::new();
            if j > 0 {
                cond.push(format!("{q} >= {}", bounds[j - 1]));
            }
            if j < bounds.len() {
                cond.push(format!("{q} < {}", bounds[j]));
            }
            let wher = if cond.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", cond.join(" AND "))
            };
            items.push(Item {
                table: i,
                sql: format!("{base}{wher}{order}"),
                first: j == 0,
                last: j == bounds.len(),
            });
        }
    }
    Ok(items)
}

/// Reads one piece into its spool.
fn read_item(
    conn: &mut Conn,
    item: &Item,
    layout: &TableLayout,
    spool: &Spool,
    shared: &Shared,
) -> Result<(), String> {
    let fail = |e: &mysql::Error| format!("reading {}: {}", layout.qualified_name(), describe(e));
    let result = conn
        .exec_iter(item.sql.as_str(), ())
        .map_err(|e| fail(&e))?;
    let n = layout.columns.len();
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
    let mut rows = 0u64;
    for row in result {
        let row = row.map_err(|e| fail(&e))?;
        if row.len() != n {
            return Err(format!(
                "{}: {} columns returned for {n}",
                layout.qualified_name(),
                row.len()
            ));
        }
        let start = chunk.len();
        chunk.extend_from_slice(&[0; 4]);
        encode_row(
            layout,
            (0..n).map(|i| row.as_ref(i).map_or(ServerValue::Null, server_value)),
            &mut chunk,
        )
        .map_err(|e| e.kind().to_string())?;
        let len = u32::try_from(chunk.len() - start - 4)
            .map_err(|_| format!("{}: a row over 4 GiB", layout.qualified_name()))?;
        chunk[start..start + 4].copy_from_slice(&len.to_le_bytes());
        rows += 1;
        if chunk.len() >= CHUNK_BYTES {
            if shared.stopping() {
                return Err("stopped".into());
            }
            spool.rows.fetch_add(rows, Ordering::Relaxed);
            spool.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            rows = 0;
            spool.push(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(CHUNK_BYTES + (64 << 10)),
            ))?;
        }
    }
    spool.rows.fetch_add(rows, Ordering::Relaxed);
    spool.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    if !chunk.is_empty() {
        spool.push(chunk)?;
    }
    Ok(())
}

/// A value the `mysql` crate read, as the library takes it.
pub(crate) fn server_value(v: &mysql::Value) -> ServerValue<'_> {
    match *v {
        mysql::Value::NULL => ServerValue::Null,
        mysql::Value::Bytes(ref b) => ServerValue::Bytes(b),
        mysql::Value::Int(i) => ServerValue::Int(i),
        mysql::Value::UInt(u) => ServerValue::UInt(u),
        mysql::Value::Float(f) => ServerValue::Float(f),
        mysql::Value::Double(d) => ServerValue::Double(d),
        mysql::Value::Date(y, mo, d, h, mi, s, us) => ServerValue::Date(y, mo, d, h, mi, s, us),
        mysql::Value::Time(neg, days, h, mi, s, us) => ServerValue::Time(neg, days, h, mi, s, us),
    }
}

/// What the workers and the writer share.
pub struct Shared {
    /// The pieces, in output order.
    pub items: Vec<Item>,
    /// Each table's layout.
    pub layouts: Vec<TableLayout>,
    /// Each piece's spool.
    pub spools: Vec<Spool>,
    /// The next piece to read.
    pub next: AtomicUsize,
    /// Set when a worker failed.
    pub abort: AtomicBool,
    /// Set by a signal.
    pub interrupted: Arc<AtomicBool>,
}

impl Shared {
    /// Whether the workers should stop.
    pub fn stopping(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || self.interrupted.load(Ordering::Relaxed)
    }
}

/// A worker: reads pieces until there are none left.
pub fn worker(mut conn: Conn, shared: Arc<Shared>) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if i >= shared.items.len() {
            break;
        }
        let item = &shared.items[i];
        let spool = &shared.spools[i];
        if shared.stopping() {
            spool.fail("stopped".into());
            continue;
        }
        match read_item(&mut conn, item, &shared.layouts[item.table], spool, &shared) {
            Ok(()) => spool.finish(),
            Err(e) => {
                shared.abort.store(true, Ordering::SeqCst);
                spool.fail(e);
            }
        }
    }
    let _ = conn.query_drop("COMMIT");
}

/// Ends the workers' connections after a failure, so that no read goes on.
pub fn kill(ctl: &mut Conn, spec: &ConnSpec, ids: &[u32]) {
    let mut fresh;
    let conn = if ctl.ping().is_ok() {
        ctl
    } else {
        match spec.connect() {
            Ok(c) => {
                fresh = c;
                &mut fresh
            }
            Err(_) => return,
        }
    };
    for id in ids {
        let _ = conn.query_drop(format!("KILL {id}"));
    }
}
