//! Rendering in parallel, written in order.
//!
//! The walk gathers selected transactions into chunks of a quarter megabyte of binlog
//! (each with the schema its transactions see), and chunks into batches. Each batch is
//! rendered on rayon's pool (an ordered parallel iterator, each pool thread keeping its
//! renderer, and so its table contexts, from one batch to the next) while the batch before
//! it is written and the next one gathered: `rayon::join` of the two sides, in a loop.
//! There are no channels: when the writing fails (a closed pipe, a full disk) the loop
//! ends once the batch being rendered is done, and nothing can wait for a peer that
//! stopped. At most two batches are in memory, and the text buffers of one are rendered
//! into again two batches later. A transaction too big for a chunk is rendered between
//! batches, its pieces written as they fill.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use binlog::filter::{self, Filter};
use binlog::schema::{Catalog, SchemaHistory, Start};
use binlog::txn::{Transaction, TxnKind};
use binlog::{Binlog, BinlogFile, EventData, EventType, Events, Format};
use rayon::prelude::*;

use super::arrow_rows::{ArrowSetup, TableBatch};
use super::render::{Output, Renderer, TxnPiece};
use super::DecodeFormat;
use crate::cli::chain::tell_outcome;
use crate::cli::output::{fail_at, CliResult, Failure, OutputFile};

/// Transactions up to this size are rendered in chunks on the pool; bigger ones are
/// rendered in pieces as they go, so memory stays bounded.
const BATCH_TXN_MAX: u64 = 4 << 20;
/// A chunk ends when it holds this many bytes of binlog.
const CHUNK_BYTES: u64 = 256 << 10;
/// Chunks in a batch, per pool thread.
const CHUNKS_PER_THREAD: usize = 8;

/// The inputs: mapped files, the names rendered for them, their paths for messages.
pub struct Sources<'a> {
    /// The mapped files.
    pub files: &'a [BinlogFile],
    /// Their names as the output shows them.
    pub names: &'a [String],
    /// Their paths, for messages.
    pub paths: &'a [PathBuf],
}

/// How to render.
#[derive(Clone, Copy)]
pub struct Setup<'a> {
    /// SQL or JSON lines.
    pub format: DecodeFormat,
    /// The selection.
    pub filter: &'a Filter,
    /// Parquet: what to do with values Arrow cannot hold.
    pub arrow: &'a ArrowSetup,
}

/// Where rendered chunks go: text to an output file, Arrow batches to a Parquet
/// directory.
pub trait Sink: Send {
    /// Writes rendered text (UTF-8).
    fn text(&mut self, s: &[u8]) -> CliResult<()>;
    /// Writes (and takes) tables' batches.
    fn tables(&mut self, batches: &mut Vec<TableBatch>) -> CliResult<()>;
}

impl Sink for OutputFile {
    fn text(&mut self, s: &[u8]) -> CliResult<()> {
        self.write_all(s).map_err(Failure::from)
    }
    fn tables(&mut self, batches: &mut Vec<TableBatch>) -> CliResult<()> {
        debug_assert!(batches.is_empty(), "no batches go to a text output");
        batches.clear();
        Ok(())
    }
}

/// A failure of the sink, as an I/O error for the renderer to pass back (its message
/// kept; a signal is found again by [`fail_at`]).
fn as_io(f: Failure) -> std::io::Error {
    match f {
        Failure::BrokenPipe => std::io::ErrorKind::BrokenPipe.into(),
        Failure::Message(m) => std::io::Error::other(m),
        Failure::Panicked => std::io::Error::other("a thread panicked"),
        Failure::Interrupted(_) => std::io::Error::other("interrupted"),
    }
}

/// Transactions of one file, rendered together, and the schema they see.
struct Chunk {
    file: usize,
    txns: Vec<Transaction>,
    schema: Option<Arc<Catalog>>,
}

/// A rendered chunk: its text, and the notes (statements left out) for stderr, told when
/// it is written.
struct Rendered {
    text: Output,
    notes: Vec<String>,
    tables: Vec<TableBatch>,
}

/// What the walk gathered: whole chunks, and then what stopped the gathering.
struct Batch {
    chunks: Vec<Chunk>,
    then: Then,
}

