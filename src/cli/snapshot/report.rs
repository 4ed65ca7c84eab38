//! What `snapshot` prints when done: text lines or one JSON object.

use std::io::Write;

use binlog::snapshot::TableStats;
use binlog::Flavor;
use serde_json::{json, Value as Json};

use super::coordinates::Coordinates;
use super::replica::Channel;
use super::server::Server;
use super::{Args, ReportFormat};
use crate::cli::output::{line, CliResult, OutputFile};

/// What the run produced, for the report.
pub struct Report {
    /// Where the snapshot stands.
    pub coordinates: Coordinates,
    /// Each table written: database, table, what was written.
    pub tables: Vec<(String, String, TableStats)>,
    /// Bytes of the output.
    pub bytes: u64,
    /// Seconds the run took.
    pub seconds: f64,
    /// A replica's channels.
    pub replica: Vec<Channel>,
    /// A MariaDB replica's gtid_slave_pos.
    pub gtid_slave_pos: String,
    /// Whether the SQL threads were stopped.
    pub sql_threads_stopped: bool,
    /// Whether they run again.
    pub sql_threads_restarted: bool,
    /// Notes for the user.
    pub notes: Vec<String>,
}

/// Prints the report (on stderr when the binlog went to stdout).
pub fn print_report(args: &Args, server: &Server, r: &Report, to_stderr: bool) -> CliResult<()> {
    let mut stdout;
    let mut stderr_lock;
    let w: &mut dyn Write = if to_stderr {
        stderr_lock = std::io::stderr().lock();
        &mut stderr_lock
    } else {
        stdout = OutputFile::stdout();
        &mut stdout
    };
    for n in &r.notes {
        crate::say!("binlog-tool: note: {n}");
    }
    match args.format {
        ReportFormat::Json => json_report(w, args, server, r)?,
        ReportFormat::Text => text_report(w, args, server, r)?,
    }
    w.flush()?;
    Ok(())
}

fn json_report(w: &mut dyn Write, args: &Args, server: &Server, r: &Report) -> CliResult<()> {
    let rows: u64 = r.tables.iter().map(|t| t.2.rows).sum();
    let c = &r.coordinates;
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
    Ok(())
}

fn text_report(w: &mut dyn Write, args: &Args, server: &Server, r: &Report) -> CliResult<()> {
    let rows: u64 = r.tables.iter().map(|t| t.2.rows).sum();
    let c = &r.coordinates;
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
    Ok(())
}
