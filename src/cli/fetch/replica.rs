//! Connecting as a replica: what the server is, the session variables a replica sets
//! (checksums, MariaDB's capability, heartbeats), registering with a server id, and the
//! server's list of binlogs.

use std::path::Path;

use binlog::fetch::command::{register_replica, Registration, MARIADB_CAPABILITY_GTID};
use binlog::Flavor;

use super::client::{Client, ClientError};
use super::report::Stats;
use super::{Run, Stop};

/// What the server is.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// MySQL or MariaDB.
    pub flavor: Option<Flavor>,
    /// `@@version`.
    pub version: String,
    /// Whether `@@binlog_checksum` is CRC32.
    pub checksum_crc: bool,
    /// `@@binlog_checksum`, when the server has it.
    pub checksum_name: Option<String>,
}

/// This machine's name.
pub fn hostname() -> String {
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
pub fn default_server_id(dir: &Path) -> u32 {
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

/// Describes a client error for the step `what` (worded to precede "TARGET as USER"),
/// deciding whether to retry.
pub fn client_stop(run: &Run, what: &str, e: ClientError) -> Stop {
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

fn server_info(c: &mut Client) -> Result<ServerInfo, ClientError> {
    let rows = c.query("SELECT @@version, @@version_comment")?;
    let row = rows.into_iter().next().unwrap_or_default();
    let version = row.first().cloned().flatten().unwrap_or_default();
    let comment = row.get(1).cloned().flatten().unwrap_or_default();
    let flavor = if version.contains("MariaDB") || comment.contains("MariaDB") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    };
    // Servers older than checksums (MySQL 5.5) have no such variable.
    let checksum_name = match c.query("SELECT @@global.binlog_checksum") {
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

/// The session variables a replica sets before asking for a dump.
fn replica_settings(run: &Run, info: &ServerInfo) -> Vec<String> {
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
    sets
}

/// Connects, sets the session up as a replica's, and registers.
pub fn connect_replica(run: &Run, stats: &mut Stats) -> Result<(Client, ServerInfo), Stop> {
    let mut c = Client::connect(&run.spec, &run.tls, &run.stop)
        .map_err(|e| client_stop(run, "cannot connect to", e))?;
    let info = server_info(&mut c).map_err(|e| client_stop(run, "reading the version of", e))?;
    stats.server_version = info.version.clone();
    let sets = replica_settings(run, &info);
    if !sets.is_empty() {
        c.exec(&format!("SET {}", sets.join(", ")))
            .map_err(|e| client_stop(run, "setting up the replication session on", e))?;
    }
    check_server_id(run, &mut c, &info)?;
    let reg = Registration {
        server_id: run.server_id,
        host: hostname(),
        ..Registration::default()
    };
    c.command(&register_replica(&reg))
        .map_err(|e| client_stop(run, "registering as a replica with", e))?;
    Ok((c, info))
}

/// Refuses a server id that another replica has registered: the server would drop that
/// replica's dump for this one. A registration with this host's name and port 0 is taken
/// for a fetch's own, left by one that was killed, which this one replaces as a restarted
/// replica does. Without the privilege to list replicas (MariaDB 10.5+: REPLICATION MASTER
/// ADMIN), nothing is checked.
fn check_server_id(run: &Run, c: &mut Client, info: &ServerInfo) -> Result<(), Stop> {
    let statements: &[&str] = if info.flavor == Some(Flavor::MySql) {
        &["SHOW REPLICAS", "SHOW SLAVE HOSTS"]
    } else {
        &["SHOW SLAVE HOSTS"]
    };
    let id = run.server_id.to_string();
    let me = hostname();
    for sql in statements {
        // Server_id, Host, Port, ...
        let rows = match c.query(sql) {
            Ok(rows) => rows,
            Err(ClientError::Server(_)) => continue,
            Err(e) => return Err(client_stop(run, "listing the replicas of", e)),
        };
        for r in rows {
            let cell = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let (host, port) = (cell(1), cell(2));
            if cell(0) == id && !(host == me && port == "0") {
                return Err(Stop::Fatal(format!(
                    "{}: server id {id} is registered by a replica at {host}:{port} ({sql}); a dump with that id would make the server drop that replica's: choose another --server-id",
                    run.spec.target()
                )));
            }
        }
        return Ok(());
    }
    Ok(())
}

/// The server's binlogs (SHOW BINARY LOGS).
pub fn server_binlogs(run: &Run, c: &mut Client) -> Result<Vec<String>, Stop> {
    let rows = c
        .query("SHOW BINARY LOGS")
        .map_err(|e| client_stop(run, "SHOW BINARY LOGS (REPLICATION CLIENT privilege) on", e))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}
