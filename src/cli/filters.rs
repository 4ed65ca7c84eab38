//! The selection options shared by flashback, decode and cut, with mysqlbinlog's names.

use binlog::event::rows::RowsKind;
use binlog::filter::{Filter, TablePattern};
use binlog::gtid_set::GtidSet;

use super::output::{CliResult, Failure};

/// Which transactions and rows to work on.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Start with the first transaction at or after this position (first file).
    #[arg(long, short = 'j')]
    pub start_position: Option<u64>,
    /// Stop before the first transaction that ends after this position (last file).
    #[arg(long)]
    pub stop_position: Option<u64>,
    /// Transactions that committed at or after this local time ('YYYY-MM-DD HH:MM:SS').
    #[arg(long)]
    pub start_datetime: Option<String>,
    /// Transactions that committed before this local time ('YYYY-MM-DD HH:MM:SS').
    #[arg(long)]
    pub stop_datetime: Option<String>,
    /// Only rows of this database (repeatable).
    #[arg(long, short = 'd')]
    pub database: Vec<String>,
    /// Only rows of this table, db.table, `%` as wildcard (repeatable).
    #[arg(long, short = 't')]
    pub table: Vec<String>,
    /// Only these kinds of changes: insert, update, delete (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sql_type: Vec<SqlType>,
    /// Only transactions with these GTIDs (MySQL GTID set, or MariaDB domain-server-seq list).
    #[arg(long)]
    pub include_gtids: Option<String>,
    /// No transaction with these GTIDs.
    #[arg(long)]
    pub exclude_gtids: Option<String>,
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

impl FilterArgs {
    /// The library filter these options describe.
    pub fn to_filter(&self) -> CliResult<Filter> {
        let gtids = |s: &Option<String>, name: &str| -> CliResult<Option<GtidSet>> {
            s.as_deref()
                .map(|s| GtidSet::parse(s).map_err(|e| Failure::Message(format!("--{name}: {e}"))))
                .transpose()
        };
        let tables = self
            .table
            .iter()
            .map(|t| TablePattern::parse(t).map_err(|e| Failure::Message(format!("--table: {e}"))))
            .collect::<CliResult<Vec<_>>>()?;
        let kinds = (!self.sql_type.is_empty()).then(|| {
            self.sql_type
                .iter()
                .map(|k| match k {
                    SqlType::Insert => RowsKind::Write,
                    SqlType::Update => RowsKind::Update,
                    SqlType::Delete => RowsKind::Delete,
                })
                .collect()
        });
        Ok(Filter {
            start_position: self.start_position,
            stop_position: self.stop_position,
            start_time: self
                .start_datetime
                .as_deref()
                .map(parse_datetime)
                .transpose()?,
            stop_time: self
                .stop_datetime
                .as_deref()
                .map(parse_datetime)
                .transpose()?,
            databases: self.database.clone(),
            tables,
            kinds,
            include_gtids: gtids(&self.include_gtids, "include-gtids")?,
            exclude_gtids: gtids(&self.exclude_gtids, "exclude-gtids")?,
        })
    }
}
