//! `binlog-tool flashback`: write a binlog that undoes transactions of row-format binlogs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use binlog::checked_ahead::CheckedAhead;
use binlog::flashback::{
    self, Begin, Commit, FileError, LeaveOutRows, Options, Plan, Position, Release, Summary,
    UndoRows, UndoSink,
};
use binlog::{Binlog, BinlogFile};

use super::args::{Inputs, Selection};
use super::chain::{parse_all, tell_outcome, ChainArgs};
use super::flashback_check::{self, OnConflict};
use super::output::{
    fail, fail_at, json_str, line, local_time, open, refuse_output_over_input, CliResult, Failure,
    OutputFile,
};
use super::schema_source::SchemaArgs;
use binlog::filter::Filter;
use binlog::row::TableCtx;
use binlog::schema::history::Versions;
use binlog::sql::session::{Session, ROWS_SESSION};

/// Write a binlog that undoes selected transactions (row format).
///
/// Its transactions undo the selected ones, to apply with `mysqlbinlog undo.bin | mysql`
/// (or mariadb-binlog | mariadb). `--help` tells how (the details, and the exit status,
/// are in [`DETAILS`], shown after the options).
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = DETAILS,
    after_help = "See --help for what is undone, and how.",
    mut_arg("files", |a| a.help("Row-format binlog files, in order")),
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Where to write the undo binlog (`-` for standard output).
    #[arg(long, short = 'o', required_unless_present = "dry_run")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// For `--format sql` on binlogs whose TABLE_MAP events carry no names. With a
    /// schema, the undo statements address the tables as they are at the end of the input:
    /// a table or column renamed by later DDL gets its new name, and undoing rows of a table
    /// or column dropped later is refused.
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// Leave DDL in the selection out (noted on stderr) instead of refusing.
    #[arg(long)]
    pub skip_ddl: bool,
    /// Write nothing; print what would be undone: rows per table, transactions, position
    /// and time range.
    #[arg(long)]
    pub dry_run: bool,
    /// What to write: the undo as a binlog (default) or as SQL statements (`sql`); with
    /// --dry-run, the report as lines (`table`, default) or one JSON object (`json`).
    #[arg(long, value_enum, default_value_t = ReportFormat::Binlog)]
    pub format: ReportFormat,
    /// Before writing, compare every row the undo would touch with the live server (the
    /// connection flags): by primary key (else a unique key without NULLs, else every
    /// column), in one consistent snapshot. A row changed, deleted or re-inserted since
    /// the last selected change to it is a conflict.
    #[arg(long)]
    pub check: bool,
    /// With --check: write each conflict as a JSON line to FILE (`table`, `key`,
    /// `expected`, `found`, `pos`, `conflict`).
    #[arg(long, value_name = "FILE", requires = "check")]
    pub check_report: Option<PathBuf>,
    /// With --check: on conflicts, write no undo and exit 1 (`refuse`), write it without
    /// the conflicting rows and any other selected change to them (`skip`), or write it
    /// whole (`ignore`).
    #[arg(long, value_enum, default_value_t = OnConflict::Refuse, requires = "check")]
    pub on_conflict: OnConflict,
    /// With --check: memory for the rows the undo touches (K, M, G suffixes; at least
    /// 64K). Past it, they are sorted into runs in a temporary file in $TMPDIR (unlinked
    /// at once) and merged back in key order.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = check_memory, requires = "check")]
    pub check_memory: u64,
}

/// A `--check-memory` size: at least 64 KiB.
fn check_memory(s: &str) -> Result<u64, String> {
    let n = super::size::parse_size(s)?;
    if n < 64 << 10 {
        return Err(format!("{s:?} is under 64K"));
    }
    Ok(n)
}

