//! A one-line progress display on standard error (only when it is a terminal): tables
//! done, rows and bytes read, bytes written, and the tables being read with their rows
//! against the engine's estimate.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::catalog::Chosen;
use super::read::Shared;
use crate::cli::size::human;

/// The running display.
pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

fn render(shared: &Shared, tables: &[Chosen], written: u64, started: Instant) -> String {
    let mut rows_by_table = vec![0u64; tables.len()];
    let mut bytes_by_table = vec![0u64; tables.len()];
    let mut open: Vec<usize> = Vec::new();
    let next = shared.next.load(Ordering::Relaxed).min(shared.items.len());
    for (k, item) in shared.items.iter().enumerate() {
        let s = &shared.spools[k];
        rows_by_table[item.table] += s.rows.load(Ordering::Relaxed);
        bytes_by_table[item.table] += s.bytes.load(Ordering::Relaxed);
        if k < next && !open.contains(&item.table) {
            open.push(item.table);
        }
    }
    let rows: u64 = rows_by_table.iter().sum();
    let bytes: u64 = bytes_by_table.iter().sum();
    // The tables being read: the last few taken up.
    let reading: Vec<String> = open
        .iter()
        .rev()
        .take(3)
        .map(|&t| {
            let est = tables[t].estimated_rows.max(1);
            let pct = (rows_by_table[t] * 100 / est).min(100);
            format!(
                "{}.{} {pct}% ({} rows, {})",
                tables[t].schema,
                tables[t].name,
                rows_by_table[t],
                human(bytes_by_table[t])
            )
        })
        .collect();
    format!(
        "[{:>6.1}s] {} rows, {} read, {} written; {}/{} tables started; {}",
        started.elapsed().as_secs_f64(),
        rows,
        human(bytes),
        human(written),
        open.len(),
        tables.len(),
        reading.join(", ")
    )
}

impl Progress {
    /// Starts updating the line every quarter second.
    pub fn start(shared: Arc<Shared>, tables: Vec<Chosen>, written: Arc<AtomicU64>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            let mut err = std::io::stderr();
            while !flag.load(Ordering::Relaxed) {
                let mut line = render(&shared, &tables, written.load(Ordering::Relaxed), started);
                let width = 160;
                if line.chars().count() > width {
                    line = line.chars().take(width - 1).collect::<String>() + "…";
                }
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                std::thread::sleep(Duration::from_millis(250));
            }
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        });
        Progress { stop, handle }
    }

    /// Clears the line and stops.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}
