//! `decode --format parquet`: row changes of a table as Arrow arrays, one typed column per
//! MySQL column and image.
//!
//! Each table's columns: `file`, `pos` (the rows event's, or its TRANSACTION_PAYLOAD's),
//! `timestamp` (the transaction's commit time, UTC), `gtid`, `op`, `db`, `table`,
//! `payload_index` (the event's index inside a TRANSACTION_PAYLOAD, else NULL), then
//! `before_<col>` and `after_<col>` for each column. A column's Arrow type follows its
//! MySQL type (see [`kind_of`]); a value that type cannot hold (a zero or invalid date,
//! text invalid in its character set, an ENUM index past its members) is refused, or
//! written as NULL and counted with `--invalid-values null`. A column left out of a
//! minimal row image is NULL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, Date32Builder, Decimal128Builder, Decimal256Builder,
    DurationMicrosecondBuilder, Float32Builder, Float64Builder, Int16Builder, Int32Builder,
    Int64Builder, Int8Builder, StringBuilder, TimestampMicrosecondBuilder, UInt16Builder,
    UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_buffer::i256;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use binlog::event::rows::RowsKind;
use binlog::row::column::ColumnType;
use binlog::row::temporal::{Date, DateTime, Time};
use binlog::row::value::padded_binary;
use binlog::row::{json, TableCtx, Value};
use binlog::sql::text::Charset;
use binlog::sql::{self, ColumnInfo};

use super::render::{Place, TxnCtx};

/// Rows a table's arrays gather before they are handed on as a batch.
pub const BATCH_ROWS: usize = 16 * 1024;

/// What to do with a value its Arrow type cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InvalidValues {
    /// Stop with an error naming the file, position and column.
    Refuse,
    /// Write NULL, and count them on stderr.
    Null,
}

/// The settings of the conversion, shared by the renderers, and the count of values
/// written as NULL.
pub struct ArrowSetup {
    /// What to do with values Arrow cannot hold.
    pub invalid: InvalidValues,
    nulled: AtomicU64,
    first_nulled: Mutex<Option<String>>,
}

impl ArrowSetup {
    /// Settings with no value nulled yet.
    pub fn new(invalid: InvalidValues) -> ArrowSetup {
        ArrowSetup {
            invalid,
            nulled: AtomicU64::new(0),
            first_nulled: Mutex::new(None),
        }
    }

    /// How many values were written as NULL, and the first of them.
    pub fn nulled(&self) -> (u64, Option<String>) {
        let first = self.first_nulled.lock().ok().and_then(|f| f.clone());
        (self.nulled.load(Ordering::Relaxed), first)
    }

    fn note_nulled(&self, what: &str) {
        if self.nulled.fetch_add(1, Ordering::Relaxed) == 0 {
            if let Ok(mut f) = self.first_nulled.lock() {
                *f = Some(what.to_string());
            }
        }
    }
}

