//! Writing the binlog: the statements first, then each table's rows, piece after piece,
//! as the workers read them; a failure stops the workers and leaves nothing at -o.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use binlog::snapshot::{Limits, SnapshotWriter, Source, TableLayout, TableStats};
use mysql::Conn;

use super::read::{kill, worker, Item, Shared};
use super::spool::{Popped, Spool};
use super::{msg, progress, Run};
use crate::cli::output::{fail_at, CliResult, Failure, OutputFile};

/// Each table written (database, table, what was written), and the output's size.
type Written = (Vec<(String, String, TableStats)>, u64);

/// Writes the snapshot to `--output`: `statements` (database, text) first, then the rows
/// of `items` as `workers` read them.
pub fn write_snapshot(
    run: &Run,
    ctl: &mut Conn,
    workers: Vec<Conn>,
    layouts: Vec<TableLayout>,
    items: Vec<Item>,
    time: u32,
    statements: &[(String, String)],
) -> CliResult<Written> {
    let (args, server) = (run.args, run.server);
    let source = Source {
        flavor: server.flavor,
        version: server.version_string.clone(),
        server_id: server.server_id,
    };
    let limits = Limits {
        rows_per_event: args.rows_per_event,
        max_event_size: args.max_event_size as usize,
        rows_per_txn: usize::try_from(args.rows_per_txn).unwrap_or(usize::MAX),
        ..Limits::default()
    };
    let mut out = OutputFile::create(&args.output)?;
    let werr = |e: binlog::Error| write_error(&args.output, &e);
    let mut w = SnapshotWriter::new(&mut out, &source, time, limits).map_err(werr)?;
    for (db, sql) in statements {
        w.statement(db, sql).map_err(werr)?;
    }

    let ids: Vec<u32> = workers.iter().map(|c| c.connection_id()).collect();
    let shared = Arc::new(Shared {
        spools: items.iter().map(|_| Spool::default()).collect(),
        items,
        layouts,
        next: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        interrupted: run.interrupted.clone(),
    });
    for c in workers {
        let s = shared.clone();
        std::thread::spawn(move || worker(c, s));
    }
    let written = Arc::new(AtomicU64::new(0));
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| progress::Progress::start(shared.clone(), run.chosen.to_vec(), written.clone()));
    let consumed = write_tables(&mut w, &shared, run, &written);
    if let Some(p) = progress {
        p.stop();
    }
    let tables = match consumed {
        Ok(t) => t,
        Err(e) => {
            shared.abort.store(true, Ordering::SeqCst);
            kill(ctl, run.spec, &ids);
            return Err(e);
        }
    };
    let (_, bytes) = w.finish().map_err(werr)?;
    out.commit()?;
    Ok((tables, bytes))
}

/// An error of the writer: an I/O error names the output (and a closed pipe ends
/// quietly); anything else is said of the output, without an offset.
fn write_error(output: &Path, e: &binlog::Error) -> Failure {
    match e.io_kind() {
        Some(_) => fail_at(output, e),
        None => msg(format!("{}: {}", output.display(), e.kind())),
    }
}

/// Writes the rows of every piece, in order, as the workers hand them over.
fn write_tables(
    w: &mut SnapshotWriter<&mut OutputFile>,
    shared: &Shared,
    run: &Run,
    written: &AtomicU64,
) -> CliResult<Vec<(String, String, TableStats)>> {
    let werr = |e: binlog::Error| write_error(&run.args.output, &e);
    let mut tables = Vec::with_capacity(run.chosen.len());
    for (k, item) in shared.items.iter().enumerate() {
        let layout = &shared.layouts[item.table];
        if item.first {
            w.begin_table(layout, item.table as u64 + 1).map_err(werr)?;
        }
        loop {
            match shared.spools[k].pop(&shared.interrupted) {
                Popped::Chunk(c) => {
                    let mut rest = &c[..];
                    while rest.len() >= 4 {
                        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                        w.row(&rest[4..4 + len]).map_err(werr)?;
                        rest = &rest[4 + len..];
                    }
                    written.store(w.position(), Ordering::Relaxed);
                }
                Popped::End => break,
                Popped::Failed(e) => return Err(msg(e)),
            }
        }
        if item.last {
            let stats = w.end_table().map_err(werr)?;
            let t = &run.chosen[item.table];
            tables.push((t.schema.clone(), t.name.clone(), stats));
        }
    }
    Ok(tables)
}
