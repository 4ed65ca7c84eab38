//! What a binlog file is and what it holds, as `binlog-tool info` shows it: server
//! version, flavor, checksums, event count, time and position range, GTIDs, and how the
//! file ends (rotated, stopped, still open, or truncated and where).

use crate::error::Error;
use crate::event::fde::{Flavor, CHECKSUM_CRC32, CHECKSUM_OFF};
use crate::event::header::{EventType, FLAG_BINLOG_IN_USE};
use crate::event::EventData;
use crate::gtid_set::GtidSet;
use crate::reader::Binlog;

/// Which checksums the events carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// The server predates checksums (its FDE has no checksum field).
    Absent,
    /// CRC32.
    Crc32,
    /// Checksums off (`binlog_checksum=NONE`).
    Off,
    /// An algorithm this library does not know.
    Unknown(u8),
}

/// How a file ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// A ROTATE to the next file.
    Rotate(String),
    /// A STOP event (server shut down).
    Stop,
    /// No end event, every event complete: the server still has it open, or crashed.
    Open,
    /// An event is cut short (or garbled): the error says where.
    Truncated(Error),
}

/// What a file holds.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Bytes.
    pub size: u64,
    /// Whether it starts with a FORMAT_DESCRIPTION (or START_V3) event. Without one (a
    /// file of the magic alone, a fragment), the version, flavor, binlog version and
    /// checksum fields are a fallback guess, not the file's: do not show them.
    pub has_format_event: bool,
    /// The server version of its FORMAT_DESCRIPTION event.
    pub server_version: String,
    /// MySQL or MariaDB.
    pub flavor: Flavor,
    /// Binlog format version (4 for every server since 5.0).
    pub binlog_version: u16,
    /// Checksums of its events.
    pub checksum: Checksum,
    /// Events (complete ones).
    pub events: u64,
    /// Header time of the first readable event.
    pub first_timestamp: Option<u32>,
    /// Header time of the last readable event.
    pub last_timestamp: Option<u32>,
    /// Offset of the first event.
    pub first_position: Option<u64>,
    /// Offset of the last event.
    pub last_position: Option<u64>,
    /// Offset just past the last complete event.
    pub end_position: u64,
    /// The GTIDs of its transactions.
    pub gtids: GtidSet,
    /// The text of its PREVIOUS_GTIDS event (MySQL).
    pub previous_gtids: Option<String>,
    /// The text of its GTID_LIST event (MariaDB).
    pub gtid_list: Option<String>,
    /// Whether its FDE still has the in-use flag (the server had it open).
    pub in_use: bool,
    /// Whether events are encrypted from some point on.
    pub encrypted: bool,
    /// How it ends.
    pub ending: Ending,
}

/// Walks `log` (without checking CRCs) and gathers its [`Summary`].
pub fn summarize(log: &Binlog) -> Summary {
    let format = log.format();
    let mut s = Summary {
        size: log.data().len() as u64,
        has_format_event: log.has_format_event(),
        server_version: format.server_version.clone(),
        flavor: format.flavor,
        binlog_version: format.binlog_version,
        checksum: match format.checksum_alg {
            None => Checksum::Absent,
            Some(CHECKSUM_CRC32) => Checksum::Crc32,
            Some(CHECKSUM_OFF) => Checksum::Off,
            Some(other) => Checksum::Unknown(other),
        },
        events: 0,
        first_timestamp: None,
        last_timestamp: None,
        first_position: None,
        last_position: None,
        end_position: 4,
        gtids: GtidSet::default(),
        previous_gtids: None,
        gtid_list: None,
        in_use: false,
        encrypted: log.encrypted_from().is_some(),
        ending: Ending::Open,
    };
    let mut events = log.events().verify_checksums(false);
    let mut last_type = None;
    let mut next_file = String::new();
    while let Some(ev) = events.next() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                s.ending = Ending::Truncated(e);
                break;
            }
        };
        s.events += 1;
        s.first_position.get_or_insert(ev.offset());
        s.last_position = Some(ev.offset());
        s.end_position = ev.end_offset();
        last_type = Some(ev.event_type());
        if ev.is_encrypted() {
            continue;
        }
        let ts = ev.header().timestamp;
        s.first_timestamp.get_or_insert(ts);
        s.last_timestamp = Some(ts);
        let t = ev.event_type();
        if !(t.tells_gtids() || t == EventType::FORMAT_DESCRIPTION || t == EventType::ROTATE) {
            continue;
        }
        match ev.decode(events.format()) {
            Ok(EventData::FormatDescription(_)) if s.events == 1 => {
                s.in_use = ev.header().flags & FLAG_BINLOG_IN_USE != 0;
            }
            Ok(EventData::Gtid(g)) => {
                if let Some(v) = g.value() {
                    s.gtids.insert(&v);
                }
            }
            Ok(EventData::MariadbGtid(g)) => s.gtids.insert(&g.value(ev.header().server_id)),
            Ok(EventData::PreviousGtids(p)) => s.previous_gtids = Some(p.to_text()),
            Ok(EventData::GtidList(l)) => s.gtid_list = Some(l.to_text()),
            Ok(EventData::Rotate(r)) => {
                next_file = String::from_utf8_lossy(r.next_file).into_owned()
            }
            _ => {}
        }
    }
    if !matches!(s.ending, Ending::Truncated(_)) {
        s.ending = match last_type {
            Some(EventType::ROTATE) => Ending::Rotate(next_file),
            Some(EventType::STOP) => Ending::Stop,
            _ => Ending::Open,
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_and_truncated() {
        let bytes = crate::test_support::fixture("row_full/mariadb-bin.000001");
        let s = summarize(&Binlog::parse(&bytes).unwrap());
        assert_eq!(s.ending, Ending::Rotate("mariadb-bin.000002".into()));
        assert_eq!(s.flavor, Flavor::MariaDb);
        assert_eq!(s.checksum, Checksum::Crc32);
        assert_eq!(s.end_position, bytes.len() as u64);
        let cut = &bytes[..bytes.len() - 10];
        let s = summarize(&Binlog::parse(cut).unwrap());
        let Ending::Truncated(e) = &s.ending else {
            panic!("{:?}", s.ending)
        };
        assert_eq!(e.offset(), s.end_position);
        assert!(s.has_format_event);
        let magic = summarize(&Binlog::parse(b"\xfebin").unwrap());
        assert!(!magic.has_format_event);
        assert_eq!(magic.events, 0);
    }
}