/// The Arrow type of a column, and how its values convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    /// DECIMAL(p,s) with p <= 38.
    Dec128(u8, i8),
    /// DECIMAL(p,s) with p > 38.
    Dec256(u8, i8),
    /// YEAR.
    Year,
    Date,
    /// DATETIME: microseconds, no zone.
    DateTime,
    /// TIMESTAMP: microseconds, UTC.
    Timestamp,
    /// TIME: a signed duration in microseconds (-838:59:59 .. 838:59:59 does not fit a
    /// time of day).
    Time,
    /// BIT(n).
    Bit,
    /// Text converted to UTF-8 from the column's character set (also ENUM/SET names and
    /// JSON documents).
    Text,
    /// Bytes as they are (binary strings, BLOB, text of unknown character set, GEOMETRY,
    /// VECTOR).
    Bytes,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::I8 => DataType::Int8,
            Kind::I16 | Kind::Year => DataType::Int16,
            Kind::I32 => DataType::Int32,
            Kind::I64 => DataType::Int64,
            Kind::U8 => DataType::UInt8,
            Kind::U16 => DataType::UInt16,
            Kind::U32 => DataType::UInt32,
            Kind::U64 | Kind::Bit => DataType::UInt64,
            Kind::F32 => DataType::Float32,
            Kind::F64 => DataType::Float64,
            Kind::Dec128(p, s) => DataType::Decimal128(p, s),
            Kind::Dec256(p, s) => DataType::Decimal256(p, s),
            Kind::Date => DataType::Date32,
            Kind::DateTime => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Time => DataType::Duration(TimeUnit::Microsecond),
            Kind::Text => DataType::Utf8,
            Kind::Bytes => DataType::Binary,
        }
    }

    fn builder(self) -> Col {
        match self {
            Kind::I8 => Col::I8(Int8Builder::new()),
            Kind::I16 | Kind::Year => Col::I16(Int16Builder::new()),
            Kind::I32 => Col::I32(Int32Builder::new()),
            Kind::I64 => Col::I64(Int64Builder::new()),
            Kind::U8 => Col::U8(UInt8Builder::new()),
            Kind::U16 => Col::U16(UInt16Builder::new()),
            Kind::U32 => Col::U32(UInt32Builder::new()),
            Kind::U64 | Kind::Bit => Col::U64(UInt64Builder::new()),
            Kind::F32 => Col::F32(Float32Builder::new()),
            Kind::F64 => Col::F64(Float64Builder::new()),
            Kind::Dec128(p, s) => Col::D128(
                Decimal128Builder::new()
                    .with_precision_and_scale(p, s)
                    .unwrap_or_default(),
            ),
            Kind::Dec256(p, s) => Col::D256(
                Decimal256Builder::new()
                    .with_precision_and_scale(p, s)
                    .unwrap_or_default(),
            ),
            Kind::Date => Col::Date(Date32Builder::new()),
            Kind::DateTime => Col::Ts(TimestampMicrosecondBuilder::new()),
            Kind::Timestamp => Col::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            Kind::Time => Col::Dur(DurationMicrosecondBuilder::new()),
            Kind::Text => Col::Str(StringBuilder::new()),
            Kind::Bytes => Col::Bin(BinaryBuilder::new()),
        }
    }
}

/// The Arrow type of a column: integers with their signedness, DECIMAL as Decimal128 up
/// to 38 digits and Decimal256 beyond, FLOAT/DOUBLE, YEAR as Int16, DATE as Date32,
/// DATETIME as a timestamp without zone and TIMESTAMP as one in UTC (microseconds), TIME
/// as a duration in microseconds, BIT as UInt64, text (in a known character set) and
/// JSON as UTF-8, ENUM and SET as their names when the members are known (else their
/// index as UInt16 and bits as UInt64), other bytes as Binary.
pub fn kind_of(c: &ColumnInfo) -> Kind {
    let signed = !c.unsigned;
    let int = |s: Kind, u: Kind| if signed { s } else { u };
    match c.column.real_type {
        ColumnType::TINY => int(Kind::I8, Kind::U8),
        ColumnType::SHORT => int(Kind::I16, Kind::U16),
        ColumnType::INT24 | ColumnType::LONG => int(Kind::I32, Kind::U32),
        ColumnType::LONGLONG => int(Kind::I64, Kind::U64),
        ColumnType::FLOAT => Kind::F32,
        ColumnType::DOUBLE => Kind::F64,
        ColumnType::NEWDECIMAL => {
            let (p, s) = c.column.decimal_precision();
            // Arrow wants a precision of at least 1 and a scale up to it.
            let p = p.max(1).max(s);
            let s = i8::try_from(s).unwrap_or(i8::MAX);
            if p <= 38 {
                Kind::Dec128(p, s)
            } else {
                Kind::Dec256(p, s)
            }
        }
        ColumnType::YEAR => Kind::Year,
        ColumnType::DATE | ColumnType::NEWDATE => Kind::Date,
        ColumnType::DATETIME | ColumnType::DATETIME2 => Kind::DateTime,
        ColumnType::TIMESTAMP | ColumnType::TIMESTAMP2 => Kind::Timestamp,
        ColumnType::TIME | ColumnType::TIME2 => Kind::Time,
        ColumnType::BIT => Kind::Bit,
        ColumnType::ENUM if c.members.is_none() => Kind::U16,
        ColumnType::SET if c.members.is_none() => Kind::U64,
        ColumnType::ENUM | ColumnType::SET | ColumnType::JSON => Kind::Text,
        ColumnType::VARCHAR
        | ColumnType::VAR_STRING
        | ColumnType::STRING
        | ColumnType::BLOB
        | ColumnType::TINY_BLOB
        | ColumnType::MEDIUM_BLOB
        | ColumnType::LONG_BLOB => {
            if Charset::of(c.charset).name().is_some() {
                Kind::Text
            } else {
                Kind::Bytes
            }
        }
        _ => Kind::Bytes,
    }
}

