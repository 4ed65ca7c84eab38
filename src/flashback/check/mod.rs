//! `flashback --check`: before an undo is applied, are the rows it would touch still as
//! the mistake left them?
//!
//! The library part knows nothing of connections; the caller reads the live rows:
//!
//! - [`key`]: how rows of a table are identified (its primary key, else a unique key
//!   without NULLs, else every column), and the check that a live table still has the
//!   columns the binlog logged ([`TableDesc`], [`TableKey`]).
//! - [`expect`]: one pass over the plan's selected changes, in commit order, giving each
//!   touched row (by key) the image the binlog says it has *now*: the after-image of the
//!   last selected change to it, or none when that change deleted it ([`Expected`]).
//! - [`compare`]: a live row against that image, value by value as the binlog encodes
//!   them ([`Cells`]); and [`LeaveOut`], the rows the undo leaves out
//!   (`--on-conflict skip`), with every other selected change linked to them by a key
//!   change.
//! - [`spill`]: past the memory budget, the touched rows as sorted runs in a file the
//!   caller gives, merged back by (table, key), the last change to a row winning.
//!
//! Values are compared as bytes of the binlog's encoding: the caller turns what the server
//! returns into a row image of the same columns (as `snapshot` does, exactly), so FLOAT
//! bits, DECIMAL digits, fractional seconds, character sets, BLOBs and NULLs compare
//! exactly. MySQL's binary JSON, whose bytes depend on how a document was written, is
//! compared as documents when the bytes differ.
//!
//! Memory: while they fit the caller's budget, each touched row's last image and key (twice)
//! and about 112 bytes; past it, sorted runs in a file and one buffer per merged run. The
//! changes of key and the rows `skip` leaves out stay in memory, each refused past a
//! quarter of the budget.

pub mod compare;
pub mod expect;
pub mod key;
pub mod spill;

pub use compare::{Conflict, LeaveOut, Verdict};
pub use expect::{
    expect, CheckTable, Expected, ExpectedRow, ExpectedRows, OpenSpill, SpillFile, Spilled,
};
pub use key::{choose_key, KeyKind, TableDesc, TableKey};

use crate::error::{Error, Result};

/// One cell of a row: a column absent from the image, NULL, or the value's bytes as
/// logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// The image does not hold the column.
    Absent,
    /// SQL NULL.
    Null,
    /// The value's bytes as a row image holds them.
    Value(&'a [u8]),
}

/// A row's cells, one per column in order (or one per key column, for a key), packed in
/// one allocation: a tag byte per cell (0 absent, 1 NULL, 2 value followed by its
/// 4-byte length and bytes).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cells(Box<[u8]>);

impl std::fmt::Debug for Cells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Cells {
    /// Packs `n` cells from the present columns' raw values (`(index, None for NULL or
    /// the bytes)`, in column order); the other columns are absent.
    pub fn from_raw(n: usize, raw: &[crate::row::RawValue]) -> Result<Cells> {
        let mut out = Vec::with_capacity(
            n + raw
                .iter()
                .map(|(_, v)| v.map_or(0, |b| b.len() + 4))
                .sum::<usize>(),
        );
        let mut next = 0;
        for &(i, v) in raw {
            if i < next || i >= n {
                return Err(Error::malformed(0, "row values out of column order"));
            }
            out.resize(out.len() + (i - next), 0);
            push_cell(&mut out, v.map_or(Cell::Null, Cell::Value))?;
            next = i + 1;
        }
        out.resize(out.len() + (n - next), 0);
        Ok(Cells(out.into_boxed_slice()))
    }

    /// Packs cells given one by one.
    pub fn from_cells<'a>(cells: impl IntoIterator<Item = Cell<'a>>) -> Result<Cells> {
        let mut out = Vec::new();
        for c in cells {
            push_cell(&mut out, c)?;
        }
        Ok(Cells(out.into_boxed_slice()))
    }

    /// The cells in order.
    pub fn iter(&self) -> CellIter<'_> {
        CellIter { rest: &self.0 }
    }

    /// The cells of `columns`, in that order.
    pub fn pick(&self, columns: &[usize]) -> Result<Cells> {
        let all: Vec<Cell> = self.iter().collect();
        Cells::from_cells(
            columns
                .iter()
                .map(|&i| all.get(i).copied().unwrap_or(Cell::Absent)),
        )
    }

    /// These cells, with `other`'s present ones over them (an update's after-image that
    /// lacks columns keeps their before values).
    pub fn overlay(&self, other: &Cells) -> Result<Cells> {
        Cells::from_cells(self.iter().zip(other.iter()).map(|(a, b)| match b {
            Cell::Absent => a,
            b => b,
        }))
    }

    /// Whether any cell is absent.
    pub fn has_absent(&self) -> bool {
        self.iter().any(|c| c == Cell::Absent)
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.0.len()
    }

    /// The packed bytes (see [`Cells`]).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Cells from packed bytes, checked: every tag known, every length within the bytes.
    pub fn from_packed(bytes: &[u8]) -> Result<Cells> {
        let mut rest = bytes;
        while let Some((&tag, r)) = rest.split_first() {
            rest = match tag {
                0 | 1 => r,
                2 => {
                    let len = r
                        .get(..4)
                        .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize)
                        .ok_or_else(|| Error::malformed(0, "packed cells cut short"))?;
                    r.get(4..)
                        .and_then(|v| v.get(len..))
                        .ok_or_else(|| Error::malformed(0, "packed cells cut short"))?
                }
                _ => return Err(Error::malformed(0, "packed cells with an unknown tag")),
            };
        }
        Ok(Cells(bytes.into()))
    }
}

fn push_cell(out: &mut Vec<u8>, c: Cell) -> Result<()> {
    match c {
        Cell::Absent => out.push(0),
        Cell::Null => out.push(1),
        Cell::Value(b) => {
            let len =
                u32::try_from(b.len()).map_err(|_| Error::unsupported(0, "a value over 4 GiB"))?;
            out.push(2);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(b);
        }
    }
    Ok(())
}

/// Iterator over [`Cells`].
#[derive(Debug, Clone)]
pub struct CellIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for CellIter<'a> {
    type Item = Cell<'a>;

    fn next(&mut self) -> Option<Cell<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        match tag {
            0 => {
                self.rest = rest;
                Some(Cell::Absent)
            }
            1 => {
                self.rest = rest;
                Some(Cell::Null)
            }
            _ => {
                // Packed by `push_cell` only: the length is there.
                let len = rest
                    .get(..4)
                    .map_or(0, |l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize);
                let value = rest.get(4..4 + len).unwrap_or(&[]);
                self.rest = rest.get(4 + len..).unwrap_or(&[]);
                Some(Cell::Value(value))
            }
        }
    }
}

#[cfg(test)]
mod tests;
