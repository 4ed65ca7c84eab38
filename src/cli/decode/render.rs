//! Rendering selected transactions as SQL or JSON lines, event by event.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use binlog::event::control::{xid_sql, Intvar, Rand, UserVar, XaPrepare};
use binlog::event::fde::Flavor;
use binlog::event::gtid::FL_PREPARED_XA;
use binlog::event::header::FLAG_SUPPRESS_USE;
use binlog::event::rows::{RowsEvent, RowsKind};
use binlog::event::{MariadbGtid, Query, TableMap};
use binlog::filter::{Filter, StatementChoice};
use binlog::row::{Rows, TableCtx, Value};
use binlog::schema::Catalog;
use binlog::sql::session::Session;
use binlog::sql::statement::excerpt;
use binlog::sql::text::Charset;
use binlog::sql::{self, Change};
use binlog::txn::{InPayload, Transaction, TxnKind};
use binlog::{Event, EventData, EventType, Events, Format};

use super::arrow_rows::{ArrowSetup, ArrowTable, Gatherer, TableBatch, BATCH_ROWS};
use super::pipeline::Setup;
use super::{jsonl, DecodeFormat};
use crate::cli::output::{json_str, local_time, local_time_iso};

/// A piece of a big transaction's events, rendered on its own: the byte range of its
/// events, and those of the TABLE_MAP events in force at its start (in their order).
#[derive(Debug, Default)]
pub struct TxnPiece {
    /// Where its first event starts.
    pub start: u64,
    /// Where its last event ends.
    pub end: u64,
    /// The TABLE_MAP events before it that its rows events may refer to.
    pub maps: Vec<(u64, u64)>,
}

/// A table's context, with each column's name as a JSON string.
pub struct Table {
    /// Names, types, key.
    pub ctx: TableCtx,
    /// Each column's name, as a JSON string.
    pub json_names: Vec<String>,
    /// Each column's character set.
    pub charsets: Vec<Charset>,
    /// Parquet: its Arrow schema (of a selected table).
    pub arrow: Option<Arc<ArrowTable>>,
    /// The body of the TABLE_MAP it was built from.
    map_body: Vec<u8>,
}

/// One transaction's context for rendering.
pub struct TxnCtx<'a> {
    /// The file's name.
    pub file: &'a str,
    /// Its GTID, or empty.
    pub gtid: String,
    /// Its commit time.
    pub time: u32,
    /// Its commit time in ISO 8601, local, with the offset.
    pub time_iso: String,
}

/// Where a row change's rows event lies: its position in the file, or the position of
/// the TRANSACTION_PAYLOAD holding it and its index there.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// The event's offset, or its payload's.
    pub pos: u64,
    /// Its index inside the payload.
    pub payload_index: Option<usize>,
}

impl Place {
    fn of(ev: &Event, payload: Option<InPayload>) -> Place {
        match payload {
            Some(p) => Place {
                pos: p.offset,
                payload_index: Some(p.index),
            },
            None => Place {
                pos: ev.offset(),
                payload_index: None,
            },
        }
    }
}

/// What a renderer rendered: SQL text, or JSON lines as bytes (see [`jsonl`]). One of
/// the two is used in a run, by its format.
#[derive(Default)]
pub struct Output {
    /// SQL.
    pub text: String,
    /// JSON lines.
    pub lines: Vec<u8>,
}

impl Output {
    /// Bytes held.
    pub fn len(&self) -> usize {
        self.text.len() + self.lines.len()
    }

    /// Forgets what is held (keeping the room).
    pub fn clear(&mut self) {
        self.text.clear();
        self.lines.clear();
    }
}

