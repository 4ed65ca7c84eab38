//! SIGINT, SIGTERM and SIGHUP as a flag the long-running commands look at.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// SIGINT, SIGTERM and SIGHUP set the returned flag: the command stops at its next check
/// (a second signal ends the process at once, with status 130).
pub fn watch_signals() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // The conditional shutdown comes first: it sees the flag as the earlier signals
        // left it.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}
