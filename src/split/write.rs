//! Placing the rows events of a transaction over the limit, or rows of them, into pieces
//! within it, and writing each piece as a transaction of its own.

use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;
use std::rc::Rc;

use super::plan::{Begin, End};
use super::walk::{Splitter, TxnEvents};
use super::{Limit, Piece};
use crate::error::{Error, Result};
use crate::event::control::Xid;
use crate::event::header::EventType;
use crate::event::rows::{RowsEvent, STMT_END_F};
use crate::event::{Event, EventData};
use crate::row::Rows;
use crate::writer::Stamp;
use crate::Format;

/// The statement being placed: its TABLE_MAPs and annotation.
#[derive(Default)]
struct Stmt<'b> {
    /// `(table id, event, written in the current piece)`.
    maps: Vec<(u64, Event<'b>, bool)>,
    annotation: Option<Event<'b>>,
    ended: bool,
}

/// A rows event, or rows of one, waiting to learn whether it ends its piece.
struct Pending<'b> {
    unit: Unit<'b>,
    len: u64,
}

enum Unit<'b> {
    Whole(Event<'b>),
    Part {
        stamp: Stamp,
        head: RowsEvent<'b>,
        data: Rc<Cow<'b, [u8]>>,
        range: Range<usize>,
    },
}

/// The piece being written.
struct Open<'b> {
    start: u64,
    rows: Option<u64>,
    pending: Option<Pending<'b>>,
    from: Option<(u64, u64)>,
    to: (u64, Option<u64>),
}

/// Writes the pieces of one transaction.
pub(super) struct PiecesWriter<'s, 'b, W: Write> {
    s: &'s mut Splitter<W>,
    begin: Begin<'b>,
    end: End<'b>,
    stmt: Stmt<'b>,
    open: Option<Open<'b>>,
    pieces: Vec<Piece>,
    format: &'s Format,
}

impl<'s, 'b, W: Write> PiecesWriter<'s, 'b, W> {
    /// A writer of the pieces of a transaction that starts with `begin` and ends with
    /// `end`.
    pub(super) fn new(
        s: &'s mut Splitter<W>,
        begin: Begin<'b>,
        end: End<'b>,
        format: &'s Format,
    ) -> PiecesWriter<'s, 'b, W> {
        PiecesWriter {
            s,
            begin,
            end,
            stmt: Stmt::default(),
            open: None,
            pieces: Vec::new(),
            format,
        }
    }

    /// Places and writes the rows events of `events`; returns the pieces written.
    pub(super) fn run(mut self, events: TxnEvents<'b>) -> Result<Vec<Piece>> {
        let (payload_at, events) = events;
        let place = |e: Error| match payload_at {
            Some(at) => e.in_payload(at),
            None => e,
        };
        for ev in events {
            let ev = ev.map_err(place)?;
            let t = ev.event_type();
            match t {
                EventType::TABLE_MAP => {
                    if self.stmt.ended {
                        self.stmt = Stmt::default();
                    }
                    let EventData::TableMap(tm) = ev.decode(self.format).map_err(place)? else {
                        continue;
                    };
                    self.s.tables.insert(&tm, ev.body());
                    self.stmt.maps.retain(|m| m.0 != tm.table_id);
                    self.stmt.maps.push((tm.table_id, ev, false));
                }
                EventType::MARIADB_ANNOTATE_ROWS | EventType::ROWS_QUERY => {
                    if self.stmt.ended {
                        self.stmt = Stmt::default();
                    }
                    self.stmt.annotation = Some(ev);
                }
                t if t.is_rows() => {
                    self.place(&ev).map_err(place)?;
                }
                // GTID, BEGIN, the payload event, XID / COMMIT: written per piece.
                _ => {}
            }
        }
        if self.open.is_some() {
            self.close()?;
        }
        Ok(self.pieces)
    }

    fn fits(&self, bytes: u64, rows: Option<u64>) -> bool {
        match self.s.limit {
            Limit::Bytes(b) => bytes + self.end_len() <= b,
            Limit::Rows(n) => rows.unwrap_or(0) <= n,
        }
    }

    fn begin_len(&self) -> u64 {
        self.s.w.framed_len(self.begin.body.len())
    }

    fn end_len(&self) -> u64 {
        match self.end {
            End::Xid { .. } => self.s.w.framed_len(8),
            End::Query { body, .. } => self.s.w.framed_len(body.len()),
        }
    }

    /// Bytes and rows of the open piece, the pending unit included.
    fn used(&self) -> (u64, Option<u64>) {
        match &self.open {
            Some(o) => (
                self.s.w.position() - o.start + o.pending.as_ref().map_or(0, |p| p.len),
                o.rows,
            ),
            None => (self.begin_len(), Some(0)),
        }
    }

    /// Bytes of the TABLE_MAPs not yet written in the open piece (all of them when none
    /// is open).
    fn maps_len(&self) -> u64 {
        let open = self.open.is_some();
        self.stmt
            .maps
            .iter()
            .filter(|m| !(open && m.2))
            .map(|m| m.1.raw().len() as u64)
            .sum()
    }

