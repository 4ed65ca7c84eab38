//! What the binlog says the rows an undo touches hold now: one pass over the plan's
//! selected changes in commit order, keeping for each row (by its key) the image of the
//! last change to it.

use std::collections::HashMap;
use std::sync::Arc;

use super::key::{check_table, choose_key, TableDesc, TableKey};
use super::{Cell, Cells};
use crate::error::{Error, Result};
use crate::event::rows::RowsKind;
use crate::event::EventData;
use crate::reader::Binlog;
use crate::row::table_cache::TableCache;
use crate::row::value::decode;
use crate::row::Value;
use crate::row::{RowImage, Rows, TableInfo};
use crate::Format;

use crate::flashback::rows_index::{index_transaction, TxnBytes, TxnIndex};
use crate::flashback::{FileError, Options, Plan, Position};

/// One row an undo touches.
#[derive(Debug, Clone)]
pub struct ExpectedRow {
    /// Its key's cells (every column's for a table without a usable key).
    pub key: Cells,
    /// What the binlog says it holds now (every column of the last change's after-image;
    /// an update's columns missing there keep their before values); `None` when the last
    /// change deleted it (or moved it to another key).
    pub now: Option<Cells>,
    /// The rows event of the last change to it, which the undo undoes first (inside a
    /// MySQL compressed transaction, the TRANSACTION_PAYLOAD event).
    pub pos: Position,
}

/// The touched rows of one table.
#[derive(Debug)]
pub struct CheckTable {
    /// Database.
    pub db: String,
    /// Table.
    pub name: String,
    /// The live table as the caller described it (checked against every TABLE_MAP).
    pub desc: TableDesc,
    /// The columns, to read images with.
    pub info: TableInfo,
    /// How its rows are identified.
    pub key: TableKey,
    /// The touched rows, in the order first touched.
    pub rows: Vec<ExpectedRow>,
    ids: HashMap<Cells, u32>,
    /// Union-find parents: rows linked by a change of key (an update that moved a row
    /// from one key to another) share a root.
    parent: Vec<u32>,
}

impl CheckTable {
    fn new(db: String, name: String, desc: TableDesc) -> CheckTable {
        let info = TableInfo::new(desc.columns.clone(), desc.unsigned.clone());
        let key = choose_key(&desc);
        CheckTable {
            db,
            name,
            desc,
            info,
            key,
            rows: Vec::new(),
            ids: HashMap::new(),
            parent: Vec::new(),
        }
    }

