//! `binlog-tool snapshot`: the current contents of tables, read in one consistent snapshot,
//! written as a binlog of TABLE_MAP and WRITE_ROWS events.
//!
//! The binlog knowledge (types, metadata, row images, events) is the library's
//! ([`binlog::snapshot`]); this file and its submodules do the database side: connections,
//! the snapshot and its coordinates, replication control, reading in parallel.

mod catalog;
mod conn;
mod progress;
mod replica;
mod spool;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use binlog::snapshot::{
    encode_row, Limits, ServerValue, SnapshotWriter, Source, TableLayout, TableStats,
};
use binlog::Flavor;
use mysql::prelude::Queryable;
use mysql::{Conn, Row};
use serde_json::{json, Value as Json};

use super::output::{line, CliResult, Failure, OutputFile};
use super::size::parse_size;
use catalog::{Chosen, Selection};
use conn::{describe, exec, first, number, rows, text, ConnSpec, Secret};
use replica::{Channel, Replication};
use spool::{Popped, Spool};

/// Write the current contents of tables as a binlog: TABLE_MAP and WRITE_ROWS events read
/// in one consistent snapshot, for CDC pipelines and new replicas that start from binlogs.
/// The source is only read (see --help for the details).
#[derive(Debug, clap::Args)]
#[command(after_long_help = DETAILS, after_help = "See --help for consistency, replication, types and output.")]
pub struct Args {
    /// Server host (TCP). Without --host and --port (or with host localhost and no port)
    /// the Unix socket is used.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Server TCP port (default 3306).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Unix socket path.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<String>,
    /// User name (default: the login name).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Password (else from the my.cnf file, else MYSQL_PWD).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<Secret>,
    /// A my.cnf file whose [client] section gives user, password, host, port, socket
    /// (default ~/.my.cnf when it exists); the flags above override it.
    #[arg(long, value_name = "FILE")]
    pub mycnf: Option<PathBuf>,
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

Exit status: 0 success; 2 an error (one line on stderr).

Example:
  binlog-tool snapshot --db shop --with-schema -o shop.bin
  mariadb-binlog shop.bin | mariadb";

/// What is known of the source server.
#[derive(Debug, Clone)]
pub struct Server {
    /// MySQL or MariaDB.
    pub flavor: Flavor,
    /// `@@version`.
    pub version_string: String,
    /// The version triple.
    pub version: (u16, u16, u16),
    /// `@@server_id`.
    pub server_id: u32,
}

impl Server {
    fn read(conn: &mut Conn) -> CliResult<Server> {
        let row = first(conn, "SELECT @@version, @@version_comment, @@server_id")
            .map_err(|e| Failure::Message(format!("reading the server version: {}", describe(&e))))?
            .ok_or_else(|| msg("reading the server version: no answer"))?;
        let (version_string, comment, server_id) =
            (text(&row, 0), text(&row, 1), number(&row, 2).unwrap_or(0));
        let flavor = if version_string.contains("MariaDB") || comment.contains("MariaDB") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        Ok(Server {
            flavor,
            version: binlog::event::fde::split_version(version_string.as_bytes()),
            version_string,
            server_id: server_id as u32,
        })
    }
}

/// Where the snapshot stands in the source's binlog.
#[derive(Debug, Clone, Default)]
struct Coordinates {
    file: String,
    position: u64,
    gtid: String,
    method: &'static str,
}

/// One piece of work: a table, or a range of its primary key.
struct Item {
    table: usize,
    sql: String,
    first: bool,
    last: bool,
}

/// Rows per piece when a big InnoDB table is read by several connections.
const PIECE_ROWS: u64 = 100_000;
/// Bytes of row images a worker gathers before handing them on.
const CHUNK_BYTES: usize = 256 << 10;

fn msg(s: impl Into<String>) -> Failure {
    Failure::Message(s.into())
}

/// SIGINT, SIGTERM and SIGHUP set the returned flag: the run stops at its next check and
/// cleans up as after any failure (a second signal ends the process at once).
fn watch_signals() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}

fn check(interrupted: &AtomicBool) -> CliResult<()> {
    if interrupted.load(Ordering::Relaxed) {
        Err(msg("interrupted"))
    } else {
        Ok(())
    }
}

