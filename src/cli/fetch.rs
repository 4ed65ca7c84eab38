//! `binlog-tool fetch`: a live server's binlogs copied into a directory as a replica reads
//! them, byte for byte, resumable, every event checked before it is written.
//!
//! The binlog knowledge (request packets, what each event of the dump means, the archive)
//! is the library's ([`binlog::fetch`]); this file connects, registers, asks for the dump,
//! reconnects, and reports. The protocol client is in `fetch/client.rs`, TLS in
//! `fetch/tls.rs`.

mod client;
mod tls;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog::fetch::archive::split_name;
use binlog::fetch::command::{
    binlog_dump, binlog_dump_gtid, register_replica, Registration, BINLOG_DUMP_NON_BLOCK,
    BINLOG_SEND_ANNOTATE_ROWS_EVENT, MARIADB_CAPABILITY_GTID,
};
use binlog::fetch::wire::{dump_packet, is_timeout, DumpPacket, DumpPacketError};
use binlog::fetch::{Archive, ArchiveEnd, Fed, FetchErrorKind, Follower, Resume, Sink};
use binlog::gtid_set::GtidSet;
use binlog::Flavor;
use serde_json::json;

use super::output::{CliResult, Failure};
use crate::cli::connection::{ConnSpec, ConnectionArgs, Endpoint};
use client::{Client, ClientError};
use tls::{SslMode, TlsOptions};

/// Copy a live server's binlogs into a directory, byte for byte, as a replica reads them.
///
/// To the server's current end, or (--stop-never) following it and reconnecting as needed;
/// resumes where the directory's archive ends (see --help for the details, and the exit
/// status).
#[derive(Debug, clap::Args)]
#[command(after_long_help = DETAILS, after_help = "See --help for resuming, checks, privileges and exit status.")]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// TLS over TCP: DISABLED, PREFERRED (if the server offers it; the default), REQUIRED,
    /// VERIFY_CA (against --ssl-ca), VERIFY_IDENTITY (also the host name).
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        default_value = "PREFERRED",
        ignore_case = true
    )]
    pub ssl_mode: SslMode,
    /// CA certificates (PEM) for VERIFY_CA and VERIFY_IDENTITY.
    #[arg(long, value_name = "FILE")]
    pub ssl_ca: Option<PathBuf>,
    /// Client certificate (PEM), with --ssl-key.
    #[arg(long, value_name = "FILE", requires = "ssl_key")]
    pub ssl_cert: Option<PathBuf>,
    /// Client private key (PEM), with --ssl-cert.
    #[arg(long, value_name = "FILE", requires = "ssl_cert")]
    pub ssl_key: Option<PathBuf>,
    /// The archive directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The first binlog to copy into an empty archive (default: the server's first); an
    /// archive that already holds it is resumed where it ends.
    #[arg(value_name = "FIRST_FILE")]
    pub first_file: Option<String>,
    /// Start an empty archive at the file holding this GTID position: MariaDB
    /// `domain-server-seq,...` (the replica's position), MySQL a GTID set already held.
    #[arg(long, value_name = "GTIDS", conflicts_with = "first_file")]
    pub gtid: Option<String>,
    /// Keep following the server after its current end; reconnect when the connection is
    /// lost or the server restarts.
    #[arg(long)]
    pub stop_never: bool,
    /// Server id to register with (default: one derived from this host and DIR, in the
    /// upper half of the range, so as not to collide with real replicas). Never 0 with
    /// --stop-never.
    #[arg(long, value_name = "N")]
    pub server_id: Option<u32>,
    /// Seconds between the server's heartbeats while it has nothing to send (0: none); a
    /// connection silent for twice as long and 10 s more is taken as lost.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub heartbeat: u32,
    /// Give up after this many failed reconnection attempts in a row (default: never with
    /// --stop-never, 0 without).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// What to print when done: a line of text, or one JSON object.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A line of text.
    Text,
    /// One JSON object.
    Json,
}

