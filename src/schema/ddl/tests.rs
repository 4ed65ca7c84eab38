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
