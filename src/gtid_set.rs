//! GTID values and sets as users write them: MySQL `uuid[:tag]:1-5:7,...` sets and
//! MariaDB `domain-server-seq,...` lists.

use std::collections::BTreeMap;
use std::fmt;

/// A 16-byte UUID (a MySQL server's `server_uuid`, the source id of its GTIDs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (dashes optional).
    pub fn parse(s: &str) -> Option<Uuid> {
        let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let h = (pair[0] as char).to_digit(16)?;
            let l = (pair[1] as char).to_digit(16)?;
            out[i] = (h * 16 + l) as u8;
        }
        Some(Uuid(out))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A transaction's global id, whichever server family wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GtidValue {
    /// MySQL `uuid[:tag]:gno`; the tag is empty when untagged.
    MySql {
        /// Source UUID.
        sid: Uuid,
        /// Tag (lower-case), empty when untagged.
        tag: String,
        /// Transaction number.
        gno: u64,
    },
    /// MariaDB `domain-server-seq`.
    MariaDb {
        /// Domain.
        domain: u32,
        /// Server id.
        server: u32,
        /// Sequence number.
        seq: u64,
    },
}

impl fmt::Display for GtidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtidValue::MySql { sid, tag, gno } if tag.is_empty() => write!(f, "{sid}:{gno}"),
            GtidValue::MySql { sid, tag, gno } => write!(f, "{sid}:{tag}:{gno}"),
            GtidValue::MariaDb {
                domain,
                server,
                seq,
            } => write!(f, "{domain}-{server}-{seq}"),
        }
    }
}

impl GtidValue {
    /// Parses one GTID in either notation: `uuid[:tag]:N` or `domain-server-seq`. A range
    /// or a list (`uuid:1-5`, `0-1-5..0-1-9`, `a,b`) is refused: it is not one GTID.
    pub fn parse(s: &str) -> Result<GtidValue, String> {
        let s = s.trim();
        let not_one = || format!("'{s}' is not a single GTID (a range or a list)");
        if s.contains(',') || s.contains("..") {
            return Err(not_one());
        }
        let set = GtidSet::parse(s)?;
        if set
            .mysql
            .values()
            .chain(set.mariadb.values())
            .flatten()
            .any(|(a, b)| a != b)
        {
            return Err(not_one());
        }
        let mut all = set.iter_singles();
        match (all.next(), all.next()) {
            (Some(g), None) => Ok(g),
            _ => Err(not_one()),
        }
    }
}

/// One MySQL source (UUID and tag) and its closed ranges of transaction numbers.
pub type MySqlRanges = ((Uuid, String), Vec<(u64, u64)>);

/// A set of GTIDs: MySQL intervals per `(uuid, tag)`, and MariaDB ranges per
/// `(domain, server)`.
///
/// A MariaDB `D-S-N` in a list is that one GTID; a range is written with both ends,
/// `D-S-A..D-S-B` (the same domain and server on both sides), as [`fmt::Display`] writes
/// it. MySQL sets keep MySQL's syntax: `uuid:1-5:7`, tagged `uuid:tag:1-5`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet {
    mysql: BTreeMap<(Uuid, String), Vec<(u64, u64)>>,
    mariadb: BTreeMap<(u32, u32), Vec<(u64, u64)>>,
}