    fn all_maps_len(&self) -> u64 {
        self.stmt.maps.iter().map(|m| m.1.raw().len() as u64).sum()
    }

    fn annotation_len(&self) -> u64 {
        self.stmt.annotation.map_or(0, |a| a.raw().len() as u64)
    }

    fn place(&mut self, ev: &Event<'b>) -> Result<()> {
        let rows = self.s.rows_of(ev, self.format).ok();
        if matches!(self.s.limit, Limit::Rows(_)) && rows.is_none() {
            // The survey counted them; a failure now would be a bug.
            return Err(Error::malformed(ev.offset(), "rows could not be counted"));
        }
        let len = ev.raw().len() as u64;
        let stmt_end = is_stmt_end(ev, self.format);
        let empty = self.begin_len() + self.all_maps_len();
        let fits_empty = self.fits(empty + len, rows);
        if self.open.is_some() {
            let (used, r) = self.used();
            if self.fits(
                used + self.annotation_len() + self.maps_len() + len,
                add(r, rows),
            ) {
                self.stage_whole(ev, len, rows)?;
                self.stmt.ended = stmt_end;
                return Ok(());
            }
            // An event that must be cut anyway starts in what is left of this piece.
            if fits_empty {
                self.close()?;
            }
        }
        if fits_empty {
            if !self.fits(empty + self.annotation_len() + len, rows) {
                self.drop_annotation();
            }
            self.open_piece()?;
            self.stage_whole(ev, len, rows)?;
        } else {
            self.cut(ev)?;
        }
        self.stmt.ended = stmt_end;
        Ok(())
    }

    fn drop_annotation(&mut self) {
        if let Some(a) = self.stmt.annotation.take() {
            self.s.report.dropped_annotations.push(a.offset());
        }
    }

    fn open_piece(&mut self) -> Result<()> {
        let start = self.s.w.position();
        self.s
            .w
            .write_parts(self.begin.t, self.begin.stamp, &[&self.begin.body])?;
        for m in &mut self.stmt.maps {
            m.2 = false;
        }
        self.open = Some(Open {
            start,
            rows: Some(0),
            pending: None,
            from: None,
            to: (0, None),
        });
        Ok(())
    }

    /// Writes the pending unit, then what the next unit needs before it.
    fn prepare(&mut self) -> Result<()> {
        self.flush_pending(false)?;
        if let Some(a) = self.stmt.annotation.take() {
            self.s.w.copy_event(&a)?;
        }
        for m in &mut self.stmt.maps {
            if !m.2 {
                self.s.w.copy_event(&m.1)?;
                m.2 = true;
            }
        }
        Ok(())
    }

    fn stage_whole(&mut self, ev: &Event<'b>, len: u64, rows: Option<u64>) -> Result<()> {
        self.prepare()?;
        let o = self.open.as_mut().expect("a piece is open");
        o.rows = add(o.rows, rows);
        o.from.get_or_insert((ev.offset(), 0));
        o.to = (ev.offset(), None);
        o.pending = Some(Pending {
            unit: Unit::Whole(*ev),
            len,
        });
        Ok(())
    }

    fn stage_part(
        &mut self,
        ev: &Event<'b>,
        head: &RowsEvent<'b>,
        data: &Rc<Cow<'b, [u8]>>,
        range: Range<usize>,
        rows: Range<u64>,
        len: u64,
    ) -> Result<()> {
        self.prepare()?;
        let o = self.open.as_mut().expect("a piece is open");
        o.rows = o.rows.map(|r| r + (rows.end - rows.start));
        o.from.get_or_insert((ev.offset(), rows.start));
        o.to = (ev.offset(), Some(rows.end));
        o.pending = Some(Pending {
            unit: Unit::Part {
                stamp: Stamp::of(ev.header()),
                head: head.clone(),
                data: Rc::clone(data),
                range,
            },
            len,
        });
        Ok(())
    }

