//! `binlog-tool decode`: every row change with names and values, as SQL, JSON lines or
//! Parquet.

mod arrow_rows;
pub(crate) mod jsonl;
mod parquet_out;
mod parquet_part;
mod pipeline;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use binlog::BinlogFile;

use super::args::{Inputs, Selection};
use super::chain::{parse_all, ChainArgs};
use super::output::{file_name, open, refuse_output_over_input, CliResult, OutputFile};
use super::schema_source::SchemaArgs;
use super::size::parse_size;
use arrow_rows::{ArrowSetup, InvalidValues};
use parquet_out::ParquetDir;
use pipeline::{render_in_order, Setup, Sources};

/// Show each row change with names and values, as SQL, JSON lines or Parquet.
///
/// For each row change: its file, position, time, GTID, database, table, operation and
/// values with column names: from TABLE_MAP metadata (binlog_row_metadata=FULL), else from
/// a schema (--schema FILE or --schema-from-server) followed through the DDL of the input,
/// else `@1..@n` as mysqlbinlog -v does (JSON lines only: SQL is refused, since `@N` cannot
/// run). `--format sql` writes statements that reproduce the changes on a copy of the data
/// as it was at the start position. With a schema, every TABLE_MAP of a selected table is
/// checked against the tables of its moment (column count and types), and DDL on a
/// selected table that cannot be read stops the run, naming its position.
///
/// With --database or --table, a statement (DDL, statement-format changes) is written
/// only when the tables or database it names are selected, each unqualified name taken
/// in the statement's default database (`USE a; DROP TABLE b.t` concerns b); one naming
/// selected and other tables, or whose tables its text does not tell (multi-table
/// changes, CALL), is left out with a note on stderr; accounts, views, triggers and
/// routines are left out. A transaction with nothing selected in it is not written
/// (no empty BEGIN; COMMIT; block).
///
/// Several files must be one server's consecutive files (--allow-gaps reads them anyway);
/// a start position inside a transaction is refused; a file cut short is read up to its
/// last complete transaction, with a note.
///
/// Exit status: 0 success; 1 the output is written, but a file is cut short inside the
/// selection (stderr says where); 2 an error (one line on stderr, nothing left at -o
/// FILE); 130, 143, 129 stopped by SIGINT, SIGTERM, SIGHUP (nothing left at -o).
#[derive(Debug, clap::Args)]
#[command(after_long_help = DETAILS)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DecodeFormat::Sql)]
    pub format: DecodeFormat,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// Write the schema as it is at the end of the input (the given one with the input's
    /// DDL applied) to FILE as CREATE TABLE statements, for a later run's --schema.
    /// Needs --schema or --schema-from-server.
    #[arg(long, value_name = "FILE", alias = "schema-history")]
    pub write_schema: Option<PathBuf>,
    /// Write here instead of standard output (written in full or not at all). Parquet:
    /// the directory to create (it must not exist, or be empty).
    #[arg(long, short = 'o', default_value = "-")]
    pub output: PathBuf,
    /// Parquet: start a table's next part once its part passes SIZE (e.g. 64M, 1G).
    /// [default: 256M]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub part_size: Option<u64>,
    /// Parquet: a value Arrow cannot hold (a zero or invalid date, text invalid in its
    /// character set) stops the run naming it (refuse), or is written as NULL and
    /// counted on stderr (null). [default: refuse]
    #[arg(long, value_enum, value_name = "WHAT")]
    pub invalid_values: Option<InvalidValues>,
}

