//! A triage report over binlog files: when the writes happened and to which tables,
//! the biggest transactions, DDL, rotations and quiet stretches, per-table counts, an
//! event-type histogram and what each file is.
//!
//! Each file is walked once ([`scan_file`], no row values decoded: rows are counted as
//! [`crate::txn_stats`] counts them), independently of the others, so callers may scan
//! files in parallel; [`Report::build`] merges the scans. Rendering (HTML, JSON) is the
//! caller's.

pub mod scan;
pub mod timeline;

use std::collections::{BTreeMap, HashMap};

use crate::filter::Filter;
use crate::row::table_cache::TableName;
use crate::txn_stats::{Measure, Ranked, TopN};

pub use scan::{scan_file, Ddl, FileFacts, FileScan, Gap, TableTotals, TypeCount};
use timeline::{bucket_start, choose_width, FineBucket, WIDTHS};

/// What the report gathers and how finely.
#[derive(Debug, Clone)]
pub struct Options {
    /// Transactions listed (by bytes); 0 lists all.
    pub top: usize,
    /// Tables drawn apart in the timeline (by bytes); the rest are one "other" series.
    pub top_tables: usize,
    /// A stretch without events at least this long (seconds) is a gap; 0: none marked.
    pub gap_seconds: u32,
    /// The timeline has at most this many intervals.
    pub max_buckets: usize,
    /// The biggest transactions marked on the timeline.
    pub marked_transactions: usize,
    /// Only the transactions this selects (positions, commit times, GTIDs; its row
    /// options are not used): the timeline, transactions, tables, DDL, gaps, GTIDs and
    /// event types are theirs (and the control events'), while what each file is
    /// (version, checksums, events, how it ends, CRC32 problems) stays the whole file's.
    /// `None`: every transaction.
    pub selection: Option<Filter>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            top: 20,
            top_tables: 8,
            gap_seconds: 300,
            max_buckets: 120,
            marked_transactions: 5,
            selection: None,
        }
    }
}

/// A series of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    /// One table.
    Table(TableName),
    /// The tables not drawn apart.
    Other,
    /// Transactions without counted rows: DDL, statements logged as text.
    NoRows,
}

/// One interval of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Its start, Unix seconds (a multiple of the width).
    pub start: i64,
    /// Transactions that ended in it.
    pub transactions: u64,
    /// Bytes per series (in [`Timeline::series`] order).
    pub bytes: Vec<u64>,
    /// Rows per series.
    pub rows: Vec<u64>,
}

/// Bytes and rows written per interval, by the time of each transaction's last event,
/// over the span of the transactions' times.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Interval width in seconds.
    pub width: u32,
    /// The series, tables by bytes first, then [`Series::Other`] and [`Series::NoRows`]
    /// when they hold anything.
    pub series: Vec<Series>,
    /// Every interval from the first to the last (empty ones included).
    pub buckets: Vec<Bucket>,
    /// Transactions far outside the others' span, not drawn.
    pub left_out: LeftOut,
}

/// Transactions the timeline leaves out (see [`Timeline::left_out`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// How many.
    pub transactions: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Their rows.
    pub rows: u64,
}

/// Something to mark on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkerKind {
    /// A DDL statement.
    Ddl(Ddl),
    /// A file ends and the next begins: the time of the new file's first event.
    Rotation {
        /// The file ending (index into [`Report::files`]).
        from: usize,
    },
    /// No events from `from` to the marker's time.
    Gap(Gap),
    /// One of the biggest transactions (its rank in [`Report::top`], from 1).
    BigTransaction(usize),
}

/// A marker, at a time, in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Unix seconds.
    pub time: u32,
    /// The file it is in (index into [`Report::files`]).
    pub file: usize,
    /// What it marks.
    pub kind: MarkerKind,
}

/// Totals over all files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bytes of the files.
    pub file_bytes: u64,
    /// Events (top level); with a selection, those the event-type histogram counts.
    pub events: u64,
    /// Transactions.
    pub transactions: u64,
    /// Their bytes.
    pub transaction_bytes: u64,
    /// Rows changed.
    pub rows: u64,
    /// Rows inserted, updated, deleted.
    pub inserted: u64,
    /// See `inserted`.
    pub updated: u64,
    /// See `inserted`.
    pub deleted: u64,
    /// Rows events whose rows could not be counted.
    pub uncounted_rows_events: u64,
    /// Events with a bad CRC32.
    pub crc_errors: u64,
    /// Files that end inside an event.
    pub truncated_files: u64,
    /// The earliest and latest event times (of any event: see
    /// [`FileFacts::time_range`]).
    pub first_timestamp: Option<u32>,
    /// See `first_timestamp`.
    pub last_timestamp: Option<u32>,
}