fn setup_session(conn: &mut Conn, server: &Server, worker: bool) -> CliResult<()> {
    let mut stmts = vec![
        "SET SESSION sql_mode = ''",
        "SET SESSION sql_quote_show_create = 1",
        "SET SESSION wait_timeout = 28800",
        "SET SESSION net_write_timeout = 3600",
        "SET SESSION net_read_timeout = 3600",
    ];
    if worker {
        stmts.extend([
            "SET SESSION time_zone = '+00:00'",
            "SET SESSION character_set_results = NULL",
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        ]);
        stmts.push(match server.flavor {
            Flavor::MariaDb => "SET SESSION max_statement_time = 0",
            Flavor::MySql => "SET SESSION max_execution_time = 0",
        });
    }
    for s in stmts {
        exec(conn, s, "setting up the session")?;
    }
    Ok(())
}

fn show_status(conn: &mut Conn, like: &str) -> CliResult<Vec<(String, String)>> {
    Ok(rows(conn, &format!("SHOW STATUS LIKE '{like}'"))
        .map_err(|e| msg(format!("SHOW STATUS: {}", describe(&e))))?
        .iter()
        .map(|r| (text(r, 0), text(r, 1)))
        .collect())
}

/// MariaDB: the snapshot's binlog position, from the connection that holds it.
fn mariadb_snapshot_position(conn: &mut Conn) -> CliResult<(String, u64)> {
    let mut file = String::new();
    let mut pos = 0;
    for (k, v) in show_status(conn, "binlog_snapshot_%")? {
        match k.to_ascii_lowercase().as_str() {
            "binlog_snapshot_file" => file = v,
            "binlog_snapshot_position" => pos = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    Ok((file, pos))
}

const LOCK_HELP: &str = "FLUSH TABLES WITH READ LOCK (several connections need it to open their snapshots at one point; it takes the RELOAD privilege and waits --lock-wait-timeout at most)";

/// Opens the snapshot on every worker and reads its coordinates.
fn open_snapshots(
    server: &Server,
    ctl: &mut Conn,
    workers: &mut [Conn],
    lock_wait: u64,
) -> CliResult<Coordinates> {
    let start = "START TRANSACTION WITH CONSISTENT SNAPSHOT";
    if server.flavor == Flavor::MariaDb && workers.len() == 1 {
        let w = &mut workers[0];
        exec(w, start, "opening the snapshot")?;
        let (file, position) = mariadb_snapshot_position(w)?;
        let gtid = if file.is_empty() {
            String::new()
        } else {
            w.exec_first::<Row, _, _>("SELECT BINLOG_GTID_POS(?, ?)", (file.as_str(), position))
                .map_err(|e| msg(format!("BINLOG_GTID_POS: {}", describe(&e))))?
                .map(|r| text(&r, 0))
                .unwrap_or_default()
        };
        return Ok(Coordinates {
            file,
            position,
            gtid,
            method: "consistent_snapshot",
        });
    }
    exec(
        ctl,
        &format!("SET SESSION lock_wait_timeout = {lock_wait}"),
        "setting up the session",
    )?;
    ctl.query_drop("FLUSH TABLES WITH READ LOCK").map_err(|e| {
        let hint = if server.flavor == Flavor::MariaDb {
            "; with --threads 1 MariaDB needs no lock"
        } else {
            ""
        };
        msg(format!("{LOCK_HELP} failed: {}{hint}", describe(&e)))
    })?;
    let locked = (|| -> CliResult<Coordinates> {
        for w in workers.iter_mut() {
            exec(w, start, "opening the snapshot")?;
        }
        match server.flavor {
            Flavor::MariaDb => {
                let (file, position) = mariadb_snapshot_position(&mut workers[0])?;
                let gtid = first(ctl, "SELECT @@gtid_binlog_pos")
                    .map_err(|e| msg(format!("reading @@gtid_binlog_pos: {}", describe(&e))))?
                    .map(|r| text(&r, 0));
                Ok(Coordinates {
                    file,
                    position,
                    gtid: gtid.unwrap_or_default(),
                    method: "flush_tables_with_read_lock",
                })
            }
            Flavor::MySql => {
                let sql = if server.version >= (8, 2, 0) {
                    "SHOW BINARY LOG STATUS"
                } else {
                    "SHOW MASTER STATUS"
                };
                let row = first(ctl, sql).map_err(|e| msg(format!("{sql}: {}", describe(&e))))?;
                let mut c = Coordinates {
                    method: "flush_tables_with_read_lock",
                    ..Default::default()
                };
                if let Some(r) = row {
                    c.file = text(&r, 0);
                    c.position = number(&r, 1).unwrap_or(0);
                    c.gtid = text(&r, 4).replace('\n', "");
                }
                Ok(c)
            }
        }
    })();
    let unlocked = exec(ctl, "UNLOCK TABLES", "releasing the read lock");
    let c = locked?;
    unlocked?;
    Ok(c)
}

/// `SET @binlog_tool_snapshot = '<json>'`: the coordinates, as a statement that is
/// harmless to replay.
fn coordinates_statement(
    server: &Server,
    c: &Coordinates,
    replica: &[Channel],
    gtid_slave_pos: &str,
) -> String {
    let mut v = json!({
        "flavor": server.flavor.name(),
        "server_version": server.version_string,
        "server_id": server.server_id,
        "file": c.file,
        "position": c.position,
        "gtid": c.gtid,
    });
    if !replica.is_empty() {
        v["replica"] = json!({
            "channels": replica.iter().map(|ch| json!({
                "name": ch.name, "source_file": ch.source_file, "source_position": ch.source_position
            })).collect::<Vec<_>>(),
            "gtid_slave_pos": gtid_slave_pos,
        });
    }
    let text = v.to_string().replace('\\', "\\\\").replace('\'', "''");
    format!("SET @binlog_tool_snapshot = '{text}'")
}

/// The pieces each table is read in: one per table, or, for a big InnoDB table with a
/// one-column integer primary key read by several connections, ranges of that key. InnoDB
/// tables are read in primary key order, so that the pieces join up in the order a single
/// read gives.
fn plan(
    conn: &mut Conn,
    chosen: &[Chosen],
    layouts: &[TableLayout],
    workers: usize,
) -> CliResult<Vec<Item>> {
    use binlog::snapshot::table::quote_ident;
    let mut items = Vec::new();
    for (i, (t, l)) in chosen.iter().zip(layouts).enumerate() {
        let base = l.select_sql();
        let innodb = t.engine.eq_ignore_ascii_case("InnoDB");
        let order = if innodb {
            l.order_by_primary_key()
        } else {
            String::new()
        };
        let pieces = (t.estimated_rows / PIECE_ROWS).clamp(1, 64);
        let key = l
            .integer_primary_key()
            .filter(|_| innodb && workers > 1 && pieces > 1);
        let range = match key {
            Some(k) => {
                let q = quote_ident(&l.column_names[k]);
                let row = first(
                    conn,
                    &format!(
                        "SELECT CAST(MIN({q}) AS CHAR), CAST(MAX({q}) AS CHAR) FROM {}.{}",
                        quote_ident(&t.schema),
                        quote_ident(&t.name)
                    ),
                )
                .map_err(|e| msg(format!("reading {}.{}: {}", t.schema, t.name, describe(&e))))?;
                match row.map(|r| (conn::cell(&r, 0), conn::cell(&r, 1))) {
                    Some((Some(lo), Some(hi))) => match (lo.parse::<i128>(), hi.parse::<i128>()) {
                        (Ok(lo), Ok(hi)) if hi > lo => Some((q, lo, hi)),
                        _ => None,
                    },
                    _ => None,
                }
            }
            None => None,
        };
        let Some((q, lo, hi)) = range else {
            items.push(Item {
                table: i,
                sql: format!("{base}{order}"),
                first: true,
                last: true,
            });
            continue;
        };
        // Boundaries lo + j*step; the first piece has no lower bound and the last no
        // upper one, so no row can fall between pieces.
        let k = i128::from(pieces);
        let step = ((hi - lo) / k).max(1);
        let bounds: Vec<i128> = (1..k).map(|j| lo + j * step).filter(|&b| b <= hi).collect();
        for j in 0..=bounds.len() {
            let mut cond = Vec::new();
            if j > 0 {
                cond.push(format!("{q} >= {}", bounds[j - 1]));
            }
            if j < bounds.len() {
                cond.push(format!("{q} < {}", bounds[j]));
            }
            let wher = if cond.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", cond.join(" AND "))
            };
            items.push(Item {
                table: i,
                sql: format!("{base}{wher}{order}"),
                first: j == 0,
                last: j == bounds.len(),
            });
        }
    }
    Ok(items)
}

/// Reads one piece into its spool.
fn read_item(
    conn: &mut Conn,
    item: &Item,
    layout: &TableLayout,
    spool: &Spool,
    shared: &Shared,
) -> Result<(), String> {
    let fail = |e: &mysql::Error| format!("reading {}: {}", layout.qualified_name(), describe(e));
    let result = conn
        .exec_iter(item.sql.as_str(), ())
        .map_err(|e| fail(&e))?;
    let n = layout.columns.len();
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
    let mut rows = 0u64;
    for row in result {
        let row = row.map_err(|e| fail(&e))?;
        if row.len() != n {
            return Err(format!(
                "{}: {} columns returned for {n}",
                layout.qualified_name(),
                row.len()
            ));
        }
        let start = chunk.len();
        chunk.extend_from_slice(&[0; 4]);
        encode_row(
            layout,
            (0..n).map(|i| row.as_ref(i).map_or(ServerValue::Null, server_value)),
            &mut chunk,
        )
        .map_err(|e| e.kind().to_string())?;
        let len = u32::try_from(chunk.len() - start - 4)
            .map_err(|_| format!("{}: a row over 4 GiB", layout.qualified_name()))?;
        chunk[start..start + 4].copy_from_slice(&len.to_le_bytes());
        rows += 1;
        if chunk.len() >= CHUNK_BYTES {
            if shared.stopping() {
                return Err("stopped".into());
            }
            spool.rows.fetch_add(rows, Ordering::Relaxed);
            spool.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            rows = 0;
            spool.push(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(CHUNK_BYTES + (64 << 10)),
            ))?;
        }
    }
    spool.rows.fetch_add(rows, Ordering::Relaxed);
    spool.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    if !chunk.is_empty() {
        spool.push(chunk)?;
    }
    Ok(())
}

