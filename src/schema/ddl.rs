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

use sqlparser::ast::{ColumnOption, DataType, EnumMember, Statement};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use crate::schema::table::Key;
use crate::schema::text::{TokenKind, Tokens};
use crate::schema::types::{sql_string, SqlType, TypeKind};

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

/// ALTER TABLE clauses that change neither columns, keys nor character sets.
const HARMLESS_CLAUSES: &[&str] = &[
    "ALGORITHM",
    "LOCK",
    "FORCE",
    "ENABLE",
    "DISABLE",
    "DISCARD",
    "IMPORT",
    "ORDER",
    "WITH",
    "WITHOUT",
    "PARTITION",
    "REMOVE",
    "COALESCE",
    "REORGANIZE",
    "EXCHANGE",
    "ANALYZE",
    "CHECK",
    "OPTIMIZE",
    "REBUILD",
    "REPAIR",
    "TRUNCATE",
    "UPGRADE",
    "SECONDARY_LOAD",
    "SECONDARY_UNLOAD",
    "NOWAIT",
    "WAIT",
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

/// `[IF NOT EXISTS] name …` of CREATE TABLE.
fn create_table(t: &Tokens, mut i: usize) -> Result<Ddl, DdlError> {
    let if_not_exists = t.are(i, &["IF", "NOT", "EXISTS"]);
    if if_not_exists {
        i += 3;
    }
    let (db, table, next) = t.qualified_name(i).ok_or_else(|| DdlError {
        tables: Vec::new(),
        message: "CREATE TABLE without a table name".into(),
    })?;
    let name = TableName { db, name: table };
    let fail = |message: String| DdlError {
        tables: vec![name.clone()],
        message,
    };
    let body = create_body(t, next).map_err(fail)?;
    Ok(Ddl::CreateTable {
        name: name.clone(),
        if_not_exists,
        body,
    })
}

fn create_body(t: &Tokens, i: usize) -> Res<CreateBody> {
    // LIKE other, (LIKE other)
    let like_at = if t.is_punct(i, '(') { i + 1 } else { i };
    if t.is(like_at, "LIKE") {
        let (db, name, _) = t
            .qualified_name(like_at + 1)
            .ok_or("LIKE without a table name")?;
        return Ok(CreateBody::Like(TableName { db, name }));
    }
    let mut tail = i;
    let mut columns = Vec::new();
    let mut keys = Vec::new();
    let mut hidden = Vec::new();
    if t.is_punct(i, '(') && !t.is(i + 1, "SELECT") {
        let close = t.closing_paren(i).ok_or("unbalanced parentheses")?;
        for (a, b) in t.split_commas(i + 1, close) {
            definition(t, a, b, &mut columns, &mut keys, &mut hidden)?;
        }
        tail = close + 1;
    }
    // MySQL places the hidden columns of functional indexes after the others.
    columns.extend(hidden);
    let opts = table_options(t, tail, t.len());
    if opts.select {
        return Ok(CreateBody::Select);
    }
    if columns.is_empty() {
        return Err("CREATE TABLE without columns".into());
    }
    Ok(CreateBody::Definitions {
        columns,
        keys,
        charset: opts.charset,
        collation: opts.collation,
        system_versioning: opts.system_versioning,
    })
}

/// One definition of CREATE TABLE (or of `ALTER TABLE … ADD (…)`).
fn definition(
    t: &Tokens,
    a: usize,
    b: usize,
    columns: &mut Vec<NewColumn>,
    keys: &mut Vec<(bool, Key)>,
    hidden: &mut Vec<NewColumn>,
) -> Res<()> {
    if NOT_COLUMN.iter().any(|w| t.is(a, w)) {
        if let Some(k) = key_definition(t, a, b)? {
            keys.push(k);
        }
        hidden.extend(functional_parts(t, a, b));
        return Ok(());
    }
    columns.push(column_definition(t, a, b)?);
    Ok(())
}

/// A key definition: `Some((primary, key))` for PRIMARY KEY and UNIQUE ones.
fn key_definition(t: &Tokens, a: usize, b: usize) -> Res<Option<(bool, Key)>> {
    let mut i = a;
    let mut name = None;
    if t.is(i, "CONSTRAINT") {
        i += 1;
        if !t.is(i, "PRIMARY") && !t.is(i, "UNIQUE") && !t.is(i, "CHECK") && !t.is(i, "FOREIGN") {
            name = t.name(i);
            i += 1;
        }
    }
    let primary = t.is(i, "PRIMARY");
    if !primary && !t.is(i, "UNIQUE") {
        return Ok(None);
    }
    i += 1;
    while i < b && !t.is_punct(i, '(') {
        // KEY / INDEX, the key's name, USING BTREE.
        if !(t.is(i, "KEY")
            || t.is(i, "INDEX")
            || t.is(i, "USING")
            || t.is(i, "BTREE")
            || t.is(i, "HASH"))
        {
            name = t.name(i);
        }
        i += 1;
    }
    let close = t
        .closing_paren(i)
        .filter(|&c| c < b)
        .ok_or("a key without its columns")?;
    let mut cols = Vec::new();
    for (x, _) in t.split_commas(i + 1, close) {
        // `col`, `col(10)`, `col DESC`; an expression `(a + 1)` is not a column.
        if t.is_punct(x, '(') {
            return Ok(None);
        }
        cols.push(t.name(x).ok_or("a key part without a column")?);
    }
    let name = if primary {
        "PRIMARY".to_string()
    } else {
        name.unwrap_or_else(|| cols.first().cloned().unwrap_or_default())
    };
    Ok(Some((
        primary,
        Key {
            name,
            columns: cols,
        },
    )))
}

/// The hidden columns MySQL adds for the expression parts `((expr))` of an index
/// definition (tokens `a..b`), named as it names them.
fn functional_parts(t: &Tokens, a: usize, b: usize) -> Vec<NewColumn> {
    let Some(open) = (a..b).find(|&i| t.is_punct(i, '(')) else {
        return Vec::new();
    };
    let name = (a..open)
        .rev()
        .find(|&i| t.toks[i].kind != TokenKind::Punct && !NOT_COLUMN.iter().any(|w| t.is(i, w)))
        .and_then(|i| t.name(i))
        .unwrap_or_else(|| "functional_index".into());
    hidden_columns(t, open, &name)
}

/// The hidden columns of the expression parts in the key part list opening at `open` of
/// index `name`.
fn hidden_columns(t: &Tokens, open: usize, name: &str) -> Vec<NewColumn> {
    let Some(close) = t.closing_paren(open) else {
        return Vec::new();
    };
    t.split_commas(open + 1, close)
        .iter()
        .enumerate()
        .filter(|(_, (x, _))| t.is_punct(*x, '('))
        .map(|(n, _)| NewColumn {
            name: format!("!hidden!{name}!{n}!0"),
            ty: SqlType::hidden(),
            charset: None,
            collation: None,
            invisible: true,
            primary: false,
            unique: false,
            row_period: false,
        })
        .collect()
}

/// A column definition, through the SQL parser.
fn column_definition(t: &Tokens, a: usize, b: usize) -> Res<NewColumn> {
    let (text, row_period) = normalize_column(t, a, b);
    let sql = format!("CREATE TABLE t ({text})");
    let parsed = Parser::parse_sql(&MySqlDialect {}, &sql)
        .map_err(|e| format!("column definition `{}` not understood: {e}", t.span(a, b)))?;
    let Some(Statement::CreateTable(ct)) = parsed.into_iter().next() else {
        return Err(format!(
            "column definition `{}` not understood",
            t.span(a, b)
        ));
    };
    let [def] = ct.columns.as_slice() else {
        return Err(format!(
            "column definition `{}` not understood",
            t.span(a, b)
        ));
    };
    let ty = match &def.data_type {
        DataType::Enum(members, _) => {
            let m: Vec<String> = members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(s) | EnumMember::NamedValue(s, _) => sql_string(s),
                })
                .collect();
            SqlType::parse(&format!("enum({})", m.join(",")))
        }
        DataType::Set(members) => {
            let m: Vec<String> = members.iter().map(|s| sql_string(s)).collect();
            SqlType::parse(&format!("set({})", m.join(",")))
        }
        other => SqlType::parse(&other.to_string()),
    }
    .map_err(|e| format!("column {}: {e}", def.name.value))?;
    let mut col = NewColumn {
        name: def.name.value.clone(),
        ty,
        charset: None,
        collation: None,
        invisible: false,
        primary: false,
        unique: false,
        row_period,
    };
    for o in &def.options {
        match &o.option {
            ColumnOption::CharacterSet(n) => col.charset = Some(object_name(n)),
            ColumnOption::Collation(n) => col.collation = Some(object_name(n)),
            ColumnOption::PrimaryKey(_) => col.primary = true,
            ColumnOption::Unique(_) => col.unique = true,
            ColumnOption::Invisible => col.invisible = true,
            _ => {}
        }
    }
    if col.ty.kind == TypeKind::Int(8) && def.data_type.to_string().eq_ignore_ascii_case("serial") {
        col.unique = true;
    }
    Ok(col)
}

