//! One connection's dump: where it resumes, the request, each packet the server sends, and
//! what to do while it sends nothing (make what was written durable, tell a dead connection
//! from an idle one).

use std::io;
use std::time::{Duration, Instant};

use binlog::fetch::archive::split_name;
use binlog::fetch::command::{binlog_dump, BINLOG_DUMP_NON_BLOCK, BINLOG_SEND_ANNOTATE_ROWS_EVENT};
use binlog::fetch::wire::{dump_packet, is_timeout, DumpPacket, DumpPacketError, ServerError};
use binlog::fetch::{Archive, ArchiveEnd, FetchErrorKind, Follower, Resume};
use binlog::gtid_set::GtidSet;
use binlog::Flavor;

use super::client::{self, Client};
use super::gtid_start::locate_gtid;
use super::replica::{client_stop, connect_replica, server_binlogs, ServerInfo};
use super::report::Stats;
use super::{Ended, Run, Stop};

/// Where an empty archive starts.
pub enum Start {
    /// At this file (FIRST_FILE, or the one a `--gtid` position was found in); `None`: the
    /// server's first.
    File(Option<String>),
    /// At the file the server finds this GTID position in (looked up once).
    Gtid(GtidSet),
}

/// MariaDB's error for a dump replaced by another replica's with the same server id.
const ER_SLAVE_SAME_ID: u16 = 4052;

/// Idle this long after writing, the archive is fsynced.
const SYNC_WHEN_IDLE: Duration = Duration::from_secs(1);
/// Nothing buffered and nothing received for this long: the server has sent all it has.
const CAUGHT_UP_AFTER: Duration = Duration::from_millis(500);

/// One connection: from where the archive ends, as long as it lasts.
pub fn session(
    run: &Run,
    archive: &mut Archive,
    stats: &mut Stats,
    start: &mut Start,
) -> Result<Ended, Stop> {
    let dir = run.args.dir.display();
    let end = archive
        .end()
        .map_err(|e| Stop::Fatal(format!("{dir}: reading the archive: {e}")))?;
    let first = match (&end, &*start) {
        (ArchiveEnd::Empty, Start::Gtid(set)) => {
            let file = locate_gtid(run, stats, set)?;
            // Kept for the next attempt, should this one fail before the file begins.
            *start = Start::File(Some(file.clone()));
            file
        }
        (_, Start::File(f)) => f.clone().unwrap_or_default(),
        (_, Start::Gtid(_)) => String::new(),
    };
    let (mut c, info) = connect_replica(run, stats)?;
    let resume = resume_point(run, &mut c, end, &first)?;
    check_first_file(run, &resume)?;
    let request = dump_request(run, &info, &resume)?;
    c.send(&request)
        .map_err(|e| client_stop(run, "asking for the binlog of", e))?;
    let mut dump = Dump::new(run, resume, info.checksum_crc);
    loop {
        if run.stopped() {
            return Ok(Ended::Signal);
        }
        if c.buffered() == 0 {
            // The next read may wait: hand what was written to the system first.
            archive.flush().map_err(|e| dump.write_failed(e))?;
        }
        match c.read_dump_packet() {
            Ok(p) => {
                if let Some(ended) = dump.packet(p, archive, stats)? {
                    return Ok(ended);
                }
            }
            Err(e) if is_timeout(&e) => dump.idle(c.buffered(), archive, stats)?,
            Err(e) => return Err(dump.lost(e)),
        }
    }
}

/// Where the dump starts: in the archive's open file at its last event, at the file after
/// a complete one, or (an empty archive) at `first` (empty: the server's first file).
fn resume_point(run: &Run, c: &mut Client, end: ArchiveEnd, first: &str) -> Result<Resume, Stop> {
    match end {
        ArchiveEnd::Empty => Ok(Resume::fresh(first)),
        ArchiveEnd::Open(r) => Ok(r),
        ArchiveEnd::Finished {
            next: Some(next), ..
        } => Ok(Resume::fresh(&next)),
        ArchiveEnd::Finished { file, next: None } => {
            // A STOP event: the server restarted; its next file has a higher number.
            let (base, n) = split_name(&file).unwrap_or(("", 0));
            let next = server_binlogs(run, c)?
                .into_iter()
                .filter(|f| split_name(f).is_some_and(|(b, m)| b == base && m > n))
                .min_by_key(|f| split_name(f).map(|x| x.1))
                .ok_or_else(|| {
                    Stop::Fatal(format!(
                        "{}/{file} ends with a STOP event and {} has no later binlog",
                        run.args.dir.display(),
                        run.spec.target()
                    ))
                })?;
            Ok(Resume::fresh(&next))
        }
    }
}

