//! `binlog-tool decode`: every row change with names and values, as SQL or JSON lines.

mod jsonl;
mod pipeline;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use binlog::BinlogFile;

use super::args::{Inputs, Selection};
use super::chain::{parse_all, ChainArgs};
use super::output::{
    file_name, open, read_schema, refuse_output_over_input, CliResult, OutputFile,
};
use pipeline::{render_in_order, Setup, Sources};

/// Show each row change with names and values, as SQL or JSON lines.
///
/// For each row change: its file, position, time, GTID, database, table, operation and
/// values with column names (from TABLE_MAP metadata, else `--schema`, else `@1..@n` as
/// mysqlbinlog -v does). `--format sql` writes statements that reproduce the changes on a
/// copy of the data as it was at the start position.
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
/// FILE).
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
    /// CREATE TABLE statements (e.g. `mysqldump --no-data`) naming the columns of tables
    /// whose TABLE_MAP events carry no names.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Write here instead of standard output (written in full or not at all).
    #[arg(long, short = 'o', default_value = "-")]
    pub output: PathBuf,
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
only objects: {\"hex\": \"00FF\"}.";

/// Output formats of `decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecodeFormat {
    /// Executable SQL in the source's transaction blocks.
    Sql,
    /// One JSON object per row change.
    Jsonl,
}

/// Runs `decode`.
pub fn run(args: Args) -> CliResult<ExitCode> {
    let filter = args.selection.to_filter()?;
    let paths = args.inputs.nonempty_paths()?;
    let read = paths.iter().map(|p| p.as_path());
    let index = args.inputs.index.as_deref();
    refuse_output_over_input(
        &args.output,
        read.chain(index).chain(args.schema.as_deref()),
    )?;
    let schema = read_schema(args.schema.as_deref())?;
    let files: Vec<BinlogFile> = paths.iter().map(|p| open(p)).collect::<CliResult<_>>()?;
    let logs = parse_all(&files, &paths)?;
    args.chain.check_selection(&paths, &logs, &filter)?;
    drop(logs);
    let mut out = OutputFile::create(&args.output)?;
    if args.format == DecodeFormat::Sql {
        out.write_all(b"-- binlog-tool decode\n")?;
        out.write_all(binlog::sql::session::ROWS_SESSION.as_bytes())?;
    }
    let names: Vec<String> = paths.iter().map(|p| file_name(p)).collect();
    let sources = Sources {
        files: &files,
        names: &names,
        paths: &paths,
    };
    let setup = Setup {
        format: args.format,
        schema: schema.as_ref(),
        filter: &filter,
    };
    let (out, damaged) = render_in_order(&sources, setup, out)?;
    out.commit()?;
    Ok(if damaged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
