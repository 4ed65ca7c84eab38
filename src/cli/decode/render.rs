//! Rendering selected transactions as SQL or JSON lines, event by event.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use binlog::event::control::{xid_sql, Intvar, Rand, UserVar, XaPrepare};
use binlog::event::gtid::FL_PREPARED_XA;
use binlog::event::rows::{RowsEvent, RowsKind};
use binlog::event::{MariadbGtid, Query, TableMap};
use binlog::filter::Filter;
use binlog::row::{Rows, TableCtx, Value};
use binlog::schema::Catalog;
use binlog::sql::{self, Change};
use binlog::txn::{Transaction, TxnKind};
use binlog::{Event, EventData, EventType, Format};

use super::{jsonl, DecodeFormat};
use crate::cli::output::{json_str, local_time};

/// A table's context, with each column's name as a JSON string.
pub struct Table {
    /// Names, types, key.
    pub ctx: TableCtx,
    /// Each column's name, as a JSON string.
    pub json_names: Vec<String>,
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
}

/// Renders transactions into its buffer, keeping the table contexts it built.
pub struct Renderer<'s> {
    format: DecodeFormat,
    /// The schema of the transactions being rendered.
    schema: Option<Arc<Catalog>>,
    filter: &'s Filter,
    /// What was rendered and not yet taken.
    pub buf: String,
    tables: HashMap<u64, Table>,
}

impl<'s> Renderer<'s> {
    /// A renderer with no table known yet.
    pub fn new(format: DecodeFormat, filter: &'s Filter) -> Renderer<'s> {
        Renderer {
            format,
            schema: None,
            filter,
            buf: String::with_capacity(1 << 16),
            tables: HashMap::new(),
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

    /// Renders one selected transaction. `spill` is called with the buffer when it grows
    /// large (a streaming caller writes it out and clears it; a batching one lets it grow).
    pub fn render(
        &mut self,
        data: &[u8],
        txn: &Transaction,
        file: &str,
        spill: &mut dyn FnMut(&mut String) -> std::io::Result<()>,
    ) -> binlog::Result<()> {
        let t = TxnCtx {
            file,
            gtid: txn.gtid.as_ref().map(|g| g.to_string()).unwrap_or_default(),
            time: txn.last_timestamp,
        };
        if self.sql() {
            let _ = write!(
                self.buf,
                "-- {file}:{}-{} at {}",
                txn.start,
                txn.end,
                local_time(txn.first_timestamp)
            );
            if !t.gtid.is_empty() {
                let _ = write!(self.buf, " GTID {}", t.gtid);
            }
            self.buf.push('\n');
        }
        // XA transactions are reproduced as XA: START … END, PREPARE, and later COMMIT.
        let in_block = matches!(txn.kind, TxnKind::Dml | TxnKind::Payload) && self.sql();
        if in_block {
            self.buf.push_str("BEGIN;\n");
        }
        txn.visit(data, |ev, format: &Format, _| {
            self.event(&t, ev, format)?;
            if self.buf.len() > 1 << 16 {
                spill(&mut self.buf).map_err(|e| binlog::Error::io(ev.offset(), &e))?;
            }
            Ok(())
        })?;
        if in_block {
            self.buf.push_str("COMMIT;\n");
        }
        Ok(())
    }

    fn event(&mut self, t: &TxnCtx, ev: &Event, format: &Format) -> binlog::Result<()> {
        match ev.decode(format)? {
            EventData::TableMap(tm) => self.table_map(ev, &tm)?,
            EventData::Rows(re) => self.rows(t, ev, &re, format)?,
            EventData::MariadbGtid(g) => self.xa_start(&g),
            EventData::Query(q)
                if ev.event_type() == EventType::QUERY
                    || ev.event_type() == EventType::MARIADB_QUERY_COMPRESSED =>
            {
                self.query(t, ev, &q)?
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
            let table = Table {
                ctx,
                json_names,
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
        let (format_out, buf) = (self.format, &mut self.buf);
        let decoded = (|| -> binlog::Result<()> {
            // One pair of value vectors for all the rows of the event.
            let (mut bv, mut av) = (Vec::new(), Vec::new());
            for row in Rows::new(re, &rows_data, &ctx.info)? {
                let row = row?;
                let has_before = ctx.fill_image(row.before, &mut bv)?;
                let has_after = ctx.fill_image(row.after, &mut av)?;
                let before = has_before.then_some(bv.as_slice());
                let after = has_after.then_some(av.as_slice());
                match format_out {
                    DecodeFormat::Sql => sql_row_change(buf, t, ev, ctx, re.kind, before, after),
                    DecodeFormat::Jsonl => {
                        jsonl::row_change(buf, t, ev.offset(), table, re.kind, before, after)
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
                    self.buf,
                    "XA START {};",
                    xid_sql(x.gtrid, x.bqual, x.format_id)
                );
            }
        }
    }

    fn query(&mut self, t: &TxnCtx, ev: &Event, q: &Query) -> binlog::Result<()> {
        let text = q.text()?;
        let text = String::from_utf8_lossy(&text);
        let xa = text
            .trim_start()
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("XA "));
        let control = q.is_begin() || q.is_commit() || q.is_rollback();
        if xa {
            self.statement(t, ev, b"", &text);
        } else if !control && self.filter.statement_concerns(q.db) {
            self.statement(t, ev, q.db, &text);
        }
        Ok(())
    }

    fn statement(&mut self, t: &TxnCtx, ev: &Event, db: &[u8], text: &str) {
        if !self.sql() {
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

    fn user_var(&mut self, u: &UserVar) {
        self.buf.push_str("SET @");
        sql::quote_ident(&String::from_utf8_lossy(u.name), &mut self.buf);
        self.buf.push_str(" := ");
        sql::user_var_literal(u, &mut self.buf);
        self.buf.push_str(";\n");
    }

    fn intvar(&mut self, i: &Intvar) {
        let _ = writeln!(self.buf, "SET {}={};", i.name(), i.value);
    }

    fn rand(&mut self, r: &Rand) {
        let _ = writeln!(
            self.buf,
            "SET @@RAND_SEED1={}, @@RAND_SEED2={};",
            r.seed1, r.seed2
        );
    }

    fn xa_prepare(&mut self, x: &XaPrepare) {
        let xid = xid_sql(x.gtrid, x.bqual, x.format_id);
        if x.one_phase {
            let _ = writeln!(self.buf, "XA COMMIT {xid} ONE PHASE;");
        } else {
            let _ = writeln!(self.buf, "XA PREPARE {xid};");
        }
    }
}

/// Appends the SQL statement of one row change, after a comment naming its position.
fn sql_row_change(
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
