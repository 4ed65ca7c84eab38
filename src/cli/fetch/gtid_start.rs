//! `--gtid`: the file an empty archive starts in. MariaDB (`@slave_connect_state`) and
//! MySQL (COM_BINLOG_DUMP_GTID) start a dump at the first file holding what a GTID position
//! lacks; a dump of its own, on its own connection, reads that file's name from the first
//! event.

use std::io;
use std::time::{Duration, Instant};

use binlog::fetch::command::{
    binlog_dump, binlog_dump_gtid, BINLOG_DUMP_NON_BLOCK, BINLOG_SEND_ANNOTATE_ROWS_EVENT,
};
use binlog::fetch::wire::{dump_packet, is_timeout, DumpPacket};
use binlog::fetch::{Follower, Resume, Sink};
use binlog::gtid_set::GtidSet;
use binlog::Flavor;

use super::replica::{client_stop, connect_replica};
use super::report::Stats;
use super::{Run, Stop};

/// How long the server may take to find the file.
const LOCATE_TIMEOUT: Duration = Duration::from_secs(120);

/// A sink that only records the file a dump starts in.
struct FirstFile(Option<String>);

impl Sink for FirstFile {
    fn begin(&mut self, file: &str) -> io::Result<()> {
        self.0 = Some(file.to_string());
        Ok(())
    }
    fn append(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: bool) -> io::Result<()> {
        Ok(())
    }
    fn holds(&mut self, _: u64, _: &[u8]) -> io::Result<bool> {
        Ok(false)
    }
}

/// The file the server starts a dump for the GTID position `set` in.
pub fn locate_gtid(run: &Run, stats: &mut Stats, set: &GtidSet) -> Result<String, Stop> {
    let (mut c, info) = connect_replica(run, stats)?;
    let request = if info.flavor == Some(Flavor::MariaDb) {
        let pos: Vec<String> = set
            .mariadb_positions()
            .iter()
            .map(|(d, s, n)| format!("{d}-{s}-{n}"))
            .collect();
        if pos.is_empty() {
            return Err(Stop::Fatal(
                "--gtid: a MariaDB server takes domain-server-seq positions".into(),
            ));
        }
        c.exec(
            &format!(
                "SET @slave_connect_state = '{}', @slave_gtid_strict_mode = 0, @slave_gtid_ignore_duplicates = 0",
                pos.join(",")
            ),
        )
        .map_err(|e| client_stop(run, "setting the GTID position on", e))?;
        binlog_dump(
            run.server_id,
            BINLOG_DUMP_NON_BLOCK | BINLOG_SEND_ANNOTATE_ROWS_EVENT,
            "",
            4,
        )
        .unwrap_or_default()
    } else {
        if set.mysql_ranges().is_empty() {
            return Err(Stop::Fatal(
                "--gtid: a MySQL server takes a GTID set (uuid:1-5,...)".into(),
            ));
        }
        binlog_dump_gtid(run.server_id, BINLOG_DUMP_NON_BLOCK, "", 4, set).ok_or_else(|| {
            Stop::Fatal("--gtid: the GTID set is too large for COM_BINLOG_DUMP_GTID".into())
        })?
    };
    c.send(&request)
        .map_err(|e| client_stop(run, "asking for the binlog of", e))?;
    let mut follower = Follower::new(Resume::fresh(""), info.checksum_crc);
    let mut first = FirstFile(None);
    let deadline = Instant::now() + LOCATE_TIMEOUT;
    loop {
        if run.stopped() {
            return Err(Stop::Signal);
        }
        let packet = match c.read_dump_packet() {
            Ok(p) => p,
            Err(e) if is_timeout(&e) && Instant::now() < deadline => continue,
            Err(e) => return Err(Stop::Lost(format!("{}: {e}", run.spec.target()))),
        };
        match dump_packet(packet) {
            Ok(DumpPacket::Event(ev)) => {
                follower
                    .feed(ev, &mut first)
                    .map_err(|e| Stop::Fatal(e.to_string()))?;
                if let Some(f) = first.0 {
                    return Ok(f);
                }
            }
            Ok(DumpPacket::End) => {
                return Err(Stop::Fatal(format!(
                    "{}: the server has no binlog for --gtid",
                    run.spec.target()
                )))
            }
            Err(e) => {
                return Err(Stop::Fatal(format!(
                    "{}: cannot start from --gtid {}: {e}",
                    run.spec.target(),
                    run.args.gtid.as_deref().unwrap_or("")
                )))
            }
        }
    }
}