const DETAILS: &str = "\
Archive: DIR holds the server's files under the server's names, each identical byte for
byte to the server's (the file the server is still writing: a prefix of it, with the
in-use flag of its FORMAT_DESCRIPTION event set as the server's is), and
<basename>.index listing them as the server's index does, so `info --index`,
`verify --index`, `locate` and `cut` work on it. A file is complete when its ROTATE (or
STOP) arrives: then its in-use flag is cleared (the event's CRC32 covers the flag clear)
and it is fsynced; a file the server stopped writing by crashing is complete when the
next one starts, its flag left as the server leaves it (MariaDB: set; MySQL's recovery
clears it). DIR is locked while fetch runs.

Resuming: fetch starts where DIR's archive ends. A last file that ends in a partial event
(a kill or crash mid-write) is cut back to its last whole event, with a note. The dump
then restarts at that last event: the server must send the same FORMAT_DESCRIPTION and
the same event again, else (another server behind the address, RESET MASTER, a purged
file) fetch stops with exit status 2 naming the file and offset, and writes nothing.

Checks: every event's CRC32 is verified before it is written, and each must end where
the position chain says; artificial events and heartbeats of the protocol are not
written. A damaged event stops fetch (exit 2, offset named) with nothing of it written.

Connection: as snapshot (--host/--port/--socket/--user/--password, my.cnf [client],
MYSQL_PWD), plus TLS (--ssl-mode ...). Authentication: mysql_native_password,
caching_sha2_password (full authentication over TLS, a Unix socket, or RSA),
client_ed25519. The user needs REPLICATION SLAVE (MariaDB 10.5+: REPLICATION SLAVE or
BINLOG REPLAY), and for --stop-never after a server restart REPLICATION CLIENT (SHOW
BINARY LOGS). MariaDB gets @mariadb_slave_capability=4 and the ANNOTATE_ROWS flag, so
that it sends every event as it is in the file. Encrypted binlogs are refused (a dump
sends them decrypted).

Following (--stop-never): a lost connection or a server restart is retried with backoff
(1 s doubling to 30 s), one line on stderr per attempt, --retries N to give up; the dump
resumes exactly after the last event written. SIGINT/SIGTERM end the run after the event
being written: the archive is flushed and fsynced and fetch exits 0.

Output: a progress line on stderr when it is a terminal; at the end one line (or a JSON
object with --format json) on stdout.

Exit status: 0 done (end reached, or stopped by a signal); 2 an error (one line on stderr
naming the file and offset, or the server).

Example:
  binlog-tool fetch --host db1 --user repl --dir /backup/binlogs --stop-never";

fn msg(s: impl Into<String>) -> Failure {
    Failure::Message(s.into())
}

/// SIGINT, SIGTERM and SIGHUP set the returned flag (a second one ends the process).
fn watch_signals() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The default server id: a hash of this host and the archive directory, with the top bit
/// set (real replicas use small ids). The same archive keeps its id across restarts, so a
/// restarted fetch replaces its own stale dump thread rather than another replica's.
fn default_server_id(dir: &Path) -> u32 {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in hostname()
        .bytes()
        .chain([0])
        .chain(dir.to_string_lossy().bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    0x8000_0000 | ((h ^ (h >> 32)) as u32 & 0x7fff_ffff)
}

/// Holds an exclusive lock on DIR/.binlog-tool-fetch.lock while it lives.
struct DirLock(#[allow(dead_code)] std::fs::File);

fn lock_dir(dir: &Path) -> CliResult<DirLock> {
    let path = dir.join(".binlog-tool-fetch.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            msg(format!(
                "{}: cannot create the lock file: {e}",
                path.display()
            ))
        })?;
    rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(|_| {
        msg(format!(
            "{}: another binlog-tool fetch is writing this archive",
            dir.display()
        ))
    })?;
    Ok(DirLock(f))
}

/// Why a connection ended.
enum Ended {
    /// The server sent everything it has (non-blocking dump).
    End,
    /// A signal asked to stop.
    Signal,
}

/// Why a connection failed.
enum Stop {
    /// Another attempt may work.
    Lost(String),
    /// It will not: stop with this message.
    Fatal(String),
    /// SIGINT/SIGTERM while waiting for the server.
    Signal,
}

/// What the server is.
#[derive(Debug, Clone, Default)]
struct ServerInfo {
    flavor: Option<Flavor>,
    version: String,
    checksum_crc: bool,
    checksum_name: Option<String>,
}

