//! `binlog-tool decode`: every row change with names and values, as SQL or JSON lines.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use binlog::event::control::xid_sql;
use binlog::event::rows::RowsKind;
use binlog::event::table_map::TableMap;
use binlog::filter::Filter;
use binlog::row::{Rows, TableInfo, Value};
use binlog::sql::schema::Schema;
use binlog::sql::{self, Change, ColumnInfo, TableSql};
use binlog::txn::{Group, Transaction, Transactions, TxnKind};
use binlog::{BinlogFile, Event, EventData, EventType, Format};

use super::filters::FilterArgs;
use super::output::{fail, fail_at, json_str, local_time, open, CliResult, Failure, OutputFile};

/// Show what changed: for each row change its file, position, time, GTID, database, table,
/// operation and values with column names (from TABLE_MAP metadata, else `--schema`, else
/// `@1..@n` as mysqlbinlog -v does). `--format sql` writes statements that reproduce the
/// changes on a copy of the data as it was at the start position.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Binlog files, in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Which transactions and rows.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DecodeFormat::Sql)]
    pub format: DecodeFormat,
    /// CREATE TABLE statements (e.g. `mysqldump --no-data`) naming the columns of tables
    /// whose TABLE_MAP events carry no names.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Write here instead of standard output (written in full or not at all).
    #[arg(long, short = 'o', default_value = "-")]
    pub output: PathBuf,
}

/// Output formats of `decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecodeFormat {
    /// Executable SQL in the source's transaction blocks.
    Sql,
    /// One JSON object per row change.
    Jsonl,
}

/// What rendering a table's rows needs.
pub struct TableCtx {
    /// Database.
    pub db: String,
    /// Table.
    pub table: String,
    /// Row decoding information.
    pub info: TableInfo,
    /// Columns, names and key for SQL.
    pub sql: TableSql,
    /// Each column's name as a JSON string.
    pub json_names: Vec<String>,
    /// The body of the TABLE_MAP it was built from (empty when not recorded).
    pub map_body: Vec<u8>,
}

impl TableCtx {
    /// Builds the context of a TABLE_MAP, naming columns from its metadata or `schema`.
    pub fn new(tm: &TableMap, schema: Option<&Schema>) -> binlog::Result<TableCtx> {
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
        let json_names = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut s = String::new();
                json_str(&mut s, &c.display_name(i));
                s
            })
            .collect();
        let sql = TableSql::new(&db, &table, cols, key);
        Ok(TableCtx {
            db,
            table,
            info,
            sql,
            json_names,
            map_body: Vec::new(),
        })
    }
}

/// Appends a value as JSON.
pub fn json_value(v: &Value, col: &ColumnInfo, out: &mut String) {
    let hex = |b: &[u8], out: &mut String| {
        out.push_str("{\"hex\":\"");
        for x in b {
            let _ = write!(out, "{x:02X}");
        }
        out.push_str("\"}");
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
        Value::Float(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(*f)),
        Value::Double(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(*f)),
        Value::Float(_) | Value::Double(_) => out.push_str("null"),
        Value::Decimal(d) => json_str(out, d),
        Value::Year(y) => {
            let _ = write!(out, "{y}");
        }
        Value::Bit(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Enum(_) | Value::Set(_) if col.members.is_none() => {
            let n = match v {
                Value::Enum(e) => u64::from(*e),
                Value::Set(s) => *s,
                _ => 0,
            };
            let _ = write!(out, "{n}");
        }
        Value::Json(b) => match binlog::row::json::decode(b) {
            Ok(j) => binlog::row::json::to_text(&j, out),
            Err(_) => hex(b, out),
        },
        Value::Bytes(b) => {
            let padded = binlog::row::value::padded_binary(&col.column, col.charset, b);
            let text = !matches!(
                col.charset,
                Some(binlog::row::value::BINARY_COLLATION) | None
            );
            match std::str::from_utf8(&padded) {
                Ok(s) if text => json_str(out, s),
                _ => hex(&padded, out),
            }
        }
        Value::Geometry(b) | Value::Vector(b) => hex(b, out),
        _ => {
            // Temporal values, named ENUM/SET members, JSON diffs: their SQL text, unquoted.
            let mut s = String::new();
            sql::literal(v, col, &mut s);
            let s = s
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .map(|s| s.replace("''", "'"))
                .unwrap_or(s);
            json_str(out, &s);
        }
    }
}

/// Renders transactions into its buffer, keeping the table contexts it built.
struct Renderer<'s> {
    format: DecodeFormat,
    schema: Option<&'s Schema>,
    filter: &'s Filter,
    buf: String,
    tables: HashMap<u64, TableCtx>,
}

