//! The schema at one moment: databases and their tables, and DDL applied to it.
//!
//! Names are looked up as written first; a name found only in another letter case is
//! taken when exactly one table (or database) matches, as on a server that lowercases
//! table names (`lower_case_table_names`). Column names are always case-insensitive.

use std::collections::BTreeMap;

use crate::schema::ddl::{AlterOp, CreateBody, Ddl, NewColumn, Position, TableName};
use crate::schema::table::{ColumnDef, Key, Table};
use crate::schema::types::{canonical_charset, charset_of_collation, SqlType};

/// A database: its defaults and tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Database {
    /// Default character set, when known.
    pub charset: Option<String>,
    /// Default collation, when known.
    pub collation: Option<String>,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
}

/// Databases by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Databases by name.
    pub dbs: BTreeMap<String, Database>,
    next_id: u64,
}

/// Applying DDL failed: the statement does not fit the schema (a column it names is not
/// there, one it adds already is).
pub type ApplyError = String;

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The key of database `db`: as written, else the one match in another case.
    fn db_key(&self, db: &str) -> Option<String> {
        if self.dbs.contains_key(db) {
            return Some(db.to_string());
        }
        let mut m = self.dbs.keys().filter(|k| k.eq_ignore_ascii_case(db));
        match (m.next(), m.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    }

    /// The keys of table `db.name`, matched as [`Catalog`] says.
    fn table_key(&self, db: &str, name: &str) -> Option<(String, String)> {
        let dk = self.db_key(db)?;
        let d = &self.dbs[&dk];
        if d.tables.contains_key(name) {
            return Some((dk, name.to_string()));
        }
        let mut m = d.tables.keys().filter(|k| k.eq_ignore_ascii_case(name));
        match (m.next(), m.next()) {
            (Some(k), None) => Some((dk, k.clone())),
            _ => None,
        }
    }

    /// The table `db.name`; or a table of that name read without a database (`SHOW
    /// CREATE TABLE` output).
    pub fn table(&self, db: &str, name: &str) -> Option<&Table> {
        let (d, t) = self
            .table_key(db, name)
            .or_else(|| self.table_key("", name))?;
        self.dbs.get(&d)?.tables.get(&t)
    }

    /// The table with this identity (see [`Table::id`]).
    pub fn table_by_id(&self, id: u64) -> Option<&Table> {
        self.tables().find(|t| t.id == id)
    }

    /// Every table, by database and name.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.dbs.values().flat_map(|d| d.tables.values())
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables().count()
    }

    /// Whether there is no table.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(&mut self, db: &str, name: &str) -> Option<Table> {
        let (d, t) = self.table_key(db, name)?;
        self.dbs.get_mut(&d)?.tables.remove(&t)
    }

    fn put(&mut self, mut table: Table) {
        let dk = self.db_key(&table.db).unwrap_or_else(|| table.db.clone());
        table.db = dk.clone();
        let d = self.dbs.entry(dk).or_default();
        d.tables.insert(table.name.clone(), table);
    }

    /// Marks `db.name` as a table whose columns are not known, and why.
    pub fn set_unknown(&mut self, db: &str, name: &str, why: String) {
        let old = self.take(db, name);
        let id = match &old {
            Some(t) => t.id,
            None => self.id(),
        };
        let (db, name) = old
            .map(|t| (t.db, t.name))
            .unwrap_or_else(|| (db.to_string(), name.to_string()));
        self.put(unknown_table(id, db, name, why));
    }

    /// The database and table a statement's name means, with `default_db` for an
    /// unqualified name.
    pub fn resolve(name: &TableName, default_db: &str) -> Result<(String, String), ApplyError> {
        let db = name.db.clone().unwrap_or_else(|| default_db.to_string());
        Ok((db, name.name.clone()))
    }

    /// Applies a statement, run in `default_db`.
    pub fn apply(&mut self, ddl: &Ddl, default_db: &str) -> Result<(), ApplyError> {
        match ddl {
            Ddl::CreateTable {
                name,
                if_not_exists,
                body,
            } => {
                let (db, name) = Catalog::resolve(name, default_db)?;
                if *if_not_exists && self.table(&db, &name).is_some() {
                    return Ok(());
                }
                let table = self.create(&db, &name, body, default_db)?;
                self.take(&db, &name);
                self.put(table);
            }
            Ddl::AlterTable { name, ops } => self.alter_table(name, ops, default_db)?,
            Ddl::RenameTables(pairs) => self.rename_tables(pairs, default_db)?,
            Ddl::DropTables(names) => {
                for n in names {
                    let (db, name) = Catalog::resolve(n, default_db)?;
                    self.take(&db, &name);
                }
            }
            Ddl::CreateDatabase {
                name,
                if_not_exists,
                charset,
                collation,
            } => {
                if *if_not_exists && self.db_key(name).is_some() {
                    return Ok(());
                }
                let d = self.dbs.entry(name.clone()).or_default();
                d.charset = charset
                    .as_deref()
                    .map(canonical_charset)
                    .or_else(|| collation.as_deref().map(charset_of_collation));
                d.collation = collation.clone();
            }
            Ddl::AlterDatabase {
                name,
                charset,
                collation,
            } => {
                let name = name.clone().unwrap_or_else(|| default_db.to_string());
                let key = self.db_key(&name).unwrap_or(name);
                let d = self.dbs.entry(key).or_default();
                if charset.is_some() || collation.is_some() {
                    d.charset = charset
                        .as_deref()
                        .map(canonical_charset)
                        .or_else(|| collation.as_deref().map(charset_of_collation));
                    d.collation = collation.clone();
                }
            }
            Ddl::DropDatabase(name) => {
                if let Some(k) = self.db_key(name) {
                    self.dbs.remove(&k);
                }
            }
            Ddl::CreateIndex {
                table,
                unique,
                hidden,
            } => {
                let (db, name) = Catalog::resolve(table, default_db)?;
                if let Some(mut t) = self.take(&db, &name) {
                    if let Some(k) = unique {
                        t.unique_keys.push(k.clone());
                    }
                    let mut result = Ok(());
                    for h in hidden {
                        let id = self.id();
                        result =
                            result.and_then(|()| add_column(&mut t, h, &Position::Default, id));
                    }
                    self.put(t);
                    result?;
                }
            }
            Ddl::DropIndex { table, name } => {
                let (db, tname) = Catalog::resolve(table, default_db)?;
                if let Some(mut t) = self.take(&db, &tname) {
                    drop_key(&mut t, name);
                    self.put(t);
                }
            }
            Ddl::Truncate(_) | Ddl::Temporary | Ddl::Other => {}
        }
        Ok(())
    }

    /// ALTER TABLE: the clauses applied in order to the table, then its rename, if any.
    /// A table the schema did not have becomes one whose columns are unknown.
    fn alter_table(
        &mut self,
        name: &TableName,
        ops: &[AlterOp],
        default_db: &str,
    ) -> Result<(), ApplyError> {
        let (db, tname) = Catalog::resolve(name, default_db)?;
        let Some(mut table) = self.take(&db, &tname) else {
            let why = format!("ALTER TABLE on {db}.{tname}, which the schema did not have");
            let id = self.id();
            let mut t = unknown_table(id, db.clone(), tname.clone(), why);
            if let Some(AlterOp::RenameTable(to)) = ops
                .iter()
                .rev()
                .find(|o| matches!(o, AlterOp::RenameTable(_)))
            {
                let (d2, n2) = Catalog::resolve(to, &db)?;
                self.take(&d2, &n2);
                t.db = d2;
                t.name = n2;
            }
            self.put(t);
            return Ok(());
        };
        let orig = table.clone();
        let mut rename = None;
        for op in ops {
            if let AlterOp::RenameTable(to) = op {
                rename = Some(Catalog::resolve(
                    to,
                    if default_db.is_empty() {
                        &db
                    } else {
                        default_db
                    },
                )?);
                continue;
            }
            if table.unknown.is_none() {
                let mut ids = || self.id();
                alter(&mut table, &orig, op, &mut ids)?;
            }
        }
        if table.unknown.is_none() {
            finish_alter(&mut table, &orig)?;
        }
        if let Some((d2, n2)) = rename {
            if self.table(&d2, &n2).is_some() {
                self.put(table);
                return Err(format!("RENAME to {d2}.{n2}, which already exists"));
            }
            table.db = d2;
            table.name = n2;
        }
        self.put(table);
        Ok(())
    }

    /// RENAME TABLE a TO b, …: each pair in turn.
    fn rename_tables(
        &mut self,
        pairs: &[(TableName, TableName)],
        default_db: &str,
    ) -> Result<(), ApplyError> {
        for (from, to) in pairs {
            let (d1, n1) = Catalog::resolve(from, default_db)?;
            let (d2, n2) = Catalog::resolve(to, default_db)?;
            if self.table(&d2, &n2).is_some() {
                return Err(format!("RENAME to {d2}.{n2}, which already exists"));
            }
            match self.take(&d1, &n1) {
                Some(mut t) => {
                    t.db = d2;
                    t.name = n2;
                    self.put(t);
                }
                None => {
                    let id = self.id();
                    let why = format!("renamed from {d1}.{n1}, which the schema did not have");
                    self.put(unknown_table(id, d2, n2, why));
                }
            }
        }
        Ok(())
    }

    /// The table a CREATE TABLE makes.
    fn create(
        &mut self,
        db: &str,
        name: &str,
        body: &CreateBody,
        default_db: &str,
    ) -> Result<Table, ApplyError> {
        let id = self.id();
        match body {
            CreateBody::Like(src) => {
                let (sd, sn) = Catalog::resolve(src, default_db)?;
                Ok(match self.table(&sd, &sn) {
                    Some(s) => {
                        let mut t = s.clone();
                        t.id = id;
                        t.db = db.to_string();
                        t.name = name.to_string();
                        t
                    }
                    None => unknown_table(
                        id,
                        db.to_string(),
                        name.to_string(),
                        format!("created LIKE {sd}.{sn}, which the schema did not have"),
                    ),
                })
            }
            CreateBody::Select => Ok(unknown_table(
                id,
                db.to_string(),
                name.to_string(),
                "created by CREATE TABLE … SELECT written as a statement: its columns come from \
                 a query"
                    .into(),
            )),
            CreateBody::Definitions {
                columns,
                keys,
                charset,
                collation,
                system_versioning,
            } => {
                let dbdef = self
                    .db_key(db)
                    .and_then(|k| self.dbs.get(&k))
                    .cloned()
                    .unwrap_or_default();
                let (charset, collation) = match (charset, collation) {
                    (Some(cs), co) => (Some(canonical_charset(cs)), co.clone()),
                    (None, Some(co)) => (Some(charset_of_collation(co)), Some(co.clone())),
                    (None, None) => (dbdef.charset.clone(), dbdef.collation.clone()),
                };
                let mut t = Table {
                    id,
                    db: db.to_string(),
                    name: name.to_string(),
                    columns: Vec::new(),
                    primary_key: None,
                    unique_keys: Vec::new(),
                    charset,
                    collation,
                    unknown: None,
                };
                for c in columns {
                    let col_id = self.id();
                    add_column(&mut t, c, &Position::Default, col_id)?;
                }
                for (primary, k) in keys {
                    add_key(&mut t, *primary, k.clone())?;
                }
                if *system_versioning && !columns.iter().any(|c| c.row_period) {
                    let ids = (self.id(), self.id());
                    add_row_period(&mut t, ids);
                }
                Ok(t)
            }
        }
    }
}