/// A table's Arrow schema and its columns' kinds, built once per TABLE_MAP.
pub struct ArrowTable {
    /// `db.table`.
    pub key: String,
    /// The schema of its batches.
    pub schema: SchemaRef,
    kinds: Vec<Kind>,
}

/// The columns every table has before its own.
const FIXED: usize = 8;

impl ArrowTable {
    /// The schema of `ctx`'s row changes.
    pub fn new(ctx: &TableCtx) -> ArrowTable {
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let mut fields = vec![
            Field::new("file", DataType::Utf8, false),
            Field::new("pos", DataType::Int64, false),
            Field::new("timestamp", utc, false),
            Field::new("gtid", DataType::Utf8, true),
            Field::new("op", DataType::Utf8, false),
            Field::new("db", DataType::Utf8, false),
            Field::new("table", DataType::Utf8, false),
            Field::new("payload_index", DataType::Int32, true),
        ];
        let kinds: Vec<Kind> = ctx.columns().iter().map(kind_of).collect();
        for image in ["before", "after"] {
            for (i, (c, k)) in ctx.columns().iter().zip(&kinds).enumerate() {
                let name = format!("{image}_{}", c.display_name(i));
                fields.push(Field::new(name, k.data_type(), true));
            }
        }
        ArrowTable {
            key: format!("{}.{}", ctx.db, ctx.table),
            schema: Arc::new(Schema::new(fields)),
            kinds,
        }
    }
}

