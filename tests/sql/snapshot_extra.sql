-- Tables for the snapshot tests beyond fixtures/gen/schema.sql (database `fx`):
-- database `sx`, with what a snapshot must also get right: values over 64 KiB, UCS2 and
-- UTF-16 text, ENUM members that need unescaping and converting, generated and invisible
-- columns, tables without a key or with a prefix key, foreign keys between tables that
-- sort child first, a zero in an AUTO_INCREMENT column, wide BIT and SET values.
SET timestamp = 1700000300;
SET time_zone = '+00:00';
CREATE DATABASE sx CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE sx;

CREATE TABLE big_values (
  id INT NOT NULL PRIMARY KEY,
  mb MEDIUMBLOB,
  lb LONGBLOB,
  lt LONGTEXT CHARACTER SET utf8mb4,
  mt MEDIUMTEXT CHARACTER SET latin1
) ENGINE=InnoDB;
INSERT INTO big_values VALUES
  (1, (SELECT GROUP_CONCAT(CHAR(seq % 256) ORDER BY seq SEPARATOR '') FROM seq_0_to_65599),
      REPEAT(x'00FF7F80', 50000),
      (SELECT GROUP_CONCAT(CONCAT('line ', seq, ': ünïcödé 😀 日本語') ORDER BY seq SEPARATOR '\n') FROM seq_1_to_3000),
      REPEAT('é', 70000)),
  (2, '', '', '', ''),
  (3, NULL, NULL, NULL, NULL);

CREATE TABLE wide_chars (
  id INT NOT NULL PRIMARY KEY,
  cu CHAR(5) CHARACTER SET ucs2,
  v16 VARCHAR(10) CHARACTER SET utf16,
  c32 CHAR(3) CHARACTER SET utf32,
  cb CHAR(4) CHARACTER SET binary,
  c1 CHAR(3) CHARACTER SET cp1251,
  gb VARCHAR(10) CHARACTER SET gbk
) ENGINE=InnoDB;
INSERT INTO wide_chars VALUES
  (1, 'ab  ', 'x😀y', 'é ', x'01000000', 'абв', '中文'),
  (2, '', '', '', '', '', ''),
  (3, '  ', ' ', ' ', x'00000000', ' ', ' '),
  (4, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE odd_members (
  id INT NOT NULL PRIMARY KEY,
  e ENUM('plain', 'it''s', 'back\\slash', 'com,ma', 'dq"x', 'é', 'tab	in', 'nl\nin') CHARACTER SET latin1,
  -- (no member outside the BMP: the server's catalog, and so SHOW CREATE TABLE, keeps
  -- column definitions in utf8mb3 and turns such a member into '?')
  e8 ENUM('ü', 'ß', '€') CHARACTER SET utf8mb4,
  s SET('a', 'b''c', 'é') CHARACTER SET latin1
) ENGINE=InnoDB;
INSERT INTO odd_members VALUES
  (1, 'it''s', '€', 'a,b''c,é'), (2, 'back\\slash', 'ß', ''), (3, 'é', 'ü', 'é'),
  (4, 'nl\nin', NULL, NULL), (5, 'com,ma', 'ü', 'a'), (6, 'dq"x', 'ü', 'b''c');

CREATE TABLE generated (
  id INT NOT NULL PRIMARY KEY,
  a INT,
  v INT AS (a * 2) VIRTUAL,
  s VARCHAR(20) AS (CONCAT('x', a)) STORED,
  h INT INVISIBLE DEFAULT 7,
  KEY (s)
) ENGINE=InnoDB;
INSERT INTO generated (id, a, h) VALUES (1, 1, 1), (2, NULL, NULL), (3, -5, 3);
INSERT INTO generated (id, a) VALUES (4, 10);

CREATE TABLE no_key (a INT, b VARCHAR(10), c DOUBLE) ENGINE=InnoDB;
INSERT INTO no_key VALUES (1, 'x', 0.5), (1, 'x', 0.5), (2, NULL, NULL), (NULL, NULL, NULL);

CREATE TABLE prefix_key (
  a VARCHAR(20) NOT NULL, b INT NOT NULL, c TEXT,
  PRIMARY KEY (b, a(5))
) ENGINE=InnoDB;
INSERT INTO prefix_key VALUES ('hello world', 1, 'x'), ('hello', 2, NULL);

CREATE TABLE b_parent (id INT NOT NULL PRIMARY KEY, name VARCHAR(10)) ENGINE=InnoDB;
CREATE TABLE a_child (
  id INT NOT NULL PRIMARY KEY, parent INT,
  FOREIGN KEY (parent) REFERENCES b_parent (id)
) ENGINE=InnoDB;
INSERT INTO b_parent VALUES (1, 'one'), (2, 'two');
INSERT INTO a_child VALUES (10, 1), (11, 2), (12, NULL);

SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
CREATE TABLE auto_zero (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(5)) ENGINE=InnoDB;
INSERT INTO auto_zero VALUES (0, 'zero'), (1, 'one'), (5, 'five');
SET SESSION sql_mode = DEFAULT;

CREATE TABLE aria_t (id INT NOT NULL PRIMARY KEY, v VARCHAR(10)) ENGINE=Aria;
INSERT INTO aria_t VALUES (1, 'a'), (2, NULL);

CREATE TABLE composite (a INT NOT NULL, b VARCHAR(10) NOT NULL, c BIGINT UNSIGNED, PRIMARY KEY (b, a)) ENGINE=InnoDB;
INSERT INTO composite VALUES (2, 'b', 18446744073709551615), (1, 'b', 0), (1, 'a', NULL);

CREATE TABLE empty_t (id INT NOT NULL PRIMARY KEY, v TEXT) ENGINE=InnoDB;
