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

/// The project's own fixture binlogs (`fixtures/<scenario>/mariadb-bin.NNNNNN` and the
/// truncated copy).
pub fn project_binlogs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let is_binlog = (name.starts_with("mariadb-bin.") && !name.ends_with(".tsv"))
                || name == "truncated.bin";
            if is_binlog {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// Runs `mariadb-binlog ARGS FILE` and returns its standard output; fails the test when
/// the program is missing or exits non-zero.
pub fn run_mariadb_binlog(args: &[&str], file: &Path) -> String {
    let out = std::process::Command::new("mariadb-binlog")
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run mariadb-binlog ({e}); install mariadb-client (see .ci/run)")
        });
    assert!(
        out.status.success(),
        "mariadb-binlog {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A file under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// What a run of the tool gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A `binlog-tool` command line being built.
pub struct Tool(std::process::Command);

/// `binlog-tool ARGS...`.
pub fn tool(args: &[&str]) -> Tool {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_binlog-tool"));
    c.args(args);
    Tool(c)
}

impl Tool {
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Tool {
        self.0.arg(a);
        self
    }

    pub fn args<I, S>(mut self, a: I) -> Tool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.0.args(a);
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Tool {
        self.0.env(k, v);
        self
    }

    /// Runs it and captures everything.
    pub fn run(mut self) -> Run {
        let out = self.0.output().expect("run binlog-tool");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs it and requires exit status 0.
    pub fn ok(self) -> Run {
        let desc = format!("{:?}", self.0);
        let r = self.run();
        assert_eq!(r.code, 0, "{desc} failed:\n{}\n{}", r.stdout, r.stderr);
        r
    }
}
