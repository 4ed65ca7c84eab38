//! `binlog-tool`: the command line. Parsing arguments and mapping errors to exit codes
//! happens here; the work is in `cli`, and the binlog knowledge in the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A bug must still end as one line and exit status 2, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::say!("binlog-tool: internal error{at}: {}", one_line(&what));
    }));
    let args = cli::Cli::parse();
    // Unwinding drops what the command holds: a half-written output file is removed.
    let outcome = std::panic::catch_unwind(|| cli::run(args));
    let outcome = match (
        outcome.unwrap_or(Err(cli::Failure::Panicked)),
        cli::signals::caught(),
    ) {
        // Whatever a signal made fail (a write refused, a connection killed), the run
        // ended because of the signal.
        (Err(_), Some(sig)) => Err(cli::Failure::Interrupted(sig)),
        (other, _) => other,
    };
    match outcome {
        Ok(code) => code,
        Err(cli::Failure::Panicked) => ExitCode::from(2),
        Err(cli::Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(cli::Failure::Message(m)) => {
            crate::say!("binlog-tool: error: {}", one_line(&m));
            ExitCode::from(2)
        }
        Err(cli::Failure::Interrupted(sig)) => {
            crate::say!("binlog-tool: interrupted by {}", cli::signals::name(sig));
            ExitCode::from(u8::try_from(128 + sig).unwrap_or(2))
        }
    }
}

/// Keeps a message on one line: names and statements taken from a binlog can hold line
/// breaks and control characters.
fn one_line(m: &str) -> String {
    m.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
