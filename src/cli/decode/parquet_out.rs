//! `decode --format parquet -o DIR`: the output directory, one folder per table
//! (`DIR/db.table/`) holding its parts `part-0.parquet`, `part-1.parquet`, … numbered from
//! 0 in the order written.
//!
//! The whole directory is written under a temporary name beside DIR
//! (`.DIR.tmp-PID`) and renamed to DIR once every part is closed and synced: on an
//! error or a signal it is removed, and DIR never holds a part half written. DIR must
//! not exist, or be an empty directory.
//!
//! A table's part ends when it passes `--part-size` bytes, when the table's columns
//! change (count, names or types: the next part has the new schema), or when more
//! than [`MAX_OPEN`] tables are being written (the least recently written one's part is
//! closed, so memory stays bounded with many tables).
//!
//! The batches come in order on the sink's thread (one of rayon's pool, while the
//! others render the next chunks); each open part ([`Part`]) gathers a table's batches
//! and encodes them column by column as tasks of the pool, so the pool threads done
//! rendering take columns to encode, and the sink's thread, waiting on them, takes
//! chunks to render. Row groups are flushed as they reach
//! [`ROW_GROUP_ROWS`](super::parquet_part::ROW_GROUP_ROWS) rows or
//! [`ROW_GROUP_BYTES`](super::parquet_part::ROW_GROUP_BYTES) bytes; their columns are appended to the file in order on the
//! sink's thread, so the output is the same whatever thread encoded what.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::arrow_rows::TableBatch;
use super::parquet_part::Part;
use super::pipeline::Sink;
use crate::cli::output::{fail, CliResult, Failure};
use crate::cli::signals;

/// Tables whose part is open at once.
pub const MAX_OPEN: usize = 32;
/// The output directory being written.
pub struct ParquetDir {
    /// DIR, as given.
    target: PathBuf,
    /// The temporary directory, until it is renamed to DIR.
    temp: Option<PathBuf>,
    part_size: u64,
    open: HashMap<String, Part>,
    /// The next part's number of each table.
    next_part: HashMap<String, u32>,
    /// Part files closed (synced at the end).
    closed: Vec<PathBuf>,
    clock: u64,
    props: WriterProperties,
}