impl GtidSet {
    /// Parses a comma-separated set. MySQL: `uuid[:tag]:a[-b][:c[-d]]...` (a bare
    /// `uuid:tag` is not a set member). MariaDB: `domain-server-seq` (that one GTID) or
    /// `domain-server-a..domain-server-b` (a range).
    pub fn parse(s: &str) -> Result<GtidSet, String> {
        let mut set = GtidSet::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(uuid) = part.get(..36).and_then(Uuid::parse) {
                let mut tag = String::new();
                let rest = &part[36..];
                if rest.is_empty() {
                    return Err(format!("GTID '{part}' has no transaction numbers"));
                }
                for item in rest
                    .strip_prefix(':')
                    .ok_or("expected ':' after uuid")?
                    .split(':')
                {
                    if item
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    {
                        tag = item.to_ascii_lowercase();
                        continue;
                    }
                    let (a, b) = parse_range(item)?;
                    set.mysql
                        .entry((uuid, tag.clone()))
                        .or_default()
                        .push((a, b));
                }
            } else {
                let (first, last) = match part.split_once("..") {
                    Some((a, b)) => (
                        parse_mariadb(a.trim(), part)?,
                        parse_mariadb(b.trim(), part)?,
                    ),
                    None => {
                        let g = parse_mariadb(part, part)?;
                        (g, g)
                    }
                };
                if (first.0, first.1) != (last.0, last.1) {
                    return Err(format!(
                        "range '{part}' must have the same domain and server id at both ends"
                    ));
                }
                if first.2 > last.2 {
                    return Err(format!("empty range in '{part}'"));
                }
                set.mariadb
                    .entry((first.0, first.1))
                    .or_default()
                    .push((first.2, last.2));
            }
        }
        Ok(set)
    }

    /// Whether the set holds `g`.
    pub fn contains(&self, g: &GtidValue) -> bool {
        match g {
            GtidValue::MySql { sid, tag, gno } => self
                .mysql
                .get(&(*sid, tag.clone()))
                .is_some_and(|r| r.iter().any(|&(a, b)| (a..=b).contains(gno))),
            GtidValue::MariaDb {
                domain,
                server,
                seq,
            } => self
                .mariadb
                .get(&(*domain, *server))
                .is_some_and(|r| r.iter().any(|&(a, b)| (a..=b).contains(seq))),
        }
    }

    /// Adds one GTID, merging it into the ranges.
    pub fn insert(&mut self, g: &GtidValue) {
        let (ranges, n) = match g {
            GtidValue::MySql { sid, tag, gno } => {
                (self.mysql.entry((*sid, tag.clone())).or_default(), *gno)
            }
            GtidValue::MariaDb {
                domain,
                server,
                seq,
            } => (self.mariadb.entry((*domain, *server)).or_default(), *seq),
        };
        add_to_ranges(ranges, n);
    }

    /// Adds the closed range `a..=b` of one MySQL source (`tag` in lower case, empty when
    /// untagged).
    pub fn insert_mysql_range(&mut self, sid: Uuid, tag: &str, a: u64, b: u64) {
        self.mysql
            .entry((sid, tag.to_string()))
            .or_default()
            .push((a, b));
    }

    /// The MySQL part: per `(uuid, tag)` in order, closed ranges sorted and merged (ranges
    /// as written may overlap or come in any order).
    pub fn mysql_ranges(&self) -> Vec<MySqlRanges> {
        self.mysql
            .iter()
            .map(|(k, rs)| {
                let mut rs = rs.clone();
                rs.sort_unstable();
                let mut merged: Vec<(u64, u64)> = Vec::with_capacity(rs.len());
                for (a, b) in rs {
                    match merged.last_mut() {
                        Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                        _ => merged.push((a, b)),
                    }
                }
                (k.clone(), merged)
            })
            .collect()
    }

    /// The MariaDB part as `domain-server-seq` positions: the last sequence number of each
    /// `(domain, server)` (what `@slave_connect_state` takes).
    pub fn mariadb_positions(&self) -> Vec<(u32, u32, u64)> {
        self.mariadb
            .iter()
            .filter_map(|(&(d, s), rs)| rs.iter().map(|r| r.1).max().map(|n| (d, s, n)))
            .collect()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.mysql.is_empty() && self.mariadb.is_empty()
    }

    /// Each single GTID of the set when every range is one long (for parsing one GTID).
    fn iter_singles(&self) -> impl Iterator<Item = GtidValue> + '_ {
        let my = self.mysql.iter().flat_map(|((sid, tag), rs)| {
            rs.iter().flat_map(move |&(a, b)| {
                (a..=b.min(a + 1)).map(move |gno| GtidValue::MySql {
                    sid: *sid,
                    tag: tag.clone(),
                    gno,
                })
            })
        });
        let md = self.mariadb.iter().flat_map(|((d, s), rs)| {
            rs.iter().map(move |&(_, b)| GtidValue::MariaDb {
                domain: *d,
                server: *s,
                seq: b,
            })
        });
        my.chain(md)
    }
}

/// Adds `n` to sorted, disjoint, closed ranges, merging neighbours.
fn add_to_ranges(ranges: &mut Vec<(u64, u64)>, n: u64) {
    // Fast path: GTIDs mostly come in order.
    if let Some(last) = ranges.last_mut() {
        if last.1.checked_add(1) == Some(n) {
            last.1 = n;
            return;
        }
        if (last.0..=last.1).contains(&n) {
            return;
        }
    }
    let i = ranges.partition_point(|r| r.1 < n);
    if ranges.get(i).is_some_and(|r| r.0 <= n) {
        return;
    }
    ranges.insert(i, (n, n));
    // Merge with the neighbours where they touch.
    if i + 1 < ranges.len() && ranges[i].1 + 1 == ranges[i + 1].0 {
        ranges[i].1 = ranges[i + 1].1;
        ranges.remove(i + 1);
    }
    if i > 0 && ranges[i - 1].1 + 1 == ranges[i].0 {
        ranges[i - 1].1 = ranges[i].1;
        ranges.remove(i);
    }
}

impl fmt::Display for GtidSet {
    /// MySQL sets as `uuid:1-5:7,uuid:tag:1`; MariaDB ranges as `domain-server-first..last`
    /// (or `domain-server-seq` for one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            Ok(())
        };
        let mut last_sid = None;
        for ((sid, tag), ranges) in &self.mysql {
            if last_sid != Some(*sid) || !tag.is_empty() {
                sep(f)?;
                write!(f, "{sid}")?;
            }
            last_sid = Some(*sid);
            if !tag.is_empty() {
                write!(f, ":{tag}")?;
            }
            for (a, b) in ranges {
                if a == b {
                    write!(f, ":{a}")?;
                } else {
                    write!(f, ":{a}-{b}")?;
                }
            }
        }
        for ((d, s), ranges) in &self.mariadb {
            for (a, b) in ranges {
                sep(f)?;
                if a == b {
                    write!(f, "{d}-{s}-{a}")?;
                } else {
                    write!(f, "{d}-{s}-{a}..{d}-{s}-{b}")?;
                }
            }
        }
        Ok(())
    }
}

