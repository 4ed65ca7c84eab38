//! QUERY_EVENT (and MariaDB's QUERY_COMPRESSED_EVENT) with its status variables.

use std::borrow::Cow;

use crate::bytes::{put_len_bytes, put_uint, put_uint_checked, Cursor, Short};
use crate::compress;
use crate::error::{Error, Result};
use crate::event::header::EventType;

/// Length of the v4 QUERY post-header.
pub const QUERY_POST_HEADER_LEN: usize = 13;

/// A QUERY event: a statement, the database it ran in and its session context.
#[derive(Clone, PartialEq, Eq)]
pub struct Query<'a> {
    /// Whether the statement text is MariaDB-compressed (type 165).
    pub compressed: bool,
    /// Connection id of the session.
    pub thread_id: u32,
    /// Seconds the statement took.
    pub exec_time: u32,
    /// Error code the statement ended with (0 mostly).
    pub error_code: u16,
    /// Post-header bytes past the fields above (none from any known server).
    pub post_header_extra: &'a [u8],
    /// The raw status-variable block; [`Query::status_vars`] decodes it.
    /// `None` in the v1/v3 layout, which has no status variables.
    pub status: Option<&'a [u8]>,
    /// Current database.
    pub db: &'a [u8],
    /// The statement text as stored (compressed when `compressed`).
    pub query: &'a [u8],
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("compressed", &self.compressed)
            .field("thread_id", &self.thread_id)
            .field("exec_time", &self.exec_time)
            .field("error_code", &self.error_code)
            .field("db", &String::from_utf8_lossy(self.db))
            .field("query", &Short(self.query))
            .finish()
    }
}

impl<'a> Query<'a> {
    /// Parses the body of a QUERY (2) or QUERY_COMPRESSED (165) event whose format gives
    /// the post-header `post_header_len` bytes (13 in v4, 11 in v1/v3).
    pub fn parse(
        t: EventType,
        body: &'a [u8],
        offset: u64,
        post_header_len: usize,
    ) -> Result<Query<'a>> {
        let mut c = Cursor::new(body, offset);
        let thread_id = c.u32()?;
        let exec_time = c.u32()?;
        let db_len = usize::from(c.u8()?);
        let error_code = c.u16()?;
        let (status_len, extra) = if post_header_len >= QUERY_POST_HEADER_LEN {
            let n = usize::from(c.u16()?);
            (
                Some(n),
                c.take(post_header_len - QUERY_POST_HEADER_LEN, "query post-header")?,
            )
        } else {
            (None, &[][..])
        };
        let status = match status_len {
            Some(n) => Some(c.take(n, "query status variables")?),
            None => None,
        };
        let db = c.take(db_len, "query database name")?;
        if c.u8()? != 0 {
            return Err(c.malformed("database name not NUL-terminated"));
        }
        Ok(Query {
            compressed: t == EventType::MARIADB_QUERY_COMPRESSED,
            thread_id,
            exec_time,
            error_code,
            post_header_extra: extra,
            status,
            db,
            query: c.rest(),
        })
    }

    /// Appends the body. Refuses a database name over 255 bytes or status variables over
    /// 65535 (their length fields).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.thread_id.to_le_bytes());
        out.extend_from_slice(&self.exec_time.to_le_bytes());
        put_uint_checked(out, self.db.len() as u64, 1, "database name length")?;
        out.extend_from_slice(&self.error_code.to_le_bytes());
        if let Some(s) = self.status {
            put_uint_checked(out, s.len() as u64, 2, "status variables length")?;
            out.extend_from_slice(self.post_header_extra);
            out.extend_from_slice(s);
        }
        out.extend_from_slice(self.db);
        out.push(0);
        out.extend_from_slice(self.query);
        Ok(())
    }

    /// The statement text, decompressed when the event is compressed.
    pub fn text(&self) -> Result<Cow<'a, [u8]>> {
        if self.compressed {
            compress::mariadb_uncompress(self.query, 0).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(self.query))
        }
    }

    /// The status variables, decoded in order. Decoding stops with an
    /// [`StatusVar::Unknown`] at the first code it does not know (as the server does: the
    /// layout of what follows is unknown).
    pub fn status_vars(&self) -> StatusVars<'a> {
        StatusVars {
            c: Cursor::new(self.status.unwrap_or(&[]), 0),
            done: false,
        }
    }

    /// Whether the statement is `BEGIN` (or `START TRANSACTION` as MariaDB logs it in some
    /// paths), which opens a transaction in the binlog.
    pub fn is_begin(&self) -> bool {
        let q = trim(self.query);
        q.eq_ignore_ascii_case(b"BEGIN") || q.eq_ignore_ascii_case(b"START TRANSACTION")
    }

    /// Whether the statement is `COMMIT`.
    pub fn is_commit(&self) -> bool {
        trim(self.query).eq_ignore_ascii_case(b"COMMIT")
    }

    /// Whether the statement is `ROLLBACK` (a non-transactional change rolled back).
    pub fn is_rollback(&self) -> bool {
        trim(self.query).eq_ignore_ascii_case(b"ROLLBACK")
    }

    /// Whether the statement starts with `XA ` (XA START/END/COMMIT/ROLLBACK).
    pub fn is_xa(&self) -> bool {
        let q = trim(self.query);
        q.len() > 3 && q[..3].eq_ignore_ascii_case(b"XA ")
    }
}

