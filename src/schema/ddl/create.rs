//! CREATE TABLE: its definitions (columns by `sqlparser`, keys, hidden columns of
//! functional indexes) and its table options.

use sqlparser::ast::{ColumnOption, DataType, EnumMember, Statement};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use super::{CreateBody, Ddl, DdlError, NewColumn, Res, TableName, NOT_COLUMN};
use crate::schema::table::Key;
use crate::schema::text::{TokenKind, Tokens};
use crate::schema::types::{sql_string, SqlType, TypeKind};

/// `[IF NOT EXISTS] name …` of CREATE TABLE.
pub(super) fn create_table(t: &Tokens, mut i: usize) -> Result<Ddl, DdlError> {
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
pub(super) fn definition(
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
pub(super) fn key_definition(t: &Tokens, a: usize, b: usize) -> Res<Option<(bool, Key)>> {
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
pub(super) fn functional_parts(t: &Tokens, a: usize, b: usize) -> Vec<NewColumn> {
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
pub(super) fn hidden_columns(t: &Tokens, open: usize, name: &str) -> Vec<NewColumn> {
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
pub(super) fn column_definition(t: &Tokens, a: usize, b: usize) -> Res<NewColumn> {
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

pub(super) struct TableOptions {
    pub(super) charset: Option<String>,
    pub(super) collation: Option<String>,
    pub(super) system_versioning: bool,
    pub(super) select: bool,
}

/// Reads the table options in tokens `from..to`: character set, collation, system
/// versioning; whether a SELECT follows (CREATE TABLE … SELECT).
pub(super) fn table_options(t: &Tokens, from: usize, to: usize) -> TableOptions {
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
