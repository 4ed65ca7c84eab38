//! The subcommands. Each has an `Args` struct (its doc comment is the help text) and a
//! `run`; the argument groups they share are in `args`, output plumbing in `output`.

pub mod args;
pub mod bigtxn;
pub mod chain;
pub mod connection;
pub mod cut;
pub mod decode;
pub mod event_info;
pub mod events;
pub mod fetch;
pub mod flashback;
pub mod flashback_check;
pub mod index_file;
pub mod info;
pub mod locate;
pub mod output;
pub mod report;
pub mod schema_source;
pub mod signals;
pub mod size;
pub mod snapshot;
pub mod split;
pub mod temp_file;
pub mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use output::Failure;

/// Tools for MySQL and MariaDB binary logs: inspect, verify, undo, split, snapshot, fetch.
///
/// Exit status: 0 success; 1 the command ran but found problems (verify, a truncated file
/// in info or bigtxn, CRC errors while listing, locate found nothing, a file cut short
/// inside the selection of flashback, cut, decode or split, whose output is written up to
/// the cut); 2 an error stopped it (bad input, unreadable file, refused input, bad
/// arguments, a failed write), with one line on stderr naming the file and byte offset
/// (or the output), and nothing left at -o; 130, 143, 129 a command writing -o FILE
/// stopped by SIGINT, SIGTERM, SIGHUP (its file removed). Output closed early (`| head`)
/// ends quietly with 0.
#[derive(Debug, Parser)]
#[command(name = "binlog-tool", version, propagate_version = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. The help of each is its `Args` doc comment: a one-line description,
/// the details, and the exit status.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)]
pub enum Command {
    Info(info::Args),
    Events(events::Args),
    Verify(verify::Args),
    Flashback(flashback::Args),
    Decode(decode::Args),
    Locate(locate::Args),
    Cut(cut::Args),
    Bigtxn(bigtxn::Args),
    Report(report::Args),
    Split(split::Args),
    Snapshot(snapshot::Args),
    Fetch(fetch::Args),
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
        Command::Report(a) => report::run(a),
        Command::Split(a) => split::run(a),
        Command::Snapshot(a) => snapshot::run(a),
        Command::Fetch(a) => fetch::run(a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// `binlog-tool CMD --help` shows the command's own one-line description (also listed
    /// by `binlog-tool --help`) and its exit status.
    #[test]
    fn every_subcommand_help_has_its_description_and_exit_status() {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cli = super::Cli::command();
        cli.build();
        let top = words(&cli.render_help().to_string());
        let mut seen = std::collections::BTreeSet::new();
        for sub in cli.get_subcommands_mut() {
            let name = sub.get_name().to_string();
            if name == "help" {
                continue;
            }
            let about = words(&sub.get_about().map(|a| a.to_string()).unwrap_or_default());
            assert!(about.len() > 20, "{name}: no description");
            assert!(
                seen.insert(about.clone()),
                "{name}: description of another command"
            );
            let long = words(&sub.render_long_help().to_string());
            assert!(long.contains(&about), "{name}: --help lacks {about:?}");
            assert!(
                long.contains("Exit status"),
                "{name}: --help lacks the exit status"
            );
            assert!(top.contains(&about), "binlog-tool --help lacks {about:?}");
        }
        assert_eq!(seen.len(), 12);
    }
}
