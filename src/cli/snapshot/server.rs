//! The source server: what it is, and the session settings of the control connection and
//! of the workers.

use mysql::Conn;

use super::msg;
use crate::cli::connection::{describe, exec, first, number, text};
use crate::cli::output::{CliResult, Failure};
use binlog::Flavor;

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
    pub fn read(conn: &mut Conn) -> CliResult<Server> {
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

/// Sets a session up: the control connection, or a worker (`worker`) that reads values
/// exactly.
pub fn setup_session(conn: &mut Conn, server: &Server, worker: bool) -> CliResult<()> {
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
