//! Binlog index files (`mysql-bin.index`): one binlog path per line.

use std::path::{Path, PathBuf};

use super::output::{fail, CliResult};

/// One entry of an index file.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    /// Line number (1-based).
    pub line: usize,
    /// The path as written.
    pub written: String,
    /// The path resolved against the index file's directory.
    pub path: PathBuf,
}

/// Reads an index file. Relative entries (`./mysql-bin.000001`) are resolved against the
/// index's own directory, as the server resolves them against its datadir.
pub fn read_index(index: &Path) -> CliResult<Vec<IndexEntry>> {
    let text = std::fs::read_to_string(index)
        .map_err(|e| fail(index, format_args!("cannot read index: {e}")))?;
    let dir = index.parent().unwrap_or(Path::new("."));
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let written = l.trim().to_string();
            let p = Path::new(&written);
            let path = if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            };
            IndexEntry {
                line: i + 1,
                written,
                path,
            }
        })
        .collect())
}
