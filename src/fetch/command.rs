//! The requests a replica sends: COM_REGISTER_SLAVE, COM_BINLOG_DUMP (a file and position)
//! and MySQL's COM_BINLOG_DUMP_GTID (a GTID set already held), as payloads for
//! [`Wire::write_packet`](super::wire::Wire::write_packet).

use crate::event::gtid::{GtidSetEntry, PreviousGtids};
use crate::gtid_set::GtidSet;

/// COM_REGISTER_SLAVE.
pub const COM_REGISTER_SLAVE: u8 = 0x15;
/// COM_BINLOG_DUMP.
pub const COM_BINLOG_DUMP: u8 = 0x12;
/// COM_BINLOG_DUMP_GTID (MySQL 5.6 and later).
pub const COM_BINLOG_DUMP_GTID: u8 = 0x1e;

/// Dump flag: stop with an EOF packet at the end of the last file instead of waiting.
pub const BINLOG_DUMP_NON_BLOCK: u16 = 0x01;
/// MariaDB dump flag: send ANNOTATE_ROWS events (without it a replica that tolerates holes
/// gets none, and the stream is no longer the file).
pub const BINLOG_SEND_ANNOTATE_ROWS_EVENT: u16 = 0x02;
/// MySQL COM_BINLOG_DUMP_GTID flag: the request carries a GTID set.
pub const BINLOG_THROUGH_GTID: u16 = 0x04;

/// MariaDB's `@mariadb_slave_capability` for a replica that understands GTID events
/// (MARIA_SLAVE_CAPABILITY_GTID): the server then sends every event as it is in the file.
pub const MARIADB_CAPABILITY_GTID: u8 = 4;

/// How a replica describes itself in COM_REGISTER_SLAVE (shown by SHOW SLAVE HOSTS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    /// The replica's server id.
    pub server_id: u32,
    /// Host name to report.
    pub host: String,
    /// User to report (usually empty).
    pub user: String,
    /// Password to report (usually empty).
    pub password: String,
    /// Port to report.
    pub port: u16,
}

fn push_short_str(out: &mut Vec<u8>, s: &str) {
    // One length byte: longer values are cut, as the server would refuse them.
    let b = &s.as_bytes()[..s.len().min(255)];
    out.push(b.len() as u8);
    out.extend_from_slice(b);
}

