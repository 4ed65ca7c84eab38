//! The argument groups the subcommands share, with mysqlbinlog's names where it has them:
//! the input files, positions, commit times, GTIDs and the rows to work on. Each command
//! flattens the groups it takes (and may reword a flag's help where its meaning for that
//! command is narrower, as `events` does for positions of events).

use std::path::PathBuf;

use binlog::event::rows::RowsKind;
use binlog::filter::{Filter, TablePattern};
use binlog::gtid_set::GtidSet;

use super::index_file::read_index;
use super::output::{CliResult, Failure};

/// Binlog files, and a binlog index file naming more.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Inputs {
    /// Binlog files, in order.
    #[arg(required_unless_present = "index")]
    pub files: Vec<PathBuf>,
    /// Read the file list from a binlog index file (`mysql-bin.index`), in its order
    /// (after the files given).
    #[arg(long)]
    pub index: Option<PathBuf>,
}

impl Inputs {
    /// The files given, then those the index lists.
    pub fn paths(&self) -> CliResult<Vec<PathBuf>> {
        let mut files = self.files.clone();
        if let Some(index) = &self.index {
            files.extend(read_index(index)?.into_iter().map(|e| e.path));
        }
        Ok(files)
    }

    /// Like [`Inputs::paths`], refusing an empty list.
    pub fn nonempty_paths(&self) -> CliResult<Vec<PathBuf>> {
        let files = self.paths()?;
        match (&self.index, files.is_empty()) {
            (Some(index), true) => Err(Failure::Message(format!(
                "{}: lists no binlog file",
                index.display()
            ))),
            _ => Ok(files),
        }
    }
}

/// Start and stop positions.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Positions {
    /// Start with the first transaction at or after this position (first file).
    #[arg(long, short = 'j')]
    pub start_position: Option<u64>,
    /// Stop before the first transaction that ends after this position (last file).
    #[arg(long)]
    pub stop_position: Option<u64>,
}

/// Start and stop times.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Times {
    /// Transactions that committed at or after this local time ('YYYY-MM-DD HH:MM:SS').
    #[arg(long)]
    pub start_datetime: Option<String>,
    /// Transactions that committed before this local time ('YYYY-MM-DD HH:MM:SS').
    #[arg(long)]
    pub stop_datetime: Option<String>,
}

/// GTIDs to take or leave.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Gtids {
    /// Only transactions with these GTIDs: a MySQL GTID set (`uuid:1-5:7`,
    /// `uuid:tag:1-5`), or a comma list of MariaDB GTIDs where `0-1-211` is that one GTID
    /// and `0-1-200..0-1-211` a range.
    #[arg(long, value_name = "GTIDS")]
    pub include_gtids: Option<String>,
    /// No transaction with these GTIDs (the same syntax as --include-gtids).
    #[arg(long, value_name = "GTIDS")]
    pub exclude_gtids: Option<String>,
}

/// Which rows inside the selected transactions.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Rows {
    /// Only rows of these databases (comma-separated, repeatable).
    #[arg(long, short = 'd', value_delimiter = ',', value_name = "DB")]
    pub database: Vec<String>,
    /// Only rows of these tables: db.table, `%` as wildcard (comma-separated, repeatable).
    #[arg(long, short = 't', value_delimiter = ',', value_name = "DB.TABLE")]
    pub table: Vec<String>,
    /// Only these kinds of changes: insert, update, delete (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sql_type: Vec<SqlType>,
}

/// `--sql-type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlType {
    /// WRITE_ROWS.
    Insert,
    /// UPDATE_ROWS.
    Update,
    /// DELETE_ROWS.
    Delete,
}

/// Which whole transactions: positions, commit times, GTIDs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Transactions {
    #[command(flatten)]
    pub positions: Positions,
    #[command(flatten)]
    pub times: Times,
    #[command(flatten)]
    pub gtids: Gtids,
}

/// Which transactions, and which rows of them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Selection {
    #[command(flatten)]
    pub transactions: Transactions,
    #[command(flatten)]
    pub rows: Rows,
}

impl Transactions {
    /// Whether any of the options is given (without them every transaction is taken).
    pub fn selects(&self) -> bool {
        let (p, t, g) = (&self.positions, &self.times, &self.gtids);
        p.start_position.is_some()
            || p.stop_position.is_some()
            || t.start_datetime.is_some()
            || t.stop_datetime.is_some()
            || g.include_gtids.is_some()
            || g.exclude_gtids.is_some()
    }

    /// The library filter these options describe (every row of the transactions).
    pub fn to_filter(&self) -> CliResult<Filter> {
        let gtids = |s: &Option<String>, name: &str| -> CliResult<Option<GtidSet>> {
            s.as_deref()
                .map(|s| GtidSet::parse(s).map_err(|e| Failure::Message(format!("--{name}: {e}"))))
                .transpose()
        };
        Ok(Filter {
            start_position: self.positions.start_position,
            stop_position: self.positions.stop_position,
            start_time: self
                .times
                .start_datetime
                .as_deref()
                .map(parse_datetime)
                .transpose()?,
            stop_time: self
                .times
                .stop_datetime
                .as_deref()
                .map(parse_datetime)
                .transpose()?,
            include_gtids: gtids(&self.gtids.include_gtids, "include-gtids")?,
            exclude_gtids: gtids(&self.gtids.exclude_gtids, "exclude-gtids")?,
            ..Filter::default()
        })
    }
}

impl Selection {
    /// The library filter these options describe.
    pub fn to_filter(&self) -> CliResult<Filter> {
        let r = &self.rows;
        let names = |list: &[String], flag: &str| -> CliResult<Vec<String>> {
            list.iter()
                .map(|n| match n.trim() {
                    "" => Err(Failure::Message(format!(
                        "--{flag}: an empty name in the list"
                    ))),
                    n => Ok(n.to_string()),
                })
                .collect()
        };
        let tables = names(&r.table, "table")?
            .iter()
            .map(|t| TablePattern::parse(t).map_err(|e| Failure::Message(format!("--table: {e}"))))
            .collect::<CliResult<Vec<_>>>()?;
        let kinds = (!r.sql_type.is_empty()).then(|| {
            r.sql_type
                .iter()
                .map(|k| match k {
                    SqlType::Insert => RowsKind::Write,
                    SqlType::Update => RowsKind::Update,
                    SqlType::Delete => RowsKind::Delete,
                })
                .collect()
        });
        Ok(Filter {
            databases: names(&r.database, "database")?,
            tables,
            kinds,
            ..self.transactions.to_filter()?
        })
    }
}

/// Parses 'YYYY-MM-DD HH:MM:SS' (or with 'T', or a date alone) in the local time zone,
/// as mysqlbinlog does.
pub fn parse_datetime(s: &str) -> CliResult<u32> {
    use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .or_else(|_| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| {
            Failure::Message(format!(
                "cannot read '{s}' as a date and time (YYYY-MM-DD HH:MM:SS)"
            ))
        })?;
    let t = Local
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| Failure::Message(format!("'{s}' does not exist in the local time zone")))?;
    u32::try_from(t.timestamp())
        .map_err(|_| Failure::Message(format!("'{s}' is outside the binlog's time range")))
}
