//! Bytes and rows written per interval, per series (a table, or transactions without
//! rows), gathered per file at a fine width and coarsened once the whole time span is
//! known.
//!
//! Widths come from [`WIDTHS`], each a multiple of the one before, so a file gathered at
//! one width re-buckets exactly into any wider one: files scanned in parallel never need
//! to agree on a width beforehand.

use std::collections::BTreeMap;

/// The interval widths in seconds, each dividing the next: 1 s to 28 days.
pub const WIDTHS: [u32; 15] = [
    1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400, 604_800, 2_419_200,
];

/// More distinct intervals than this in one file make its gathering width coarser.
const MAX_FINE_BUCKETS: usize = 4096;

/// What one interval holds for one series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    /// Bytes of transactions.
    pub bytes: u64,
    /// Rows changed.
    pub rows: u64,
}

impl Amount {
    fn add(&mut self, o: Amount) {
        self.bytes += o.bytes;
        self.rows += o.rows;
    }
}

/// One interval at gathering time: the transactions that ended in it, and per series
/// (an index the caller gives meaning to) what they wrote.
#[derive(Debug, Clone, Default)]
pub struct FineBucket {
    /// Transactions counted here.
    pub transactions: u64,
    /// `(series, amount)`, one entry per series.
    pub series: Vec<(u32, Amount)>,
}

impl FineBucket {
    fn add(&mut self, series: u32, a: Amount) {
        match self.series.iter_mut().find(|(s, _)| *s == series) {
            Some((_, have)) => have.add(a),
            None => self.series.push((series, a)),
        }
    }

    fn merge(&mut self, other: FineBucket) {
        self.transactions += other.transactions;
        for (s, a) in other.series {
            self.add(s, a);
        }
    }
}

/// Intervals of one file, at the finest width that keeps them under a bound.
#[derive(Debug, Clone, Default)]
pub struct FineTimeline {
    /// Index in [`WIDTHS`] of the width in use.
    pub width_index: usize,
    /// Interval start (a multiple of the width, Unix seconds) → contents.
    pub buckets: BTreeMap<i64, FineBucket>,
}

/// The start of the interval of width `w` holding time `t`.
pub fn bucket_start(t: i64, w: u32) -> i64 {
    t.div_euclid(i64::from(w)) * i64::from(w)
}

impl FineTimeline {
    /// The width in use, in seconds.
    pub fn width(&self) -> u32 {
        WIDTHS[self.width_index]
    }

    /// Counts one transaction at time `t`.
    pub fn transaction(&mut self, t: u32) {
        self.bucket(t).transactions += 1;
    }

    /// Adds `a` to `series` at time `t`.
    pub fn add(&mut self, t: u32, series: u32, a: Amount) {
        self.bucket(t).add(series, a);
    }

    fn bucket(&mut self, t: u32) -> &mut FineBucket {
        let start = bucket_start(i64::from(t), self.width());
        if !self.buckets.contains_key(&start) && self.buckets.len() >= MAX_FINE_BUCKETS {
            self.coarsen(self.width_index + 1);
        }
        let start = bucket_start(i64::from(t), self.width());
        self.buckets.entry(start).or_default()
    }

    /// Re-buckets into width `WIDTHS[index]` (no change when it is not wider).
    pub fn coarsen(&mut self, index: usize) {
        let index = index.min(WIDTHS.len() - 1);
        if index <= self.width_index {
            return;
        }
        self.width_index = index;
        let w = self.width();
        let old = std::mem::take(&mut self.buckets);
        for (start, b) in old {
            self.buckets
                .entry(bucket_start(start, w))
                .or_default()
                .merge(b);
        }
    }
}

/// The index in [`WIDTHS`] of the narrowest width, at least `WIDTHS[min_index]`, that
/// covers `first..=last` in at most `max_buckets` intervals (the widest when none does).
pub fn choose_width(first: i64, last: i64, min_index: usize, max_buckets: usize) -> usize {
    let max_buckets = max_buckets.max(1) as i64;
    for (i, &w) in WIDTHS.iter().enumerate().skip(min_index) {
        let n = (bucket_start(last, w) - bucket_start(first, w)) / i64::from(w) + 1;
        if n <= max_buckets {
            return i;
        }
    }
    WIDTHS.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_divide_each_other() {
        assert!(WIDTHS.windows(2).all(|w| w[1] % w[0] == 0));
    }

    #[test]
    fn coarsening_keeps_totals() {
        let mut t = FineTimeline::default();
        for i in 0..10_000u32 {
            t.transaction(1_700_000_000 + i * 3);
            t.add(1_700_000_000 + i * 3, i % 3, Amount { bytes: 10, rows: 1 });
        }
        assert!(t.buckets.len() <= MAX_FINE_BUCKETS);
        assert!(t.width() > 1);
        let txns: u64 = t.buckets.values().map(|b| b.transactions).sum();
        let bytes: u64 = t
            .buckets
            .values()
            .flat_map(|b| b.series.iter().map(|(_, a)| a.bytes))
            .sum();
        assert_eq!((txns, bytes), (10_000, 100_000));
        assert!(t.buckets.keys().all(|k| k % i64::from(t.width()) == 0));
    }

    #[test]
    fn width_fits_the_span() {
        assert_eq!(WIDTHS[choose_width(0, 59, 0, 60)], 1);
        assert_eq!(WIDTHS[choose_width(0, 60, 0, 60)], 5);
        assert_eq!(WIDTHS[choose_width(0, 10, 4, 60)], 60);
        assert_eq!(choose_width(0, i64::from(u32::MAX), 0, 1), WIDTHS.len() - 1);
    }
}