fn trim(q: &[u8]) -> &[u8] {
    let start = q
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(q.len());
    let end = q
        .iter()
        .rposition(|b| !b.is_ascii_whitespace() && *b != b';')
        .map_or(start, |e| e + 1);
    q.get(start..end.max(start)).unwrap_or(&[])
}

/// One status variable of a QUERY event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusVar<'a> {
    /// 0: `Q_FLAGS2_CODE`, session option bits.
    Flags2(u32),
    /// 1: `Q_SQL_MODE_CODE`.
    SqlMode(u64),
    /// 2: `Q_CATALOG_CODE` (MySQL 5.0.0–5.0.3): length, name, NUL.
    Catalog(&'a [u8]),
    /// 3: `Q_AUTO_INCREMENT`: increment and offset.
    AutoIncrement {
        /// auto_increment_increment.
        increment: u16,
        /// auto_increment_offset.
        offset: u16,
    },
    /// 4: `Q_CHARSET_CODE`: character_set_client, collation_connection, collation_server.
    Charset {
        /// character_set_client (a collation number).
        client: u16,
        /// collation_connection.
        connection: u16,
        /// collation_server.
        server: u16,
    },
    /// 5: `Q_TIME_ZONE_CODE`.
    TimeZone(&'a [u8]),
    /// 6: `Q_CATALOG_NZ_CODE`.
    CatalogNz(&'a [u8]),
    /// 7: `Q_LC_TIME_NAMES_CODE`.
    LcTimeNames(u16),
    /// 8: `Q_CHARSET_DATABASE_CODE`.
    CharsetDatabase(u16),
    /// 9: `Q_TABLE_MAP_FOR_UPDATE_CODE`.
    TableMapForUpdate(u64),
    /// 10: `Q_MASTER_DATA_WRITTEN_CODE`.
    MasterDataWritten(u32),
    /// 11: `Q_INVOKER`: user and host.
    Invoker {
        /// User name.
        user: &'a [u8],
        /// Host name.
        host: &'a [u8],
    },
    /// 12: `Q_UPDATED_DB_NAMES`: the databases a statement changed, or `None` when there
    /// were too many to list (count 254).
    UpdatedDbNames(Option<Vec<&'a [u8]>>),
    /// 13: `Q_MICROSECONDS`: the microsecond part of the statement's start time.
    Microseconds(u32),
    /// 16: `Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP`.
    ExplicitDefaultsForTimestamp(u8),
    /// 17: `Q_DDL_LOGGED_WITH_XID`.
    DdlLoggedWithXid(u64),
    /// 18: `Q_DEFAULT_COLLATION_FOR_UTF8MB4`.
    DefaultCollationForUtf8mb4(u16),
    /// 19: `Q_SQL_REQUIRE_PRIMARY_KEY`.
    SqlRequirePrimaryKey(u8),
    /// 20: `Q_DEFAULT_TABLE_ENCRYPTION`.
    DefaultTableEncryption(u8),
    /// 128: MariaDB `Q_HRNOW`: microseconds of the statement's start time (3 bytes).
    HrNow(u32),
    /// 129: MariaDB `Q_XID`: the XID of a DDL statement.
    Xid(u64),
    /// 130: MariaDB `Q_GTID_FLAGS3`: the GTID extra flags, and with a COMMIT or ROLLBACK
    /// ALTER flag (0x04, 0x08) the START ALTER's seq_no.
    GtidFlags3 {
        /// The flags.
        flags: u8,
        /// The START ALTER's seq_no.
        start_alter_seq_no: Option<u64>,
    },
    /// 131: MariaDB `Q_CHARACTER_SET_COLLATIONS` (11.2+): a count byte, then that many
    /// pairs of 2-byte collation numbers (character set default, chosen collation).
    CharacterSetCollations(Vec<(u16, u16)>),
    /// A code this library does not know, and every byte after it.
    Unknown {
        /// The code.
        code: u8,
        /// The bytes after the code, undecoded.
        rest: &'a [u8],
    },
}

/// Iterator over [`StatusVar`]s.
#[derive(Debug, Clone)]
pub struct StatusVars<'a> {
    c: Cursor<'a>,
    done: bool,
}

impl<'a> StatusVars<'a> {
    fn next_var(&mut self) -> Result<StatusVar<'a>> {
        let c = &mut self.c;
        let code = c.u8()?;
        Ok(match code {
            0 => StatusVar::Flags2(c.u32()?),
            1 => StatusVar::SqlMode(c.u64()?),
            2 => {
                let v = c.u8_bytes("catalog")?;
                c.skip(1, "catalog NUL")?;
                StatusVar::Catalog(v)
            }
            3 => StatusVar::AutoIncrement {
                increment: c.u16()?,
                offset: c.u16()?,
            },
            4 => StatusVar::Charset {
                client: c.u16()?,
                connection: c.u16()?,
                server: c.u16()?,
            },
            5 => StatusVar::TimeZone(c.u8_bytes("time zone")?),
            6 => StatusVar::CatalogNz(c.u8_bytes("catalog")?),
            7 => StatusVar::LcTimeNames(c.u16()?),
            8 => StatusVar::CharsetDatabase(c.u16()?),
            9 => StatusVar::TableMapForUpdate(c.u64()?),
            10 => StatusVar::MasterDataWritten(c.u32()?),
            11 => StatusVar::Invoker {
                user: c.u8_bytes("invoker user")?,
                host: c.u8_bytes("invoker host")?,
            },
            12 => {
                let n = c.u8()?;
                if n == 254 {
                    StatusVar::UpdatedDbNames(None)
                } else {
                    let mut names = Vec::with_capacity(usize::from(n));
                    for _ in 0..n {
                        names.push(c.cstr("updated db name")?);
                    }
                    StatusVar::UpdatedDbNames(Some(names))
                }
            }
            13 => StatusVar::Microseconds(c.u24()?),
            16 => StatusVar::ExplicitDefaultsForTimestamp(c.u8()?),
            17 => StatusVar::DdlLoggedWithXid(c.u64()?),
            18 => StatusVar::DefaultCollationForUtf8mb4(c.u16()?),
            19 => StatusVar::SqlRequirePrimaryKey(c.u8()?),
            20 => StatusVar::DefaultTableEncryption(c.u8()?),
            128 => StatusVar::HrNow(c.u24()?),
            129 => StatusVar::Xid(c.u64()?),
            130 => {
                let flags = c.u8()?;
                let start_alter_seq_no = if flags & 0x0c != 0 {
                    Some(c.u64()?)
                } else {
                    None
                };
                StatusVar::GtidFlags3 {
                    flags,
                    start_alter_seq_no,
                }
            }
            131 => {
                let n = c.u8()?;
                let mut v = Vec::with_capacity(usize::from(n));
                for _ in 0..n {
                    v.push((c.u16()?, c.u16()?));
                }
                StatusVar::CharacterSetCollations(v)
            }
            _ => {
                self.done = true;
                StatusVar::Unknown {
                    code,
                    rest: c.rest(),
                }
            }
        })
    }
}

impl<'a> Iterator for StatusVars<'a> {
    type Item = Result<StatusVar<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.c.is_empty() {
            return None;
        }
        let r = self.next_var();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

impl StatusVar<'_> {
    /// Appends the code and value. Refuses a value its field cannot hold.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let lp = |out: &mut Vec<u8>, b: &[u8]| put_len_bytes(out, b, 1, "status variable length");
        match self {
            StatusVar::Flags2(v) => {
                out.push(0);
                put_uint(out, u64::from(*v), 4);
            }
            StatusVar::SqlMode(v) => {
                out.push(1);
                put_uint(out, *v, 8);
            }
            StatusVar::Catalog(v) => {
                out.push(2);
                lp(out, v)?;
                out.push(0);
            }
            StatusVar::AutoIncrement { increment, offset } => {
                out.push(3);
                put_uint(out, u64::from(*increment), 2);
                put_uint(out, u64::from(*offset), 2);
            }
            StatusVar::Charset {
                client,
                connection,
                server,
            } => {
                out.push(4);
                for v in [client, connection, server] {
                    put_uint(out, u64::from(*v), 2);
                }
            }
            StatusVar::TimeZone(v) => {
                out.push(5);
                lp(out, v)?;
            }
            StatusVar::CatalogNz(v) => {
                out.push(6);
                lp(out, v)?;
            }
            StatusVar::LcTimeNames(v) => {
                out.push(7);
                put_uint(out, u64::from(*v), 2);
            }
            StatusVar::CharsetDatabase(v) => {
                out.push(8);
                put_uint(out, u64::from(*v), 2);
            }
            StatusVar::TableMapForUpdate(v) => {
                out.push(9);
                put_uint(out, *v, 8);
            }
            StatusVar::MasterDataWritten(v) => {
                out.push(10);
                put_uint(out, u64::from(*v), 4);
            }
            StatusVar::Invoker { user, host } => {
                out.push(11);
                lp(out, user)?;
                lp(out, host)?;
            }
            StatusVar::UpdatedDbNames(names) => {
                out.push(12);
                match names {
                    None => out.push(254),
                    Some(names) => {
                        // 254 stands for "too many to list".
                        if names.len() >= 254 {
                            return Err(Error::too_long(
                                "updated database names",
                                names.len() as u64,
                                253,
                            ));
                        }
                        out.push(names.len() as u8);
                        for n in names {
                            if n.contains(&0) {
                                return Err(Error::malformed(
                                    0,
                                    "a NUL in an updated database name",
                                ));
                            }
                            out.extend_from_slice(n);
                            out.push(0);
                        }
                    }
                }
            }
            StatusVar::Microseconds(v) => {
                out.push(13);
                put_uint_checked(out, u64::from(*v), 3, "microseconds")?;
            }
            StatusVar::ExplicitDefaultsForTimestamp(v) => out.extend_from_slice(&[16, *v]),
            StatusVar::DdlLoggedWithXid(v) => {
                out.push(17);
                put_uint(out, *v, 8);
            }
            StatusVar::DefaultCollationForUtf8mb4(v) => {
                out.push(18);
                put_uint(out, u64::from(*v), 2);
            }
            StatusVar::SqlRequirePrimaryKey(v) => out.extend_from_slice(&[19, *v]),
            StatusVar::DefaultTableEncryption(v) => out.extend_from_slice(&[20, *v]),
            StatusVar::HrNow(v) => {
                out.push(128);
                put_uint_checked(out, u64::from(*v), 3, "microseconds")?;
            }
            StatusVar::Xid(v) => {
                out.push(129);
                put_uint(out, *v, 8);
            }
            StatusVar::GtidFlags3 {
                flags,
                start_alter_seq_no,
            } => {
                // The seq_no is there exactly when a COMMIT or ROLLBACK ALTER flag says so.
                if (flags & 0x0c != 0) != start_alter_seq_no.is_some() {
                    return Err(Error::malformed(
                        0,
                        format!("GTID flags {flags:#04x} and the START ALTER seq_no disagree"),
                    ));
                }
                out.extend_from_slice(&[130, *flags]);
                if let Some(s) = start_alter_seq_no {
                    put_uint(out, *s, 8);
                }
            }
            StatusVar::CharacterSetCollations(v) => {
                out.push(131);
                put_uint_checked(out, v.len() as u64, 1, "character set collations")?;
                for (a, b) in v {
                    put_uint(out, u64::from(*a), 2);
                    put_uint(out, u64::from(*b), 2);
                }
            }
            StatusVar::Unknown { code, rest } => {
                out.push(*code);
                out.extend_from_slice(rest);
            }
        }
        Ok(())
    }
}

