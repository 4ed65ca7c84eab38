//! `decode --format parquet`: DuckDB (tests/parquet_duckdb.py) reads the parts, and every
//! row and value equals `decode --format jsonl`'s for the fixtures and the shared corpus;
//! a table whose columns change gets a new part; filters apply; a zero date refuses, or
//! is written as NULL and counted; nothing is left behind on failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fixture, manifest, root, shared_fixtures, tool};

/// The Python with the duckdb package: $BINLOG_TOOL_DUCKDB_PYTHON, else the venv that
/// .ci/run makes (target/duckdb-venv). Missing, the tests fail.
fn duckdb_python() -> PathBuf {
    let p = std::env::var_os("BINLOG_TOOL_DUCKDB_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/duckdb-venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "DuckDB is missing: {} cannot import duckdb (.ci/run makes the venv: \
         python3 -m venv target/duckdb-venv && target/duckdb-venv/bin/pip install duckdb)",
        p.display()
    );
    p
}

/// Runs the comparison of (parquet dir, jsonl file, values nulled) triples.
fn compare_with_duckdb(triples: &[(PathBuf, PathBuf, u64)]) -> String {
    let mut c = Command::new(duckdb_python());
    c.arg(root().join("tests/parquet_duckdb.py"));
    for (dir, jsonl, nulled) in triples {
        c.arg(dir).arg(jsonl).arg(nulled.to_string());
    }
    let out = c.output().expect("run parquet_duckdb.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "Parquet and jsonl differ:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The count of `--invalid-values null`'s note (0 without one).
fn nulled(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("binlog-tool: note: ")?
                .split_once(" value(s) Parquet cannot hold")
                .and_then(|(n, _)| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Decodes `files` with `sel` as jsonl and as Parquet (values Arrow cannot hold as NULL)
/// into `work/name.{jsonl,parquet}`; `None` when jsonl fails (then Parquet must too).
fn both(
    work: &Path,
    name: &str,
    files: &[PathBuf],
    sel: &[&str],
) -> Option<(PathBuf, PathBuf, u64)> {
    let jsonl = work.join(format!("{name}.jsonl"));
    let dir = work.join(format!("{name}.parquet"));
    let j = tool(&["decode", "--format", "jsonl", "-o"])
        .arg(&jsonl)
        .args(sel)
        .args(files)
        .run();
    let p = tool(&[
        "decode",
        "--format",
        "parquet",
        "--invalid-values",
        "null",
        "-o",
    ])
    .arg(&dir)
    .args(sel)
    .args(files)
    .run();
    if j.code == 2 {
        assert_eq!(
            p.code, 2,
            "{name}: jsonl failed ({}) but Parquet did not",
            j.stderr
        );
        assert!(!dir.exists(), "{name}: a failed run left {}", dir.display());
        return None;
    }
    assert_eq!(
        p.code, j.code,
        "{name}: jsonl {}, Parquet {}",
        j.stderr, p.stderr
    );
    Some((dir, jsonl, nulled(&p.stderr)))
}

/// The fixtures' tables that decode (fx.t_temporal_old's old-format columns cannot be).
fn fixture_selection(scenario: &str) -> Vec<String> {
    let Ok(cols) = std::fs::read_to_string(fixture(&format!("{scenario}/expected/columns.tsv")))
    else {
        return Vec::new();
    };
    let mut tables: Vec<&str> = cols
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|t| *t != "t_temporal_old")
        .collect();
    tables.sort();
    tables.dedup();
    let mut sel: Vec<String> = tables
        .iter()
        .flat_map(|t| ["-t".to_string(), format!("fx.{t}")])
        .collect();
    sel.extend(["-t".into(), "fx_extra.%".into()]);
    sel
}

fn binlogs(scenario: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture(scenario))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("mariadb-bin.") && !n.ends_with(".tsv"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn fixtures_read_by_duckdb_equal_jsonl() {
    let work = tempfile::tempdir().unwrap();
    let mut triples = Vec::new();
    for scenario in [
        "row_full",
        "row_minimal",
        "row_noblob",
        "row_compressed",
        "statement",
    ] {
        let sel = fixture_selection(scenario);
        let sel: Vec<&str> = sel.iter().map(String::as_str).collect();
        let t = both(work.path(), scenario, &binlogs(scenario), &sel)
            .unwrap_or_else(|| panic!("{scenario}: jsonl fails"));
        triples.push(t);
    }
    // row_full's zero dates and zero TIMESTAMPs are written as NULL, each counted.
    assert!(triples[0].2 > 0, "row_full has zero dates");
    let out = compare_with_duckdb(&triples);
    assert!(
        out.contains("fx.t_temporal") || out.contains("rows"),
        "{out}"
    );
    // Every MySQL type of the fixtures was compared: the tables are all there.
    for t in [
        "t_int",
        "t_decimal",
        "t_float",
        "t_temporal",
        "t_string",
        "t_text",
        "t_enum_set",
        "t_bit",
        "t_json",
        "t_geom",
    ] {
        assert!(
            triples[0]
                .0
                .join(format!("fx.{t}/part-0.parquet"))
                .is_file(),
            "{t}"
        );
    }
}

#[test]
fn corpus_read_by_duckdb_equals_jsonl() {
    let Some(dir) = shared_fixtures() else { return };
    let work = tempfile::tempdir().unwrap();
    let mut triples = Vec::new();
    for (i, row) in manifest(&dir).iter().enumerate() {
        if let Some(t) = both(
            work.path(),
            &format!("c{i}"),
            std::slice::from_ref(&row.path),
            &[],
        ) {
            triples.push(t);
        }
    }
    assert!(!triples.is_empty());
    let out = compare_with_duckdb(&triples);
    let rows: usize = out
        .lines()
        .filter_map(|l| {
            l.split(", ")
                .nth(1)?
                .strip_suffix(" rows")?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(rows > 100, "the corpus has row changes: {out}");
}

/// The column names of a part.
fn columns(part: &Path) -> Vec<String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let r = SerializedFileReader::new(std::fs::File::open(part).unwrap()).unwrap();
    r.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect()
}

#[test]
fn a_table_whose_columns_change_gets_a_new_part() {
    // fx.t_ddl is altered between its changes (row_full's DDL adds a column).
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("out");
    tool(&["decode", "--format", "parquet", "-t", "fx.t_ddl", "-o"])
        .arg(&dir)
        .args(binlogs("row_full"))
        .ok();
    let p0 = dir.join("fx.t_ddl/part-0.parquet");
    let p1 = dir.join("fx.t_ddl/part-1.parquet");
    assert!(p0.is_file() && p1.is_file());
    assert!(!dir.join("fx.t_ddl/part-2.parquet").exists());
    let (c0, c1) = (columns(&p0), columns(&p1));
    assert_ne!(c0, c1, "the parts have the same columns");
    assert!(c1.len() > c0.len(), "{c0:?} then {c1:?}");
}

#[test]
fn filters_and_part_size_apply() {
    let work = tempfile::tempdir().unwrap();
    let files = binlogs("row_full");
    let mut triples = Vec::new();
    for (name, sel) in [
        ("tables", &["-t", "fx.t_int", "-t", "fx.t_bulk"][..]),
        (
            "kinds",
            &["-t", "fx.t_bulk", "--sql-type", "update,delete"][..],
        ),
        (
            "position",
            &["-t", "fx.t_bulk", "--start-position", "4"][..],
        ),
    ] {
        triples.push(both(work.path(), name, &files, sel).unwrap());
    }
    let mut tables: Vec<String> = std::fs::read_dir(&triples[0].0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    tables.sort();
    assert_eq!(tables, ["fx.t_bulk", "fx.t_int"]);
    // Tiny parts: a new part after each batch (fx.t_int changes in both files, and a
    // batch holds one file's), all of them read back in order.
    let dir = work.path().join("small.parquet");
    tool(&[
        "decode",
        "--format",
        "parquet",
        "--part-size",
        "1",
        "-t",
        "fx.t_int",
        "-o",
    ])
    .arg(&dir)
    .args(&files)
    .ok();
    let parts = std::fs::read_dir(dir.join("fx.t_int")).unwrap().count();
    assert_eq!(parts, 2);
    let jsonl = work.path().join("small.jsonl");
    tool(&["decode", "--format", "jsonl", "-t", "fx.t_int", "-o"])
        .arg(&jsonl)
        .args(&files)
        .ok();
    triples.push((dir, jsonl, 0));
    let out = compare_with_duckdb(&triples);
    assert!(out.contains("update") || out.contains("rows"), "{out}");
}

#[test]
fn a_zero_date_refuses_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("out");
    let r = tool(&["decode", "--format", "parquet", "-t", "fx.t_temporal", "-o"])
        .arg(&dir)
        .args(binlogs("row_full"))
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    let line = r.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("mariadb-bin.000001: at offset "), "{line}");
    assert!(line.contains("fx.t_temporal column "), "{line}");
    assert!(line.contains("0000-00-00"), "{line}");
    assert!(line.contains("--invalid-values null"), "{line}");
    let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // With null: written, and counted.
    let r = tool(&[
        "decode",
        "--format",
        "parquet",
        "--invalid-values",
        "null",
        "-t",
        "fx.t_temporal",
        "-o",
    ])
    .arg(&dir)
    .args(binlogs("row_full"))
    .ok();
    assert!(nulled(&r.stderr) > 0, "{}", r.stderr);
    assert!(dir.join("fx.t_temporal/part-0.parquet").is_file());
}

#[test]
fn a_directory_with_files_is_refused() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("keep"), b"x").unwrap();
    let r = tool(&["decode", "--format", "parquet", "-t", "fx.t_int", "-o"])
        .arg(work.path())
        .args(binlogs("row_full"))
        .run();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not empty"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 1);
    // An empty directory is filled.
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    tool(&["decode", "--format", "parquet", "-t", "fx.t_int", "-o"])
        .arg(&empty)
        .args(binlogs("row_full"))
        .ok();
    assert!(empty.join("fx.t_int/part-0.parquet").is_file());
    // Parquet needs a directory; the Parquet options need Parquet.
    let r = tool(&["decode", "--format", "parquet"])
        .args(binlogs("row_full"))
        .run();
    assert_eq!(r.code, 2);
    let r = tool(&["decode", "--part-size", "1M"])
        .args(binlogs("row_full"))
        .run();
    assert_eq!(r.code, 2);
}
