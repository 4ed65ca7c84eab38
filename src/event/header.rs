//! The common event header, and event type codes.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

use crate::error::{Error, ErrorKind, Result};

/// The four bytes every binlog file starts with.
pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

/// Length of the v3/v4 common header.
pub const HEADER_LEN: usize = 19;

/// Length of the v1 (MySQL 3.23) common header: no `log_pos`, no `flags`.
pub const V1_HEADER_LEN: usize = 13;

/// Length of the CRC32 trailer of a checksummed event.
pub const CHECKSUM_LEN: usize = 4;

/// `LOG_EVENT_BINLOG_IN_USE_F`: set in the FDE while the server has the file open.
pub const FLAG_BINLOG_IN_USE: u16 = 0x0001;

/// `LOG_EVENT_ARTIFICIAL_F`: an event the server made up (for example a fake ROTATE).
pub const FLAG_ARTIFICIAL: u16 = 0x0020;

/// `LOG_EVENT_SUPPRESS_USE_F`: the QUERY's database must not be `USE`d by a reader.
pub const FLAG_SUPPRESS_USE: u16 = 0x0008;

/// The 19-byte wire header, as a zero-copy view.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct WireHeader {
    timestamp: U32,
    type_code: u8,
    server_id: U32,
    event_len: U32,
    log_pos: U32,
    flags: U16,
}

/// The common header of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// Seconds since the epoch when the statement began.
    pub timestamp: u32,
    /// What kind of event this is.
    pub event_type: EventType,
    /// Server that wrote the event first.
    pub server_id: u32,
    /// Whole length of the event: header, body and checksum.
    pub event_len: u32,
    /// Position of the next event in the file as the writer computed it (0 in v1 files
    /// and for events inside a transaction payload).
    pub log_pos: u32,
    /// Event flags (`LOG_EVENT_*_F`).
    pub flags: u16,
}

impl EventHeader {
    /// Reads a header of `header_len` bytes (19, or 13 for v1 files) at the start of `data`,
    /// which lives at `offset` in the file.
    pub fn parse(data: &[u8], header_len: usize, offset: u64) -> Result<EventHeader> {
        if header_len == V1_HEADER_LEN {
            let b = data
                .get(..V1_HEADER_LEN)
                .ok_or_else(|| short(data, 13, offset))?;
            let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            return Ok(EventHeader {
                timestamp: u32_at(0),
                event_type: EventType(b[4]),
                server_id: u32_at(5),
                event_len: u32_at(9),
                log_pos: 0,
                flags: 0,
            });
        }
        let (h, _) = WireHeader::ref_from_prefix(data).map_err(|_| short(data, 19, offset))?;
        Ok(EventHeader {
            timestamp: h.timestamp.get(),
            event_type: EventType(h.type_code),
            server_id: h.server_id.get(),
            event_len: h.event_len.get(),
            log_pos: h.log_pos.get(),
            flags: h.flags.get(),
        })
    }

    /// Appends the 19-byte wire form.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        out.push(self.event_type.0);
        out.extend_from_slice(&self.server_id.to_le_bytes());
        out.extend_from_slice(&self.event_len.to_le_bytes());
        out.extend_from_slice(&self.log_pos.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
    }
}

fn short(data: &[u8], needed: u64, offset: u64) -> Error {
    Error::new(
        ErrorKind::UnexpectedEof {
            what: "event header",
            needed,
            available: data.len() as u64,
        },
        offset,
    )
}

/// An event type code (the byte at offset 4 of the header).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventType(pub u8);

macro_rules! event_types {
    ($( $konst:ident = $code:expr, $upper:expr, $show:expr; )*) => {
        impl EventType {
            $(
                #[doc = concat!("`", $upper, "` (", stringify!($code), ").")]
                pub const $konst: EventType = EventType($code);
            )*

            /// The upper-case name used in the corpus manifest (`WRITE_ROWS_V1`, `MDB_GTID`, ...),
            /// or `None` for a code no server defines.
            pub fn code_name(self) -> Option<&'static str> {
                match self.0 {
                    $( $code => Some($upper), )*
                    _ => None,
                }
            }

            /// The name SHOW BINLOG EVENTS and mysqlbinlog print (`Write_rows_v1`, `Gtid_list`, ...).
            pub fn show_name(self) -> std::borrow::Cow<'static, str> {
                match self.0 {
                    $( $code => std::borrow::Cow::Borrowed($show), )*
                    n => std::borrow::Cow::Owned(format!("Unknown({n})")),
                }
            }
        }
    };
}