    /// `db.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.db, self.name)
    }

    /// The row with this key, if the undo touches it.
    pub fn lookup(&self, key: &Cells) -> Option<u32> {
        self.ids.get(key).copied()
    }

    /// The key of a row's cells.
    pub fn key_of(&self, cells: &Cells) -> Result<Cells> {
        cells.pick(&self.key.columns)
    }

    /// The cells of an image of this table (its columns are this table's: checked).
    pub fn cells(&self, img: &RowImage) -> Result<Cells> {
        Cells::from_raw(self.info.columns.len(), &img.raw_values(&self.info)?)
    }

    /// The cells of a live row: an image of every column of this table, as
    /// [`crate::snapshot::encode_row`] writes what the server returned.
    pub fn live_cells(&self, image: &[u8]) -> Result<Cells> {
        let n = self.info.columns.len();
        let present = vec![0xffu8; n.div_ceil(8)];
        let img = RowImage {
            bytes: image,
            present: &present,
            column_count: n,
            has_value_options: false,
            offset: 0,
        };
        self.cells(&img)
    }

    /// The values of the present cells: `(column index, value)`.
    pub fn values<'c>(&self, cells: &'c Cells) -> Result<Vec<(usize, Value<'c>)>> {
        cells
            .iter()
            .enumerate()
            .filter(|(_, c)| *c != Cell::Absent)
            .map(|(i, c)| Ok((i, self.value(i, c)?)))
            .collect()
    }

    /// The values of a key's cells, with their column indexes.
    pub fn key_values<'c>(&self, key: &'c Cells) -> Result<Vec<(usize, Value<'c>)>> {
        key.iter()
            .zip(&self.key.columns)
            .map(|(c, &i)| Ok((i, self.value(i, c)?)))
            .collect()
    }

    /// The value of column `i` in `cell` (NULL for an absent one).
    fn value<'c>(&self, i: usize, cell: Cell<'c>) -> Result<Value<'c>> {
        match cell {
            Cell::Absent | Cell::Null => Ok(Value::Null),
            Cell::Value(b) => {
                let col =
                    self.info.columns.get(i).ok_or_else(|| {
                        Error::malformed(0, "a cell for a column the table lacks")
                    })?;
                Ok(decode(col, self.info.is_unsigned(i), false, b, 0)?.0)
            }
        }
    }

    /// The row linked to `id` by key changes that stands for them all.
    pub(crate) fn root(&self, mut id: u32) -> u32 {
        while let Some(&p) = self.parent.get(id as usize) {
            if p == id {
                break;
            }
            id = p;
        }
        id
    }

    fn link(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }

    /// Sets what row `key` holds after a change at `pos`; returns its id.
    fn set(&mut self, key: Cells, now: Option<Cells>, pos: Position, at: u64) -> Result<u32> {
        if key.has_absent() {
            return Err(Error::unsupported(
                at,
                format!(
                    "--check: a row image of {} lacks a column of the key that identifies its \
                     rows; it cannot be found on the server",
                    self.qualified_name()
                ),
            ));
        }
        if let Some(&id) = self.ids.get(&key) {
            let r = &mut self.rows[id as usize];
            r.now = now;
            r.pos = pos;
            return Ok(id);
        }
        let id = u32::try_from(self.rows.len())
            .map_err(|_| Error::unsupported(at, "--check: over 4 billion rows in one table"))?;
        self.ids.insert(key.clone(), id);
        self.rows.push(ExpectedRow { key, now, pos });
        self.parent.push(id);
        Ok(id)
    }

    /// Takes the key index and links out (for [`super::LeaveOut`]).
    pub(crate) fn take_ids(&mut self) -> (HashMap<Cells, u32>, Vec<u32>) {
        (
            std::mem::take(&mut self.ids),
            std::mem::take(&mut self.parent),
        )
    }

    /// Records one row change.
    fn change(
        &mut self,
        kind: RowsKind,
        before: Option<Cells>,
        after: Option<Cells>,
        pos: Position,
        at: u64,
    ) -> Result<()> {
        match (kind, before, after) {
            (RowsKind::Write, _, Some(a)) => {
                self.set(self.key_of(&a)?, Some(a), pos, at)?;
            }
            (RowsKind::Delete, Some(b), _) => {
                self.set(self.key_of(&b)?, None, pos, at)?;
            }
            (RowsKind::Update | RowsKind::PartialUpdate, Some(b), Some(a)) => {
                let now = b.overlay(&a)?;
                let old = self.key_of(&b)?;
                let new = self.key_of(&now)?;
                if old == new {
                    self.set(new, Some(now), pos, at)?;
                } else {
                    let o = self.set(old, None, pos, at)?;
                    let n = self.set(new, Some(now), pos, at)?;
                    self.link(o, n);
                }
            }
            _ => return Err(Error::malformed(at, "row change without its image")),
        }
        Ok(())
    }
}

/// The touched rows of every table an undo touches.
#[derive(Debug, Default)]
pub struct Expected {
    /// The tables, in the order first met.
    pub tables: Vec<CheckTable>,
    by_name: HashMap<(Vec<u8>, Vec<u8>), usize>,
}

impl Expected {
    /// The table named `db.name`, by its index.
    pub fn find(&self, db: &[u8], name: &[u8]) -> Option<usize> {
        self.by_name.get(&(db.to_vec(), name.to_vec())).copied()
    }

    /// Rows touched, over all tables.
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }

    pub(crate) fn into_tables(self) -> Vec<CheckTable> {
        self.tables
    }
}