/// A value the `mysql` crate read, as the library takes it.
fn server_value(v: &mysql::Value) -> ServerValue<'_> {
    match *v {
        mysql::Value::NULL => ServerValue::Null,
        mysql::Value::Bytes(ref b) => ServerValue::Bytes(b),
        mysql::Value::Int(i) => ServerValue::Int(i),
        mysql::Value::UInt(u) => ServerValue::UInt(u),
        mysql::Value::Float(f) => ServerValue::Float(f),
        mysql::Value::Double(d) => ServerValue::Double(d),
        mysql::Value::Date(y, mo, d, h, mi, s, us) => ServerValue::Date(y, mo, d, h, mi, s, us),
        mysql::Value::Time(neg, days, h, mi, s, us) => ServerValue::Time(neg, days, h, mi, s, us),
    }
}

struct Shared {
    items: Vec<Item>,
    layouts: Vec<TableLayout>,
    spools: Vec<Spool>,
    next: AtomicUsize,
    abort: AtomicBool,
    interrupted: Arc<AtomicBool>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || self.interrupted.load(Ordering::Relaxed)
    }
}

fn worker(mut conn: Conn, shared: Arc<Shared>) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if i >= shared.items.len() {
            break;
        }
        let item = &shared.items[i];
        let spool = &shared.spools[i];
        if shared.stopping() {
            spool.fail("stopped".into());
            continue;
        }
        match read_item(&mut conn, item, &shared.layouts[item.table], spool, &shared) {
            Ok(()) => spool.finish(),
            Err(e) => {
                shared.abort.store(true, Ordering::SeqCst);
                spool.fail(e);
            }
        }
    }
    let _ = conn.query_drop("COMMIT");
}

