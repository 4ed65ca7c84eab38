//! SIGINT, SIGTERM and SIGHUP for the commands that write files or hold a server's state:
//! the first one is noted and the run stops at its next check (an output file's next
//! write, or the command's own checks), cleans up as after any failure, and the process
//! exits with 128 + the signal's number (130, 143, 129); a second one ends the process at
//! once with that status.
//!
//! Commands that only print are left with the default actions: nothing of theirs needs
//! cleaning up.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The handlers' state, set up once per process.
struct Watch {
    /// Set by any of the signals.
    any: Arc<AtomicBool>,
    /// The number of the last one.
    which: Arc<AtomicUsize>,
}

static WATCH: OnceLock<Watch> = OnceLock::new();

/// Installs the handlers (once; later calls return the same flag). The flag is set when a
/// signal arrives.
pub fn watch() -> Arc<AtomicBool> {
    let w = WATCH.get_or_init(|| {
        let any = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // The first signal only sets the flags (the shutdown is conditional on a flag
            // not yet set); a second one finds it set and exits.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, any.clone());
            let _ = signal_hook::flag::register_usize(sig, which.clone(), sig as usize);
            let _ = signal_hook::flag::register(sig, any.clone());
        }
        Watch { any, which }
    });
    w.any.clone()
}

/// The signal that arrived, if one did (and the handlers are installed).
pub fn caught() -> Option<i32> {
    let w = WATCH.get()?;
    if !w.any.load(Ordering::Relaxed) {
        return None;
    }
    match w.which.load(Ordering::Relaxed) {
        0 => Some(SIGINT),
        n => i32::try_from(n).ok(),
    }
}

/// The signal's name, as the message says it.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}
