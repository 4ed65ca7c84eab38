//! Rendering in parallel, written in order.
//!
//! The main thread walks the files and gathers selected transactions into chunks of about
//! a megabyte of binlog; worker threads render chunks (each keeping its table contexts
//! from one chunk to the next); a writer thread writes the rendered chunks in their order.
//! At most a few chunks are in flight, so memory stays bounded. A transaction too big for
//! a chunk is rendered by the main thread, in pieces that join the same ordered stream.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use binlog::filter::Filter;
use binlog::schema::{Catalog, SchemaHistory, Start};
use binlog::txn::Transaction;
use binlog::BinlogFile;

use super::render::Renderer;
use super::DecodeFormat;
use crate::cli::chain::tell_outcome;
use crate::cli::output::{fail_at, CliResult, Failure, OutputFile};

/// Transactions up to this size are rendered by the workers; bigger ones are rendered in
/// pieces as they go, so memory stays bounded.
const BATCH_TXN_MAX: u64 = 4 << 20;
/// A chunk for a worker ends when it holds this many bytes of binlog.
const CHUNK_BYTES: u64 = 1 << 20;

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
}

/// A chunk to render: file index, sequence number, transactions, the schema they see.
type Job = (usize, u64, Vec<Transaction>, Option<Arc<Catalog>>);
/// A rendered piece, by sequence number; an error ends the run.
type Done = (u64, Result<Rendered, Failure>);

/// A rendered piece: its text, and the notes (statements left out) for stderr, told
/// when the piece is written.
#[derive(Default)]
struct Rendered {
    text: String,
    notes: Vec<String>,
}

impl Rendered {
    fn take(r: &mut Renderer) -> Rendered {
        Rendered {
            text: std::mem::take(&mut r.buf),
            notes: std::mem::take(&mut r.notes),
        }
    }
}

/// Renders the selected transactions of `sources` on worker threads and writes them to
/// `out` in their order, each seeing the schema of its position when `history` is given.
/// Returns the output, for the caller to commit, the history at the end, and whether a
/// file is cut short inside the selection (its notes are on stderr).
pub fn render_in_order(
    sources: &Sources,
    setup: Setup,
    history: Option<SchemaHistory>,
    to_the_end: bool,
    out: OutputFile,
) -> CliResult<(OutputFile, Option<SchemaHistory>, bool)> {
    let workers = rayon::current_num_threads().max(1);
    let (job_tx, job_rx) = sync_channel::<Job>(workers);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = channel::<Done>();
    // At most this many pieces between the walk and the writer.
    let (slot_tx, slot_rx) = sync_channel::<()>(workers * 4);
    std::thread::scope(
        |scope| -> CliResult<(OutputFile, Option<SchemaHistory>, bool)> {
            for _ in 0..workers {
                let (job_rx, done_tx) = (&job_rx, done_tx.clone());
                scope.spawn(move || render_chunks(sources, setup, job_rx, done_tx));
            }
            let writer = scope.spawn(move || write_in_order(out, done_rx, slot_rx));
            let walk = Walk {
                sources,
                setup,
                jobs: job_tx,
                slots: Slots {
                    slot_tx,
                    done_tx,
                    seq: 0,
                },
                streaming: Renderer::new(setup.format, setup.filter),
                history,
                to_the_end,
            }
            .run();
            let written = writer.join().map_err(|_| Failure::Panicked)?;
            // A write error first (a closed pipe ends quietly), then the walk's, then a
            // renderer's (carried by the writer).
            let out = written?;
            let (history, damaged) = walk?;
            Ok((out, history, damaged))
        },
    )
}

/// A worker: renders chunks until there are no more.
fn render_chunks(sources: &Sources, setup: Setup, jobs: &Mutex<Receiver<Job>>, done: Sender<Done>) {
    let mut r = Renderer::new(setup.format, setup.filter);
    loop {
        let job = jobs.lock().map(|rx| rx.recv());
        let Ok(Ok((fi, seq, txns, schema))) = job else {
            return;
        };
        r.set_schema(schema.as_ref());
        let mut result = Ok(());
        for txn in &txns {
            let data = sources.files[fi].bytes();
            result = r.render(data, txn, &sources.names[fi], &mut |_| Ok(()));
            if result.is_err() {
                break;
            }
        }
        let text = result
            .map(|()| Rendered::take(&mut r))
            .map_err(|e| fail_at(&sources.paths[fi], &e));
        if done.send((seq, text)).is_err() {
            return;
        }
    }
}

/// The writer: writes pieces in sequence order, freeing a slot for each.
fn write_in_order(
    mut out: OutputFile,
    done: Receiver<Done>,
    slots: Receiver<()>,
) -> CliResult<OutputFile> {
    let mut pending: BTreeMap<u64, Result<Rendered, Failure>> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, text) in done {
        pending.insert(seq, text);
        while let Some(piece) = pending.remove(&next) {
            let piece = piece?;
            for n in &piece.notes {
                eprintln!("binlog-tool: note: {n}");
            }
            out.write_all(piece.text.as_bytes())?;
            next += 1;
            let _ = slots.recv();
        }
    }
    Ok(out)
}

/// Sequence numbers for pieces, each issued when there is room in the window.
struct Slots {
    slot_tx: SyncSender<()>,
    done_tx: Sender<Done>,
    seq: u64,
}