/// What the run produced, for the report.
struct Report {
    coordinates: Coordinates,
    tables: Vec<(String, String, TableStats)>,
    bytes: u64,
    seconds: f64,
    replica: Vec<Channel>,
    gtid_slave_pos: String,
    sql_threads_stopped: bool,
    sql_threads_restarted: bool,
    notes: Vec<String>,
}

/// Runs `snapshot`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let started = Instant::now();
    let interrupted = watch_signals();
    if args.max_event_size == 0 || args.max_event_size > (1 << 30) {
        return Err(msg("--max-event-size must be between 1 byte and 1G"));
    }
    let spec = conn::resolve(
        ConnSpec {
            host: args.host.clone(),
            port: args.port,
            socket: args.socket.clone(),
            user: args.user.clone(),
            password: args.password.clone(),
        },
        args.mycnf.as_deref(),
    )?;
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
    let result = snapshot(
        &args,
        &spec,
        &server,
        &mut ctl,
        &chosen,
        &mut replication,
        &mut notes,
        started,
        &interrupted,
    );
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

#[allow(clippy::too_many_arguments)]
fn snapshot(
    args: &Args,
    spec: &ConnSpec,
    server: &Server,
    ctl: &mut Conn,
    chosen: &[Chosen],
    replication: &mut Replication,
    notes: &mut Vec<String>,
    started: Instant,
    interrupted: &Arc<AtomicBool>,
) -> CliResult<(Report, bool)> {
    // How many connections: no more than there are pieces to read.
    let potential: u64 = chosen
        .iter()
        .map(|t| {
            if t.engine.eq_ignore_ascii_case("InnoDB") {
                (t.estimated_rows / PIECE_ROWS).clamp(1, 64)
            } else {
                1
            }
        })
        .sum();
    let n = (args.threads.min(potential.max(1))) as usize;
    let mut workers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = spec.connect()?;
        setup_session(&mut c, server, true)?;
        workers.push(c);
        check(interrupted)?;
    }
    let coordinates = open_snapshots(server, ctl, &mut workers, args.lock_wait_timeout)?;
    check(interrupted)?;
    if coordinates.file.is_empty() {
        notes.push("the server's binary log is off: the snapshot has no binlog coordinates".into());
    }
    let (channels, gtid_slave_pos, stopped) = if replication.has_stopped() {
        let ch = Replication::positions(ctl, server)?;
        let g = if server.flavor == Flavor::MariaDb {
            first(ctl, "SELECT @@gtid_slave_pos")
                .ok()
                .flatten()
                .map(|r| text(&r, 0))
        } else {
            None
        };
        (ch, g.unwrap_or_default(), true)
    } else {
        (replication.channels.clone(), String::new(), false)
    };
    let mut restarted = false;
    if args.start_slave && replication.has_stopped() {
        replication.restart(Some(ctl), spec)?;
        restarted = true;
    }
    let time = match args.timestamp {
        Some(t) => t,
        None => first(&mut workers[0], "SELECT UNIX_TIMESTAMP()")
            .map_err(|e| msg(format!("reading the server time: {}", describe(&e))))?
            .and_then(|r| number(&r, 0))
            .unwrap_or(0) as u32,
    };

    // Describe the tables (after the snapshot is open: a table altered since then fails
    // to read instead of being read against a stale description).
    let defs = catalog::describe_tables(ctl, server, chosen)?;
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
    let ddl = if args.with_schema {
        schema_statements(ctl, chosen)?
    } else {
        Vec::new()
    };
    let items = plan(&mut workers[0], chosen, &layouts, n)?;

    let source = Source {
        flavor: server.flavor,
        version: server.version_string.clone(),
        server_id: server.server_id,
    };
    let limits = Limits {
        rows_per_event: args.rows_per_event,
        max_event_size: args.max_event_size as usize,
        rows_per_txn: usize::try_from(args.rows_per_txn).unwrap_or(usize::MAX),
        ..Limits::default()
    };
    let to_stdout = args.output.as_os_str() == "-";
    let mut out = OutputFile::create(&args.output)?;
    let werr = |e: binlog::Error| msg(format!("{}: {}", args.output.display(), e.kind()));
    let mut w = SnapshotWriter::new(&mut out, &source, time, limits).map_err(werr)?;
    w.statement(
        "",
        &coordinates_statement(server, &coordinates, &channels, &gtid_slave_pos),
    )
    .map_err(werr)?;
    for (db, sql) in &ddl {
        w.statement(db, sql).map_err(werr)?;
    }

    let ids: Vec<u32> = workers.iter().map(|c| c.connection_id()).collect();
    let shared = Arc::new(Shared {
        spools: items.iter().map(|_| Spool::default()).collect(),
        items,
        layouts,
        next: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        interrupted: interrupted.clone(),
    });
    for c in workers {
        let s = shared.clone();
        std::thread::spawn(move || worker(c, s));
    }
    let written = Arc::new(AtomicU64::new(0));
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| progress::Progress::start(shared.clone(), chosen.to_vec(), written.clone()));

    let mut tables = Vec::with_capacity(chosen.len());
    let consumed = (|| -> CliResult<()> {
        for (k, item) in shared.items.iter().enumerate() {
            let layout = &shared.layouts[item.table];
            if item.first {
                w.begin_table(layout, item.table as u64 + 1).map_err(werr)?;
            }
            loop {
                match shared.spools[k].pop(&shared.interrupted) {
                    Popped::Chunk(c) => {
                        let mut rest = &c[..];
                        while rest.len() >= 4 {
                            let len =
                                u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                            w.row(&rest[4..4 + len]).map_err(werr)?;
                            rest = &rest[4 + len..];
                        }
                        written.store(w.position(), Ordering::Relaxed);
                    }
                    Popped::End => break,
                    Popped::Failed(e) => return Err(msg(e)),
                }
            }
            if item.last {
                let stats = w.end_table().map_err(werr)?;
                let t = &chosen[item.table];
                tables.push((t.schema.clone(), t.name.clone(), stats));
            }
        }
        Ok(())
    })();
    if let Some(p) = progress {
        p.stop();
    }
    if let Err(e) = consumed {
        shared.abort.store(true, Ordering::SeqCst);
        kill(ctl, spec, &ids);
        return Err(e);
    }
    let (_, bytes) = w.finish().map_err(werr)?;
    out.commit()?;
    Ok((
        Report {
            coordinates,
            tables,
            bytes,
            seconds: started.elapsed().as_secs_f64(),
            replica: channels,
            gtid_slave_pos,
            sql_threads_stopped: stopped,
            sql_threads_restarted: restarted,
            notes: Vec::new(),
        },
        to_stdout,
    ))
}

