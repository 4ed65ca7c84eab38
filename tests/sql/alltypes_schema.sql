-- A schema with one column of every MariaDB column type family, for the end-to-end
-- tests of decode, cut and locate. Database `pt`.
SET time_zone = '+00:00';
SET timestamp = 1700100000;
CREATE DATABASE pt CHARACTER SET utf8mb4;
USE pt;
CREATE TABLE kinds (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, bi BIGINT,
  biu BIGINT UNSIGNED, f FLOAT, d DOUBLE, dc DECIMAL(20,6), dcu DECIMAL(65,30) UNSIGNED,
  b1 BIT(1), b17 BIT(17), y YEAR, da DATE, tm TIME, tm3 TIME(3), dt DATETIME, dt6 DATETIME(6),
  ts TIMESTAMP NULL DEFAULT NULL, ts2 TIMESTAMP(2) NULL DEFAULT NULL,
  c CHAR(12) CHARACTER SET latin1, cu CHAR(40), vc VARCHAR(300), vb VARBINARY(40), bn BINARY(6),
  tx TEXT, mt MEDIUMTEXT, bl BLOB, lb LONGBLOB, js JSON, en ENUM('red','green','blue'),
  st SET('a','b','c','d','e','f','g','h','i','j'), g GEOMETRY NULL, pnt POINT NULL, u UUID NULL, ip INET6 NULL
) ENGINE=InnoDB;
CREATE TABLE acct (
  id INT NOT NULL PRIMARY KEY, owner VARCHAR(20) NOT NULL, balance DECIMAL(12,2) NOT NULL,
  UNIQUE KEY uk_owner (owner)
) ENGINE=InnoDB;
CREATE TABLE nokey (a INT, b VARCHAR(10), c DOUBLE) ENGINE=InnoDB;
