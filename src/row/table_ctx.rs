//! A table's columns with their names, as decoding and SQL need them: names from the
//! TABLE_MAP's optional metadata (`binlog_row_metadata=FULL`), else from the schema of that
//! moment ([`Catalog`], whose table is first checked against the TABLE_MAP: same number of
//! columns, each of a type the TABLE_MAP agrees with), else none (shown `@1..@n`, as
//! mysqlbinlog -v does, and refused where SQL is written); the key from the metadata's
//! primary key, else the schema's.

use crate::error::{Error, ErrorKind, Result};
use crate::event::fde::{Flavor, Format};
use crate::event::table_map::TableMap;
use crate::row::column::ColumnType;
use crate::row::{RowImage, TableInfo, Value};
use crate::schema::{Catalog, Table};
use crate::sql::{ColumnInfo, TableSql};

/// What rendering a table's rows needs.
#[derive(Debug, Clone)]
pub struct TableCtx {
    /// Database.
    pub db: String,
    /// Table.
    pub table: String,
    /// Row decoding information.
    pub info: TableInfo,
    /// Columns, names and key for SQL.
    pub sql: TableSql,
    /// The schema's identity of the table and of each column, when the schema named them
    /// (to find them again after later DDL: [`TableCtx::as_of`]).
    pub schema_ids: Option<(u64, Vec<u64>)>,
    /// Why the columns have no names, when they have none.
    pub unnamed: Option<String>,
}

impl TableCtx {
    /// Builds the context of a TABLE_MAP (found at offset `at`), naming columns from its
    /// metadata or `schema`. A schema table that disagrees with the TABLE_MAP (column count,
    /// a column's type, UNSIGNED or character set where logged, a name where logged) is an
    /// error naming the table, the column and both sides.
    pub fn new(tm: &TableMap, schema: Option<&Catalog>, at: u64) -> Result<TableCtx> {
        let columns = tm.columns()?;
        let meta = tm.optional_metadata(&columns)?;
        let db = String::from_utf8_lossy(tm.schema).into_owned();
        let table = String::from_utf8_lossy(tm.table).into_owned();
        let found = schema.and_then(|s| s.table(&db, &table));
        let known = found.filter(|t| t.unknown.is_none());
        if let Some(t) = known {
            check(t, tm, &columns, &meta, at)?;
        }
        let cols: Vec<ColumnInfo> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| ColumnInfo {
                name: meta.names[i]
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .or_else(|| known.map(|t| t.columns[i].name.clone())),
                column: *c,
                unsigned: meta.unsigned[i]
                    .unwrap_or_else(|| known.is_some_and(|t| t.columns[i].ty.unsigned)),
                charset: meta.charset[i],
                members: meta.members[i]
                    .as_ref()
                    .map(|m| m.iter().map(|b| b.to_vec()).collect()),
            })
            .collect();
        let key = if meta.has_primary_key {
            meta.primary_key.iter().map(|(c, _)| *c).collect()
        } else {
            known
                .and_then(Table::primary_key_indexes)
                .unwrap_or_default()
        };
        let unnamed = if cols.iter().all(|c| c.name.is_some()) {
            None
        } else {
            Some(match (schema, found) {
                (None, _) => "no schema was given".to_string(),
                (Some(_), None) => "the schema does not have it".to_string(),
                (Some(_), Some(t)) => t.unknown.clone().unwrap_or_default(),
            })
        };
        let info = TableInfo::new(columns, cols.iter().map(|c| c.unsigned).collect());
        let sql = TableSql::new(&db, &table, cols, key);
        Ok(TableCtx {
            schema_ids: known.map(|t| (t.id, t.columns.iter().map(|c| c.id).collect())),
            db,
            table,
            info,
            sql,
            unnamed,
        })
    }

    /// An error unless every column has a name (SQL cannot be written with `@N`).
    pub fn require_names(&self, at: u64) -> Result<()> {
        match &self.unnamed {
            None => Ok(()),
            Some(why) => Err(Error::unsupported(
                at,
                format!(
                    "table {}.{} has no column names: its TABLE_MAP carries none \
                     (binlog_row_metadata=MINIMAL or NO_LOG) and {why}; name the columns with \
                     --schema FILE (CREATE TABLE statements of that moment) or \
                     --schema-from-server, or log with binlog_row_metadata=FULL",
                    self.db, self.table
                ),
            )),
        }
    }

    /// The same rows addressed as the tables are in `later` (after DDL that came after
    /// them: a renamed table or column gets its new name), for statements run on a server
    /// whose schema is `later`. An error when the table or one of its columns is gone, or
    /// when the columns were not named by the schema.
    pub fn as_of(&self, later: &Catalog, at: u64) -> Result<TableCtx> {
        let refuse = |why: String| {
            Error::unsupported(at, format!("table {}.{}: {why}", self.db, self.table))
        };
        let Some((table_id, col_ids)) = &self.schema_ids else {
            return Err(refuse(
                "the schema did not name its columns, so they cannot be followed through later DDL"
                    .into(),
            ));
        };
        let t = later.table_by_id(*table_id).ok_or_else(|| {
            refuse(
                "it was dropped or replaced later in the input; its rows cannot be addressed now"
                    .into(),
            )
        })?;
        let mut ctx = self.clone();
        for (i, id) in col_ids.iter().enumerate() {
            let c = t.columns.iter().find(|c| c.id == *id).ok_or_else(|| {
                refuse(format!(
                    "column {} was dropped later in the input; its values cannot be put back",
                    self.sql.cols[i].display_name(i)
                ))
            })?;
            ctx.sql.cols[i].name = Some(c.name.clone());
        }
        let key = t
            .primary_key_indexes()
            .map(|k| {
                k.iter()
                    .filter_map(|&j| col_ids.iter().position(|id| *id == t.columns[j].id))
                    .collect::<Vec<_>>()
            })
            .filter(|k: &Vec<usize>| {
                t.primary_key
                    .as_ref()
                    .is_some_and(|p| p.columns.len() == k.len())
            })
            .unwrap_or_default();
        ctx.db = t.db.clone();
        ctx.table = t.name.clone();
        ctx.sql = TableSql::new(&t.db, &t.name, ctx.sql.cols.clone(), key);
        Ok(ctx)
    }

    /// The columns.
    pub fn columns(&self) -> &[ColumnInfo] {
        &self.sql.cols
    }

    /// Fills `v` with the values of an image, one per column (`None` where the image
    /// lacks the column); false when there is no image.
    pub fn fill_image<'d>(
        &self,
        img: Option<RowImage<'d>>,
        v: &mut Vec<Option<Value<'d>>>,
    ) -> Result<bool> {
        let Some(img) = img else { return Ok(false) };
        v.clear();
        v.resize(self.sql.cols.len(), None);
        for x in img.values(&self.info)? {
            let (i, val) = x?;
            v[i] = Some(val);
        }
        Ok(true)
    }

    /// The values of an image, one per column (`None` where the image lacks the column).
    pub fn image_values<'d>(
        &self,
        img: Option<RowImage<'d>>,
    ) -> Result<Option<Vec<Option<Value<'d>>>>> {
        let mut v = Vec::new();
        Ok(self.fill_image(img, &mut v)?.then_some(v))
    }

    /// Adds what a reader should know to an error about a table with TIME, DATETIME or
    /// TIMESTAMP columns in MariaDB's 5.3 format, whose precision binlogs do not record.
    pub fn with_hint(&self, e: Error, format: &Format) -> Error {
        let old = self.info.columns.iter().any(|c| {
            matches!(
                c.real_type,
                ColumnType::TIME | ColumnType::DATETIME | ColumnType::TIMESTAMP
            )
        });
        if old && format.flavor == Flavor::MariaDb {
            Error::new(
                ErrorKind::Unsupported(format!(
                    "{} (table {}.{} has TIME/DATETIME/TIMESTAMP columns of the old format; if they \
                     were created with mysql56_temporal_format=OFF and fractional seconds, binlogs do \
                     not record their size and no reader can decode them)",
                    e.kind(),
                    self.db,
                    self.table
                )),
                e.offset(),
            )
        } else {
            e
        }
    }
}

