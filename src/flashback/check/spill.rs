//! Expected rows past the memory budget: sorted runs written to a file the caller gives
//! (anything `Read + Write + Seek`), merged back so that each table's rows come out in
//! the order of their key's bytes, the last selected change to a row winning.
//!
//! A run is a sequence of records sorted by (table, key), with no key twice (the
//! collector already kept only the last change to each row). Runs are written in commit
//! order: when two runs hold the same key, the later run's record is the later change.
//! The merge reads every run through a small buffer; with more runs than the budget has
//! buffers for, the oldest ones are first merged into one run (appended to the file),
//! keeping their place in that order.
//!
//! A record on disk: its body's length (u32 LE), then the table index (u32), the change's
//! input file (u32) and offset (u64), the key's packed cells (u32 length, bytes), and the
//! row's cells now (a byte 0 for none, or 1, u32 length, bytes). Reading checks every
//! length and the cells' packing: bad bytes give an error, never a panic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::{Read, Seek, SeekFrom, Write};

use super::Cells;
use crate::error::{Error, Result};
use crate::flashback::Position;

/// One touched row of one table, as spilled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The table's index.
    pub table: u32,
    /// The row's key cells.
    pub key: Cells,
    /// What the binlog says it holds now (`None`: deleted).
    pub now: Option<Cells>,
    /// The last selected change to it.
    pub pos: Position,
}

impl Record {
    /// The order of runs: by table, then by the key's packed bytes.
    pub fn order(&self, other: &Record) -> Ordering {
        (self.table, self.key.bytes()).cmp(&(other.table, other.key.bytes()))
    }

    /// Appends the record's encoding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let len = |n: usize| {
            u32::try_from(n).map_err(|_| Error::unsupported(0, "--check: a row over 4 GiB"))
        };
        let file = u32::try_from(self.pos.file)
            .map_err(|_| Error::unsupported(0, "--check: over 4 billion input files"))?;
        let key = self.key.bytes();
        let now = self.now.as_ref().map(Cells::bytes);
        let body = 4 + 4 + 8 + 4 + key.len() + 1 + now.map_or(0, |n| 4 + n.len());
        out.extend_from_slice(&len(body)?.to_le_bytes());
        out.extend_from_slice(&self.table.to_le_bytes());
        out.extend_from_slice(&file.to_le_bytes());
        out.extend_from_slice(&self.pos.offset.to_le_bytes());
        out.extend_from_slice(&len(key.len())?.to_le_bytes());
        out.extend_from_slice(key);
        match now {
            None => out.push(0),
            Some(n) => {
                out.push(1);
                out.extend_from_slice(&len(n.len())?.to_le_bytes());
                out.extend_from_slice(n);
            }
        }
        Ok(())
    }

    /// Reads a record's body (without its length prefix); `at` is its offset, for errors.
    pub fn decode(body: &[u8], at: u64) -> Result<Record> {
        let bad = |what: &str| {
            Error::malformed(
                at,
                format!("--check: a record of the temporary file is damaged ({what})"),
            )
        };
        let mut rest = body;
        let mut take = |n: usize| -> Result<&[u8]> {
            if rest.len() < n {
                return Err(bad("cut short"));
            }
            let (a, b) = rest.split_at(n);
            rest = b;
            Ok(a)
        };
        let u32_at = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let table = u32_at(take(4)?);
        let file = u32_at(take(4)?) as usize;
        let o = take(8)?;
        let offset = u64::from_le_bytes([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]]);
        let key_len = u32_at(take(4)?) as usize;
        let key = Cells::from_packed(take(key_len)?).map_err(|_| bad("key"))?;
        let now = match take(1)?[0] {
            0 => None,
            1 => {
                let n = u32_at(take(4)?) as usize;
                Some(Cells::from_packed(take(n)?).map_err(|_| bad("row"))?)
            }
            _ => return Err(bad("tag")),
        };
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(Record {
            table,
            key,
            now,
            pos: Position { file, offset },
        })
    }
}

/// A run's bytes in the file.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    end: u64,
}

