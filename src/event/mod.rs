//! Events: the borrowed [`Event`] frame, and typed bodies in [`EventData`].
//!
//! Every typed body has `parse(body, offset, ..)` and `encode(&self, out)`, so that
//! `encode(parse(b)) == b` for each event a server wrote; the writer frames an encoded body
//! with a header and a checksum.

pub mod control;
pub mod fde;
pub mod gtid;
pub mod header;
pub mod payload;
pub mod query;
pub mod rows;
pub mod table_map;

use crate::error::{Error, ErrorKind, Result};
use fde::{Format, FormatDescription, StartV3};
use header::{EventHeader, EventType, CHECKSUM_LEN, FLAG_BINLOG_IN_USE};

pub use control::{
    AnnotateRows, BinlogCheckpoint, Heartbeat, Incident, Intvar, Rand, Rotate, RowsQuery,
    StartEncryption, UserVar, XaPrepare, Xid,
};
pub use gtid::{Gtid, GtidList, MariadbGtid, PreviousGtids};
pub use payload::TransactionPayload;
pub use query::Query;
pub use rows::RowsEvent;
pub use table_map::TableMap;

/// One event as it lies in the file: its offset, header and bytes. Copying an `Event` copies
/// a few words; the bytes stay where they are.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    offset: u64,
    header: EventHeader,
    raw: &'a [u8],
    header_len: u8,
    checksum: bool,
    verifiable: bool,
    encrypted: bool,
}

impl std::fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("offset", &self.offset)
            .field("header", &self.header)
            .field("checksum", &self.checksum)
            .finish()
    }
}

impl<'a> Event<'a> {
    /// Frames `raw` (a whole event) found at `offset`. `checksum` says whether its last four
    /// bytes are a CRC32.
    pub fn new(
        offset: u64,
        header: EventHeader,
        raw: &'a [u8],
        header_len: u8,
        checksum: bool,
    ) -> Result<Event<'a>> {
        let min = usize::from(header_len) + if checksum { CHECKSUM_LEN } else { 0 };
        if raw.len() < min || raw.len() != header.event_len as usize {
            return Err(Error::new(
                ErrorKind::EventTooShort {
                    len: header.event_len,
                },
                offset,
            ));
        }
        Ok(Event {
            offset,
            header,
            raw,
            header_len,
            checksum,
            verifiable: checksum,
            encrypted: false,
        })
    }

    /// Marks whether the checksum trailer is to be checked (an FDE whose algorithm is OFF
    /// carries a trailer that servers do not check).
    pub fn set_checksum_verifiable(&mut self, on: bool) {
        self.verifiable = on && self.checksum;
    }

    /// Frames an encrypted event (MariaDB binlog encryption): only its length is known.
    /// As [`Event::new`], `raw` must hold the header and be as long as the header says.
    pub fn encrypted(
        offset: u64,
        header: EventHeader,
        raw: &'a [u8],
        header_len: u8,
    ) -> Result<Event<'a>> {
        let mut ev = Event::new(offset, header, raw, header_len, false)?;
        ev.encrypted = true;
        Ok(ev)
    }

    /// Whether the event is encrypted: then only [`Event::raw`], [`Event::offset`] and the
    /// length mean anything.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Absolute offset of the event's first byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Offset just past the event.
    pub fn end_offset(&self) -> u64 {
        self.offset + self.raw.len() as u64
    }

    /// The common header.
    pub fn header(&self) -> &EventHeader {
        &self.header
    }

    /// The event type.
    pub fn event_type(&self) -> EventType {
        self.header.event_type
    }

    /// The whole event: header, body and checksum.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Length of the common header (19, or 13 in v1 files).
    pub fn header_len(&self) -> usize {
        usize::from(self.header_len)
    }

    /// Whether the event ends with a CRC32.
    pub fn has_checksum(&self) -> bool {
        self.checksum
    }

    /// The body: the bytes between the header and the checksum.
    pub fn body(&self) -> &'a [u8] {
        // The constructors checked that the header and trailer fit.
        let end = self
            .raw
            .len()
            .saturating_sub(if self.checksum { CHECKSUM_LEN } else { 0 });
        self.raw
            .get(usize::from(self.header_len)..end)
            .unwrap_or(&[])
    }

    /// Absolute offset of the body.
    pub fn body_offset(&self) -> u64 {
        self.offset + u64::from(self.header_len)
    }

    /// The CRC32 stored at the end of the event.
    pub fn stored_checksum(&self) -> Option<u32> {
        if !self.checksum {
            return None;
        }
        let t = self.raw.get(self.raw.len().checked_sub(CHECKSUM_LEN)?..)?;
        Some(u32::from_le_bytes(t.try_into().ok()?))
    }

    /// The CRC32 of the event's bytes before the trailer, computed as the server does: for
    /// an FDE, with the in-use flag cleared.
    pub fn computed_checksum(&self) -> u32 {
        let end = self.raw.len().saturating_sub(CHECKSUM_LEN);
        event_crc(&self.raw[..end], self.header.event_type)
    }

    /// Checks the CRC32 when the event has one that is meant to be checked.
    pub fn verify_checksum(&self) -> Result<()> {
        if !self.verifiable {
            return Ok(());
        }
        match self.stored_checksum() {
            Some(stored) => {
                let computed = self.computed_checksum();
                if stored == computed {
                    Ok(())
                } else {
                    Err(Error::new(
                        ErrorKind::BadChecksum { stored, computed },
                        self.offset,
                    ))
                }
            }
            None => Ok(()),
        }
    }

    /// Decodes the body into its typed form, framed by `format` (the format in force where
    /// the event stands). Types without a typed form come back as [`EventData::Other`].
    pub fn decode(&self, format: &Format) -> Result<EventData<'a>> {
        if self.encrypted {
            return Ok(EventData::Other(self.body()));
        }
        EventData::parse(
            self.header.event_type,
            self.body(),
            self.body_offset(),
            format,
        )
    }
}