/// A column being gathered.
enum Col {
    I8(Int8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    U8(UInt8Builder),
    U16(UInt16Builder),
    U32(UInt32Builder),
    U64(UInt64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    D128(Decimal128Builder),
    D256(Decimal256Builder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
    Dur(DurationMicrosecondBuilder),
    Str(StringBuilder),
    Bin(BinaryBuilder),
}

impl Col {
    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::I8(b) => Arc::new(b.finish()),
            Col::I16(b) => Arc::new(b.finish()),
            Col::I32(b) => Arc::new(b.finish()),
            Col::I64(b) => Arc::new(b.finish()),
            Col::U8(b) => Arc::new(b.finish()),
            Col::U16(b) => Arc::new(b.finish()),
            Col::U32(b) => Arc::new(b.finish()),
            Col::U64(b) => Arc::new(b.finish()),
            Col::F32(b) => Arc::new(b.finish()),
            Col::F64(b) => Arc::new(b.finish()),
            Col::D128(b) => Arc::new(b.finish()),
            Col::D256(b) => Arc::new(b.finish()),
            Col::Date(b) => Arc::new(b.finish()),
            Col::Ts(b) => Arc::new(b.finish()),
            Col::Dur(b) => Arc::new(b.finish()),
            Col::Str(b) => Arc::new(b.finish()),
            Col::Bin(b) => Arc::new(b.finish()),
        }
    }

    fn null(&mut self) {
        match self {
            Col::I8(b) => b.append_null(),
            Col::I16(b) => b.append_null(),
            Col::I32(b) => b.append_null(),
            Col::I64(b) => b.append_null(),
            Col::U8(b) => b.append_null(),
            Col::U16(b) => b.append_null(),
            Col::U32(b) => b.append_null(),
            Col::U64(b) => b.append_null(),
            Col::F32(b) => b.append_null(),
            Col::F64(b) => b.append_null(),
            Col::D128(b) => b.append_null(),
            Col::D256(b) => b.append_null(),
            Col::Date(b) => b.append_null(),
            Col::Ts(b) => b.append_null(),
            Col::Dur(b) => b.append_null(),
            Col::Str(b) => b.append_null(),
            Col::Bin(b) => b.append_null(),
        }
    }

    /// Appends `v` of column `c` (of kind `kind`); `Err` says why Arrow cannot hold it
    /// (nothing is appended then). `scratch` holds the text of a JSON document.
    fn push(
        &mut self,
        v: &Value,
        kind: Kind,
        c: &ColumnInfo,
        cs: Charset,
        scratch: &mut String,
    ) -> Result<(), String> {
        let mismatch = || format!("a {v:?} value for a {:?} column", c.column.real_type);
        match (self, v) {
            (col, Value::Null) => col.null(),
            (Col::I8(b), Value::Int(i)) => b.append_value(fit(*i, v)?),
            (Col::I16(b), Value::Int(i)) => b.append_value(fit(*i, v)?),
            (Col::I32(b), Value::Int(i)) => b.append_value(fit(*i, v)?),
            (Col::I64(b), Value::Int(i)) => b.append_value(*i),
            (Col::U8(b), Value::UInt(u)) => b.append_value(fit(*u, v)?),
            (Col::U16(b), Value::UInt(u)) => b.append_value(fit(*u, v)?),
            (Col::U32(b), Value::UInt(u)) => b.append_value(fit(*u, v)?),
            (Col::U64(b), Value::UInt(u)) => b.append_value(*u),
            (Col::F32(b), Value::Float(f)) => b.append_value(*f),
            (Col::F64(b), Value::Double(f)) => b.append_value(*f),
            // The Arrow type was made from the column's scale: a value of another
            // scale is a malformed event.
            (Col::D128(_) | Col::D256(_), Value::Decimal(d))
                if !matches!(kind, Kind::Dec128(_, s) | Kind::Dec256(_, s)
                    if i8::try_from(d.scale()) == Ok(s)) =>
            {
                return Err(mismatch())
            }
            (Col::D128(b), Value::Decimal(d)) => b.append_value(
                d.unscaled()
                    .ok_or_else(|| format!("DECIMAL {d} does not fit 38 digits"))?,
            ),
            (Col::D256(b), Value::Decimal(d)) => {
                // Wider than 38 digits (a rare type): through its text, point left out.
                let mut text = d.to_string();
                text.retain(|c| c != '.');
                b.append_value(i256::from_string(&text).ok_or_else(mismatch)?)
            }
            (Col::I16(b), Value::Year(y)) => b.append_value(fit(*y, v)?),
            (Col::Date(b), Value::Date(d)) => b
                .append_value(days(*d).ok_or_else(|| {
                    format!("{d} is not a date Arrow can hold (zero or invalid)")
                })?),
            (Col::Ts(b), Value::DateTime(t, _)) => {
                b.append_value(datetime_micros(t).ok_or_else(|| {
                    format!(
                        "{} is not a date and time Arrow can hold (zero or invalid)",
                        binlog::row::temporal::WithFsp(*t, 0)
                    )
                })?)
            }
            (Col::Ts(b), Value::Timestamp { secs, micros, .. }) => {
                if *secs == 0 && *micros == 0 {
                    return Err("the zero TIMESTAMP 0000-00-00 00:00:00".into());
                }
                b.append_value(i64::from(*secs) * 1_000_000 + i64::from(*micros))
            }
            (Col::Dur(b), Value::Time(t, _)) => b.append_value(time_micros(t)),
            (Col::U64(b), Value::Bit(x)) => b.append_value(*x),
            (Col::U16(b), Value::Enum(e)) => b.append_value(*e),
            (Col::U64(b), Value::Set(s)) => b.append_value(*s),
            // ENUM's index 0 is the empty string a server stores for an invalid member
            // (as SELECT shows it).
            (Col::Str(b), Value::Enum(0)) => b.append_value(""),
            (Col::Str(b), Value::Enum(_) | Value::Set(_)) => {
                let names = c
                    .member_names(v)
                    .ok_or_else(|| format!("{v:?} names no member of the column"))?;
                b.append_value(
                    cs.decode(&names)
                        .ok_or("a member name invalid in its character set")?,
                )
            }
            (Col::Str(b), Value::Json(j)) => {
                let doc = json::decode(j)
                    .map_err(|e| format!("a JSON value that does not decode: {e}"))?;
                scratch.clear();
                json::to_text(&doc, scratch);
                b.append_value(&*scratch)
            }
            (Col::Str(b), Value::JsonDiff(_)) => {
                // The expression that applies the diff to the column, as jsonl writes it.
                let mut s = String::new();
                sql::literal(v, c, &mut s);
                b.append_value(s)
            }
            (Col::Str(b), Value::Bytes(x)) => {
                let bytes = padded_binary(&c.column, c.charset, x);
                let text = cs.decode(&bytes).ok_or_else(|| {
                    format!(
                        "bytes that are not valid {} text",
                        cs.name().unwrap_or("character set")
                    )
                })?;
                b.append_value(text)
            }
            (Col::Bin(b), Value::Bytes(x)) => {
                b.append_value(padded_binary(&c.column, c.charset, x))
            }
            (Col::Bin(b), Value::Geometry(x) | Value::Vector(x)) => b.append_value(x),
            _ => return Err(mismatch()),
        }
        Ok(())
    }
}

/// An integer in a narrower Arrow integer (a value wider than its column's type is a
/// malformed event, not a value).
fn fit<A: Copy + std::fmt::Debug, B: TryFrom<A>>(x: A, v: &Value) -> Result<B, String> {
    B::try_from(x).map_err(|_| format!("{v:?} is out of its column type's range"))
}

/// Days since 1970-01-01, for a valid date.
fn days(d: Date) -> Option<i32> {
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(d.year).ok()?,
        u32::from(d.month),
        u32::from(d.day),
    )?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

/// Microseconds since 1970-01-01 00:00:00 of a valid date and time (no zone).
fn datetime_micros(t: &DateTime) -> Option<i64> {
    if t.hour > 23 || t.minute > 59 || t.second > 59 || t.micros > 999_999 {
        return None;
    }
    let secs = i64::from(days(t.date)?) * 86_400
        + i64::from(t.hour) * 3_600
        + i64::from(t.minute) * 60
        + i64::from(t.second);
    Some(secs * 1_000_000 + i64::from(t.micros))
}

/// A TIME as signed microseconds.
fn time_micros(t: &Time) -> i64 {
    let secs = i64::from(t.hours) * 3_600 + i64::from(t.minutes) * 60 + i64::from(t.seconds);
    let us = secs * 1_000_000 + i64::from(t.micros);
    if t.negative {
        -us
    } else {
        us
    }
}

/// A finished batch of one table's row changes.
pub struct TableBatch {
    /// `db.table`.
    pub key: String,
    /// The rows.
    pub batch: RecordBatch,
}

/// One table's row changes being gathered.
struct Gathering {
    table: Arc<ArrowTable>,
    file: StringBuilder,
    pos: Int64Builder,
    time: TimestampMicrosecondBuilder,
    gtid: StringBuilder,
    op: StringBuilder,
    db: StringBuilder,
    name: StringBuilder,
    payload_index: Int32Builder,
    cols: Vec<Col>,
}

impl Gathering {
    fn new(table: Arc<ArrowTable>) -> Gathering {
        let cols = (0..2)
            .flat_map(|_| table.kinds.iter().map(|k| k.builder()))
            .collect();
        Gathering {
            table,
            file: StringBuilder::new(),
            pos: Int64Builder::new(),
            time: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            gtid: StringBuilder::new(),
            op: StringBuilder::new(),
            db: StringBuilder::new(),
            name: StringBuilder::new(),
            payload_index: Int32Builder::new(),
            cols,
        }
    }

