//! Table ids to row-walking information, kept across transactions.
//!
//! A server writes the same TABLE_MAP before every statement that touches a table, so a
//! long walk sees a few distinct maps many thousand times over. [`TableCache`] parses a
//! map only when its bytes differ from what the id held before, and hands out the
//! [`TableInfo`] needed to find row boundaries together with a shared name.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Result;
use crate::event::rows::RowsEvent;
use crate::event::table_map::TableMap;
use crate::row::count::{CountScratch, RowLayout};
use crate::row::{Rows, TableInfo};

/// `schema.table` of a TABLE_MAP, lossily decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    /// Database name.
    pub schema: String,
    /// Table name.
    pub table: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// What the cache holds for one table id.
#[derive(Debug)]
pub struct CachedTable {
    /// The table's name.
    pub name: Arc<TableName>,
    /// Columns for walking rows (signedness is not filled in), or why the map could not
    /// be read.
    pub info: Result<TableInfo>,
    layout: Option<RowLayout>,
    body: Vec<u8>,
}

impl CachedTable {
    /// Counts the rows of a rows event of this table whose (decompressed) rows data is
    /// `data`: quickly when the columns allow, else by the reference walk, which also
    /// explains a failure.
    pub fn count_rows(
        &self,
        event: &RowsEvent,
        data: &[u8],
        scratch: &mut CountScratch,
    ) -> Result<u64> {
        if let Some(n) = self
            .layout
            .as_ref()
            .and_then(|l| l.count(event, data, scratch))
        {
            return Ok(n);
        }
        let info = self.info.as_ref().map_err(Clone::clone)?;
        let mut n = 0;
        for row in Rows::new(event, data, info)? {
            row?;
            n += 1;
        }
        Ok(n)
    }
}

/// Table id → the last TABLE_MAP seen for it, parsed.
#[derive(Debug, Default)]
pub struct TableCache {
    by_id: HashMap<u64, CachedTable>,
    names: HashMap<(Vec<u8>, Vec<u8>), Arc<TableName>>,
}

impl TableCache {
    /// An empty cache.
    pub fn new() -> TableCache {
        TableCache::default()
    }

    /// Records a TABLE_MAP event whose body is `body` and parsed form `tm`. Parsing the
    /// columns happens only when the body differs from the one last seen for the id.
    pub fn insert(&mut self, tm: &TableMap, body: &[u8]) -> &CachedTable {
        let id = tm.table_id;
        let fresh = self.by_id.get(&id).is_none_or(|c| c.body != body);
        if fresh {
            let name = self
                .names
                .entry((tm.schema.to_vec(), tm.table.to_vec()))
                .or_insert_with(|| {
                    Arc::new(TableName {
                        schema: String::from_utf8_lossy(tm.schema).into_owned(),
                        table: String::from_utf8_lossy(tm.table).into_owned(),
                    })
                })
                .clone();
            // Finding row boundaries needs the columns only: the optional metadata
            // (signedness, names) is not read, which is quicker and spares a walk from
            // failing on metadata it does not need.
            let info = tm.columns().map(|c| {
                let n = c.len();
                TableInfo::new(c, vec![false; n])
            });
            let entry = CachedTable {
                name,
                layout: info.as_ref().ok().map(RowLayout::new),
                info,
                body: body.to_vec(),
            };
            self.by_id.insert(id, entry);
        }
        &self.by_id[&id]
    }

    /// Whether `body`, a TABLE_MAP body whose table id takes `table_id_len` bytes, is the
    /// one already recorded for its id: then [`TableCache::insert`] would change nothing.
    pub fn holds(&self, body: &[u8], table_id_len: usize) -> bool {
        let Some(id) = body.get(..table_id_len) else {
            return false;
        };
        let id = crate::bytes::le_uint(id);
        self.by_id.get(&id).is_some_and(|c| c.body == body)
    }

    /// What the id maps to, if a TABLE_MAP for it was seen.
    pub fn get(&self, table_id: u64) -> Option<&CachedTable> {
        self.by_id.get(&table_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_map_is_parsed_once_and_names_are_shared() {
        let types = [3u8, 15];
        let meta = [0x28u8, 0];
        let tm = TableMap::new(7, b"db", b"t", &types, &meta, &[2], &[]);
        let mut body = Vec::new();
        tm.encode(&mut body).unwrap();
        let mut cache = TableCache::new();
        let a = Arc::clone(&cache.insert(&tm, &body).name);
        assert_eq!(a.to_string(), "db.t");
        let tm2 = TableMap::new(8, b"db", b"t", &types, &meta, &[2], &[]);
        let mut body2 = Vec::new();
        tm2.encode(&mut body2).unwrap();
        let b = Arc::clone(&cache.insert(&tm2, &body2).name);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            cache.get(7).unwrap().info.as_ref().unwrap().columns.len(),
            2
        );
        assert!(cache.get(9).is_none());
    }
}
