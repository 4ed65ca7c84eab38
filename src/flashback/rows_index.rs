//! One source transaction, seen from the inside: its bytes (the file's, or its decompressed
//! TRANSACTION_PAYLOAD) and an index of the rows events to undo, with the checks that say
//! whether it can be undone at all.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::event::header::EventType;
use crate::event::payload::payload_events;
use crate::event::rows::{RowsEvent, RowsKind};
use crate::event::table_map::TableMap;
use crate::event::{Event, EventData};
use crate::reader::Events;
use crate::row::{count_bits, TableInfo};
use crate::writer::Stamp;
use crate::Format;

use super::reverse::partial_json_diff;
use super::Options;
use crate::filter::StatementChoice;

/// The events of one transaction: a byte range of a file, or the decompressed contents
/// of the TRANSACTION_PAYLOAD that holds them.
pub struct TxnBytes<'a> {
    file: &'a [u8],
    payload: Option<Vec<u8>>,
    start: u64,
    end: u64,
    format: Arc<Format>,
    payload_at: Option<u64>,
}

impl<'a> TxnBytes<'a> {
    /// The transaction at `start..end` of `file`, whose format is `format`. A transaction
    /// packed in a TRANSACTION_PAYLOAD is decompressed here.
    pub fn open(file: &'a [u8], format: &Arc<Format>, start: u64, end: u64) -> Result<Self> {
        let mut t = TxnBytes {
            file,
            payload: None,
            start,
            end,
            format: Arc::clone(format),
            payload_at: None,
        };
        // A compressed transaction is a GTID event and the payload: look no further.
        let payload = Events::range(file, start, end, Arc::clone(format))
            .verify_checksums(false)
            .take(2)
            .find(|e| {
                e.as_ref()
                    .map_or(true, |e| e.event_type() == EventType::TRANSACTION_PAYLOAD)
            });
        if let Some(ev) = payload {
            let ev = ev?;
            if let EventData::TransactionPayload(p) = ev.decode(format)? {
                let inner = p.decompress()?;
                let mut f = (**format).clone();
                f.checksum_alg = None;
                t.start = 0;
                t.end = inner.len() as u64;
                t.payload = Some(inner);
                t.format = Arc::new(f);
                t.payload_at = Some(ev.offset());
            }
        }
        Ok(t)
    }

    /// The bytes offsets refer to.
    pub fn data(&self) -> &[u8] {
        self.payload.as_deref().unwrap_or(self.file)
    }

    /// The format of the events.
    pub fn format(&self) -> &Arc<Format> {
        &self.format
    }

    /// The events, in order, without checksum checks (the plan's pass checked them).
    pub fn events(&self) -> Events<'_> {
        match &self.payload {
            Some(p) => payload_events(p, &self.format),
            None => Events::range(self.file, self.start, self.end, Arc::clone(&self.format))
                .verify_checksums(false),
        }
    }

    /// The event at `offset`.
    pub fn event_at(&self, offset: u64) -> Result<Event<'_>> {
        let data = self.data();
        Events::range(data, offset, data.len() as u64, Arc::clone(&self.format))
            .verify_checksums(false)
            .next()
            .unwrap_or_else(|| Err(Error::malformed(offset, "no event at this offset")))
    }

    /// The position in the file of the event at `offset` of these bytes: inside a
    /// TRANSACTION_PAYLOAD, the payload event's.
    pub fn file_offset(&self, offset: u64) -> u64 {
        self.payload_at.unwrap_or(offset)
    }

    /// Places an error found in these bytes in the file: errors inside a payload name the
    /// payload event.
    pub fn locate(&self, e: Error) -> Error {
        match self.payload_at {
            Some(at) if !matches!(e.kind(), crate::ErrorKind::InPayload { .. }) => e.in_payload(at),
            _ => e,
        }
    }
}

/// One rows event to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowsRef {
    /// Offset of the rows event.
    pub offset: u64,
    /// Offset of the TABLE_MAP it uses.
    pub table_map: u64,
    /// Which statement of the transaction it belongs to (counted by STMT_END_F).
    pub statement: u32,
}

