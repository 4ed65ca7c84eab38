//! The public value decoders on arbitrary bytes, through
//! `deep_walk::check_value_codecs`: a row value of any column type (the first bytes choose
//! the type, its metadata and signedness), every temporal form, DECIMAL, binary JSON and
//! JSON diff lists; every value that decodes is rendered and encoded again, and what an
//! encoder accepts must decode back to the same value.

#![no_main]

use binlog::deep_walk::check_value_codecs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(m) = check_value_codecs(data) {
        panic!("{m}");
    }
});
