//! The writer: copying a file event by event reproduces it byte for byte; files built from
//! scratch read back with the same values and pass the server's own reader.

use std::borrow::Cow;

use binlog::event::gtid::{MariadbGtid, FL_TRANSACTIONAL};
use binlog::event::query::{encode_status_vars, Query, StatusVar};
use binlog::event::rows::{RowsEvent, RowsKind, RowsVersion, STMT_END_F};
use binlog::event::table_map::{field, OptionalMetadataBuilder, TableMap};
use binlog::event::Xid;
use binlog::row::column::{Column, ColumnType};
use binlog::row::encode::encode_image;
use binlog::row::temporal::{Date, DateTime, Time};
use binlog::row::{Rows, TableInfo, Value};
use binlog::{Binlog, BinlogWriter, EventData, EventType, Format, Stamp};

use crate::common::{project_binlogs, run_mariadb_binlog};

#[test]
fn copying_every_event_reproduces_each_fixture() {
    let files = project_binlogs();
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let log = Binlog::parse(&bytes).unwrap();
        let mut events = log.events();
        let fde = events.next().unwrap().unwrap();
        let mut w = BinlogWriter::with_fde(Vec::new(), &fde, events.format()).unwrap();
        let mut complete_end = fde.end_offset();
        for ev in events {
            let Ok(ev) = ev else { break };
            w.copy_event(&ev).unwrap();
            complete_end = ev.end_offset();
        }
        let out = w.finish().unwrap();
        let mut want = bytes[..complete_end as usize].to_vec();
        // The copy is a finished file: the in-use flag of the FDE is cleared.
        want[4 + 17] &= !1;
        assert_eq!(out.len(), want.len(), "{}", path.display());
        assert!(out == want, "{}: copy differs", path.display());
    }
}

/// Column types, metadata block, null bits, columns and one value per column.
type SampleTable = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<Column>, Vec<Value<'static>>);

/// A table with one column of most types, and values for it.
fn sample_table() -> SampleTable {
    let cols: Vec<(ColumnType, Vec<u8>, Value<'static>)> = vec![
        (ColumnType::LONG, vec![], Value::Int(-7)),
        (ColumnType::LONGLONG, vec![], Value::Int(i64::MIN)),
        (ColumnType::TINY, vec![], Value::Int(-128)),
        (ColumnType::SHORT, vec![], Value::Int(32767)),
        (ColumnType::INT24, vec![], Value::Int(-8_388_608)),
        (ColumnType::FLOAT, vec![4], Value::Float(1.5)),
        (ColumnType::DOUBLE, vec![8], Value::Double(-2.25e300)),
        (ColumnType::YEAR, vec![], Value::Year(2155)),
        (
            ColumnType::DATE,
            vec![],
            Value::Date(Date {
                year: 2024,
                month: 2,
                day: 29,
            }),
        ),
        (
            ColumnType::DATETIME2,
            vec![6],
            Value::DateTime(
                DateTime {
                    date: Date {
                        year: 9999,
                        month: 12,
                        day: 31,
                    },
                    hour: 23,
                    minute: 59,
                    second: 59,
                    micros: 999_999,
                },
                6,
            ),
        ),
        (
            ColumnType::TIME2,
            vec![3],
            Value::Time(
                Time {
                    negative: true,
                    hours: 838,
                    minutes: 59,
                    seconds: 59,
                    micros: 999_000,
                },
                3,
            ),
        ),
        (
            ColumnType::TIMESTAMP2,
            vec![2],
            Value::Timestamp {
                secs: 1_700_000_000,
                micros: 120_000,
                fsp: 2,
            },
        ),
        (ColumnType::BIT, vec![5, 1], Value::Bit(0x1abc)),
        (
            ColumnType::VARCHAR,
            vec![0x2c, 0x01],
            Value::Bytes(Cow::Borrowed("héllo 😀".as_bytes())),
        ),
        (
            ColumnType::STRING,
            vec![0xfe, 10],
            Value::Bytes(Cow::Borrowed(b"abc")),
        ),
        (ColumnType::STRING, vec![0xf7, 1], Value::Enum(2)),
        (ColumnType::STRING, vec![0xf8, 2], Value::Set(0b101)),
        (
            ColumnType::BLOB,
            vec![2],
            Value::Bytes(Cow::Owned(vec![0xab; 3000])),
        ),
        (ColumnType::BLOB, vec![4], Value::Null),
        (
            ColumnType::GEOMETRY,
            vec![4],
            Value::Geometry(Cow::Borrowed(&[
                0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40,
            ])),
        ),
    ];
    let types: Vec<u8> = cols.iter().map(|c| c.0 .0).collect();
    let meta: Vec<u8> = cols.iter().flat_map(|c| c.1.clone()).collect();
    let nulls = vec![0xffu8; cols.len().div_ceil(8)];
    let columns: Vec<Column> = cols.iter().map(|c| Column::new(c.0, &c.1, true)).collect();
    let values = cols.into_iter().map(|c| c.2).collect();
    (types, meta, nulls, columns, values)
}

/// A writer of a MariaDB 10.11 binlog into memory, and the stamp of its events.
fn mariadb_writer() -> (Stamp, BinlogWriter<Vec<u8>>) {
    let stamp = Stamp {
        timestamp: 1_700_000_000,
        server_id: 9,
        flags: 0,
    };
    let w = BinlogWriter::new(Vec::new(), Format::mariadb_1011(), stamp, stamp.timestamp).unwrap();
    (stamp, w)
}

