//! Dumps replayed from the fixtures' files: the stream a server sends for them (artificial
//! ROTATE, the FDE with the in-use flag cleared or with log_pos and creation time zeroed on
//! a resume, the events) fed through a [`Follower`] into an [`Archive`].

use std::path::PathBuf;

use super::*;
use crate::event::header::{EventType, FLAG_ARTIFICIAL, HEADER_LEN};
use crate::Binlog;

fn fixture(name: &str) -> (String, Vec<u8>) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/row_full")
        .join(name);
    (name.to_string(), std::fs::read(p).unwrap())
}

/// The events of a file: (offset, bytes).
fn events(data: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let log = Binlog::parse(data).unwrap();
    log.events()
        .map(|e| e.unwrap())
        .map(|e| (e.offset(), e.raw().to_vec()))
        .collect()
}

fn with_crc(mut ev: Vec<u8>, crc: bool) -> Vec<u8> {
    let n = (ev.len() + if crc { 4 } else { 0 }) as u32;
    ev[9..13].copy_from_slice(&n.to_le_bytes());
    if crc {
        let c = crc32fast::hash(&ev);
        ev.extend_from_slice(&c.to_le_bytes());
    }
    ev
}

fn fake_rotate(name: &str, pos: u64, crc: bool) -> Vec<u8> {
    let mut ev = vec![0u8; HEADER_LEN];
    ev[4] = EventType::ROTATE.0;
    ev[5] = 1;
    ev[17..19].copy_from_slice(&FLAG_ARTIFICIAL.to_le_bytes());
    ev.extend_from_slice(&pos.to_le_bytes());
    ev.extend_from_slice(name.as_bytes());
    with_crc(ev, crc)
}

fn heartbeat(name: &str, pos: u32) -> Vec<u8> {
    let mut ev = vec![0u8; HEADER_LEN];
    ev[4] = EventType::HEARTBEAT.0;
    ev[13..17].copy_from_slice(&pos.to_le_bytes());
    ev.extend_from_slice(name.as_bytes());
    with_crc(ev, true)
}

/// The FDE as a dump sends it: in-use flag cleared; past position 4 also log_pos and the
/// creation time zeroed and the CRC computed again.
fn sent_fde(fde: &[u8], resumed: bool) -> Vec<u8> {
    let mut ev = fde.to_vec();
    ev[17] &= !1;
    if resumed {
        ev[13..17].fill(0);
        ev[71..75].fill(0);
        let n = ev.len() - 4;
        let c = crc32fast::hash(&ev[..n]);
        ev[n..].copy_from_slice(&c.to_le_bytes());
    }
    ev
}

/// The packets a dump of `file` from `pos` sends (all of the file's events from there).
fn dump(name: &str, data: &[u8], pos: u64) -> Vec<Vec<u8>> {
    let evs = events(data);
    let mut out = vec![fake_rotate(name, pos, false), sent_fde(&evs[0].1, pos > 4)];
    out.extend(
        evs.iter()
            .filter(|e| e.0 >= pos && e.0 > 4)
            .map(|e| e.1.clone()),
    );
    out
}

fn feed_all(f: &mut Follower, a: &mut Archive, packets: &[Vec<u8>]) -> Result<(), FetchError> {
    for p in packets {
        f.feed(p, a)?;
    }
    Ok(())
}

#[test]
fn a_fresh_dump_writes_the_server_files() {
    let dir = tempfile::tempdir().unwrap();
    let (n1, d1) = fixture("mariadb-bin.000001");
    let (n2, d2) = fixture("mariadb-bin.000002");
    let mut a = Archive::open(dir.path()).unwrap();
    assert_eq!(a.end().unwrap(), ArchiveEnd::Empty);
    let mut f = Follower::new(Resume::fresh(&n1), false);
    let mut packets = dump(&n1, &d1, 4);
    packets.insert(5, heartbeat(&n1, 400));
    // The next file: the server's fake rotate now carries a CRC (the last FDE's algorithm).
    let mut second = dump(&n2, &d2, 4);
    second[0] = fake_rotate(&n2, 4, true);
    packets.extend(second);
    feed_all(&mut f, &mut a, &packets).unwrap();
    a.sync().unwrap();
    assert_eq!(std::fs::read(dir.path().join(&n1)).unwrap(), d1);
    let got2 = std::fs::read(dir.path().join(&n2)).unwrap();
    let last = EventType(events(&d2).last().unwrap().1[4]);
    if last == EventType::ROTATE || last == EventType::STOP {
        assert_eq!(got2, d2);
    } else {
        // Still open: in use, as the server's own open file.
        assert_eq!(got2[21] & 1, 1);
        assert_eq!(got2[..21], d2[..21]);
        assert_eq!(got2[22..], d2[22..]);
    }
    let index = std::fs::read_to_string(dir.path().join("mariadb-bin.index")).unwrap();
    assert_eq!(index, format!("./{n1}\n./{n2}\n"));
}

