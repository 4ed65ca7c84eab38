//! `flashback --check`: the live rows an undo would touch, read in one consistent snapshot
//! in batches by key, compared with what the binlog says they hold
//! ([`binlog::flashback::check`] decides; this file connects, queries and reports).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use mysql::prelude::Queryable;
use mysql::Conn;

use binlog::flashback::check::{
    self, Cells, CheckTable, Conflict, ExpectedRow, KeyKind, LeaveOut, SpillFile, TableDesc,
    Verdict,
};
use binlog::flashback::{Options, Plan};
use binlog::row::Value;
use binlog::snapshot::table::quote_ident;
use binlog::snapshot::{encode_row, ServerValue, TableLayout};
use binlog::sql::text::Charset;
use binlog::sql::{literal, match_literal, ColumnInfo};
use binlog::Binlog;

use super::connection::{describe, exec, rows as query_rows, text, ConnectionArgs};
use super::decode::jsonl::json_value;
use super::output::{json_str, CliResult, Failure, OutputFile};
use super::signals;
use super::size::human;
use super::snapshot::catalog::{describe_tables, Chosen};
use super::snapshot::read::server_value;
use super::snapshot::server::{setup_session, Server};
use super::temp_file::{Fault, TempFile};

/// What to do when rows changed since the mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnConflict {
    /// Write no undo; exit 1.
    Refuse,
    /// Write the undo without the conflicting rows (and any other selected change to
    /// them).
    Skip,
    /// Report them and write the whole undo.
    Ignore,
}

/// Keys per query for tables with a key; rows per query for tables without one.
const KEYS_PER_QUERY: usize = 1000;
const ROWS_PER_QUERY: usize = 200;
/// A query's text is cut before it grows past this.
const QUERY_BYTES: usize = 4 << 20;

/// What the check found.
pub struct Checked {
    /// Rows compared.
    pub rows: usize,
    /// Conflicts.
    pub conflicts: usize,
    /// With `--on-conflict skip`: the rows to leave out.
    pub leave_out: Option<LeaveOut>,
}

/// A live table: how to read it and how to show its values.
struct Live {
    layout: TableLayout,
    cols: Vec<ColumnInfo>,
}

