//! A spool: the row images one worker reads for one piece of work, passed to the writer in
//! order. Chunks wait in memory up to a limit; past it they go to a temporary file (removed
//! from the directory as soon as it is created, so nothing is left behind whatever
//! happens), and come back from it when the writer gets to them. So a table read faster
//! than it is written never sits whole in memory.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Bytes of chunks a spool keeps in memory before it spills to a file.
const MEMORY_LIMIT: usize = 8 << 20;

enum Chunk {
    Memory(Vec<u8>),
    File { offset: u64, len: usize },
}

#[derive(Default)]
struct State {
    chunks: VecDeque<Chunk>,
    in_memory: usize,
    done: bool,
    error: Option<String>,
}

/// One spool: a single producer pushes chunks, a single consumer pops them in order.
#[derive(Default)]
pub struct Spool {
    state: Mutex<State>,
    ready: Condvar,
    file: Mutex<Option<File>>,
    file_end: AtomicU64,
    /// Rows read so far (for the progress display).
    pub rows: AtomicU64,
    /// Bytes of row images read so far.
    pub bytes: AtomicU64,
}

/// What [`Spool::pop`] gives.
pub enum Popped {
    /// The next chunk.
    Chunk(Vec<u8>),
    /// Every chunk has been taken.
    End,
    /// The producer failed.
    Failed(String),
}

fn spill_file() -> std::io::Result<File> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        ".binlog-tool-snapshot-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    // The open handle keeps the data; the name goes now.
    std::fs::remove_file(&path)?;
    Ok(f)
}

impl Spool {
    /// Adds a chunk (a run of length-prefixed row images).
    pub fn push(&self, chunk: Vec<u8>) -> Result<(), String> {
        let in_memory = self.state.lock().expect("spool lock").in_memory;
        let entry = if in_memory + chunk.len() <= MEMORY_LIMIT {
            Chunk::Memory(chunk)
        } else {
            let mut file = self.file.lock().expect("spool file lock");
            if file.is_none() {
                *file = Some(spill_file().map_err(|e| {
                    format!(
                        "cannot create a temporary file in {}: {e}",
                        std::env::temp_dir().display()
                    )
                })?);
            }
            let f = file.as_ref().expect("spill file");
            let offset = self.file_end.load(Ordering::Relaxed);
            f.write_all_at(&chunk, offset).map_err(|e| {
                format!(
                    "cannot write a temporary file in {}: {e}",
                    std::env::temp_dir().display()
                )
            })?;
            self.file_end
                .store(offset + chunk.len() as u64, Ordering::Relaxed);
            Chunk::File {
                offset,
                len: chunk.len(),
            }
        };
        let mut st = self.state.lock().expect("spool lock");
        if let Chunk::Memory(c) = &entry {
            st.in_memory += c.len();
        }
        st.chunks.push_back(entry);
        drop(st);
        self.ready.notify_one();
        Ok(())
    }

    /// Marks the end of the chunks.
    pub fn finish(&self) {
        self.state.lock().expect("spool lock").done = true;
        self.ready.notify_one();
    }

    /// Marks a failure.
    pub fn fail(&self, message: String) {
        let mut st = self.state.lock().expect("spool lock");
        st.error.get_or_insert(message);
        st.done = true;
        drop(st);
        self.ready.notify_one();
    }

    /// Takes the next chunk, waiting for one (or for `stop`, which gives a failure).
    pub fn pop(&self, stop: &AtomicBool) -> Popped {
        let mut st = self.state.lock().expect("spool lock");
        loop {
            if stop.load(Ordering::Relaxed) {
                return Popped::Failed("interrupted".into());
            }
            if let Some(e) = &st.error {
                return Popped::Failed(e.clone());
            }
            if let Some(c) = st.chunks.pop_front() {
                match c {
                    Chunk::Memory(v) => {
                        st.in_memory -= v.len();
                        return Popped::Chunk(v);
                    }
                    Chunk::File { offset, len } => {
                        drop(st);
                        let file = self.file.lock().expect("spool file lock");
                        let mut v = vec![0u8; len];
                        let r = file
                            .as_ref()
                            .expect("spill file")
                            .read_exact_at(&mut v, offset);
                        return match r {
                            Ok(()) => Popped::Chunk(v),
                            Err(e) => {
                                Popped::Failed(format!("cannot read back a temporary file: {e}"))
                            }
                        };
                    }
                }
            }
            if st.done {
                return Popped::End;
            }
            st = self
                .ready
                .wait_timeout(st, Duration::from_millis(100))
                .expect("spool lock")
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_and_keeps_order() {
        let s = std::sync::Arc::new(Spool::default());
        let p = s.clone();
        let producer = std::thread::spawn(move || {
            for i in 0..40u8 {
                p.push(vec![i; 1 << 20]).unwrap();
            }
            p.finish();
        });
        let mut seen = 0u8;
        let go = AtomicBool::new(false);
        loop {
            match s.pop(&go) {
                Popped::Chunk(c) => {
                    assert_eq!(c.len(), 1 << 20);
                    assert!(c.iter().all(|&b| b == seen));
                    seen += 1;
                }
                Popped::End => break,
                Popped::Failed(e) => panic!("{e}"),
            }
        }
        producer.join().unwrap();
        assert_eq!(seen, 40);
        let f = Spool::default();
        f.fail("boom".into());
        assert!(matches!(f.pop(&go), Popped::Failed(m) if m == "boom"));
        let g = Spool::default();
        assert!(matches!(g.pop(&AtomicBool::new(true)), Popped::Failed(m) if m == "interrupted"));
    }
}
