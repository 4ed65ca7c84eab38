//! CRC32 checks made ahead of a walk, by another thread.
//!
//! A walk that does much besides checking each event's CRC32 (flashback's planning: the
//! transactions, the filter, the rows events' index) can hand the checks to a second
//! thread, on another core. [`CheckedAhead::check`] walks a file's events
//! from the first one with checks on and publishes how far it got; a walk of the same
//! file through [`Binlog::checked_ahead`] skips the check of every event that ends there or
//! before, and waits for the checker when it catches up with it.
//!
//! Both walks start at the file's first event and frame each event the same way (the
//! header's length, the FDEs met), so an event the walk meets below the mark is one that
//! the checker checked, bytes and all. When the checker stops at an event that does not
//! check (a CRC32 mismatch, a damaged header, the end of the bytes), or is closed or never
//! started, the walk checks the events past its mark itself: it then stops where it
//! would have without a checker, with the same error. The checker keeps at most
//! [`CheckedAhead::new`]'s `lead` bytes ahead of the walk, so that what it reads ahead
//! stays small.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::reader::Binlog;

/// The checker has not started: the walk checks events itself.
const IDLE: u8 = 0;
/// The checker is walking: the walk waits for it.
const RUNNING: u8 = 1;
/// The checker is done (the end, an event that does not check, or closed).
const STOPPED: u8 = 2;

/// How far a checker thread has checked one file's events, shared with the walk.
#[derive(Debug)]
pub struct CheckedAhead {
    /// Every event from the first one up to this offset checked. Written by the checker
    /// at every event, on a cache line of its own so that the walk's writes do not take
    /// the line away from it.
    to: Line<AtomicU64>,
    /// Where the walk is (the end of the last event it told of).
    walk_at: Line<AtomicU64>,
    state: AtomicU8,
    lead: u64,
    /// Either side waiting on the other: the other one notifies `moved` when it gets to
    /// where the waiting one wants it.
    walk_waits: AtomicBool,
    walk_wants: AtomicU64,
    checker_waits: AtomicBool,
    checker_wants: AtomicU64,
    lock: Mutex<()>,
    moved: Condvar,
}

/// How often (in bytes of events) a walk that remembers how far the checker got
/// tells it where it is ([`CheckedAhead::reach`]).
pub const TELL_EVERY: u64 = 1 << 20;

/// A value alone on its cache line (two lines: neighbouring lines are fetched together).
#[derive(Debug)]
#[repr(align(128))]
struct Line<T>(T);

impl<T> std::ops::Deref for Line<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl CheckedAhead {
    /// A checker that stays at most `lead` bytes ahead of the walk.
    pub fn new(lead: u64) -> CheckedAhead {
        CheckedAhead {
            to: Line(AtomicU64::new(0)),
            walk_at: Line(AtomicU64::new(0)),
            state: AtomicU8::new(IDLE),
            lead,
            walk_waits: AtomicBool::new(false),
            walk_wants: AtomicU64::new(0),
            checker_waits: AtomicBool::new(false),
            checker_wants: AtomicU64::new(0),
            lock: Mutex::new(()),
            moved: Condvar::new(),
        }
    }

