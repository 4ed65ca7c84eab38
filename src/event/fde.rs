//! FORMAT_DESCRIPTION_EVENT and START_EVENT_V3, and [`Format`]: what a reader needs to know
//! about the file it is walking (header length, post-header lengths, checksums, flavor).

use crate::bytes::Cursor;
use crate::error::{Error, Result};
use crate::event::header::{EventType, HEADER_LEN, V1_HEADER_LEN};

/// Length of the server version field of FDE and START_V3.
pub const SERVER_VERSION_LEN: usize = 50;

/// Checksum algorithm byte value: no checksums.
pub const CHECKSUM_OFF: u8 = 0;
/// Checksum algorithm byte value: CRC32 (ISO-3309, as zlib's crc32).
pub const CHECKSUM_CRC32: u8 = 1;
/// Checksum algorithm byte value: undefined.
pub const CHECKSUM_UNDEF: u8 = 255;

/// Which server family wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Oracle MySQL (and Percona Server, which logs the same way).
    MySql,
    /// MariaDB.
    MariaDb,
}

impl Flavor {
    /// `"MySQL"` or `"MariaDB"`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::MySql => "MySQL",
            Flavor::MariaDb => "MariaDB",
        }
    }
}

/// A version triple split from a server version string the way the server does it: up to
/// three runs of digits separated by dots, stopping at the first other character.
pub fn split_version(v: &[u8]) -> (u16, u16, u16) {
    let mut parts = [0u16; 3];
    let mut i = 0;
    for part in parts.iter_mut() {
        let start = i;
        let mut n: u32 = 0;
        while let Some(d) = v.get(i).filter(|c| c.is_ascii_digit()) {
            n = (n * 10 + u32::from(d - b'0')).min(u32::from(u16::MAX));
            i += 1;
        }
        if i == start {
            return (0, 0, 0);
        }
        *part = n as u16;
        if v.get(i) != Some(&b'.') {
            break;
        }
        i += 1;
    }
    (parts[0], parts[1], parts[2])
}

/// Whether a server of this version writes the checksum-algorithm byte in its FDE
/// (MySQL 5.6.1 and later, MariaDB 5.3 and later).
pub fn is_checksum_aware(server_version: &[u8]) -> bool {
    let v = split_version(server_version);
    if flavor_of(server_version) == Flavor::MariaDb {
        v >= (5, 3, 0)
    } else {
        v >= (5, 6, 1)
    }
}

/// The flavor a server version string names.
pub fn flavor_of(server_version: &[u8]) -> Flavor {
    if server_version.windows(7).any(|w| w == b"MariaDB")
        || server_version.windows(7).any(|w| w == b"-maria-")
    {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    }
}

/// A decoded FORMAT_DESCRIPTION_EVENT body.
#[derive(Clone, PartialEq, Eq)]
pub struct FormatDescription<'a> {
    /// Binlog format version (4).
    pub binlog_version: u16,
    /// The 50-byte, NUL-padded server version field.
    pub server_version: &'a [u8],
    /// When the file was created (0 in a rotated-to file on some versions).
    pub create_timestamp: u32,
    /// Common header length (19).
    pub header_len: u8,
    /// Post-header length of each event type, from type 1 up.
    pub post_header_lens: &'a [u8],
    /// The checksum algorithm byte, present on checksum-aware servers.
    pub checksum_alg: Option<u8>,
}

impl std::fmt::Debug for FormatDescription<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormatDescription")
            .field("binlog_version", &self.binlog_version)
            .field("server_version", &self.version_str())
            .field("create_timestamp", &self.create_timestamp)
            .field("header_len", &self.header_len)
            .field("event_types", &self.post_header_lens.len())
            .field("checksum_alg", &self.checksum_alg)
            .finish()
    }
}

impl<'a> FormatDescription<'a> {
    /// Parses an FDE body (the bytes after the common header, without a CRC trailer). Whether
    /// the last byte is the checksum algorithm follows from the version string.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<FormatDescription<'a>> {
        let mut c = Cursor::new(body, offset);
        let binlog_version = c.u16()?;
        let server_version = c.take(SERVER_VERSION_LEN, "server version")?;
        let create_timestamp = c.u32()?;
        let header_len = c.u8()?;
        let rest = c.rest();
        let (post_header_lens, checksum_alg) = if is_checksum_aware(server_version) {
            match rest.split_last() {
                Some((alg, lens)) => (lens, Some(*alg)),
                None => return Err(c.malformed("FDE without checksum algorithm byte")),
            }
        } else {
            (rest, None)
        };
        if usize::from(header_len) < V1_HEADER_LEN {
            return Err(c.malformed(format!("FDE header length {header_len}")));
        }
        Ok(FormatDescription {
            binlog_version,
            server_version,
            create_timestamp,
            header_len,
            post_header_lens,
            checksum_alg,
        })
    }

    /// Appends the body (without a CRC trailer).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.binlog_version.to_le_bytes());
        put_version(out, self.server_version)?;
        out.extend_from_slice(&self.create_timestamp.to_le_bytes());
        out.push(self.header_len);
        out.extend_from_slice(self.post_header_lens);
        if let Some(alg) = self.checksum_alg {
            out.push(alg);
        }
        Ok(())
    }

    /// The server version with the NUL padding removed, lossily as UTF-8.
    pub fn version_str(&self) -> String {
        version_text(self.server_version)
    }
}

