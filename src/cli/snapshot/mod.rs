//! `binlog-tool snapshot`: the current contents of tables, read in one consistent snapshot,
//! written as a binlog of TABLE_MAP and WRITE_ROWS events.
//!
//! The binlog knowledge (types, metadata, row images, events) is the library's
//! ([`binlog::snapshot`]); this module does the database side, step by step: the tables
//! ([`catalog`]), the server and sessions ([`server`]), replication control ([`replica`]),
//! the snapshot and its coordinates ([`coordinates`]), reading in parallel ([`read`],
//! [`spool`]), writing the binlog ([`mod@write`]), and the report ([`report`]).

pub(crate) mod catalog;
mod coordinates;
mod progress;
pub(crate) mod read;
mod replica;
mod report;
pub(crate) mod server;
mod spool;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use binlog::snapshot::TableLayout;
use binlog::Flavor;
use mysql::Conn;

use super::connection::{describe, first, number, text, ConnSpec, ConnectionArgs};
use super::output::{CliResult, Failure};
use super::signals;
use super::size::parse_size;
use catalog::{schema_statements, Chosen, Selection};
use coordinates::{coordinates_statement, open_snapshots};
use read::{plan, PIECE_ROWS};
use replica::{Channel, Replication};
use report::{print_report, Report};
use server::{setup_session, Server};

/// Write the current contents of a server's tables, read in one consistent snapshot, as a binlog.
///
/// TABLE_MAP and WRITE_ROWS events, for CDC pipelines and new replicas that start from
/// binlogs. The source is only read (see --help for the details, and the exit status).
#[derive(Debug, clap::Args)]
#[command(after_long_help = DETAILS, after_help = "See --help for consistency, replication, types and output.")]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only these databases (comma-separated).
    #[arg(long, value_name = "DB,...", value_delimiter = ',')]
    pub db: Vec<String>,
    /// Only these tables: `t` (in every selected database) or `db.t`, comma-separated.
    #[arg(long, value_name = "TABLE,...", value_delimiter = ',')]
    pub table: Vec<String>,
    /// Leave out these databases or `db.table`s (comma-separated). System schemas are
    /// always left out.
    #[arg(long, value_name = "DB,...", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Stop a replica's SQL thread while the snapshot is taken (the default).
    #[arg(long, overrides_with = "no_stop_slave")]
    pub stop_slave: bool,
    /// Leave replication running.
    #[arg(long, overrides_with = "stop_slave")]
    pub no_stop_slave: bool,
    /// Start the SQL thread again once the snapshot is taken (default: leave it stopped,
    /// so that the recorded replica position stays current).
    #[arg(long, overrides_with = "no_start_slave")]
    pub start_slave: bool,
    /// Leave a stopped SQL thread stopped (the default).
    #[arg(long, overrides_with = "start_slave")]
    pub no_start_slave: bool,
    /// Begin with CREATE DATABASE IF NOT EXISTS and CREATE TABLE statements, so that the
    /// file alone rebuilds the tables.
    #[arg(long)]
    pub with_schema: bool,
    /// Most rows in one rows event (0: only the size limit applies).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rows_per_event: usize,
    /// Largest rows event, as the server's binlog_row_event_max_size (a bigger row gets an
    /// event of its own). Suffixes K, M.
    #[arg(long, value_name = "SIZE", default_value = "8K", value_parser = parse_size)]
    pub max_event_size: u64,
    /// Rows in one transaction (a transaction also ends at 64 MiB of rows).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rows_per_txn: u64,
    /// How long FLUSH TABLES WITH READ LOCK may wait for running statements and table
    /// locks before the snapshot gives up (while it waits, the server holds back writes).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub lock_wait_timeout: u64,
    /// Connections reading tables (and pieces of big InnoDB tables) in parallel.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Header time of every event, in seconds since the epoch (default: the server's time
    /// when the snapshot was taken). A fixed time makes the output reproducible.
    #[arg(long, value_name = "SECONDS")]
    pub timestamp: Option<u32>,
    /// What to print when done: text lines, or one JSON object.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Where to write the binlog (`-` for standard output). It appears only once complete.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Lines of text.
    Text,
    /// One JSON object.
    Json,
}

/// What `snapshot --help` says after the options.
const DETAILS: &str = "\
Consistency: every connection reads inside one snapshot (START TRANSACTION WITH
CONSISTENT SNAPSHOT, REPEATABLE READ). With one connection on MariaDB no lock is taken:
the binlog position comes with the snapshot (Binlog_snapshot_file/position) and its GTID
position from BINLOG_GTID_POS(). With several connections, or on MySQL, a brief
FLUSH TABLES WITH READ LOCK (RELOAD privilege; it waits --lock-wait-timeout at most for
running statements) is held while the snapshots open and the coordinates are read
(MariaDB: binlog_snapshot status and @@gtid_binlog_pos; MySQL: SHOW MASTER STATUS /
SHOW BINARY LOG STATUS with Executed_Gtid_Set). Non-transactional tables (MyISAM,
Aria) are read without a lock, as mariadb-dump --single-transaction reads them.