/// Counters for the progress line and the summary.
struct Stats {
    started: Instant,
    events: u64,
    bytes: u64,
    files: Vec<String>,
    reconnects: u32,
    last_ts: u32,
    caught_up: bool,
    server_version: String,
    progress: Option<Progress>,
}

struct Progress {
    last_draw: Instant,
    window_start: Instant,
    window_events: u64,
    rate: f64,
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl Stats {
    fn tick(&mut self, file: &str, offset: u64, force: bool) {
        let Some(p) = &mut self.progress else { return };
        let now = Instant::now();
        if !force && now.duration_since(p.last_draw) < Duration::from_millis(250) {
            return;
        }
        let span = now.duration_since(p.window_start).as_secs_f64();
        if span >= 1.0 {
            p.rate = (self.events - p.window_events) as f64 / span;
            p.window_start = now;
            p.window_events = self.events;
        }
        p.last_draw = now;
        let behind = if self.caught_up || self.last_ts == 0 {
            "caught up".to_string()
        } else {
            let now_s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            format!("{} s behind", now_s.saturating_sub(u64::from(self.last_ts)))
        };
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r\x1b[2K{file}:{offset}  {} in {} events, {:.0} events/s, {behind}",
            human(self.bytes),
            self.events,
            p.rate
        );
        let _ = err.flush();
    }

    fn clear_line(&self) {
        if self.progress.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Records the file a dump starts in (for --gtid).
struct FirstFile(Option<String>);

impl Sink for FirstFile {
    fn begin(&mut self, file: &str) -> std::io::Result<()> {
        self.0 = Some(file.to_string());
        Ok(())
    }
    fn append(&mut self, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: bool) -> std::io::Result<()> {
        Ok(())
    }
}

/// The fixed settings of a run.
struct Run<'a> {
    args: &'a Args,
    spec: ConnSpec,
    tls: TlsOptions,
    server_id: u32,
    stop: Arc<AtomicBool>,
}

/// Runs `fetch`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    if args.stop_never && args.server_id == Some(0) {
        return Err(msg("--server-id 0 makes the server end the dump at its current end; --stop-never needs another id"));
    }
    if let Some(f) = &args.first_file {
        if split_name(f).is_none() || f.contains('/') {
            return Err(msg(format!(
                "FIRST_FILE {f:?} is not a binlog file name (like mysql-bin.000001)"
            )));
        }
    }
    let gtid = match &args.gtid {
        Some(g) => Some(GtidSet::parse(g).map_err(|e| msg(format!("--gtid: {e}")))?),
        None => None,
    };
    let spec = args.connection.resolve()?;
    let socket = matches!(spec.endpoint(), Endpoint::Socket(_));
    if socket && matches!(args.ssl_mode, SslMode::VerifyCa | SslMode::VerifyIdentity) {
        return Err(msg(
            "--ssl-mode VERIFY_CA/VERIFY_IDENTITY need a TCP connection (--host, --port)",
        ));
    }
    let tls = TlsOptions {
        mode: args.ssl_mode,
        ca: args.ssl_ca.clone(),
        cert: args.ssl_cert.clone(),
        key: args.ssl_key.clone(),
    };
    if !matches!(tls.mode, SslMode::Disabled) && !socket {
        // Reports a bad certificate file now rather than at the first connection.
        tls::client_config(&tls).map_err(msg)?;
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| msg(format!("{}: cannot create: {e}", args.dir.display())))?;
    let _lock = lock_dir(&args.dir)?;
    let mut archive = Archive::open(&args.dir).map_err(|e| msg(e.to_string()))?;
    for n in archive.notes() {
        eprintln!("binlog-tool: note: {n}");
    }
    let run = Run {
        args: &args,
        server_id: args
            .server_id
            .unwrap_or_else(|| default_server_id(&args.dir)),
        spec,
        tls,
        stop: watch_signals(),
    };
    let retries = args
        .retries
        .unwrap_or(if args.stop_never { u32::MAX } else { 0 });
    let mut stats = Stats {
        started: Instant::now(),
        events: 0,
        bytes: 0,
        files: Vec::new(),
        reconnects: 0,
        last_ts: 0,
        caught_up: false,
        server_version: String::new(),
        progress: std::io::stderr().is_terminal().then(|| Progress {
            last_draw: Instant::now(),
            window_start: Instant::now(),
            window_events: 0,
            rate: 0.0,
        }),
    };
    let mut gtid = gtid;
    let mut failures = 0u32;
    let outcome = loop {
        let before = stats.events;
        let r = session(&run, &mut archive, &mut stats, &mut gtid);
        match r {
            Ok(ended) => break Ok(ended),
            Err(Stop::Signal) => break Ok(Ended::Signal),
            Err(Stop::Fatal(m)) => break Err(m),
            Err(Stop::Lost(m)) => {
                if stats.events > before {
                    failures = 0;
                }
                failures += 1;
                if failures > retries {
                    break Err(if retries == 0 {
                        m
                    } else {
                        format!("giving up after {retries} attempts: {m}")
                    });
                }
                let wait = Duration::from_secs((1u64 << (failures - 1).min(5)).min(30));
                let of = if retries == u32::MAX {
                    String::new()
                } else {
                    format!(" of {retries}")
                };
                stats.clear_line();
                eprintln!(
                    "binlog-tool: {m}; reconnecting in {} s (attempt {failures}{of})",
                    wait.as_secs()
                );
                stats.reconnects += 1;
                let until = Instant::now() + wait;
                while Instant::now() < until && !run.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                if run.stop.load(Ordering::Relaxed) {
                    break Ok(Ended::Signal);
                }
            }
        }
    };
    stats.clear_line();
    let synced = archive.sync();
    let outcome = match (outcome, synced) {
        (Err(m), _) => return Err(msg(m)),
        (Ok(_), Err(e)) => {
            return Err(msg(format!(
                "{}: writing the archive: {e}",
                args.dir.display()
            )))
        }
        (Ok(o), Ok(())) => o,
    };
    report(&args, &run, &mut archive, &stats, &outcome)?;
    Ok(ExitCode::SUCCESS)
}

