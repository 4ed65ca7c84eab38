//! The client/server protocol's framing: packets of up to 16 MiB - 1 bytes with a 3-byte
//! length and a sequence number, a longer payload split over several packets (each full
//! one followed by another, the last shorter), and the ERR and EOF packets a dump ends with.
//!
//! [`Wire`] reads over any `Read + Write` (a socket, a TLS stream, a test buffer). Reads are
//! resumable: when the stream reports `WouldBlock` or `TimedOut` (a socket with a read
//! timeout), the error is returned and the next call continues the same packet where it
//! stopped, so a caller can look at a stop flag or a deadline between tries without ever
//! losing bytes.
//!
//! Lengths come from the server and are not trusted: a reply may not exceed [`MAX_REPLY`],
//! and a dump packet may not run past the event it carries (the event's header says how
//! long it is, up to 4 GiB; its buffer is reserved at that length once, and given back
//! after a large event, so that the heap is the largest event plus a few MiB).

use std::fmt;
use std::io::{self, Read, Write};

/// The largest payload one packet carries; a payload of this length is continued in the
/// next packet.
pub const MAX_PACKET: usize = 0xff_ffff;

/// Bytes read from the stream at a time (and the most the read buffer holds).
const READ_CHUNK: usize = 1 << 20;

/// The most a payload other than a dump's event may hold: the replies to the queries of a
/// replica's session are short; this only keeps a misbehaving server from filling memory.
pub const MAX_REPLY: usize = 64 << 20;

/// A payload buffer larger than this is given back once its payload has been handed out.
const KEEP_CAPACITY: usize = 4 << 20;

/// Where an event's length is in a dump packet: after the status byte, the timestamp, the
/// type and the server id.
const EVENT_LEN_AT: std::ops::Range<usize> = 10..14;

/// A connection's packet layer.
pub struct Wire<S> {
    stream: S,
    seq: u8,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// The payload being assembled (kept across resumed reads).
    payload: Vec<u8>,
    /// Bytes of `payload` received so far (the rest is room for what is to come).
    filled: usize,
    /// Progress of the packet being read: header bytes held, and bytes of the current
    /// packet's payload still to come (`None` while reading a header).
    header: [u8; 4],
    header_got: usize,
    chunk_left: Option<usize>,
    /// Whether the packet just read was a full one (the payload continues).
    more: bool,
    /// Whether `payload` holds a whole, returned payload (the next read starts a new one).
    complete: bool,
}

impl<S> fmt::Debug for Wire<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wire")
            .field("seq", &self.seq)
            .field("buffered", &(self.end - self.start))
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

impl<S: Read + Write> Wire<S> {
    /// A packet layer over `stream`.
    pub fn new(stream: S) -> Wire<S> {
        Wire {
            stream,
            seq: 0,
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            payload: Vec::new(),
            filled: 0,
            header: [0; 4],
            header_got: 0,
            chunk_left: None,
            more: false,
            complete: true,
        }
    }