The coordinates are printed, and written at the start of the file as a QUERY event
  SET @binlog_tool_snapshot = '{\"file\":...,\"position\":...,\"gtid\":...}'
which, replayed, sets that user variable. Replaying the source's binlog from them onto
the restored tables continues where the snapshot ends.

Replication: on a replica the SQL threads are stopped before the snapshot (unless
--no-stop-slave) and their position on their own source is recorded too; with
--start-slave they run again as soon as the snapshot is open. Whatever fails, and on
SIGINT, SIGTERM or SIGHUP (a second one ends the process at once), the threads that were
running before run again, and nothing is left at -o.

Output: the file starts with a FORMAT_DESCRIPTION event of the source's flavor and
version. Each table is written as transactions of --rows-per-txn rows: MariaDB: BEGIN,
TABLE_MAP, WRITE_ROWS_V1..., XID (no GTID events: the server that applies the file gives
each transaction a GTID of its own, so it works with gtid_strict_mode); MySQL:
ANONYMOUS_GTID, BEGIN, TABLE_MAP, WRITE_ROWS_V2..., XID (apply it to a server with
gtid_mode=ON through mysqlbinlog --skip-gtids). Foreign key checks are off for the rows and
the statements, so tables load in any order; sql_mode NO_AUTO_VALUE_ON_ZERO keeps zeros
in AUTO_INCREMENT columns. Tables come in a stable order (database, table), each read in
primary key order when it is InnoDB; the output does not depend on --threads (with
--timestamp it is identical byte for byte).

Types: every column is encoded as the server logs it with binlog_row_metadata=FULL (the
TABLE_MAP carries names, signedness, character sets, ENUM/SET members, geometry types,
the primary key). Values are read exactly over the binary protocol: floats as their
bits, TIMESTAMPs in UTC, strings as stored bytes. MariaDB 5.3-format TIME/DATETIME/
TIMESTAMP columns with fractional seconds (mysql56_temporal_format=OFF) are written in
the current format, with a note. On MySQL, JSON is re-encoded from its text form:
opaque scalars (DATE, TIME, DECIMAL values inside a document) become strings or numbers.
ENUM/SET members outside the Basic Multilingual Plane reach the TABLE_MAP as '?', as the
server's own catalog (and SHOW CREATE TABLE) keeps them. Refused: system-versioned
tables (--skip them), MariaDB COMPRESSED columns. Sequences and views are left out.
Connections are unencrypted (Unix socket or plain TCP).

Memory: rows are streamed; pieces read ahead of the writer wait in memory up to 8 MiB
each, then in an unlinked temporary file (TMPDIR).

Exit status: 0 success; 2 an error (one line on stderr); 130, 143, 129 stopped by
SIGINT, SIGTERM, SIGHUP.

Example:
  binlog-tool snapshot --db shop --with-schema -o shop.bin
  mariadb-binlog shop.bin | mariadb";

fn msg(s: impl Into<String>) -> Failure {
    Failure::Message(s.into())
}

fn check(interrupted: &AtomicBool) -> CliResult<()> {
    if interrupted.load(Ordering::Relaxed) {
        Err(msg("interrupted"))
    } else {
        Ok(())
    }
}

/// Runs `snapshot`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let started = Instant::now();
    // SIGINT, SIGTERM and SIGHUP: the run stops at its next check and cleans up as after
    // any failure, then exits 128 + the signal (a second signal ends it at once).
    let interrupted = signals::watch();
    if args.max_event_size == 0 || args.max_event_size > (1 << 30) {
        return Err(msg("--max-event-size must be between 1 byte and 1G"));
    }
    let spec = args.connection.resolve()?;
    let mut ctl = spec.connect()?;
    check(&interrupted)?;
    let server = Server::read(&mut ctl)?;
    setup_session(&mut ctl, &server, false)?;
    let selection = Selection {
        dbs: args.db.clone(),
        tables: args.table.clone(),
        skip: args.skip.clone(),
    };
    let (chosen, mut notes) = catalog::choose(&mut ctl, &selection)?;

    let stop = !args.no_stop_slave;
    let mut replication = if stop {
        Replication::inspect(&mut ctl, &server)?
    } else {
        Replication::default()
    };
    check(&interrupted)?;
    if stop {
        replication.stop(&mut ctl)?;
    }
    let run = Run {
        args: &args,
        spec: &spec,
        server: &server,
        chosen: &chosen,
        interrupted: &interrupted,
        started,
    };
    let result = run.snapshot(&mut ctl, &mut replication, &mut notes);
    // Whatever happened, what we stopped runs again unless the user wants it stopped and
    // the snapshot succeeded.
    let restart_now = result.is_err() || args.start_slave;
    let restarted = if restart_now && replication.has_stopped() {
        replication.restart(Some(&mut ctl), &spec)?;
        true
    } else {
        false
    };
    let (mut report, print_to_stderr) = result?;
    report.sql_threads_restarted |= restarted;
    report.notes = notes;
    print_report(&args, &server, &report, print_to_stderr)?;
    Ok(ExitCode::SUCCESS)
}