fn unknown_table(id: u64, db: String, name: String, why: String) -> Table {
    Table {
        id,
        db,
        name,
        columns: Vec::new(),
        primary_key: None,
        unique_keys: Vec::new(),
        charset: None,
        collation: None,
        unknown: Some(why),
    }
}

/// MariaDB's implicit columns of a system-versioned table.
fn add_row_period(t: &mut Table, ids: (u64, u64)) {
    for (id, name) in [(ids.0, "row_start"), (ids.1, "row_end")] {
        if t.column_index(name).is_none() {
            t.columns.push(ColumnDef {
                id,
                name: name.into(),
                ty: SqlType::parse("timestamp(6)").expect("a known type"),
                charset: None,
                collation: None,
                invisible: true,
            });
        }
    }
}

fn add_key(t: &mut Table, primary: bool, key: Key) -> Result<(), ApplyError> {
    for c in &key.columns {
        if t.column_index(c).is_none() {
            return Err(format!(
                "key {} names column {c}, which {}.{} does not have",
                key.name, t.db, t.name
            ));
        }
    }
    if primary {
        t.primary_key = Some(Key {
            name: "PRIMARY".into(),
            columns: key.columns,
        });
    } else {
        t.unique_keys.push(key);
    }
    Ok(())
}

fn drop_key(t: &mut Table, name: &str) {
    if name.eq_ignore_ascii_case("PRIMARY") {
        t.primary_key = None;
    }
    t.unique_keys.retain(|k| !k.name.eq_ignore_ascii_case(name));
    // The hidden columns of a functional index go with it.
    let prefix = format!("!hidden!{name}!");
    t.columns
        .retain(|c| !(c.invisible && c.name.starts_with(&prefix)));
}

