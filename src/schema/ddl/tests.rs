use super::*;

fn cols(d: &Ddl) -> Vec<(String, String)> {
    match d {
        Ddl::CreateTable {
            body: CreateBody::Definitions { columns, .. },
            ..
        } => columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.text.clone()))
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn column_attributes_the_parser_lacks_are_read() {
    let d = parse(
        "CREATE TABLE t (a NATIONAL CHAR(3), b VARCHAR(3) BINARY, c CHAR(2) ASCII, \
         d TEXT CHARSET latin1, e INT(10) ZEROFILL UNSIGNED, f INT AS (e + 1) PERSISTENT, \
         g BLOB COMPRESSED, h REAL(5,2), i LONG VARCHAR, j CHAR(4) CHARACTER SET binary, \
         k TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, l INT VISIBLE, \
         `m``n` ENUM('x','y''z') CHARACTER SET latin1)",
    )
    .unwrap();
    assert_eq!(
        cols(&d),
        [
            ("a", "nchar(3)"),
            ("b", "varchar(3)"),
            ("c", "char(2)"),
            ("d", "text"),
            ("e", "int(10) unsigned"),
            ("f", "int"),
            ("g", "blob"),
            ("h", "double(5,2)"),
            ("i", "mediumtext"),
            ("j", "char(4)"),
            ("k", "timestamp(6)"),
            ("l", "int"),
            ("m`n", "enum('x','y''z')"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn statements_that_change_no_table() {
    for s in [
        "CREATE VIEW v AS SELECT 1",
        "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
        "GRANT ALL ON *.* TO x",
        "DROP VIEW v",
        "ALTER USER x IDENTIFIED BY 'y'",
        "RENAME USER a TO b",
        "CREATE SEQUENCE s",
    ] {
        assert_eq!(parse(s), Ok(Ddl::Other), "{s}");
    }
    assert_eq!(
        parse("CREATE TEMPORARY TABLE t (a INT)"),
        Ok(Ddl::Temporary)
    );
    assert!(matches!(
        parse("CREATE TABLE t2 SELECT * FROM t"),
        Ok(Ddl::CreateTable {
            body: CreateBody::Select,
            ..
        })
    ));
}

#[test]
fn unreadable_parts_name_their_table() {
    let e = parse("ALTER TABLE db.t ADD COLUMN c FROB(3)").unwrap_err();
    assert_eq!(
        e.tables,
        [TableName {
            db: Some("db".into()),
            name: "t".into()
        }]
    );
    assert!(parse("CREATE TABLE").is_err());
}

#[test]
fn column_types_as_the_parser_renders_them() {
    use crate::schema::types::TypeKind as K;
    let d = parse(
        "CREATE TABLE t (a SERIAL, b BOOLEAN, c DOUBLE PRECISION, d INT(11) UNSIGNED ZEROFILL, \
         e DECIMAL(10,2) UNSIGNED, f TIMESTAMP, g TIME(3), h CHAR, i CHARACTER VARYING(10), \
         j VARBINARY(10), k BIT(8), l YEAR, m POINT, n LINESTRING, o POLYGON, p JSON, \
         q MEDIUMINT UNSIGNED, r FLOAT(7,3) UNSIGNED, s REAL UNSIGNED, u NUMERIC(5,2), \
         v DEC(5,2), w GEOMETRYCOLLECTION, x INTEGER UNSIGNED, y TINYTEXT, z LONGBLOB, \
         aa DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), \
         ab VARCHAR(5) NOT NULL DEFAULT '' COMMENT 'a, b', ac INT GENERATED ALWAYS AS (a + 1) VIRTUAL)",
    )
    .unwrap();
    let Ddl::CreateTable {
        body: CreateBody::Definitions { columns, .. },
        ..
    } = d
    else {
        panic!()
    };
    let kinds: Vec<(K, bool)> = columns
        .iter()
        .map(|c| (c.ty.kind.clone(), c.ty.unsigned))
        .collect();
    assert_eq!(
        kinds,
        [
            (K::Int(8), true),
            (K::Int(1), false),
            (K::Double, false),
            (K::Int(4), true),
            (K::Decimal(10, 2), true),
            (K::Timestamp(0), false),
            (K::Time(3), false),
            (K::Char(1), false),
            (K::VarChar(10), false),
            (K::VarBinary(10), false),
            (K::Bit(8), false),
            (K::Year, false),
            (K::Geometry, false),
            (K::Geometry, false),
            (K::Geometry, false),
            (K::Json, false),
            (K::Int(3), true),
            (K::Float, true),
            (K::Double, true),
            (K::Decimal(5, 2), false),
            (K::Decimal(5, 2), false),
            (K::Geometry, false),
            (K::Int(4), true),
            (K::Text(1), false),
            (K::Blob(4), false),
            (K::DateTime(6), false),
            (K::VarChar(5), false),
            (K::Int(4), false),
        ]
    );
    assert!(columns[0].unique);
}

#[test]
fn functional_indexes_add_hidden_columns_and_expressions_are_not_read() {
    let d = parse(
        "CREATE TABLE t (id INT, j JSON, name VARCHAR(100) AS (j->>'$.name') VIRTUAL, \
         c INT CHECK (c->'$.x' > 0) DEFAULT (j->>'$.c'), INDEX i ((id + 1)), b TEXT)",
    )
    .unwrap();
    assert_eq!(
        cols(&d).iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["id", "j", "name", "c", "b", "!hidden!i!0!0"]
    );
    let Ok(Ddl::CreateIndex { hidden, .. }) = parse("CREATE INDEX k ON t ((id * 2), b(3))") else {
        panic!()
    };
    assert_eq!(hidden.len(), 1);
    assert_eq!(hidden[0].name, "!hidden!k!0!0");
}