    /// Checks the CRC32 of `log`'s events from the first one on (on the calling thread),
    /// publishing each one checked, until the end of the file, an event that does not
    /// check, or [`CheckedAhead::close`]. `log` is the file the walk reads.
    pub fn check(&self, log: &Binlog) {
        if self
            .state
            .compare_exchange(IDLE, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        // Stopped however this ends, so that the walk never waits for nothing.
        struct Stop<'c>(&'c CheckedAhead);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.state.store(STOPPED, Ordering::SeqCst);
                self.0.wake(&self.0.walk_waits);
            }
        }
        let _stop = Stop(self);
        for ev in log.unchecked().events() {
            let Ok(ev) = ev else { return };
            let end = ev.end_offset();
            self.to.store(end, Ordering::SeqCst);
            if end >= self.walk_wants.load(Ordering::SeqCst) {
                self.wake(&self.walk_waits);
            }
            if !self.keep_lead(end) {
                return;
            }
        }
    }

    /// Stops the checker (the walk is over or gave up): it returns soon after.
    pub fn close(&self) {
        // A checker not started yet never starts.
        self.state.store(STOPPED, Ordering::SeqCst);
        self.wake(&self.checker_waits);
        self.wake(&self.walk_waits);
    }

    /// Whether the event ending at `end` (of the walk from the first event) has been
    /// checked; waits for the checker while it runs behind. False when the walk is to
    /// check it itself.
    pub fn covers(&self, end: u64) -> bool {
        self.reach(end) >= end
    }

    /// The walk is at `end` (the end of an event of the walk from the first one): how far
    /// the events have been checked, waiting for the checker while it runs behind. Every
    /// event that ends there or before has been checked; the walk checks the others
    /// itself. A walk that remembers the answer need not ask again before it gets there,
    /// but tells where it is now and then ([`TELL_EVERY`]), so that the checker's lead is
    /// measured from near where the walk really is.
    pub fn reach(&self, end: u64) -> u64 {
        self.walk_at.store(end, Ordering::SeqCst);
        if end >= self.checker_wants.load(Ordering::SeqCst) {
            self.wake(&self.checker_waits);
        }
        let to = self.to.load(Ordering::SeqCst);
        if to >= end {
            return to;
        }
        // Waits until the checker is a quarter of its lead ahead, not just this event:
        // the two do not wake each other at every event.
        let want = end.saturating_add(self.lead / 4);
        self.walk_wants.store(want, Ordering::SeqCst);
        self.wait(&self.walk_waits, || {
            self.to.load(Ordering::SeqCst) >= want || self.state.load(Ordering::SeqCst) != RUNNING
        });
        self.to.load(Ordering::SeqCst)
    }

    /// After the checker checked up to `end`: waits while it is more than `lead` bytes
    /// ahead of the walk, until it is half that; false once closed.
    fn keep_lead(&self, end: u64) -> bool {
        if end.saturating_sub(self.walk_at.load(Ordering::SeqCst)) > self.lead {
            let want = end.saturating_sub(self.lead / 2);
            self.checker_wants.store(want, Ordering::SeqCst);
            self.wait(&self.checker_waits, || {
                self.walk_at.load(Ordering::SeqCst) >= want
                    || self.state.load(Ordering::SeqCst) == STOPPED
            });
        }
        self.state.load(Ordering::SeqCst) == RUNNING
    }

    /// Waits (flagged in `flag`) until `done`.
    fn wait(&self, flag: &AtomicBool, done: impl Fn() -> bool) {
        let Ok(mut guard) = self.lock.lock() else {
            return;
        };
        flag.store(true, Ordering::SeqCst);
        while !done() {
            // The timeout only bounds a wake-up lost to a race the flag does not close.
            guard = match self.moved.wait_timeout(guard, Duration::from_millis(5)) {
                Ok((g, _)) => g,
                Err(_) => break,
            };
        }
        flag.store(false, Ordering::SeqCst);
    }

    /// Wakes the side waiting on `flag`, if it is.
    fn wake(&self, flag: &AtomicBool) {
        if flag.load(Ordering::SeqCst) {
            let _guard = self.lock.lock();
            self.moved.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::test_support::fixture;

    /// Each event's (offset, end), and the error that ended the walk.
    fn walk(log: &Binlog) -> (Vec<(u64, u64)>, Option<Error>) {
        let mut seen = Vec::new();
        for ev in log.events() {
            match ev {
                Ok(ev) => seen.push((ev.offset(), ev.end_offset())),
                Err(e) => return (seen, Some(e)),
            }
        }
        (seen, None)
    }

    /// The walk of `bytes` with a checker on another thread, `lead` bytes ahead at most.
    fn walk_checked(bytes: &[u8], lead: u64) -> (Vec<(u64, u64)>, Option<Error>) {
        let log = Binlog::parse(bytes).unwrap();
        let checker = CheckedAhead::new(lead);
        std::thread::scope(|s| {
            s.spawn(|| checker.check(&log));
            let seen = walk(&log.checked_ahead(&checker));
            checker.close();
            seen
        })
    }

    fn same(a: &(Vec<(u64, u64)>, Option<Error>), b: &(Vec<(u64, u64)>, Option<Error>)) {
        assert_eq!(a.0, b.0);
        assert_eq!(
            a.1.as_ref().map(|e| (e.offset(), e.to_string())),
            b.1.as_ref().map(|e| (e.offset(), e.to_string()))
        );
    }

    #[test]
    fn a_checked_walk_meets_the_same_events() {
        let bytes = fixture("row_full/mariadb-bin.000001");
        let plain = walk(&Binlog::parse(&bytes).unwrap());
        assert!(plain.0.len() > 100 && plain.1.is_none());
        // From lock step (0) to far ahead.
        for lead in [0, 1, 4096, 1 << 30] {
            same(&walk_checked(&bytes, lead), &plain);
        }
    }

    #[test]
    fn a_checked_walk_stops_where_a_plain_one_does() {
        let good = fixture("row_full/mariadb-bin.000001");
        let events = walk(&Binlog::parse(&good).unwrap()).0;
        let (at, end) = events[events.len() / 2];
        // A byte of the body (the CRC32 no longer matches), then the length (the event
        // runs past the end).
        let mut bad_crc = good.clone();
        bad_crc[(at + 20) as usize] ^= 0x40;
        let mut bad_len = good.clone();
        bad_len[(at + 9) as usize..(at + 13) as usize].copy_from_slice(&u32::MAX.to_le_bytes());
        for bytes in [bad_crc, bad_len] {
            let plain = walk(&Binlog::parse(&bytes).unwrap());
            assert_eq!(plain.1.as_ref().map(|e| e.offset()), Some(at), "{end}");
            for lead in [0, 4096, 1 << 30] {
                same(&walk_checked(&bytes, lead), &plain);
            }
            // A checker closed before it starts leaves the checks to the walk.
            let log = Binlog::parse(&bytes).unwrap();
            let checker = CheckedAhead::new(0);
            checker.close();
            checker.check(&log);
            same(&walk(&log.checked_ahead(&checker)), &plain);
        }
    }

    #[test]
    fn the_walk_skips_the_checks_it_is_told_were_made() {
        let mut bytes = fixture("row_full/mariadb-bin.000001");
        let events = walk(&Binlog::parse(&bytes).unwrap()).0;
        let (at, end) = events[events.len() / 2];
        bytes[(at + 20) as usize] ^= 0x40;
        let log = Binlog::parse(&bytes).unwrap();
        // A checker said to be past the damaged event: the walk does not check it again.
        let checker = CheckedAhead::new(0);
        checker.to.store(end, Ordering::SeqCst);
        checker.close();
        let (seen, err) = walk(&log.checked_ahead(&checker));
        assert!(err.is_none());
        assert_eq!(seen, events);
    }
}
