//! A schema read from scripts and followed through DDL.

use super::*;

fn all(_: &str, _: &str) -> bool {
    true
}

fn names(c: &Catalog, db: &str, t: &str) -> Vec<String> {
    c.table(db, t)
        .unwrap_or_else(|| panic!("no table {db}.{t}"))
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

fn apply(c: Catalog, db: &str, stmts: &[&str]) -> Result<Catalog> {
    let mut h = SchemaHistory::new(c, Start::Position);
    for (i, s) in stmts.iter().enumerate() {
        h.apply_statement(s, db, i as u64, &all)?;
    }
    Ok(h.current().as_ref().clone())
}

#[test]
fn a_dump_is_read_with_databases_keys_and_charsets() {
    let dump = r#"/*M!999999\- enable the sandbox mode */
-- MariaDB dump
/*!40101 SET NAMES utf8mb4 */;
CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;
USE `shop`;
DROP TABLE IF EXISTS `orders`;
CREATE TABLE `orders` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `note` varchar(20) DEFAULT 'a,b;c' COMMENT 'x (y), z',
  `price` decimal(10,2) DEFAULT NULL,
  `st` enum('x','y') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),
  `we``ird` int(11) INVISIBLE DEFAULT NULL,
  `g` int(11) GENERATED ALWAYS AS (`id` + 1) VIRTUAL,
  PRIMARY KEY (`id`,`note`(5)),
  UNIQUE KEY `u` (`price`),
  KEY `k` (`price`),
  CONSTRAINT `c1` CHECK (`price` > 0)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci
 PARTITION BY KEY (`id`)
PARTITIONS 2;
INSERT INTO `orders` VALUES (1,'a;b',NULL,NULL,NULL,NULL,DEFAULT);
CREATE TABLE `sv` (`a` int(11) DEFAULT NULL) ENGINE=InnoDB WITH SYSTEM VERSIONING;
"#;
    let c = read_script(dump, &all).unwrap();
    let o = c.table("shop", "orders").unwrap();
    assert_eq!(
        names(&c, "shop", "orders"),
        ["id", "note", "price", "st", "j", "we`ird", "g"]
    );
    assert_eq!(o.primary_key_indexes(), Some(vec![0, 1]));
    assert_eq!(o.unique_key_indexes(), vec![("u".to_string(), vec![2])]);
    assert_eq!(o.columns[1].charset.as_deref(), Some("latin1"));
    assert_eq!(o.columns[3].charset.as_deref(), Some("utf8mb4"));
    assert!(o.columns[5].invisible);
    assert_eq!(names(&c, "shop", "sv"), ["a", "row_start", "row_end"]);
    // Case differences, where only one table matches.
    assert!(c.table("SHOP", "Orders").is_some());
    // Written back and read again: the same tables.
    let again = read_script(&write_script(&c), &all).unwrap();
    for t in c.tables() {
        let u = again.table(&t.db, &t.name).unwrap();
        assert_eq!(
            (
                &t.columns
                    .iter()
                    .map(|c| (&c.name, &c.ty, &c.charset))
                    .collect::<Vec<_>>(),
                &t.primary_key,
                &t.unique_keys
            ),
            (
                &u.columns
                    .iter()
                    .map(|c| (&c.name, &c.ty, &c.charset))
                    .collect::<Vec<_>>(),
                &u.primary_key,
                &u.unique_keys
            )
        );
    }
}

#[test]
fn show_create_table_output_is_read() {
    let text = "*************************** 1. row ***************************\n       Table: t\n\
                Create Table: CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  PRIMARY KEY (`a`)\n) ENGINE=InnoDB\n";
    let c = read_script(text, &all).unwrap();
    assert_eq!(names(&c, "any", "t"), ["a"]);
}

