//! TRANSACTION_PAYLOAD_EVENT (MySQL 8.0.20+ `binlog_transaction_compression`): a whole
//! transaction's events, compressed together.

use crate::bytes::{put_packed, Cursor, Short};
use crate::compress;
use crate::error::Result;
use crate::event::fde::Format;
use crate::reader::Events;

/// Compression type value: zstd.
pub const COMPRESSION_ZSTD: u64 = 0;
/// Compression type value: none.
pub const COMPRESSION_NONE: u64 = 255;

const FIELD_END: u64 = 0;
const FIELD_PAYLOAD_SIZE: u64 = 1;
const FIELD_COMPRESSION_TYPE: u64 = 2;
const FIELD_UNCOMPRESSED_SIZE: u64 = 3;

/// A TRANSACTION_PAYLOAD event.
#[derive(Clone, PartialEq, Eq)]
pub struct TransactionPayload<'a> {
    /// The header fields in stored order: `(field code, value bytes)`. Each known field's
    /// value is a packed integer.
    pub fields: Vec<(u64, &'a [u8])>,
    /// Compression type ([`COMPRESSION_ZSTD`] or [`COMPRESSION_NONE`]).
    pub compression: u64,
    /// Size of `payload`.
    pub payload_size: u64,
    /// Size after decompression, when given.
    pub uncompressed_size: Option<u64>,
    /// The (compressed) events.
    pub payload: &'a [u8],
    /// Absolute offset of `payload`.
    pub payload_offset: u64,
}

impl std::fmt::Debug for TransactionPayload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionPayload")
            .field("compression", &self.compression)
            .field("payload_size", &self.payload_size)
            .field("uncompressed_size", &self.uncompressed_size)
            .field("payload", &Short(self.payload))
            .finish()
    }
}

impl<'a> TransactionPayload<'a> {
    /// Parses the body.
    pub fn parse(body: &'a [u8], offset: u64) -> Result<TransactionPayload<'a>> {
        let mut c = Cursor::new(body, offset);
        let mut fields = Vec::new();
        let (mut size, mut compression, mut uncompressed) = (None, None, None);
        loop {
            let code = c.packed()?;
            if code == FIELD_END {
                break;
            }
            let value = c.packed_bytes("payload header field")?;
            let int = || Cursor::new(value, 0).packed();
            match code {
                FIELD_PAYLOAD_SIZE => size = Some(int()?),
                FIELD_COMPRESSION_TYPE => compression = Some(int()?),
                FIELD_UNCOMPRESSED_SIZE => uncompressed = Some(int()?),
                _ => {}
            }
            fields.push((code, value));
        }
        let (Some(payload_size), Some(compression)) = (size, compression) else {
            return Err(c.malformed("transaction payload header lacks size or compression type"));
        };
        let payload_offset = c.offset();
        let payload = c.rest();
        if payload.len() as u64 != payload_size {
            return Err(c.malformed(format!(
                "payload size field says {payload_size}, event holds {}",
                payload.len()
            )));
        }
        Ok(TransactionPayload {
            fields,
            compression,
            payload_size,
            uncompressed_size: uncompressed,
            payload,
            payload_offset,
        })
    }

    /// A new payload event holding `payload` compressed with `compression`, with the header
    /// fields in the order MySQL writes them.
    pub fn new(
        compression: u64,
        uncompressed_size: u64,
        payload: &'a [u8],
    ) -> TransactionPayload<'a> {
        TransactionPayload {
            fields: Vec::new(),
            compression,
            payload_size: payload.len() as u64,
            uncompressed_size: (compression != COMPRESSION_NONE).then_some(uncompressed_size),
            payload,
            payload_offset: 0,
        }
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let put_field = |out: &mut Vec<u8>, code: u64, value: &[u8]| {
            put_packed(out, code);
            put_packed(out, value.len() as u64);
            out.extend_from_slice(value);
        };
        if self.fields.is_empty() {
            let int = |v: u64| {
                let mut b = Vec::new();
                put_packed(&mut b, v);
                b
            };
            put_field(out, FIELD_COMPRESSION_TYPE, &int(self.compression));
            if let Some(u) = self.uncompressed_size {
                put_field(out, FIELD_UNCOMPRESSED_SIZE, &int(u));
            }
            put_field(out, FIELD_PAYLOAD_SIZE, &int(self.payload_size));
        } else {
            for (code, value) in &self.fields {
                put_field(out, *code, value);
            }
        }
        put_packed(out, FIELD_END);
        out.extend_from_slice(self.payload);
        Ok(())
    }

    /// The events, decompressed.
    pub fn decompress(&self) -> Result<Vec<u8>> {
        match self.compression {
            COMPRESSION_NONE => Ok(self.payload.to_vec()),
            COMPRESSION_ZSTD => {
                compress::zstd_uncompress(self.payload, self.uncompressed_size, self.payload_offset)
            }
            other => Err(crate::error::Error::unsupported(
                self.payload_offset,
                format!("transaction payload compression type {other}"),
            )),
        }
    }
}

/// Iterates the events of a decompressed payload. They carry no checksums; offsets are
/// relative to the payload's start.
pub fn payload_events<'b>(decompressed: &'b [u8], format: &Format) -> Events<'b> {
    let mut f = format.clone();
    f.checksum_alg = None;
    Events::new(decompressed, 0, 0, f)
}
