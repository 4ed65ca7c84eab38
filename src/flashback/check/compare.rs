//! A live row against what the binlog says it holds, and the rows an undo leaves out.

use std::collections::{HashMap, HashSet};

use super::expect::{CheckTable, Expected, ExpectedRow};
use super::{Cell, Cells};
use crate::error::Result;
use crate::event::table_map::TableMap;
use crate::flashback::RowFilter;
use crate::row::column::{Column, ColumnType};
use crate::row::{json, Row, TableInfo};

/// How a live row compares with the binlog's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// As the binlog says.
    Same,
    /// There, with other values.
    Differs,
    /// The binlog says it exists; the server has no row with its key.
    Missing,
    /// The binlog says it was deleted; the server has a row with its key.
    Unexpected,
}

/// A row the undo would touch that is not as the binlog left it.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// The table's index in [`Expected::tables`].
    pub table: usize,
    /// The row's index in its table's rows.
    pub row: u32,
    /// How it differs.
    pub verdict: Verdict,
    /// The live row's cells, when there is one.
    pub found: Option<Cells>,
}

impl CheckTable {
    /// Compares row `row` with the live row that has its key (`found`; `None` when the
    /// server has none).
    pub fn verdict(&self, row: &ExpectedRow, found: Option<&Cells>) -> Verdict {
        match (&row.now, found) {
            (None, None) => Verdict::Same,
            (None, Some(_)) => Verdict::Unexpected,
            (Some(_), None) => Verdict::Missing,
            (Some(want), Some(have)) => {
                let same = want
                    .iter()
                    .zip(have.iter())
                    .zip(&self.info.columns)
                    .all(|((w, h), col)| same_cell(col, w, h));
                if same && want.iter().count() == have.iter().count() {
                    Verdict::Same
                } else {
                    Verdict::Differs
                }
            }
        }
    }
}

/// Whether a live cell holds the value the binlog logged: the same bytes; for MySQL's
/// binary JSON, the same document. A column the binlog's image lacks is not compared.
pub(super) fn same_cell(col: &Column, want: Cell, have: Cell) -> bool {
    match (want, have) {
        (Cell::Absent, _) => true,
        (Cell::Value(w), Cell::Value(h)) if w != h && col.real_type == ColumnType::JSON => {
            same_json(col, w, h)
        }
        (w, h) => w == h,
    }
}

/// Two binary JSON values (with their length prefixes) hold the same document.
fn same_json(col: &Column, a: &[u8], b: &[u8]) -> bool {
    let n = usize::from(col.meta1());
    let doc = |v| json::decode(v).ok();
    match (a.get(n..).and_then(doc), b.get(n..).and_then(doc)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The rows an undo leaves out (`--on-conflict skip`): the conflicting ones, and every
/// row linked to one of them by a selected change of key, so that no selected change to
/// those rows is undone.
#[derive(Debug, Default)]
pub struct LeaveOut {
    tables: HashMap<(Vec<u8>, Vec<u8>), LeftOut>,
    /// Rows left out, over all tables (conflicting and linked).
    pub rows: usize,
}

#[derive(Debug)]
struct LeftOut {
    key: Vec<usize>,
    ids: HashMap<Cells, u32>,
    parent: Vec<u32>,
    roots: HashSet<u32>,
}

impl LeftOut {
    fn root(&self, mut id: u32) -> u32 {
        while let Some(&p) = self.parent.get(id as usize) {
            if p == id {
                break;
            }
            id = p;
        }
        id
    }

    fn holds(&self, cells: &Cells) -> Result<bool> {
        let key = cells.pick(&self.key)?;
        Ok(self
            .ids
            .get(&key)
            .is_some_and(|&id| self.roots.contains(&self.root(id))))
    }
}

impl LeaveOut {
    /// The rows to leave out for these conflicts (the touched rows' images are dropped).
    pub fn new(expected: Expected, conflicts: &[Conflict]) -> LeaveOut {
        let mut out = LeaveOut::default();
        for (ti, mut t) in expected.into_tables().into_iter().enumerate() {
            let roots: HashSet<u32> = conflicts
                .iter()
                .filter(|c| c.table == ti)
                .map(|c| t.root(c.row))
                .collect();
            if roots.is_empty() {
                continue;
            }
            let (ids, parent) = t.take_ids();
            let left = LeftOut {
                key: t.key.columns.clone(),
                ids,
                parent,
                roots,
            };
            out.rows += (0..t.rows.len() as u32)
                .filter(|&id| left.roots.contains(&left.root(id)))
                .count();
            out.tables
                .insert((t.db.into_bytes(), t.name.into_bytes()), left);
        }
        out
    }
}

impl RowFilter for LeaveOut {
    fn leaves_out(&self, tm: &TableMap, table: &TableInfo, row: &Row) -> Result<bool> {
        let Some(t) = self.tables.get(&(tm.schema.to_vec(), tm.table.to_vec())) else {
            return Ok(false);
        };
        let n = table.columns.len();
        let before = match row.before {
            Some(i) => Some(Cells::from_raw(n, &i.raw_values(table)?)?),
            None => None,
        };
        if let Some(b) = &before {
            if t.holds(b)? {
                return Ok(true);
            }
        }
        if let Some(a) = row.after {
            let a = Cells::from_raw(n, &a.raw_values(table)?)?;
            let now = match &before {
                Some(b) => b.overlay(&a)?,
                None => a,
            };
            return t.holds(&now);
        }
        Ok(false)
    }
}