/// Compares every row the plan's undo touches with the server's, in one REPEATABLE READ
/// snapshot; writes the conflicts to `report` (JSON lines) and a summary on stderr. The
/// touched rows are held in `memory` bytes, spilled to a temporary file past that.
#[allow(clippy::too_many_arguments)]
pub fn run(
    conn_args: &ConnectionArgs,
    logs: &[Binlog],
    paths: &[PathBuf],
    plan: &Plan,
    opts: &Options,
    report: Option<&Path>,
    mode: OnConflict,
    memory: u64,
    located: &dyn Fn(binlog::flashback::FileError) -> Failure,
) -> CliResult<Checked> {
    let budget = usize::try_from(memory).unwrap_or(usize::MAX);
    let mut report = match report {
        Some(p) => Some(OutputFile::create(p)?),
        None => None,
    };
    let spec = conn_args.resolve()?;
    let mut conn = spec.connect()?;
    let server = Server::read(&mut conn)?;
    exec(&mut conn, "SET NAMES utf8mb4", "setting up the session")?;
    setup_session(&mut conn, &server, true)?;
    exec(
        &mut conn,
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        "starting the snapshot",
    )?;
    let fault = Fault::default();
    let mut open =
        || -> std::io::Result<Box<dyn SpillFile>> { Ok(Box::new(TempFile::create(&fault)?)) };
    // An error of the temporary file: a signal, the file's own line, or the library's.
    let spill_failure = |e: binlog::Error| match (signals::caught(), fault.message()) {
        (Some(sig), _) => Failure::Interrupted(sig),
        (None, Some(m)) => Failure::Message(m),
        (None, None) => Failure::Message(format!(
            "--check: the temporary file in {}: {}",
            std::env::temp_dir().display(),
            e.kind()
        )),
    };
    let mut live: Vec<Live> = Vec::new();
    let expected = {
        let mut describe_live = |db: &str, name: &str| -> Result<TableDesc, String> {
            let (l, desc) = describe_table(&mut conn, &server, db, name)?;
            live.push(l);
            Ok(desc)
        };
        let keep_links = mode == OnConflict::Skip;
        check::expect(
            logs,
            plan,
            opts,
            budget,
            keep_links,
            &mut open,
            &mut describe_live,
        )
        .map_err(|e| match e.file {
            Some(_) => located(e),
            None => spill_failure(e.error),
        })?
    };
    let (mut tables, mut source, spilled) = expected.into_rows(&mut open).map_err(spill_failure)?;
    if let Some(s) = spilled {
        crate::say!(
            "binlog-tool: check: the touched rows outgrew --check-memory ({}): {} sorted runs \
             ({}) in a temporary file in {}",
            human(memory),
            s.runs,
            human(s.bytes),
            std::env::temp_dir().display()
        );
    }
    let mut by_table = vec![0usize; tables.len()];
    let mut left_out: Vec<(usize, Cells)> = Vec::new();
    let mut left_out_bytes = 0usize;
    let mut strays = 0usize;
    let mut rows = 0usize;
    let mut line = String::new();
    let mut ahead: Option<(usize, ExpectedRow)> = None;
    loop {
        if let Some(sig) = signals::caught() {
            return Err(Failure::Interrupted(sig));
        }
        let first = match ahead.take() {
            Some(r) => Some(r),
            None => source.next_row().map_err(spill_failure)?,
        };
        let Some((ti, first)) = first else {
            break;
        };
        let (table, l) = (&tables[ti], &live[ti]);
        let per_query = match table.key.kind {
            KeyKind::AllColumns => ROWS_PER_QUERY,
            _ => KEYS_PER_QUERY,
        };
        // A batch: rows of one table, at most `per_query` of them and an eighth of the
        // budget in images.
        let mut bytes = first.key.size() + first.now.as_ref().map_or(0, Cells::size);
        let mut batch = vec![first];
        while batch.len() < per_query && bytes < budget / 8 {
            match source.next_row().map_err(spill_failure)? {
                Some((t, r)) if t == ti => {
                    bytes += r.key.size() + r.now.as_ref().map_or(0, Cells::size);
                    batch.push(r);
                }
                other => {
                    ahead = other;
                    break;
                }
            }
        }
        rows += batch.len();
        let mut start = 0;
        while start < batch.len() {
            if let Some(sig) = signals::caught() {
                return Err(Failure::Interrupted(sig));
            }
            let part = &batch[start..];
            let (sql, end) = batch_query(table, l, part, per_query);
            let read = read_batch(&mut conn, table, l, &sql, &part[..end])?;
            for (row, found) in part.iter().zip(read.found) {
                let verdict = table.verdict(row, found.as_ref());
                if verdict == Verdict::Same {
                    continue;
                }
                by_table[ti] += 1;
                let c = Conflict {
                    table: ti,
                    verdict,
                    found,
                };
                if let Some(out) = report.as_mut() {
                    line.clear();
                    conflict_line(&mut line, table, l, row, &c, paths)?;
                    out.write_all(line.as_bytes())?;
                }
                if mode == OnConflict::Skip {
                    left_out_bytes += row.key.size() + 64;
                    left_out.push((ti, row.key.clone()));
                    if left_out_bytes > budget / 4 {
                        return Err(Failure::Message(format!(
                            "--check: {} conflicts found so far: more than a quarter of \
                             --check-memory ({}) holds to leave them out with --on-conflict \
                             skip; raise --check-memory",
                            left_out.len(),
                            human(memory)
                        )));
                    }
                }
            }
            for found in read.strays {
                strays += 1;
                if let Some(out) = report.as_mut() {
                    line.clear();
                    stray_line(&mut line, table, l, &found)?;
                    out.write_all(line.as_bytes())?;
                }
            }
            start += end;
        }
    }
    let _ = conn.query_drop("COMMIT");
    if let Some(out) = report {
        out.commit()?;
    }
    let conflicts: usize = by_table.iter().sum();
    summary(&tables, &by_table, strays, rows);
    let total = conflicts + strays;
    if strays > 0 && mode == OnConflict::Skip {
        return Err(Failure::Message(format!(
            "--check: {strays} live rows matched a touched key only as the server compares \
             (collation or conversion), not byte for byte: which changes they conflict with \
             cannot be told, so no undo is written with --on-conflict skip"
        )));
    }
    let leave_out =
        (mode == OnConflict::Skip && total > 0).then(|| LeaveOut::new(&mut tables, left_out));
    if let Some(l) = &leave_out {
        crate::say!(
            "binlog-tool: check: {} rows left out of the undo ({} conflicting, {} linked to them by key changes)",
            l.rows,
            conflicts,
            l.rows - conflicts
        );
    }
    Ok(Checked {
        rows,
        conflicts: total,
        leave_out,
    })
}

