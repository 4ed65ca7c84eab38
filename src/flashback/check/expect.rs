//! What the binlog says the rows an undo touches hold now: one pass over the plan's
//! selected changes in commit order, keeping for each row (by its key) the image of the
//! last change to it.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::sync::Arc;

use super::key::{check_table, choose_key, TableDesc, TableKey};
use super::spill::{Merged, Record, Spill};
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
    /// Selected changes of key (an update that moved a row from one key to another): the
    /// old key and the new, in commit order (when kept: see [`expect`]).
    pub links: Vec<(Cells, Cells)>,
    /// The touched rows held in memory (since the last spilled run), in the order first
    /// touched.
    rows: Vec<ExpectedRow>,
    ids: HashMap<Cells, u32>,
}

/// Bytes a row held in memory costs besides its cells: its map entry and its slot.
const ROW_OVERHEAD: usize = 112;

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
            links: Vec::new(),
            rows: Vec::new(),
            ids: HashMap::new(),
        }
    }

    /// `db.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.db, self.name)
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

    /// Sets what row `key` holds after a change at `pos`; returns how many more bytes
    /// the table holds.
    fn set(&mut self, key: Cells, now: Option<Cells>, pos: Position, at: u64) -> Result<isize> {
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
        let size = |c: &Option<Cells>| c.as_ref().map_or(0, Cells::size) as isize;
        if let Some(&id) = self.ids.get(&key) {
            let r = &mut self.rows[id as usize];
            let grown = size(&now) - size(&r.now);
            r.now = now;
            r.pos = pos;
            return Ok(grown);
        }
        let id = u32::try_from(self.rows.len())
            .map_err(|_| Error::unsupported(at, "--check: over 4 billion rows in one table"))?;
        let grown = (2 * key.size() + ROW_OVERHEAD) as isize + size(&now);
        self.ids.insert(key.clone(), id);
        self.rows.push(ExpectedRow { key, now, pos });
        Ok(grown)
    }

    /// Records one row change.
    fn change(
        &mut self,
        kind: RowsKind,
        before: Option<Cells>,
        after: Option<Cells>,
        pos: Position,
        at: u64,
        keep_links: bool,
    ) -> Result<Growth> {
        let mut g = Growth::default();
        match (kind, before, after) {
            (RowsKind::Write, _, Some(a)) => {
                g.rows = self.set(self.key_of(&a)?, Some(a), pos, at)?;
            }
            (RowsKind::Delete, Some(b), _) => {
                g.rows = self.set(self.key_of(&b)?, None, pos, at)?;
            }
            (RowsKind::Update | RowsKind::PartialUpdate, Some(b), Some(a)) => {
                let now = b.overlay(&a)?;
                let old = self.key_of(&b)?;
                let new = self.key_of(&now)?;
                if old == new {
                    g.rows = self.set(new, Some(now), pos, at)?;
                } else {
                    if keep_links {
                        g.links = old.size() + new.size() + 2 * ROW_OVERHEAD;
                        self.links.push((old.clone(), new.clone()));
                    }
                    g.rows = self.set(old, None, pos, at)?;
                    g.rows += self.set(new, Some(now), pos, at)?;
                }
            }
            _ => return Err(Error::malformed(at, "row change without its image")),
        }
        Ok(g)
    }
}

/// How much more memory one change takes.
#[derive(Debug, Default)]
struct Growth {
    /// Bytes of touched rows (less when an image got smaller).
    rows: isize,
    /// Bytes of key links.
    links: usize,
}

/// A file for rows past the budget: anything that reads, writes and seeks.
pub trait SpillFile: Read + Write + Seek {}

impl<T: Read + Write + Seek> SpillFile for T {}

/// Opens the file for spilled runs, when the rows outgrow the budget.
pub type OpenSpill<'a> = &'a mut dyn FnMut() -> std::io::Result<Box<dyn SpillFile>>;

/// The touched rows of every table an undo touches: in memory while they fit the budget,
/// then in sorted runs of a file ([`super::spill`]).
pub struct Expected {
    /// The tables, in the order first met.
    pub tables: Vec<CheckTable>,
    by_name: HashMap<(Vec<u8>, Vec<u8>), usize>,
    budget: usize,
    /// Bytes of rows in memory.
    held: usize,
    /// Bytes of key links.
    linked: usize,
    /// Whether changes of key are kept (for [`super::LeaveOut`]).
    keep_links: bool,
    spill: Option<Spill<Box<dyn SpillFile>>>,
}

impl std::fmt::Debug for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expected")
            .field("tables", &self.tables)
            .field("held", &self.held)
            .field("runs", &self.spill.as_ref().map(Spill::runs))
            .finish()
    }
}

/// The touched rows, one by one: table by table in the order first met; inside a table in
/// the order first touched (all held in memory) or in the order of the key's packed bytes
/// (spilled).
pub struct ExpectedRows(RowSource);

enum RowSource {
    /// Held in memory: each table's rows, and the table being read.
    Memory(
        std::vec::IntoIter<(usize, Vec<ExpectedRow>)>,
        Option<(usize, std::vec::IntoIter<ExpectedRow>)>,
    ),
    /// Merged from the spilled runs.
    Spilled(Merged<Box<dyn SpillFile>>),
}

impl std::fmt::Debug for ExpectedRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            RowSource::Memory(..) => "ExpectedRows(memory)",
            RowSource::Spilled(_) => "ExpectedRows(spilled)",
        })
    }
}