/// One transaction's context for rendering.
struct TxnCtx<'a> {
    file: &'a str,
    gtid: String,
    time: u32,
}

impl<'s> Renderer<'s> {
    fn new(format: DecodeFormat, schema: Option<&'s Schema>, filter: &'s Filter) -> Renderer<'s> {
        Renderer {
            format,
            schema,
            filter,
            buf: String::with_capacity(1 << 16),
            tables: HashMap::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row_change(
        format: DecodeFormat,
        b: &mut String,
        t: &TxnCtx,
        ev: &Event,
        table: &TableCtx,
        kind: RowsKind,
        before: Option<&[Option<Value>]>,
        after: Option<&[Option<Value>]>,
    ) {
        let change = match kind {
            RowsKind::Write => Change::Insert,
            RowsKind::Delete => Change::Delete,
            _ => Change::Update,
        };
        match format {
            DecodeFormat::Sql => {
                b.push_str("/* ");
                b.push_str(t.file);
                b.push(':');
                b.push_str(itoa::Buffer::new().format(ev.offset()));
                b.push_str(" */ ");
                table
                    .sql
                    .statement(change, before.unwrap_or(&[]), after.unwrap_or(&[]), b);
                b.push('\n');
            }
            DecodeFormat::Jsonl => {
                b.push_str("{\"file\":");
                json_str(b, t.file);
                let _ = write!(
                    b,
                    ",\"pos\":{},\"timestamp\":{},\"time\":",
                    ev.offset(),
                    t.time
                );
                json_str(b, &local_time(t.time));
                b.push_str(",\"gtid\":");
                if t.gtid.is_empty() {
                    b.push_str("null");
                } else {
                    json_str(b, &t.gtid);
                }
                b.push_str(",\"db\":");
                json_str(b, &table.db);
                b.push_str(",\"table\":");
                json_str(b, &table.table);
                b.push_str(",\"op\":");
                json_str(b, kind.sql_name());
                for (key, image) in [("before", &before), ("after", &after)] {
                    let Some(image) = image else { continue };
                    let _ = write!(b, ",\"{key}\":{{");
                    let mut first = true;
                    for (i, v) in image.iter().enumerate() {
                        let Some(v) = v else { continue };
                        if !first {
                            b.push(',');
                        }
                        first = false;
                        b.push_str(&table.json_names[i]);
                        b.push(':');
                        json_value(v, &table.sql.cols[i], b);
                    }
                    b.push('}');
                }
                b.push_str("}\n");
            }
        }
    }

    fn statement(&mut self, t: &TxnCtx, ev: &Event, db: &[u8], text: &str) {
        if self.format != DecodeFormat::Sql {
            return;
        }
        let _ = write!(self.buf, "/* {}:{} */ ", t.file, ev.offset());
        if !db.is_empty() {
            self.buf.push_str("USE ");
            sql::quote_ident(&String::from_utf8_lossy(db), &mut self.buf);
            self.buf.push_str("; ");
        }
        self.buf.push_str(text.trim_end().trim_end_matches(';'));
        self.buf.push_str(";\n");
    }
}

/// Fills `v` with the values of an image, one per column (`None` where the image lacks
/// the column); false when there is no image.
pub fn fill_image<'d>(
    table: &TableCtx,
    img: Option<binlog::row::RowImage<'d>>,
    v: &mut Vec<Option<Value<'d>>>,
) -> binlog::Result<bool> {
    let Some(img) = img else { return Ok(false) };
    v.clear();
    v.resize(table.sql.cols.len(), None);
    for x in img.values(&table.info)? {
        let (i, val) = x?;
        v[i] = Some(val);
    }
    Ok(true)
}