/// What `flashback --help` says after the options.
const DETAILS: &str = "\
How: every selected transaction becomes one undo transaction (BEGIN ... COMMIT), and the
undo runs backwards: the last transaction first, inside it the last rows event first,
inside that the last row first. Inserted rows are deleted, deleted rows inserted again,
updates applied with before and after images swapped. The output has the input's
format description (MySQL or MariaDB), fresh positions and CRC32s, and no GTID events:
the server that applies it gives the undo transactions new GTIDs, so it applies with
GTIDs on (gtid_mode=ON, gtid_strict_mode=ON). MySQL compressed transactions and MariaDB
compressed rows events are written uncompressed.

Selection is by whole transactions (position, time and GTID options; times are commit
times in the local time zone); --database, --table and --sql-type then keep only those
rows events of a transaction, and a transaction left with none is not undone.

XA: a prepared XA transaction is undone where its XA COMMIT stands, when that XA COMMIT
is selected (its XA PREPARE may lie anywhere in the input files; if it is missing,
flashback refuses). One prepared but not committed in the selection is left alone,
with a note on stderr; one rolled back has nothing to undo.

Refused before anything is written, naming the file and offset: statement-format
changes, UPDATE/DELETE rows events without every column in their before-images
(binlog_row_image=MINIMAL or NOBLOB), MySQL partial JSON updates (diffs), DDL in the
selection (unless --skip-ddl, which leaves it out and says so on stderr), and DDL
anywhere in the input files that alters, renames, drops, truncates or re-creates a table
after rows of it to undo (the undo's row images would not fit the table it left). Also
refused: a --start-position inside a transaction (name its start instead), the output
naming an input file, and input files that do not follow each other (one server's
consecutive files, as verify --index checks them; --allow-gaps reads them anyway). On any
error nothing is left at -o FILE (with -o -, an error met while writing, such as a
damaged row, can leave a partial stream on stdout).

A file whose tail is cut short (a crashed server's last binlog) is read up to its last
complete transaction; stderr says where it is cut. When the selection ends before the
cut (--stop-position, --stop-datetime) that is all; otherwise the undo of the complete
transactions is written and the exit status is 1.

Not undone, because row events do not hold them: rows that foreign keys cascaded to,
sequence values, anything done by statements.

--check: before writing, every row the undo would touch is read from the server (one
consistent snapshot, batches of keys) and compared with what the binlog says it holds
now (the last selected change's after-image, or nothing after a delete): a row changed,
deleted or re-inserted since is a conflict. Rows are found by the primary key, else a
unique key without NULLs, else every column; names, types and keys come from the
server, and a table altered since the binlog is refused. --check-report FILE lists the
conflicts as JSON lines; --on-conflict refuse (default: exit 1, no undo written), skip
(the undo leaves those rows and every other selected change to them out), or ignore.
The touched rows are held in --check-memory (64M); past it they are sorted into runs in
an unlinked temporary file in $TMPDIR and read back in the order of their keys' bytes
(the report's lines then come in that order). With skip, more conflicts than a quarter
of --check-memory holds are refused (exit 2), as are changes of key past that.

Exit status: 0 success (also when nothing is selected); 1 the undo is written, but an
input is cut short inside the selection (stderr says where), or --check found
conflicts and --on-conflict is refuse (nothing written); 2 an error or a refusal;
130, 143, 129 stopped by SIGINT, SIGTERM, SIGHUP (nothing left at -o).

Example:
  binlog-tool flashback mysql-bin.000042 --start-datetime '2026-11-21 10:00:00' \\
      --stop-datetime '2026-11-21 10:05:00' -d shop -t shop.orders -o undo.bin
  mysqlbinlog undo.bin | mysql";

/// Output formats of `flashback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The undo as a binlog, for `mysqlbinlog undo.bin | mysql`.
    Binlog,
    /// The undo as SQL statements (as `decode --format sql` writes them).
    Sql,
    /// The --dry-run report as lines for people.
    Table,
    /// The --dry-run report as one JSON object.
    Json,
}

/// Runs `flashback`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let paths = args.inputs.nonempty_paths()?;
    if let Some(target) = args.output.as_deref().filter(|_| !args.dry_run) {
        let schema = args.schema.schema.as_deref();
        let index = args.inputs.index.as_deref();
        let read = paths.iter().map(|p| p.as_path()).chain(index).chain(schema);
        refuse_output_over_input(target, read)?;
    }
    if let Some(target) = args.check_report.as_deref() {
        let read = paths.iter().map(|p| p.as_path());
        let read = read.chain(args.inputs.index.as_deref());
        refuse_output_over_input(target, read.chain(args.output.as_deref()))?;
    }
    let files: Arc<Vec<BinlogFile>> =
        Arc::new(paths.iter().map(|p| open(p)).collect::<CliResult<_>>()?);
    // Pages of the maps already read leave memory, but for the last gigabyte the planning
    // walk read, which the undo's walk (from the end back) reads first.
    let kept = Arc::new(std::sync::Mutex::new(KeptMapped::new(Arc::clone(&files))));
    let planned = Arc::clone(&kept);
    // Ahead of the walks, the next pages are mapped on another thread.
    let ahead = ReadAhead::new(Arc::clone(&files));
    let mut opts = Options {
        filter: args.selection.to_filter()?,
        skip_ddl: args.skip_ddl,
        // SQL with a schema addresses the tables as they are at the end of the input.
        schema_followed: args.format == ReportFormat::Sql
            && !args.dry_run
            && (args.schema.schema.is_some() || args.schema.schema_from_server),
        release: Some(Release(Arc::new(move |i, start, end| {
            if let Ok(mut kept) = kept.lock() {
                kept.done(i, start, end);
            }
            ahead.released(i, start, end);
        }))),
        leave_out: None,
    };
    let logs: Vec<Binlog> = parse_all(&files, &paths)?;
    args.chain.check(&paths, &logs)?;
    // The output is opened before the plan, so that a signal while planning stops the
    // run (and removes the file) as one while writing does.
    let output = match (args.dry_run, args.output.as_deref(), args.format) {
        (true, _, _) => None,
        (false, None, _) => return Err(Failure::Message("--output (-o) is required".into())),
        (false, Some(_), ReportFormat::Table | ReportFormat::Json) => {
            return Err(Failure::Message(
                "--format table and json are for --dry-run; write the undo as binlog or sql".into(),
            ))
        }
        (false, Some(target), _) => Some((target, OutputFile::create(target)?)),
    };
    let located = |e: FileError| located(&paths, args.output.as_deref(), e);
    let plan = plan_checked_ahead(&logs, &opts).map_err(located)?;
    if let Ok(mut kept) = planned.lock() {
        kept.planning = false;
    }
    for n in &plan.notes {
        crate::say!(
            "binlog-tool: note: {}: at offset {}: {}",
            paths[n.at.file].display(),
            n.at.offset,
            n.message
        );
    }
    let mut damaged = false;
    for (path, outcome) in paths.iter().zip(&plan.outcomes) {
        damaged |= tell_outcome(path, outcome);
    }
    let status = if damaged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    if args.check {
        let checked = flashback_check::run(
            &args.schema.connection,
            &logs,
            &paths,
            &plan,
            &opts,
            args.check_report.as_deref(),
            args.on_conflict,
            args.check_memory,
            &located,
        )?;
        match args.on_conflict {
            OnConflict::Refuse if checked.conflicts > 0 => {
                crate::say!(
                    "binlog-tool: check: {} of {} rows changed since; no undo written \
                     (--on-conflict skip leaves them out, ignore writes it anyway)",
                    checked.conflicts,
                    checked.rows
                );
                return Ok(ExitCode::from(1));
            }
            _ => {}
        }
        if let Some(l) = checked.leave_out {
            opts.leave_out = Some(LeaveOutRows(Arc::new(l)));
        }
    }
    let Some((target, mut output)) = output else {
        let summary = flashback::summarize(&logs, &plan, &opts).map_err(located)?;
        let mut out = OutputFile::stdout();
        report(&mut out, args.format, &paths, &plan, &summary)?;
        out.commit()?;
        return Ok(status);
    };
    let stats = match args.format {
        ReportFormat::Sql => {
            let schema = schema_versions(&args.schema, &logs, &paths, &opts.filter)?;
            let mut sink = SqlSink::new(&mut output, &paths, schema);
            flashback::walk_undo(&logs, &plan, &opts, &mut sink).map_err(located)?;
            sink.stats
        }
        ReportFormat::Binlog | ReportFormat::Table | ReportFormat::Json => {
            flashback::write_binlog_with(&logs, &plan, &opts, &mut output, &OnThePool)
                .map_err(located)?
                .1
        }
    };
    output.commit()?;
    if plan.txns.is_empty() {
        crate::say!("binlog-tool: nothing selected to undo; the output holds no transaction");
    } else if target != Path::new("-") {
        crate::say!(
            "binlog-tool: wrote {} undo transactions ({} rows events, {} rows, {} bytes) to {}",
            stats.transactions,
            stats.rows_events,
            stats.rows,
            stats.bytes,
            target.display()
        );
    }
    Ok(status)
}

/// Plans the undo while a thread of its own checks the inputs' CRC32s ahead of the planning
/// walk (see [`binlog::checked_ahead`]): the walk, one thread, then does the rest of its
/// work on one core and the checks go on the other. The plan and its errors are those of
/// [`flashback::plan`] alone.
fn plan_checked_ahead(logs: &[Binlog], opts: &Options) -> Result<Plan, FileError> {
    let checkers: Vec<CheckedAhead> = logs.iter().map(|_| CheckedAhead::new(READ_AHEAD)).collect();
    /// Stops the checker however the plan ends (a panic too), so that the scope's join
    /// does not wait for a checker waiting for the walk.
    struct Close<'c>(&'c [CheckedAhead]);
    impl Drop for Close<'_> {
        fn drop(&mut self) {
            self.0.iter().for_each(CheckedAhead::close);
        }
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            for (log, checker) in logs.iter().zip(&checkers) {
                checker.check(log);
            }
        });
        let _close = Close(&checkers);
        let checked: Vec<Binlog> = logs
            .iter()
            .zip(&checkers)
            .map(|(log, checker)| log.checked_ahead(checker))
            .collect();
        flashback::plan(&checked, opts)
    })
}

