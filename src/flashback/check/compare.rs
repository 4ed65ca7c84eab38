//! A live row against what the binlog says it holds, and the rows an undo leaves out.

use std::collections::{HashMap, HashSet};

use super::expect::{CheckTable, ExpectedRow};
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
    /// The table's index in [`super::Expected::tables`].
    pub table: usize,
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

    /// The id of `key`, given one if new.
    fn id(&mut self, key: Cells) -> u32 {
        let next = self.parent.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.parent.push(id);
        }
        id
    }

    fn link(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent[ra.max(rb) as usize] = ra.min(rb);
        }
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
    /// The rows to leave out: the conflicting ones (`(table index, key)`), and those
    /// linked to them through the tables' changes of key (which are taken out of
    /// `tables`).
    pub fn new(tables: &mut [CheckTable], conflicts: Vec<(usize, Cells)>) -> LeaveOut {
        let mut by_table: HashMap<usize, Vec<Cells>> = HashMap::new();
        for (ti, key) in conflicts {
            by_table.entry(ti).or_default().push(key);
        }
        let mut out = LeaveOut::default();
        for (ti, keys) in by_table {
            let Some(t) = tables.get_mut(ti) else {
                continue;
            };
            let mut left = LeftOut {
                key: t.key.columns.clone(),
                ids: HashMap::new(),
                parent: Vec::new(),
                roots: HashSet::new(),
            };
            for (a, b) in std::mem::take(&mut t.links) {
                let (a, b) = (left.id(a), left.id(b));
                left.link(a, b);
            }
            for k in keys {
                let id = left.id(k);
                let root = left.root(id);
                left.roots.insert(root);
            }
            out.rows += (0..left.parent.len() as u32)
                .filter(|&id| left.roots.contains(&left.root(id)))
                .count();
            out.tables.insert(
                (t.db.clone().into_bytes(), t.name.clone().into_bytes()),
                left,
            );
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
