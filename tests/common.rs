//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The project's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/fixtures`, or `None` (with a printed note) when it is absent.
pub fn shared_fixtures() -> Option<PathBuf> {
    let p = root().join("../shared/fixtures");
    if p.join("MANIFEST.tsv").is_file() {
        Some(p)
    } else {
        eprintln!("note: ../shared/fixtures is absent; skipping the shared corpus checks");
        None
    }
}

/// One row of the corpus manifest.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    pub path: PathBuf,
    pub rel: String,
    pub size: u64,
    pub server_version: String,
    pub checksum: String,
    pub events: usize,
    pub histogram: Vec<(String, usize)>,
    pub notes: String,
}

pub fn manifest(dir: &Path) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read manifest");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (ip, is, iv, ic, ie, ih, inotes) = (
        col("path"),
        col("size"),
        col("server_version"),
        col("checksum"),
        col("events"),
        col("histogram"),
        col("notes"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let histogram = f[ih]
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|kv| {
                    let (k, v) = kv.rsplit_once(':').unwrap();
                    (k.to_string(), v.parse().unwrap())
                })
                .collect();
            ManifestRow {
                path: dir.join(f[ip]),
                rel: f[ip].to_string(),
                size: f[is].parse().unwrap(),
                server_version: f[iv].to_string(),
                checksum: f[ic].to_string(),
                events: f[ie].parse().unwrap(),
                histogram,
                notes: f.get(inotes).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}