/// Bytes mapped ahead of a walk, past the range it last let go (and checked ahead of the
/// planning walk).
const READ_AHEAD: u64 = 32 << 20;

/// Bytes of the inputs that the planning walk leaves mapped behind it.
const KEEP_MAPPED: u64 = 1 << 30;

/// Lets go of the pages of the ranges a walk is done with ([`Release`]), but while
/// planning keeps the last [`KEEP_MAPPED`] bytes of them mapped: the undo is walked from
/// the last transaction back, so it reads those first, and a page let go costs the
/// kernel as much to map again as it did the first time (for a 1 GiB input, letting go
/// and mapping again were about a tenth of the run's CPU time). Resident memory stays bounded:
/// the file's pages (page cache, not heap) of at most that many bytes, and what is read
/// ahead.
struct KeptMapped {
    files: Arc<Vec<BinlogFile>>,
    /// Whether the planning walk is the one telling.
    planning: bool,
    /// The ranges kept mapped (input, start, end), oldest first, and their bytes.
    ranges: std::collections::VecDeque<(usize, u64, u64)>,
    bytes: u64,
}

impl KeptMapped {
    fn new(files: Arc<Vec<BinlogFile>>) -> KeptMapped {
        KeptMapped {
            files,
            planning: true,
            ranges: Default::default(),
            bytes: 0,
        }
    }