fn object_name(n: &sqlparser::ast::ObjectName) -> String {
    n.0.iter()
        .map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A column definition with MySQL and MariaDB attributes the SQL parser lacks written in
/// forms it knows (or left out where they change nothing for the schema); and whether it
/// is a system-versioning column (`GENERATED ALWAYS AS ROW START|END`).
fn normalize_column(t: &Tokens, a: usize, b: usize) -> (String, bool) {
    let mut out: Vec<String> = Vec::new();
    let mut row_period = false;
    let mut i = a;
    // The name.
    out.push(t.raw(i).to_string());
    i += 1;
    // Two-word type names.
    let two = |i: usize, x: &str, y: &str| t.is(i, x) && t.is(i + 1, y);
    if two(i, "NATIONAL", "CHAR") || two(i, "NATIONAL", "CHARACTER") {
        out.push("NCHAR".into());
        i += 2;
    } else if two(i, "NATIONAL", "VARCHAR")
        || two(i, "NCHAR", "VARCHAR")
        || two(i, "NCHAR", "VARYING")
    {
        out.push("NVARCHAR".into());
        i += 2;
    } else if two(i, "LONG", "VARCHAR") {
        out.push("MEDIUMTEXT".into());
        i += 2;
    } else if two(i, "LONG", "VARBINARY") || two(i, "LONG", "BINARY") {
        out.push("MEDIUMBLOB".into());
        i += 2;
    } else if two(i, "CHAR", "BYTE") {
        out.push("BINARY".into());
        i += 2;
    } else if t.is(i, "REAL") && t.is_punct(i + 1, '(') {
        out.push("DOUBLE".into());
        i += 1;
    }
    // Whether the type (name and arguments) is behind.
    let mut after_type = false;
    while i < b {
        if !after_type && i > a + 1 {
            if t.is_punct(i, '(') {
                // The type's arguments, as written.
                let close = t.closing_paren(i).unwrap_or(b - 1).min(b - 1);
                out.push(t.span(i, close + 1).to_string());
                i = close + 1;
            }
            after_type = true;
            continue;
        }
        let w = |k: &str| t.is(i, k);
        // An attribute word, not the value of CHARACTER SET, COLLATE or `=`.
        let attribute = after_type
            && !(t.is(i - 1, "SET")
                || t.is(i - 1, "CHARSET")
                || t.is(i - 1, "COLLATE")
                || t.is_punct(i - 1, '='));
        if w("ZEROFILL") && t.is(i + 1, "UNSIGNED") {
            out.push("UNSIGNED ZEROFILL".into());
            i += 2;
        } else if w("CHARSET") && !t.is_punct(i + 1, '=') {
            out.push("CHARACTER SET".into());
            i += 1;
        } else if w("BINARY") && attribute {
            i += 1;
        } else if w("ASCII") && attribute {
            out.push("CHARACTER SET latin1".into());
            i += 1;
        } else if w("UNICODE") && attribute {
            out.push("CHARACTER SET ucs2".into());
            i += 1;
        } else if w("PERSISTENT") {
            out.push("STORED".into());
            i += 1;
        } else if w("VISIBLE") {
            i += 1;
        } else if w("COMPRESSED") {
            i += 1;
            if t.is_punct(i, '=') {
                i += 2;
            }
        } else if w("COLUMN_FORMAT") || w("STORAGE") {
            i += 2;
        } else if (w("WITH") || w("WITHOUT")) && t.are(i + 1, &["SYSTEM", "VERSIONING"]) {
            i += 3;
        } else if w("ENGINE_ATTRIBUTE") || w("SECONDARY_ENGINE_ATTRIBUTE") {
            i += if t.is_punct(i + 1, '=') { 3 } else { 2 };
        } else if w("GENERATED") && t.are(i + 1, &["ALWAYS", "AS", "ROW"]) {
            row_period = true;
            i += 5;
        } else if w("AS") && t.is(i + 1, "ROW") {
            row_period = true;
            i += 3;
        } else if (w("AS") || w("CHECK") || w("DEFAULT")) && t.is_punct(i + 1, '(') {
            // An expression (generated column, check, default): its value does not matter
            // here, and the parser lacks some of its operators (`->>`).
            out.push(format!("{} (0)", t.raw(i)));
            i = t.closing_paren(i + 1).map_or(b, |c| c + 1);
        } else {
            out.push(t.raw(i).to_string());
            i += 1;
        }
    }
    (out.join(" "), row_period)
}

struct TableOptions {
    charset: Option<String>,
    collation: Option<String>,
    system_versioning: bool,
    select: bool,
}

/// Reads the table options in tokens `from..to`: character set, collation, system
/// versioning; whether a SELECT follows (CREATE TABLE … SELECT).
fn table_options(t: &Tokens, from: usize, to: usize) -> TableOptions {
    let mut o = TableOptions {
        charset: None,
        collation: None,
        system_versioning: false,
        select: false,
    };
    let mut i = from;
    let value_at = |i: usize| if t.is_punct(i, '=') { i + 1 } else { i };
    while i < to {
        if t.is(i, "PARTITION") {
            break;
        }
        if t.is(i, "SELECT")
            || t.is(i, "AS") && t.is(i + 1, "SELECT")
            || t.is_punct(i, '(') && t.is(i + 1, "SELECT")
        {
            o.select = true;
            break;
        }
        if t.is(i, "CHARSET") || t.are(i, &["CHARACTER", "SET"]) {
            let v = value_at(if t.is(i, "CHARSET") { i + 1 } else { i + 2 });
            o.charset = t.name(v);
            i = v + 1;
            continue;
        }
        if t.is(i, "COLLATE") {
            let v = value_at(i + 1);
            o.collation = t.name(v);
            i = v + 1;
            continue;
        }
        if t.are(i, &["WITH", "SYSTEM", "VERSIONING"]) {
            o.system_versioning = true;
            i += 3;
            continue;
        }
        i += 1;
    }
    o
}

/// `[IF EXISTS] name [WAIT n|NOWAIT] clause, clause …` of ALTER TABLE.
fn alter_table(t: &Tokens, mut i: usize) -> Result<Ddl, DdlError> {
    if t.are(i, &["IF", "EXISTS"]) {
        i += 2;
    }
    let (db, table, mut next) = t.qualified_name(i).ok_or_else(|| DdlError {
        tables: Vec::new(),
        message: "ALTER TABLE without a table name".into(),
    })?;
    let name = TableName { db, name: table };
    if t.is(next, "WAIT") {
        next += 2;
    } else if t.is(next, "NOWAIT") {
        next += 1;
    }
    let mut ops = Vec::new();
    for (a, b) in t.split_commas(next, t.len()) {
        alter_clause(t, a, b, &mut ops).map_err(|message| {
            let mut tables = vec![name.clone()];
            tables.extend(ops.iter().filter_map(|o| match o {
                AlterOp::RenameTable(n) => Some(n.clone()),
                _ => None,
            }));
            DdlError { tables, message }
        })?;
    }
    Ok(Ddl::AlterTable { name, ops })
}

/// `FIRST` or `AFTER x` at the end of tokens `a..b`: the position and where the rest ends.
fn position(t: &Tokens, a: usize, b: usize) -> (Position, usize) {
    if b >= a + 2 && t.is(b - 2, "AFTER") {
        if let Some(n) = t.name(b - 1) {
            return (Position::After(n), b - 2);
        }
    }
    if b > a && t.is(b - 1, "FIRST") {
        return (Position::First, b - 1);
    }
    (Position::Default, b)
}

fn alter_clause(t: &Tokens, a: usize, b: usize, ops: &mut Vec<AlterOp>) -> Res<()> {
    let mut i = a + 1;
    let word = |k: &str| t.is(a, k);
    if word("ADD") {
        let column_kw = t.is(i, "COLUMN");
        if column_kw {
            i += 1;
        }
        let if_not_exists = t.are(i, &["IF", "NOT", "EXISTS"]);
        if if_not_exists {
            i += 3;
        }
        if !column_kw {
            if t.are(i, &["SYSTEM", "VERSIONING"]) {
                ops.push(AlterOp::AddSystemVersioning);
                return Ok(());
            }
            if t.is(i, "PARTITION") {
                return Ok(());
            }
            if NOT_COLUMN.iter().any(|w| t.is(i, w)) {
                if let Some((primary, key)) = key_definition(t, i, b)? {
                    ops.push(AlterOp::AddKey { primary, key });
                }
                ops.extend(
                    functional_parts(t, i, b)
                        .into_iter()
                        .map(|col| AlterOp::Add {
                            col,
                            pos: Position::Default,
                            if_not_exists: false,
                        }),
                );
                return Ok(());
            }
        }
        if t.is_punct(i, '(') {
            let close = t.closing_paren(i).ok_or("unbalanced parentheses")?;
            let (mut cols, mut keys) = (Vec::new(), Vec::new());
            let mut hidden = Vec::new();
            for (x, y) in t.split_commas(i + 1, close) {
                definition(t, x, y, &mut cols, &mut keys, &mut hidden)?;
            }
            cols.extend(hidden);
            ops.extend(cols.into_iter().map(|col| AlterOp::Add {
                col,
                pos: Position::Default,
                if_not_exists,
            }));
            ops.extend(
                keys.into_iter()
                    .map(|(primary, key)| AlterOp::AddKey { primary, key }),
            );
            return Ok(());
        }
        let (pos, end) = position(t, i, b);
        let col = column_definition(t, i, end)?;
        ops.push(AlterOp::Add {
            col,
            pos,
            if_not_exists,
        });
        return Ok(());
    }
    if word("DROP") {
        if t.are(i, &["PRIMARY", "KEY"]) {
            ops.push(AlterOp::DropPrimaryKey);
            return Ok(());
        }
        if t.is(i, "INDEX") || t.is(i, "KEY") || t.is(i, "CONSTRAINT") {
            i += 1;
            if t.are(i, &["IF", "EXISTS"]) {
                i += 2;
            }
            ops.push(AlterOp::DropKey(
                t.name(i).ok_or("DROP INDEX without a name")?,
            ));
            return Ok(());
        }
        if t.are(i, &["SYSTEM", "VERSIONING"]) {
            ops.push(AlterOp::DropSystemVersioning);
            return Ok(());
        }
        if ["FOREIGN", "CHECK", "PARTITION", "PERIOD"]
            .iter()
            .any(|w| t.is(i, w))
        {
            return Ok(());
        }
        if t.is(i, "COLUMN") {
            i += 1;
        }
        let if_exists = t.are(i, &["IF", "EXISTS"]);
        if if_exists {
            i += 2;
        }
        let name = t.name(i).ok_or("DROP without a column")?;
        if i + 1 < b && !t.is(i + 1, "CASCADE") && !t.is(i + 1, "RESTRICT") {
            return Err(format!("`{}` not understood", t.span(a, b)));
        }
        ops.push(AlterOp::Drop { name, if_exists });
        return Ok(());
    }
    if word("CHANGE") || word("MODIFY") {
        if t.is(i, "COLUMN") {
            i += 1;
        }
        let if_exists = t.are(i, &["IF", "EXISTS"]);
        if if_exists {
            i += 2;
        }
        let old = t.name(i).ok_or("CHANGE without a column")?;
        if word("CHANGE") {
            i += 1;
        }
        let (pos, end) = position(t, i, b);
        let col = column_definition(t, i, end)?;
        ops.push(AlterOp::Change {
            old,
            col,
            pos,
            if_exists,
        });
        return Ok(());
    }
    if word("RENAME") {
        if t.is(i, "COLUMN") {
            i += 1;
            let if_exists = t.are(i, &["IF", "EXISTS"]);
            if if_exists {
                i += 2;
            }
            let old = t.name(i).ok_or("RENAME COLUMN without a column")?;
            if !t.is(i + 1, "TO") {
                return Err(format!("`{}` not understood", t.span(a, b)));
            }
            let new = t.name(i + 2).ok_or("RENAME COLUMN without a new name")?;
            ops.push(AlterOp::RenameColumn {
                old,
                new,
                if_exists,
            });
            return Ok(());
        }
        if t.is(i, "INDEX") || t.is(i, "KEY") {
            let old = t.name(i + 1).ok_or("RENAME INDEX without a name")?;
            let new = t.name(i + 3).ok_or("RENAME INDEX without a new name")?;
            ops.push(AlterOp::RenameKey(old, new));
            return Ok(());
        }
        if t.is(i, "TO") || t.is(i, "AS") || t.is_punct(i, '=') {
            i += 1;
        }
        let (db, name, end) = t.qualified_name(i).ok_or("RENAME without a new name")?;
        if end != b {
            return Err(format!("`{}` not understood", t.span(a, b)));
        }
        ops.push(AlterOp::RenameTable(TableName { db, name }));
        return Ok(());
    }
    if word("ALTER") {
        // Defaults, visibility of columns and indexes, check constraints.
        return Ok(());
    }
    if word("CONVERT") {
        if t.is(i, "TO") {
            let o = table_options(t, i + 1, b);
            let cs = o.charset.ok_or("CONVERT TO without a character set")?;
            ops.push(AlterOp::Convert(cs, o.collation));
        }
        // CONVERT PARTITION … TO TABLE, CONVERT TABLE … TO PARTITION: no column changes
        // to this table.
        return Ok(());
    }
    if word("DEFAULT")
        || word("CHARACTER")
        || word("CHARSET")
        || word("COLLATE")
        || TABLE_OPTIONS.iter().any(|w| t.is(a, w))
    {
        let o = table_options(t, a, b);
        if o.charset.is_some() || o.collation.is_some() {
            ops.push(AlterOp::TableCharset(o.charset, o.collation));
        }
        if o.system_versioning {
            ops.push(AlterOp::AddSystemVersioning);
        }
        return Ok(());
    }
    if HARMLESS_CLAUSES.iter().any(|w| t.is(a, w)) {
        return Ok(());
    }
    if a == b {
        return Ok(());
    }
    Err(format!(
        "ALTER TABLE clause `{}` not understood",
        t.span(a, b)
    ))
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
