//! The archive directory's lock: one `fetch` writes an archive at a time.

use std::fs::File;
use std::path::Path;

use super::msg;
use crate::cli::output::CliResult;

/// The lock file's name in the archive directory.
const LOCK_FILE: &str = ".binlog-tool-fetch.lock";

/// Holds an exclusive lock on DIR/.binlog-tool-fetch.lock while it lives (the system
/// drops it when the process ends, however it ends).
pub struct DirLock {
    _file: File,
}

/// Takes the lock, or says that another fetch holds it.
pub fn lock_dir(dir: &Path) -> CliResult<DirLock> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            msg(format!(
                "{}: cannot create the lock file: {e}",
                path.display()
            ))
        })?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
        |_| {
            msg(format!(
                "{}: another binlog-tool fetch is writing this archive",
                dir.display()
            ))
        },
    )?;
    Ok(DirLock { _file: file })
}