    /// The walk is done with `start..end` of input `file`.
    fn done(&mut self, file: usize, start: u64, end: u64) {
        if !self.planning {
            self.files[file].release(start, end);
            return;
        }
        self.ranges.push_back((file, start, end));
        self.bytes += end - start;
        while self.bytes > KEEP_MAPPED {
            let Some((f, s, e)) = self.ranges.pop_front() else {
                break;
            };
            self.bytes -= e - s;
            self.files[f].release(s, e);
        }
    }
}

/// Maps the pages a walk of the inputs reads next, on a pool thread, while the walk reads
/// the ones before: the planning walk is one thread, and faulting a gigabyte in page by
/// page is a good part of its time. The walk's direction (forward while planning,
/// backward while writing the undo) is that of the ranges it lets go, in tens of
/// megabytes ([`Release`]); at most [`READ_AHEAD`] bytes are mapped ahead of it, so
/// resident memory stays small.
struct ReadAhead {
    files: Arc<Vec<BinlogFile>>,
    state: std::sync::Mutex<Option<Walked>>,
}

/// Where a walk is, as [`ReadAhead`] learns it.
#[derive(Clone, Copy)]
struct Walked {
    /// The input, and the range it let go last.
    file: usize,
    start: u64,
    end: u64,
    /// Whether it goes from the end of the input to its start.
    backward: bool,
    /// How far the pages are mapped ahead of it, in its direction.
    reached: u64,
}

