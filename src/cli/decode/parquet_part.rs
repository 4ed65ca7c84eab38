//! One Parquet part being written, its rows encoded on rayon's pool while the sink goes
//! on.
//!
//! Batches given to a part wait (up to [`FEED_ROWS`] rows or [`FEED_BYTES`] bytes) until
//! there are enough of them to be worth a job: then the part's [`Encoder`] (the column
//! writers of its open row group, Parquet's [`ArrowColumnWriter`]s: levels, dictionary,
//! pages, Snappy) is handed with them to a job spawned on the pool, which encodes each
//! column as a task of its own, and closes the row groups that fill (their last pages
//! encoded and compressed, column by column too). The sink does not wait for it: the
//! next chunks are rendered meanwhile, and the job's column that takes longest does not
//! hold the other threads up. The part takes its encoder back when it needs it (the next
//! job, the end of the part) or finds it done, and only then appends the closed row
//! groups' columns to the file, in order, on the sink's thread: the file's bytes depend
//! on the rows given, never on which thread encoded what.
//!
//! A row group ends at [`ROW_GROUP_ROWS`] rows or [`ROW_GROUP_BYTES`] bytes (as the
//! column writers estimate them encoded): rows past either limit (estimated from the
//! average row's size so far) go to the next row group, as Parquet's `ArrowWriter` splits
//! them. A job is waited for at once when it was started because the part may pass its
//! size (its first batch, which gives the average row's size to go by, and the batches
//! that may end it; see [`Part::wants_feed`]), so that parts end where they pass it.
//!
//! Dictionary encoding is dropped for the rest of a part for a column whose dictionary
//! did not pay in a row group ([`dictionary_pays`]): hashing nearly distinct values costs
//! much and saves nothing.

use std::fs::File;
use std::io::BufWriter;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Encoding, PageType};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::{ParquetError, Result};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, TypePtr};
use rayon::prelude::*;

/// Rows of a row group at most.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Bytes of a row group at most (as the column writers estimate them encoded).
pub const ROW_GROUP_BYTES: usize = 32 << 20;
/// Rows waiting to be encoded at most.
pub const FEED_ROWS: usize = 4 * 1024;
/// Bytes of Arrow arrays waiting to be encoded at most.
pub const FEED_BYTES: usize = 4 << 20;

/// The file a part is written to.
type PartFile = SerializedFileWriter<BufWriter<File>>;

/// An open part of a table: its file, its encoder (or the job that has it), and the
/// batches waiting to be encoded.
pub struct Part {
    file: PartFile,
    /// The columns of its batches.
    pub schema: SchemaRef,
    /// The file's path (in the temporary directory), for messages.
    pub path: PathBuf,
    /// When it was last written (a counter), to close the least recent.
    pub used: u64,
    encoder: State,
    waiting: Vec<RecordBatch>,
    waiting_rows: usize,
    waiting_bytes: usize,
    /// Rows handed to the encoder.
    rows: usize,
    /// The open row group's estimated size when the encoder was last seen.
    open_bytes: usize,
}

/// Where a part's encoder is.
enum State {
    /// Here.
    Idle(Box<Encoder>),
    /// With a job on the pool.
    Busy(Arc<Job>),
    /// Out: being handed to a job, or lost with a job's error.
    Out,
}

/// A job's outcome: the encoder back, or its error.
struct Job {
    done: Mutex<Option<Result<Box<Encoder>>>>,
    ready: Condvar,
}

/// What encodes a part's rows: the column writers of its open row group, and what makes
/// those of the next ones.
struct Encoder {
    factory: ArrowRowGroupWriterFactory,
    /// The properties the part was started with.
    props: WriterProperties,
    /// The Parquet schema (its root), and its columns' paths.
    root: TypePtr,
    paths: Vec<ColumnPath>,
    schema: SchemaRef,
    /// Per column: whether it is still dictionary-encoded.
    dictionary: Vec<bool>,
    group: Option<RowGroup>,
    /// Row groups started (the next one's index).
    started: usize,
    /// Row groups closed and not yet appended to the file: their columns' chunks.
    closed: Vec<Vec<ArrowColumnChunk>>,
}

