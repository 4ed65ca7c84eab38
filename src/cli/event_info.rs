//! The Info column SHOW BINLOG EVENTS gives each event, as `events` shows it.

use binlog::event::control::xid_sql;
use binlog::event::gtid::GtidKind;
use binlog::event::header::FLAG_SUPPRESS_USE;
use binlog::event::payload::COMPRESSION_ZSTD;
use binlog::event::rows::{
    COMPLETE_ROWS_F, NO_FOREIGN_KEY_CHECKS_F, RELAXED_UNIQUE_CHECKS_F, STMT_END_F,
};
use binlog::{Event, EventData};

fn lossy(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    binlog::bytes::push_lossy(&mut s, b);
    s
}

fn rows_flags(flags: u16) -> String {
    let names = [
        (STMT_END_F, "STMT_END_F"),
        (NO_FOREIGN_KEY_CHECKS_F, "NO_FOREIGN_KEY_CHECKS_F"),
        (RELAXED_UNIQUE_CHECKS_F, "RELAXED_UNIQUE_CHECKS_F"),
        (COMPLETE_ROWS_F, "COMPLETE_ROWS_F"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    v.join(" ")
}

/// The Info column SHOW BINLOG EVENTS gives an event, from what [`Event::decode`] gave.
pub fn event_info(ev: &Event, decoded: &binlog::Result<EventData>) -> String {
    if ev.is_encrypted() {
        return "encrypted".into();
    }
    let data = match decoded {
        Ok(d) => d,
        Err(e) => return format!("(undecodable: {e})"),
    };
    match data {
        EventData::FormatDescription(f) => {
            format!(
                "Server ver: {}, Binlog ver: {}",
                f.version_str(),
                f.binlog_version
            )
        }
        EventData::StartV3(s) => format!(
            "Server ver: {}, Binlog ver: {}",
            lossy(s.server_version).trim_end_matches('\0'),
            s.binlog_version
        ),
        EventData::Query(q) => {
            let text = match q.text() {
                Ok(t) => lossy(&t),
                Err(e) => format!("(undecodable compressed query: {e})"),
            };
            // LOG_EVENT_SUPPRESS_USE_F (CREATE/ALTER/DROP DATABASE): no `use`, as SHOW
            // BINLOG EVENTS shows them.
            let suppress_use = ev.header().flags & FLAG_SUPPRESS_USE != 0;
            if q.db.is_empty() || q.is_begin() || q.is_commit() || suppress_use {
                text
            } else {
                format!("use `{}`; {text}", lossy(q.db))
            }
        }
        EventData::Rotate(r) => match r.position {
            Some(p) => format!("{};pos={p}", lossy(r.next_file)),
            None => lossy(r.next_file),
        },
        EventData::Stop => String::new(),
        EventData::Xid(x) => format!("COMMIT /* xid={} */", x.xid),
        EventData::Intvar(i) => format!("{}={}", i.name(), i.value),
        EventData::Rand(r) => format!("rand_seed1={},rand_seed2={}", r.seed1, r.seed2),
        EventData::UserVar(u) => match &u.value {
            None => format!("@`{}`=NULL", lossy(u.name)),
            Some(v) => format!("@`{}`={}", lossy(u.name), user_var_value(v)),
        },
        EventData::TableMap(t) => format!(
            "table_id: {} ({}.{})",
            t.table_id,
            lossy(t.schema),
            lossy(t.table)
        ),
        EventData::Rows(r) => {
            let f = rows_flags(r.flags);
            if f.is_empty() {
                format!("table_id: {}", r.table_id)
            } else {
                format!("table_id: {} flags: {f}", r.table_id)
            }
        }
        EventData::RowsQuery(r) => format!("# {}", lossy(r.query)),
        EventData::AnnotateRows(a) => lossy(a.query),
        EventData::Incident(i) => format!(
            "#{} ({}) {}",
            i.incident,
            if i.incident == 1 {
                "LOST_EVENTS"
            } else {
                "UNKNOWN"
            },
            lossy(i.message)
        ),
        EventData::Heartbeat(h) => match h.position {
            Some(p) => format!("{};pos={p}", lossy(h.log_file)),
            None => lossy(h.log_file),
        },
        EventData::Gtid(g) => match g.kind {
            GtidKind::Anonymous => "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'".into(),
            _ => format!("SET @@SESSION.GTID_NEXT= '{}'", g.gtid_text()),
        },
        EventData::PreviousGtids(p) => p.to_text(),
        EventData::XaPrepare(x) => format!(
            "XA {} {}",
            if x.one_phase { "COMMIT" } else { "PREPARE" },
            x.xid_sql()
        ),
        EventData::TransactionPayload(p) => format!(
            "compression='{}', decompressed_size={} bytes",
            if p.compression == COMPRESSION_ZSTD {
                "ZSTD"
            } else {
                "NONE"
            },
            p.uncompressed_size.unwrap_or(p.payload_size)
        ),
        EventData::BinlogCheckpoint(c) => lossy(c.file),
        EventData::MariadbGtid(g) => {
            let gtid = g.gtid_text(ev.header().server_id);
            match &g.xid {
                Some(x) if g.flags & binlog::event::gtid::FL_PREPARED_XA != 0 => {
                    format!(
                        "XA START {};GTID {gtid}",
                        xid_sql(x.gtrid, x.bqual, x.format_id)
                    )
                }
                _ if g.is_standalone() => format!("GTID {gtid}"),
                _ => format!("BEGIN GTID {gtid}"),
            }
        }
        EventData::GtidList(l) => format!("[{}]", l.to_text()),
        EventData::StartEncryption(s) => {
            format!("scheme {}, key version {}", s.scheme, s.key_version)
        }
        _ => String::new(),
    }
}

fn user_var_value(v: &binlog::event::control::UserVarValue) -> String {
    match v.kind {
        1 if v.value.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(v.value);
            format!("{}", f64::from_le_bytes(a))
        }
        2 if v.value.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(v.value);
            if v.flags.unwrap_or(0) & 1 != 0 {
                format!("{}", u64::from_le_bytes(a))
            } else {
                format!("{}", i64::from_le_bytes(a))
            }
        }
        0 => format!(
            "X'{}' /* collation {} */",
            v.value
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            v.charset
        ),
        _ => format!(
            "X'{}'",
            v.value
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
    }
}