/// Ends the workers' connections after a failure, so that no read goes on.
fn kill(ctl: &mut Conn, spec: &ConnSpec, ids: &[u32]) {
    let mut fresh;
    let conn = if ctl.ping().is_ok() {
        ctl
    } else {
        match spec.connect() {
            Ok(c) => {
                fresh = c;
                &mut fresh
            }
            Err(_) => return,
        }
    };
    for id in ids {
        let _ = conn.query_drop(format!("KILL {id}"));
    }
}

/// CREATE DATABASE IF NOT EXISTS and CREATE TABLE statements, with the database each runs in.
fn schema_statements(ctl: &mut Conn, chosen: &[Chosen]) -> CliResult<Vec<(String, String)>> {
    use binlog::snapshot::table::quote_ident;
    let mut out = Vec::new();
    let mut last_db: Option<&str> = None;
    for t in chosen {
        if last_db != Some(t.schema.as_str()) {
            let sql = first(
                ctl,
                &format!("SHOW CREATE DATABASE {}", quote_ident(&t.schema)),
            )
            .map_err(|e| {
                msg(format!(
                    "SHOW CREATE DATABASE {}: {}",
                    t.schema,
                    describe(&e)
                ))
            })?
            .map(|r| text(&r, 1))
            .unwrap_or_default();
            let sql = match sql.strip_prefix("CREATE DATABASE ") {
                Some(rest)
                    if !rest.starts_with("IF NOT EXISTS")
                        && !rest.starts_with("/*!32312 IF NOT EXISTS*/") =>
                {
                    format!("CREATE DATABASE IF NOT EXISTS {rest}")
                }
                _ => sql,
            };
            out.push((String::new(), sql));
            last_db = Some(&t.schema);
        }
        let sql = first(
            ctl,
            &format!(
                "SHOW CREATE TABLE {}.{}",
                quote_ident(&t.schema),
                quote_ident(&t.name)
            ),
        )
        .map_err(|e| {
            msg(format!(
                "SHOW CREATE TABLE {}.{}: {}",
                t.schema,
                t.name,
                describe(&e)
            ))
        })?
        .map(|r| text(&r, 1))
        .unwrap_or_default();
        out.push((t.schema.clone(), sql));
    }
    Ok(out)
}