/// Renders transactions into its buffer, keeping the table contexts it built.
pub struct Renderer<'s> {
    format: DecodeFormat,
    /// The schema of the transactions being rendered.
    schema: Option<Arc<Catalog>>,
    filter: &'s Filter,
    arrow: &'s ArrowSetup,
    /// What was rendered and not yet taken.
    pub buf: Output,
    /// Parquet: row changes gathered per table, and batches not yet taken.
    pub gathered: Gatherer,
    /// Notes for stderr (statements left out), not yet taken.
    pub notes: Vec<String>,
    /// Statement context (SET INSERT_ID, @user variables, RAND seeds) waiting for the
    /// statement it belongs to: written with it, or dropped with it.
    context: String,
    tables: HashMap<u64, Table>,
    /// SQL: the settings in force within the transaction being rendered.
    session: Session,
    /// JSON lines: what the lines of the rows event being rendered share.
    prefix: Vec<u8>,
    /// A buffer for values' text.
    scratch: String,
    /// Commit times as SQL comments and JSON lines show them.
    times: TimeText,
    iso_times: TimeText,
}

/// A timestamp's text, kept for the next transaction (which is most often of the same
/// second): formatting a local time is far slower than comparing.
struct TimeText {
    format: fn(u32) -> String,
    last: Option<(u32, String)>,
}

impl TimeText {
    fn new(format: fn(u32) -> String) -> TimeText {
        TimeText { format, last: None }
    }

    fn text(&mut self, ts: u32) -> &str {
        if self.last.as_ref().is_none_or(|(t, _)| *t != ts) {
            self.last = Some((ts, (self.format)(ts)));
        }
        self.last.as_ref().map_or("", |(_, s)| s)
    }
}

impl<'s> Renderer<'s> {
    /// A renderer with no table known yet.
    pub fn new(setup: Setup<'s>) -> Renderer<'s> {
        Renderer {
            format: setup.format,
            schema: None,
            filter: setup.filter,
            arrow: setup.arrow,
            buf: Output::default(),
            gathered: Gatherer::new(),
            notes: Vec::new(),
            context: String::new(),
            tables: HashMap::new(),
            session: Session::new(),
            prefix: Vec::new(),
            scratch: String::new(),
            times: TimeText::new(local_time),
            iso_times: TimeText::new(local_time_iso),
        }
    }

    /// Sets the schema of the transactions to render next (the tables known so far are
    /// forgotten when it changes).
    pub fn set_schema(&mut self, schema: Option<&Arc<Catalog>>) {
        let same = match (&self.schema, schema) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.schema = schema.cloned();
            self.tables.clear();
        }
    }

    fn sql(&self) -> bool {
        self.format == DecodeFormat::Sql
    }

    /// Parquet: finishes the rows gathered into batches (`at`: the offset an error
    /// names).
    pub fn finish_tables(&mut self, at: u64) -> binlog::Result<()> {
        self.gathered
            .finish()
            .map_err(|m| binlog::Error::unsupported(at, m))
    }