impl ReadAhead {
    fn new(files: Arc<Vec<BinlogFile>>) -> Arc<ReadAhead> {
        Arc::new(ReadAhead {
            files,
            state: std::sync::Mutex::new(None),
        })
    }

    /// The walk let `start..end` of input `file` go: maps what it reads next.
    fn released(self: &Arc<ReadAhead>, file: usize, start: u64, end: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        // Forward unless this range lies before the last one let go.
        let (backward, reached) = match *state {
            Some(w) if w.file == file && end <= w.start => (true, w.reached.min(start)),
            Some(w) if w.file == file && start >= w.end => (false, w.reached.max(end)),
            _ => (false, end),
        };
        let (lo, hi, reached) = if backward {
            let to = start.saturating_sub(READ_AHEAD);
            (to, reached, to.min(reached))
        } else {
            let to = end.saturating_add(READ_AHEAD);
            (reached, to, to.max(reached))
        };
        *state = Some(Walked {
            file,
            start,
            end,
            backward,
            reached,
        });
        if hi > lo {
            let me = Arc::clone(self);
            rayon::spawn(move || {
                if let Some((lo, hi)) = me.still_ahead(file, lo, hi) {
                    me.files[file].prefetch(lo, hi);
                }
            });
        }
    }

    /// The part of `lo..hi` of input `file` the walk has not let go since it was asked
    /// for (a pool busy encoding may run the job late): pages mapped behind the walk
    /// would stay resident.
    fn still_ahead(&self, file: usize, lo: u64, hi: u64) -> Option<(u64, u64)> {
        let w = (*self.state.lock().ok()?)?;
        let (lo, hi) = match (w.file == file, w.backward) {
            (false, _) => return None,
            (true, false) => (lo.max(w.end), hi),
            (true, true) => (lo, hi.min(w.start)),
        };
        (hi > lo).then_some((lo, hi))
    }
}

/// Encodes groups of undo transactions on rayon's pool (the output does not depend on
/// the number of its threads).
struct OnThePool;

impl flashback::Spread for OnThePool {
    fn run(
        &self,
        n: usize,
        job: &(dyn Fn(usize) -> Result<(), flashback::FileError> + Sync),
    ) -> Vec<Result<(), flashback::FileError>> {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(job).collect()
    }
}

/// A library error, with the input's path (or the output's) in front; an I/O error names
/// the output alone.
fn located(files: &[PathBuf], output: Option<&Path>, e: FileError) -> Failure {
    let path = match e.file {
        Some(i) => files.get(i).map(PathBuf::as_path),
        None => output,
    };
    fail_at(path.unwrap_or(Path::new("output")), &e.error)
}