/// The values of an image, one per column (`None` where the image lacks the column).
pub fn image_values<'d>(
    table: &TableCtx,
    img: Option<binlog::row::RowImage<'d>>,
) -> binlog::Result<Option<Vec<Option<Value<'d>>>>> {
    let Some(img) = img else { return Ok(None) };
    let mut v = vec![None; table.sql.cols.len()];
    for x in img.values(&table.info)? {
        let (i, val) = x?;
        v[i] = Some(val);
    }
    Ok(Some(v))
}

/// Adds what a reader should know to an error about a table with TIME, DATETIME or
/// TIMESTAMP columns in MariaDB's 5.3 format, whose precision binlogs do not record.
fn with_hint(e: binlog::Error, table: &TableCtx, format: &Format) -> binlog::Error {
    use binlog::row::column::ColumnType;
    let old = table.info.columns.iter().any(|c| {
        matches!(
            c.real_type,
            ColumnType::TIME | ColumnType::DATETIME | ColumnType::TIMESTAMP
        )
    });
    if old && format.flavor == binlog::Flavor::MariaDb {
        binlog::Error::new(
            binlog::ErrorKind::Unsupported(format!(
                "{} (table {}.{} has TIME/DATETIME/TIMESTAMP columns of the old format; if they \
                 were created with mysql56_temporal_format=OFF and fractional seconds, binlogs do \
                 not record their size and no reader can decode them)",
                e.kind(),
                table.db,
                table.table
            )),
            e.offset(),
        )
    } else {
        e
    }
}

/// The value of a USER_VAR event as an SQL literal.
fn user_var_literal(u: &binlog::event::UserVar, out: &mut String) {
    let Some(v) = &u.value else {
        out.push_str("NULL");
        return;
    };
    let eight = |b: &[u8]| -> Option<[u8; 8]> { b.try_into().ok() };
    match (v.kind, eight(v.value)) {
        (1, Some(a)) => {
            let _ = write!(out, "{:e}", f64::from_le_bytes(a));
        }
        (2, Some(a)) if v.flags.unwrap_or(0) & 1 != 0 => {
            let _ = write!(out, "{}", u64::from_le_bytes(a));
        }
        (2, Some(a)) => {
            let _ = write!(out, "{}", i64::from_le_bytes(a));
        }
        (4, _) if v.value.len() > 2 => {
            let (p, s) = (v.value[0], v.value[1]);
            let mut text = String::new();
            match binlog::row::decimal::decode(&v.value[2..], p, s, &mut text) {
                Ok(()) => out.push_str(&text),
                Err(_) => out.push_str("NULL"),
            }
        }
        _ => match sql::charset_name(v.charset as u16) {
            Some(cs) if cs != "binary" => {
                out.push_str("CONVERT(");
                sql::hex_literal(v.value, out);
                let _ = write!(out, " USING {cs})");
            }
            _ => sql::hex_literal(v.value, out),
        },
    }
}