/// Sorted runs in a file.
#[derive(Debug)]
pub struct Spill<F> {
    file: F,
    /// Where the next run goes.
    end: u64,
    /// The runs, oldest first.
    runs: Vec<Run>,
    /// Bytes each run is read through.
    buffer: usize,
    /// Runs merged at once.
    fan_in: usize,
}

impl<F: Read + Write + Seek> Spill<F> {
    /// Runs in `file` (written from its start), merged within `budget` bytes of buffers.
    pub fn new(file: F, budget: usize) -> Spill<F> {
        let buffer = (budget / 64).clamp(4 << 10, 64 << 10);
        Spill {
            file,
            end: 0,
            runs: Vec::new(),
            buffer,
            fan_in: (budget / 2 / buffer).max(2),
        }
    }

    /// Runs written so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.end
    }

    /// Sorts `records` and writes them as the newest run. Records of one key must not
    /// repeat within a run (the last one is kept if they do).
    pub fn write_run(&mut self, mut records: Vec<Record>) -> Result<()> {
        // Stable: of equal keys, the last stays last.
        records.sort_by(Record::order);
        let mut w = RunWriter::start(self.end, self.buffer);
        let mut it = records.into_iter().peekable();
        while let Some(r) = it.next() {
            if it.peek().is_some_and(|n| n.order(&r) == Ordering::Equal) {
                continue;
            }
            w.push(&mut self.file, &r)?;
        }
        let run = w.finish(&mut self.file)?;
        self.end = run.end;
        self.runs.push(run);
        Ok(())
    }

    /// Merges every run: their records by (table, key), one per key (the latest run's).
    pub fn merge(mut self) -> Result<Merged<F>> {
        while self.runs.len() > self.fan_in {
            let group: Vec<Run> = self.runs.drain(..self.fan_in).collect();
            let mut merger = Merger::new(&group, self.buffer);
            let mut w = RunWriter::start(self.end, self.buffer);
            while let Some(r) = merger.next(&mut self.file)? {
                w.push(&mut self.file, &r)?;
            }
            let run = w.finish(&mut self.file)?;
            self.end = run.end;
            // The merged runs were the oldest: it takes their place.
            self.runs.insert(0, run);
        }
        Ok(Merged {
            merger: Merger::new(&self.runs, self.buffer),
            file: self.file,
        })
    }
}

/// Writes one run through a buffer.
struct RunWriter {
    start: u64,
    at: u64,
    buf: Vec<u8>,
    cap: usize,
}

impl RunWriter {
    fn start(at: u64, cap: usize) -> RunWriter {
        RunWriter {
            start: at,
            at,
            buf: Vec::with_capacity(cap),
            cap,
        }
    }

    fn push(&mut self, file: &mut (impl Write + Seek), r: &Record) -> Result<()> {
        r.encode(&mut self.buf)?;
        if self.buf.len() >= self.cap {
            self.flush(file)?;
        }
        Ok(())
    }

    fn flush(&mut self, file: &mut (impl Write + Seek)) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let at = self.at;
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.write_all(&self.buf))
            .map_err(|e| Error::io(at, &e))?;
        self.at += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self, file: &mut (impl Write + Seek)) -> Result<Run> {
        self.flush(file)?;
        let at = self.at;
        file.flush().map_err(|e| Error::io(at, &e))?;
        Ok(Run {
            start: self.start,
            end: self.at,
        })
    }
}

/// Reads one run's records through a buffer.
struct RunReader {
    /// File offset of the bytes after `buf`.
    next: u64,
    end: u64,
    buf: Vec<u8>,
    /// Where in `buf` the next record starts.
    at: usize,
    cap: usize,
}

impl RunReader {
    fn new(run: Run, cap: usize) -> RunReader {
        RunReader {
            next: run.start,
            end: run.end,
            buf: Vec::new(),
            at: 0,
            cap,
        }
    }

    /// File offset of `buf[self.at]`.
    fn offset(&self) -> u64 {
        self.next - (self.buf.len() - self.at) as u64
    }