    /// The stream.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Replaces the stream (a TLS upgrade), keeping the sequence number. Nothing may be
    /// buffered: the server waits for the client at that point.
    pub fn replace_stream<T: Read + Write>(
        self,
        f: impl FnOnce(S) -> io::Result<T>,
    ) -> io::Result<Wire<T>> {
        if self.end > self.start {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server sent data before the TLS handshake",
            ));
        }
        Ok(Wire {
            stream: f(self.stream)?,
            seq: self.seq,
            buf: self.buf,
            start: 0,
            end: 0,
            payload: self.payload,
            filled: 0,
            header: [0; 4],
            header_got: 0,
            chunk_left: None,
            more: false,
            complete: true,
        })
    }

    /// Starts a new command: the next packet sent has sequence number 0.
    pub fn reset_sequence(&mut self) {
        self.seq = 0;
    }

    /// Bytes received and not yet returned (a read now would not block when non-zero).
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Capacity of the payload buffer: the payload being read, or the last one (a large one
    /// is given back at the next read).
    pub fn payload_capacity(&self) -> usize {
        self.payload.capacity()
    }

    /// The payload the last successful [`Wire::read_packet`] returned.
    pub fn last_packet(&self) -> &[u8] {
        if self.complete {
            &self.payload
        } else {
            &[]
        }
    }

    /// Sends one payload, split over packets as the protocol requires.
    pub fn write_packet(&mut self, payload: &[u8]) -> io::Result<()> {
        let mut rest = payload;
        let mut out = Vec::with_capacity(payload.len().min(MAX_PACKET) + 4);
        loop {
            let n = rest.len().min(MAX_PACKET);
            out.clear();
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
            out.push(self.seq);
            out.extend_from_slice(&rest[..n]);
            self.seq = self.seq.wrapping_add(1);
            self.stream.write_all(&out)?;
            rest = &rest[n..];
            if n < MAX_PACKET {
                break;
            }
        }
        self.stream.flush()
    }

    /// Reads one whole payload (all its packets, at most [`MAX_REPLY`] bytes). On
    /// `WouldBlock`/`TimedOut` the error is returned and the next call goes on with the same
    /// payload.
    pub fn read_packet(&mut self) -> io::Result<&[u8]> {
        self.read(false)
    }

    /// Reads one packet of a binlog dump, as [`Wire::read_packet`] does, but for an event
    /// (status byte 0x00) as long as its header says and no longer.
    pub fn read_dump_packet(&mut self) -> io::Result<&[u8]> {
        self.read(true)
    }

    /// The most the payload being read may hold, by what has arrived of it.
    fn allowed(&self, dump: bool) -> usize {
        match self.payload.get(EVENT_LEN_AT) {
            Some(b) if dump && self.payload[0] == 0 => {
                1 + u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
            }
            _ if self.filled == 0 => MAX_PACKET,
            _ => MAX_REPLY,
        }
    }

    /// Makes room for the next `len` bytes of the payload, within what it may hold.
    fn make_room(&mut self, len: usize, dump: bool) -> io::Result<()> {
        let total = self.filled + len;
        let allowed = self.allowed(dump);
        if total > allowed {
            let what = if dump && self.payload.first() == Some(&0) {
                format!(
                    "the server sent more than the {} bytes of the event it carries",
                    allowed - 1
                )
            } else {
                format!("the server sent a reply longer than {MAX_REPLY} bytes")
            };
            return Err(io::Error::new(io::ErrorKind::InvalidData, what));
        }
        let reserved = if self.filled > 0 && dump {
            // The event's whole length is known: one allocation for all of it.
            self.payload.try_reserve_exact(allowed - self.payload.len())
        } else {
            self.payload.try_reserve(len)
        };
        reserved.map_err(|_| {
            io::Error::new(io::ErrorKind::OutOfMemory, "cannot hold a packet in memory")
        })?;
        // Zeroed once per packet; `filled` tells how much has arrived.
        self.payload.resize(total, 0);
        Ok(())
    }

    fn read(&mut self, dump: bool) -> io::Result<&[u8]> {
        if self.complete {
            if self.payload.capacity() > KEEP_CAPACITY {
                self.payload = Vec::new();
            }
            self.payload.clear();
            self.filled = 0;
            self.complete = false;
            self.more = false;
        }
        loop {
            match self.chunk_left {
                None => {
                    while self.header_got < 4 {
                        let mut h = [0u8; 4];
                        let want = 4 - self.header_got;
                        let n = self.fill(&mut h[..want])?;
                        self.header[self.header_got..self.header_got + n].copy_from_slice(&h[..n]);
                        self.header_got += n;
                    }
                    self.header_got = 0;
                    let len =
                        u32::from_le_bytes([self.header[0], self.header[1], self.header[2], 0])
                            as usize;
                    let seq = self.header[3];
                    if seq != self.seq {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("packet out of order: sequence {seq}, expected {}", self.seq),
                        ));
                    }
                    self.seq = self.seq.wrapping_add(1);
                    self.more = len == MAX_PACKET;
                    self.make_room(len, dump)?;
                    self.chunk_left = Some(len);
                }
                Some(0) => {
                    self.chunk_left = None;
                    if !self.more {
                        self.complete = true;
                        return Ok(&self.payload);
                    }
                }
                Some(left) => {
                    let at = self.filled;
                    let n = fill_from(
                        &mut self.stream,
                        &mut self.buf,
                        &mut self.start,
                        &mut self.end,
                        &mut self.payload[at..at + left],
                    )?;
                    self.filled += n;
                    self.chunk_left = Some(left - n);
                }
            }
        }
    }

    /// Copies up to `dst.len()` bytes (at least one) from the buffer or the stream.
    fn fill(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        fill_from(
            &mut self.stream,
            &mut self.buf,
            &mut self.start,
            &mut self.end,
            dst,
        )
    }
}