/// The one-line summary on stderr.
fn summary(tables: &[CheckTable], conflicts: &[usize], strays: usize, rows: usize) {
    let mut by_table: BTreeMap<String, usize> = BTreeMap::new();
    for (t, &n) in tables.iter().zip(conflicts) {
        if n > 0 {
            *by_table.entry(t.qualified_name()).or_default() += n;
        }
    }
    let mut s = format!(
        "binlog-tool: check: {rows} rows checked, {} conflicts",
        conflicts.iter().sum::<usize>() + strays
    );
    if !by_table.is_empty() {
        let list: Vec<String> = by_table.iter().map(|(t, n)| format!("{t}: {n}")).collect();
        let _ = write!(s, " ({})", list.join(", "));
    }
    if strays > 0 {
        let _ = write!(
            s,
            "; {strays} live rows matched a touched key only under the server's comparison"
        );
    }
    crate::say!("{s}");
}

/// The live table `db.name`: its layout (what snapshot reads), its description for the
/// library, its unique keys.
fn describe_table(
    conn: &mut Conn,
    server: &Server,
    db: &str,
    name: &str,
) -> Result<(Live, TableDesc), String> {
    let chosen = Chosen {
        schema: db.to_string(),
        name: name.to_string(),
        engine: String::new(),
        estimated_rows: 0,
    };
    let message = |f: Failure| match f {
        Failure::Message(m) => m,
        other => format!("{other:?}"),
    };
    let esc = |s: &str| s.replace('\\', "\\\\").replace('\'', "''");
    let exists = query_rows(
        conn,
        &format!(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' AND TABLE_NAME = '{}'",
            esc(db),
            esc(name)
        ),
    )
    .map_err(|e| format!("reading information_schema: {}", describe(&e)))?;
    if exists.is_empty() {
        return Err("not found on the server".into());
    }
    let def = describe_tables(conn, server, &[chosen])
        .map_err(message)?
        .pop()
        .ok_or("not found on the server")?;
    if def.columns.is_empty() {
        return Err("not found on the server".into());
    }
    let layout = TableLayout::new(&def, server.flavor, server.version)
        .map_err(|e| format!("{}", e.kind()))?;
    let stats = query_rows(
        conn,
        &format!(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = '{}' AND TABLE_NAME = '{}' AND NON_UNIQUE = 0 \
             AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            esc(db),
            esc(name)
        ),
    )
    .map_err(|e| format!("reading its keys: {}", describe(&e)))?;
    let mut unique: Vec<(String, Vec<usize>)> = Vec::new();
    for r in &stats {
        let (index, column) = (text(r, 0), text(r, 1));
        let Some(i) = layout.column_names.iter().position(|c| *c == column) else {
            // An expression in the key: not a key of columns.
            unique.retain(|(n, _)| *n != index);
            continue;
        };
        match unique.last_mut() {
            Some((n, cols)) if *n == index => cols.push(i),
            _ => unique.push((index, vec![i])),
        }
    }
    let cols = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ColumnInfo {
            name: Some(c.name.clone()),
            column: layout.columns[i],
            unsigned: layout.unsigned[i],
            charset: c.collation,
            members: (!c.members.is_empty()).then(|| c.members.clone()),
        })
        .collect();
    let desc = TableDesc {
        columns: layout.columns.clone(),
        unsigned: layout.unsigned.clone(),
        names: layout.column_names.clone(),
        primary: def.primary_key.iter().map(|&(i, _)| i).collect(),
        unique,
    };
    Ok((Live { layout, cols }, desc))
}

