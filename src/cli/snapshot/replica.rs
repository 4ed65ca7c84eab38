//! Replication control: when the source is a replica, its SQL threads are stopped while
//! the snapshot is taken (so its position on its own source matches the snapshot), and
//! started again afterwards when asked, or whenever the snapshot fails: what was running
//! before runs again.

use mysql::prelude::Queryable;
use mysql::{Conn, Row};

use super::Server;
use crate::cli::connection::{describe, error_code, first, rows, ConnSpec};
use crate::cli::output::Failure;
use binlog::Flavor;

/// ER_SPECIFIC_ACCESS_DENIED_ERROR and ER_ACCESS_DENIED_ERROR.
const ACCESS_DENIED: [u16; 3] = [1227, 1045, 1044];

/// One replication connection (MariaDB multi-source) or channel (MySQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Connection or channel name (`""` for the default one).
    pub name: String,
    /// Whether its SQL thread was running.
    pub sql_running: bool,
    /// The source's binlog file of the last transaction executed.
    pub source_file: String,
    /// Position in it.
    pub source_position: u64,
}

/// What the replica was doing, and what we stopped.
#[derive(Debug, Default)]
pub struct Replication {
    /// The replica's channels as they were before the snapshot.
    pub channels: Vec<Channel>,
    /// Channels whose SQL thread we stopped and have not started again.
    stopped: Vec<String>,
    flavor: Option<Flavor>,
    modern_mysql: bool,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn text(row: &Row, name: &str) -> String {
    row.columns_ref()
        .iter()
        .position(|c| c.name_str().eq_ignore_ascii_case(name))
        .and_then(|i| row.as_ref(i))
        .map(|v| match v {
            mysql::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            mysql::Value::Int(i) => i.to_string(),
            mysql::Value::UInt(u) => u.to_string(),
            _ => String::new(),
        })
        .unwrap_or_default()
}

impl Replication {
    /// Reads the replica status of `server`.
    pub fn inspect(conn: &mut Conn, server: &Server) -> Result<Replication, Failure> {
        let modern_mysql = server.flavor == Flavor::MySql && server.version >= (8, 0, 22);
        let sql = match server.flavor {
            Flavor::MariaDb => "SHOW ALL SLAVES STATUS",
            Flavor::MySql if modern_mysql => "SHOW REPLICA STATUS",
            Flavor::MySql => "SHOW SLAVE STATUS",
        };
        let rows: Vec<Row> = match rows(conn, sql) {
            Ok(r) => r,
            Err(e) if error_code(&e).is_some_and(|c| ACCESS_DENIED.contains(&c)) => {
                // Without the privilege to look, the status counter still tells whether any
                // SQL thread runs (MariaDB: Slaves_running; MySQL has no such counter).
                let running = if server.flavor == Flavor::MariaDb {
                    first(conn, "SHOW GLOBAL STATUS LIKE 'Slaves_running'")
                        .ok()
                        .flatten()
                        .map(|r| crate::cli::connection::text(&r, 1))
                } else {
                    None
                };
                if running.as_deref() == Some("0") {
                    return Ok(Replication {
                        flavor: Some(server.flavor),
                        modern_mysql,
                        ..Default::default()
                    });
                }
                return Err(Failure::Message(format!(
                    "cannot tell whether the server replicates ({sql}: {}); grant the privilege or use --no-stop-slave",
                    describe(&e)
                )));
            }
            Err(e) => return Err(Failure::Message(format!("{sql}: {}", describe(&e)))),
        };
        let (sql_col, file_col, pos_col, name_col) = if modern_mysql {
            (
                "Replica_SQL_Running",
                "Relay_Source_Log_File",
                "Exec_Source_Log_Pos",
                "Channel_Name",
            )
        } else if server.flavor == Flavor::MariaDb {
            (
                "Slave_SQL_Running",
                "Relay_Master_Log_File",
                "Exec_Master_Log_Pos",
                "Connection_name",
            )
        } else {
            (
                "Slave_SQL_Running",
                "Relay_Master_Log_File",
                "Exec_Master_Log_Pos",
                "Channel_Name",
            )
        };
        let channels = rows
            .iter()
            .map(|r| Channel {
                name: text(r, name_col),
                sql_running: text(r, sql_col).eq_ignore_ascii_case("Yes"),
                source_file: text(r, file_col),
                source_position: text(r, pos_col).parse().unwrap_or(0),
            })
            .collect();
        Ok(Replication {
            channels,
            stopped: Vec::new(),
            flavor: Some(server.flavor),
            modern_mysql,
        })
    }