/// What comes after a batch's chunks.
enum Then {
    /// More batches.
    More,
    /// A transaction too big for a chunk, to render here (file index, transaction, the
    /// schema it sees).
    Big(usize, Transaction, Option<Arc<Catalog>>),
    /// The end of the inputs.
    End,
    /// An error of the walk (the transactions gathered into a chunk not yet whole are
    /// dropped with it).
    Failed(Failure),
}

/// Renders the selected transactions of `sources` on the pool and writes them to `out`
/// in their order, each seeing the schema of its position when `history` is given.
/// Returns the output, for the caller to commit, the history at the end, and whether a
/// file is cut short inside the selection (its notes are on stderr).
pub fn render_in_order<O: Sink>(
    sources: &Sources,
    setup: Setup,
    history: Option<SchemaHistory>,
    to_the_end: bool,
    mut out: O,
) -> CliResult<(O, Option<SchemaHistory>, bool)> {
    let threads = rayon::current_num_threads().max(1);
    let renderers: Vec<Mutex<Renderer>> = (0..threads)
        .map(|_| Mutex::new(Renderer::new(setup)))
        .collect();
    let mut streaming = Renderer::new(setup);
    let mut walk = Walk::new(sources, setup.filter, history, to_the_end);
    let batch_chunks = threads * CHUNKS_PER_THREAD;
    let mut batch = walk.next_batch(batch_chunks);
    let mut ready: Vec<Result<Rendered, Failure>> = Vec::new();
    // Buffers of written chunks, rendered into again: fresh ones would each be faulted
    // in page by page.
    let mut spare: Vec<Output> = Vec::new();
    loop {
        let Batch { chunks, then } = batch;
        let more = matches!(then, Then::More | Then::Big(..));
        let buffers = std::mem::take(&mut spare);
        // The pool renders this batch while this side writes the one before and gathers
        // the next.
        let ((written, next), rendered) = rayon::join(
            || {
                let written = write_all(&mut out, std::mem::take(&mut ready));
                let next = (more && written.is_ok()).then(|| walk.next_batch(batch_chunks));
                (written, next)
            },
            || render_batch(sources, &renderers, chunks, buffers),
        );
        spare = written?;
        ready = rendered;
        match then {
            Then::More => {}
            Then::Big(file, txn, schema) => {
                spare.extend(write_all(&mut out, std::mem::take(&mut ready))?);
                if setup.format == DecodeFormat::Jsonl && txn.kind != TxnKind::Payload {
                    let big = Big {
                        file,
                        txn: &txn,
                        schema: schema.as_ref(),
                    };
                    stream_pieces(sources, &renderers, &big, &mut out)?;
                } else {
                    streaming.set_schema(schema.as_ref());
                    stream(sources, &mut streaming, file, &txn, &mut out)?;
                }
            }
            Then::End => {
                write_all(&mut out, ready)?;
                return Ok((out, walk.history, walk.damaged));
            }
            Then::Failed(e) => {
                write_all(&mut out, ready)?;
                return Err(e);
            }
        }
        // Gathered above, since there was more.
        batch = next.unwrap_or(Batch {
            chunks: Vec::new(),
            then: Then::More,
        });
    }
}

/// Writes what a renderer rendered: its SQL text, or its JSON lines.
fn write_output(out: &mut impl Sink, o: &Output) -> CliResult<()> {
    out.text(o.text.as_bytes())?;
    out.text(&o.lines)
}

/// Writes rendered chunks in order (their notes on stderr first), up to the first that
/// failed (whose error it returns). Returns their text buffers, emptied.
fn write_all(
    out: &mut impl Sink,
    rendered: Vec<Result<Rendered, Failure>>,
) -> CliResult<Vec<Output>> {
    let mut buffers = Vec::with_capacity(rendered.len());
    for piece in rendered {
        let mut piece = piece?;
        for n in &piece.notes {
            crate::say!("binlog-tool: note: {n}");
        }
        write_output(out, &piece.text)?;
        out.tables(&mut piece.tables)?;
        piece.text.clear();
        buffers.push(piece.text);
    }
    Ok(buffers)
}

