//! `binlog-tool decode`: every row change with names and values, as SQL or JSON lines.

mod jsonl;
mod pipeline;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use binlog::BinlogFile;

use super::args::{Inputs, Selection};
use super::output::{file_name, open, CliResult, OutputFile};
use super::schema_source::SchemaArgs;
use pipeline::{render_in_order, Setup, Sources};

/// Show each row change with names and values, as SQL or JSON lines.
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
/// Exit status: 0 success; 2 an error (one line on stderr, nothing left at -o FILE).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub selection: Selection,
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
    let mut out = OutputFile::create(&args.output)?;
    if args.format == DecodeFormat::Sql {
        out.write_all(b"-- binlog-tool decode\nSET NAMES utf8mb4;\nSET time_zone = '+00:00';\n")?;
    }
    let files: Vec<BinlogFile> = paths.iter().map(|p| open(p)).collect::<CliResult<_>>()?;
    let names: Vec<String> = paths.iter().map(|p| file_name(p)).collect();
    let sources = Sources {
        files: &files,
        names: &names,
        paths: &paths,
    };
    let setup = Setup {
        format: args.format,
        filter: &filter,
    };
    let (out, history) = render_in_order(&sources, setup, history, schema_out.is_some(), out)?;
    out.commit()?;
    if let (Some(mut f), Some(h)) = (schema_out.take(), history) {
        f.write_all(binlog::schema::write_script(h.current()).as_bytes())?;
        f.commit()?;
    }
    Ok(ExitCode::SUCCESS)
}