    /// Makes `n` bytes from `at` available in `buf`.
    fn ensure(&mut self, file: &mut (impl Read + Seek), n: usize) -> Result<()> {
        let have = self.buf.len() - self.at;
        if have >= n {
            return Ok(());
        }
        if (n - have) as u64 > self.end - self.next {
            return Err(Error::malformed(
                self.offset(),
                "--check: a run of the temporary file is cut short",
            ));
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let want = (self.cap.max(n) - have).min((self.end - self.next) as usize);
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        let next = self.next;
        file.seek(SeekFrom::Start(next))
            .and_then(|_| file.read_exact(&mut self.buf[old..]))
            .map_err(|e| Error::io(next, &e))?;
        self.next += want as u64;
        Ok(())
    }

    fn read(&mut self, file: &mut (impl Read + Seek)) -> Result<Option<Record>> {
        if self.at == self.buf.len() && self.next >= self.end {
            return Ok(None);
        }
        self.ensure(file, 4)?;
        let l = &self.buf[self.at..self.at + 4];
        let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
        self.ensure(file, 4 + len)?;
        let at = self.offset();
        let r = Record::decode(&self.buf[self.at + 4..self.at + 4 + len], at)?;
        self.at += 4 + len;
        Ok(Some(r))
    }
}

/// A run's next record, ordered for a min-heap: by (table, key), then the latest run
/// first.
struct Head {
    record: Record,
    run: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Head) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Head) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Head) -> Ordering {
        // Reversed: BinaryHeap pops the greatest.
        other
            .record
            .order(&self.record)
            .then(self.run.cmp(&other.run))
    }
}

/// A k-way merge of runs.
struct Merger {
    readers: Vec<RunReader>,
    heap: BinaryHeap<Head>,
    started: bool,
}

impl Merger {
    fn new(runs: &[Run], cap: usize) -> Merger {
        Merger {
            readers: runs.iter().map(|&r| RunReader::new(r, cap)).collect(),
            heap: BinaryHeap::new(),
            started: false,
        }
    }

    fn refill(&mut self, file: &mut (impl Read + Seek), run: usize) -> Result<()> {
        if let Some(record) = self.readers[run].read(file)? {
            self.heap.push(Head { record, run });
        }
        Ok(())
    }

    fn next(&mut self, file: &mut (impl Read + Seek)) -> Result<Option<Record>> {
        if !self.started {
            self.started = true;
            for run in 0..self.readers.len() {
                self.refill(file, run)?;
            }
        }
        let Some(first) = self.heap.pop() else {
            return Ok(None);
        };
        self.refill(file, first.run)?;
        // The latest run's record of this key came first; the older ones are dropped.
        while self
            .heap
            .peek()
            .is_some_and(|h| h.record.order(&first.record) == Ordering::Equal)
        {
            if let Some(h) = self.heap.pop() {
                self.refill(file, h.run)?;
            }
        }
        Ok(Some(first.record))
    }
}

/// Every spilled record, by (table, key), the latest change of each key.
pub struct Merged<F> {
    merger: Merger,
    file: F,
}

impl<F> std::fmt::Debug for Merged<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merged")
            .field("runs", &self.merger.readers.len())
            .finish()
    }
}

impl<F: Read + Seek> Merged<F> {
    /// The next record, or `None` after the last.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        self.merger.next(&mut self.file)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Cursor;

    use super::*;
    use crate::flashback::check::Cell;
    use crate::test_support::Rng;

    fn record(rng: &mut Rng, i: u64) -> Record {
        let k = rng.below(300).to_be_bytes();
        let key = Cells::from_cells([Cell::Value(&k[6..]), Cell::Null]).unwrap();
        let body = vec![b'x'; rng.below(40) as usize];
        let now = match rng.below(4) {
            0 => None,
            _ => Some(Cells::from_cells([Cell::Value(&body), Cell::Absent, Cell::Null]).unwrap()),
        };
        Record {
            table: rng.below(3) as u32,
            key,
            now,
            pos: Position {
                file: rng.below(2) as usize,
                offset: i,
            },
        }
    }