/// Renders `items` on the pool, in their order, each with the renderer of the pool
/// thread that takes it, into the empty `buffers` (then into new ones): `render` renders
/// one item into the renderer's buffer.
fn on_the_pool<'s, T: Send>(
    renderers: &[Mutex<Renderer<'s>>],
    items: Vec<T>,
    buffers: Vec<Output>,
    render: impl Fn(&mut Renderer<'s>, T) -> Result<(), Failure> + Sync,
) -> Vec<Result<Rendered, Failure>> {
    let buffers = buffers
        .into_iter()
        .chain(std::iter::repeat_with(Output::default));
    let work: Vec<(T, Output)> = items.into_iter().zip(buffers).collect();
    work.into_par_iter()
        .with_max_len(1)
        .map(|(item, mut text)| {
            let i = rayon::current_thread_index().unwrap_or(0) % renderers.len();
            // Each pool thread has its own: the lock is never contended (a renderer that
            // panicked is poisoned, and the panic ends the run anyway).
            let mut r = renderers[i].lock().map_err(|_| Failure::Panicked)?;
            std::mem::swap(&mut r.buf, &mut text);
            if let Err(f) = render(&mut r, item) {
                r.clear();
                return Err(f);
            }
            Ok(Rendered {
                text: std::mem::replace(&mut r.buf, text),
                notes: std::mem::take(&mut r.notes),
                tables: std::mem::take(&mut r.gathered.done),
            })
        })
        .collect()
}

/// Renders the chunks on the pool, in their order.
fn render_batch(
    sources: &Sources,
    renderers: &[Mutex<Renderer>],
    chunks: Vec<Chunk>,
    buffers: Vec<Output>,
) -> Vec<Result<Rendered, Failure>> {
    on_the_pool(renderers, chunks, buffers, |r, chunk| {
        r.set_schema(chunk.schema.as_ref());
        let data = sources.files[chunk.file].bytes();
        let name = &sources.names[chunk.file];
        chunk
            .txns
            .iter()
            .try_for_each(|txn| r.render(data, txn, name, &mut |_, _| Ok(())))
            .and_then(|()| r.finish_tables(u64::MAX))
            .map_err(|e| fail_at(&sources.paths[chunk.file], &e))
    })
}

/// A transaction too big for a chunk: its file, itself, the schema it sees.
struct Big<'t> {
    file: usize,
    txn: &'t Transaction,
    schema: Option<&'t Arc<Catalog>>,
}

/// JSON lines of a big transaction: its events cut into pieces, rendered on the pool a
/// batch at a time (each line depends only on its rows event and the table maps before
/// it) while the batch before is written and the next one cut.
fn stream_pieces<O: Sink>(
    sources: &Sources,
    renderers: &[Mutex<Renderer>],
    big: &Big,
    out: &mut O,
) -> CliResult<()> {
    let data = sources.files[big.file].bytes();
    let path = &sources.paths[big.file];
    let mut cutter = PieceCutter::new(data, big.txn);
    let max = renderers.len() * CHUNKS_PER_THREAD;
    let mut ready: Vec<Result<Rendered, Failure>> = Vec::new();
    let mut spare: Vec<Output> = Vec::new();
    let mut pieces = cutter.next_batch(max).map_err(|e| fail_at(path, &e))?;
    loop {
        let done = pieces.is_empty();
        let buffers = std::mem::take(&mut spare);
        let ((written, next), rendered) = rayon::join(
            || {
                let written = write_all(out, std::mem::take(&mut ready));
                let next = (!done && written.is_ok()).then(|| cutter.next_batch(max));
                (written, next)
            },
            || render_pieces(sources, renderers, big, pieces, buffers),
        );
        spare = written?;
        ready = rendered;
        match next {
            None => {
                write_all(out, ready)?;
                return Ok(());
            }
            Some(Ok(p)) => pieces = p,
            Some(Err(e)) => {
                write_all(out, ready)?;
                return Err(fail_at(path, &e));
            }
        }
    }
}

/// Renders pieces of a big transaction on the pool, in their order.
fn render_pieces(
    sources: &Sources,
    renderers: &[Mutex<Renderer>],
    big: &Big,
    pieces: Vec<TxnPiece>,
    buffers: Vec<Output>,
) -> Vec<Result<Rendered, Failure>> {
    let data = sources.files[big.file].bytes();
    let name = &sources.names[big.file];
    on_the_pool(renderers, pieces, buffers, |r, piece| {
        r.set_schema(big.schema);
        r.render_piece(data, big.txn, &piece, name)
            .map_err(|e| fail_at(&sources.paths[big.file], &e))
    })
}