fn insert_at(
    t: &mut Table,
    col: ColumnDef,
    pos: &Position,
    default: usize,
) -> Result<(), ApplyError> {
    let at = match pos {
        Position::Default => default,
        Position::First => 0,
        Position::After(x) => {
            t.column_index(x)
                .ok_or_else(|| format!("AFTER {x}: {}.{} has no such column", t.db, t.name))?
                + 1
        }
    };
    t.columns.insert(at.min(t.columns.len()), col);
    Ok(())
}

fn add_column(t: &mut Table, c: &NewColumn, pos: &Position, id: u64) -> Result<(), ApplyError> {
    if t.column_index(&c.name).is_some() {
        return Err(format!(
            "column {} already exists in {}.{}",
            c.name, t.db, t.name
        ));
    }
    let mut col = ColumnDef {
        id,
        name: c.name.clone(),
        ty: c.ty.clone(),
        charset: c.charset.clone(),
        collation: c.collation.clone(),
        invisible: c.invisible,
    };
    t.resolve_charset(&mut col);
    let end = t.columns.len();
    insert_at(t, col, pos, end)?;
    column_keys(t, c);
    Ok(())
}

/// The keys a column definition declares (`PRIMARY KEY`, `UNIQUE`).
fn column_keys(t: &mut Table, c: &NewColumn) {
    if c.primary {
        t.primary_key = Some(Key {
            name: "PRIMARY".into(),
            columns: vec![c.name.clone()],
        });
    }
    if c.unique {
        t.unique_keys.push(Key {
            name: c.name.clone(),
            columns: vec![c.name.clone()],
        });
    }
}

