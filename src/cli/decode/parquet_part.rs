//! One Parquet part being written, its columns encoded on rayon's pool.
//!
//! Batches given to a part wait (a few thousand rows, [`FEED_ROWS`] or [`FEED_BYTES`] at
//! most) until there are enough of them to be worth spreading: then each column's values
//! are encoded into its column writer as one task of the pool (Parquet's
//! [`ArrowColumnWriter`]: levels, dictionary, pages, Snappy). When the row group is
//! full, its column writers are closed on the pool too (their last pages encoded and
//! compressed), and only then appended to the file in column order by the caller's
//! thread: the file's bytes depend on the rows given and never on which thread encoded
//! what.
//!
//! A row group ends at [`ROW_GROUP_ROWS`] rows or [`ROW_GROUP_BYTES`] bytes (as the
//! column writers estimate them encoded): rows past either limit (estimated from the
//! average row's size so far) go to the next row group, as Parquet's `ArrowWriter` splits
//! them. The first batch of a part is encoded as it comes, so that [`Part::size`] (what
//! the caller compares with the part size) and the estimate of the waiting rows' size
//! ([`Part::wants_feed`]) have an average row to go by.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

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
use rayon::prelude::*;

/// Rows of a row group at most.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Bytes of a row group at most (as the column writers estimate them encoded).
pub const ROW_GROUP_BYTES: usize = 32 << 20;
/// Rows waiting to be encoded at most.
pub const FEED_ROWS: usize = 16 * 1024;
/// Bytes of Arrow arrays waiting to be encoded at most.
pub const FEED_BYTES: usize = 16 << 20;

/// The file a part is written to.
type PartFile = SerializedFileWriter<BufWriter<File>>;

/// An open part of a table: its file, the row group being encoded, and the batches
/// waiting to be.
pub struct Part {
    file: PartFile,
    /// Makes the column writers of the next row group.
    factory: ArrowRowGroupWriterFactory,
    /// The properties the part was started with.
    props: WriterProperties,
    /// Per column: whether it is still dictionary-encoded (see [`dictionary_pays`]).
    dictionary: Vec<bool>,
    /// The columns of its batches.
    pub schema: SchemaRef,
    /// The file's path (in the temporary directory), for messages.
    pub path: PathBuf,
    /// When it was last written (a counter), to close the least recent.
    pub used: u64,
    group: Option<RowGroup>,
    waiting: Vec<RecordBatch>,
    waiting_rows: usize,
    waiting_bytes: usize,
    /// Rows encoded (into flushed row groups and the open one).
    rows: usize,
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
        if file.schema_descr().num_columns() != schema.fields().len() {
            return Err(ParquetError::General(
                "a nested column (more than one Parquet column)".into(),
            ));
        }
        let descr = file.schema_descr();
        let dictionary = (0..descr.num_columns())
            .map(|i| props.dictionary_enabled(descr.column(i).path()))
            .collect();
        Ok(Part {
            file,
            factory,
            dictionary,
            props,
            schema: schema.clone(),
            path,
            used: 0,
            group: None,
            waiting: Vec::new(),
            waiting_rows: 0,
            waiting_bytes: 0,
            rows: 0,
        })
    }

    /// Bytes written to the file, and estimated of the open row group (not counting the
    /// batches waiting).
    pub fn size(&self) -> u64 {
        let open = self.group.as_ref().map_or(0, RowGroup::estimated_bytes);
        (self.file.bytes_written() + open) as u64
    }

    /// Takes a batch: it waits with the others, and they are encoded when they are many
    /// or may pass `part_size` (see [`Part::wants_feed`]).
    pub fn push(&mut self, batch: RecordBatch, part_size: u64) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.waiting_rows += batch.num_rows();
        self.waiting_bytes += batch.get_array_memory_size();
        self.waiting.push(batch);
        if self.wants_feed(part_size) {
            self.feed()?;
        }
        Ok(())
    }

    /// Whether the waiting batches are to be encoded now: they are many, or the part
    /// would pass `part_size` with them (at the average size of the rows encoded; before
    /// any, always).
    fn wants_feed(&self, part_size: u64) -> bool {
        if self.waiting_rows >= FEED_ROWS || self.waiting_bytes >= FEED_BYTES {
            return true;
        }
        if self.rows == 0 {
            return true;
        }
        let size = self.size();
        let per_row = size / self.rows as u64;
        size.saturating_add(per_row.saturating_mul(self.waiting_rows as u64)) >= part_size
    }

    /// Encodes the waiting batches into row groups, each column on the pool, flushing
    /// the row groups that fill.
    pub fn feed(&mut self) -> Result<()> {
        let mut rest = std::mem::take(&mut self.waiting).into_iter();
        let mut next = rest.next();
        self.waiting_rows = 0;
        self.waiting_bytes = 0;
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
            None => RowGroup {
                writers: self
                    .factory
                    .create_column_writers(self.file.flushed_row_groups().len())?,
                rows: 0,
            },
        };
        Ok(self.group.insert(group))
    }

    /// Encodes `batches` (`rows` in all, which fit) into the open row group, each column
    /// a task of the pool; flushes the row group when it is full.
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
        let full = group.room() == 0;
        self.rows += rows;
        if full {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Closes the open row group's columns on the pool and appends them to the file in
    /// order.
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
        let dropped = self.drop_dictionaries(&chunks);
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        if dropped {
            self.factory = self.plainer_factory()?;
        }
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
        let descr = self.file.schema_descr();
        let mut props = self.props.clone().into_builder();
        for (i, on) in self.dictionary.iter().enumerate() {
            if !on {
                props = props.set_column_dictionary_enabled(descr.column(i).path().clone(), false);
            }
        }
        // The factory takes its schema and properties from a file writer: this one writes
        // nowhere.
        let model = SerializedFileWriter::new(
            std::io::sink(),
            descr.root_schema_ptr(),
            Arc::new(props.build()),
        )?;
        Ok(ArrowRowGroupWriterFactory::new(&model, self.schema.clone()))
    }

    /// Encodes what is waiting, flushes the last row group and writes the footer.
    pub fn close(mut self) -> Result<()> {
        self.feed()?;
        self.flush_group()?;
        self.file.close()?;
        Ok(())
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
