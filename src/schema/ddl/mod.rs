//! DDL statements read into the changes they make to tables.
//!
//! Column definitions (name, type, character set, collation, key and visibility options)
//! are parsed by the `sqlparser` crate (MySQL dialect). Its MySQL grammar lacks many forms
//! servers accept and log (`ADD COLUMN IF NOT EXISTS`, `ADD (a INT, b INT)`, `DROP KEY`,
//! `ENGINE=` and other table options in ALTER, `CONVERT TO CHARACTER SET`, partitioning,
//! `ALTER ONLINE|IGNORE`, `WAIT n`, `ALTER DATABASE`, `WITH SYSTEM VERSIONING`, column
//! attributes `CHARSET x`, `BINARY`, `ASCII`, `PERSISTENT`, `COMPRESSED`, …), so a
//! statement is first cut into its parts here — the table name, each definition of CREATE
//! TABLE, each clause of ALTER TABLE, the table options — and each column definition is
//! handed to the parser alone, after the attributes it lacks are written in forms it knows.
//! Clauses that cannot change a table's columns, keys or character set (indexes, engine,
//! comments, partitions, algorithm …) are recognised by their first words and passed over.
//! Anything else is an error: never a guess.

use crate::schema::table::Key;
use crate::schema::text::{TokenKind, Tokens};
use crate::schema::types::SqlType;

mod alter;
mod create;

use alter::alter_table;
use create::{create_table, hidden_columns, table_options};

/// A table name as a statement writes it (the database when qualified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// Database, when the name is qualified.
    pub db: Option<String>,
    /// Table.
    pub name: String,
}

/// A column as a definition declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewColumn {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: SqlType,
    /// `CHARACTER SET`.
    pub charset: Option<String>,
    /// `COLLATE`.
    pub collation: Option<String>,
    /// `INVISIBLE`.
    pub invisible: bool,
    /// `PRIMARY KEY` on the column.
    pub primary: bool,
    /// `UNIQUE` on the column.
    pub unique: bool,
    /// `GENERATED ALWAYS AS ROW START|END` (a system-versioning column).
    pub row_period: bool,
}

/// Where ADD, CHANGE or MODIFY puts a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// Where it is (CHANGE, MODIFY) or last (ADD).
    Default,
    /// `FIRST`.
    First,
    /// `AFTER name`.
    After(String),
}