/// One read for [`Wire`]: from the buffer when it holds bytes; straight into `dst` when it
/// is large; else through the buffer. End of stream is an `UnexpectedEof` error.
fn fill_from<S: Read>(
    stream: &mut S,
    buf: &mut [u8],
    start: &mut usize,
    end: &mut usize,
    dst: &mut [u8],
) -> io::Result<usize> {
    if dst.is_empty() {
        return Ok(0);
    }
    if *end == *start {
        *start = 0;
        *end = 0;
        if dst.len() >= buf.len() {
            let n = read_some(stream, dst)?;
            return Ok(n);
        }
        *end = read_some(stream, buf)?;
    }
    let n = dst.len().min(*end - *start);
    dst[..n].copy_from_slice(&buf[*start..*start + n]);
    *start += n;
    Ok(n)
}

fn read_some<S: Read>(stream: &mut S, dst: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(dst) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ))
            }
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Whether an I/O error only means "nothing yet" (a read timeout): the read may be tried
/// again.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// An ERR packet: the server's error code, SQL state and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// Error number (1236: the binlog cannot be sent; 1045: access denied; ...).
    pub code: u16,
    /// Five-character SQL state, when sent.
    pub state: String,
    /// The message.
    pub message: String,
}

impl ServerError {
    /// Parses an ERR packet (first byte 0xff); `None` if it is not one.
    pub fn parse(p: &[u8]) -> Option<ServerError> {
        if p.first() != Some(&0xff) || p.len() < 3 {
            return None;
        }
        let code = u16::from_le_bytes([p[1], p[2]]);
        let mut rest = &p[3..];
        let mut state = String::new();
        if rest.first() == Some(&b'#') && rest.len() >= 6 {
            state = String::from_utf8_lossy(&rest[1..6]).into_owned();
            rest = &rest[6..];
        }
        Some(ServerError {
            code,
            state,
            message: String::from_utf8_lossy(rest).into_owned(),
        })
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (error {})", self.message, self.code)
    }
}

/// Whether a payload is an EOF packet (0xfe and shorter than 9 bytes), the end of a result
/// set or of a non-blocking dump.
pub fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xfe) && p.len() < 9
}

/// What a packet of a binlog dump holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpPacket<'a> {
    /// One event's bytes (the payload after its 0x00 status byte).
    Event(&'a [u8]),
    /// The end of a non-blocking dump: the server sent everything it has.
    End,
}

/// Classifies a packet of a binlog dump.
pub fn dump_packet(p: &[u8]) -> Result<DumpPacket<'_>, DumpPacketError> {
    match p.first() {
        Some(0x00) => Ok(DumpPacket::Event(&p[1..])),
        Some(0xfe) if p.len() < 9 => Ok(DumpPacket::End),
        Some(0xff) => Err(DumpPacketError::Server(ServerError::parse(p).unwrap_or(
            ServerError {
                code: 0,
                state: String::new(),
                message: "malformed error packet".into(),
            },
        ))),
        Some(&b) => Err(DumpPacketError::Unexpected(b)),
        None => Err(DumpPacketError::Unexpected(0)),
    }
}

