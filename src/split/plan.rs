//! The first walk over a transaction over the limit: its rows counted, its BEGIN and end
//! events found, and the first thing that keeps it from being split noted.

use std::borrow::Cow;
use std::io::Write;

use super::walk::{Splitter, TxnEvents};
use crate::error::{Error, Result};
use crate::event::header::{EventType, FLAG_SUPPRESS_USE};
use crate::event::query::Query;
use crate::event::rows::RowsEvent;
use crate::event::{Event, EventData};
use crate::sql::statement::is_ddl;
use crate::txn::Transaction;
use crate::writer::{BinlogWriter, Stamp, Statement};
use crate::Format;

/// The event a piece starts with.
pub(super) struct Begin<'b> {
    pub(super) stamp: Stamp,
    pub(super) t: EventType,
    pub(super) body: Cow<'b, [u8]>,
}

/// The event a piece ends with.
#[derive(Clone, Copy)]
pub(super) enum End<'b> {
    Xid {
        stamp: Stamp,
        xid: u64,
    },
    Query {
        stamp: Stamp,
        t: EventType,
        body: &'b [u8],
    },
}

/// What the first walk over a transaction found.
pub(super) struct Survey<'b> {
    /// Rows it changes, when they could be counted.
    pub(super) rows: Option<u64>,
    /// Why it cannot be split, with the offset to name.
    pub(super) problem: Option<Error>,
    /// Its BEGIN event.
    pub(super) begin: Option<Begin<'b>>,
    /// Its XID, COMMIT or ROLLBACK event.
    pub(super) end: Option<End<'b>>,
}

impl Survey<'_> {
    /// Keeps the first problem.
    fn note(&mut self, e: Error) {
        if self.problem.is_none() {
            self.problem = Some(e);
        }
    }
}

/// Where the walk is: `place` turns offsets inside a decompressed payload into the
/// payload's, `span` names the transaction.
struct Site<'p> {
    place: &'p dyn Fn(Error) -> Error,
    span: String,
    must_count: bool,
}

impl<W: Write> Splitter<W> {
    /// Walks a transaction: counts rows, finds its BEGIN and end events, and notes the
    /// first thing that keeps it from being split.
    pub(super) fn survey<'b>(
        &mut self,
        events: TxnEvents<'b>,
        format: &Format,
        txn: &Transaction,
        must_count: bool,
    ) -> Result<Survey<'b>> {
        let mut sv = Survey {
            rows: Some(0),
            problem: None,
            begin: None,
            end: None,
        };
        let (payload_at, events) = events;
        let place = |e: Error| match payload_at {
            Some(at) => e.in_payload(at),
            None => e,
        };
        let site = Site {
            place: &place,
            span: format!("{}..{}", txn.start, txn.end),
            must_count,
        };
        for ev in events {
            let ev = ev.map_err(place)?;
            self.survey_event(&mut sv, &ev, format, &site)?;
        }
        Ok(sv)
    }

    fn survey_event<'b>(
        &mut self,
        sv: &mut Survey<'b>,
        ev: &Event<'b>,
        format: &Format,
        site: &Site,
    ) -> Result<()> {
        let place = site.place;
        let span = &site.span;
        let t = ev.event_type();
        let at = ev.offset();
        match t {
            t if t.is_gtid() || t == EventType::TRANSACTION_PAYLOAD => {}
            EventType::TABLE_MAP => {
                if let EventData::TableMap(tm) = ev.decode(format).map_err(place)? {
                    self.tables.insert(&tm, ev.body());
                }
            }
            t if t.is_rows() => match self.rows_of(ev, format) {
                Ok(n) => sv.rows = sv.rows.map(|r| r + n),
                Err(e) => {
                    sv.rows = None;
                    if site.must_count {
                        sv.note(site.refusal(at, format!("the rows of the rows event at {at} cannot be counted ({e}), so the transaction at {span} cannot be measured in rows")));
                    }
                }
            },
            EventType::MARIADB_ANNOTATE_ROWS | EventType::ROWS_QUERY => {}
            EventType::XID => {
                if let EventData::Xid(x) = ev.decode(format).map_err(place)? {
                    sv.end = Some(End::Xid {
                        stamp: Stamp::of(ev.header()),
                        xid: x.xid,
                    });
                }
            }
            EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => site.query(sv, ev, format)?,
            EventType::INTVAR
            | EventType::RAND
            | EventType::USER_VAR
            | EventType::BEGIN_LOAD_QUERY
            | EventType::EXECUTE_LOAD_QUERY
            | EventType::APPEND_BLOCK
            | EventType::CREATE_FILE
            | EventType::EXEC_LOAD
            | EventType::DELETE_FILE => sv.note(site.refusal(
                at,
                format!(
                    "the transaction at {span} holds statement-format changes ({})",
                    t.show_name()
                ),
            )),
            _ => sv.note(site.refusal(
                at,
                format!(
                    "the transaction at {span} holds a {} event, which split does not handle",
                    t.show_name()
                ),
            )),
        }
        Ok(())
    }

    /// Rows of a rows event, with the table maps seen so far.
    pub(super) fn rows_of(&mut self, ev: &Event, format: &Format) -> Result<u64> {
        let EventData::Rows(re) = ev.decode(format)? else {
            return Ok(0);
        };
        let data = re.rows_data()?;
        let cached = self
            .tables
            .get(re.table_id)
            .ok_or_else(|| no_map(&re, ev.offset()))?;
        cached.count_rows(&re, &data, &mut self.scratch)
    }

    pub(super) fn table_info(&self, re: &RowsEvent, at: u64) -> Result<&crate::row::TableInfo> {
        let cached = self.tables.get(re.table_id).ok_or_else(|| no_map(re, at))?;
        cached.info.as_ref().map_err(Clone::clone)
    }
}