/// CRC32 of an event without its trailer. The FDE's is taken with `LOG_EVENT_BINLOG_IN_USE_F`
/// cleared, because the server sets and clears that flag in place after writing the CRC.
pub fn event_crc(bytes: &[u8], t: EventType) -> u32 {
    let mut h = crc32fast::Hasher::new();
    if t == EventType::FORMAT_DESCRIPTION && bytes.len() >= 19 {
        h.update(&bytes[..17]);
        let flags = u16::from_le_bytes([bytes[17], bytes[18]]) & !FLAG_BINLOG_IN_USE;
        h.update(&flags.to_le_bytes());
        h.update(&bytes[19..]);
    } else {
        h.update(bytes);
    }
    h.finalize()
}

/// The typed body of an event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventData<'a> {
    /// FORMAT_DESCRIPTION_EVENT (15).
    FormatDescription(FormatDescription<'a>),
    /// START_EVENT_V3 (1).
    StartV3(StartV3<'a>),
    /// QUERY_EVENT (2) and MariaDB's QUERY_COMPRESSED_EVENT (165).
    Query(Query<'a>),
    /// ROTATE_EVENT (4).
    Rotate(Rotate<'a>),
    /// STOP_EVENT (3): no body.
    Stop,
    /// XID_EVENT (16).
    Xid(Xid),
    /// INTVAR_EVENT (5).
    Intvar(Intvar),
    /// RAND_EVENT (13).
    Rand(Rand),
    /// USER_VAR_EVENT (14).
    UserVar(UserVar<'a>),
    /// TABLE_MAP_EVENT (19).
    TableMap(TableMap<'a>),
    /// Any rows event: pre-GA, v1, v2, PARTIAL_UPDATE_ROWS, MariaDB compressed.
    Rows(RowsEvent<'a>),
    /// ROWS_QUERY_LOG_EVENT (29).
    RowsQuery(RowsQuery<'a>),
    /// INCIDENT_EVENT (26).
    Incident(Incident<'a>),
    /// HEARTBEAT_LOG_EVENT (27) and HEARTBEAT_LOG_EVENT_V2 (41).
    Heartbeat(Heartbeat<'a>),
    /// GTID_LOG_EVENT (33), ANONYMOUS_GTID_LOG_EVENT (34), GTID_TAGGED_LOG_EVENT (42).
    Gtid(Gtid<'a>),
    /// PREVIOUS_GTIDS_LOG_EVENT (35).
    PreviousGtids(PreviousGtids<'a>),
    /// XA_PREPARE_LOG_EVENT (38).
    XaPrepare(XaPrepare<'a>),
    /// TRANSACTION_PAYLOAD_EVENT (40).
    TransactionPayload(TransactionPayload<'a>),
    /// MariaDB ANNOTATE_ROWS_EVENT (160).
    AnnotateRows(AnnotateRows<'a>),
    /// MariaDB BINLOG_CHECKPOINT_EVENT (161).
    BinlogCheckpoint(BinlogCheckpoint<'a>),
    /// MariaDB GTID_EVENT (162).
    MariadbGtid(MariadbGtid<'a>),
    /// MariaDB GTID_LIST_EVENT (163).
    GtidList(GtidList<'a>),
    /// MariaDB START_ENCRYPTION_EVENT (164).
    StartEncryption(StartEncryption<'a>),
    /// MariaDB PARTIAL_ROW_DATA_EVENT (172): a fragment of a big rows event.
    PartialRowData(rows::PartialRowData<'a>),
    /// Any other type: the body, kept as it is.
    Other(&'a [u8]),
}

impl<'a> EventData<'a> {
    /// Parses the body of an event of type `t` found at `offset`, with `format` in force.
    pub fn parse(
        t: EventType,
        body: &'a [u8],
        offset: u64,
        format: &Format,
    ) -> Result<EventData<'a>> {
        let ph = format.post_header_len(t);
        Ok(match t {
            EventType::FORMAT_DESCRIPTION => {
                EventData::FormatDescription(FormatDescription::parse(body, offset)?)
            }
            EventType::START_V3 => EventData::StartV3(StartV3::parse(body, offset)?),
            EventType::QUERY | EventType::MARIADB_QUERY_COMPRESSED => {
                EventData::Query(Query::parse(t, body, offset, ph)?)
            }
            EventType::ROTATE => EventData::Rotate(Rotate::parse(body, offset, ph)?),
            EventType::STOP if body.is_empty() => EventData::Stop,
            EventType::XID => EventData::Xid(Xid::parse(body, offset)?),
            EventType::INTVAR => EventData::Intvar(Intvar::parse(body, offset)?),
            EventType::RAND => EventData::Rand(Rand::parse(body, offset)?),
            EventType::USER_VAR => EventData::UserVar(UserVar::parse(body, offset)?),
            EventType::TABLE_MAP => EventData::TableMap(
                TableMap::parse(body, offset, format.table_id_len(t))?.with_flavor(format.flavor),
            ),
            t if t.is_rows() => EventData::Rows(RowsEvent::parse(t, body, offset, format)?),
            EventType::ROWS_QUERY => EventData::RowsQuery(RowsQuery::parse(body, offset)?),
            EventType::INCIDENT => EventData::Incident(Incident::parse(body, offset)?),
            EventType::HEARTBEAT | EventType::HEARTBEAT_V2 => {
                EventData::Heartbeat(Heartbeat::parse(t, body, offset)?)
            }
            EventType::GTID | EventType::ANONYMOUS_GTID | EventType::GTID_TAGGED => {
                EventData::Gtid(Gtid::parse(t, body, offset)?)
            }
            EventType::PREVIOUS_GTIDS => {
                EventData::PreviousGtids(PreviousGtids::parse(body, offset)?)
            }
            EventType::XA_PREPARE => EventData::XaPrepare(XaPrepare::parse(body, offset)?),
            EventType::TRANSACTION_PAYLOAD => {
                EventData::TransactionPayload(TransactionPayload::parse(body, offset)?)
            }
            EventType::MARIADB_ANNOTATE_ROWS => {
                EventData::AnnotateRows(AnnotateRows::parse(body, offset)?)
            }
            EventType::MARIADB_BINLOG_CHECKPOINT => {
                EventData::BinlogCheckpoint(BinlogCheckpoint::parse(body, offset)?)
            }
            EventType::MARIADB_GTID => {
                EventData::MariadbGtid(MariadbGtid::parse(body, offset, ph)?)
            }
            EventType::MARIADB_GTID_LIST => EventData::GtidList(GtidList::parse(body, offset)?),
            EventType::MARIADB_START_ENCRYPTION => {
                EventData::StartEncryption(StartEncryption::parse(body, offset)?)
            }
            EventType::MARIADB_PARTIAL_ROW_DATA => {
                EventData::PartialRowData(rows::PartialRowData::parse(body, offset)?)
            }
            _ => EventData::Other(body),
        })
    }

    /// Appends the body this value encodes to. For [`EventData::Other`] that is the kept
    /// bytes; for [`EventData::Stop`] nothing. A value too long for its length field is
    /// refused ([`ErrorKind::TooLong`]), never truncated.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            EventData::FormatDescription(e) => e.encode(out)?,
            EventData::StartV3(e) => e.encode(out)?,
            EventData::Query(e) => e.encode(out)?,
            EventData::Rotate(e) => e.encode(out)?,
            EventData::Stop => {}
            EventData::Xid(e) => e.encode(out)?,
            EventData::Intvar(e) => e.encode(out)?,
            EventData::Rand(e) => e.encode(out)?,
            EventData::UserVar(e) => e.encode(out)?,
            EventData::TableMap(e) => e.encode(out)?,
            EventData::Rows(e) => e.encode(out)?,
            EventData::RowsQuery(e) => e.encode(out)?,
            EventData::Incident(e) => e.encode(out)?,
            EventData::Heartbeat(e) => e.encode(out)?,
            EventData::Gtid(e) => e.encode(out)?,
            EventData::PreviousGtids(e) => e.encode(out)?,
            EventData::XaPrepare(e) => e.encode(out)?,
            EventData::TransactionPayload(e) => e.encode(out)?,
            EventData::AnnotateRows(e) => e.encode(out)?,
            EventData::BinlogCheckpoint(e) => e.encode(out)?,
            EventData::MariadbGtid(e) => e.encode(out)?,
            EventData::GtidList(e) => e.encode(out)?,
            EventData::StartEncryption(e) => e.encode(out)?,
            EventData::PartialRowData(e) => e.encode(out)?,
            EventData::Other(b) => out.extend_from_slice(b),
        }
        Ok(())
    }

    /// Whether this is a typed form (anything but [`EventData::Other`]).
    pub fn is_typed(&self) -> bool {
        !matches!(self, EventData::Other(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An encrypted event is framed only when its bytes hold the header and are as long
    /// as the header says: its body can then be read without a panic.
    #[test]
    fn encrypted_events_are_checked_like_any_other() {
        let header = EventHeader {
            timestamp: 0,
            event_type: EventType::QUERY,
            server_id: 1,
            event_len: 19,
            log_pos: 0,
            flags: 0,
        };
        let raw = [0u8; 19];
        assert!(Event::encrypted(4, header, &raw[..5], 19).is_err());
        assert!(Event::encrypted(4, header, &raw, 40).is_err());
        let ev = Event::encrypted(4, header, &raw, 19).unwrap();
        assert!(ev.is_encrypted());
        assert_eq!(ev.body(), &[] as &[u8]);
    }
}