    fn rows(&self) -> usize {
        self.pos.len()
    }

    fn finish(&mut self) -> Result<TableBatch, String> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(FIXED + self.cols.len());
        arrays.push(Arc::new(self.file.finish()));
        arrays.push(Arc::new(self.pos.finish()));
        arrays.push(Arc::new(self.time.finish()));
        arrays.push(Arc::new(self.gtid.finish()));
        arrays.push(Arc::new(self.op.finish()));
        arrays.push(Arc::new(self.db.finish()));
        arrays.push(Arc::new(self.name.finish()));
        arrays.push(Arc::new(self.payload_index.finish()));
        arrays.extend(self.cols.iter_mut().map(Col::finish));
        let batch = RecordBatch::try_new(Arc::clone(&self.table.schema), arrays)
            .map_err(|e| format!("building the Arrow batch of {}: {e}", self.table.key))?;
        Ok(TableBatch {
            key: self.table.key.clone(),
            batch,
        })
    }
}

/// Row changes gathered per table, and the batches finished.
pub struct Gatherer {
    open: HashMap<String, Gathering>,
    /// Batches finished and not yet taken, in order for each table.
    pub done: Vec<TableBatch>,
    rows: usize,
    /// The text of a JSON document being converted.
    scratch: String,
}

impl Gatherer {
    /// Nothing gathered.
    pub fn new() -> Gatherer {
        Gatherer {
            open: HashMap::new(),
            done: Vec::new(),
            rows: 0,
            scratch: String::new(),
        }
    }

