//! ALTER TABLE: its clauses read into [`AlterOp`]s; clauses that cannot change columns,
//! keys or character sets are passed over.

use super::create::{
    column_definition, definition, functional_parts, key_definition, table_options,
};
use super::{AlterOp, Ddl, DdlError, Position, Res, TableName, NOT_COLUMN, TABLE_OPTIONS};
use crate::schema::text::Tokens;

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

/// `[IF EXISTS] name [WAIT n|NOWAIT] clause, clause …` of ALTER TABLE.
pub(super) fn alter_table(t: &Tokens, mut i: usize) -> Result<Ddl, DdlError> {
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

/// One clause of ALTER TABLE, tokens `a..b`, its changes pushed to `ops`.
fn alter_clause(t: &Tokens, a: usize, b: usize, ops: &mut Vec<AlterOp>) -> Res<()> {
    let word = |k: &str| t.is(a, k);
    if word("ADD") {
        add_clause(t, a, b, ops)
    } else if word("DROP") {
        drop_clause(t, a, b, ops)
    } else if word("CHANGE") || word("MODIFY") {
        change_clause(t, a, b, ops)
    } else if word("RENAME") {
        rename_clause(t, a, b, ops)
    } else if word("ALTER") {
        // Defaults, visibility of columns and indexes, check constraints.
        Ok(())
    } else if word("CONVERT") {
        if t.is(a + 1, "TO") {
            let o = table_options(t, a + 2, b);
            let cs = o.charset.ok_or("CONVERT TO without a character set")?;
            ops.push(AlterOp::Convert(cs, o.collation));
        }
        // CONVERT PARTITION … TO TABLE, CONVERT TABLE … TO PARTITION: no column changes
        // to this table.
        Ok(())
    } else if word("DEFAULT")
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
        Ok(())
    } else if HARMLESS_CLAUSES.iter().any(|w| t.is(a, w)) || a == b {
        Ok(())
    } else {
        Err(format!(
            "ALTER TABLE clause `{}` not understood",
            t.span(a, b)
        ))
    }
}

/// `ADD [COLUMN] [IF NOT EXISTS]` a column, a list of them, a key or system versioning.
fn add_clause(t: &Tokens, a: usize, b: usize, ops: &mut Vec<AlterOp>) -> Res<()> {
    let mut i = a + 1;
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
    Ok(())
}

/// `DROP` a column, a key, the primary key or system versioning.
fn drop_clause(t: &Tokens, a: usize, b: usize, ops: &mut Vec<AlterOp>) -> Res<()> {
    let mut i = a + 1;
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
    Ok(())
}

/// `CHANGE old new-definition` or `MODIFY definition`, with `FIRST`/`AFTER`.
fn change_clause(t: &Tokens, a: usize, b: usize, ops: &mut Vec<AlterOp>) -> Res<()> {
    let mut i = a + 1;
    let word = |k: &str| t.is(a, k);
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
    Ok(())
}

/// `RENAME COLUMN`, `RENAME INDEX|KEY` or `RENAME [TO|AS]` the table.
fn rename_clause(t: &Tokens, a: usize, b: usize, ops: &mut Vec<AlterOp>) -> Res<()> {
    let mut i = a + 1;
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
    Ok(())
}