impl Site<'_> {
    /// A reason not to split, at `at`.
    fn refusal(&self, at: u64, what: String) -> Error {
        (self.place)(Error::unsupported(at, what))
    }

    /// A QUERY event of the transaction: its BEGIN, its COMMIT or ROLLBACK, or a statement
    /// that keeps it from being split.
    fn query<'b>(&self, sv: &mut Survey<'b>, ev: &Event<'b>, format: &Format) -> Result<()> {
        let (place, span) = (self.place, &self.span);
        let EventData::Query(q) = ev.decode(format).map_err(place)? else {
            return Ok(());
        };
        let text = q.text().map_err(place)?;
        let plain = Query {
            query: &text,
            ..q.clone()
        };
        let t = ev.event_type();
        if plain.is_begin() && sv.begin.is_none() {
            sv.begin = Some(Begin {
                stamp: Stamp::of(ev.header()),
                t,
                body: Cow::Borrowed(ev.body()),
            });
        } else if plain.is_commit() || plain.is_rollback() {
            sv.end = Some(End::Query {
                stamp: Stamp::of(ev.header()),
                t,
                body: ev.body(),
            });
        } else if is_ddl(&text) {
            sv.note(self.refusal(
                ev.offset(),
                format!("the transaction at {span} mixes DDL with row changes"),
            ));
        } else {
            sv.note(self.refusal(
                ev.offset(),
                format!("the transaction at {span} holds statement-format changes (a QUERY event)"),
            ));
        }
        Ok(())
    }
}

/// A plain `BEGIN` QUERY event, stamped like the transaction's first event.
pub(super) fn synthesized_begin<'b, W: Write>(
    w: &BinlogWriter<W>,
    data: &[u8],
    txn: &Transaction,
) -> Result<Begin<'b>> {
    let stamp = txn
        .events(data)
        .verify_checksums(false)
        .next()
        .and_then(|e| e.ok())
        .map(|e| Stamp::of(e.header()))
        .unwrap_or(Stamp {
            timestamp: txn.first_timestamp,
            server_id: txn.server_id,
            flags: 0,
        });
    let mut body = Vec::new();
    w.statement_body(&Statement::begin(0, &[]), &mut body)?;
    Ok(Begin {
        stamp: Stamp {
            flags: FLAG_SUPPRESS_USE,
            ..stamp
        },
        t: EventType::QUERY,
        body: Cow::Owned(body),
    })
}

pub(super) fn no_map(re: &RowsEvent, at: u64) -> Error {
    Error::malformed(
        at,
        format!(
            "rows event for table id {} without a TABLE_MAP",
            re.table_id
        ),
    )
}
