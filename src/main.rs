//! `binlog-tool`: the command line. Parsing arguments and mapping errors to exit codes
//! happens here; the work is in `cli`, and the binlog knowledge in the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(cli::Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(cli::Failure::Message(m)) => {
            eprintln!("binlog-tool: error: {m}");
            ExitCode::from(2)
        }
    }
}