/// The row group being encoded: one writer per column.
struct RowGroup {
    writers: Vec<ArrowColumnWriter>,
    rows: usize,
}

impl RowGroup {
    /// Its size encoded, as the column writers estimate it.
    fn estimated_bytes(&self) -> usize {
        self.writers
            .iter()
            .map(|w| w.get_estimated_total_bytes())
            .sum()
    }

    /// Rows that still fit in it (0: it is full).
    fn room(&self) -> usize {
        let room = ROW_GROUP_ROWS.saturating_sub(self.rows);
        let bytes = self.estimated_bytes();
        let Some(per_row) = bytes.checked_div(self.rows) else {
            return room;
        };
        if bytes >= ROW_GROUP_BYTES {
            return 0;
        }
        match (ROW_GROUP_BYTES - bytes).checked_div(per_row) {
            Some(fit) => room.min(fit),
            None => room,
        }
    }
}

impl Part {
    /// Starts a part in `file` for batches of `schema`.
    pub fn create(
        file: File,
        path: PathBuf,
        schema: &SchemaRef,
        props: WriterProperties,
    ) -> Result<Part> {
        let out = BufWriter::with_capacity(1 << 20, file);
        // ArrowWriter writes the Parquet schema and the Arrow schema in the metadata;
        // the rows are then given to its file writer by row group.
        let (file, factory) = ArrowWriter::try_new(out, schema.clone(), Some(props.clone()))?
            .into_serialized_writer()?;
        let descr = file.schema_descr();
        if descr.num_columns() != schema.fields().len() {
            return Err(ParquetError::General(
                "a nested column (more than one Parquet column)".into(),
            ));
        }
        let paths: Vec<ColumnPath> = descr.columns().iter().map(|c| c.path().clone()).collect();
        let dictionary = paths.iter().map(|p| props.dictionary_enabled(p)).collect();
        let encoder = Encoder {
            factory,
            props,
            root: descr.root_schema_ptr(),
            paths,
            schema: schema.clone(),
            dictionary,
            group: None,
            started: 0,
            closed: Vec::new(),
        };
        Ok(Part {
            file,
            schema: schema.clone(),
            path,
            used: 0,
            encoder: State::Idle(Box::new(encoder)),
            waiting: Vec::new(),
            waiting_rows: 0,
            waiting_bytes: 0,
            rows: 0,
            open_bytes: 0,
        })
    }

    /// Bytes written to the file, and estimated of the open row group when its encoder
    /// was last seen (not counting the rows waiting or being encoded).
    pub fn size(&self) -> u64 {
        (self.file.bytes_written() + self.open_bytes) as u64
    }