#[test]
fn a_killed_copy_resumes_at_its_last_event() {
    let dir = tempfile::tempdir().unwrap();
    let (n1, d1) = fixture("mariadb-bin.000001");
    let evs = events(&d1);
    let k = evs.len() / 2;
    {
        let mut a = Archive::open(dir.path()).unwrap();
        let mut f = Follower::new(Resume::fresh(&n1), false);
        feed_all(&mut f, &mut a, &dump(&n1, &d1, 4)[..k + 1]).unwrap();
        a.sync().unwrap();
    }
    // A kill mid-write leaves part of the next event.
    let path = dir.path().join(&n1);
    let mut bytes = std::fs::read(&path).unwrap();
    let cut_at = bytes.len() as u64;
    bytes.extend_from_slice(&evs[k].1[..7]);
    std::fs::write(&path, &bytes).unwrap();

    let mut a = Archive::open(dir.path()).unwrap();
    assert!(
        a.notes()[0].contains(&format!("partial event (7 bytes) at offset {cut_at}")),
        "{:?}",
        a.notes()
    );
    let ArchiveEnd::Open(resume) = a.end().unwrap() else {
        panic!()
    };
    assert_eq!(resume.position, evs[k - 1].0);
    assert_eq!(resume.archive_end(), cut_at);
    let mut f = Follower::new(resume.clone(), false);
    feed_all(&mut f, &mut a, &dump(&n1, &d1, resume.position)).unwrap();
    a.sync().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), d1);
    assert_eq!(
        a.end().unwrap(),
        ArchiveEnd::Finished {
            file: n1.clone(),
            next: Some("mariadb-bin.000002".into())
        }
    );
}

#[test]
fn foreign_history_and_damage_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (n1, d1) = fixture("mariadb-bin.000001");
    let (_, d2) = fixture("mariadb-bin.000002");
    let evs = events(&d1);
    let k = evs.len() / 2;
    {
        let mut a = Archive::open(dir.path()).unwrap();
        let mut f = Follower::new(Resume::fresh(&n1), false);
        feed_all(&mut f, &mut a, &dump(&n1, &d1, 4)[..k + 1]).unwrap();
        a.sync().unwrap();
    }
    let path = dir.path().join(&n1);
    let before = std::fs::read(&path).unwrap();
    let resume = |a: &mut Archive| match a.end().unwrap() {
        ArchiveEnd::Open(r) => r,
        other => panic!("{other:?}"),
    };

    // Another file under the same name: its FDE differs.
    let mut a = Archive::open(dir.path()).unwrap();
    let r = resume(&mut a);
    let mut f = Follower::new(r.clone(), false);
    let mut packets = dump(&n1, &d1, r.position);
    packets[1] = sent_fde(&events(&d2)[0].1, true);
    let e = feed_all(&mut f, &mut a, &packets).unwrap_err();
    assert!(matches!(e.kind, FetchErrorKind::History(_)), "{e}");
    assert_eq!((e.file.as_str(), e.offset), (n1.as_str(), 4));

    // Same FDE, but a different event where the archive's last one was.
    let mut f = Follower::new(r.clone(), false);
    let mut packets = dump(&n1, &d1, r.position);
    packets[2] = evs[k + 1].1.clone();
    let e = feed_all(&mut f, &mut a, &packets).unwrap_err();
    assert!(matches!(e.kind, FetchErrorKind::History(_)), "{e}");
    assert_eq!(e.offset, r.position);

    // A byte flipped on the way: the CRC32 catches it at the event's offset.
    let mut f = Follower::new(r.clone(), false);
    let mut packets = dump(&n1, &d1, r.position);
    let bad = packets[3].len() / 2;
    packets[3][bad] ^= 0x40;
    let e = feed_all(&mut f, &mut a, &packets).unwrap_err();
    assert!(matches!(e.kind, FetchErrorKind::Corrupt(_)), "{e}");
    assert_eq!(e.offset, r.archive_end());
    assert!(
        e.to_string()
            .contains(&format!("at offset {}", r.archive_end())),
        "{e}"
    );

    // An event missing from the stream.
    let mut f = Follower::new(r.clone(), false);
    let mut packets = dump(&n1, &d1, r.position);
    packets.remove(3);
    let e = feed_all(&mut f, &mut a, &packets).unwrap_err();
    assert!(matches!(e.kind, FetchErrorKind::Hole { .. }), "{e}");

    a.sync().unwrap();
    drop(a);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_zero_filled_tail_is_cut_and_real_damage_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (n1, d1) = fixture("mariadb-bin.000001");
    let path = dir.path().join(&n1);
    let mut bytes = d1[..d1.len() - 40].to_vec();
    let evs = events(&d1);
    let last_whole = evs
        .iter()
        .rev()
        .find(|e| e.0 + e.1.len() as u64 <= bytes.len() as u64)
        .unwrap();
    let end = last_whole.0 as usize + last_whole.1.len();
    bytes.truncate(end);
    bytes.extend_from_slice(&[0u8; 300]);
    std::fs::write(&path, &bytes).unwrap();
    let a = Archive::open(dir.path()).unwrap();
    assert!(a.notes()[0].contains("300 zero bytes"), "{:?}", a.notes());
    drop(a);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), end as u64);

    let mut bad = d1.clone();
    let mid = evs[3].0 as usize + 25;
    bad[mid] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    let e = Archive::open(dir.path()).unwrap_err();
    assert!(e.to_string().contains("damaged"), "{e}");
    assert_eq!(e.offset, Some(evs[3].0));
}