/// Goes through the plan's selected row changes in commit order and gives each touched
/// row the image the binlog says it has now. `describe` gives the live table (database,
/// table), or why there is none; a table whose live columns are not those logged is
/// refused, naming its TABLE_MAP.
pub fn expect(
    inputs: &[Binlog],
    plan: &Plan,
    opts: &Options,
    describe: &mut dyn FnMut(&str, &str) -> std::result::Result<TableDesc, String>,
) -> Result<Expected, FileError> {
    let mut out = Expected::default();
    let mut index = TxnIndex::default();
    let mut cache = TableCache::default();
    // TABLE_MAP bodies already checked against their table, by table index.
    let mut checked: HashMap<Vec<u8>, usize> = HashMap::new();
    for txn in &plan.txns {
        let fi = txn.file as usize;
        let format = Arc::new(inputs[fi].format().clone());
        let bytes = TxnBytes::open(inputs[fi].data(), &format, txn.start, txn.end)
            .map_err(|e| FileError::input(fi, e))?;
        let located = |e: Error| FileError::input(fi, bytes.locate(e));
        index_transaction(&bytes, opts, &mut index).map_err(located)?;
        for r in &index.rows {
            let pos = Position {
                file: fi,
                offset: bytes.file_offset(r.offset),
            };
            transaction_rows(
                &bytes,
                bytes.format(),
                r.table_map,
                r.offset,
                pos,
                &mut cache,
                &mut checked,
                &mut out,
                describe,
            )
            .map_err(located)?;
        }
    }
    Ok(out)
}

/// The rows of one rows event (at `offset`, its TABLE_MAP at `tm_at`) into `out`.
#[allow(clippy::too_many_arguments)]
fn transaction_rows(
    bytes: &TxnBytes,
    format: &Arc<Format>,
    tm_at: u64,
    offset: u64,
    pos: Position,
    cache: &mut TableCache,
    checked: &mut HashMap<Vec<u8>, usize>,
    out: &mut Expected,
    describe: &mut dyn FnMut(&str, &str) -> std::result::Result<TableDesc, String>,
) -> Result<()> {
    let tm_ev = bytes.event_at(tm_at)?;
    let EventData::TableMap(tm) = tm_ev.decode(format)? else {
        return Err(Error::malformed(tm_at, "not a TABLE_MAP event"));
    };
    // The body without the table id, which changes with every flush.
    let skip = format.table_id_len(crate::event::header::EventType::TABLE_MAP);
    let body = tm_ev.body().get(skip..).unwrap_or(&[]).to_vec();
    let ti = match checked.get(&body) {
        Some(&ti) => ti,
        None => {
            let ti = match out.find(tm.schema, tm.table) {
                Some(ti) => ti,
                None => {
                    let (db, name) = (
                        String::from_utf8_lossy(tm.schema).into_owned(),
                        String::from_utf8_lossy(tm.table).into_owned(),
                    );
                    let desc = describe(&db, &name).map_err(|why| {
                        Error::unsupported(tm_at, format!("--check: table {db}.{name}: {why}"))
                    })?;
                    out.tables.push(CheckTable::new(db, name, desc));
                    let ti = out.tables.len() - 1;
                    out.by_name
                        .insert((tm.schema.to_vec(), tm.table.to_vec()), ti);
                    ti
                }
            };
            check_table(&tm, &out.tables[ti].desc, tm_at)?;
            checked.insert(body, ti);
            ti
        }
    };
    let table = &mut out.tables[ti];
    let logged = cache
        .insert(&tm, tm_ev.body())
        .info
        .as_ref()
        .map_err(|e| e.clone())?;
    let ev = bytes.event_at(offset)?;
    let EventData::Rows(re) = ev.decode(format)? else {
        return Err(Error::malformed(offset, "not a rows event"));
    };
    let data = re.rows_data()?;
    for row in Rows::new(&re, &data, logged)? {
        let row = row?;
        let at = row.before.or(row.after).map_or(offset, |i| i.offset);
        let before = row.before.map(|i| table.cells(&i)).transpose()?;
        let after = row.after.map(|i| table.cells(&i)).transpose()?;
        table.change(re.kind, before, after, pos, at)?;
    }
    Ok(())
}