fn position_text(files: &[PathBuf], p: Option<Position>) -> String {
    match p {
        Some(p) => format!("{}:{}", files[p.file].display(), p.offset),
        None => "-".into(),
    }
}

fn report(
    w: &mut dyn Write,
    format: ReportFormat,
    files: &[PathBuf],
    plan: &Plan,
    s: &Summary,
) -> CliResult<()> {
    let time = |t: Option<u32>| t.map(local_time).unwrap_or_else(|| "-".into());
    match format {
        ReportFormat::Table | ReportFormat::Binlog | ReportFormat::Sql => {
            line(w, &format!("transactions: {}", s.transactions))?;
            line(w, &format!("rows events:  {}", s.rows_events))?;
            line(
                w,
                &format!(
                    "positions:    {} .. {}",
                    position_text(files, plan.first),
                    position_text(files, plan.last)
                ),
            )?;
            line(
                w,
                &format!(
                    "commit times: {} .. {}",
                    time(plan.first_time),
                    time(plan.last_time)
                ),
            )?;
            let width = s.tables.keys().map(|k| k.len()).max().unwrap_or(0).max(5);
            line(
                w,
                &format!(
                    "{:<width$}  {:>10}  {:>10}  {:>10}",
                    "table", "inserted", "updated", "deleted"
                ),
            )?;
            let total = s.total();
            for (name, c) in s
                .tables
                .iter()
                .chain(std::iter::once((&"total".to_string(), &total)))
            {
                line(
                    w,
                    &format!(
                        "{name:<width$}  {:>10}  {:>10}  {:>10}",
                        c.inserted, c.updated, c.deleted
                    ),
                )?;
            }
        }
        ReportFormat::Json => {
            let mut o = String::new();
            o.push_str(&format!(
                "{{\"transactions\":{},\"rows_events\":{}",
                s.transactions, s.rows_events
            ));
            for (key, p) in [("first", plan.first), ("last", plan.last)] {
                o.push_str(&format!(",\"{key}\":"));
                match p {
                    Some(p) => {
                        o.push_str("{\"file\":");
                        json_str(&mut o, &files[p.file].display().to_string());
                        o.push_str(&format!(",\"position\":{}}}", p.offset));
                    }
                    None => o.push_str("null"),
                }
            }
            for (key, t) in [
                ("first_time", plan.first_time),
                ("last_time", plan.last_time),
            ] {
                o.push_str(&format!(",\"{key}\":"));
                match t {
                    Some(t) => json_str(&mut o, &local_time(t)),
                    None => o.push_str("null"),
                }
            }
            o.push_str(",\"tables\":[");
            for (i, (name, c)) in s.tables.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                o.push_str("{\"table\":");
                json_str(&mut o, name);
                o.push_str(&format!(
                    ",\"inserted\":{},\"updated\":{},\"deleted\":{}}}",
                    c.inserted, c.updated, c.deleted
                ));
            }
            o.push_str("]}");
            line(w, &o)?;
        }
    }
    Ok(())
}

/// Writes the undo as SQL statements: each undo transaction a BEGIN … COMMIT block, each
/// reversed row a statement rendered as `decode --format sql` renders row changes.
struct SqlSink<'w> {
    out: &'w mut OutputFile,
    files: &'w [PathBuf],
    schema: Option<Versions>,
    /// The file of the transaction being undone.
    file: usize,
    tables: std::collections::HashMap<u64, TableCtx>,
    buf: String,
    session: Session,
    stats: flashback::WriteStats,
}