    /// Writes the pending unit; `last` sets `STMT_END_F` on it.
    fn flush_pending(&mut self, last: bool) -> Result<()> {
        let Some(p) = self.open.as_mut().and_then(|o| o.pending.take()) else {
            return Ok(());
        };
        let mut head = Vec::new();
        match p.unit {
            Unit::Whole(ev) => {
                let EventData::Rows(re) = ev.decode(self.format)? else {
                    return Err(Error::malformed(ev.offset(), "not a rows event"));
                };
                if !last || re.is_stmt_end() {
                    self.s.w.copy_event(&ev)?;
                } else {
                    let re = RowsEvent {
                        flags: re.flags | STMT_END_F,
                        ..re
                    };
                    re.encode_head(&mut head)
                        .map_err(|e| e.shifted(ev.offset()))?;
                    self.s.w.write_parts(
                        ev.event_type(),
                        Stamp::of(ev.header()),
                        &[&head, re.data],
                    )?;
                }
            }
            Unit::Part {
                stamp,
                head: re,
                data,
                range,
            } => {
                let re = RowsEvent {
                    flags: if last {
                        re.flags | STMT_END_F
                    } else {
                        re.flags
                    },
                    ..re
                };
                re.encode_head(&mut head)
                    .map_err(|e| e.shifted(re.data_offset))?;
                self.s
                    .w
                    .write_parts(re.event_type, stamp, &[&head, &data[range]])?;
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.flush_pending(true)?;
        let k = self.pieces.len() as u64;
        match self.end {
            End::Xid { stamp, xid } => {
                let body = EventData::Xid(Xid {
                    xid: xid.wrapping_add(k),
                });
                self.s.w.write_data(EventType::XID, stamp, &body)?;
            }
            End::Query { stamp, t, body } => {
                self.s.w.write_parts(t, stamp, &[body])?;
            }
        }
        let o = self.open.take().expect("a piece is open");
        let (from_event, from_row) = o.from.unwrap_or((0, 0));
        let piece = Piece {
            out_start: o.start,
            out_end: self.s.w.position(),
            rows: o.rows,
            from_event,
            from_row,
            to_event: o.to.0,
            to_row: o.to.1,
        };
        let within = match self.s.limit {
            Limit::Bytes(b) => piece.bytes() <= b,
            Limit::Rows(n) => piece.rows.is_some_and(|r| r <= n),
        };
        if !within {
            return Err(Error::malformed(
                piece.out_start,
                format!(
                    "internal error: a piece of {} bytes came out over the limit",
                    piece.bytes()
                ),
            ));
        }
        self.pieces.push(piece);
        Ok(())
    }

    /// Places a rows event that does not fit in an empty piece, cut at row boundaries.
    fn cut(&mut self, ev: &Event<'b>) -> Result<()> {
        let EventData::Rows(re) = ev.decode(self.format)? else {
            return Err(Error::malformed(ev.offset(), "not a rows event"));
        };
        let data = Rc::new(re.rows_data()?);
        let head = if re.compressed {
            re.retyped(re.kind, false).ok_or_else(|| {
                Error::unsupported(ev.offset(), "no uncompressed type for this rows event")
            })?
        } else {
            re.clone()
        };
        // Every piece but the event's last leaves the statement open.
        let mid = RowsEvent {
            flags: head.flags & !STMT_END_F,
            ..head.clone()
        };
        let mut scratch = Vec::new();
        head.encode_head(&mut scratch)
            .map_err(|e| e.shifted(ev.offset()))?;
        let head_len = scratch.len();
        let frame = self.s.w.framed_len(head_len);
        let part_len = |n: usize| frame + n as u64;
        let info = self.s.table_info(&re, ev.offset())?.clone();
        let mut spans = Vec::new();
        for row in Rows::new(&re, &data, &info)? {
            let row = row?;
            spans.push(row.start..row.end);
        }
        if self.open.is_none() {
            self.open_piece()?;
        }
        if spans.is_empty() {
            return self.stage_whole(ev, ev.raw().len() as u64, Some(0));
        }
        let mut first = 0usize;
        let n = spans.len();
        for i in 0..n {
            if i > first {
                let (used, r) = self.used();
                let extra = self.maps_len() + self.annotation_len();
                let count = (i - first + 1) as u64;
                let len = part_len(spans[i].end - spans[first].start);
                if self.fits(used + extra + len, add(r, Some(count))) {
                    continue;
                }
                // Rows first..i fill this piece: write them and go on in a new one.
                let range = spans[first].start..spans[i - 1].end;
                let len = part_len(range.len());
                self.stage_part(ev, &mid, &data, range, first as u64..i as u64, len)?;
                self.close()?;
                self.open_piece()?;
                first = i;
            }
            // Row i starts a part: it must fit on its own.
            loop {
                let (used, r) = self.used();
                let extra = self.maps_len() + self.annotation_len();
                if self.fits(used + extra + part_len(spans[i].len()), add(r, Some(1))) {
                    break;
                }
                if self.open.as_ref().is_some_and(|o| o.pending.is_some()) {
                    self.close()?;
                    self.open_piece()?;
                } else if self.stmt.annotation.is_some() {
                    self.drop_annotation();
                } else {
                    return Err(Error::unsupported(
                        ev.offset(),
                        format!(
                            "row {} of the rows event at {} takes {} bytes: a transaction holding it cannot stay within the limit ({})",
                            i + 1,
                            ev.offset(),
                            spans[i].len(),
                            self.s.limit
                        ),
                    ));
                }
            }
        }
        let range = spans[first].start..spans[n - 1].end;
        let len = part_len(range.len());
        self.stage_part(ev, &head, &data, range, first as u64..n as u64, len)
    }
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    Some(a? + b?)
}

fn is_stmt_end(ev: &Event, format: &Format) -> bool {
    matches!(ev.decode(format), Ok(EventData::Rows(re)) if re.is_stmt_end())
}
