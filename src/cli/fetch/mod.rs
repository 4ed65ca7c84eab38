//! `binlog-tool fetch`: a live server's binlogs copied into a directory as a replica reads
//! them, byte for byte, resumable, every event checked before it is written.
//!
//! The binlog knowledge (request packets, what each event of the dump means, the archive)
//! is the library's ([`binlog::fetch`]). Here: the arguments and the run with its
//! reconnections (this file), one connection's dump (`session`), connecting and
//! registering as a replica (`replica`), finding where a `--gtid` starts (`gtid_start`),
//! the progress line and the summary (`report`), the archive's lock (`lock`), the
//! protocol client (`client`) and TLS (`tls`).

mod auth;
mod client;
mod gtid_start;
mod lock;
mod replica;
mod report;
mod session;
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog::fetch::archive::split_name;
use binlog::fetch::Archive;
use binlog::gtid_set::GtidSet;

use super::output::{CliResult, Failure};
use super::signals;
use crate::cli::connection::{ConnSpec, ConnectionArgs, Endpoint};
use report::Stats;
use session::Start;
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
caching_sha2_password (full authentication over TLS or a Unix socket only: as the mysql
client without --get-server-public-key, fetch does not ask for the server's RSA key),
client_ed25519. The user needs REPLICATION SLAVE (MariaDB 10.5+: REPLICATION SLAVE or
BINLOG REPLAY), and for --stop-never after a server restart REPLICATION CLIENT (SHOW
BINARY LOGS). MariaDB gets @mariadb_slave_capability=4 and the ANNOTATE_ROWS flag, so
that it sends every event as it is in the file. Encrypted binlogs are refused (a dump
sends them decrypted).

Server id: a replica registering with an id the server already has makes it drop the
other's dump. fetch refuses an id that SHOW SLAVE HOSTS lists for another replica (when
the user may list them), and stops (exit 2) when the server drops its dump for another
registration with its id, rather than take the id back. The default id is derived from
this host and DIR, so that a restarted fetch replaces its own stale dump.

Following (--stop-never): a lost connection or a server restart is retried with backoff
(1 s doubling to 30 s), one line on stderr per attempt, --retries N to give up; the dump
resumes exactly after the last event written.

Signals: SIGINT/SIGTERM stop fetch between two events, or while an event is on its way
(nothing of it is written): the archive is flushed and fsynced and fetch exits 0. A
second signal ends it at once (status 130); the next run cuts any partial event.

Output: a progress line on stderr when it is a terminal; at the end one line (or a JSON
object with --format json) on stdout.

Exit status: 0 done (end reached, or stopped by a signal); 2 an error (one line on stderr
naming the file and offset, or the server).

Example:
  binlog-tool fetch --host db1 --user repl --dir /backup/binlogs --stop-never";

fn msg(s: impl Into<String>) -> Failure {
    Failure::Message(s.into())
}

/// How a run ended well.
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

/// The fixed settings of a run.
struct Run<'a> {
    args: &'a Args,
    spec: ConnSpec,
    tls: TlsOptions,
    server_id: u32,
    stop: Arc<AtomicBool>,
}

impl Run<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Runs `fetch`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let start = check_args(&args)?;
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
    let _lock = lock::lock_dir(&args.dir)?;
    let mut archive = Archive::open(&args.dir).map_err(|e| msg(e.to_string()))?;
    for n in archive.notes() {
        crate::say!("binlog-tool: note: {n}");
    }
    let run = Run {
        args: &args,
        server_id: args
            .server_id
            .unwrap_or_else(|| replica::default_server_id(&args.dir)),
        spec,
        tls,
        stop: signals::watch(),
    };
    let mut stats = Stats::new();
    let outcome = follow(&run, &mut archive, &mut stats, start);
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
    report::summary(&run, &mut archive, &stats, &outcome)?;
    Ok(ExitCode::SUCCESS)
}

/// The checks of the arguments alone; where an empty archive starts.
fn check_args(args: &Args) -> CliResult<Start> {
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
    match &args.gtid {
        Some(g) => Ok(Start::Gtid(
            GtidSet::parse(g).map_err(|e| msg(format!("--gtid: {e}")))?,
        )),
        None => Ok(Start::File(args.first_file.clone())),
    }
}

/// Connection after connection until the end, a signal, an error that another attempt
/// will not fix, or `--retries` failed attempts in a row.
fn follow(
    run: &Run,
    archive: &mut Archive,
    stats: &mut Stats,
    mut start: Start,
) -> Result<Ended, String> {
    let args = run.args;
    let retries = args
        .retries
        .unwrap_or(if args.stop_never { u32::MAX } else { 0 });
    let mut failures = 0u32;
    loop {
        let before = stats.events;
        let lost = match session::session(run, archive, stats, &mut start) {
            Ok(ended) => return Ok(ended),
            Err(Stop::Signal) => return Ok(Ended::Signal),
            Err(Stop::Fatal(m)) => return Err(m),
            Err(Stop::Lost(m)) => m,
        };
        if stats.events > before {
            failures = 0;
        }
        failures += 1;
        if failures > retries {
            return Err(if retries == 0 {
                lost
            } else {
                format!("giving up after {retries} attempts: {lost}")
            });
        }
        let wait = Duration::from_secs((1u64 << (failures - 1).min(5)).min(30));
        let of = if retries == u32::MAX {
            String::new()
        } else {
            format!(" of {retries}")
        };
        stats.clear_line();
        crate::say!(
            "binlog-tool: {lost}; reconnecting in {} s (attempt {failures}{of})",
            wait.as_secs()
        );
        stats.reconnects += 1;
        let until = Instant::now() + wait;
        while Instant::now() < until && !run.stopped() {
            std::thread::sleep(Duration::from_millis(100));
        }
        if run.stopped() {
            return Ok(Ended::Signal);
        }
    }
}