/// Cuts a big transaction's events into pieces of about [`CHUNK_BYTES`], noting the
/// TABLE_MAP events in force where each starts.
struct PieceCutter<'a> {
    events: Events<'a>,
    format: Arc<Format>,
    /// The last TABLE_MAP of each table id: its byte range.
    maps: HashMap<u64, (u64, u64)>,
}

impl<'a> PieceCutter<'a> {
    fn new(data: &'a [u8], txn: &Transaction) -> PieceCutter<'a> {
        PieceCutter {
            // The walk that found the transaction verified its events.
            events: txn.events(data).verify_checksums(false),
            format: Arc::clone(&txn.format),
            maps: HashMap::new(),
        }
    }

    /// Up to `max` pieces; none at the end.
    fn next_batch(&mut self, max: usize) -> binlog::Result<Vec<TxnPiece>> {
        let mut pieces = Vec::new();
        let mut current: Option<TxnPiece> = None;
        while pieces.len() < max {
            let Some(ev) = self.events.next() else { break };
            let ev = ev?;
            let piece = current.get_or_insert_with(|| {
                let mut maps: Vec<(u64, u64)> = self.maps.values().copied().collect();
                maps.sort_unstable();
                TxnPiece {
                    start: ev.offset(),
                    end: ev.offset(),
                    maps,
                }
            });
            if ev.event_type() == EventType::TABLE_MAP {
                // A map that does not decode is reported when its piece renders it.
                if let Ok(EventData::TableMap(tm)) = ev.decode(&self.format) {
                    self.maps
                        .insert(tm.table_id, (ev.offset(), ev.end_offset()));
                }
            }
            piece.end = ev.end_offset();
            if piece.end - piece.start >= CHUNK_BYTES {
                pieces.extend(current.take());
            }
        }
        pieces.extend(current);
        Ok(pieces)
    }
}

/// Renders a big transaction here, its pieces written as they fill (its notes on stderr
/// at its end).
fn stream(
    sources: &Sources,
    r: &mut Renderer,
    file: usize,
    txn: &Transaction,
    out: &mut impl Sink,
) -> CliResult<()> {
    let mut spill = |b: &mut Output, t: &mut Vec<TableBatch>| {
        let r = write_output(out, b).and_then(|()| out.tables(t));
        b.clear();
        r.map_err(as_io)
    };
    let data = sources.files[file].bytes();
    let rendered = r
        .render(data, txn, &sources.names[file], &mut spill)
        .and_then(|()| r.finish_tables(txn.end));
    if let Err(e) = rendered {
        r.clear();
        return Err(fail_at(&sources.paths[file], &e));
    }
    for n in std::mem::take(&mut r.notes) {
        crate::say!("binlog-tool: note: {n}");
    }
    let written = write_output(out, &r.buf).and_then(|()| out.tables(&mut r.gathered.done));
    r.buf.clear();
    written
}

/// The walk over the files, gathering batches and keeping the schema history.
struct Walk<'a> {
    sources: &'a Sources<'a>,
    filter: &'a Filter,
    /// The schema through the input, when one was given.
    history: Option<SchemaHistory>,
    /// Whether DDL after the selection is applied too (the schema at the end is wanted).
    to_the_end: bool,
    /// The selection from its start on, without its end: DDL before the window's start
    /// is already in the schema given.
    from_start: Filter,
    /// The window: DDL past its end is not applied unless `to_the_end`.
    window: Filter,
    /// The file being walked (its index) and its walk.
    current: Option<(usize, filter::Walk<'a>)>,
    /// The next file to open.
    next_file: usize,
    /// Whether a file is cut short inside the selection.
    damaged: bool,
}

impl<'a> Walk<'a> {
    fn new(
        sources: &'a Sources<'a>,
        filter: &'a Filter,
        history: Option<SchemaHistory>,
        to_the_end: bool,
    ) -> Walk<'a> {
        let from_start = binlog::schema::from_start(filter);
        let window = Filter {
            stop_position: filter.stop_position,
            stop_time: filter.stop_time,
            ..from_start.clone()
        };
        Walk {
            sources,
            filter,
            history,
            to_the_end,
            from_start,
            window,
            current: None,
            next_file: 0,
            damaged: false,
        }
    }