fn print_report(args: &Args, server: &Server, r: &Report, to_stderr: bool) -> CliResult<()> {
    let mut stdout_lock;
    let mut stderr_lock;
    let w: &mut dyn Write = if to_stderr {
        stderr_lock = std::io::stderr().lock();
        &mut stderr_lock
    } else {
        stdout_lock = std::io::stdout().lock();
        &mut stdout_lock
    };
    for n in &r.notes {
        eprintln!("binlog-tool: note: {n}");
    }
    let rows: u64 = r.tables.iter().map(|t| t.2.rows).sum();
    let c = &r.coordinates;
    match args.format {
        ReportFormat::Json => {
            let tables: Vec<Json> = r
                .tables
                .iter()
                .map(|(s, t, st)| {
                    json!({"schema": s, "table": t, "rows": st.rows, "bytes": st.bytes,
                           "transactions": st.transactions, "rows_events": st.rows_events})
                })
                .collect();
            let replica = if r.replica.is_empty() {
                Json::Null
            } else {
                json!({
                    "sql_thread_stopped": r.sql_threads_stopped,
                    "sql_thread_restarted": r.sql_threads_restarted,
                    "channels": r.replica.iter().map(|ch| json!({
                        "name": ch.name, "source_file": ch.source_file,
                        "source_position": ch.source_position})).collect::<Vec<_>>(),
                    "gtid_slave_pos": r.gtid_slave_pos,
                })
            };
            let v = json!({
                "server": {"flavor": server.flavor.name(), "version": server.version_string, "server_id": server.server_id},
                "coordinates": {"file": c.file, "position": c.position, "gtid": c.gtid, "method": c.method},
                "replica": replica,
                "output": args.output.display().to_string(),
                "table_count": r.tables.len(),
                "rows": rows,
                "bytes": r.bytes,
                "seconds": (r.seconds * 1000.0).round() / 1000.0,
                "tables": tables,
                "notes": r.notes,
            });
            line(w, &v.to_string())?;
        }
        ReportFormat::Text => {
            let gtid_name = match server.flavor {
                Flavor::MariaDb => "gtid_binlog_pos",
                Flavor::MySql => "gtid_executed",
            };
            line(
                w,
                &format!(
                    "snapshot of {} {} at {}:{}, {gtid_name} '{}' ({})",
                    server.flavor.name(),
                    server.version_string,
                    c.file,
                    c.position,
                    c.gtid,
                    c.method.replace('_', " ")
                ),
            )?;
            for ch in &r.replica {
                let name = if ch.name.is_empty() {
                    String::new()
                } else {
                    format!(" '{}'", ch.name)
                };
                line(
                    w,
                    &format!(
                        "replica{name}: executed up to {}:{} of its source{}{}",
                        ch.source_file,
                        ch.source_position,
                        if r.gtid_slave_pos.is_empty() {
                            String::new()
                        } else {
                            format!(", gtid_slave_pos '{}'", r.gtid_slave_pos)
                        },
                        if r.sql_threads_restarted {
                            "; SQL thread running again"
                        } else if r.sql_threads_stopped {
                            "; SQL thread left stopped"
                        } else {
                            ""
                        }
                    ),
                )?;
            }
            for (s, t, st) in &r.tables {
                line(
                    w,
                    &format!("  {s}.{t}: {} rows, {} bytes", st.rows, st.bytes),
                )?;
            }
            line(
                w,
                &format!(
                    "{} tables, {rows} rows, {} bytes written to {} in {:.2} s",
                    r.tables.len(),
                    r.bytes,
                    args.output.display(),
                    r.seconds
                ),
            )?;
        }
    }
    w.flush()?;
    Ok(())
}