impl Renderer<'_> {
    /// Renders one selected transaction. `spill` is called with the buffer when it grows
    /// large (a streaming caller writes it out and clears it; a batching one lets it grow).
    fn render(
        &mut self,
        data: &[u8],
        txn: &Transaction,
        file: &str,
        spill: &mut dyn FnMut(&mut String) -> std::io::Result<()>,
    ) -> binlog::Result<()> {
        let d = self;
        let filter = d.filter;
        let t = TxnCtx {
            file,
            gtid: txn.gtid.as_ref().map(|g| g.to_string()).unwrap_or_default(),
            time: txn.last_timestamp,
        };
        if d.format == DecodeFormat::Sql {
            let _ = write!(
                d.buf,
                "-- {file}:{}-{} at {}",
                txn.start,
                txn.end,
                local_time(txn.first_timestamp)
            );
            if !t.gtid.is_empty() {
                let _ = write!(d.buf, " GTID {}", t.gtid);
            }
            d.buf.push('\n');
        }
        // XA transactions are reproduced as XA: START … END, PREPARE, and later COMMIT.
        let in_block = matches!(txn.kind, TxnKind::Dml | TxnKind::Payload);
        if in_block && d.format == DecodeFormat::Sql {
            d.buf.push_str("BEGIN;\n");
        }
        txn.visit(data, |ev, format: &Format, _| {
            match ev.decode(format)? {
                EventData::TableMap(tm) => {
                    // Servers repeat a table's map in every transaction: build its context
                    // once per distinct map.
                    let same = d
                        .tables
                        .get(&tm.table_id)
                        .is_some_and(|t| t.map_body == ev.body());
                    if !same {
                        let mut ctx = TableCtx::new(&tm, d.schema)?;
                        ctx.map_body = ev.body().to_vec();
                        d.tables.insert(tm.table_id, ctx);
                    }
                }
                EventData::Rows(re) => {
                    let table = d.tables.get(&re.table_id).ok_or_else(|| {
                        binlog::Error::malformed(
                            ev.offset(),
                            format!("rows event for unmapped table id {}", re.table_id),
                        )
                    })?;
                    if !filter.selects_table(table.db.as_bytes(), table.table.as_bytes())
                        || !filter.selects_kind(re.kind)
                    {
                        return Ok(());
                    }
                    let rows_data = re.rows_data()?;
                    let decoded = (|| -> binlog::Result<()> {
                        // One pair of value vectors for all the rows of the event.
                        let (mut bv, mut av) = (Vec::new(), Vec::new());
                        for row in Rows::new(&re, &rows_data, &table.info)? {
                            let row = row?;
                            let has_before = fill_image(table, row.before, &mut bv)?;
                            let has_after = fill_image(table, row.after, &mut av)?;
                            Renderer::row_change(
                                d.format,
                                &mut d.buf,
                                &t,
                                ev,
                                table,
                                re.kind,
                                has_before.then_some(bv.as_slice()),
                                has_after.then_some(av.as_slice()),
                            );
                        }
                        Ok(())
                    })();
                    decoded.map_err(|e| with_hint(e, table, format))?;
                }
                EventData::MariadbGtid(g) => {
                    // MariaDB's GTID stands for the XA START of a prepared XA transaction.
                    if let (Some(x), true) =
                        (&g.xid, g.flags & binlog::event::gtid::FL_PREPARED_XA != 0)
                    {
                        if d.format == DecodeFormat::Sql {
                            let _ = writeln!(
                                d.buf,
                                "XA START {};",
                                xid_sql(x.gtrid, x.bqual, x.format_id)
                            );
                        }
                    }
                }
                EventData::Query(q)
                    if ev.event_type() == EventType::QUERY
                        || ev.event_type() == EventType::MARIADB_QUERY_COMPRESSED =>
                {
                    let text = q.text()?;
                    let text = String::from_utf8_lossy(&text);
                    let xa = text
                        .trim_start()
                        .get(..3)
                        .is_some_and(|p| p.eq_ignore_ascii_case("XA "));
                    let control = q.is_begin() || q.is_commit() || q.is_rollback();
                    if xa {
                        d.statement(&t, ev, b"", &text);
                    } else if !control && filter.statement_concerns(q.db) {
                        d.statement(&t, ev, q.db, &text);
                    }
                }
                // Statement-format context, for the statements that follow.
                EventData::UserVar(u) if d.format == DecodeFormat::Sql => {
                    d.buf.push_str("SET @");
                    sql::quote_ident(&String::from_utf8_lossy(u.name), &mut d.buf);
                    d.buf.push_str(" := ");
                    user_var_literal(&u, &mut d.buf);
                    d.buf.push_str(";\n");
                }
                EventData::Intvar(i) if d.format == DecodeFormat::Sql => {
                    let _ = writeln!(d.buf, "SET {}={};", i.name(), i.value);
                }
                EventData::Rand(r) if d.format == DecodeFormat::Sql => {
                    let _ = writeln!(
                        d.buf,
                        "SET @@RAND_SEED1={}, @@RAND_SEED2={};",
                        r.seed1, r.seed2
                    );
                }
                EventData::XaPrepare(x) if d.format == DecodeFormat::Sql => {
                    let xid = xid_sql(x.gtrid, x.bqual, x.format_id);
                    if x.one_phase {
                        let _ = writeln!(d.buf, "XA COMMIT {xid} ONE PHASE;");
                    } else {
                        let _ = writeln!(d.buf, "XA PREPARE {xid};");
                    }
                }
                _ => {}
            }
            if d.buf.len() > 1 << 16 {
                spill(&mut d.buf).map_err(|e| binlog::Error::io(ev.offset(), &e))?;
            }
            Ok(())
        })?;
        if in_block && d.format == DecodeFormat::Sql {
            d.buf.push_str("COMMIT;\n");
        }
        Ok(())
    }
}