/// One clause of ALTER TABLE that matters to the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterOp {
    /// `ADD [COLUMN] [IF NOT EXISTS]`.
    Add {
        /// The column.
        col: NewColumn,
        /// Where.
        pos: Position,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `CHANGE old new …` or `MODIFY name …`.
    Change {
        /// The column changed.
        old: String,
        /// What it becomes.
        col: NewColumn,
        /// Where.
        pos: Position,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `DROP [COLUMN] [IF EXISTS] name`.
    Drop {
        /// The column.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `RENAME COLUMN old TO new`.
    RenameColumn {
        /// Old name.
        old: String,
        /// New name.
        new: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `RENAME [TO|AS] name`.
    RenameTable(TableName),
    /// `ADD PRIMARY KEY (…)` or `ADD UNIQUE …`.
    AddKey {
        /// Whether it is the primary key.
        primary: bool,
        /// The key.
        key: Key,
    },
    /// `DROP PRIMARY KEY`.
    DropPrimaryKey,
    /// `DROP INDEX|KEY|CONSTRAINT name`.
    DropKey(String),
    /// `RENAME INDEX|KEY old TO new`.
    RenameKey(String, String),
    /// `[DEFAULT] CHARACTER SET x`, `COLLATE y`: the default of new columns.
    TableCharset(Option<String>, Option<String>),
    /// `CONVERT TO CHARACTER SET x [COLLATE y]`: every textual column too.
    Convert(String, Option<String>),
    /// `ADD SYSTEM VERSIONING`.
    AddSystemVersioning,
    /// `DROP SYSTEM VERSIONING`.
    DropSystemVersioning,
}

/// What CREATE TABLE makes the table from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateBody {
    /// Its definitions.
    Definitions {
        /// Columns.
        columns: Vec<NewColumn>,
        /// PRIMARY KEY and UNIQUE keys.
        keys: Vec<(bool, Key)>,
        /// Default character set and collation.
        charset: Option<String>,
        /// Default collation.
        collation: Option<String>,
        /// `WITH SYSTEM VERSIONING`.
        system_versioning: bool,
    },
    /// `LIKE other`.
    Like(TableName),
    /// `… SELECT`: columns that depend on a query (statement-format logging).
    Select,
}

/// A DDL statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ddl {
    /// CREATE [OR REPLACE] TABLE [IF NOT EXISTS].
    CreateTable {
        /// The table.
        name: TableName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The definitions.
        body: CreateBody,
    },
    /// ALTER TABLE.
    AlterTable {
        /// The table.
        name: TableName,
        /// Its clauses that matter.
        ops: Vec<AlterOp>,
    },
    /// RENAME TABLE a TO b, c TO d.
    RenameTables(Vec<(TableName, TableName)>),
    /// DROP TABLE.
    DropTables(Vec<TableName>),
    /// CREATE DATABASE.
    CreateDatabase {
        /// Name.
        name: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Default character set.
        charset: Option<String>,
        /// Default collation.
        collation: Option<String>,
    },
    /// ALTER DATABASE: new defaults (of the current database when unnamed).
    AlterDatabase {
        /// Name.
        name: Option<String>,
        /// Default character set.
        charset: Option<String>,
        /// Default collation.
        collation: Option<String>,
    },
    /// DROP DATABASE.
    DropDatabase(String),
    /// CREATE [UNIQUE] INDEX: a key (only UNIQUE ones matter).
    CreateIndex {
        /// The table.
        table: TableName,
        /// The key when UNIQUE.
        unique: Option<Key>,
        /// Hidden columns its expression parts add (MySQL functional indexes).
        hidden: Vec<NewColumn>,
    },
    /// DROP INDEX name ON table.
    DropIndex {
        /// The table.
        table: TableName,
        /// The index.
        name: String,
    },
    /// TRUNCATE: no change to the schema.
    Truncate(TableName),
    /// A temporary table's DDL: no change to the schema.
    Temporary,
    /// A statement that changes no table (views, routines, users, grants, sequences …).
    Other,
}

/// Why a statement could not be read, and which tables it names (as far as known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlError {
    /// The tables the statement concerns, when its start could be read.
    pub tables: Vec<TableName>,
    /// What is wrong.
    pub message: String,
}

/// Words that start a definition of CREATE TABLE that is not a column.
const NOT_COLUMN: &[&str] = &[
    "PRIMARY",
    "UNIQUE",
    "KEY",
    "INDEX",
    "FULLTEXT",
    "SPATIAL",
    "CONSTRAINT",
    "FOREIGN",
    "CHECK",
    "PERIOD",
    "VECTOR",
];

/// Table options (in CREATE TABLE after the definitions, and as ALTER TABLE clauses).
const TABLE_OPTIONS: &[&str] = &[
    "ENGINE",
    "TYPE",
    "AUTO_INCREMENT",
    "AVG_ROW_LENGTH",
    "CHECKSUM",
    "TABLE_CHECKSUM",
    "COMMENT",
    "COMPRESSION",
    "CONNECTION",
    "DATA",
    "DELAY_KEY_WRITE",
    "ENCRYPTION",
    "ENCRYPTED",
    "ENCRYPTION_KEY_ID",
    "INSERT_METHOD",
    "KEY_BLOCK_SIZE",
    "MAX_ROWS",
    "MIN_ROWS",
    "PACK_KEYS",
    "PASSWORD",
    "ROW_FORMAT",
    "STATS_AUTO_RECALC",
    "STATS_PERSISTENT",
    "STATS_SAMPLE_PAGES",
    "TABLESPACE",
    "UNION",
    "PAGE_CHECKSUM",
    "PAGE_COMPRESSED",
    "PAGE_COMPRESSION_LEVEL",
    "TRANSACTIONAL",
    "IETF_QUOTES",
    "SEQUENCE",
    "STORAGE",
    "SECONDARY_ENGINE",
    "AUTOEXTEND_SIZE",
    "ENGINE_ATTRIBUTE",
    "SECONDARY_ENGINE_ATTRIBUTE",
    "START",
];