impl ExpectedRows {
    /// The next row and its table's index; errors are the spill file's.
    pub fn next_row(&mut self) -> Result<Option<(usize, ExpectedRow)>> {
        match &mut self.0 {
            RowSource::Memory(tables, current) => loop {
                if let Some((ti, rows)) = current {
                    if let Some(r) = rows.next() {
                        return Ok(Some((*ti, r)));
                    }
                }
                match tables.next() {
                    Some((ti, rows)) => *current = Some((ti, rows.into_iter())),
                    None => return Ok(None),
                }
            },
            RowSource::Spilled(m) => Ok(m.next_record()?.map(|r| {
                (
                    r.table as usize,
                    ExpectedRow {
                        key: r.key,
                        now: r.now,
                        pos: r.pos,
                    },
                )
            })),
        }
    }
}

/// What was spilled: runs and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spilled {
    /// Sorted runs written.
    pub runs: usize,
    /// Bytes written to the file.
    pub bytes: u64,
}

/// The tables, their touched rows to read one by one, and what was spilled.
pub type TablesAndRows = (Vec<CheckTable>, ExpectedRows, Option<Spilled>);

impl Expected {
    fn new(budget: usize, keep_links: bool) -> Expected {
        Expected {
            tables: Vec::new(),
            by_name: HashMap::new(),
            budget,
            held: 0,
            linked: 0,
            keep_links,
            spill: None,
        }
    }

    /// The table named `db.name`, by its index.
    pub fn find(&self, db: &[u8], name: &[u8]) -> Option<usize> {
        self.by_name.get(&(db.to_vec(), name.to_vec())).copied()
    }

    /// Writes the rows held in memory as a sorted run (opening the file first).
    fn spill_run(&mut self, open: OpenSpill) -> Result<()> {
        let spill = match &mut self.spill {
            Some(s) => s,
            None => {
                let f = open().map_err(|e| Error::io(0, &e))?;
                self.spill.insert(Spill::new(f, self.budget))
            }
        };
        let mut records = Vec::new();
        for (ti, t) in self.tables.iter_mut().enumerate() {
            t.ids = HashMap::new();
            let table = u32::try_from(ti)
                .map_err(|_| Error::unsupported(0, "--check: over 4 billion tables"))?;
            records.extend(std::mem::take(&mut t.rows).into_iter().map(|r| Record {
                table,
                key: r.key,
                now: r.now,
                pos: r.pos,
            }));
        }
        spill.write_run(records)?;
        self.held = 0;
        Ok(())
    }

    /// The tables, and their rows to read one by one (when spilled: the rows still in
    /// memory written as the last run, and every run merged); errors are the spill
    /// file's.
    pub fn into_rows(mut self, open: OpenSpill) -> Result<TablesAndRows> {
        if self.spill.is_some() && self.held > 0 {
            self.spill_run(open)?;
        }
        if let Some(s) = self.spill.take() {
            let spilled = Spilled {
                runs: s.runs(),
                bytes: s.bytes(),
            };
            let rows = ExpectedRows(RowSource::Spilled(s.merge()?));
            return Ok((self.tables, rows, Some(spilled)));
        }
        let mut all = Vec::new();
        for (ti, t) in self.tables.iter_mut().enumerate() {
            t.ids = HashMap::new();
            all.push((ti, std::mem::take(&mut t.rows)));
        }
        let rows = ExpectedRows(RowSource::Memory(all.into_iter(), None));
        Ok((self.tables, rows, None))
    }

    /// Accounts for a change; refuses key links past a quarter of the budget.
    fn grew(&mut self, g: Growth, at: u64) -> Result<()> {
        self.held = self.held.saturating_add_signed(g.rows);
        self.linked += g.links;
        if self.linked > self.budget / 4 {
            let n: usize = self.tables.iter().map(|t| t.links.len()).sum();
            return Err(Error::unsupported(
                at,
                format!(
                    "--check: {n} changes of key (updates of a row's key) in the selection need \
                     more than a quarter of --check-memory ({} bytes) to link the rows they \
                     move; raise --check-memory",
                    self.budget
                ),
            ));
        }
        Ok(())
    }
}

/// Goes through the plan's selected row changes in commit order and gives each touched
/// row the image the binlog says it has now. `describe` gives the live table (database,
/// table), or why there is none; a table whose live columns are not those logged is
/// refused, naming its TABLE_MAP.
///
/// Rows are held in memory while they take at most `budget` bytes; past that they go to
/// sorted runs in the file `open` gives (errors of that file are [`FileError::output`]
/// ones). With `keep_links` (for [`super::LeaveOut`]), changes of key are kept in memory:
/// past a quarter of the budget they are refused.
pub fn expect(
    inputs: &[Binlog],
    plan: &Plan,
    opts: &Options,
    budget: usize,
    keep_links: bool,
    open: OpenSpill,
    describe: &mut dyn FnMut(&str, &str) -> std::result::Result<TableDesc, String>,
) -> Result<Expected, FileError> {
    let mut out = Expected::new(budget, keep_links);
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
            if out.held > out.budget {
                out.spill_run(open).map_err(FileError::output)?;
            }
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
        let table = &mut out.tables[ti];
        let before = row.before.map(|i| table.cells(&i)).transpose()?;
        let after = row.after.map(|i| table.cells(&i)).transpose()?;
        let g = table.change(re.kind, before, after, pos, at, out.keep_links)?;
        out.grew(g, at)?;
    }
    Ok(())
}