/// Transactions up to this size are rendered by the workers; bigger ones are rendered in
/// pieces as they go, so memory stays bounded.
const BATCH_TXN_MAX: u64 = 4 << 20;
/// A chunk for a worker ends when it holds this many bytes of binlog.
const CHUNK_BYTES: u64 = 1 << 20;

/// Runs `decode`.
///
/// The main thread walks the files and gathers selected transactions into chunks of about
/// a megabyte of binlog; worker threads render chunks (each keeping its table contexts
/// from one chunk to the next); a writer thread writes the rendered chunks in their order.
/// At most a few chunks are in flight, so memory stays bounded. A transaction too big for
/// a chunk is rendered by the main thread, in pieces that join the same ordered stream.
pub fn run(args: Args) -> CliResult<ExitCode> {
    use std::collections::BTreeMap;
    use std::sync::mpsc::{channel, sync_channel, Receiver};
    use std::sync::{Arc, Mutex};
    let filter = args.filter.to_filter()?;
    let schema = match &args.schema {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| fail(p, format_args!("cannot read schema: {e}")))?;
            Some(Schema::parse(&text))
        }
        None => None,
    };
    let mut out = OutputFile::create(&args.output)?;
    if args.format == DecodeFormat::Sql {
        out.write_all(b"-- binlog-tool decode\nSET NAMES utf8mb4;\nSET time_zone = '+00:00';\n")?;
    }
    let files: Vec<BinlogFile> = args
        .files
        .iter()
        .map(|p| open(p))
        .collect::<CliResult<_>>()?;
    let names: Vec<String> = args
        .files
        .iter()
        .map(|p| {
            p.file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let workers = rayon::current_num_threads().max(1);
    // A chunk to render: file index, sequence number, transactions.
    type Job = (usize, u64, Vec<Transaction>);
    let (job_tx, job_rx) = sync_channel::<Job>(workers);
    let job_rx = Arc::new(Mutex::new(job_rx));
    // Rendered pieces, by sequence number; an error ends the run.
    let (done_tx, done_rx) = channel::<(u64, Result<String, Failure>)>();
    // At most this many pieces between the walk and the writer.
    let window = workers * 4;
    let (slot_tx, slot_rx) = sync_channel::<()>(window);
    std::thread::scope(|scope| -> CliResult<ExitCode> {
        for _ in 0..workers {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let (files, names, filter, schema) = (&files, &names, &filter, schema.as_ref());
            let (format, paths) = (args.format, &args.files);
            scope.spawn(move || {
                let mut r = Renderer::new(format, schema, filter);
                loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((fi, seq, txns))) = job else { return };
                    let mut result = Ok(());
                    for txn in &txns {
                        result = r.render(files[fi].bytes(), txn, &names[fi], &mut |_| Ok(()));
                        if result.is_err() {
                            break;
                        }
                    }
                    let text = result
                        .map(|()| std::mem::take(&mut r.buf))
                        .map_err(|e| fail_at(&paths[fi], &e));
                    if done_tx.send((seq, text)).is_err() {
                        return;
                    }
                }
            });
        }
        let done_tx_main = done_tx;
        let writer = scope.spawn(move || -> CliResult<OutputFile> {
            let done_rx: Receiver<_> = done_rx;
            let mut pending: BTreeMap<u64, Result<String, Failure>> = BTreeMap::new();
            let mut next = 0u64;
            for (seq, text) in done_rx {
                pending.insert(seq, text);
                while let Some(text) = pending.remove(&next) {
                    out.write_all(text?.as_bytes())?;
                    next += 1;
                    let _ = slot_rx.recv();
                }
            }
            Ok(out)
        });
        let mut seq = 0u64;
        // Issues one piece: waits for room in the window first.
        let mut take_slot = || -> CliResult<u64> {
            slot_tx
                .send(())
                .map_err(|_| Failure::Message("the output writer stopped".into()))?;
            seq += 1;
            Ok(seq - 1)
        };
        let walk = (|| -> CliResult<()> {
            let mut streaming = Renderer::new(args.format, schema.as_ref(), &filter);
            let last = files.len() - 1;
            for (n, file) in files.iter().enumerate() {
                let path = &args.files[n];
                let log = file.binlog().map_err(|e| fail_at(path, &e))?;
                let mut chunk: Vec<Transaction> = Vec::new();
                let mut chunk_bytes = 0u64;
                for group in Transactions::new(log.events()) {
                    let group = group.map_err(|e| fail_at(path, &e))?;
                    let Group::Transaction(txn) = group else {
                        continue;
                    };
                    if !txn.is_complete() || !filter.selects_transaction(&txn, n == 0, n == last) {
                        continue;
                    }
                    if txn.len() > BATCH_TXN_MAX {
                        if !chunk.is_empty() {
                            let s = take_slot()?;
                            job_tx
                                .send((n, s, std::mem::take(&mut chunk)))
                                .map_err(|_| stopped())?;
                            chunk_bytes = 0;
                        }
                        let mut piece = |b: &mut String| -> std::io::Result<()> {
                            let s =
                                take_slot().map_err(|_| std::io::Error::other("writer stopped"))?;
                            done_tx_main
                                .send((s, Ok(std::mem::take(b))))
                                .map_err(|_| std::io::Error::other("writer stopped"))
                        };
                        streaming
                            .render(file.bytes(), &txn, &names[n], &mut piece)
                            .map_err(|e| fail_at(path, &e))?;
                        let s = take_slot()?;
                        done_tx_main
                            .send((s, Ok(std::mem::take(&mut streaming.buf))))
                            .map_err(|_| stopped())?;
                        continue;
                    }
                    chunk_bytes += txn.len();
                    chunk.push(txn);
                    if chunk_bytes >= CHUNK_BYTES {
                        let s = take_slot()?;
                        job_tx
                            .send((n, s, std::mem::take(&mut chunk)))
                            .map_err(|_| stopped())?;
                        chunk_bytes = 0;
                    }
                }
                if !chunk.is_empty() {
                    let s = take_slot()?;
                    job_tx.send((n, s, chunk)).map_err(|_| stopped())?;
                }
            }
            Ok(())
        })();
        drop(job_tx);
        drop(done_tx_main);
        let written = writer.join().map_err(|_| Failure::Panicked)?;
        // A write error first (a closed pipe ends quietly), then the walk's, then a
        // renderer's (carried by the writer).
        let out = written?;
        walk?;
        out.commit()?;
        Ok(ExitCode::SUCCESS)
    })
}

fn stopped() -> Failure {
    Failure::Message("the decoding threads stopped".into())
}
