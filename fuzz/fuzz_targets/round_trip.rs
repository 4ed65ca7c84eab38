//! Re-encoding: for input that parses as a binlog, every event whose body decodes into a
//! typed form must encode back to exactly the same body (top-level events and those inside
//! transaction payloads). A mismatch panics: finding one is this target's job.
//!
//! The panic message says which kind of mismatch it is:
//! - "non-canonical": the body decodes to the same value as the re-encoded bytes (for
//!   example a packed integer written in more bytes than needed). Servers never write
//!   such bodies, but the library's promise `encode(parse(b)) == b` does not hold for them.
//! - "lossy": decoding the re-encoded bytes gives something else again, or fails; the
//!   typed form dropped or changed information.

#![no_main]

use binlog::event::payload::payload_events;
use binlog::{Binlog, Event, EventData, Events, Format};
use binlog_fuzz::with_magic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = with_magic(data);
    let Ok(log) = Binlog::parse(&data) else {
        return;
    };
    walk(log.events().verify_checksums(false), true);
});

fn walk(mut events: Events, top_level: bool) {
    while let Some(Ok(ev)) = events.next() {
        if ev.is_encrypted() {
            continue;
        }
        // The format in force where the event stands (after an FDE, the FDE's own).
        let format = events.shared_format();
        let Ok(typed) = ev.decode(&format) else {
            continue;
        };
        check(&ev, &typed, &format);
        if let (EventData::TransactionPayload(p), true) = (&typed, top_level) {
            if let Ok(inner) = p.decompress() {
                walk(payload_events(&inner, &format), false);
            }
        }
    }
}

fn check(ev: &Event, typed: &EventData, format: &Format) {
    if !typed.is_typed() {
        return;
    }
    let body = ev.body();
    let mut out = Vec::with_capacity(body.len());
    typed.encode(&mut out);
    if out == body {
        return;
    }
    // Classify: re-encoding the re-encoded bytes is stable when only the spelling differed.
    let mut again = Vec::new();
    let how = match EventData::parse(ev.event_type(), &out, ev.body_offset(), format) {
        Ok(d) => {
            d.encode(&mut again);
            if again == out {
                "non-canonical"
            } else {
                "lossy"
            }
        }
        Err(_) => "lossy (re-encoded body does not parse)",
    };
    let first_diff = body
        .iter()
        .zip(&out)
        .position(|(a, b)| a != b)
        .unwrap_or(body.len().min(out.len()));
    panic!(
        "{how}: {:?} at offset {} re-encodes differently: body {} bytes, re-encoded {} bytes, \
         first difference at body byte {first_diff}\n  body:       {:02x?}\n  re-encoded: {:02x?}",
        ev.event_type(),
        ev.offset(),
        body.len(),
        out.len(),
        &body[..body.len().min(first_diff + 16)],
        &out[..out.len().min(first_diff + 16)],
    );
}
