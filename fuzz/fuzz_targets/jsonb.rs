//! The value codecs on raw bytes: MySQL binary JSON (decode, then render as JSON text and
//! as unquoted text), JSON partial-update diff lists (parse, then render as mysqlbinlog
//! does), and packed DECIMAL with precision and scale taken from the
//! first two input bytes.

#![no_main]

use binlog::row::{decimal, json, json_diff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    if let Ok(j) = json::decode(data) {
        json::to_text(&j, &mut text);
        text.clear();
        json::to_text_unquoted(&j, &mut text);
    }

    text.clear();
    if let Ok(diffs) = json_diff::parse_diffs(data) {
        json_diff::diffs_to_text(&diffs, "@1", &mut text);
    }

    if let [precision, scale, rest @ ..] = data {
        // Whatever length the bytes have (a row image always passes exactly bin_size
        // bytes; a damaged caller might not) ...
        text.clear();
        let _ = decimal::decode(rest, *precision, *scale, &mut text);
        // ... and exactly the length the column type gives, as row decoding does.
        let n = decimal::bin_size(*precision, *scale);
        if let Some(exact) = rest.get(..n) {
            text.clear();
            let _ = decimal::decode(exact, *precision, *scale, &mut text);
        }
    }
});