fn missing(t: &Table, name: &str) -> ApplyError {
    format!(
        "column {name} is not in {}.{} as the schema has it",
        t.db, t.name
    )
}

/// The index of the column an ALTER clause names by its old name: clauses name the columns
/// of the table as it was before the statement (`RENAME COLUMN a TO b, RENAME COLUMN b TO
/// a` swaps them), or one an earlier clause added.
fn old_column(t: &Table, orig: &Table, name: &str) -> Option<usize> {
    match orig.column_index(name) {
        Some(j) => t.columns.iter().position(|c| c.id == orig.columns[j].id),
        None => t.column_index(name),
    }
}

/// After an ALTER: no two columns of one name; the keys the table had name their columns
/// as they are now (a part whose column is gone goes, and a key left without parts).
fn finish_alter(t: &mut Table, orig: &Table) -> Result<(), ApplyError> {
    for (i, c) in t.columns.iter().enumerate() {
        if t.columns[..i].iter().any(|d| d.is_named(&c.name)) {
            return Err(format!(
                "two columns named {} in {}.{}",
                c.name, t.db, t.name
            ));
        }
    }
    let now = |name: &str| -> Option<String> {
        let j = orig.column_index(name)?;
        let id = orig.columns[j].id;
        t.columns
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
    };
    let remap = |k: &Key| -> Key {
        Key {
            name: k.name.clone(),
            columns: k.columns.iter().filter_map(|c| now(c)).collect(),
        }
    };
    let old_pk = orig.primary_key.as_ref();
    let pk = match &t.primary_key {
        Some(k) if old_pk == Some(k) => Some(remap(k)),
        other => other.clone(),
    };
    let uniques: Vec<Key> = t
        .unique_keys
        .iter()
        .map(|k| {
            if orig.unique_keys.contains(k) {
                remap(k)
            } else {
                k.clone()
            }
        })
        .filter(|k| !k.columns.is_empty())
        .collect();
    t.primary_key = pk.filter(|k| !k.columns.is_empty());
    t.unique_keys = uniques;
    Ok(())
}