    /// Forgets what was rendered and gathered (after an error).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.notes.clear();
        self.gathered.clear();
    }

    /// JSON lines: renders the events of `txn` in `piece`, a piece of a transaction too
    /// big to render on one thread, after taking in the TABLE_MAP events in force at its
    /// start. Lines depend on nothing else that came before in the transaction.
    pub fn render_piece(
        &mut self,
        data: &[u8],
        txn: &Transaction,
        piece: &TxnPiece,
        file: &str,
    ) -> binlog::Result<()> {
        debug_assert!(self.format == DecodeFormat::Jsonl, "pieces are JSON lines");
        let t = TxnCtx {
            file,
            gtid: txn.gtid.as_ref().map(|g| g.to_string()).unwrap_or_default(),
            time: txn.last_timestamp,
            time_iso: self.iso_times.text(txn.last_timestamp).to_owned(),
        };
        let format = Arc::clone(&txn.format);
        let maps = piece.maps.iter().map(|&(start, end)| (start, end));
        for (start, end) in maps.chain([(piece.start, piece.end)]) {
            for ev in Events::range(data, start, end, Arc::clone(&format)).verify_checksums(false) {
                self.event(&t, &ev?, &format, None)?;
            }
        }
        Ok(())
    }

    /// Renders one selected transaction; one with nothing to show (no row and no
    /// statement selected) leaves nothing. `spill` is called with the buffer when it
    /// grows large (a streaming caller writes it out and clears it; a batching one lets it
    /// grow).
    pub fn render(
        &mut self,
        data: &[u8],
        txn: &Transaction,
        file: &str,
        spill: &mut dyn FnMut(&mut Output, &mut Vec<TableBatch>) -> std::io::Result<()>,
    ) -> binlog::Result<()> {
        let t = TxnCtx {
            file,
            gtid: txn.gtid.as_ref().map(|g| g.to_string()).unwrap_or_default(),
            time: txn.last_timestamp,
            time_iso: match self.format {
                DecodeFormat::Jsonl => self.iso_times.text(txn.last_timestamp).to_owned(),
                DecodeFormat::Sql | DecodeFormat::Parquet => String::new(),
            },
        };
        let start = self.buf.text.len();
        self.session = Session::new();
        if self.sql() {
            let _ = write!(
                self.buf.text,
                "-- {file}:{}-{} at {}",
                txn.start,
                txn.end,
                self.times.text(txn.first_timestamp)
            );
            if !t.gtid.is_empty() {
                let _ = write!(self.buf.text, " GTID {}", t.gtid);
            }
            self.buf.text.push('\n');
        }
        // XA transactions are reproduced as XA: START … END, PREPARE, and later COMMIT.
        let in_block = matches!(txn.kind, TxnKind::Dml | TxnKind::Payload) && self.sql();
        if in_block {
            self.buf.text.push_str("BEGIN;\n");
        }
        let body = self.buf.text.len();
        let mut spilled = false;
        self.context.clear();
        txn.visit_walked(data, |ev, format: &Format, payload| {
            self.event(&t, ev, format, payload)?;
            if self.gathered.rows() >= BATCH_ROWS {
                self.gathered
                    .finish()
                    .map_err(|m| binlog::Error::unsupported(ev.offset(), m))?;
            }
            if self.buf.len() > 1 << 16 || !self.gathered.done.is_empty() {
                spilled = true;
                spill(&mut self.buf, &mut self.gathered.done)
                    .map_err(|e| binlog::Error::io(ev.offset(), &e))?;
            }
            Ok(())
        })?;
        if !spilled && self.buf.text.len() == body {
            self.buf.text.truncate(start);
            return Ok(());
        }
        if in_block {
            self.buf.text.push_str("COMMIT;\n");
        }
        if self.sql() {
            self.session.end(&mut self.buf.text);
        }
        Ok(())
    }

    fn event(
        &mut self,
        t: &TxnCtx,
        ev: &Event,
        format: &Format,
        payload: Option<InPayload>,
    ) -> binlog::Result<()> {
        match ev.decode(format)? {
            EventData::TableMap(tm) => self.table_map(ev, &tm)?,
            EventData::Rows(re) => self.rows(t, ev, &re, format, Place::of(ev, payload))?,
            EventData::MariadbGtid(g) => self.xa_start(&g),
            EventData::Query(q)
                if ev.event_type() == EventType::QUERY
                    || ev.event_type() == EventType::MARIADB_QUERY_COMPRESSED =>
            {
                self.query(t, ev, &q, format)?
            }
            // Statement-format context, for the statements that follow.
            EventData::UserVar(u) if self.sql() => self.user_var(&u),
            EventData::Intvar(i) if self.sql() => self.intvar(&i),
            EventData::Rand(r) if self.sql() => self.rand(&r),
            EventData::XaPrepare(x) if self.sql() => self.xa_prepare(&x),
            _ => {}
        }
        Ok(())
    }

    /// Servers repeat a table's map in every transaction: its context is built once per
    /// distinct map.
    fn table_map(&mut self, ev: &Event, tm: &TableMap) -> binlog::Result<()> {
        let same = self
            .tables
            .get(&tm.table_id)
            .is_some_and(|t| t.map_body == ev.body());
        if !same {
            // Only the selected tables are checked against the schema, and must have names
            // for SQL.
            let selected = self.filter.selects_table(tm.schema, tm.table);
            let schema = self.schema.as_deref().filter(|_| selected);
            let ctx = TableCtx::new(tm, schema, ev.offset())?;
            if selected && self.sql() {
                ctx.require_names(ev.offset())?;
            }
            let json_names = (0..ctx.columns().len())
                .map(|i| {
                    let mut s = String::new();
                    json_str(&mut s, &ctx.columns()[i].display_name(i));
                    s
                })
                .collect();
            let charsets = ctx
                .columns()
                .iter()
                .map(|c| Charset::of(c.charset))
                .collect();
            let arrow = (selected && self.format == DecodeFormat::Parquet)
                .then(|| Arc::new(ArrowTable::new(&ctx)));
            let table = Table {
                ctx,
                json_names,
                charsets,
                arrow,
                map_body: ev.body().to_vec(),
            };
            self.tables.insert(tm.table_id, table);
        }
        Ok(())
    }

    fn rows(
        &mut self,
        t: &TxnCtx,
        ev: &Event,
        re: &RowsEvent,
        format: &Format,
        place: Place,
    ) -> binlog::Result<()> {
        let table = self.tables.get(&re.table_id).ok_or_else(|| {
            binlog::Error::malformed(
                ev.offset(),
                format!("rows event for unmapped table id {}", re.table_id),
            )
        })?;
        let ctx = &table.ctx;
        if !self
            .filter
            .selects_table(ctx.db.as_bytes(), ctx.table.as_bytes())
            || !self.filter.selects_kind(re.kind)
        {
            return Ok(());
        }
        let rows_data = re.rows_data()?;
        let (format_out, gathered) = (self.format, &mut self.gathered);
        let (buf, lines) = (&mut self.buf.text, &mut self.buf.lines);
        let (prefix, scratch) = (&mut self.prefix, &mut self.scratch);
        if format_out == DecodeFormat::Jsonl {
            prefix.clear();
            jsonl::row_prefix(prefix, t, place, table, re.kind);
        }
        let arrow_setup = self.arrow;
        if format_out == DecodeFormat::Sql {
            self.session.rows(re.flags, buf);
        }
        let decoded = (|| -> binlog::Result<()> {
            // One pair of value vectors for all the rows of the event.
            let (mut bv, mut av) = (Vec::new(), Vec::new());
            let mut rows = Rows::new(re, &rows_data, &ctx.info)?;
            while let Some(row) = rows.next_values(&mut bv, &mut av) {
                row?;
                let before = (!bv.is_empty()).then_some(bv.as_slice());
                let after = (!av.is_empty()).then_some(av.as_slice());
                match format_out {
                    DecodeFormat::Sql => {
                        let rows = Images { before, after };
                        sql_row_change(buf, t, ev.offset(), place, ctx, re.kind, rows)?
                    }
                    DecodeFormat::Jsonl => {
                        jsonl::row_change(lines, prefix, table, before, after, scratch)
                    }
                    DecodeFormat::Parquet => {
                        let Some(arrow) = &table.arrow else { continue };
                        gathered.push(
                            arrow_setup,
                            t,
                            place,
                            arrow,
                            ctx,
                            &table.charsets,
                            re.kind,
                            before,
                            after,
                        )?
                    }
                }
            }
            Ok(())
        })();
        decoded.map_err(|e| ctx.with_hint(e, format))
    }

    /// MariaDB's GTID stands for the XA START of a prepared XA transaction.
    fn xa_start(&mut self, g: &MariadbGtid) {
        if let (Some(x), true) = (&g.xid, g.flags & FL_PREPARED_XA != 0) {
            if self.sql() {
                let _ = writeln!(
                    self.buf.text,
                    "XA START {};",
                    xid_sql(x.gtrid, x.bqual, x.format_id)
                );
            }
        }
    }

    fn query(&mut self, t: &TxnCtx, ev: &Event, q: &Query, format: &Format) -> binlog::Result<()> {
        let raw = q.text()?;
        let text = String::from_utf8_lossy(&raw);
        let xa = text
            .trim_start()
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("XA "));
        let control = q.is_begin() || q.is_commit() || q.is_rollback();
        if xa {
            self.statement(t, ev, b"", &text);
        } else if !control {
            let context = std::mem::take(&mut self.context);
            match self.filter.statement_choice(q.db, &raw) {
                StatementChoice::Keep if self.sql() => {
                    let mariadb = format.flavor == Flavor::MariaDb;
                    let time = ev.header().timestamp;
                    self.session.statement(
                        q,
                        &raw,
                        mariadb,
                        time,
                        ev.offset(),
                        &mut self.buf.text,
                    )?;
                    self.buf.text.push_str(&context);
                    // LOG_EVENT_SUPPRESS_USE_F: the statement names its database itself
                    // (CREATE DATABASE: it does not exist before).
                    let db = if ev.header().flags & FLAG_SUPPRESS_USE != 0 {
                        &b""[..]
                    } else {
                        q.db
                    };
                    self.statement(t, ev, db, &text);
                }
                StatementChoice::Keep | StatementChoice::Drop => {}
                StatementChoice::Unsure(why) if self.sql() => self.notes.push(format!(
                    "{}: statement at {} left out: {why}: {}",
                    t.file,
                    ev.offset(),
                    excerpt(&raw)
                )),
                StatementChoice::Unsure(_) => {}
            }
        }
        Ok(())
    }

    fn statement(&mut self, t: &TxnCtx, ev: &Event, db: &[u8], text: &str) {
        if !self.sql() {
            return;
        }
        let _ = write!(self.buf.text, "/* {}:{} */ ", t.file, ev.offset());
        if !db.is_empty() {
            self.buf.text.push_str("USE ");
            sql::quote_ident(&String::from_utf8_lossy(db), &mut self.buf.text);
            self.buf.text.push_str("; ");
        }
        self.buf
            .text
            .push_str(text.trim_end().trim_end_matches(';'));
        self.buf.text.push_str(";\n");
    }

    fn user_var(&mut self, u: &UserVar) {
        self.context.push_str("SET @");
        sql::quote_ident(&String::from_utf8_lossy(u.name), &mut self.context);
        self.context.push_str(" := ");
        sql::user_var_literal(u, &mut self.context);
        self.context.push_str(";\n");
    }

    fn intvar(&mut self, i: &Intvar) {
        let _ = writeln!(self.context, "SET {}={};", i.name(), i.value);
    }

    fn rand(&mut self, r: &Rand) {
        let _ = writeln!(
            self.context,
            "SET @@RAND_SEED1={}, @@RAND_SEED2={};",
            r.seed1, r.seed2
        );
    }

    fn xa_prepare(&mut self, x: &XaPrepare) {
        let xid = xid_sql(x.gtrid, x.bqual, x.format_id);
        if x.one_phase {
            let _ = writeln!(self.buf.text, "XA COMMIT {xid} ONE PHASE;");
        } else {
            let _ = writeln!(self.buf.text, "XA PREPARE {xid};");
        }
    }
}

/// A row change's images, one value (or none) per column.
struct Images<'r, 'v> {
    before: Option<&'r [Option<Value<'v>>]>,
    after: Option<&'r [Option<Value<'v>>]>,
}

/// Appends the SQL statement of one row change, after a comment naming its position.
fn sql_row_change(
    b: &mut String,
    t: &TxnCtx,
    at: u64,
    place: Place,
    table: &TableCtx,
    kind: RowsKind,
    rows: Images,
) -> binlog::Result<()> {
    let change = match kind {
        RowsKind::Write => Change::Insert,
        RowsKind::Delete => Change::Delete,
        _ => Change::Update,
    };
    b.push_str("/* ");
    b.push_str(t.file);
    b.push(':');
    b.push_str(itoa::Buffer::new().format(place.pos));
    if let Some(i) = place.payload_index {
        b.push_str(" payload event ");
        b.push_str(itoa::Buffer::new().format(i));
    }
    b.push_str(" */ ");
    let (before, after) = (rows.before.unwrap_or(&[]), rows.after.unwrap_or(&[]));
    table.sql.statement(change, before, after, at, b)?;
    b.push('\n');
    Ok(())
}
