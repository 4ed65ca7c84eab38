//! The walk over a file's transactions: each one within the limit is copied, each one
//! over it surveyed (`plan`) and written in pieces (`write`).

use std::io::Write;

use super::plan::synthesized_begin;
use super::write::PiecesWriter;
use super::{Limit, SplitOptions, SplitReport, SplitTxn};
use crate::error::{Error, Result};
use crate::event::control::xid_sql;
use crate::event::gtid::{FL_COMPLETED_XA, FL_PREPARED_XA, FL_STANDALONE};
use crate::event::header::{EventType, FLAG_SUPPRESS_USE};
use crate::event::payload::payload_events;
use crate::event::{Event, EventData};
use crate::reader::Binlog;
use crate::row::count::CountScratch;
use crate::row::table_cache::TableCache;
use crate::txn::{Group, Transaction, Transactions, TxnEnd, TxnKind};
use crate::writer::{BinlogWriter, Stamp, Statement};
use crate::Format;

/// Splits every transaction of `log` that is over the limit, writing the whole binlog to
/// `out`. Returns the output and what was done. On error the output holds a partial
/// file: write it somewhere that is discarded on failure.
pub fn split<W: Write>(
    log: &Binlog,
    options: impl Into<SplitOptions>,
    out: W,
) -> Result<(W, SplitReport)> {
    let options = options.into();
    let limit = options.limit;
    match limit {
        Limit::Rows(0) | Limit::Bytes(0) => {
            return Err(Error::unsupported(0, "a limit of 0"));
        }
        _ => {}
    }
    if let Some(at) = log.encrypted_from() {
        return Err(Error::unsupported(
            at,
            "the binlog is encrypted from here on; it cannot be split",
        ));
    }
    let data = log.data();
    let mut events = log.events();
    let fde = match events.next() {
        Some(Ok(ev)) if ev.event_type() == EventType::FORMAT_DESCRIPTION => ev,
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(Error::unsupported(
                4,
                "the binlog does not start with a FORMAT_DESCRIPTION event (binlog v4)",
            ))
        }
    };
    let writer = BinlogWriter::with_fde(out, &fde, events.format())?;
    let mut s = Splitter {
        w: writer,
        limit,
        drop_gtids: options.drop_gtids,
        tables: TableCache::new(),
        scratch: CountScratch::default(),
        report: SplitReport::default(),
    };
    for group in Transactions::new(events) {
        match group? {
            Group::Control(ev) => {
                s.w.copy_event(&ev)?;
            }
            Group::Transaction(txn) => s.transaction(data, &txn)?,
        }
    }
    let out = s.w.finish()?;
    Ok((out, s.report))
}

/// The state of a split: the output, the tables seen, the report so far.
pub(super) struct Splitter<W: Write> {
    pub(super) w: BinlogWriter<W>,
    pub(super) limit: Limit,
    drop_gtids: bool,
    pub(super) tables: TableCache,
    pub(super) scratch: CountScratch,
    pub(super) report: SplitReport,
}

impl<W: Write> Splitter<W> {
    fn over(&self, bytes: u64, rows: Option<u64>) -> bool {
        match self.limit {
            Limit::Bytes(b) => bytes > b,
            Limit::Rows(n) => rows.is_some_and(|r| r > n),
        }
    }

