//! Where a point in time, or a GTID, lies among the transactions of consecutive binlogs,
//! as `binlog-tool locate` finds it: the searches are fed one file after the other and
//! say when they know the answer, so that later files need not be read. Only complete
//! transactions count; CRC32s are not checked.

use crate::error::Result;
use crate::gtid_set::GtidValue;
use crate::reader::Binlog;
use crate::txn::{Group, Transaction, Transactions};

/// A transaction found, with the number of its file (in the order fed).
#[derive(Debug, Clone)]
pub struct Found {
    /// Which file.
    pub file: usize,
    /// The transaction.
    pub txn: Transaction,
}

/// The transactions around a time: the last that committed before it, and the first that
/// committed at or after it.
#[derive(Debug, Clone)]
pub struct TimeSearch {
    time: u32,
    /// The last transaction that committed before the time.
    pub before: Option<Found>,
    /// The first transaction that committed at or after the time.
    pub after: Option<Found>,
}

impl TimeSearch {
    /// A search for `time` (seconds since the epoch).
    pub fn new(time: u32) -> TimeSearch {
        TimeSearch {
            time,
            before: None,
            after: None,
        }
    }

    /// Looks through file number `file`; true once the answer is known.
    pub fn feed(&mut self, file: usize, log: &Binlog) -> Result<bool> {
        for txn in complete(log) {
            let txn = txn?;
            if txn.last_timestamp < self.time {
                self.before = Some(Found { file, txn });
            } else {
                self.after = Some(Found { file, txn });
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The transaction with a GTID.
#[derive(Debug, Clone)]
pub struct GtidSearch {
    gtid: GtidValue,
    /// The transaction, once found.
    pub found: Option<Found>,
}

impl GtidSearch {
    /// A search for `gtid`.
    pub fn new(gtid: GtidValue) -> GtidSearch {
        GtidSearch { gtid, found: None }
    }

    /// Looks through file number `file`; true once the transaction is found.
    pub fn feed(&mut self, file: usize, log: &Binlog) -> Result<bool> {
        for txn in complete(log) {
            let txn = txn?;
            if txn.gtid.as_ref() == Some(&self.gtid) {
                self.found = Some(Found { file, txn });
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The complete transactions of `log`, in order, CRC32s unchecked.
fn complete<'a>(log: &Binlog<'a>) -> impl Iterator<Item = Result<Transaction>> + 'a {
    Transactions::new(log.events().verify_checksums(false)).filter_map(|g| match g {
        Ok(Group::Transaction(t)) if t.is_complete() => Some(Ok(t)),
        Ok(_) => None,
        Err(e) => Some(Err(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn around_a_time_and_a_gtid() {
        let bytes = crate::test_support::fixture("row_full/mariadb-bin.000002");
        let log = Binlog::parse(&bytes).unwrap();
        let all: Vec<Transaction> = complete(&log).map(|t| t.unwrap()).collect();
        assert!(all.len() > 2);
        let mut s = TimeSearch::new(0);
        assert!(s.feed(0, &log).unwrap());
        assert!(s.before.is_none());
        assert_eq!(s.after.unwrap().txn.start, all[0].start);
        let mut s = TimeSearch::new(u32::MAX);
        assert!(!s.feed(3, &log).unwrap());
        let last = s.before.unwrap();
        assert_eq!((last.file, last.txn.start), (3, all[all.len() - 1].start));
        let with_gtid = all.iter().find(|t| t.gtid.is_some()).unwrap();
        let mut g = GtidSearch::new(with_gtid.gtid.clone().unwrap());
        assert!(g.feed(1, &log).unwrap());
        assert_eq!(g.found.unwrap().txn.start, with_gtid.start);
    }
}