/// A decoded START_EVENT_V3 body (binlog v1 and v3 files, MySQL 3.23 – 4.x).
#[derive(Clone, PartialEq, Eq)]
pub struct StartV3<'a> {
    /// Binlog format version (1 or 3; 2 in early 4.0 alphas).
    pub binlog_version: u16,
    /// The 50-byte, NUL-padded server version field.
    pub server_version: &'a [u8],
    /// When the file was created.
    pub create_timestamp: u32,
    /// Bytes after the fixed fields (none in files written by a server).
    pub rest: &'a [u8],
}

impl std::fmt::Debug for StartV3<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartV3")
            .field("binlog_version", &self.binlog_version)
            .field("server_version", &version_text(self.server_version))
            .field("create_timestamp", &self.create_timestamp)
            .finish()
    }
}

impl<'a> StartV3<'a> {
    /// Parses a START_EVENT_V3 body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<StartV3<'a>> {
        let mut c = Cursor::new(body, offset);
        Ok(StartV3 {
            binlog_version: c.u16()?,
            server_version: c.take(SERVER_VERSION_LEN, "server version")?,
            create_timestamp: c.u32()?,
            rest: c.rest(),
        })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.binlog_version.to_le_bytes());
        put_version(out, self.server_version)?;
        out.extend_from_slice(&self.create_timestamp.to_le_bytes());
        out.extend_from_slice(self.rest);
        Ok(())
    }
}

/// The server version in its fixed field, NUL-padded; a longer one is refused.
fn put_version(out: &mut Vec<u8>, v: &[u8]) -> Result<()> {
    if v.len() > SERVER_VERSION_LEN {
        return Err(Error::too_long(
            "server version length",
            v.len() as u64,
            SERVER_VERSION_LEN as u64,
        ));
    }
    out.extend_from_slice(v);
    out.resize(out.len() + SERVER_VERSION_LEN - v.len(), 0);
    Ok(())
}

fn version_text(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

/// What a reader or writer knows about a file's format: taken from its FDE (or START_V3),
/// owned so that it can outlive the event it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    /// Binlog format version (4 for everything since MySQL 5.0).
    pub binlog_version: u16,
    /// Server version text (NUL padding removed).
    pub server_version: String,
    /// The version triple split from `server_version`.
    pub version: (u16, u16, u16),
    /// MySQL or MariaDB.
    pub flavor: Flavor,
    /// Common header length.
    pub header_len: u8,
    /// Post-header lengths, from type 1 up.
    pub post_header_lens: Vec<u8>,
    /// The checksum algorithm byte, `None` for servers older than checksums.
    pub checksum_alg: Option<u8>,
}

impl Format {
    /// The format an FDE describes.
    pub fn from_fde(fde: &FormatDescription) -> Format {
        Format {
            binlog_version: fde.binlog_version,
            server_version: fde.version_str(),
            version: split_version(fde.server_version),
            flavor: flavor_of(fde.server_version),
            header_len: fde.header_len,
            post_header_lens: fde.post_header_lens.to_vec(),
            checksum_alg: fde.checksum_alg,
        }
    }

    /// The format of a v1/v3 file that starts with this START_V3 event.
    pub fn from_start_v3(s: &StartV3) -> Format {
        let header_len = if s.binlog_version == 1 {
            V1_HEADER_LEN
        } else {
            HEADER_LEN
        };
        // Post-header lengths of the old formats (MySQL 3.23 / 4.x), types 1..=14.
        let query = 11;
        let lens = [56, query, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0];
        Format {
            binlog_version: s.binlog_version,
            server_version: version_text(s.server_version),
            version: split_version(s.server_version),
            flavor: flavor_of(s.server_version),
            header_len: header_len as u8,
            post_header_lens: lens.to_vec(),
            checksum_alg: None,
        }
    }

    /// A v4 format for data that has no FDE of its own (the start of a relay log fragment,
    /// events inside a transaction payload): 19-byte headers, no checksum, MySQL 8.0
    /// post-header lengths.
    pub fn fallback() -> Format {
        let mut f = Format::mysql_80();
        f.checksum_alg = None;
        f
    }

    /// The format a MySQL 8.0 server writes (CRC32 checksums).
    pub fn mysql_80() -> Format {
        Format::from_fde(&FormatDescription {
            binlog_version: 4,
            server_version: b"8.0.45",
            create_timestamp: 0,
            header_len: HEADER_LEN as u8,
            post_header_lens: &MYSQL_80_POST_HEADER_LENS,
            checksum_alg: Some(CHECKSUM_CRC32),
        })
    }