impl<'w> SqlSink<'w> {
    fn new(out: &'w mut OutputFile, files: &'w [PathBuf], schema: Option<Versions>) -> SqlSink<'w> {
        let mut buf = String::new();
        buf.push_str("-- binlog-tool flashback: the undo as SQL\n");
        buf.push_str(ROWS_SESSION);
        SqlSink {
            out,
            files,
            schema,
            file: 0,
            tables: Default::default(),
            buf,
            session: Session::new(),
            stats: flashback::WriteStats::default(),
        }
    }

    fn flush(&mut self) -> binlog::Result<()> {
        self.out
            .write_all(self.buf.as_bytes())
            .map_err(|e| binlog::Error::io(0, &e))?;
        self.stats.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

impl UndoSink for SqlSink<'_> {
    fn begin(&mut self, b: &Begin) -> binlog::Result<()> {
        use std::fmt::Write as _;
        let file = self
            .files
            .get(b.txn.file as usize)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let _ = writeln!(
            self.buf,
            "-- undo of {file}:{}-{}\nBEGIN;",
            b.txn.start, b.txn.end
        );
        self.stats.transactions += 1;
        self.file = b.txn.file as usize;
        Ok(())
    }

    fn table_map(
        &mut self,
        ev: &binlog::Event,
        tm: &binlog::event::TableMap,
    ) -> binlog::Result<()> {
        let at = ev.offset();
        let ctx = match &self.schema {
            None => TableCtx::new(tm, None, at)?,
            Some(v) => {
                let ctx = TableCtx::new(tm, Some(v.at(self.file, at)), at)?;
                ctx.require_names(at)?;
                ctx.as_of(&v.end, at)?
            }
        };
        ctx.require_names(at)?;
        self.tables.insert(tm.table_id, ctx);
        Ok(())
    }

    fn rows(&mut self, r: &UndoRows) -> binlog::Result<()> {
        use binlog::event::rows::RowsKind;
        use binlog::sql::Change;
        let table = self.tables.get(&r.source.table_id).ok_or_else(|| {
            binlog::Error::malformed(r.source.data_offset, "undo rows without their table map")
        })?;
        // The source's rows, undone last first: an insert is deleted, a delete inserted
        // again, an update applied with its images swapped.
        let mut rows: Vec<_> = binlog::row::Rows::new(r.source, r.data, &table.info)?
            .collect::<binlog::Result<_>>()?;
        if rows.len() != r.rows.len() {
            // Rows left out (--on-conflict skip): only those the walk kept.
            let kept: std::collections::HashSet<usize> = r.rows.iter().map(|s| s.start).collect();
            rows.retain(|row| kept.contains(&row.start));
        }
        // Foreign key and unique checks as the source's changes had them.
        self.session.rows(r.source.flags, &mut self.buf);
        for row in rows.iter().rev() {
            let before = table.image_values(row.before)?;
            let after = table.image_values(row.after)?;
            let (change, before, after) = match r.source.kind {
                RowsKind::Write => (Change::Delete, after, None),
                RowsKind::Delete => (Change::Insert, None, before),
                _ => (Change::Update, after, before),
            };
            table.sql.statement(
                change,
                before.as_deref().unwrap_or(&[]),
                after.as_deref().unwrap_or(&[]),
                r.source.data_offset,
                &mut self.buf,
            )?;
            self.buf.push('\n');
            self.stats.rows += 1;
        }
        self.stats.rows_events += 1;
        if self.buf.len() > 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    fn commit(&mut self, _c: &Commit) -> binlog::Result<()> {
        self.buf.push_str("COMMIT;\n");
        self.session.end(&mut self.buf);
        self.flush()
    }
}

/// The schema through the input, from the start of the selection to its end.
fn schema_versions(
    args: &SchemaArgs,
    logs: &[Binlog],
    paths: &[PathBuf],
    filter: &Filter,
) -> CliResult<Option<Versions>> {
    let Some(history) = args.history(filter)? else {
        return Ok(None);
    };
    Versions::walk(history, logs, filter)
        .map(Some)
        .map_err(|(n, e)| fail(&paths[n], e))
}