/// What a transaction holds, by offset.
#[derive(Debug, Default)]
pub struct TxnIndex {
    /// The rows events to undo, in source order.
    pub rows: Vec<RowsRef>,
    /// The first QUERY event (BEGIN, or any statement of the session), whose session
    /// context the undo's BEGIN copies.
    pub first_query: Option<u64>,
    /// Header of the first event.
    pub first_stamp: Option<Stamp>,
    /// Header of the last event.
    pub last_stamp: Option<Stamp>,
    /// The XID of the XID event that ended it.
    pub xid: Option<u64>,
    /// The tables (database, table) of the rows events to undo, each once.
    pub tables: Vec<(String, String)>,
    maps: HashMap<u64, (u64, bool)>,
    names: HashMap<u64, (String, String)>,
}

impl TxnIndex {
    /// Empties the index for the next transaction (keeping its allocations).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.first_query = None;
        self.first_stamp = None;
        self.last_stamp = None;
        self.xid = None;
        self.tables.clear();
        self.maps.clear();
        self.names.clear();
    }
}

pub use crate::sql::statement::{is_dml, is_transaction_control};

pub use crate::sql::statement::excerpt;

/// Walks a transaction's events and fills `idx` with the rows events the options select,
/// refusing what cannot be undone: statement-format changes, UPDATE/DELETE images without
/// every column, PARTIAL_UPDATE_ROWS rows holding JSON diffs. Offsets in errors are those
/// of `bytes` (see [`TxnBytes::locate`]).
pub fn index_transaction(bytes: &TxnBytes, opts: &Options, idx: &mut TxnIndex) -> Result<()> {
    idx.clear();
    let format = Arc::clone(bytes.format());
    let mut statement = 0u32;
    for ev in bytes.events() {
        let ev = ev?;
        let t = ev.event_type();
        let stamp = Stamp::of(ev.header());
        idx.first_stamp.get_or_insert(stamp);
        idx.last_stamp = Some(stamp);
        match t {
            EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => {
                let EventData::Query(q) = ev.decode(&format)? else {
                    continue;
                };
                let text = q.text()?;
                if !is_transaction_control(&text) {
                    if opts.filter.statement_choice(q.db, &text) != StatementChoice::Drop {
                        return Err(Error::unsupported(
                            ev.offset(),
                            format!(
                                "a statement-format change ({}) is in the selection: only \
                                 row-format changes can be undone",
                                excerpt(&text)
                            ),
                        ));
                    }
                    continue;
                }
                idx.first_query.get_or_insert(ev.offset());
            }
            EventType::BEGIN_LOAD_QUERY
            | EventType::EXECUTE_LOAD_QUERY
            | EventType::APPEND_BLOCK
            | EventType::CREATE_FILE
            | EventType::EXEC_LOAD => {
                return Err(Error::unsupported(
                    ev.offset(),
                    "a statement-format LOAD DATA is in the selection: only row-format \
                     changes can be undone",
                ));
            }
            EventType::TABLE_MAP => {
                if let EventData::TableMap(tm) = ev.decode(&format)? {
                    let selected = opts.filter.selects_table(tm.schema, tm.table);
                    idx.maps.insert(tm.table_id, (ev.offset(), selected));
                    if selected {
                        let name = (
                            String::from_utf8_lossy(tm.schema).into_owned(),
                            String::from_utf8_lossy(tm.table).into_owned(),
                        );
                        idx.names.insert(tm.table_id, name);
                    }
                }
            }
            EventType::XID => {
                if let EventData::Xid(x) = ev.decode(&format)? {
                    idx.xid = Some(x.xid);
                }
            }
            t if t.is_rows() => {
                let EventData::Rows(re) = ev.decode(&format)? else {
                    continue;
                };
                let Some(&(tm_offset, selected)) = idx.maps.get(&re.table_id) else {
                    return Err(Error::malformed(
                        ev.offset(),
                        format!(
                            "rows event for table id {} without a TABLE_MAP before it in its \
                             transaction",
                            re.table_id
                        ),
                    ));
                };
                if selected && opts.filter.selects_kind(re.kind) {
                    check_rows(bytes, &ev, &re, tm_offset)?;
                    if let Some(name) = idx.names.get(&re.table_id) {
                        if !idx.tables.contains(name) {
                            idx.tables.push(name.clone());
                        }
                    }
                    idx.rows.push(RowsRef {
                        offset: ev.offset(),
                        table_map: tm_offset,
                        statement,
                    });
                }
                if re.is_stmt_end() {
                    statement += 1;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuses rows events whose old rows are not all in the binlog.
fn check_rows(bytes: &TxnBytes, ev: &Event, re: &RowsEvent, tm_offset: u64) -> Result<()> {
    let n = usize::try_from(re.column_count).unwrap_or(usize::MAX);
    let name = || -> String {
        match bytes
            .event_at(tm_offset)
            .and_then(|e| e.decode(bytes.format()))
        {
            Ok(EventData::TableMap(tm)) => tm.qualified_name(),
            _ => format!("table id {}", re.table_id),
        }
    };
    match re.kind {
        RowsKind::Update | RowsKind::Delete | RowsKind::PartialUpdate
            if count_bits(re.columns, n) != n =>
        {
            Err(Error::unsupported(
                ev.offset(),
                format!(
                    "{} event for {} logs only {} of {} columns in its before-images \
                     (binlog_row_image=MINIMAL or NOBLOB): the old rows cannot be restored",
                    ev.event_type(),
                    name(),
                    count_bits(re.columns, n),
                    n
                ),
            ))
        }
        RowsKind::PartialUpdate => {
            let tm_ev = bytes.event_at(tm_offset)?;
            let EventData::TableMap(tm) = tm_ev.decode(bytes.format())? else {
                return Err(Error::malformed(tm_offset, "not a TABLE_MAP event"));
            };
            let table = table_info(&tm)?;
            let data = re.rows_data()?;
            if let Some(at) = partial_json_diff(re, &data, &table)? {
                return Err(Error::unsupported(
                    ev.offset(),
                    format!(
                        "{} event for {} holds a JSON partial update (a diff, not the new \
                         value; row image at offset {at}): it cannot be undone",
                        ev.event_type(),
                        tm.qualified_name(),
                    ),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The row layout a TABLE_MAP describes: enough to find where each row and value lies.
/// Signedness (optional metadata) does not change a value's length, so it is not read.
pub fn table_info(tm: &TableMap) -> Result<TableInfo> {
    let columns = tm.columns()?;
    let unsigned = vec![false; columns.len()];
    Ok(TableInfo::new(columns, unsigned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"a\n  b"), "a b");
        assert!(excerpt(&[b'x'; 100]).ends_with("..."));
    }

    #[test]
    fn statements_of_other_databases_do_not_concern_a_table_filter() {
        let mut opts = Options::default();
        let choice =
            |o: &Options, db: &[u8], text: &str| o.filter.statement_choice(db, text.as_bytes());
        assert_eq!(
            choice(&opts, b"shop", "DROP TABLE t"),
            StatementChoice::Keep
        );
        opts.filter.tables = vec![crate::filter::TablePattern::parse("shop.ord%").unwrap()];
        assert_eq!(
            choice(&opts, b"shop", "DROP TABLE orders"),
            StatementChoice::Keep
        );
        assert_eq!(
            choice(&opts, b"other", "DROP TABLE orders"),
            StatementChoice::Drop
        );
        assert_eq!(
            choice(&opts, b"shop", "DROP TABLE other.orders"),
            StatementChoice::Drop
        );
        assert_eq!(
            choice(&opts, b"other", "DROP TABLE shop.orders"),
            StatementChoice::Keep
        );
        assert!(matches!(
            choice(&opts, b"shop", "UPDATE orders JOIN x SET a = 1"),
            StatementChoice::Unsure(_)
        ));
        assert!(matches!(
            choice(&opts, b"shop", "DROP TABLE orders, other"),
            StatementChoice::Unsure(_)
        ));
        opts.filter.databases = vec!["shop".into()];
        assert_eq!(
            choice(&opts, b"other", "INSERT INTO t VALUES (1)"),
            StatementChoice::Drop
        );
    }
}