/// The query that reads the first of `rows` of `table` (as many as fit), and how many it
/// reads.
fn batch_query(
    table: &CheckTable,
    l: &Live,
    rows: &[ExpectedRow],
    per_query: usize,
) -> (String, usize) {
    let mut sql = l.layout.select_sql();
    sql.push_str(" WHERE ");
    let all = table.key.kind == KeyKind::AllColumns;
    let key = &table.key.columns;
    if !all {
        let names: Vec<String> = key
            .iter()
            .map(|&i| quote_ident(&l.layout.column_names[i]))
            .collect();
        if names.len() == 1 {
            sql.push_str(&names[0]);
        } else {
            let _ = write!(sql, "({})", names.join(", "));
        }
        sql.push_str(" IN (");
    }
    let mut end = 0;
    while end < rows.len() && end < per_query && sql.len() < QUERY_BYTES {
        if end > 0 {
            sql.push_str(if all { " OR " } else { ", " });
        }
        let row = &rows[end];
        // Decoded from the binlog's own bytes, which the library already read once.
        let values = table.key_values(&row.key).unwrap_or_default();
        if all {
            sql.push('(');
            let mut first = true;
            for (i, v) in &values {
                if !binlog::sql::comparable(&l.cols[*i]) {
                    continue;
                }
                if !first {
                    sql.push_str(" AND ");
                }
                first = false;
                sql.push_str(&quote_ident(&l.layout.column_names[*i]));
                sql.push_str(" <=> ");
                match_literal(v, &l.cols[*i], &mut sql);
            }
            if first {
                sql.push_str("TRUE");
            }
            sql.push(')');
        } else {
            if values.len() > 1 {
                sql.push('(');
            }
            for (j, (i, v)) in values.iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                key_literal(v, &l.cols[*i], &mut sql);
            }
            if values.len() > 1 {
                sql.push(')');
            }
        }
        end += 1;
    }
    if !all {
        sql.push(')');
    }
    (sql, end)
}

/// A key value as the server finds it by its key: FLOAT and DOUBLE as their exact values,
/// the rest as the column stores it (in the column's collation, so that its index is used;
/// rows are matched byte for byte afterwards).
fn key_literal(v: &Value, col: &ColumnInfo, out: &mut String) {
    match v {
        Value::Float(_) | Value::Double(_) => match_literal(v, col, out),
        _ => literal(v, col, out),
    }
}

/// The live rows of one batch: for each requested row, its live cells (or none), and the
/// rows the server returned whose key is none of those asked for byte for byte.
struct Batch {
    found: Vec<Option<check::Cells>>,
    strays: Vec<check::Cells>,
}

