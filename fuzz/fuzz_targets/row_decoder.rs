//! Row images: a table described by the first bytes of the input (see `RowCase` in
//! src/lib.rs for the layout) and the rest decoded as the rows data of one rows event.
//! Every row is found, every value decoded and rendered; JSON values go through the JSONB
//! decoder and text renderers, partial-update diffs through the diff parser and renderer.

#![no_main]

use binlog::event::RowsEvent;
use binlog::row::{Rows, TableInfo, Value};
use binlog::row::{json, json_diff};
use binlog::Format;
use binlog_fuzz::RowCase;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = RowCase::parse(data);
    let tm = case.table_map();
    // The column layout always parses (types come from a list, metadata lengths are the
    // types' own); the optional metadata is raw input and may not. When it does not, the
    // rows are still worth decoding, with every column signed.
    let table = match TableInfo::from_table_map(&tm) {
        Ok(t) => t,
        Err(_) => {
            let columns = tm.columns().expect("case columns are well-formed");
            let n = columns.len();
            TableInfo::new(columns, vec![false; n])
        }
    };

    // Frame the event through the library's own parser, as a walk over a file would.
    let body = case.event_body();
    let format = Format::mariadb_1011();
    let Ok(ev) = RowsEvent::parse(case.event_type(), &body, 0, &format) else {
        return;
    };
    let Ok(rows_data) = ev.rows_data() else {
        return;
    };
    let Ok(rows) = Rows::new(&ev, &rows_data, &table) else {
        return;
    };

    let mut text = String::new();
    for row in rows {
        let Ok(row) = row else { break };
        // A row that takes no bytes leaves the iterator where it was: it would yield the
        // same row forever (known bug 1 in README.md). With the `skip-known-bugs` feature
        // such cases are dropped so that the fuzzer can go on.
        if cfg!(feature = "skip-known-bugs") && row.start == row.end {
            return;
        }
        assert!(
            row.start < row.end,
            "empty row at {}: the rows iterator does not advance",
            row.start
        );
        assert!(
            row.end <= rows_data.len(),
            "row {}..{} past the {} bytes of rows data",
            row.start,
            row.end,
            rows_data.len()
        );
        for image in [row.before, row.after].into_iter().flatten() {
            let Ok(values) = image.values(&table) else {
                continue;
            };
            for v in values {
                let Ok((i, v)) = v else { break };
                assert!(i < table.columns.len());
                text.clear();
                render(&v, i, &mut text);
            }
        }
    }
});

/// Renders value `v` of column `i` the way the tool would show it: Debug covers every
/// variant (dates and times through their Display impls); JSON goes through the JSONB
/// decoder and both text renderers, diff lists through the parser and the mysqlbinlog-style
/// renderer.
fn render(v: &Value, i: usize, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "{v:?}");
    match v {
        Value::Json(b) => {
            if let Ok(j) = json::decode(b) {
                json::to_text(&j, out);
                json::to_text_unquoted(&j, out);
            }
        }
        Value::JsonDiff(b) => {
            if let Ok(diffs) = json_diff::parse_diffs(b) {
                json_diff::diffs_to_text(&diffs, &format!("@{}", i + 1), out);
            }
        }
        _ => {}
    }
}