/// FIRST_FILE starts an empty archive; one the archive already holds is passed (the same
/// command line can run again), one past the archive's end would leave a gap.
fn check_first_file(run: &Run, resume: &Resume) -> Result<(), Stop> {
    let Some(f) = &run.args.first_file else {
        return Ok(());
    };
    let seq = |n: &str| split_name(n).map(|x| x.1);
    if !resume.file.is_empty() && f != &resume.file && seq(f) > seq(&resume.file) {
        return Err(Stop::Fatal(format!(
            "{} continues with {}: FIRST_FILE {f} would leave a gap in the archive",
            run.args.dir.display(),
            resume.file
        )));
    }
    Ok(())
}

/// COM_BINLOG_DUMP from `resume`: blocking with --stop-never, and on MariaDB with every
/// event as it is in the file.
fn dump_request(run: &Run, info: &ServerInfo, resume: &Resume) -> Result<Vec<u8>, Stop> {
    let mut flags = 0;
    if info.flavor == Some(Flavor::MariaDb) {
        flags |= BINLOG_SEND_ANNOTATE_ROWS_EVENT;
    }
    if !run.args.stop_never {
        flags |= BINLOG_DUMP_NON_BLOCK;
    }
    binlog_dump(run.server_id, flags, &resume.file, resume.position).ok_or_else(|| {
        Stop::Fatal(format!(
            "{}/{}: cannot resume at offset {}: past 4 GiB, which COM_BINLOG_DUMP cannot ask for",
            run.args.dir.display(),
            resume.file,
            resume.position
        ))
    })
}

/// A dump in progress.
struct Dump<'r, 'a> {
    run: &'r Run<'a>,
    follower: Follower,
    /// Where the dump was asked to start (for messages).
    start_file: String,
    start_pos: u64,
    /// Silence longer than this means the connection is dead (with heartbeats on).
    liveness: Option<Duration>,
    last_packet: Instant,
    /// When something was last written that is not fsynced yet.
    last_write: Option<Instant>,
}

impl<'r, 'a> Dump<'r, 'a> {
    fn new(run: &'r Run<'a>, resume: Resume, checksum_crc: bool) -> Dump<'r, 'a> {
        let heartbeat = u64::from(run.args.heartbeat);
        Dump {
            run,
            start_file: resume.file.clone(),
            start_pos: resume.position,
            follower: Follower::new(resume, checksum_crc),
            liveness: (heartbeat > 0).then(|| Duration::from_secs(heartbeat * 2 + 10)),
            last_packet: Instant::now(),
            last_write: None,
        }
    }

    /// `file:offset` where the archive's current file ends.
    fn at(&self) -> String {
        format!("{}:{}", self.follower.file(), self.follower.offset())
    }

    fn write_failed(&self, e: io::Error) -> Stop {
        Stop::Fatal(format!(
            "{}/{}: writing the archive: {e}",
            self.run.args.dir.display(),
            self.follower.file()
        ))
    }

    /// One packet of the dump; `Some` when the dump is over.
    fn packet(
        &mut self,
        p: &[u8],
        archive: &mut Archive,
        stats: &mut Stats,
    ) -> Result<Option<Ended>, Stop> {
        self.last_packet = Instant::now();
        let target = self.run.spec.target();
        match dump_packet(p) {
            Ok(DumpPacket::Event(ev)) => {
                self.event(ev, archive, stats)?;
                Ok(None)
            }
            Ok(DumpPacket::End) if !self.run.args.stop_never => {
                stats.caught_up = true;
                Ok(Some(Ended::End))
            }
            // A blocking dump ends only when the server stops it (shutdown, KILL).
            Ok(DumpPacket::End) => Err(Stop::Lost(format!(
                "{target}: the server ended the dump at {}",
                self.at()
            ))),
            Err(DumpPacketError::Server(e)) => Err(self.server_error(e)),
            Err(e) => Err(Stop::Fatal(format!("{target}: {e}"))),
        }
    }