    /// Rows gathered and not yet finished into batches.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Finishes what is gathered into batches (in `done`).
    pub fn finish(&mut self) -> Result<(), String> {
        for (_, mut g) in self.open.drain() {
            if g.rows() > 0 {
                self.done.push(g.finish()?);
            }
        }
        self.rows = 0;
        Ok(())
    }

    /// Forgets everything (after an error).
    pub fn clear(&mut self) {
        self.open.clear();
        self.done.clear();
        self.rows = 0;
    }

    /// Appends one row change of `table` (`before`/`after` hold one value, or none for a
    /// column left out of the image, per column).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        setup: &ArrowSetup,
        t: &TxnCtx,
        place: Place,
        table: &Arc<ArrowTable>,
        ctx: &TableCtx,
        charsets: &[Charset],
        kind: RowsKind,
        before: Option<&[Option<Value>]>,
        after: Option<&[Option<Value>]>,
    ) -> binlog::Result<()> {
        // A table whose schema changed starts a new batch (and so a new part).
        let same = self
            .open
            .get(&table.key)
            .is_none_or(|g| Arc::ptr_eq(&g.table, table) || g.table.schema == table.schema);
        if !same {
            if let Some(mut g) = self.open.remove(&table.key) {
                let b = g
                    .finish()
                    .map_err(|m| binlog::Error::unsupported(place.pos, m))?;
                self.done.push(b);
            }
        }
        let g = self
            .open
            .entry(table.key.clone())
            .or_insert_with(|| Gathering::new(Arc::clone(table)));
        let n = table.kinds.len();
        let columns = ctx.columns();
        for (image_no, image) in [before, after].into_iter().enumerate() {
            for i in 0..n {
                let col = &mut g.cols[image_no * n + i];
                let v = image.and_then(|im| im.get(i)).and_then(|v| v.as_ref());
                let Some(v) = v else {
                    col.null();
                    continue;
                };
                if let Err(why) = col.push(
                    v,
                    table.kinds[i],
                    &columns[i],
                    charsets[i],
                    &mut self.scratch,
                ) {
                    let img = if image_no == 0 { "before" } else { "after" };
                    let what = format!(
                        "{}.{} column {} ({img} image): {why}",
                        ctx.db,
                        ctx.table,
                        columns[i].display_name(i)
                    );
                    match setup.invalid {
                        InvalidValues::Null => {
                            setup.note_nulled(&format!("{}:{}: {what}", t.file, place.pos));
                            col.null();
                        }
                        InvalidValues::Refuse => {
                            // The run stops: the arrays half filled are dropped with it.
                            return Err(binlog::Error::unsupported(
                                place.pos,
                                format!(
                                    "{what}; Parquet cannot hold it (--invalid-values null \
                                     writes NULL)"
                                ),
                            ));
                        }
                    }
                }
            }
        }
        g.file.append_value(t.file);
        g.pos
            .append_value(i64::try_from(place.pos).unwrap_or(i64::MAX));
        g.time.append_value(i64::from(t.time) * 1_000_000);
        if t.gtid.is_empty() {
            g.gtid.append_null();
        } else {
            g.gtid.append_value(&t.gtid);
        }
        g.op.append_value(kind.sql_name());
        g.db.append_value(&ctx.db);
        g.name.append_value(&ctx.table);
        g.payload_index.append_option(
            place
                .payload_index
                .map(|i| i32::try_from(i).unwrap_or(i32::MAX)),
        );
        self.rows += 1;
        if g.rows() >= BATCH_ROWS {
            let b = g
                .finish()
                .map_err(|m| binlog::Error::unsupported(place.pos, m))?;
            self.done.push(b);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_invalid_dates_are_not_days() {
        let d = |year, month, day| Date { year, month, day };
        assert_eq!(days(d(1970, 1, 2)), Some(1));
        assert_eq!(days(d(1969, 12, 31)), Some(-1));
        assert_eq!(days(d(0, 0, 0)), None);
        assert_eq!(days(d(2020, 2, 30)), None);
        assert_eq!(days(d(2020, 0, 1)), None);
    }

    #[test]
    fn time_is_signed_and_past_a_day() {
        let t = Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 0,
        };
        assert_eq!(time_micros(&t), -(838 * 3600 + 59 * 60 + 59) * 1_000_000);
    }
}