fn report(
    args: &Args,
    run: &Run,
    archive: &mut Archive,
    stats: &Stats,
    outcome: &Ended,
) -> CliResult<()> {
    let end = archive
        .end()
        .map_err(|e| msg(format!("{}: {e}", args.dir.display())))?;
    let (file, position, complete) = match &end {
        ArchiveEnd::Empty => (String::new(), 0, false),
        ArchiveEnd::Finished { file, .. } => {
            let len = std::fs::metadata(args.dir.join(file))
                .map(|m| m.len())
                .unwrap_or(0);
            (file.clone(), len, true)
        }
        ArchiveEnd::Open(r) => (r.file.clone(), r.archive_end(), false),
    };
    let stopped = match outcome {
        Ended::End => "end",
        Ended::Signal => "signal",
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => {
            let v = json!({
                "dir": args.dir.display().to_string(),
                "server": run.spec.target(),
                "server_version": stats.server_version,
                "server_id": run.server_id,
                "events": stats.events,
                "bytes": stats.bytes,
                "files": stats.files,
                "reconnects": stats.reconnects,
                "seconds": (stats.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
                "end": {"file": file, "position": position, "complete": complete},
                "stopped_by": stopped,
                "notes": archive.notes(),
            });
            writeln!(out, "{v}")?;
        }
        ReportFormat::Text => {
            let ends = if file.is_empty() {
                "the archive is empty".to_string()
            } else {
                format!(
                    "the archive ends at {file}:{position}{}",
                    if complete { " (complete)" } else { "" }
                )
            };
            writeln!(
                out,
                "fetched {} events ({}) into {}; {ends}{}",
                stats.events,
                human(stats.bytes),
                args.dir.display(),
                if stopped == "signal" {
                    "; stopped by a signal"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(())
}

/// Describes a client error for the step `what` (worded to precede "TARGET as USER"),
/// deciding whether to retry.
fn client_stop(run: &Run, what: &str, e: ClientError) -> Stop {
    if matches!(e, ClientError::Interrupted) {
        return Stop::Signal;
    }
    let hint = match &e {
        ClientError::Server(s)
            if what.starts_with("registering") && matches!(s.code, 1044 | 1045 | 1142 | 1227) =>
        {
            " (the user needs the REPLICATION SLAVE privilege)"
        }
        _ => "",
    };
    let text = format!(
        "{what} {} as {}: {e}{hint}",
        run.spec.target(),
        run.spec.user_name()
    );
    if e.transient() {
        Stop::Lost(text)
    } else {
        Stop::Fatal(text)
    }
}

fn server_info(run: &Run, c: &mut Client) -> Result<ServerInfo, ClientError> {
    let stop = &run.stop;
    let rows = c.query("SELECT @@version, @@version_comment", stop)?;
    let row = rows.into_iter().next().unwrap_or_default();
    let version = row.first().cloned().flatten().unwrap_or_default();
    let comment = row.get(1).cloned().flatten().unwrap_or_default();
    let flavor = if version.contains("MariaDB") || comment.contains("MariaDB") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    };
    // Servers older than checksums (MySQL 5.5) have no such variable.
    let checksum_name = match c.query("SELECT @@global.binlog_checksum", stop) {
        Ok(rows) => rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten()),
        Err(ClientError::Server(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(ServerInfo {
        flavor: Some(flavor),
        version,
        checksum_crc: checksum_name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("CRC32")),
        checksum_name,
    })
}

/// Connects, sets the session up as a replica's, and registers.
fn connect_replica(run: &Run, stats: &mut Stats) -> Result<(Client, ServerInfo), Stop> {
    let stop = &run.stop;
    let mut c = Client::connect(&run.spec, &run.tls, stop)
        .map_err(|e| client_stop(run, "cannot connect to", e))?;
    let info =
        server_info(run, &mut c).map_err(|e| client_stop(run, "reading the version of", e))?;
    stats.server_version = info.version.clone();
    let mut sets = Vec::new();
    if let Some(name) = &info.checksum_name {
        let quoted = name.replace('\'', "");
        sets.push(format!("@master_binlog_checksum = '{quoted}'"));
        if info.flavor == Some(Flavor::MySql) {
            sets.push(format!("@source_binlog_checksum = '{quoted}'"));
        }
    }
    if info.flavor == Some(Flavor::MariaDb) {
        sets.push(format!(
            "@mariadb_slave_capability = {MARIADB_CAPABILITY_GTID}"
        ));
    }
    if run.args.heartbeat > 0 {
        let ns = u64::from(run.args.heartbeat) * 1_000_000_000;
        sets.push(format!("@master_heartbeat_period = {ns}"));
        if info.flavor == Some(Flavor::MySql) {
            sets.push(format!("@source_heartbeat_period = {ns}"));
        }
    }
    if !sets.is_empty() {
        c.exec(&format!("SET {}", sets.join(", ")), stop)
            .map_err(|e| client_stop(run, "setting up the replication session on", e))?;
    }
    let reg = Registration {
        server_id: run.server_id,
        host: hostname(),
        ..Registration::default()
    };
    c.command(&register_replica(&reg), stop)
        .map_err(|e| client_stop(run, "registering as a replica with", e))?;
    Ok((c, info))
}

/// MariaDB and MySQL send the first file to hold what a GTID position lacks: ask, and read
/// its name from the dump's first event.
fn locate_gtid(run: &Run, stats: &mut Stats, set: &GtidSet) -> Result<String, Stop> {
    let stop = &run.stop;
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
            stop,
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
        binlog_dump_gtid(run.server_id, BINLOG_DUMP_NON_BLOCK, "", 4, set)
    };
    c.send(&request)
        .map_err(|e| client_stop(run, "asking for the binlog of", e))?;
    let mut follower = Follower::new(Resume::fresh(""), info.checksum_crc);
    let mut first = FirstFile(None);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Stop::Signal);
        }
        match c.read_dump_packet() {
            Ok(p) => match dump_packet(p) {
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
            },
            Err(e) if is_timeout(&e) && Instant::now() < deadline => {}
            Err(e) => return Err(Stop::Lost(format!("{}: {e}", run.spec.target()))),
        }
    }
}

/// The server's binlogs (SHOW BINARY LOGS).
fn server_binlogs(run: &Run, c: &mut Client) -> Result<Vec<String>, Stop> {
    let rows = c
        .query("SHOW BINARY LOGS", &run.stop)
        .map_err(|e| client_stop(run, "SHOW BINARY LOGS (REPLICATION CLIENT privilege) on", e))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}

/// One connection: from where the archive ends, as long as it lasts.
fn session(
    run: &Run,
    archive: &mut Archive,
    stats: &mut Stats,
    gtid: &mut Option<GtidSet>,
) -> Result<Ended, Stop> {
    let args = run.args;
    let stop = &run.stop;
    let dir = args.dir.display();
    let end = archive
        .end()
        .map_err(|e| Stop::Fatal(format!("{dir}: reading the archive: {e}")))?;
    // A GTID start is looked up once, on its own connection.
    let mut located = None;
    if matches!(end, ArchiveEnd::Empty) {
        if let Some(set) = gtid.as_ref() {
            located = Some(locate_gtid(run, stats, set)?);
        }
    }
    let (mut c, info) = connect_replica(run, stats)?;
    let resume = match end {
        ArchiveEnd::Empty => {
            let file = located
                .or_else(|| args.first_file.clone())
                .unwrap_or_default();
            *gtid = None;
            Resume::fresh(&file)
        }
        ArchiveEnd::Finished { file, next } => {
            let next = match next {
                Some(n) => n,
                None => {
                    // A STOP event: the server restarted; its next file has a higher number.
                    let (base, n) = split_name(&file).unwrap_or(("", 0));
                    server_binlogs(run, &mut c)?
                        .into_iter()
                        .filter(|f| split_name(f).is_some_and(|(b, m)| b == base && m > n))
                        .min_by_key(|f| split_name(f).map(|x| x.1))
                        .ok_or_else(|| {
                            Stop::Fatal(format!(
                                "{dir}/{file} ends with a STOP event and {} has no later binlog",
                                run.spec.target()
                            ))
                        })?
                }
            };
            Resume::fresh(&next)
        }
        ArchiveEnd::Open(r) => r,
    };
    // FIRST_FILE starts an empty archive; one the archive already holds is passed (the
    // same command line can run again), one past the archive's end would leave a gap.
    if let Some(f) = &args.first_file {
        let seq = |n: &str| split_name(n).map(|x| x.1);
        if !resume.file.is_empty() && f != &resume.file && seq(f) > seq(&resume.file) {
            return Err(Stop::Fatal(format!(
                "{dir} continues with {}: FIRST_FILE {f} would leave a gap in the archive",
                resume.file
            )));
        }
    }
    let mut flags = 0;
    if info.flavor == Some(Flavor::MariaDb) {
        flags |= BINLOG_SEND_ANNOTATE_ROWS_EVENT;
    }
    if !args.stop_never {
        flags |= BINLOG_DUMP_NON_BLOCK;
    }
    let request = binlog_dump(run.server_id, flags, &resume.file, resume.position).ok_or_else(|| {
        Stop::Fatal(format!(
            "{dir}/{}: cannot resume at offset {}: past 4 GiB, which COM_BINLOG_DUMP cannot ask for",
            resume.file, resume.position
        ))
    })?;
    let (start_file, start_pos) = (resume.file.clone(), resume.position);
    c.send(&request)
        .map_err(|e| client_stop(run, "asking for the binlog of", e))?;
    let mut follower = Follower::new(resume, info.checksum_crc);
    let liveness =
        (args.heartbeat > 0).then(|| Duration::from_secs(u64::from(args.heartbeat) * 2 + 10));
    let mut last_packet = Instant::now();
    let mut last_write = None::<Instant>;
    let mut current = String::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Ended::Signal);
        }
        if c.buffered() == 0 {
            // The next read may wait: hand what was written to the system first.
            archive.flush().map_err(|e| {
                Stop::Fatal(format!(
                    "{dir}/{}: writing the archive: {e}",
                    follower.file()
                ))
            })?;
        }
        match c.read_dump_packet() {
            Ok(p) => {
                last_packet = Instant::now();
                match dump_packet(p) {
                    Ok(DumpPacket::Event(ev)) => {
                        let fed = follower.feed(ev, archive).map_err(|e| {
                            let fatal = e.to_string();
                            match e.kind {
                                FetchErrorKind::Io(_) => Stop::Fatal(format!("{dir}/{fatal}")),
                                _ => Stop::Fatal(fatal),
                            }
                        })?;
                        match fed {
                            Fed::Appended(n) | Fed::Finished(n) => {
                                stats.events += 1;
                                stats.bytes += n;
                                stats.caught_up = false;
                                if ev.len() >= 4 {
                                    let ts = u32::from_le_bytes([ev[0], ev[1], ev[2], ev[3]]);
                                    if ts != 0 {
                                        stats.last_ts = ts;
                                    }
                                }
                                last_write = Some(last_packet);
                            }
                            Fed::Heartbeat => stats.caught_up = true,
                            Fed::Skipped => {}
                        }
                        if follower.file() != current {
                            current = follower.file().to_string();
                            if !stats.files.contains(&current) && !current.is_empty() {
                                stats.files.push(current.clone());
                            }
                        }
                        stats.tick(follower.file(), follower.offset(), false);
                    }
                    Ok(DumpPacket::End) if !args.stop_never => {
                        stats.caught_up = true;
                        return Ok(Ended::End);
                    }
                    Ok(DumpPacket::End) => {
                        // A blocking dump ends only when the server stops it (shutdown, KILL).
                        return Err(Stop::Lost(format!(
                            "{}: the server ended the dump at {}:{}",
                            run.spec.target(),
                            follower.file(),
                            follower.offset()
                        )));
                    }
                    Err(DumpPacketError::Server(e)) => {
                        let at = format!("{}:{}", follower.file(), follower.offset());
                        if e.code == 1236 && e.message.contains("first log file name") {
                            let ends = if follower.offset() > 4 {
                                format!("; the archive ends at {at}")
                            } else {
                                String::new()
                            };
                            return Err(Stop::Fatal(format!(
                                "{}: the server has no binlog {start_file} (purged, RESET MASTER, or another server){ends}: {e}",
                                run.spec.target()
                            )));
                        }
                        if e.code == 1236 && e.message.contains("impossible position") {
                            return Err(Stop::Fatal(format!(
                                "{start_file} at offset {start_pos}: the server's copy of that file is shorter than the archive's, so its history is not the archive's (RESET MASTER, or another server); nothing was written: {e}"
                            )));
                        }
                        if e.code == 1236 && e.message.contains("same server_uuid/server_id") {
                            return Err(Stop::Fatal(format!(
                                "{}: another replica registered with server id {} (--server-id): {e}",
                                run.spec.target(),
                                run.server_id
                            )));
                        }
                        if e.code == 1236 && !follower.in_stream() {
                            // The server cannot read its file from where the archive ends.
                            return Err(Stop::Fatal(format!(
                                "{start_file} at offset {start_pos}: the server cannot send its binlog from where the archive ends, so its history is not the archive's (RESET MASTER, or another server); nothing was written: {e}"
                            )));
                        }
                        let text = format!("{}: the dump stopped at {at}: {e}", run.spec.target());
                        return Err(if client::transient_server_error(e.code) {
                            Stop::Lost(text)
                        } else {
                            Stop::Fatal(text)
                        });
                    }
                    Err(e) => return Err(Stop::Fatal(format!("{}: {e}", run.spec.target()))),
                }
            }
            Err(e) if is_timeout(&e) => {
                let now = Instant::now();
                if c.buffered() == 0 && now.duration_since(last_packet) > Duration::from_millis(500)
                {
                    stats.caught_up = true;
                }
                // Idle for a second after writing: make it durable.
                if last_write.is_some_and(|t| now.duration_since(t) > Duration::from_secs(1)) {
                    archive.sync().map_err(|e| {
                        Stop::Fatal(format!(
                            "{dir}/{}: writing the archive: {e}",
                            follower.file()
                        ))
                    })?;
                    last_write = None;
                }
                stats.tick(follower.file(), follower.offset(), false);
                if let Some(limit) = liveness {
                    if now.duration_since(last_packet) > limit {
                        return Err(Stop::Lost(format!(
                            "{}: nothing from the server for {} s (not even a heartbeat) at {}:{}",
                            run.spec.target(),
                            limit.as_secs(),
                            follower.file(),
                            follower.offset()
                        )));
                    }
                }
            }
            Err(e) => {
                let what = match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => {
                        "the server closed the connection".to_string()
                    }
                    _ => e.to_string(),
                };
                let text = format!(
                    "{}: connection lost at {}:{} ({what})",
                    run.spec.target(),
                    follower.file(),
                    follower.offset()
                );
                return Err(if matches!(e.kind(), std::io::ErrorKind::InvalidData) {
                    Stop::Fatal(text)
                } else {
                    Stop::Lost(text)
                });
            }
        }
    }
}
