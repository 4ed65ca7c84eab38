//! Cells, key choice and comparisons.

use super::*;
use crate::row::column::{Column, ColumnType};

fn col(t: ColumnType, meta: &[u8], nullable: bool) -> Column {
    Column::new(t, meta, nullable)
}

#[test]
fn cells_pack_absent_null_and_values() {
    let c = Cells::from_raw(4, &[(1, None), (3, Some(&b"ab"[..]))]).unwrap();
    let v: Vec<Cell> = c.iter().collect();
    assert_eq!(
        v,
        [Cell::Absent, Cell::Null, Cell::Absent, Cell::Value(b"ab")]
    );
    assert!(c.has_absent());
    let k = c.pick(&[3, 1]).unwrap();
    assert_eq!(
        k.iter().collect::<Vec<_>>(),
        [Cell::Value(b"ab"), Cell::Null]
    );
    let over = Cells::from_raw(4, &[(0, Some(&b"x"[..])), (3, None)]).unwrap();
    let merged = c.overlay(&over).unwrap();
    let merged: Vec<Cell> = merged.iter().collect();
    assert_eq!(
        merged,
        [Cell::Value(b"x"), Cell::Null, Cell::Absent, Cell::Null]
    );
    // An empty value is not NULL, and NULL is not absent.
    let e = Cells::from_raw(1, &[(0, Some(&b""[..]))]).unwrap();
    let n = Cells::from_raw(1, &[(0, None)]).unwrap();
    let a = Cells::from_raw(1, &[]).unwrap();
    assert_ne!(e, n);
    assert_ne!(n, a);
    assert!(Cells::from_raw(2, &[(1, None), (0, None)]).is_err());
}

#[test]
fn key_is_primary_then_unique_without_nulls_then_every_column() {
    let mut d = TableDesc {
        columns: vec![
            col(ColumnType::LONG, &[], true),
            col(ColumnType::LONG, &[], false),
            col(ColumnType::LONG, &[], false),
        ],
        unsigned: vec![false; 3],
        names: vec!["a".into(), "b".into(), "c".into()],
        primary: vec![],
        unique: vec![("ua".into(), vec![0]), ("ubc".into(), vec![2, 1])],
    };
    let k = choose_key(&d);
    assert_eq!(k.kind, KeyKind::Unique("ubc".into()));
    assert_eq!(k.columns, [2, 1]);
    d.primary = vec![1];
    assert_eq!(choose_key(&d).kind, KeyKind::Primary);
    d.primary.clear();
    d.unique.truncate(1);
    let k = choose_key(&d);
    assert_eq!(k.kind, KeyKind::AllColumns);
    assert_eq!(k.columns, [0, 1, 2]);
}

#[test]
fn float_bits_and_nulls_decide() {
    let same = |c: Column, a: Cell, b: Cell| compare::same_cell(&c, a, b);
    let f = col(ColumnType::FLOAT, &[4], true);
    let zero = 0f32.to_le_bytes();
    let minus_zero = (-0f32).to_le_bytes();
    assert!(same(f, Cell::Value(&zero), Cell::Value(&zero)));
    assert!(!same(f, Cell::Value(&zero), Cell::Value(&minus_zero)));
    assert!(!same(f, Cell::Null, Cell::Value(&zero)));
    assert!(same(f, Cell::Absent, Cell::Value(&zero)));
    assert!(same(f, Cell::Null, Cell::Null));
}

#[test]
fn mysql_json_compares_as_documents() {
    use crate::row::json::{self, Json};
    let j = col(ColumnType::JSON, &[4], true);
    let doc = Json::Object(vec![
        (b"a".as_slice().into(), Json::Int16(1)),
        (b"b".as_slice().into(), Json::String(b"x".as_slice().into())),
    ]);
    let mut bin = Vec::new();
    json::encode(&doc, &mut bin).unwrap();
    // The same document with slack after it, as an in-place update can leave it.
    let mut slack = bin.clone();
    slack.extend_from_slice(&[0, 0]);
    let framed = |b: &[u8]| {
        let mut v = (b.len() as u32).to_le_bytes().to_vec();
        v.extend_from_slice(b);
        v
    };
    let (a, b) = (framed(&bin), framed(&slack));
    assert!(compare::same_cell(&j, Cell::Value(&a), Cell::Value(&b)));
    let other = Json::Int16(2);
    let mut ob = Vec::new();
    json::encode(&other, &mut ob).unwrap();
    let o = framed(&ob);
    assert!(!compare::same_cell(&j, Cell::Value(&a), Cell::Value(&o)));
    // Bytes that are no document never equal anything else.
    let junk = framed(&[0xff, 1, 2]);
    assert!(!compare::same_cell(&j, Cell::Value(&junk), Cell::Value(&a)));
}