/// Checks a schema table against a TABLE_MAP.
fn check(
    t: &Table,
    tm: &TableMap,
    columns: &[crate::row::column::Column],
    meta: &crate::event::table_map::OptionalMetadata,
    at: u64,
) -> Result<()> {
    let name = tm.qualified_name();
    if t.columns.len() != columns.len() {
        let listed: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::unsupported(
            at,
            format!(
                "table {name}: the binlog's TABLE_MAP has {} columns, the schema {} ({}){}",
                columns.len(),
                t.columns.len(),
                listed.join(", "),
                hint(t)
            ),
        ));
    }
    for (i, (c, s)) in columns.iter().zip(&t.columns).enumerate() {
        let side = |what: String| {
            Error::unsupported(
                at,
                format!(
                    "table {name}, column {} `{}`: {what}{}",
                    i + 1,
                    s.name,
                    hint(t)
                ),
            )
        };
        if let Err(logged) =
            s.ty.check(c, meta.unsigned[i], meta.charset[i], s.charset.as_deref())
        {
            let mut declared = s.ty.text.clone();
            if s.ty.is_textual() {
                if let Some(cs) = &s.charset {
                    declared.push_str(" CHARACTER SET ");
                    declared.push_str(cs);
                }
            }
            return Err(side(format!(
                "the binlog has {logged}, the schema has {declared}"
            )));
        }
        if let Some(n) = meta.names[i] {
            let n = String::from_utf8_lossy(n);
            if !n.eq_ignore_ascii_case(&s.name) {
                return Err(side(format!("the binlog names it `{n}`")));
            }
        }
    }
    Ok(())
}

/// What to say after a disagreement.
fn hint(t: &Table) -> &'static str {
    if t.columns
        .iter()
        .any(|c| c.invisible && (c.is_named("row_start") || c.is_named("row_end")))
    {
        "; the schema does not describe the table at this position (is it system-versioned?)"
    } else {
        "; the schema does not describe the table at this position"
    }
}