type Res<T> = Result<T, String>;

/// Reads a DDL statement (comments already taken out, see [`super::text::statements`]).
pub fn parse(text: &str) -> Result<Ddl, DdlError> {
    let t = Tokens::new(text);
    let err = |message: String| DdlError {
        tables: Vec::new(),
        message,
    };
    let mut i = 1;
    if t.is(0, "CREATE") {
        if t.are(1, &["OR", "REPLACE"]) {
            i = 3;
        }
        if t.is(i, "TEMPORARY") {
            return Ok(Ddl::Temporary);
        }
        if t.is(i, "TABLE") {
            return create_table(&t, i + 1);
        }
        if t.is(i, "DATABASE") || t.is(i, "SCHEMA") {
            return create_database(&t, i + 1).map_err(err);
        }
        while t.is(i, "ONLINE") || t.is(i, "OFFLINE") {
            i += 1;
        }
        if t.is(i, "UNIQUE") && t.is(i + 1, "INDEX") || t.is(i, "UNIQUE") && t.is(i + 1, "KEY") {
            return create_index(&t, i + 2, true);
        }
        if t.is(i, "INDEX") || (t.is(i, "FULLTEXT") || t.is(i, "SPATIAL")) && t.is(i + 1, "INDEX") {
            let at = if t.is(i, "INDEX") { i + 1 } else { i + 2 };
            return create_index(&t, at, false);
        }
        return Ok(Ddl::Other);
    }
    if t.is(0, "ALTER") {
        while t.is(i, "ONLINE") || t.is(i, "IGNORE") {
            i += 1;
        }
        if t.is(i, "TABLE") {
            return alter_table(&t, i + 1);
        }
        if t.is(i, "DATABASE") || t.is(i, "SCHEMA") {
            return alter_database(&t, i + 1).map_err(err);
        }
        return Ok(Ddl::Other);
    }
    if t.is(0, "DROP") {
        if t.is(1, "TEMPORARY") {
            return Ok(Ddl::Temporary);
        }
        if t.is(1, "TABLE") || t.is(1, "TABLES") {
            return drop_tables(&t, 2).map_err(err);
        }
        if t.is(1, "DATABASE") || t.is(1, "SCHEMA") {
            let at = if t.are(2, &["IF", "EXISTS"]) { 4 } else { 2 };
            let name = t
                .name(at)
                .ok_or_else(|| err("DROP DATABASE without a name".into()))?;
            return Ok(Ddl::DropDatabase(name));
        }
        if t.is(1, "INDEX") {
            return drop_index(&t, 2);
        }
        return Ok(Ddl::Other);
    }
    if t.is(0, "RENAME") {
        if t.is(1, "TABLE") || t.is(1, "TABLES") {
            return rename_tables(&t, 2).map_err(err);
        }
        return Ok(Ddl::Other);
    }
    if t.is(0, "TRUNCATE") {
        let at = if t.is(1, "TABLE") { 2 } else { 1 };
        let (db, name, _) = t
            .qualified_name(at)
            .ok_or_else(|| err("TRUNCATE without a table".into()))?;
        return Ok(Ddl::Truncate(TableName { db, name }));
    }
    Ok(Ddl::Other)
}

/// `[IF NOT EXISTS] name [options]` of CREATE DATABASE.
fn create_database(t: &Tokens, mut i: usize) -> Res<Ddl> {
    let if_not_exists = t.are(i, &["IF", "NOT", "EXISTS"]);
    if if_not_exists {
        i += 3;
    }
    let name = t.name(i).ok_or("CREATE DATABASE without a name")?;
    let o = table_options(t, i + 1, t.len());
    Ok(Ddl::CreateDatabase {
        name,
        if_not_exists,
        charset: o.charset,
        collation: o.collation,
    })
}