#[test]
fn alter_table_clauses_move_columns_and_keys() {
    let c = read_script(
        "CREATE TABLE d.t (a INT PRIMARY KEY, b VARCHAR(10), c TEXT) DEFAULT CHARSET=latin1;",
        &all,
    )
    .unwrap();
    let c = apply(
        c,
        "d",
        &[
            "ALTER TABLE t ADD COLUMN x INT FIRST, ADD y INT AFTER b, ALGORITHM=INPLACE, LOCK=NONE",
            "ALTER TABLE t DROP COLUMN c, ADD COLUMN IF NOT EXISTS y INT, ADD COLUMN (p INT, q BLOB)",
            "ALTER TABLE t CHANGE COLUMN b `b 2` VARCHAR(20) CHARSET utf8mb4 BINARY AFTER p",
            "ALTER TABLE t MODIFY x BIGINT UNSIGNED ZEROFILL NOT NULL, RENAME COLUMN a TO `A2`",
            "ALTER ONLINE IGNORE TABLE t WAIT 3 ENGINE=InnoDB ROW_FORMAT=DYNAMIC, DROP KEY nothing, FORCE",
            "/*!50100 ALTER TABLE t COMMENT 'x' */",
        ],
    )
    .unwrap();
    assert_eq!(names(&c, "d", "t"), ["x", "A2", "y", "p", "b 2", "q"]);
    // Clauses name the columns as they were: swaps; AFTER a column added just before.
    let c = apply(
        c,
        "d",
        &[
            "ALTER TABLE t RENAME COLUMN x TO y, RENAME COLUMN y TO x",
            "ALTER TABLE t CHANGE p q INT, CHANGE q p BLOB, ADD r INT AFTER A2, ADD s INT AFTER r",
        ],
    )
    .unwrap();
    assert_eq!(
        names(&c, "d", "t"),
        ["y", "A2", "r", "s", "x", "q", "b 2", "p"]
    );
    assert!(apply(c.clone(), "d", &["ALTER TABLE t RENAME COLUMN x TO y"]).is_err());
    let t = c.table("d", "t").unwrap();
    assert_eq!(t.primary_key_indexes(), Some(vec![1]));
    assert_eq!(t.columns[6].charset.as_deref(), Some("utf8mb4"));
    assert_eq!(t.columns[0].ty.text, "bigint unsigned");
    // A key follows its column's renames; a key part whose column is dropped goes.
    let c = apply(
        c,
        "d",
        &[
            "ALTER TABLE t ADD UNIQUE KEY uk (r, s)",
            "ALTER TABLE t RENAME COLUMN r TO r2, DROP COLUMN s, RENAME COLUMN A2 TO a3",
        ],
    )
    .unwrap();
    let t = c.table("d", "t").unwrap();
    assert_eq!(t.unique_key_indexes(), vec![("uk".to_string(), vec![2])]);
    assert_eq!(t.primary_key.as_ref().unwrap().columns, ["a3"]);
    // Renames (chains, swaps through a temporary name), LIKE, drop and re-create.
    let c = apply(
        c,
        "d",
        &[
            "RENAME TABLE t TO t_old, t_old TO t_tmp",
            "CREATE TABLE t LIKE t_tmp",
            "ALTER TABLE t_tmp RENAME TO d2.moved",
            "DROP TABLE IF EXISTS t /* generated by server */",
            "CREATE TABLE t (z DATETIME(3))",
            "CREATE TABLE IF NOT EXISTS t (other INT)",
            "TRUNCATE t",
            "INSERT INTO t VALUES (NOW())",
        ],
    )
    .unwrap();
    assert_eq!(
        names(&c, "d2", "moved"),
        ["y", "a3", "r2", "x", "q", "b 2", "p"]
    );
    assert_eq!(names(&c, "d", "t"), ["z"]);
    assert!(c.table("d", "t_tmp").is_none());
}

#[test]
fn ddl_that_does_not_fit_or_cannot_be_read_is_an_error_on_selected_tables() {
    let c = read_script(
        "CREATE TABLE d.t (a INT, b INT); CREATE TABLE d.u (a INT);",
        &all,
    )
    .unwrap();
    let err = apply(c.clone(), "d", &["ALTER TABLE t DROP COLUMN nope"]).unwrap_err();
    assert!(
        err.to_string().contains("column nope is not in d.t"),
        "{err}"
    );
    let err = apply(c.clone(), "d", &["ALTER TABLE t FROBNICATE"]).unwrap_err();
    assert!(err.to_string().contains("not understood"), "{err}");
    assert!(
        err.to_string().contains("ALTER TABLE t FROBNICATE"),
        "{err}"
    );
    // On a table outside the selection: the table becomes unknown, the walk goes on.
    let only_u = |_: &str, t: &str| t == "u";
    let mut h = SchemaHistory::new(c, Start::Position);
    h.apply_statement("ALTER TABLE t FROBNICATE", "d", 7, &only_u)
        .unwrap();
    assert!(h.current().table("d", "t").unwrap().unknown.is_some());
    // A live server's schema holds for no DDL on a selected table.
    let mut h = SchemaHistory::new(h.current().as_ref().clone(), Start::Now);
    h.apply_statement("ALTER TABLE t ADD c INT", "d", 9, &only_u)
        .unwrap();
    let err = h
        .apply_statement("ALTER TABLE u ADD c INT", "d", 9, &only_u)
        .unwrap_err();
    assert!(err.to_string().contains("--schema-from-server"), "{err}");
}