    /// Takes a batch: it waits with the others, and they are handed to a job when they
    /// are many or may pass `part_size` (see [`Part::wants_feed`]).
    pub fn push(&mut self, batch: RecordBatch, part_size: u64) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.collect(false)?;
        self.waiting_rows += batch.num_rows();
        self.waiting_bytes += batch.get_array_memory_size();
        self.waiting.push(batch);
        if self.waiting_rows >= FEED_ROWS || self.waiting_bytes >= FEED_BYTES {
            self.feed()?;
        } else if self.wants_feed(part_size) {
            self.feed()?;
            self.collect(true)?;
        }
        Ok(())
    }

    /// Whether the part may pass `part_size` with the waiting batches (at the average
    /// size of the rows encoded; before any, always).
    fn wants_feed(&self, part_size: u64) -> bool {
        if self.rows == 0 {
            return true;
        }
        let size = self.size();
        let per_row = size / self.rows as u64;
        size.saturating_add(per_row.saturating_mul(self.waiting_rows as u64)) >= part_size
    }

    /// Hands the waiting batches to a job on the pool (once the encoder is back from the
    /// job before, if it is out).
    fn feed(&mut self) -> Result<()> {
        let batches = std::mem::take(&mut self.waiting);
        self.waiting_rows = 0;
        self.waiting_bytes = 0;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        self.rows += rows;
        let mut encoder = self.take_encoder()?;
        let job = Arc::new(Job {
            done: Mutex::new(None),
            ready: Condvar::new(),
        });
        self.encoder = State::Busy(job.clone());
        rayon::spawn(move || {
            let fed = catch_unwind(AssertUnwindSafe(|| encoder.feed(batches)));
            let outcome = match fed {
                Ok(Ok(())) => Ok(encoder),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(ParquetError::General("a thread panicked".into())),
            };
            job.finish(outcome);
        });
        Ok(())
    }

    /// Takes the encoder back from its job (waiting for it when `wait`, else only if it
    /// is done), and appends the row groups it closed to the file.
    fn collect(&mut self, wait: bool) -> Result<()> {
        let outcome = match &self.encoder {
            State::Idle(_) | State::Out => return Ok(()),
            State::Busy(job) if wait => job.wait(),
            State::Busy(job) => match job.try_take() {
                Some(outcome) => outcome,
                None => return Ok(()),
            },
        };
        match outcome {
            Ok(encoder) => {
                self.encoder = State::Idle(encoder);
                self.append_closed()
            }
            Err(e) => {
                self.encoder = State::Out;
                Err(e)
            }
        }
    }

    /// The encoder, out of its state (waiting for its job), the row groups it closed
    /// appended to the file.
    fn take_encoder(&mut self) -> Result<Box<Encoder>> {
        self.collect(true)?;
        match std::mem::replace(&mut self.encoder, State::Out) {
            State::Idle(e) => Ok(e),
            _ => Err(ParquetError::General("the encoder is lost".into())),
        }
    }

    /// Appends the row groups the encoder closed to the file, in order.
    fn append_closed(&mut self) -> Result<()> {
        let State::Idle(encoder) = &mut self.encoder else {
            return Ok(());
        };
        for chunks in encoder.closed.drain(..) {
            let mut row_group = self.file.next_row_group()?;
            for chunk in chunks {
                chunk.append_to_row_group(&mut row_group)?;
            }
            row_group.close()?;
        }
        self.open_bytes = encoder.group.as_ref().map_or(0, RowGroup::estimated_bytes);
        Ok(())
    }

    /// Encodes what is waiting, flushes the last row group and writes the footer.
    pub fn close(mut self) -> Result<()> {
        if !self.waiting.is_empty() {
            self.feed()?;
        }
        let mut encoder = self.take_encoder()?;
        encoder.flush_group()?;
        self.encoder = State::Idle(encoder);
        self.append_closed()?;
        self.file.close()?;
        Ok(())
    }
}

impl Job {
    /// Stores the outcome and wakes the waiter.
    fn finish(&self, outcome: Result<Box<Encoder>>) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        *done = Some(outcome);
        self.ready.notify_all();
    }

    /// The outcome, if the job is done.
    fn try_take(&self) -> Option<Result<Box<Encoder>>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Waits for the outcome. A thread of the pool runs the pool's jobs meanwhile (this
    /// one among them, maybe: with one thread it has to).
    fn wait(&self) -> Result<Box<Encoder>> {
        loop {
            if let Some(outcome) = self.try_take() {
                return outcome;
            }
            if matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {
                continue;
            }
            let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            if done.is_none() {
                // Woken by the job, or in a while to look for other work of the pool.
                let _ = self.ready.wait_timeout(done, Duration::from_millis(1));
            }
        }
    }
}

impl Encoder {
    /// Encodes `batches` into row groups, each column a task of the pool, closing the
    /// row groups that fill.
    fn feed(&mut self, batches: Vec<RecordBatch>) -> Result<()> {
        let mut rest = batches.into_iter();
        let mut next = rest.next();
        while next.is_some() {
            let room = self.open_group()?.room();
            if room == 0 {
                self.flush_group()?;
                continue;
            }
            let mut take = Vec::new();
            let mut rows = 0;
            while let Some(b) = next.take() {
                if rows == room {
                    next = Some(b);
                    break;
                }
                let n = b.num_rows();
                if rows + n > room {
                    let fit = room - rows;
                    take.push(b.slice(0, fit));
                    next = Some(b.slice(fit, n - fit));
                    rows += fit;
                    break;
                }
                rows += n;
                take.push(b);
                next = rest.next();
            }
            self.encode(&take, rows)?;
        }
        Ok(())
    }

