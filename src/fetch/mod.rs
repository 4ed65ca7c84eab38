//! Copying a live server's binlogs as a replica does: the request packets
//! ([`command`]), the protocol's framing ([`wire`]), what each event of a dump means for the
//! copy ([`stream`]), and the directory the copies go to ([`archive`]).
//!
//! The library speaks bytes and files only; connecting, authenticating and TLS are the
//! command line's (`binlog-tool fetch`). A dump is followed like this:
//!
//! ```text
//! Archive::open(dir) ──end()──▶ Resume ──▶ Follower::new(resume, crc)
//! for each dump packet:  wire::dump_packet(p) ──Event(bytes)──▶ follower.feed(bytes, &mut archive)
//! ```
//!
//! [`Follower::feed`](stream::Follower::feed) checks every event (CRC32 with the reader's
//! code, length, the position chain, and on resuming that the server's copy is the
//! archive's) before the [`Sink`](stream::Sink) writes it.

pub mod archive;
pub mod command;
pub mod stream;
pub mod wire;

pub use archive::{Archive, ArchiveEnd, ArchiveError};
pub use stream::{Fed, FetchError, FetchErrorKind, Follower, Resume, Sink};

#[cfg(test)]
mod tests;