    /// An event: checked and written (or skipped) by the follower, counted.
    fn event(&mut self, ev: &[u8], archive: &mut Archive, stats: &mut Stats) -> Result<(), Stop> {
        let fed = self.follower.feed(ev, archive).map_err(|e| {
            let fatal = e.to_string();
            match e.kind {
                FetchErrorKind::Io(_) => {
                    Stop::Fatal(format!("{}/{fatal}", self.run.args.dir.display()))
                }
                _ => Stop::Fatal(fatal),
            }
        })?;
        if matches!(
            fed,
            binlog::fetch::Fed::Appended(_) | binlog::fetch::Fed::Finished(_)
        ) {
            self.last_write = Some(self.last_packet);
        }
        stats.record(fed, ev, self.follower.file());
        stats.tick(self.follower.file(), self.follower.offset(), false);
        Ok(())
    }

    /// The server ended the dump with an error: what it means for the archive.
    fn server_error(&self, e: ServerError) -> Stop {
        let target = self.run.spec.target();
        let (start_file, start_pos) = (&self.start_file, self.start_pos);
        let at = self.at();
        if e.code == 1236 && e.message.contains("first log file name") {
            let ends = if self.follower.offset() > 4 {
                format!("; the archive ends at {at}")
            } else {
                String::new()
            };
            return Stop::Fatal(format!(
                "{target}: the server has no binlog {start_file} (purged, RESET MASTER, or another server){ends}: {e}"
            ));
        }
        if e.code == 1236 && e.message.contains("impossible position") {
            return Stop::Fatal(format!(
                "{start_file} at offset {start_pos}: the server's copy of that file is shorter than the archive's, so its history is not the archive's (RESET MASTER, or another server); nothing was written: {e}"
            ));
        }
        // MySQL sends 1236 with this text, MariaDB 4052 (ER_SLAVE_SAME_ID), to the dump
        // that a newer one with the same id replaces: taking the id back would in turn
        // drop the other, so stop.
        if e.code == ER_SLAVE_SAME_ID || e.message.contains("same server_uuid/server_id") {
            return Stop::Fatal(format!(
                "{target}: another replica registered with server id {} and the server dropped this dump (--server-id chooses another id): {e}",
                self.run.server_id
            ));
        }
        if e.code == 1236 && !self.follower.in_stream() {
            // The server cannot read its file from where the archive ends.
            return Stop::Fatal(format!(
                "{start_file} at offset {start_pos}: the server cannot send its binlog from where the archive ends, so its history is not the archive's (RESET MASTER, or another server); nothing was written: {e}"
            ));
        }
        let text = format!("{target}: the dump stopped at {at}: {e}");
        if client::transient_server_error(e.code) {
            Stop::Lost(text)
        } else {
            Stop::Fatal(text)
        }
    }

    /// Nothing arrived for a poll interval: fsync after a second of quiet, redraw the
    /// progress line, and give up on a connection silent for longer than heartbeats allow.
    fn idle(
        &mut self,
        buffered: usize,
        archive: &mut Archive,
        stats: &mut Stats,
    ) -> Result<(), Stop> {
        let now = Instant::now();
        let quiet = now.duration_since(self.last_packet);
        if buffered == 0 && quiet > CAUGHT_UP_AFTER {
            stats.caught_up = true;
        }
        if self
            .last_write
            .is_some_and(|t| now.duration_since(t) > SYNC_WHEN_IDLE)
        {
            archive.sync().map_err(|e| self.write_failed(e))?;
            self.last_write = None;
        }
        stats.tick(self.follower.file(), self.follower.offset(), false);
        match self.liveness {
            Some(limit) if quiet > limit => Err(Stop::Lost(format!(
                "{}: nothing from the server for {} s (not even a heartbeat) at {}",
                self.run.spec.target(),
                limit.as_secs(),
                self.at()
            ))),
            _ => Ok(()),
        }
    }

    /// The connection failed while reading.
    fn lost(&self, e: io::Error) -> Stop {
        let what = match e.kind() {
            io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
            _ => e.to_string(),
        };
        let text = format!(
            "{}: connection lost at {} ({what})",
            self.run.spec.target(),
            self.at()
        );
        if e.kind() == io::ErrorKind::InvalidData {
            Stop::Fatal(text)
        } else {
            Stop::Lost(text)
        }
    }
}
