//! Opening the snapshot on every worker, and where it stands in the source's binlog.

use mysql::prelude::Queryable;
use mysql::{Conn, Row};
use serde_json::json;

use super::msg;
use super::replica::Channel;
use super::server::Server;
use crate::cli::connection::{describe, exec, first, number, rows, text};
use crate::cli::output::CliResult;
use binlog::Flavor;

/// Where the snapshot stands in the source's binlog.
#[derive(Debug, Clone, Default)]
pub struct Coordinates {
    /// Binlog file.
    pub file: String,
    /// Position in it.
    pub position: u64,
    /// GTID position.
    pub gtid: String,
    /// How they were read.
    pub method: &'static str,
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
pub fn open_snapshots(
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
pub fn coordinates_statement(
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