/// A dump packet that is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpPacketError {
    /// The server stopped the dump with an error.
    Server(ServerError),
    /// A packet that starts with neither 0x00, 0xfe nor 0xff.
    Unexpected(u8),
}

impl fmt::Display for DumpPacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpPacketError::Server(e) => e.fmt(f),
            DumpPacketError::Unexpected(b) => {
                write!(
                    f,
                    "unexpected packet (first byte {b:#04x}) in the binlog stream"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A stream that hands out its bytes in the given pieces, with a timeout between them.
    struct Pieces {
        pieces: VecDeque<Vec<u8>>,
        timeout_next: bool,
        written: Vec<u8>,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.timeout_next {
                self.timeout_next = false;
                return Err(io::Error::new(io::ErrorKind::WouldBlock, "later"));
            }
            self.timeout_next = true;
            let Some(mut p) = self.pieces.pop_front() else {
                return Ok(0);
            };
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            if n < p.len() {
                self.pieces.push_front(p.split_off(n));
            }
            Ok(n)
        }
    }

    impl Write for Pieces {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn framed(payload: &[u8], first_seq: u8) -> Vec<u8> {
        let mut out = Vec::new();
        let mut seq = first_seq;
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_PACKET);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
            out.push(seq);
            out.extend_from_slice(&rest[..n]);
            seq = seq.wrapping_add(1);
            rest = &rest[n..];
            if n < MAX_PACKET {
                return out;
            }
        }
    }

    fn read_all(bytes: Vec<u8>, piece: usize) -> Vec<Vec<u8>> {
        let pieces = bytes.chunks(piece).map(|c| c.to_vec()).collect();
        let mut w = Wire::new(Pieces {
            pieces,
            timeout_next: false,
            written: Vec::new(),
        });
        let mut got = Vec::new();
        loop {
            match w.read_packet() {
                Ok(p) => got.push(p.to_vec()),
                Err(e) if is_timeout(&e) => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return got,
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn payloads_over_16_mib_are_joined_across_timeouts() {
        // Exactly one full packet (then an empty one), a longer one, and a short one.
        let exact: Vec<u8> = (0..MAX_PACKET).map(|i| (i % 251) as u8).collect();
        let long: Vec<u8> = (0..MAX_PACKET * 2 + 1000)
            .map(|i| (i % 241) as u8)
            .collect();
        let mut bytes = framed(&exact, 0);
        let n_exact = 2u8;
        bytes.extend(framed(&long, n_exact));
        bytes.extend(framed(b"\x00short", n_exact + 3));
        for piece in [7, 65_536, 3 << 20] {
            let got = read_all(bytes.clone(), piece);
            assert_eq!(got.len(), 3, "piece {piece}");
            assert!(got[0] == exact && got[1] == long && got[2] == b"\x00short");
        }
    }

    #[test]
    fn out_of_order_packets_are_refused() {
        let mut bytes = framed(b"abc", 0);
        bytes.extend(framed(b"def", 5));
        let mut w = Wire::new(io::Cursor::new(bytes));
        assert_eq!(w.read_packet().unwrap(), b"abc");
        let e = w.read_packet().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn writing_splits_and_numbers_packets() {
        let mut w = Wire::new(Pieces {
            pieces: VecDeque::new(),
            timeout_next: false,
            written: Vec::new(),
        });
        let long = vec![7u8; MAX_PACKET + 10];
        w.write_packet(&long).unwrap();
        w.reset_sequence();
        w.write_packet(b"\x0e").unwrap();
        let mut expect = framed(&long, 0);
        expect.extend(framed(b"\x0e", 0));
        assert!(w.stream_mut().written == expect);
    }

    #[test]
    fn dump_packets_are_classified() {
        assert_eq!(dump_packet(b"\x00abc").unwrap(), DumpPacket::Event(b"abc"));
        assert_eq!(
            dump_packet(b"\xfe\x00\x00\x02\x00").unwrap(),
            DumpPacket::End
        );
        let err = b"\xff\xd4\x04#HY000Could not find first log file name in binary log index file";
        match dump_packet(err) {
            Err(DumpPacketError::Server(e)) => {
                assert_eq!(e.code, 1236);
                assert_eq!(e.state, "HY000");
                assert!(e.message.starts_with("Could not find"));
            }
            other => panic!("{other:?}"),
        }
        assert!(dump_packet(b"\x05").is_err());
    }

    /// A dump packet: status byte 0x00, then an event of `len` bytes whose header says so.
    fn event_payload(len: usize, declared: u32) -> Vec<u8> {
        let mut p = vec![0u8; 1 + len];
        p[5] = 0x1e; // WRITE_ROWS
        p[10..14].copy_from_slice(&declared.to_le_bytes());
        for (i, b) in p[20..].iter_mut().enumerate() {
            *b = (i % 253) as u8;
        }
        p
    }

    #[test]
    fn a_large_event_is_held_in_one_buffer_of_its_length_then_given_back() {
        let len = 40 << 20;
        let ev = event_payload(len, len as u32);
        let mut bytes = framed(&ev, 0);
        bytes.extend(framed(b"\xfe\x00\x00\x02\x00", 3));
        let mut w = Wire::new(io::Cursor::new(bytes));
        assert!(w.read_dump_packet().unwrap() == ev);
        assert_eq!(w.payload_capacity(), ev.len());
        assert_eq!(w.read_dump_packet().unwrap(), b"\xfe\x00\x00\x02\x00");
        assert!(w.payload_capacity() <= KEEP_CAPACITY);
    }

    #[test]
    fn a_dump_packet_longer_than_its_event_is_refused() {
        // The header says 100 bytes; the packets go on past 16 MiB.
        let ev = event_payload(MAX_PACKET + 10, 100);
        let mut w = Wire::new(io::Cursor::new(framed(&ev, 0)));
        let e = w.read_dump_packet().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("100 bytes of the event"), "{e}");
        // Exactly as long as it says, over two packets: fine.
        let ev = event_payload(MAX_PACKET + 10, (MAX_PACKET + 10) as u32);
        let mut w = Wire::new(io::Cursor::new(framed(&ev, 0)));
        assert_eq!(w.read_dump_packet().unwrap().len(), ev.len());
    }

    #[test]
    fn a_reply_longer_than_the_limit_is_refused() {
        let reply = vec![1u8; MAX_REPLY + 1];
        let mut w = Wire::new(io::Cursor::new(framed(&reply, 0)));
        let e = w.read_packet().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(w.payload_capacity() <= MAX_REPLY);
    }

    /// Random bytes, and framed packets with garbled headers, cut anywhere: every read
    /// returns a payload within the limits or an error; none panics.
    #[test]
    fn garbled_streams_never_panic() {
        let mut rng = 0x853c_49e6_748f_ea9bu64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for round in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..1 + next() % 4 {
                let n = (next() % 300) as usize;
                let mut ev = event_payload(n.max(20), (next() % 400) as u32);
                ev.truncate(n);
                bytes.extend(framed(&ev, bytes.len() as u8));
            }
            for _ in 0..next() % 5 {
                let i = (next() as usize) % bytes.len().max(1);
                if let Some(b) = bytes.get_mut(i) {
                    *b = next() as u8;
                }
            }
            if round % 3 == 0 {
                bytes = (0..next() % 64).map(|_| next() as u8).collect();
            }
            let cut = (next() as usize) % (bytes.len() + 1);
            bytes.truncate(cut);
            let dump = round % 2 == 0;
            let mut w = Wire::new(io::Cursor::new(bytes));
            for _ in 0..8 {
                let got = if dump {
                    w.read_dump_packet()
                } else {
                    w.read_packet()
                };
                match got {
                    Ok(p) => assert!(p.len() <= MAX_REPLY),
                    Err(_) => break,
                }
            }
        }
    }
}
