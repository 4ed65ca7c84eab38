//! The walk over a file's transactions: each one within the limit is copied, each one
//! over it surveyed (`plan`) and written in pieces (`write`).

use std::io::Write;

use super::plan::synthesized_begin;
use super::write::PiecesWriter;
use super::{Limit, SplitOptions, SplitReport, SplitTxn};
use crate::error::{Error, Result};
use crate::event::payload::payload_events;
use crate::event::{Event, EventData};
use crate::filter::Truncated;
use crate::reader::Binlog;
use crate::row::count::CountScratch;
use crate::row::table_cache::TableCache;
use crate::txn::{Group, Transaction, Transactions, TxnKind};
use crate::writer::BinlogWriter;
use crate::Format;

/// Splits every transaction of `log` that is over the limit, writing the whole binlog to
/// `out`. Returns the output and what was done. A tail cut short (or a transaction without
/// its end) is left out and reported ([`SplitReport::truncated`]); any other damage is an
/// error. On error the output holds a partial file: write it somewhere that is discarded
/// on failure.
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
    let (writer, events, _) = BinlogWriter::copying(out, log)?;
    let mut s = Splitter {
        w: writer,
        limit,
        drop_gtids: options.drop_gtids,
        tables: TableCache::new(),
        scratch: CountScratch::default(),
        report: SplitReport::default(),
    };
    let mut groups = Transactions::new(events);
    // A transaction without its end, held until the next group tells whether the data
    // ends there (a tail cut short) or another transaction cut it off.
    let mut open: Option<Transaction> = None;
    loop {
        let group = match groups.next() {
            None => {
                if let Some(t) = open.take() {
                    s.report.truncated = Some(Truncated {
                        at: t.start,
                        error: None,
                        open_txn: Some(t.start),
                    });
                }
                break;
            }
            Some(Err(e)) if e.is_cut_short() => {
                let t = open.take();
                s.report.truncated = Some(Truncated {
                    at: t.as_ref().map_or(e.offset(), |t| t.start),
                    error: Some(e),
                    open_txn: t.map(|t| t.start),
                });
                break;
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(g)) => g,
        };
        if let Some(t) = open.take() {
            s.report.abandoned.push(t.start);
        }
        match group {
            Group::Control(ev) => {
                s.w.copy_event(&ev)?;
            }
            Group::Transaction(txn) if !txn.is_complete() => open = Some(txn),
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
            None => synthesized_begin(&self.w, data, txn)?,
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

    /// Writes what stands for a GTID event that is left out (see
    /// [`BinlogWriter::write_in_place_of_gtid`]).
    fn instead_of_gtid(&mut self, ev: &Event, format: &Format) -> Result<()> {
        self.w.write_in_place_of_gtid(ev, format)
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
