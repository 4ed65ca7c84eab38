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
        out.write_all(b"-- binlog-tool decode\nSET NAMES utf8mb4;\nSET time_zone = '+00:00';\n")?;
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