impl ParquetDir {
    /// Refuses DIR when it exists and is not an empty directory; creates the temporary
    /// directory beside it (and watches signals, so that it is removed on one).
    pub fn create(target: &Path, part_size: u64) -> CliResult<ParquetDir> {
        if target == Path::new("-") {
            return Err(Failure::Message(
                "--format parquet writes a directory of files: give it with -o DIR".into(),
            ));
        }
        match std::fs::read_dir(target) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(fail(
                        target,
                        "exists and is not empty: refusing to write Parquet parts into it",
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(target, format_args!("cannot use as the output: {e}"))),
        }
        let parent = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| fail(target, "output must name a directory"))?
            .to_string_lossy()
            .into_owned();
        signals::watch();
        if let Some(sig) = signals::caught() {
            return Err(Failure::Interrupted(sig));
        }
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        std::fs::create_dir(&temp)
            .map_err(|e| fail(target, format_args!("cannot create the output: {e}")))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("binlog-tool {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ParquetDir {
            target: target.to_path_buf(),
            temp: Some(temp),
            part_size,
            open: HashMap::new(),
            next_part: HashMap::new(),
            closed: Vec::new(),
            clock: 0,
            props,
        })
    }

    fn temp(&self) -> &Path {
        self.temp.as_deref().unwrap_or(&self.target)
    }

    fn parquet_error(&self, path: &Path, e: impl std::fmt::Display) -> Failure {
        if let Some(sig) = signals::caught() {
            return Failure::Interrupted(sig);
        }
        let shown = self
            .target
            .join(path.strip_prefix(self.temp()).unwrap_or(path));
        fail(&shown, format_args!("writing: {e}"))
    }

    /// Closes the open part of `key`.
    fn close(&mut self, key: &str) -> CliResult<()> {
        if let Some(p) = self.open.remove(key) {
            let path = p.path.clone();
            p.close().map_err(|e| self.parquet_error(&path, e))?;
            self.closed.push(path);
        }
        Ok(())
    }

    /// Starts the next part of `key` with `schema`.
    fn start(&mut self, key: &str, schema: &SchemaRef) -> CliResult<()> {
        if self.open.len() >= MAX_OPEN {
            let oldest = self
                .open
                .iter()
                .min_by_key(|(_, p)| p.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.close(&k)?;
            }
        }
        let dir = self.temp().join(folder_name(key));
        let n = self.next_part.entry(key.to_string()).or_insert(0);
        let path = dir.join(format!("part-{n}.parquet"));
        *n += 1;
        if !dir.is_dir() {
            std::fs::create_dir(&dir).map_err(|e| self.parquet_error(&dir, e))?;
        }
        let file = File::create(&path).map_err(|e| self.parquet_error(&path, e))?;
        let part = Part::create(file, path.clone(), schema, self.props.clone())
            .map_err(|e| self.parquet_error(&path, e))?;
        self.open.insert(key.to_string(), part);
        Ok(())
    }

    /// Gives a batch to its table's part.
    fn write(&mut self, b: TableBatch) -> CliResult<()> {
        if let Some(sig) = signals::caught() {
            return Err(Failure::Interrupted(sig));
        }
        let schema = b.batch.schema();
        let same = self.open.get(&b.key).map(|p| p.schema == schema);
        match same {
            Some(true) => {}
            Some(false) => {
                self.close(&b.key)?;
                self.start(&b.key, &schema)?;
            }
            None => self.start(&b.key, &schema)?,
        }
        self.clock += 1;
        let clock = self.clock;
        let Some(p) = self.open.get_mut(&b.key) else {
            return Ok(());
        };
        p.used = clock;
        if let Err(e) = p.push(b.batch, self.part_size) {
            let path = p.path.clone();
            return Err(self.parquet_error(&path, e));
        }
        if p.size() >= self.part_size {
            self.close(&b.key)?;
        }
        Ok(())
    }

    /// Closes every part, syncs them, and renames the directory to DIR. Returns the
    /// number of parts written.
    pub fn commit(mut self) -> CliResult<usize> {
        let keys: Vec<String> = self.open.keys().cloned().collect();
        for k in keys {
            self.close(&k)?;
        }
        for p in &self.closed {
            File::open(p)
                .and_then(|f| f.sync_all())
                .map_err(|e| self.parquet_error(p, e))?;
        }
        if let Some(sig) = signals::caught() {
            return Err(Failure::Interrupted(sig));
        }
        let parts = self.closed.len();
        if let Some(temp) = self.temp.take() {
            // An empty DIR is replaced (rename(2) allows that for an empty directory).
            if let Err(e) = std::fs::rename(&temp, &self.target) {
                let _ = std::fs::remove_dir_all(&temp);
                return Err(fail(
                    &self.target,
                    format_args!("cannot move output into place: {e}"),
                ));
            }
        }
        Ok(parts)
    }
}

impl Drop for ParquetDir {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            self.open.clear();
            let _ = std::fs::remove_dir_all(temp);
        }
    }
}

impl Sink for ParquetDir {
    fn text(&mut self, s: &[u8]) -> CliResult<()> {
        debug_assert!(s.is_empty(), "no text goes to Parquet");
        Ok(())
    }

    fn tables(&mut self, batches: &mut Vec<TableBatch>) -> CliResult<()> {
        for b in batches.drain(..) {
            self.write(b)?;
        }
        Ok(())
    }
}

/// A table's folder name: `db.table`, with `/`, `%`, control characters and a leading
/// `.` written as `%XX` so that every name is one plain folder.
pub fn folder_name(key: &str) -> String {
    let mut s = String::with_capacity(key.len());
    for (i, c) in key.chars().enumerate() {
        if c == '/' || c == '%' || c == '\\' || c.is_control() || (i == 0 && c == '.') {
            let mut b = [0u8; 4];
            for x in c.encode_utf8(&mut b).bytes() {
                s.push_str(&format!("%{x:02X}"));
            }
        } else {
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::folder_name;

    #[test]
    fn folder_names_are_one_plain_folder() {
        assert_eq!(folder_name("db.t"), "db.t");
        assert_eq!(folder_name("a/b.c%d"), "a%2Fb.c%25d");
        assert_eq!(folder_name(".."), "%2E.");
    }
}