/// COM_REGISTER_SLAVE: server id, host, user, password, port, rank and source id (both 0).
pub fn register_replica(r: &Registration) -> Vec<u8> {
    let mut out = vec![COM_REGISTER_SLAVE];
    out.extend_from_slice(&r.server_id.to_le_bytes());
    push_short_str(&mut out, &r.host);
    push_short_str(&mut out, &r.user);
    push_short_str(&mut out, &r.password);
    out.extend_from_slice(&r.port.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // replication rank
    out.extend_from_slice(&0u32.to_le_bytes()); // source id
    out
}

/// COM_BINLOG_DUMP from `file` at `position`. The position field has 32 bits; `None` when
/// `position` does not fit.
pub fn binlog_dump(server_id: u32, flags: u16, file: &str, position: u64) -> Option<Vec<u8>> {
    let pos = u32::try_from(position).ok()?;
    let mut out = vec![COM_BINLOG_DUMP];
    out.extend_from_slice(&pos.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&server_id.to_le_bytes());
    out.extend_from_slice(file.as_bytes());
    Some(out)
}

/// The binary form of a MySQL GTID set (the "SID block" of COM_BINLOG_DUMP_GTID, the same
/// layout as a PREVIOUS_GTIDS event body): per source (sorted by UUID, then tag) its
/// intervals, half-open. The tagged layout (MySQL 8.3+) is used only when a tag is present.
/// MariaDB GTIDs in `set` are ignored (MariaDB has no such command).
pub fn encode_gtid_set(set: &GtidSet) -> Vec<u8> {
    let ranges = set.mysql_ranges();
    let tagged = ranges.iter().any(|((_, tag), _)| !tag.is_empty());
    let entries: Vec<GtidSetEntry<'_>> = ranges
        .iter()
        .map(|((sid, tag), rs)| GtidSetEntry {
            sid: *sid,
            tag: (!tag.is_empty()).then_some(tag.as_bytes()),
            intervals: rs.iter().map(|&(a, b)| (a, b.saturating_add(1))).collect(),
        })
        .collect();
    let mut out = Vec::new();
    // A set of any size fits: counts are 8 bytes, tags carry varlen lengths.
    let _ = PreviousGtids { tagged, entries }.encode(&mut out);
    out
}

/// COM_BINLOG_DUMP_GTID: the server sends every transaction not in `executed`, from the
/// first file that has one (`file` empty and `position` 4 let it choose). `None` when the
/// file name or the set's encoding is too long for its 32-bit length field.
pub fn binlog_dump_gtid(
    server_id: u32,
    flags: u16,
    file: &str,
    position: u64,
    executed: &GtidSet,
) -> Option<Vec<u8>> {
    let data = encode_gtid_set(executed);
    let mut out = vec![COM_BINLOG_DUMP_GTID];
    out.extend_from_slice(&(flags | BINLOG_THROUGH_GTID).to_le_bytes());
    out.extend_from_slice(&server_id.to_le_bytes());
    out.extend_from_slice(&u32::try_from(file.len()).ok()?.to_le_bytes());
    out.extend_from_slice(file.as_bytes());
    out.extend_from_slice(&position.to_le_bytes());
    out.extend_from_slice(&u32::try_from(data.len()).ok()?.to_le_bytes());
    out.extend_from_slice(&data);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let h: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        h.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// The COM_BINLOG_DUMP payload `mariadb-binlog --read-from-remote-server
    /// --connection-server-id=1234 --start-position=4 mariadb-bin.000001` (MariaDB 10.11)
    /// sent, captured through a logging proxy: position 4, flags 0x0002 (annotate rows),
    /// server id 1234, then the name.
    #[test]
    fn binlog_dump_matches_mariadb_binlog() {
        let captured = hex("12 04000000 0200 d2040000 6d6172696164622d62696e2e303030303031");
        assert_eq!(
            binlog_dump(
                1234,
                BINLOG_SEND_ANNOTATE_ROWS_EVENT,
                "mariadb-bin.000001",
                4
            )
            .unwrap(),
            captured
        );
        assert!(binlog_dump(1, 0, "f.000001", 1 << 32).is_none());
    }

    /// COM_REGISTER_SLAVE as a MariaDB 10.11 replica's IO thread sends it (report_host
    /// `replica-1`, report_port 3307, server id 2), captured the same way.
    #[test]
    fn register_replica_matches_a_replica() {
        let captured = hex("15 02000000 09 7265706c6963612d31 00 00 eb0c 00000000 00000000");
        let r = Registration {
            server_id: 2,
            host: "replica-1".into(),
            port: 3307,
            ..Registration::default()
        };
        assert_eq!(register_replica(&r), captured);
    }

    /// COM_BINLOG_DUMP_GTID for `3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7` (MySQL's
    /// documentation example source): flags BINLOG_THROUGH_GTID, server id 42, no file,
    /// position 4, then the SID block: one source, two intervals [1,6) and [7,8).
    #[test]
    fn binlog_dump_gtid_layout() {
        let set = GtidSet::parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:7:1-5").unwrap();
        let got = binlog_dump_gtid(42, 0, "", 4, &set).unwrap();
        let expect = hex(concat!(
            "1e 0400 2a000000 00000000 0400000000000000 40000000",
            "0100000000000000",
            "3e11fa4771ca11e19e33c80aa9429562",
            "0200000000000000",
            "0100000000000000 0600000000000000",
            "0700000000000000 0800000000000000",
        ));
        assert_eq!(got, expect);
        // The block is what a PREVIOUS_GTIDS event body holds: our parser reads it back.
        let block = &got[got.len() - 0x40..];
        let back = PreviousGtids::parse(block, 0).unwrap();
        assert_eq!(back.to_text(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7");
    }

    /// Tagged GTIDs (MySQL 8.3+): the count word carries the format (1) in its top and
    /// bottom bytes, and each source its tag as a length-prefixed string.
    #[test]
    fn tagged_gtid_set_layout() {
        let set = GtidSet::parse(
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2,3e11fa47-71ca-11e1-9e33-c80aa9429562:tk:1",
        )
        .unwrap();
        let got = encode_gtid_set(&set);
        let expect = hex(concat!(
            "0102000000000001",
            "3e11fa4771ca11e19e33c80aa9429562 00",
            "0100000000000000 0100000000000000 0300000000000000",
            "3e11fa4771ca11e19e33c80aa9429562 04 746b",
            "0100000000000000 0100000000000000 0200000000000000",
        ));
        assert_eq!(got, expect);
        let back = PreviousGtids::parse(&got, 0).unwrap();
        assert!(back.tagged);
        assert_eq!(back.entries.len(), 2);
    }
}