#[test]
fn an_archive_holding_only_the_fde_resumes_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let (n1, d1) = fixture("mariadb-bin.000001");
    {
        let mut a = Archive::open(dir.path()).unwrap();
        let mut f = Follower::new(Resume::fresh(&n1), false);
        feed_all(&mut f, &mut a, &dump(&n1, &d1, 4)[..2]).unwrap();
        a.sync().unwrap();
    }
    let path = dir.path().join(&n1);
    let held = std::fs::read(&path).unwrap();
    // The open file's FDE is in use, as the server's own open file's.
    assert_eq!(held[21] & 1, 1);
    let mut a = Archive::open(dir.path()).unwrap();
    let ArchiveEnd::Open(r) = a.end().unwrap() else {
        panic!()
    };
    assert_eq!((r.position, r.archive_end()), (4, held.len() as u64));
    let mut f = Follower::new(r, false);
    feed_all(&mut f, &mut a, &dump(&n1, &d1, 4)).unwrap();
    a.sync().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), d1);
}

#[test]
fn a_file_that_ends_without_rotate_is_completed_by_the_next() {
    // The server crashed: its file ends without ROTATE or STOP, and after the restart the
    // dump names the next file.
    let dir = tempfile::tempdir().unwrap();
    let (n1, d1) = fixture("mariadb-bin.000001");
    let (n2, d2) = fixture("mariadb-bin.000002");
    let mut a = Archive::open(dir.path()).unwrap();
    let mut f = Follower::new(Resume::fresh(&n1), false);
    let mut packets = dump(&n1, &d1, 4);
    let rotate = packets.pop().unwrap();
    assert_eq!(rotate[4], EventType::ROTATE.0);
    let mut second = dump(&n2, &d2, 4);
    second[0] = fake_rotate(&n2, 4, true);
    packets.extend(second);
    feed_all(&mut f, &mut a, &packets).unwrap();
    a.sync().unwrap();
    let got1 = std::fs::read(dir.path().join(&n1)).unwrap();
    let want = &d1[..d1.len() - rotate.len()];
    // As MariaDB leaves a crashed file: in use.
    assert_eq!(got1[21] & 1, 1);
    assert_eq!(
        (got1[..21].to_vec(), got1[22..].to_vec()),
        (want[..21].to_vec(), want[22..].to_vec())
    );
    // A heartbeat whose CRC is wrong is damage too.
    let mut hb = heartbeat(&n2, 99);
    let last = hb.len() - 1;
    hb[last] ^= 1;
    let e = f.feed(&hb, &mut a).unwrap_err();
    assert!(matches!(e.kind, FetchErrorKind::Corrupt(_)), "{e}");
}