/// The report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Each file, in the order given.
    pub files: Vec<FileFacts>,
    /// Totals.
    pub totals: Totals,
    /// Bytes and rows over time.
    pub timeline: Timeline,
    /// DDL, rotations, gaps and the biggest transactions, by time.
    pub markers: Vec<Marker>,
    /// The biggest transactions by bytes, biggest first (ties: earlier file, earlier
    /// position).
    pub top: Vec<Ranked>,
    /// Every table, by bytes (then name).
    pub tables: Vec<(TableName, TableTotals)>,
    /// Events per type code, over all files (a TRANSACTION_PAYLOAD counts as one).
    pub event_types: BTreeMap<u8, TypeCount>,
    /// Events inside TRANSACTION_PAYLOAD events per type code, over all files.
    pub payload_event_types: BTreeMap<u8, TypeCount>,
}

impl Report {
    /// Merges the scans of files `0..scans.len()` (each made by [`scan_file`] with its
    /// index and the same `opts`).
    pub fn build(scans: Vec<FileScan>, opts: &Options) -> Report {
        let mut top = TopN::new(Measure::Bytes, opts.top);
        let mut tables: HashMap<TableName, TableTotals> = HashMap::new();
        let mut event_types: BTreeMap<u8, TypeCount> = BTreeMap::new();
        let mut payload_event_types: BTreeMap<u8, TypeCount> = BTreeMap::new();
        let mut totals = Totals::default();
        let mut markers = Vec::new();
        let mut files = Vec::with_capacity(scans.len());
        let mut fine = Vec::with_capacity(scans.len());
        for (i, s) in scans.into_iter().enumerate() {
            let f = &s.facts;
            totals.file_bytes += f.size;
            totals.events += f.events;
            totals.transactions += f.transactions;
            totals.transaction_bytes += f.transaction_bytes;
            totals.rows += f.rows;
            totals.uncounted_rows_events += f.uncounted_rows_events;
            totals.crc_errors += f.crc_errors;
            if matches!(f.ending, crate::summary::Ending::Truncated(_)) {
                totals.truncated_files += 1;
            }
            totals.first_timestamp = min_opt(totals.first_timestamp, f.time_range.map(|r| r.0));
            totals.last_timestamp = max_opt(totals.last_timestamp, f.time_range.map(|r| r.1));
            TypeCount::merge(&mut event_types, &f.event_types);
            TypeCount::merge(&mut payload_event_types, &f.payload_event_types);
            let mut names = Vec::with_capacity(s.tables.len());
            for (name, t) in &s.tables {
                tables.entry((**name).clone()).or_default().merge(t);
                names.push((**name).clone());
            }
            top.merge(s.top);
            for d in s.ddl {
                markers.push(Marker {
                    time: d.timestamp,
                    file: i,
                    kind: MarkerKind::Ddl(d),
                });
            }
            for g in s.gaps {
                markers.push(Marker {
                    time: g.to,
                    file: i,
                    kind: MarkerKind::Gap(g),
                });
            }
            fine.push((names, s.timeline));
            files.push(s.facts);
        }
        for t in tables.values() {
            totals.inserted += t.inserted;
            totals.updated += t.updated;
            totals.deleted += t.deleted;
        }
        if opts.selection.is_some() {
            // The events of the selected transactions and those between transactions,
            // as the event-type histogram counts them (each file's count stays whole).
            totals.events = event_types.values().map(|c| c.count).sum();
        }
        file_boundaries(&files, opts.gap_seconds, &mut markers);
        let top = top.into_sorted();
        for (rank, r) in top.iter().enumerate().take(opts.marked_transactions) {
            markers.push(Marker {
                time: r.stats.last_timestamp,
                file: r.file,
                kind: MarkerKind::BigTransaction(rank + 1),
            });
        }
        if opts.selection.is_some() {
            // Rotations and the quiet stretches between files outside the selection's
            // time are not of it.
            let (from, to) = (totals.first_timestamp, totals.last_timestamp);
            markers
                .retain(|m| from.is_some_and(|f| m.time >= f) && to.is_some_and(|t| m.time <= t));
        }
        markers.sort_by_key(|m| (m.time, m.file));
        let mut tables: Vec<(TableName, TableTotals)> = tables.into_iter().collect();
        tables.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(&b.0)));
        let no_rows: u64 = files.iter().map(|f| f.no_rows_bytes).sum();
        let timeline = merge_timelines(fine, &tables, no_rows, opts);
        Report {
            files,
            totals,
            timeline,
            markers,
            top,
            tables,
            event_types,
            payload_event_types,
        }
    }
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Rotations (each file after the first in time order, at its first event), and gaps
/// between one file's last event and the next one's first.
fn file_boundaries(files: &[FileFacts], gap_seconds: u32, markers: &mut Vec<Marker>) {
    let mut order: Vec<(u32, usize)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.first_timestamp.map(|t| (t, i)))
        .collect();
    order.sort();
    for w in order.windows(2) {
        let (prev, (t, i)) = (w[0].1, w[1]);
        markers.push(Marker {
            time: t,
            file: i,
            kind: MarkerKind::Rotation { from: prev },
        });
        let Some(end) = files[prev].last_timestamp else {
            continue;
        };
        if gap_seconds > 0 && t > end && t - end >= gap_seconds {
            markers.push(Marker {
                time: t,
                file: i,
                kind: MarkerKind::Gap(Gap {
                    from: end,
                    to: t,
                    position: 4,
                }),
            });
        }
    }
}