/// Encodes a list of status variables into a status block.
pub fn encode_status_vars(vars: &[StatusVar], out: &mut Vec<u8>) -> Result<()> {
    for v in vars {
        v.encode(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_vars_round_trip() {
        let vars = vec![
            StatusVar::Flags2(0),
            StatusVar::SqlMode(0x5000_0000_0000_0000),
            StatusVar::CatalogNz(b"std"),
            StatusVar::Charset {
                client: 33,
                connection: 33,
                server: 8,
            },
            StatusVar::UpdatedDbNames(Some(vec![b"a", b"bc"])),
            StatusVar::UpdatedDbNames(None),
            StatusVar::Invoker {
                user: b"root",
                host: b"localhost",
            },
            StatusVar::HrNow(123_456),
            StatusVar::Xid(99),
        ];
        let mut block = Vec::new();
        encode_status_vars(&vars, &mut block).unwrap();
        let q = Query {
            compressed: false,
            thread_id: 1,
            exec_time: 0,
            error_code: 0,
            post_header_extra: &[],
            status: Some(&block),
            db: b"test",
            query: b"BEGIN",
        };
        let back: Vec<_> = q.status_vars().collect::<Result<_>>().unwrap();
        assert_eq!(back, vars);
        let mut body = Vec::new();
        q.encode(&mut body).unwrap();
        let q2 = Query::parse(EventType::QUERY, &body, 0, 13).unwrap();
        assert_eq!(q2, q);
        assert!(q2.is_begin());
    }

    /// A database name or a status block longer than its length field is refused, not
    /// cut to the field's width (which would encode an event that does not parse).
    #[test]
    fn oversized_fields_are_refused() {
        let db = vec![b'd'; 300];
        let status = vec![0u8; 70_000];
        let base = Query {
            compressed: false,
            thread_id: 1,
            exec_time: 0,
            error_code: 0,
            post_header_extra: &[],
            status: Some(&[]),
            db: &db[..255],
            query: b"BEGIN",
        };
        let mut out = Vec::new();
        base.encode(&mut out).unwrap();
        assert_eq!(Query::parse(EventType::QUERY, &out, 0, 13).unwrap(), base);
        for q in [
            Query {
                db: &db,
                ..base.clone()
            },
            Query {
                status: Some(&status),
                ..base.clone()
            },
        ] {
            let e = q.encode(&mut Vec::new()).unwrap_err();
            assert!(matches!(e.kind(), crate::ErrorKind::TooLong { .. }), "{e}");
        }
        let long = vec![b'z'; 256];
        for v in [
            StatusVar::TimeZone(&long),
            StatusVar::Invoker {
                user: b"u",
                host: &long,
            },
            StatusVar::HrNow(1 << 24),
            StatusVar::UpdatedDbNames(Some(vec![&b"a"[..]; 254])),
            StatusVar::CharacterSetCollations(vec![(1, 2); 256]),
        ] {
            assert!(v.encode(&mut Vec::new()).is_err(), "{v:?}");
        }
    }

    #[test]
    fn unknown_code_stops_decoding() {
        let block = [0u8, 0, 0, 0, 0, 200, 1, 2, 3];
        let q = Query {
            compressed: false,
            thread_id: 0,
            exec_time: 0,
            error_code: 0,
            post_header_extra: &[],
            status: Some(&block),
            db: b"",
            query: b"",
        };
        let v: Vec<_> = q.status_vars().collect::<Result<_>>().unwrap();
        assert_eq!(
            v[1],
            StatusVar::Unknown {
                code: 200,
                rest: &[1, 2, 3]
            }
        );
    }
}