event_types! {
    UNKNOWN = 0, "UNKNOWN", "Unknown";
    START_V3 = 1, "START_V3", "Start";
    QUERY = 2, "QUERY", "Query";
    STOP = 3, "STOP", "Stop";
    ROTATE = 4, "ROTATE", "Rotate";
    INTVAR = 5, "INTVAR", "Intvar";
    LOAD = 6, "LOAD", "Load";
    SLAVE = 7, "SLAVE", "Slave";
    CREATE_FILE = 8, "CREATE_FILE", "Create_file";
    APPEND_BLOCK = 9, "APPEND_BLOCK", "Append_block";
    EXEC_LOAD = 10, "EXEC_LOAD", "Exec_load";
    DELETE_FILE = 11, "DELETE_FILE", "Delete_file";
    NEW_LOAD = 12, "NEW_LOAD", "New_load";
    RAND = 13, "RAND", "RAND";
    USER_VAR = 14, "USER_VAR", "User var";
    FORMAT_DESCRIPTION = 15, "FDE", "Format_desc";
    XID = 16, "XID", "Xid";
    BEGIN_LOAD_QUERY = 17, "BEGIN_LOAD_QUERY", "Begin_load_query";
    EXECUTE_LOAD_QUERY = 18, "EXECUTE_LOAD_QUERY", "Execute_load_query";
    TABLE_MAP = 19, "TABLE_MAP", "Table_map";
    PRE_GA_WRITE_ROWS = 20, "PRE_GA_WRITE_ROWS", "Write_rows_v0";
    PRE_GA_UPDATE_ROWS = 21, "PRE_GA_UPDATE_ROWS", "Update_rows_v0";
    PRE_GA_DELETE_ROWS = 22, "PRE_GA_DELETE_ROWS", "Delete_rows_v0";
    WRITE_ROWS_V1 = 23, "WRITE_ROWS_V1", "Write_rows_v1";
    UPDATE_ROWS_V1 = 24, "UPDATE_ROWS_V1", "Update_rows_v1";
    DELETE_ROWS_V1 = 25, "DELETE_ROWS_V1", "Delete_rows_v1";
    INCIDENT = 26, "INCIDENT", "Incident";
    HEARTBEAT = 27, "HEARTBEAT", "Heartbeat";
    IGNORABLE = 28, "IGNORABLE", "Ignorable";
    ROWS_QUERY = 29, "ROWS_QUERY", "Rows_query";
    WRITE_ROWS_V2 = 30, "WRITE_ROWS_V2", "Write_rows";
    UPDATE_ROWS_V2 = 31, "UPDATE_ROWS_V2", "Update_rows";
    DELETE_ROWS_V2 = 32, "DELETE_ROWS_V2", "Delete_rows";
    GTID = 33, "GTID", "Gtid";
    ANONYMOUS_GTID = 34, "ANON_GTID", "Anonymous_Gtid";
    PREVIOUS_GTIDS = 35, "PREV_GTIDS", "Previous_gtids";
    TRANSACTION_CONTEXT = 36, "TRX_CONTEXT", "Transaction_context";
    VIEW_CHANGE = 37, "VIEW_CHANGE", "View_change";
    XA_PREPARE = 38, "XA_PREPARE", "XA_prepare";
    PARTIAL_UPDATE_ROWS = 39, "PARTIAL_UPDATE_ROWS", "Update_rows_partial";
    TRANSACTION_PAYLOAD = 40, "TRX_PAYLOAD", "Transaction_payload";
    HEARTBEAT_V2 = 41, "HEARTBEAT_V2", "Heartbeat_v2";
    GTID_TAGGED = 42, "GTID_TAGGED", "Gtid_tagged";
    MARIADB_ANNOTATE_ROWS = 160, "MDB_ANNOTATE_ROWS", "Annotate_rows";
    MARIADB_BINLOG_CHECKPOINT = 161, "MDB_BINLOG_CHECKPOINT", "Binlog_checkpoint";
    MARIADB_GTID = 162, "MDB_GTID", "Gtid";
    MARIADB_GTID_LIST = 163, "MDB_GTID_LIST", "Gtid_list";
    MARIADB_START_ENCRYPTION = 164, "MDB_START_ENCRYPTION", "Start_encryption";
    MARIADB_QUERY_COMPRESSED = 165, "MDB_QUERY_COMPRESSED", "Query_compressed";
    MARIADB_WRITE_ROWS_COMPRESSED_V1 = 166, "MDB_WRITE_ROWS_COMPRESSED_V1", "Write_rows_compressed_v1";
    MARIADB_UPDATE_ROWS_COMPRESSED_V1 = 167, "MDB_UPDATE_ROWS_COMPRESSED_V1", "Update_rows_compressed_v1";
    MARIADB_DELETE_ROWS_COMPRESSED_V1 = 168, "MDB_DELETE_ROWS_COMPRESSED_V1", "Delete_rows_compressed_v1";
    MARIADB_WRITE_ROWS_COMPRESSED = 169, "MDB_WRITE_ROWS_COMPRESSED", "Write_rows_compressed";
    MARIADB_UPDATE_ROWS_COMPRESSED = 170, "MDB_UPDATE_ROWS_COMPRESSED", "Update_rows_compressed";
    MARIADB_DELETE_ROWS_COMPRESSED = 171, "MDB_DELETE_ROWS_COMPRESSED", "Delete_rows_compressed";
    MARIADB_PARTIAL_ROW_DATA = 172, "MDB_PARTIAL_ROW_DATA", "Partial_rows";
}

impl EventType {
    /// The raw code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// Whether this is any kind of rows event (pre-GA, v1, v2, partial, MariaDB compressed).
    pub fn is_rows(self) -> bool {
        matches!(self.0, 20..=25 | 30..=32 | 39 | 166..=171)
    }

    /// Whether this is a GTID-carrying event that opens a transaction (MySQL GTID,
    /// ANONYMOUS_GTID, GTID_TAGGED, MariaDB GTID).
    pub fn is_gtid(self) -> bool {
        matches!(self.0, 33 | 34 | 42 | 162)
    }

    /// Whether this event tells GTIDs a file holds or starts from: a GTID event (not
    /// ANONYMOUS_GTID), PREVIOUS_GTIDS, MariaDB GTID_LIST.
    pub fn tells_gtids(self) -> bool {
        matches!(
            self,
            EventType::GTID
                | EventType::GTID_TAGGED
                | EventType::MARIADB_GTID
                | EventType::PREVIOUS_GTIDS
                | EventType::MARIADB_GTID_LIST
        )
    }
}

impl std::fmt::Debug for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code_name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "EventType({})", self.0),
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.show_name())
    }
}