fn merge_timelines(
    fine: Vec<(Vec<TableName>, timeline::FineTimeline)>,
    tables: &[(TableName, TableTotals)],
    no_rows: u64,
    opts: &Options,
) -> Timeline {
    // The span: the intervals holding transactions, but for the few (at most one in a
    // thousand, at each end) far from the rest: servers stamp their own events with the
    // wall clock while sessions may pin another time (`SET timestamp`), and a chart over
    // the years between would show one bar. Those left out are counted in the timeline.
    let Some((first, last)) = span(&fine) else {
        return Timeline::default();
    };
    let min_index = fine.iter().map(|(_, t)| t.width_index).max().unwrap_or(0);
    let index = choose_width(first, last, min_index, opts.max_buckets);
    let width = WIDTHS[index];
    // The series: the top tables by bytes, then the rest, then transactions without rows.
    let drawn = tables.len().min(opts.top_tables);
    let mut series: Vec<Series> = tables[..drawn]
        .iter()
        .map(|(n, _)| Series::Table(n.clone()))
        .collect();
    let other = (tables.len() > drawn).then(|| {
        series.push(Series::Other);
        series.len() - 1
    });
    let no_rows_at = (no_rows > 0).then(|| {
        series.push(Series::NoRows);
        series.len() - 1
    });
    let slot: HashMap<&TableName, usize> = tables[..drawn]
        .iter()
        .enumerate()
        .map(|(k, (n, _))| (n, k))
        .collect();
    let start0 = bucket_start(first, width);
    let n = ((bucket_start(last, width) - start0) / i64::from(width) + 1) as usize;
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|k| Bucket {
            start: start0 + k as i64 * i64::from(width),
            transactions: 0,
            bytes: vec![0; series.len()],
            rows: vec![0; series.len()],
        })
        .collect();
    let mut left_out = LeftOut::default();
    for (names, mut t) in fine {
        t.coarsen(index);
        for (
            start,
            FineBucket {
                transactions,
                series: amounts,
            },
        ) in t.buckets
        {
            let at = bucket_start(start, width);
            if at < start0 || at > bucket_start(last, width) {
                left_out.transactions += transactions;
                for (_, a) in amounts {
                    left_out.bytes += a.bytes;
                    left_out.rows += a.rows;
                }
                continue;
            }
            let k = ((at - start0) / i64::from(width)) as usize;
            let b = &mut buckets[k];
            b.transactions += transactions;
            for (s, a) in amounts {
                let at = if s == scan::NO_ROWS_SERIES {
                    no_rows_at
                } else {
                    names
                        .get(s as usize - 1)
                        .and_then(|name| slot.get(name).copied())
                        .or(other)
                };
                if let Some(at) = at {
                    b.bytes[at] += a.bytes;
                    b.rows[at] += a.rows;
                }
            }
        }
    }
    Timeline {
        width,
        series,
        buckets,
        left_out,
    }
}

/// The first and last interval starts that hold transactions. Up to one in a thousand
/// transactions at each end make the core span; those further from it than its own
/// length are left out when the whole span is more than four times the rest's.
fn span(fine: &[(Vec<TableName>, timeline::FineTimeline)]) -> Option<(i64, i64)> {
    let mut keys: Vec<(i64, u64)> = fine
        .iter()
        .flat_map(|(_, t)| t.buckets.iter().map(|(k, b)| (*k, b.transactions)))
        .collect();
    keys.sort_unstable();
    let (first, last) = (keys.first()?.0, keys.last()?.0);
    let total: u64 = keys.iter().map(|k| k.1).sum();
    let allowed = total / 1000;
    let trim = |it: &mut dyn Iterator<Item = &(i64, u64)>| -> Option<i64> {
        let mut seen = 0;
        for (k, n) in it {
            seen += n;
            if seen > allowed {
                return Some(*k);
            }
        }
        None
    };
    let lo = trim(&mut keys.iter()).unwrap_or(first);
    let hi = trim(&mut keys.iter().rev()).unwrap_or(last);
    let widest = fine
        .iter()
        .map(|(_, t)| i64::from(t.width()))
        .max()
        .unwrap_or(1);
    if lo > hi {
        return Some((first, last));
    }
    // Keep everything within the core's own length of it: only the far ones go.
    let core = hi - lo + widest;
    let near = |k: &i64| (lo - core..=hi + core).contains(k);
    let a = keys.iter().map(|k| k.0).find(near).unwrap_or(lo);
    let b = keys.iter().rev().map(|k| k.0).find(near).unwrap_or(hi);
    if (last - first) > 4 * (b - a + widest) {
        Some((a, b))
    } else {
        Some((first, last))
    }
}