/// What the steps of a run share.
struct Run<'a> {
    args: &'a Args,
    spec: &'a ConnSpec,
    server: &'a Server,
    chosen: &'a [Chosen],
    interrupted: &'a Arc<AtomicBool>,
    started: Instant,
}

impl Run<'_> {
    /// The snapshot proper, once the tables are chosen and replication is stopped: opens
    /// the workers' snapshots, describes the tables, reads and writes them. Returns the
    /// report, and whether it goes to stderr (the binlog being on stdout).
    fn snapshot(
        &self,
        ctl: &mut Conn,
        replication: &mut Replication,
        notes: &mut Vec<String>,
    ) -> CliResult<(Report, bool)> {
        let (args, server) = (self.args, self.server);
        let mut workers = self.connect_workers()?;
        let coordinates = open_snapshots(server, ctl, &mut workers, args.lock_wait_timeout)?;
        check(self.interrupted)?;
        if coordinates.file.is_empty() {
            notes.push(
                "the server's binary log is off: the snapshot has no binlog coordinates".into(),
            );
        }
        let (channels, gtid_slave_pos, stopped) = self.replica_positions(ctl, replication)?;
        let mut restarted = false;
        if args.start_slave && replication.has_stopped() {
            replication.restart(Some(ctl), self.spec)?;
            restarted = true;
        }
        let time = self.header_time(&mut workers[0])?;
        // Describe the tables (after the snapshot is open: a table altered since then fails
        // to read instead of being read against a stale description).
        let layouts = self.describe(ctl, notes)?;
        let mut statements = vec![(
            String::new(),
            coordinates_statement(server, &coordinates, &channels, &gtid_slave_pos),
        )];
        if args.with_schema {
            statements.extend(schema_statements(ctl, self.chosen)?);
        }
        let n = workers.len();
        let items = plan(&mut workers[0], self.chosen, &layouts, n)?;
        let (tables, bytes) =
            write::write_snapshot(self, ctl, workers, layouts, items, time, &statements)?;
        let report = Report {
            coordinates,
            tables,
            bytes,
            seconds: self.started.elapsed().as_secs_f64(),
            replica: channels,
            gtid_slave_pos,
            sql_threads_stopped: stopped,
            sql_threads_restarted: restarted,
            notes: Vec::new(),
        };
        Ok((report, args.output.as_os_str() == "-"))
    }

    /// The workers' connections: no more than there are pieces to read.
    fn connect_workers(&self) -> CliResult<Vec<Conn>> {
        let potential: u64 = self
            .chosen
            .iter()
            .map(|t| {
                if t.engine.eq_ignore_ascii_case("InnoDB") {
                    (t.estimated_rows / PIECE_ROWS).clamp(1, 64)
                } else {
                    1
                }
            })
            .sum();
        let n = (self.args.threads.min(potential.max(1))) as usize;
        let mut workers = Vec::with_capacity(n);
        for _ in 0..n {
            let mut c = self.spec.connect()?;
            setup_session(&mut c, self.server, true)?;
            workers.push(c);
            check(self.interrupted)?;
        }
        Ok(workers)
    }

    /// Where a replica's stopped SQL threads stand on their source, and whether they
    /// were stopped.
    fn replica_positions(
        &self,
        ctl: &mut Conn,
        replication: &Replication,
    ) -> CliResult<(Vec<Channel>, String, bool)> {
        if !replication.has_stopped() {
            return Ok((replication.channels.clone(), String::new(), false));
        }
        let ch = Replication::positions(ctl, self.server)?;
        let g = if self.server.flavor == Flavor::MariaDb {
            first(ctl, "SELECT @@gtid_slave_pos")
                .ok()
                .flatten()
                .map(|r| text(&r, 0))
        } else {
            None
        };
        Ok((ch, g.unwrap_or_default(), true))
    }

    /// The header time of every event: `--timestamp`, else the server's time now.
    fn header_time(&self, conn: &mut Conn) -> CliResult<u32> {
        Ok(match self.args.timestamp {
            Some(t) => t,
            None => first(conn, "SELECT UNIX_TIMESTAMP()")
                .map_err(|e| msg(format!("reading the server time: {}", describe(&e))))?
                .and_then(|r| number(&r, 0))
                .unwrap_or(0) as u32,
        })
    }

    /// Each table's binlog layout, with the notes it brings.
    fn describe(&self, ctl: &mut Conn, notes: &mut Vec<String>) -> CliResult<Vec<TableLayout>> {
        let server = self.server;
        let defs = catalog::describe_tables(ctl, server, self.chosen)?;
        let mut layouts = Vec::with_capacity(defs.len());
        for d in &defs {
            let l = TableLayout::new(d, server.flavor, server.version)
                .map_err(|e| msg(format!("{}.{}: {}", d.schema, d.name, e.kind())))?;
            notes.extend(
                l.notes
                    .iter()
                    .map(|n| format!("{}.{}: {n}", d.schema, d.name)),
            );
            layouts.push(l);
        }
        Ok(layouts)
    }
}