    /// Random changes, collected as `expect` does (the last per key in each run), spilled
    /// in many runs with a budget of a few buffers (so the merge takes several passes),
    /// come back in (table, key) order, each key's last change: as a map kept in memory
    /// says.
    #[test]
    fn runs_merged_equal_the_last_change_per_key() {
        for seed in 1..=20u64 {
            let mut rng = Rng(seed * 0x9e37_79b9_7f4a_7c15);
            let budget = [16 << 10, 64 << 10, 1 << 20][(seed % 3) as usize];
            let mut spill = Spill::new(Cursor::new(Vec::new()), budget);
            let mut truth: BTreeMap<(u32, Vec<u8>), Record> = BTreeMap::new();
            let mut run: Vec<Record> = Vec::new();
            let n = 1000 + rng.below(3000);
            for i in 0..n {
                let r = record(&mut rng, i);
                truth.insert((r.table, r.key.bytes().to_vec()), r.clone());
                run.push(r);
                if rng.below(40) == 0 {
                    spill.write_run(std::mem::take(&mut run)).unwrap();
                }
            }
            spill.write_run(run).unwrap();
            assert!(spill.runs() > 10, "seed {seed}: {} runs", spill.runs());
            let mut merged = spill.merge().unwrap();
            let mut got = Vec::new();
            while let Some(r) = merged.next_record().unwrap() {
                got.push(r);
            }
            let want: Vec<Record> = truth.into_values().collect();
            assert_eq!(got.len(), want.len(), "seed {seed}");
            assert!(got == want, "seed {seed}");
        }
    }

    fn spilled(records: usize) -> Vec<u8> {
        let mut rng = Rng(7);
        let mut spill = Spill::new(Cursor::new(Vec::new()), 16 << 10);
        spill
            .write_run((0..records as u64).map(|i| record(&mut rng, i)).collect())
            .unwrap();
        spill.file.into_inner()
    }

    /// Reads every record of a file holding one run of `len` bytes.
    fn read_back(bytes: Vec<u8>, len: u64) -> Result<usize> {
        let mut spill = Spill::new(Cursor::new(bytes), 16 << 10);
        spill.runs.push(Run { start: 0, end: len });
        let mut m = spill.merge()?;
        let mut n = 0;
        while m.next_record()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn truncated_or_corrupt_runs_are_errors() {
        let good = spilled(50);
        let len = good.len() as u64;
        let n = read_back(good.clone(), len).unwrap();
        assert!(n > 10);
        // Cut short at every length: an error, or (at a record's end) fewer records.
        for cut in 0..good.len() {
            let mut b = good.clone();
            b.truncate(cut);
            match read_back(b.clone(), cut as u64) {
                Ok(k) => assert!(k < n, "cut at {cut}"),
                Err(e) => assert!(matches!(e.kind(), crate::ErrorKind::Malformed(_))),
            }
            // The run says it is longer than the file is.
            assert!(read_back(b, len).is_err(), "file cut at {cut}");
        }
        // Every byte changed in turn: never a panic; a changed length or tag is an error.
        let mut errors = 0;
        for i in 0..good.len() {
            for x in [0x00u8, 0x03, 0x80, 0xff] {
                let mut b = good.clone();
                b[i] ^= x;
                errors += usize::from(read_back(b, len).is_err());
            }
        }
        assert!(errors > good.len(), "{errors} errors");
        assert!(Record::decode(&[1, 2, 3], 0).is_err());
        assert!(Cells::from_packed(&[2, 9, 0, 0, 0, 1]).is_err());
        assert!(Cells::from_packed(&[7]).is_err());
    }

    /// A file whose writes fail (a full disk): the error comes back, with its kind.
    #[test]
    fn a_failing_write_is_an_error() {
        struct Full(Cursor<Vec<u8>>);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0.position() + b.len() as u64 > 5000 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::StorageFull,
                        "No space left on device",
                    ));
                }
                self.0.write(b)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl Read for Full {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(b)
            }
        }
        impl Seek for Full {
            fn seek(&mut self, p: SeekFrom) -> std::io::Result<u64> {
                self.0.seek(p)
            }
        }
        let mut rng = Rng(3);
        let mut spill = Spill::new(Full(Cursor::new(Vec::new())), 16 << 10);
        let mut failed = None;
        for run in 0..100 {
            let records = (0..40).map(|i| record(&mut rng, run * 40 + i)).collect();
            if let Err(e) = spill.write_run(records) {
                failed = Some(e);
                break;
            }
        }
        let e = failed.expect("the writes fail past 5000 bytes");
        assert_eq!(e.io_kind(), Some(std::io::ErrorKind::StorageFull));
    }
}