fn alter_database(t: &Tokens, i: usize) -> Res<Ddl> {
    let named = t.toks.get(i).is_some_and(|x| x.kind != TokenKind::Punct)
        && ![
            "DEFAULT",
            "CHARACTER",
            "CHARSET",
            "COLLATE",
            "COMMENT",
            "READ",
            "UPGRADE",
        ]
        .iter()
        .any(|w| t.is(i, w));
    let (name, from) = if named { (t.name(i), i + 1) } else { (None, i) };
    let o = table_options(t, from, t.len());
    Ok(Ddl::AlterDatabase {
        name,
        charset: o.charset,
        collation: o.collation,
    })
}

/// `[IF EXISTS] a, b …` of DROP TABLE.
fn drop_tables(t: &Tokens, mut i: usize) -> Res<Ddl> {
    if t.are(i, &["IF", "EXISTS"]) {
        i += 2;
    }
    let mut names = Vec::new();
    for (a, _) in t.split_commas(i, t.len()) {
        let (db, name, _) = t.qualified_name(a).ok_or("DROP TABLE without a name")?;
        names.push(TableName { db, name });
    }
    Ok(Ddl::DropTables(names))
}

/// `a TO b, c TO d` of RENAME TABLE.
fn rename_tables(t: &Tokens, i: usize) -> Res<Ddl> {
    let mut pairs = Vec::new();
    for (a, b) in t.split_commas(i, t.len()) {
        let (db, name, next) = t.qualified_name(a).ok_or("RENAME TABLE without a name")?;
        let mut next = next;
        if t.is(next, "WAIT") {
            next += 2;
        } else if t.is(next, "NOWAIT") {
            next += 1;
        }
        if !t.is(next, "TO") {
            return Err(format!("`{}` not understood", t.span(a, b)));
        }
        let (db2, name2, _) = t
            .qualified_name(next + 1)
            .ok_or("RENAME TABLE without a new name")?;
        pairs.push((
            TableName { db, name },
            TableName {
                db: db2,
                name: name2,
            },
        ));
    }
    Ok(Ddl::RenameTables(pairs))
}

/// `name ON table (…)` of CREATE INDEX.
fn create_index(t: &Tokens, mut i: usize, unique: bool) -> Result<Ddl, DdlError> {
    if t.are(i, &["IF", "NOT", "EXISTS"]) {
        i += 3;
    }
    let fail = |m: &str| DdlError {
        tables: Vec::new(),
        message: m.to_string(),
    };
    let index = t
        .name(i)
        .ok_or_else(|| fail("CREATE INDEX without a name"))?;
    let mut j = i + 1;
    while j < t.len() && !t.is(j, "ON") {
        j += 1;
    }
    let (db, name, next) = t
        .qualified_name(j + 1)
        .ok_or_else(|| fail("CREATE INDEX without a table"))?;
    let table = TableName { db, name };
    let open = (next..t.len())
        .find(|&k| t.is_punct(k, '('))
        .ok_or_else(|| fail("CREATE INDEX without columns"))?;
    let close = t
        .closing_paren(open)
        .ok_or_else(|| fail("unbalanced parentheses"))?;
    let hidden = hidden_columns(t, open, &index);
    let mut columns = Vec::new();
    for (x, _) in t.split_commas(open + 1, close) {
        match t.name(x) {
            Some(c) if !t.is_punct(x, '(') => columns.push(c),
            _ => columns.clear(),
        }
    }
    let unique = (unique && hidden.is_empty() && !columns.is_empty()).then_some(Key {
        name: index,
        columns,
    });
    Ok(Ddl::CreateIndex {
        table,
        unique,
        hidden,
    })
}

/// `[IF EXISTS] name ON table` of DROP INDEX.
fn drop_index(t: &Tokens, mut i: usize) -> Result<Ddl, DdlError> {
    if t.are(i, &["IF", "EXISTS"]) {
        i += 2;
    }
    let fail = |m: &str| DdlError {
        tables: Vec::new(),
        message: m.to_string(),
    };
    let name = t.name(i).ok_or_else(|| fail("DROP INDEX without a name"))?;
    if !t.is(i + 1, "ON") {
        return Err(fail("DROP INDEX without ON table"));
    }
    let (db, table, _) = t
        .qualified_name(i + 2)
        .ok_or_else(|| fail("DROP INDEX without a table"))?;
    Ok(Ddl::DropIndex {
        table: TableName { db, name: table },
        name,
    })
}

#[cfg(test)]
mod tests;