impl Slots {
    /// Waits for room in the window, and numbers the next piece.
    fn take(&mut self) -> CliResult<u64> {
        self.slot_tx
            .send(())
            .map_err(|_| Failure::Message("the output writer stopped".into()))?;
        self.seq += 1;
        Ok(self.seq - 1)
    }

    /// Hands a piece rendered on this thread to the writer.
    fn send_piece(&mut self, text: String) -> std::io::Result<()> {
        let s = self
            .take()
            .map_err(|_| std::io::Error::other("writer stopped"))?;
        let piece = Rendered {
            text,
            notes: Vec::new(),
        };
        self.done_tx
            .send((s, Ok(piece)))
            .map_err(|_| std::io::Error::other("writer stopped"))
    }
}

/// The main thread's walk over the files.
struct Walk<'a> {
    sources: &'a Sources<'a>,
    setup: Setup<'a>,
    jobs: SyncSender<Job>,
    slots: Slots,
    /// Renders the transactions too big for a chunk.
    streaming: Renderer<'a>,
    /// The schema through the input, when one was given.
    history: Option<SchemaHistory>,
    /// Whether DDL after the selection is applied too (the schema at the end is wanted).
    to_the_end: bool,
}

impl Walk<'_> {
    /// Walks the files; returns the schema history at the end, and whether a file is cut
    /// short inside the selection.
    fn run(mut self) -> CliResult<(Option<SchemaHistory>, bool)> {
        let last = self.sources.files.len() - 1;
        let mut damaged = false;
        let filter = self.setup.filter;
        // The bounds of the window, to tell DDL before its start (the schema given
        // describes the tables there) and past its end.
        let from_start = binlog::schema::from_start(filter);
        let window = Filter {
            stop_position: filter.stop_position,
            stop_time: filter.stop_time,
            ..from_start.clone()
        };
        let selected = |db: &str, t: &str| filter.selects_table(db.as_bytes(), t.as_bytes());
        for (n, file) in self.sources.files.iter().enumerate() {
            let path = &self.sources.paths[n];
            let log = file.binlog().map_err(|e| fail_at(path, &e))?;
            let (first, is_last) = (n == 0, n == last);
            let mut chunk: Vec<Transaction> = Vec::new();
            let mut chunk_bytes = 0u64;
            let mut walk = filter.walk(&log, first, is_last);
            for walked in walk.by_ref() {
                let walked = walked.map_err(|e| fail_at(path, &e))?;
                let txn = walked.txn;
                let before = self.schema();
                if let Some(h) = &mut self.history {
                    let after_start = from_start.selects_transaction(&txn, first, is_last);
                    let wanted = after_start
                        && (self.to_the_end
                            || h.start() == Start::Now
                            || window.selects_transaction(&txn, first, is_last));
                    if wanted
                        && h.apply_transaction(file.bytes(), &txn, &selected)
                            .map_err(|e| fail_at(path, &e))?
                        && !chunk.is_empty()
                    {
                        // Transactions before the change see the schema before it.
                        self.send_chunk(n, std::mem::take(&mut chunk), before)?;
                        chunk_bytes = 0;
                    }
                }
                if !walked.selected {
                    continue;
                }
                if txn.len() > BATCH_TXN_MAX {
                    if !chunk.is_empty() {
                        self.send_chunk(n, std::mem::take(&mut chunk), self.schema())?;
                        chunk_bytes = 0;
                    }
                    self.stream(n, &txn)?;
                    continue;
                }
                chunk_bytes += txn.len();
                chunk.push(txn);
                if chunk_bytes >= CHUNK_BYTES {
                    self.send_chunk(n, std::mem::take(&mut chunk), self.schema())?;
                    chunk_bytes = 0;
                }
            }
            if !chunk.is_empty() {
                self.send_chunk(n, chunk, self.schema())?;
            }
            damaged |= tell_outcome(path, walk.outcome());
        }
        Ok((self.history, damaged))
    }

    fn schema(&self) -> Option<Arc<Catalog>> {
        self.history.as_ref().map(|h| Arc::clone(h.current()))
    }

    fn send_chunk(
        &mut self,
        file: usize,
        chunk: Vec<Transaction>,
        schema: Option<Arc<Catalog>>,
    ) -> CliResult<()> {
        let s = self.slots.take()?;
        self.jobs
            .send((file, s, chunk, schema))
            .map_err(|_| stopped())
    }

    /// Renders a big transaction here, in pieces that join the ordered stream.
    fn stream(&mut self, file: usize, txn: &Transaction) -> CliResult<()> {
        let schema = self.schema();
        self.streaming.set_schema(schema.as_ref());
        let slots = &mut self.slots;
        let mut piece = |b: &mut String| slots.send_piece(std::mem::take(b));
        let data = self.sources.files[file].bytes();
        self.streaming
            .render(data, txn, &self.sources.names[file], &mut piece)
            .map_err(|e| fail_at(&self.sources.paths[file], &e))?;
        let s = self.slots.take()?;
        self.slots
            .done_tx
            .send((s, Ok(Rendered::take(&mut self.streaming))))
            .map_err(|_| stopped())
    }
}

fn stopped() -> Failure {
    Failure::Message("the decoding threads stopped".into())
}