    fn statement(&self, verb: &str, name: &str) -> String {
        match self.flavor {
            Some(Flavor::MariaDb) => format!("{verb} SLAVE {} SQL_THREAD", quote(name)),
            _ => {
                let word = if self.modern_mysql {
                    "REPLICA"
                } else {
                    "SLAVE"
                };
                if name.is_empty() {
                    format!("{verb} {word} SQL_THREAD")
                } else {
                    format!("{verb} {word} SQL_THREAD FOR CHANNEL {}", quote(name))
                }
            }
        }
    }

    /// Stops every running SQL thread.
    pub fn stop(&mut self, conn: &mut Conn) -> Result<(), Failure> {
        for c in self.channels.clone() {
            if !c.sql_running {
                continue;
            }
            let sql = self.statement("STOP", &c.name);
            conn.query_drop(&sql).map_err(|e| {
                Failure::Message(format!(
                    "cannot stop the replica SQL thread ({sql}: {}); use --no-stop-slave to snapshot a running replica",
                    describe(&e)
                ))
            })?;
            self.stopped.push(c.name);
        }
        Ok(())
    }

    /// Whether SQL threads were stopped and not started again.
    pub fn has_stopped(&self) -> bool {
        !self.stopped.is_empty()
    }

    /// Starts again the SQL threads that [`Replication::stop`] stopped. Reconnects through
    /// `spec` when `conn` is gone.
    pub fn restart(&mut self, conn: Option<&mut Conn>, spec: &ConnSpec) -> Result<(), Failure> {
        if self.stopped.is_empty() {
            return Ok(());
        }
        let mut fresh;
        let conn = match conn {
            Some(c) => match c.ping() {
                Ok(()) => c,
                Err(_) => {
                    fresh = spec.connect()?;
                    &mut fresh
                }
            },
            None => {
                fresh = spec.connect()?;
                &mut fresh
            }
        };
        while let Some(name) = self.stopped.first().cloned() {
            let sql = self.statement("START", &name);
            conn.query_drop(&sql).map_err(|e| {
                Failure::Message(format!(
                    "cannot start the replica SQL thread again ({sql}: {})",
                    describe(&e)
                ))
            })?;
            self.stopped.remove(0);
        }
        Ok(())
    }

    /// The replica's position on its own source once stopped: `(channel, file, position)`
    /// of each channel, read again.
    pub fn positions(conn: &mut Conn, server: &Server) -> Result<Vec<Channel>, Failure> {
        Ok(Replication::inspect(conn, server)?.channels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_by_flavor() {
        let mut r = Replication {
            flavor: Some(Flavor::MariaDb),
            ..Default::default()
        };
        assert_eq!(r.statement("STOP", ""), "STOP SLAVE '' SQL_THREAD");
        assert_eq!(r.statement("START", "a'b"), "START SLAVE 'a''b' SQL_THREAD");
        r.flavor = Some(Flavor::MySql);
        assert_eq!(r.statement("STOP", ""), "STOP SLAVE SQL_THREAD");
        r.modern_mysql = true;
        assert_eq!(
            r.statement("START", "ch1"),
            "START REPLICA SQL_THREAD FOR CHANNEL 'ch1'"
        );
    }
}