    fn schema(&self) -> Option<Arc<Catalog>> {
        self.history.as_ref().map(|h| Arc::clone(h.current()))
    }

    /// The walk of the next file, or `None` at the end.
    fn open_next(&mut self) -> CliResult<Option<(usize, filter::Walk<'a>)>> {
        let n = self.next_file;
        let Some(file) = self.sources.files.get(n) else {
            return Ok(None);
        };
        self.next_file += 1;
        let log: Binlog<'a> = file
            .binlog()
            .map_err(|e| fail_at(&self.sources.paths[n], &e))?;
        let last = n + 1 == self.sources.files.len();
        Ok(Some((n, self.filter.walk(&log, n == 0, last))))
    }

    /// Applies the DDL of `txn` to the history (when it is wanted there); true when the
    /// schema changed.
    fn apply(&mut self, file: usize, txn: &Transaction) -> CliResult<bool> {
        let Some(h) = &mut self.history else {
            return Ok(false);
        };
        let first = file == 0;
        let last = file + 1 == self.sources.files.len();
        let after_start = self.from_start.selects_transaction(txn, first, last);
        let wanted = after_start
            && (self.to_the_end
                || h.start() == Start::Now
                || self.window.selects_transaction(txn, first, last));
        if !wanted {
            return Ok(false);
        }
        let filter = self.filter;
        let selected = |db: &str, t: &str| filter.selects_table(db.as_bytes(), t.as_bytes());
        h.apply_transaction(self.sources.files[file].bytes(), txn, &selected)
            .map_err(|e| fail_at(&self.sources.paths[file], &e))
    }

    /// Gathers up to `max_chunks` chunks; stops early before a big transaction, at the
    /// end, or at an error.
    fn next_batch(&mut self, max_chunks: usize) -> Batch {
        let mut chunks = Vec::new();
        let mut chunk: Vec<Transaction> = Vec::new();
        let mut bytes = 0u64;
        let then = loop {
            let (file, walk) = match &mut self.current {
                Some((file, walk)) => (*file, walk),
                None => match self.open_next() {
                    Ok(Some(c)) => {
                        let (file, walk) = self.current.insert(c);
                        (*file, walk)
                    }
                    Ok(None) => break Then::End,
                    Err(e) => break Then::Failed(e),
                },
            };
            let Some(walked) = walk.next() else {
                // A chunk holds the transactions of one file.
                self.damaged |= tell_outcome(&self.sources.paths[file], walk.outcome());
                self.current = None;
                if !chunk.is_empty() {
                    let schema = self.schema();
                    chunks.push(Chunk {
                        file,
                        txns: std::mem::take(&mut chunk),
                        schema,
                    });
                    bytes = 0;
                }
                if chunks.len() >= max_chunks {
                    break Then::More;
                }
                continue;
            };
            let walked = match walked {
                Ok(w) => w,
                Err(e) => break Then::Failed(fail_at(&self.sources.paths[file], &e)),
            };
            let txn = walked.txn;
            let before = self.schema();
            match self.apply(file, &txn) {
                // Transactions before the change see the schema before it.
                Ok(true) if !chunk.is_empty() => {
                    chunks.push(Chunk {
                        file,
                        txns: std::mem::take(&mut chunk),
                        schema: before,
                    });
                    bytes = 0;
                }
                Ok(_) => {}
                Err(e) => break Then::Failed(e),
            }
            if !walked.selected {
                continue;
            }
            if txn.len() > BATCH_TXN_MAX {
                if !chunk.is_empty() {
                    chunks.push(Chunk {
                        file,
                        txns: std::mem::take(&mut chunk),
                        schema: self.schema(),
                    });
                }
                break Then::Big(file, txn, self.schema());
            }
            bytes += txn.len();
            chunk.push(txn);
            if bytes >= CHUNK_BYTES {
                chunks.push(Chunk {
                    file,
                    txns: std::mem::take(&mut chunk),
                    schema: self.schema(),
                });
                bytes = 0;
                if chunks.len() >= max_chunks {
                    break Then::More;
                }
            }
        };
        Batch { chunks, then }
    }
}