/// One MariaDB `domain-server-seq` of `part` (for messages).
fn parse_mariadb(s: &str, part: &str) -> Result<(u32, u32, u64), String> {
    let f: Vec<&str> = s.splitn(3, '-').collect();
    if f.len() != 3 {
        return Err(format!("'{part}' is neither a MySQL nor a MariaDB GTID"));
    }
    let domain: u32 = f[0]
        .parse()
        .map_err(|_| format!("bad domain in '{part}'"))?;
    let server: u32 = f[1]
        .parse()
        .map_err(|_| format!("bad server id in '{part}'"))?;
    let seq: u64 = f[2].parse().map_err(|_| {
        if f[2].contains(':') {
            format!("'{part}': write a range of MariaDB GTIDs as D-S-A..D-S-B")
        } else {
            format!("bad seq in '{part}'")
        }
    })?;
    Ok((domain, server, seq))
}

fn parse_range(item: &str) -> Result<(u64, u64), String> {
    let (a, b) = match item.split_once('-') {
        Some((a, b)) => (a, b),
        None => (item, item),
    };
    let a: u64 = a.parse().map_err(|_| format!("bad GTID number '{item}'"))?;
    let b: u64 = b.parse().map_err(|_| format!("bad GTID number '{item}'"))?;
    if a == 0 || a > b {
        return Err(format!("bad GTID interval '{item}'"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_sets() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let s = GtidSet::parse(&format!("{u}:1-5:7,{u}:tag1:3")).unwrap();
        let sid = Uuid::parse(u).unwrap();
        assert_eq!(sid.to_string(), u);
        let g = |tag: &str, gno| GtidValue::MySql {
            sid,
            tag: tag.into(),
            gno,
        };
        assert!(s.contains(&g("", 1)));
        assert!(s.contains(&g("", 5)));
        assert!(!s.contains(&g("", 6)));
        assert!(s.contains(&g("", 7)));
        assert!(s.contains(&g("tag1", 3)));
        assert!(!s.contains(&g("tag1", 4)));
        assert_eq!(GtidValue::parse(&format!("{u}:9")).unwrap(), g("", 9));
        assert!(GtidSet::parse(&format!("{u}:0")).is_err());
    }

    #[test]
    fn insert_merges_ranges() {
        let mut s = GtidSet::default();
        for seq in [3u64, 1, 2, 7, 5, 6, 9] {
            s.insert(&GtidValue::MariaDb {
                domain: 0,
                server: 1,
                seq,
            });
        }
        assert_eq!(s.to_string(), "0-1-1..0-1-3,0-1-5..0-1-7,0-1-9");
        let u = Uuid([1; 16]);
        let mut m = GtidSet::default();
        for gno in [1u64, 2, 4] {
            m.insert(&GtidValue::MySql {
                sid: u,
                tag: String::new(),
                gno,
            });
        }
        assert_eq!(m.to_string(), format!("{u}:1-2:4"));
    }

    #[test]
    fn mariadb_lists() {
        let s = GtidSet::parse("0-1-10, 5-2-3..5-2-4").unwrap();
        let g = |domain, server, seq| GtidValue::MariaDb {
            domain,
            server,
            seq,
        };
        assert!(s.contains(&g(0, 1, 10)));
        assert!(!s.contains(&g(0, 1, 1)), "D-S-N is that GTID only");
        assert!(!s.contains(&g(0, 1, 9)));
        assert!(!s.contains(&g(0, 1, 11)));
        assert!(!s.contains(&g(0, 2, 10)));
        assert!(s.contains(&g(5, 2, 3)));
        assert!(s.contains(&g(5, 2, 4)));
        assert!(!s.contains(&g(5, 2, 2)));
        assert_eq!(GtidValue::parse("0-1-10").unwrap(), g(0, 1, 10));
        assert!(GtidSet::parse("0-1").is_err());
        assert!(GtidSet::parse("0-1-4..0-2-9").is_err());
        assert!(GtidSet::parse("0-1-9..0-1-4").is_err());
        let old = GtidSet::parse("0-1-3:4").unwrap_err();
        assert!(old.contains("D-S-A..D-S-B"), "{old}");
        // Displayed as parsed.
        assert_eq!(s.to_string(), "0-1-10,5-2-3..5-2-4");
        assert_eq!(GtidSet::parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn one_gtid_is_not_a_range() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        for bad in [
            "0-1-5..0-1-9".to_string(),
            "0-1-5,0-1-6".into(),
            format!("{u}:1-5"),
            format!("{u}:1:2"),
            format!("{u}:tag:3-4"),
        ] {
            assert!(GtidValue::parse(&bad).is_err(), "{bad}");
        }
        assert!(GtidValue::parse(&format!("{u}:tag:3")).is_ok());
        assert!(GtidValue::parse("0-1-5..0-1-5").is_err());
    }
}