#[test]
fn a_binlog_built_from_scratch_reads_back() {
    let (types, meta, nulls, columns, values) = sample_table();
    let n = columns.len();
    let table = TableInfo::new(columns, vec![false; n]);
    let mut optional = OptionalMetadataBuilder::new();
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    optional.names(&names);
    optional.packed_list(field::SIMPLE_PRIMARY_KEY, &[0]);
    let optional = optional.finish();
    let tm = TableMap::new(42, b"db", b"t", &types, &meta, &nulls, &optional);

    let present = vec![0xffu8; n.div_ceil(8)];
    let mut image = Vec::new();
    encode_image(&table, &present, &values, None, true, &mut image).unwrap();
    let rows = RowsEvent {
        event_type: EventType::WRITE_ROWS_V1,
        kind: RowsKind::Write,
        version: RowsVersion::V1,
        compressed: false,
        table_id: 42,
        table_id_len: 6,
        flags: STMT_END_F,
        extra: None,
        column_count: n as u64,
        columns: &present,
        columns_after: None,
        data: &image,
        data_offset: 0,
    };

    let (stamp, mut w) = mariadb_writer();
    let mut status = Vec::new();
    encode_status_vars(
        &[
            StatusVar::Flags2(0),
            StatusVar::SqlMode(0),
            StatusVar::Charset {
                client: 33,
                connection: 33,
                server: 8,
            },
        ],
        &mut status,
    )
    .unwrap();
    let create = Query {
        compressed: false,
        thread_id: 1,
        exec_time: 0,
        error_code: 0,
        post_header_extra: &[],
        status: Some(&status),
        db: b"db",
        query: b"CREATE TABLE t (c0 INT)",
    };
    w.write_data(
        EventType::MARIADB_GTID,
        stamp,
        &EventData::MariadbGtid(MariadbGtid::new(0, 1, binlog::event::gtid::FL_STANDALONE)),
    )
    .unwrap();
    w.write_data(EventType::QUERY, stamp, &EventData::Query(create))
        .unwrap();
    w.write_data(
        EventType::MARIADB_GTID,
        stamp,
        &EventData::MariadbGtid(MariadbGtid::new(0, 2, FL_TRANSACTIONAL)),
    )
    .unwrap();
    w.write_data(EventType::TABLE_MAP, stamp, &EventData::TableMap(tm))
        .unwrap();
    w.write_data(EventType::WRITE_ROWS_V1, stamp, &EventData::Rows(rows))
        .unwrap();
    w.write_data(EventType::XID, stamp, &EventData::Xid(Xid { xid: 5 }))
        .unwrap();
    let out = w.finish_with_stop(stamp).unwrap();

    // Read it back: positions chained, CRCs right, the values we wrote.
    let log = Binlog::parse(&out).unwrap();
    let mut seen = Vec::new();
    let mut events = log.events();
    while let Some(ev) = events.next() {
        let ev = ev.unwrap();
        assert_eq!(u64::from(ev.header().log_pos), ev.end_offset());
        seen.push(ev.event_type());
        if let EventData::Rows(re) = ev.decode(events.format()).unwrap() {
            let data = re.rows_data().unwrap();
            let rows: Vec<_> = Rows::new(&re, &data, &table)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), 1);
            let got: Vec<Value> = rows[0]
                .after
                .unwrap()
                .values(&table)
                .unwrap()
                .map(|v| v.unwrap().1)
                .collect();
            assert_eq!(got, values);
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(*seen.last().unwrap(), EventType::STOP);

    // The server's own reader decodes it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("built.000001");
    std::fs::write(&path, &out).unwrap();
    let text = run_mariadb_binlog(&["--base64-output=decode-rows", "-vv"], &path);
    assert!(text.contains("### INSERT INTO `db`.`t`"), "{text}");
    assert!(text.contains("@1=-7"), "{text}");
    assert!(text.contains("@8=2155"), "{text}");
    assert!(text.contains("CREATE TABLE t (c0 INT)"), "{text}");
}

/// A statement whose database name does not fit its one-byte length is refused, at the
/// offset where its event would have started, and nothing of it is written: the file
/// stays one that every reader walks to its end.
#[test]
fn a_value_too_long_for_its_field_is_refused_not_truncated() {
    use binlog::writer::Statement;
    let (stamp, mut w) = mariadb_writer();
    let before = w.position();
    let long = vec![b'd'; 300];
    let s = Statement {
        thread_id: 1,
        status: &[],
        db: &long,
        text: b"BEGIN",
    };
    let e = w.write_statement(stamp, &s).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            binlog::ErrorKind::TooLong {
                len: 300,
                max: 255,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset(), before);
    assert_eq!(w.position(), before);
    // 255 bytes fit, and read back.
    let s = Statement {
        db: &long[..255],
        ..s
    };
    w.write_statement(stamp, &s).unwrap();
    let bytes = w.finish().unwrap();
    let log = Binlog::parse(&bytes).unwrap();
    let mut events = log.events();
    let mut dbs = Vec::new();
    while let Some(ev) = events.next() {
        if let EventData::Query(q) = ev.unwrap().decode(events.format()).unwrap() {
            dbs.push(q.db.len());
        }
    }
    assert_eq!(dbs, [255]);
}
