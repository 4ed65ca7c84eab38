//! A whole binlog: the deep walk (`deep_walk::deep_check`: every event decoded, every row and
//! value of every rows event, compressed events and transaction payloads opened) and the
//! transaction grouping, with and without CRC checks, each transaction walked again from
//! its recorded range.

#![no_main]

use binlog::deep_walk::{deep_check, MAX_PROBLEMS};
use binlog::txn::{Group, Transactions};
use binlog::{Binlog, Events};
use binlog_fuzz::{has_rows_event_without_columns, with_magic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = with_magic(data);
    let data: &[u8] = &data;
    if cfg!(feature = "skip-known-bugs") && has_rows_event_without_columns(data) {
        return;
    }

    let report = deep_check(data);
    assert!(report.problems.len() <= MAX_PROBLEMS);
    assert!(
        !report.stopped || !report.problems.is_empty(),
        "stopped without a problem"
    );

    let Ok(log) = Binlog::parse(data) else {
        return;
    };
    // With CRC checks on (as the tool reads files), then off, so that events past the
    // first damaged checksum get grouped too.
    walk_transactions(data, log.events());
    walk_transactions(data, log.events().verify_checksums(false));
});

fn walk_transactions(data: &[u8], events: Events) {
    let mut last_end = 0u64;
    for group in Transactions::new(events) {
        let Ok(group) = group else { break };
        let Group::Transaction(txn) = group else {
            continue;
        };
        // Transactions are non-empty, in file order, and inside the file.
        assert!(
            last_end <= txn.start && txn.start < txn.end && txn.end <= data.len() as u64,
            "transaction {}..{} after {last_end} in {} bytes",
            txn.start,
            txn.end,
            data.len()
        );
        last_end = txn.end;
        // Its recorded range walks again into the same number of events, ending where it
        // said. Checksums are not re-checked: the first walk may not have checked them.
        let mut count = 0;
        let mut end = txn.start;
        for ev in txn.events(data).verify_checksums(false) {
            let ev = ev.unwrap_or_else(|e| {
                panic!(
                    "transaction {}..{} walks again with {e}",
                    txn.start, txn.end
                )
            });
            count += 1;
            end = ev.end_offset();
        }
        assert_eq!(
            (count, end),
            (txn.events, txn.end),
            "transaction {}..{}: events and end when walked again",
            txn.start,
            txn.end
        );
    }
}
