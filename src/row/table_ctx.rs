//! A table's columns with their names, as decoding and SQL need them: names from the
//! TABLE_MAP's optional metadata (`binlog_row_metadata=FULL`), else from CREATE TABLE
//! statements ([`Schema`]), else none (shown `@1..@n`, as mysqlbinlog -v does); the key
//! from the metadata's primary key, else the schema's.

use crate::error::{Error, ErrorKind, Result};
use crate::event::fde::{Flavor, Format};
use crate::event::table_map::TableMap;
use crate::row::column::ColumnType;
use crate::row::{RowImage, TableInfo, Value};
use crate::sql::schema::Schema;
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
}

impl TableCtx {
    /// Builds the context of a TABLE_MAP, naming columns from its metadata or `schema`
    /// (whose table is used only when it has as many columns).
    pub fn new(tm: &TableMap, schema: Option<&Schema>) -> Result<TableCtx> {
        let columns = tm.columns()?;
        let meta = tm.optional_metadata(&columns)?;
        let db = String::from_utf8_lossy(tm.schema).into_owned();
        let table = String::from_utf8_lossy(tm.table).into_owned();
        let from_schema = schema
            .and_then(|s| s.table(&db, &table))
            .filter(|t| t.columns.len() == columns.len());
        let cols: Vec<ColumnInfo> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| ColumnInfo {
                name: meta.names[i]
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .or_else(|| from_schema.map(|t| t.columns[i].clone())),
                column: *c,
                unsigned: meta.unsigned[i].unwrap_or(false),
                charset: meta.charset[i],
                members: meta.members[i]
                    .as_ref()
                    .map(|m| m.iter().map(|b| b.to_vec()).collect()),
            })
            .collect();
        let key = if meta.has_primary_key {
            meta.primary_key.iter().map(|(c, _)| *c).collect()
        } else {
            from_schema
                .map(|t| t.primary_key.clone())
                .unwrap_or_default()
        };
        let info = TableInfo::new(columns, cols.iter().map(|c| c.unsigned).collect());
        let sql = TableSql::new(&db, &table, cols, key);
        Ok(TableCtx {
            db,
            table,
            info,
            sql,
        })
    }

    /// The columns.
    pub fn columns(&self) -> &[ColumnInfo] {
        &self.sql.cols
    }

    /// Whether every column has a name.
    pub fn is_named(&self) -> bool {
        self.sql.cols.iter().all(|c| c.name.is_some())
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