    /// The format a MariaDB 10.11 server writes (CRC32 checksums).
    pub fn mariadb_1011() -> Format {
        Format::from_fde(&FormatDescription {
            binlog_version: 4,
            server_version: b"10.11.19-MariaDB-log",
            create_timestamp: 0,
            header_len: HEADER_LEN as u8,
            post_header_lens: &mariadb_1011_post_header_lens(),
            checksum_alg: Some(CHECKSUM_CRC32),
        })
    }

    /// The FDE body that describes this format, with the given creation time. Refuses a
    /// server version longer than its 50-byte field.
    pub fn to_fde(&self, create_timestamp: u32) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64 + self.post_header_lens.len());
        FormatDescription {
            binlog_version: self.binlog_version,
            server_version: self.server_version.as_bytes(),
            create_timestamp,
            header_len: self.header_len,
            post_header_lens: &self.post_header_lens,
            checksum_alg: self.checksum_alg,
        }
        .encode(&mut out)?;
        Ok(out)
    }

    /// Whether every event (but the FDE, see [`Format::fde_has_checksum`]) ends with a CRC32.
    pub fn has_checksum(&self) -> bool {
        self.checksum_alg == Some(CHECKSUM_CRC32)
    }

    /// Whether the FDE itself carries a 4-byte checksum trailer: always on checksum-aware
    /// servers, whatever the algorithm.
    pub fn fde_has_checksum(&self) -> bool {
        self.checksum_alg.is_some()
    }

    /// Whether this server leaves the unused high bits of a row image's null bitmap set
    /// (MariaDB, MySQL before 8.0) rather than clear (MySQL 8.0 and later).
    pub fn sets_unused_null_bits(&self) -> bool {
        self.flavor == Flavor::MariaDb || self.version < (8, 0, 0)
    }

    /// The post-header length the format gives an event type (0 when it lists none).
    pub fn post_header_len(&self, t: EventType) -> usize {
        usize::from(t.0)
            .checked_sub(1)
            .and_then(|i| self.post_header_lens.get(i))
            .map_or(0, |&n| usize::from(n))
    }

    /// Length of the table id in TABLE_MAP and rows events: 6 bytes, or 4 for the early
    /// 5.1 servers whose post-header for those events was 6 bytes long.
    pub fn table_id_len(&self, t: EventType) -> usize {
        if self.post_header_len(t) == 6 {
            4
        } else {
            6
        }
    }
}

/// Post-header lengths of a MySQL 8.0 FDE (types 1..=41).
const MYSQL_80_POST_HEADER_LENS: [u8; 41] = [
    0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 98, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0, 0, 10,
    10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0,
];

/// Post-header lengths of a MariaDB 10.11 FDE (types 1..=171).
fn mariadb_1011_post_header_lens() -> [u8; 171] {
    let mut a = [0u8; 171];
    let head: [u8; 41] = [
        56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 228, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0,
        0, 10, 10, 10, 0, 0, 0, 0, 0, 0, 10, 10, 10,
    ];
    a[..head.len()].copy_from_slice(&head);
    // 160.. : ANNOTATE_ROWS, BINLOG_CHECKPOINT, GTID, GTID_LIST, START_ENCRYPTION,
    // QUERY_COMPRESSED, and the six compressed rows events.
    let tail: [u8; 12] = [0, 4, 19, 4, 0, 13, 8, 8, 8, 10, 10, 10];
    a[159..171].copy_from_slice(&tail);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_split_and_awareness() {
        assert_eq!(split_version(b"5.6.1-m5-log\0\0"), (5, 6, 1));
        assert_eq!(split_version(b"10.11.19-MariaDB-log"), (10, 11, 19));
        assert_eq!(split_version(b"8.0"), (8, 0, 0));
        assert_eq!(split_version(b"x"), (0, 0, 0));
        assert!(!is_checksum_aware(b"5.6.0-log"));
        assert!(is_checksum_aware(b"5.6.1"));
        assert!(is_checksum_aware(b"5.3.0-MariaDB"));
        assert!(!is_checksum_aware(b"5.2.9-MariaDB"));
        assert!(!is_checksum_aware(b"5.1.63-google-debug-log"));
    }

    #[test]
    fn builtin_formats_look_like_the_servers() {
        let m = Format::mysql_80();
        assert_eq!(m.post_header_len(EventType::QUERY), 13);
        assert_eq!(m.post_header_len(EventType::FORMAT_DESCRIPTION), 98);
        assert_eq!(m.post_header_len(EventType::TABLE_MAP), 8);
        assert_eq!(m.flavor, Flavor::MySql);
        let d = Format::mariadb_1011();
        assert_eq!(d.post_header_len(EventType::FORMAT_DESCRIPTION), 228);
        assert_eq!(d.post_header_len(EventType::MARIADB_GTID), 19);
        assert_eq!(d.post_header_len(EventType::MARIADB_QUERY_COMPRESSED), 13);
        assert_eq!(d.flavor, Flavor::MariaDb);
        let body = d.to_fde(7).unwrap();
        let fde = FormatDescription::parse(&body, 0).unwrap();
        assert_eq!(Format::from_fde(&fde), d);
    }
}
