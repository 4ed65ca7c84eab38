//! The one error type of the library: what went wrong and the byte offset where it did.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure to read or write a binlog, with the absolute byte offset it concerns.
///
/// Offsets are positions in the file being read (or, for events inside a compressed
/// transaction payload, positions inside the decompressed payload: see
/// [`ErrorKind::InPayload`]). Writers report the position in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: u64,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file does not start with the binlog magic `\xfebin`.
    BadMagic,
    /// The data ended before a field that needs `needed` more bytes.
    UnexpectedEof {
        /// What was being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// An event header announces a length shorter than a header.
    EventTooShort {
        /// The announced length.
        len: u32,
    },
    /// An event's announced length runs past the end of the data.
    EventPastEof {
        /// The announced length.
        len: u32,
        /// Bytes actually left from the event's start.
        available: u64,
    },
    /// The CRC32 stored in an event does not match its bytes.
    BadChecksum {
        /// The CRC the event carries.
        stored: u32,
        /// The CRC computed over the event.
        computed: u32,
    },
    /// A field holds a value that the format does not allow.
    Malformed(String),
    /// Valid input that this library does not handle (for example an unknown compression).
    Unsupported(String),
    /// Decompression of a compressed event failed.
    Decompress(String),
    /// An error inside a TRANSACTION_PAYLOAD: `inner` happened at `inner_offset` of the
    /// decompressed payload; the error's own offset is the payload event's.
    InPayload {
        /// Offset inside the decompressed payload.
        inner_offset: u64,
        /// The inner error.
        inner: Box<ErrorKind>,
    },
    /// An I/O error (writing the output: reading is through a map), with its kind (a
    /// closed pipe is [`std::io::ErrorKind::BrokenPipe`]) and message.
    Io {
        /// What kind of failure.
        kind: std::io::ErrorKind,
        /// The error's text.
        message: String,
    },
    /// A value too long for the length field an encoder writes it with: writing it would
    /// truncate it, so it is refused.
    TooLong {
        /// What was being encoded, as in "database name length".
        what: &'static str,
        /// The length (or value).
        len: u64,
        /// The most the field holds.
        max: u64,
    },
    /// A selection (positions, times, GTIDs, tables) that cannot be applied to this input
    /// as given: a start position inside a transaction, a schema change after the rows
    /// to undo.
    Selection(String),
}

impl Error {
    /// A new error of `kind` at `offset`.
    pub fn new(kind: ErrorKind, offset: u64) -> Error {
        Error { kind, offset }
    }

    /// A [`ErrorKind::Malformed`] error.
    pub fn malformed(offset: u64, msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Malformed(msg.into()), offset)
    }

    /// A [`ErrorKind::Unsupported`] error.
    pub fn unsupported(offset: u64, msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unsupported(msg.into()), offset)
    }

    /// A [`ErrorKind::Selection`] error.
    pub fn selection(offset: u64, msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Selection(msg.into()), offset)
    }

    /// Whether the data simply ends inside an event (its header or body is cut short):
    /// the tail a crash or a copy still being written leaves, as opposed to bytes that
    /// are there but wrong.
    pub fn is_cut_short(&self) -> bool {
        match &self.kind {
            ErrorKind::EventPastEof { .. } => true,
            ErrorKind::UnexpectedEof { what, .. } => *what == "event header",
            _ => false,
        }
    }

    /// An I/O error at `offset`.
    pub fn io(offset: u64, err: &std::io::Error) -> Error {
        Error::new(
            ErrorKind::Io {
                kind: err.kind(),
                message: err.to_string(),
            },
            offset,
        )
    }

    /// A [`ErrorKind::TooLong`] error: `what` of `len` where at most `max` fits.
    pub fn too_long(what: &'static str, len: u64, max: u64) -> Error {
        Error::new(ErrorKind::TooLong { what, len, max }, 0)
    }

    /// For an I/O error, its kind.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match &self.kind {
            ErrorKind::Io { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The absolute byte offset the error concerns.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The same error, with its offset moved by `base` (used when a parser that works on a
    /// slice learns where the slice lives in the file).
    pub fn shifted(mut self, base: u64) -> Error {
        self.offset += base;
        self
    }

    /// Wraps an error that happened inside a decompressed payload whose event starts at
    /// `payload_offset`.
    pub fn in_payload(self, payload_offset: u64) -> Error {
        Error {
            kind: ErrorKind::InPayload {
                inner_offset: self.offset,
                inner: Box::new(self.kind),
            },
            offset: payload_offset,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::BadMagic => write!(f, "not a binlog: bad magic number"),
            ErrorKind::UnexpectedEof {
                what,
                needed,
                available,
            } => write!(
                f,
                "truncated {what}: needs {needed} bytes, {available} left"
            ),
            ErrorKind::EventTooShort { len } => {
                write!(f, "event length {len} is shorter than an event header")
            }
            ErrorKind::EventPastEof { len, available } => write!(
                f,
                "event length {len} runs past end of file ({available} bytes left)"
            ),
            ErrorKind::BadChecksum { stored, computed } => write!(
                f,
                "CRC32 mismatch: event says {stored:#010x}, computed {computed:#010x}"
            ),
            ErrorKind::Malformed(m) => write!(f, "malformed: {m}"),
            ErrorKind::Unsupported(m) => write!(f, "unsupported: {m}"),
            ErrorKind::Decompress(m) => write!(f, "decompression failed: {m}"),
            ErrorKind::InPayload {
                inner_offset,
                inner,
            } => write!(
                f,
                "in transaction payload at inner offset {inner_offset}: {inner}"
            ),
            ErrorKind::Selection(m) => f.write_str(m),
            ErrorKind::Io { message, .. } => write!(f, "I/O error: {message}"),
            ErrorKind::TooLong { what, len, max } => {
                write!(f, "{what} {len} does not fit its field (at most {max})")
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for Error {}