    fn transaction(&mut self, data: &[u8], txn: &Transaction) -> Result<()> {
        self.report.transactions += 1;
        if txn.end_kind == TxnEnd::Incomplete {
            return Err(Error::malformed(
                txn.end,
                format!(
                    "truncated input: the transaction starting at {} is cut off",
                    txn.start
                ),
            ));
        }
        let format = txn.format.clone();
        let must_count = matches!(self.limit, Limit::Rows(_));
        let quick_over = matches!(self.limit, Limit::Bytes(b) if txn.len() > b);
        if !must_count && !quick_over {
            return self.copy(data, txn);
        }
        // A MySQL compressed transaction is measured and split from its decompressed
        // events.
        let inner = match txn.kind {
            TxnKind::Payload => Some(self.decompressed_payload(data, txn)?),
            _ => None,
        };
        let walk = || txn_events(data, txn, inner.as_ref());
        let survey = self.survey(walk(), &format, txn, must_count)?;
        if !self.over(txn.len(), survey.rows) {
            if must_count && survey.rows.is_none() {
                // Cannot tell whether it is over: say why rows could not be counted.
                if let Some(e) = survey.problem {
                    return Err(e);
                }
            }
            return self.copy(data, txn);
        }
        match txn.kind {
            TxnKind::Dml | TxnKind::Payload => {}
            TxnKind::Statement => {
                return Err(Error::unsupported(
                    txn.start,
                    format!(
                        "the statement at {}..{} is over the limit ({}); a single statement cannot be split",
                        txn.start, txn.end, self.limit
                    ),
                ))
            }
            TxnKind::XaPrepare | TxnKind::XaEnd => {
                return Err(Error::unsupported(
                    txn.start,
                    format!(
                        "the XA transaction at {}..{} is over the limit ({}); XA transactions are not split",
                        txn.start, txn.end, self.limit
                    ),
                ))
            }
        }
        if let Some(e) = survey.problem {
            return Err(e);
        }
        let Some(end) = survey.end else {
            return Err(Error::malformed(
                txn.start,
                "transaction without an end event",
            ));
        };
        let begin = match survey.begin {
            Some(b) => b,
            None => synthesized_begin(&self.w, data, txn),
        };
        let pieces = PiecesWriter::new(self, begin, end, &format);
        let events = walk();
        let payload = events.0;
        let pieces = pieces.run(events)?;
        let done = SplitTxn {
            payload,
            start: txn.start,
            end: txn.end,
            rows: survey.rows,
            gtid: txn.gtid.clone(),
            pieces,
        };
        self.report.split.push(done);
        Ok(())
    }

    fn decompressed_payload(&self, data: &[u8], txn: &Transaction) -> Result<Vec<u8>> {
        for ev in txn.events(data).verify_checksums(false) {
            let ev = ev?;
            if let EventData::TransactionPayload(p) = ev.decode(&txn.format)? {
                return p.decompress();
            }
        }
        Err(Error::malformed(txn.start, "no TRANSACTION_PAYLOAD event"))
    }

    fn copy(&mut self, data: &[u8], txn: &Transaction) -> Result<()> {
        self.report.copied += 1;
        // The grouping walk checked these events' checksums already.
        for ev in txn.events(data).verify_checksums(false) {
            let ev = ev?;
            if self.drop_gtids && ev.event_type().is_gtid() {
                self.instead_of_gtid(&ev, &txn.format)?;
            } else {
                self.w.copy_event(&ev)?;
            }
        }
        Ok(())
    }

    /// Writes what stands for a GTID event that is left out: for a MariaDB transaction
    /// the BEGIN (or XA START) its GTID event implied; nothing before a standalone
    /// statement, an XA COMMIT, or MySQL's explicit BEGIN.
    fn instead_of_gtid(&mut self, ev: &Event, format: &Format) -> Result<()> {
        let EventData::MariadbGtid(g) = ev.decode(format)? else {
            return Ok(());
        };
        let text = match &g.xid {
            Some(x) if g.flags & FL_PREPARED_XA != 0 => {
                format!("XA START {}", xid_sql(x.gtrid, x.bqual, x.format_id))
            }
            _ if g.flags & (FL_STANDALONE | FL_COMPLETED_XA) != 0 => return Ok(()),
            _ => "BEGIN".to_string(),
        };
        let stamp = Stamp {
            flags: FLAG_SUPPRESS_USE,
            ..Stamp::of(ev.header())
        };
        let s = Statement {
            thread_id: 0,
            status: &[],
            db: &[],
            text: text.as_bytes(),
        };
        self.w.write_statement(stamp, &s)?;
        Ok(())
    }
}

/// The events of a transaction: the payload's offset when they come from inside one.
pub(super) type TxnEvents<'b> = (
    Option<u64>,
    Box<dyn Iterator<Item = Result<Event<'b>>> + 'b>,
);

fn txn_events<'b>(data: &'b [u8], txn: &Transaction, inner: Option<&'b Vec<u8>>) -> TxnEvents<'b> {
    match inner {
        Some(buf) => {
            let at = txn.end_event.unwrap_or(txn.start);
            (
                Some(at),
                Box::new(payload_events(buf, &txn.format).verify_checksums(false)),
            )
        }
        None => (None, Box::new(txn.events(data).verify_checksums(false))),
    }
}