    /// The open row group, started when there is none.
    fn open_group(&mut self) -> Result<&mut RowGroup> {
        let group = match self.group.take() {
            Some(g) => g,
            None => {
                let writers = self.factory.create_column_writers(self.started)?;
                self.started += 1;
                RowGroup { writers, rows: 0 }
            }
        };
        Ok(self.group.insert(group))
    }

    /// Encodes `batches` (`rows` in all, which fit) into the open row group, each column
    /// a task of the pool; closes the row group when it is full.
    fn encode(&mut self, batches: &[RecordBatch], rows: usize) -> Result<()> {
        let schema = self.schema.clone();
        let fields = schema.fields();
        let group = self.open_group()?;
        group
            .writers
            .par_iter_mut()
            .with_max_len(1)
            .enumerate()
            .try_for_each(|(i, writer)| {
                for b in batches {
                    for leaf in compute_leaves(&fields[i], b.column(i))? {
                        writer.write(&leaf)?;
                    }
                }
                Ok::<(), ParquetError>(())
            })?;
        group.rows += rows;
        if group.room() == 0 {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Closes the open row group's columns on the pool, for the part to append.
    fn flush_group(&mut self) -> Result<()> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        let chunks: Vec<ArrowColumnChunk> = group
            .writers
            .into_par_iter()
            .with_max_len(1)
            .map(ArrowColumnWriter::close)
            .collect::<Result<_>>()?;
        if self.drop_dictionaries(&chunks) {
            self.factory = self.plainer_factory()?;
        }
        self.closed.push(chunks);
        Ok(())
    }

    /// Notes the columns whose dictionary did not pay in a row group: they are written
    /// without one in the part's next row groups. True when there is one.
    fn drop_dictionaries(&mut self, chunks: &[ArrowColumnChunk]) -> bool {
        let mut dropped = false;
        for (on, chunk) in self.dictionary.iter_mut().zip(chunks) {
            if *on && !dictionary_pays(chunk.close()) {
                *on = false;
                dropped = true;
            }
        }
        dropped
    }

    /// A factory of column writers without a dictionary for the columns noted so.
    fn plainer_factory(&self) -> Result<ArrowRowGroupWriterFactory> {
        let mut props = self.props.clone().into_builder();
        for (path, on) in self.paths.iter().zip(&self.dictionary) {
            if !on {
                props = props.set_column_dictionary_enabled(path.clone(), false);
            }
        }
        // The factory takes its schema and properties from a file writer: this one writes
        // nowhere.
        let model =
            SerializedFileWriter::new(std::io::sink(), self.root.clone(), Arc::new(props.build()))?;
        Ok(ArrowRowGroupWriterFactory::new(&model, self.schema.clone()))
    }
}

/// Whether a column chunk's dictionary paid: its values were not nearly all distinct.
/// Not when the dictionary outgrew its page and the writer fell back to plain pages,
/// nor when the dictionary page is half the chunk or more (as Parquet's Arrow writer
/// defers it, it is the chunk's last page: from its offset to the end).
fn dictionary_pays(close: &ColumnCloseResult) -> bool {
    let meta = &close.metadata;
    let Some(at) = meta.dictionary_page_offset() else {
        return true;
    };
    let fell_back = meta.page_encoding_stats().is_some_and(|stats| {
        stats
            .iter()
            .any(|s| s.page_type != PageType::DICTIONARY_PAGE && s.encoding == Encoding::PLAIN)
    });
    let dictionary = meta.compressed_size() - at;
    !fell_back && dictionary * 2 < meta.compressed_size()
}
