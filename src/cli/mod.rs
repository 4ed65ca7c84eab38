//! The subcommands. Each has an `Args` struct (its doc comment is the help text) and a
//! `run`; rendering helpers live in `render` and `output`.

pub mod bigtxn;
pub mod cut;
pub mod decode;
pub mod events;
pub mod filters;
pub mod flashback;
pub mod index_file;
pub mod info;
pub mod locate;
pub mod output;
pub mod render;
pub mod size;
pub mod snapshot;
pub mod split;
pub mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use output::Failure;

/// Tools for MySQL and MariaDB binary logs: inspect, verify, undo, split, snapshot.
///
/// Exit status: 0 success; 1 the command ran but found problems (verify, a truncated file
/// in info or bigtxn, CRC errors while listing, locate found nothing); 2 an error stopped
/// it (bad input, unreadable file, refused input, bad arguments), with one line on stderr
/// naming the file and byte offset, and nothing left at -o.
#[derive(Debug, Parser)]
#[command(name = "binlog-tool", version, propagate_version = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarize binlog files: version, checksums, size, events, times, GTIDs, ending.
    Info(info::Args),
    /// List events as SHOW BINLOG EVENTS does.
    Events(events::Args),
    /// Check lengths, positions and CRC32s of every event, and an index file.
    Verify(verify::Args),
    /// Write a binlog that undoes selected transactions (row format).
    Flashback(flashback::Args),
    /// Show each row change with names and values, as SQL or JSON lines.
    Decode(decode::Args),
    /// Find the transactions around a time, or the one with a GTID.
    Locate(locate::Args),
    /// Write the selected whole transactions of consecutive binlogs as one binlog.
    Cut(cut::Args),
    // The help of these is their `Args` doc comment.
    Bigtxn(bigtxn::Args),
    Split(split::Args),
    Snapshot(snapshot::Args),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Info(a) => info::run(a),
        Command::Events(a) => events::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Flashback(a) => flashback::run(a),
        Command::Decode(a) => decode::run(a),
        Command::Locate(a) => locate::run(a),
        Command::Cut(a) => cut::run(a),
        Command::Bigtxn(a) => bigtxn::run(a),
        Command::Split(a) => split::run(a),
        Command::Snapshot(a) => snapshot::run(a),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