fn read_batch(
    conn: &mut Conn,
    table: &CheckTable,
    l: &Live,
    sql: &str,
    rows: &[ExpectedRow],
) -> CliResult<Batch> {
    let name = table.qualified_name();
    let fail =
        |e: &mysql::Error| Failure::Message(format!("--check: reading {name}: {}", describe(e)));
    let mut batch = Batch {
        found: vec![None; rows.len()],
        strays: Vec::new(),
    };
    let asked: HashMap<&Cells, usize> = rows.iter().enumerate().map(|(i, r)| (&r.key, i)).collect();
    let result = conn.exec_iter(sql, ()).map_err(|e| fail(&e))?;
    let n = l.layout.columns.len();
    let mut image = Vec::new();
    for row in result {
        let row = row.map_err(|e| fail(&e))?;
        if row.len() != n {
            return Err(Failure::Message(format!(
                "--check: reading {name}: {} columns returned for {n}",
                row.len()
            )));
        }
        image.clear();
        encode_row(
            &l.layout,
            (0..n).map(|i| row.as_ref(i).map_or(ServerValue::Null, server_value)),
            &mut image,
        )
        .map_err(|e| Failure::Message(format!("--check: reading {name}: {}", e.kind())))?;
        let cells = table
            .live_cells(&image)
            .map_err(|e| Failure::Message(format!("--check: reading {name}: {}", e.kind())))?;
        let key = table
            .key_of(&cells)
            .map_err(|e| Failure::Message(format!("--check: reading {name}: {}", e.kind())))?;
        match asked.get(&key) {
            Some(&i) => {
                let slot = &mut batch.found[i];
                if slot.is_none() {
                    *slot = Some(cells);
                }
            }
            _ => batch.strays.push(cells),
        }
    }
    Ok(batch)
}

/// Appends `{"name": value, ...}` for the values of some columns.
fn object(out: &mut String, l: &Live, values: &[(usize, Value)]) {
    out.push('{');
    for (j, (i, v)) in values.iter().enumerate() {
        if j > 0 {
            out.push(',');
        }
        json_str(out, &l.layout.column_names[*i]);
        out.push(':');
        let col = &l.cols[*i];
        // jsonl writes bytes; its values are UTF-8, checked here once more.
        let mut value = Vec::new();
        json_value(
            v,
            col,
            Charset::of(col.charset),
            &mut value,
            &mut String::new(),
        );
        out.push_str(&String::from_utf8_lossy(&value));
    }
    out.push('}');
}

fn bad(table: &CheckTable, e: binlog::Error) -> Failure {
    Failure::Message(format!(
        "--check: {}: a value cannot be shown: {}",
        table.qualified_name(),
        e.kind()
    ))
}

/// One conflict as a JSON line.
fn conflict_line(
    out: &mut String,
    table: &CheckTable,
    l: &Live,
    row: &ExpectedRow,
    c: &Conflict,
    paths: &[PathBuf],
) -> CliResult<()> {
    out.push_str("{\"table\":");
    json_str(out, &table.qualified_name());
    out.push_str(",\"key\":");
    let key = table.key_values(&row.key).map_err(|e| bad(table, e))?;
    object(out, l, &key);
    out.push_str(",\"expected\":");
    match &row.now {
        Some(now) => object(out, l, &table.values(now).map_err(|e| bad(table, e))?),
        None => out.push_str("null"),
    }
    out.push_str(",\"found\":");
    match &c.found {
        Some(found) => object(out, l, &table.values(found).map_err(|e| bad(table, e))?),
        None => out.push_str("null"),
    }
    out.push_str(",\"pos\":");
    let file = paths
        .get(row.pos.file)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    json_str(out, &format!("{file}:{}", row.pos.offset));
    out.push_str(",\"conflict\":");
    json_str(
        out,
        match c.verdict {
            Verdict::Same => "none",
            Verdict::Differs => "differs",
            Verdict::Missing => "missing",
            Verdict::Unexpected => "exists",
        },
    );
    out.push_str("}\n");
    Ok(())
}

/// A live row the server matched to a touched key under its own comparison only.
fn stray_line(
    out: &mut String,
    table: &CheckTable,
    l: &Live,
    found: &check::Cells,
) -> CliResult<()> {
    out.push_str("{\"table\":");
    json_str(out, &table.qualified_name());
    out.push_str(",\"key\":");
    let key = table.key_of(found).map_err(|e| bad(table, e))?;
    object(out, l, &table.key_values(&key).map_err(|e| bad(table, e))?);
    out.push_str(",\"expected\":null,\"found\":");
    object(out, l, &table.values(found).map_err(|e| bad(table, e))?);
    out.push_str(",\"pos\":null,\"conflict\":\"matched only under the server's comparison\"}\n");
    Ok(())
}
