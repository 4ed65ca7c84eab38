//! Re-encoding: for input that parses as a binlog, every event whose body decodes into a
//! typed form must encode back to exactly the same body (top-level events and those inside
//! transaction payloads). A mismatch panics: finding one is this target's job.
//!
//! The panic message says which kind of mismatch it is, judged by decoding the re-encoded
//! bytes again and comparing the two typed forms (by their `Debug` text, which for a few
//! types abbreviates long byte fields, so this is a hint rather than proof):
//! - "same value": both decode alike. The body holds bytes the parser ignores, or spells a
//!   value in a form the encoder does not write (such as a packed integer in more bytes
//!   than needed). Servers do not write such bodies, but `encode(parse(b)) == b` fails.
//! - "lossy": the re-encoded bytes decode to something else, or not at all. The typed
//!   form dropped or changed information.
//!
//! With the `skip-known-bugs` feature only lossy mismatches panic, and not the one already
//! reported (README.md, "Known bugs"), so a run can look for new ones.

#![no_main]

use binlog::event::payload::payload_events;
use binlog::{Binlog, Event, EventData, EventType, Events, Format};
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
    // The encoders refuse only values that do not fit their fields, which a parsed body
    // cannot hold.
    if let Err(e) = typed.encode(&mut out) {
        panic!(
            "{:?} at offset {} parses but does not encode: {e}",
            ev.event_type(),
            ev.offset()
        );
    }
    if out == body {
        return;
    }
    // Classify by decoding the re-encoded bytes and comparing the typed forms.
    let how = match EventData::parse(ev.event_type(), &out, ev.body_offset(), format) {
        Ok(d) if format!("{d:?}") == format!("{typed:?}") => "same value",
        Ok(_) => "lossy",
        Err(_) => "lossy (the re-encoded body does not parse)",
    };
    if cfg!(feature = "skip-known-bugs") && (how == "same value" || known_lossy(ev, format)) {
        return;
    }
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

/// Known bug 3 (README.md): ROTATE with a post-header longer than 8 bytes (only a damaged
/// FORMAT_DESCRIPTION announces one) loses the bytes past the position.
fn known_lossy(ev: &Event, format: &Format) -> bool {
    ev.event_type() == EventType::ROTATE && format.post_header_len(EventType::ROTATE) > 8
}