fn alter(
    t: &mut Table,
    orig: &Table,
    op: &AlterOp,
    ids: &mut dyn FnMut() -> u64,
) -> Result<(), ApplyError> {
    match op {
        AlterOp::Add {
            col,
            pos,
            if_not_exists,
        } => {
            if *if_not_exists && t.column_index(&col.name).is_some() {
                return Ok(());
            }
            add_column(t, col, pos, ids())?;
        }
        AlterOp::Change {
            old,
            col,
            pos,
            if_exists,
        } => {
            let Some(i) = old_column(t, orig, old) else {
                return if *if_exists {
                    Ok(())
                } else {
                    Err(missing(t, old))
                };
            };
            let prev = t.columns.remove(i);
            let mut c = ColumnDef {
                id: prev.id,
                name: col.name.clone(),
                ty: col.ty.clone(),
                charset: col.charset.clone(),
                collation: col.collation.clone(),
                invisible: col.invisible,
            };
            t.resolve_charset(&mut c);
            if let Err(e) = insert_at(t, c, pos, i) {
                t.columns.insert(i, prev);
                return Err(e);
            }
            column_keys(t, col);
        }
        AlterOp::Drop { name, if_exists } => match old_column(t, orig, name) {
            Some(i) => {
                t.columns.remove(i);
                if t.columns.is_empty() {
                    return Err(format!("DROP of the last column of {}.{}", t.db, t.name));
                }
            }
            None if *if_exists => {}
            None => return Err(missing(t, name)),
        },
        AlterOp::RenameColumn {
            old,
            new,
            if_exists,
        } => match old_column(t, orig, old) {
            Some(i) => t.columns[i].name = new.clone(),
            None if *if_exists => {}
            None => return Err(missing(t, old)),
        },
        AlterOp::RenameTable(_) => {}
        AlterOp::AddKey { primary, key } => add_key(t, *primary, key.clone())?,
        AlterOp::DropPrimaryKey => t.primary_key = None,
        AlterOp::DropKey(name) => drop_key(t, name),
        AlterOp::RenameKey(old, new) => {
            for k in &mut t.unique_keys {
                if k.name.eq_ignore_ascii_case(old) {
                    k.name = new.clone();
                }
            }
        }
        AlterOp::TableCharset(cs, co) => {
            t.charset = cs
                .as_deref()
                .map(canonical_charset)
                .or_else(|| co.as_deref().map(charset_of_collation));
            t.collation = co.clone();
        }
        AlterOp::Convert(cs, co) => {
            let cs = canonical_charset(cs);
            t.charset = Some(cs.clone());
            t.collation = co.clone();
            for c in &mut t.columns {
                if c.ty.is_textual() {
                    c.charset = Some(cs.clone());
                    c.collation = co.clone();
                    // The server may move TEXT to a larger size to keep its length.
                    if let crate::schema::types::TypeKind::Text(k) = &mut c.ty.kind {
                        *k = 0;
                    }
                }
            }
        }
        AlterOp::AddSystemVersioning => {
            let ids = (ids(), ids());
            add_row_period(t, ids);
        }
        AlterOp::DropSystemVersioning => {
            t.columns
                .retain(|c| !(c.invisible && (c.is_named("row_start") || c.is_named("row_end"))));
        }
    }
    Ok(())
}