/// What `decode --help` says after the options.
const DETAILS: &str = "\
SQL: the output first sets the session row events are applied in (SET NAMES utf8mb4,
time_zone '+00:00' as TIMESTAMP values are UTC, sql_mode NO_AUTO_VALUE_ON_ZERO and
ALLOW_INVALID_DATES so that an id 0 and zero or invalid dates are stored as logged);
foreign_key_checks and unique_checks follow each rows event's flags. Text is quoted in its
own characters when valid and printable in its column's character set (quotes doubled,
backslash, newline, CR and tab escaped), else hex (X'..'). UPDATE/DELETE find rows by
primary key, or without one by every column compared exactly (strings as binary, FLOAT
as its exact double); a table with neither is refused. Statements logged as text run with
the settings their event recorded (SET timestamp, sql_mode, time_zone, character sets),
without USE when logged so (CREATE DATABASE); one whose text is not UTF-8 is refused.
Comments name each change's file and position; inside a MySQL compressed transaction,
the TRANSACTION_PAYLOAD's position and the event's index in it (\"payload event N\").

JSON lines: pos is the rows event's position, or the TRANSACTION_PAYLOAD's with
payload_index; time is ISO 8601 with the local offset; TIMESTAMP values are UTC with Z;
text is converted to UTF-8 from its column's character set; a JSON column's document is
a string; bytes that are not text (binary, geometry, unmapped or invalid text) are the
only objects: {\"hex\": \"00FF\"}.

Parquet (-o DIR): DIR/db.table/part-0.parquet, part-1.parquet, … (a new part past
--part-size, and when the table's columns change). Columns: file, pos, timestamp (commit
time, UTC), gtid, op, db, table, payload_index, then before_<col> and after_<col> for
each column, typed from its MySQL type (TIME as a duration in microseconds: INT64 in
Parquet; ENUM/SET as names when known; text as UTF-8; bytes as binary). A column left
out of a minimal row image is NULL. DIR appears only once complete.";

/// Output formats of `decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecodeFormat {
    /// Executable SQL in the source's transaction blocks.
    Sql,
    /// One JSON object per row change.
    Jsonl,
    /// Parquet files, one folder of parts per table (-o DIR).
    Parquet,
}

/// Runs `decode`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let filter = args.selection.to_filter()?;
    let paths = args.inputs.nonempty_paths()?;
    let index = args.inputs.index.as_deref();
    let schema_file = args.schema.schema.as_deref();
    let read = || {
        paths
            .iter()
            .map(|p| p.as_path())
            .chain(index)
            .chain(schema_file)
    };
    refuse_output_over_input(&args.output, read())?;
    if let Some(w) = &args.write_schema {
        refuse_output_over_input(w, read())?;
    }
    let files: Vec<BinlogFile> = paths.iter().map(|p| open(p)).collect::<CliResult<_>>()?;
    let logs = parse_all(&files, &paths)?;
    args.chain.check_selection(&paths, &logs, &filter)?;
    drop(logs);
    let history = args.schema.history(&filter)?;
    if args.write_schema.is_some() && history.is_none() {
        return Err(super::output::Failure::Message(
            "--write-schema needs a schema to start from: --schema FILE or --schema-from-server"
                .into(),
        ));
    }
    let mut schema_out = match &args.write_schema {
        Some(p) => Some(OutputFile::create(p)?),
        None => None,
    };
    let parquet = args.format == DecodeFormat::Parquet;
    if !parquet && (args.part_size.is_some() || args.invalid_values.is_some()) {
        return Err(super::output::Failure::Message(
            "--part-size and --invalid-values are for --format parquet".into(),
        ));
    }
    if args.part_size == Some(0) {
        return Err(super::output::Failure::Message(
            "--part-size must be more than 0".into(),
        ));
    }
    let arrow = ArrowSetup::new(args.invalid_values.unwrap_or(InvalidValues::Refuse));
    let names: Vec<String> = paths.iter().map(|p| file_name(p)).collect();
    let sources = Sources {
        files: &files,
        names: &names,
        paths: &paths,
    };
    let setup = Setup {
        format: args.format,
        filter: &filter,
        arrow: &arrow,
    };
    let (history, damaged) = if parquet {
        let dir = ParquetDir::create(&args.output, args.part_size.unwrap_or(256 << 20))?;
        let (dir, history, damaged) =
            render_in_order(&sources, setup, history, schema_out.is_some(), dir)?;
        let (nulled, first) = arrow.nulled();
        dir.commit()?;
        if nulled > 0 {
            crate::say!(
                "binlog-tool: note: {nulled} value(s) Parquet cannot hold written as NULL \
                 (the first: {})",
                first.unwrap_or_default()
            );
        }
        (history, damaged)
    } else {
        let mut out = OutputFile::create(&args.output)?;
        if args.format == DecodeFormat::Sql {
            out.write_all(b"-- binlog-tool decode\n")?;
            out.write_all(binlog::sql::session::ROWS_SESSION.as_bytes())?;
        }
        let (out, history, damaged) =
            render_in_order(&sources, setup, history, schema_out.is_some(), out)?;
        out.commit()?;
        (history, damaged)
    };
    if let (Some(mut f), Some(h)) = (schema_out.take(), history) {
        f.write_all(binlog::schema::write_script(h.current()).as_bytes())?;
        f.commit()?;
    }
    Ok(if damaged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
