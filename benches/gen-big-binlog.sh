#!/usr/bin/env bash
# gen-big-binlog.sh - make one big, realistic MariaDB binlog file for
# benchmarking binlog-tool against mariadb-binlog.
#
# Usage:  benches/gen-big-binlog.sh OUT_DIR [SIZE_MB]      (SIZE_MB: 1024)
#
# What it does:
#   1. creates a datadir with mariadb-install-db in a mktemp dir and starts
#      a private `mariadbd --no-defaults` on it (own socket, no TCP, ROW
#      binlog with FULL row metadata and CRC32 checksums, server_id 1,
#      max_binlog_size at its maximum of 1 GiB, InnoDB durability turned
#      off so bulk work goes fast);
#   2. creates a small shop schema (customers, items, orders, order_lines,
#      audit_log, sessions, orders_archive) using ints, decimals, floats,
#      enum, varchar/char, text, date, datetime(6), timestamp(6),
#      JSON (a LONGTEXT in MariaDB) and blobs;
#   3. bulk-loads customers and items with INSERT ... SELECT over the
#      sequence engine's seq_1_to_N tables (medium-sized transactions);
#   4. runs the workload in rounds until mariadb-bin.000001 reaches SIZE_MB:
#      each round is one CALL of a stored procedure running thousands of
#      small OLTP transactions server-side (new order, payment, delivery,
#      session churn, cancellation, profile edit, autocommitted audit row:
#      single- and multi-row INSERT, UPDATE, DELETE), followed by a few
#      batch jobs (a bulk audit import, price changes of 50k and 300k
#      items, an archive job that moves old orders in one transaction with
#      INSERT ... SELECT + DELETE: 1.4 to 17 MB each at the default size);
#      about 82% of the way, one big transaction (an UPDATE of all 2M item
#      rows, ~107 MB of binlog at the default size);
#   5. closes the file with FLUSH BINARY LOGS (if the server did not rotate
#      it by itself) and copies it to OUT_DIR/mariadb-bin.000001.
#
# All data is computed from sequence numbers and the iteration counter (no
# RAND(), no wall clock: every session pins @@timestamp), so every run
# logs the same rows (checked: same decoded rows, same file size). The
# files are not byte-identical: the server stamps its own events (format
# description, rotate) with the wall clock, and its background
# Binlog_checkpoint events land wherever they land.
#
# The server and the temp dir are removed on exit, failure or signal. Set
# KEEP_WORK=1 to keep the temp dir (datadir, error log) for a post-mortem.
#
# Needs: mariadbd, mariadb-install-db, mariadb, mariadb-admin (MariaDB
# 10.5+ for binlog_row_metadata; written against 10.11), run as root or as
# a user that may start mariadbd. 1 GiB takes about 1.5 minutes on an idle
# 2-core machine (4.5 minutes while it was busy with other builds), and
# needs a few GB of disk in TMPDIR (datadir, 2 GB InnoDB redo log, binlogs).

set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [SIZE_MB]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
OUT_DIR=$1
SIZE_MB=${2:-1024}
if ! [[ $SIZE_MB =~ ^[0-9]+$ ]] || ((SIZE_MB < 16 || SIZE_MB > 1024)); then
  echo "SIZE_MB must be an integer from 16 to 1024 (max_binlog_size is 1 GiB)" >&2
  exit 2
fi
TARGET_BYTES=$((SIZE_MB * 1024 * 1024))

for tool in mariadbd mariadb-install-db mariadb mariadb-admin; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

# ------------------------------------------------------------ sizes
# Everything scales with SIZE_MB so a small file is a miniature of the big
# one. At 1024 MB: 200k customers, 2M items (the big UPDATE touches all of
# them: 2 images x ~28 bytes x 2M rows = ~110 MB of row data).
CUSTOMERS=$((200000 * SIZE_MB / 1024))
ITEMS=$((2000000 * SIZE_MB / 1024))
# OLTP transactions per stored-procedure call: ~50 MB of binlog at 20000,
# so the file overshoots SIZE_MB by at most ~5%.
ROUND=$((20000 * SIZE_MB / 1024))
((ROUND >= 1000)) || ROUND=1000
BIG_AT=$((TARGET_BYTES * 82 / 100))   # start the big transaction at 82%, so
                                    # ~50 MB of small ones follow it

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gen-big-binlog.XXXXXX")
SERVER_PID=""

cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    # Our own server only, by pid. Its datadir is thrown away below, so a
    # clean shutdown would only cost time.
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f $WORK/err.log ]]; then
    echo "---- last lines of the server error log:" >&2
    tail -n 20 "$WORK/err.log" >&2 || true
  fi
  if [[ -n ${KEEP_WORK:-} ]]; then
    echo "KEEP_WORK set: leaving $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

START=$SECONDS
log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { printf '%s: %s\n' "$0" "$*" >&2; exit 1; }

BINLOG=$WORK/binlog/mariadb-bin.000001
NEXT_BINLOG=$WORK/binlog/mariadb-bin.000002
binlog_size() { stat -c %s "$BINLOG"; }
binlog_mb() { echo $(($(binlog_size) / 1024 / 1024)); }
# True once the first file is complete: big enough, or rotated by the server.
first_file_done() { [[ -e $NEXT_BINLOG ]] || (($(binlog_size) >= TARGET_BYTES)); }

# ------------------------------------------------------------ server
mkdir -p "$WORK/binlog" "$WORK/tmp"
log "creating a datadir in $WORK"
mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$WORK/data" \
  --auth-root-authentication-method=normal --skip-test-db \
  >"$WORK/install-db.log" 2>&1 \
  || { cat "$WORK/install-db.log" >&2; die "mariadb-install-db failed"; }

SERVER_OPTS=(
  --no-defaults
  --user="$(id -un)"
  --datadir="$WORK/data"
  --socket="$WORK/sock"
  --pid-file="$WORK/mariadbd.pid"
  --log-error="$WORK/err.log"
  --tmpdir="$WORK/tmp"             # big transactions spill their binlog cache here
  --skip-networking
  --server-id=1
  --log-bin="$WORK/binlog/mariadb-bin"
  --binlog-format=ROW
  --binlog-row-image=FULL          # the default; flashback needs before-images
  --binlog-row-metadata=FULL
  --binlog-checksum=CRC32
  --max-binlog-size=1073741824
  --binlog-cache-size=4M
  --sync-binlog=0
  --default-time-zone=+00:00
  --character-set-server=utf8mb4
  --collation-server=utf8mb4_general_ci
  --max-allowed-packet=64M
  # Fast, non-durable bulk work: the data is thrown away afterwards.
  --innodb-buffer-pool-size=2G
  --innodb-log-file-size=2G
  --innodb-log-buffer-size=64M
  --innodb-flush-log-at-trx-commit=0
  --innodb-doublewrite=0
  --innodb-io-capacity=2000
  --innodb-autoinc-lock-mode=2
)

log "starting mariadbd"
mariadbd "${SERVER_OPTS[@]}" >/dev/null 2>&1 &
SERVER_PID=$!
for ((i = 0; i < 600; i++)); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "mariadbd exited during startup"
  [[ -S $WORK/sock ]] && grep -q 'ready for connections' "$WORK/err.log" 2>/dev/null && break
  sleep 0.1
done
((i < 600)) || die "mariadbd did not become ready within 60 s"

# sql - run SQL from stdin in a fresh session. Every session is pinned to
# row format and UTC; the caller pins @@timestamp.
sql() {
  { echo "SET SESSION binlog_format = ROW; SET time_zone = '+00:00';"; cat; } \
    | mariadb --no-defaults --socket="$WORK/sock" --user=root \
        --default-character-set=utf8mb4 --batch shop
}

# ------------------------------------------------------------ schema
log "creating the schema"
mariadb --no-defaults --socket="$WORK/sock" --user=root \
  -e 'CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci'
sql <<'SQL'
SET timestamp = 1704067200;   -- 2024-01-01 00:00:00 UTC

CREATE TABLE customers (
  id           INT UNSIGNED NOT NULL PRIMARY KEY,
  name         VARCHAR(64) NOT NULL,
  email        VARCHAR(128) NOT NULL,
  country      CHAR(2) NOT NULL,
  balance      DECIMAL(14,2) NOT NULL,
  credit_limit DECIMAL(10,0) NOT NULL,
  created_at   DATETIME(6) NOT NULL,
  last_login   DATETIME(6) NULL,
  prefs        JSON NULL,
  notes        TEXT NULL
) ENGINE=InnoDB;

CREATE TABLE items (
  id         INT UNSIGNED NOT NULL PRIMARY KEY,
  warehouse  SMALLINT UNSIGNED NOT NULL,
  qty        INT NOT NULL,
  price      DECIMAL(10,2) NOT NULL,
  weight     FLOAT NOT NULL,
  updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE orders (
  id          BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  status      ENUM('new','paid','shipped','delivered','cancelled') NOT NULL,
  total       DECIMAL(12,2) NOT NULL,
  lines_count TINYINT UNSIGNED NOT NULL,
  discount    DOUBLE NULL,
  created_at  DATETIME(6) NOT NULL,
  updated_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  ship_date   DATE NULL,
  address     VARCHAR(255) NOT NULL,
  attrs       JSON NULL,
  KEY (customer_id)
) ENGINE=InnoDB;

CREATE TABLE orders_archive LIKE orders;

CREATE TABLE order_lines (
  order_id BIGINT UNSIGNED NOT NULL,
  line_no  TINYINT UNSIGNED NOT NULL,
  item_id  INT UNSIGNED NOT NULL,
  qty      SMALLINT NOT NULL,
  price    DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
) ENGINE=InnoDB;

CREATE TABLE audit_log (
  id      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at      DATETIME(6) NOT NULL,
  actor   INT UNSIGNED NOT NULL,
  action  VARCHAR(32) NOT NULL,
  detail  TEXT NULL,
  payload BLOB NULL
) ENGINE=InnoDB;

CREATE TABLE sessions (
  id          CHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  expires     DATETIME(6) NOT NULL,
  data        MEDIUMBLOB NOT NULL
) ENGINE=InnoDB;
SQL

# The OLTP mix. One call runs transactions p_from .. p_to-1; transaction i
# is fully determined by i (h is a multiplicative hash of it), so the data
# never depends on timing. @@timestamp advances by one second every 25
# transactions, which makes the event timestamps look like a busy day.
# New-order transactions use their i as the order id, so the other kinds
# can pick an existing order: o = an earlier i with i % 20 < 9.
sql <<SQL
DELIMITER //
CREATE PROCEDURE oltp(IN p_from BIGINT, IN p_to BIGINT)
BEGIN
  DECLARE i BIGINT DEFAULT p_from;
  DECLARE h, o BIGINT;
  DECLARE k, n INT;
  DECLARE c INT UNSIGNED;
  WHILE i < p_to DO
    SET h = (i * 2654435761) % 4294967291;
    SET k = i % 20;
    SET c = 1 + h % $CUSTOMERS;
    SET o = GREATEST(0, i - k - 20 * (1 + h % 40)) + h % 9;
    SET @@timestamp = 1704067200 + i DIV 25;
    CASE
      WHEN k < 9 THEN
        -- new order: 1 order, 1..5 lines (one multi-row insert), stock decrements
        SET n = 1 + h % 5;
        START TRANSACTION;
        INSERT INTO orders (id, customer_id, status, total, lines_count, discount,
                            created_at, address, attrs)
        VALUES (i, c, 'new', 0, n, IF(h % 4 = 0, (h % 30) / 100, NULL),
                NOW(6) + INTERVAL h % 1000000 MICROSECOND,
                CONCAT(h % 9999, ' ', ELT(1 + h % 6, 'Main', 'Oak', 'Pine', 'Maple', 'Cedar', 'Elm'),
                       ' Street, ', ELT(1 + h % 4, 'Springfield', 'Rivertown', 'Lakeside', 'Hill Valley'),
                       ', ', LPAD(h % 100000, 5, '0')),
                IF(h % 3 = 0, NULL,
                   JSON_OBJECT('channel', ELT(1 + h % 3, 'web', 'app', 'phone'),
                               'coupon', IF(h % 7 = 0, CONCAT('SAVE', h % 50), NULL),
                               'gift', h % 11 = 0,
                               'tags', JSON_ARRAY(CONCAT('t', h % 13), CONCAT('t', h % 17)))));
        INSERT INTO order_lines (order_id, line_no, item_id, qty, price)
        SELECT i, seq, 1 + (h * seq) % $ITEMS, 1 + (h + seq) % 4, ((h * seq) % 20000) / 100 + 1
          FROM seq_1_to_5 WHERE seq <= n;
        UPDATE items JOIN order_lines ON items.id = order_lines.item_id
           SET items.qty = items.qty - order_lines.qty, items.updated_at = NOW(6)
         WHERE order_lines.order_id = i;
        UPDATE orders SET total = (SELECT SUM(qty * price) FROM order_lines WHERE order_id = i)
         WHERE id = i;
        COMMIT;
      WHEN k < 13 THEN
        -- payment: customer balance, order status, audit row
        START TRANSACTION;
        UPDATE customers SET balance = balance - (h % 50000) / 100, last_login = NOW(6)
         WHERE id = c;
        UPDATE orders SET status = 'paid' WHERE id = o AND status = 'new';
        INSERT INTO audit_log (at, actor, action, detail)
        VALUES (NOW(6), c, 'payment', CONCAT('order ', o, ' paid by card ending ', LPAD(h % 10000, 4, '0')));
        COMMIT;
      WHEN k < 15 THEN
        -- delivery: a batch of orders shipped (multi-row update)
        START TRANSACTION;
        UPDATE orders SET status = 'shipped', ship_date = DATE(NOW()) + INTERVAL h % 3 DAY
         WHERE id BETWEEN o - 60 AND o AND status IN ('new', 'paid');
        COMMIT;
      WHEN k < 17 THEN
        -- session churn: a new session with a 0.5..4 KB blob, an old one removed
        START TRANSACTION;
        INSERT INTO sessions VALUES (MD5(i), c, NOW(6) + INTERVAL 30 MINUTE,
                                     REPEAT(UNHEX(SHA2(i, 256)), 16 + h % 112));
        DELETE FROM sessions WHERE id = MD5(i - 400);
        COMMIT;
      WHEN k = 17 THEN
        -- cancellation: lines deleted, order marked, stock given back
        START TRANSACTION;
        UPDATE items JOIN order_lines ON items.id = order_lines.item_id
           SET items.qty = items.qty + order_lines.qty, items.updated_at = NOW(6)
         WHERE order_lines.order_id = o;
        DELETE FROM order_lines WHERE order_id = o;
        UPDATE orders SET status = 'cancelled', total = 0 WHERE id = o;
        COMMIT;
      WHEN k = 18 THEN
        -- profile edit: JSON and text columns rewritten
        UPDATE customers
           SET prefs = JSON_OBJECT('lang', ELT(1 + h % 4, 'en', 'de', 'fr', 'es'),
                                   'newsletter', h % 2 = 0, 'theme', ELT(1 + h % 2, 'dark', 'light'),
                                   'updated', i),
               notes = CONCAT('profile edited ', i, ' times; ', REPEAT('note ', h % 20))
         WHERE id = c;
      ELSE
        -- autocommitted single-row insert
        INSERT INTO audit_log (at, actor, action, detail, payload)
        VALUES (NOW(6), c, 'login', NULL, UNHEX(SHA2(i, 512)));
    END CASE;
    SET i = i + 1;
  END WHILE;
END//
DELIMITER ;
SQL

# ------------------------------------------------------------ initial load
log "loading $CUSTOMERS customers and $ITEMS items"
sql <<SQL
SET timestamp = 1704067200;
-- customers in transactions of 10k rows (about 2.5 MB each)
DELIMITER //
CREATE PROCEDURE load_customers()
BEGIN
  DECLARE s INT DEFAULT 0;
  WHILE s < $CUSTOMERS DO
    INSERT INTO customers
    SELECT s + seq,
           CONCAT(ELT(1 + seq % 8, 'Ada', 'Bob', 'Chloe', 'Dmitri', 'Eve', 'Farid', 'Gita', 'Hugo'),
                  ' ', ELT(1 + (seq DIV 8) % 6, 'Smith', 'Garcia', 'Muller', 'Rossi', 'Tanaka', 'Okafor'),
                  ' ', s + seq),
           CONCAT('user', s + seq, '@example.', ELT(1 + seq % 3, 'com', 'org', 'net')),
           ELT(1 + seq % 5, 'US', 'DE', 'FR', 'JP', 'BR'),
           ((s + seq) * 7919 % 10000000) / 100,
           1000 * (1 + seq % 50),
           TIMESTAMP'2020-01-01 00:00:00' + INTERVAL (s + seq) * 613 SECOND
                                          + INTERVAL (s + seq) * 7 % 1000000 MICROSECOND,
           IF(seq % 4 = 0, NULL, TIMESTAMP'2023-06-01 00:00:00' + INTERVAL (s + seq) * 97 SECOND),
           JSON_OBJECT('lang', ELT(1 + seq % 4, 'en', 'de', 'fr', 'es'), 'newsletter', seq % 2 = 0),
           IF(seq % 3 = 0, NULL, CONCAT('imported from legacy CRM, batch ', s DIV 10000))
      FROM seq_1_to_10000
     WHERE s + seq <= $CUSTOMERS;
    SET s = s + 10000;
  END WHILE;
END//
-- items in transactions of 50k rows (about 1.5 MB each)
CREATE PROCEDURE load_items()
BEGIN
  DECLARE s INT DEFAULT 0;
  WHILE s < $ITEMS DO
    INSERT INTO items
    SELECT s + seq, 1 + (s + seq) % 12, 100 + (s + seq) * 31 % 900,
           ((s + seq) * 7907 % 100000) / 100 + 0.99, ((s + seq) % 5000) / 100,
           TIMESTAMP'2023-12-31 00:00:00' + INTERVAL (s + seq) % 86400 SECOND
      FROM seq_1_to_50000
     WHERE s + seq <= $ITEMS;
    SET s = s + 50000;
  END WHILE;
END//
DELIMITER ;
CALL load_customers();
CALL load_items();
DROP PROCEDURE load_customers;
DROP PROCEDURE load_items;
SQL
log "binlog at $(binlog_mb) MB"

# ------------------------------------------------------------ batch jobs
# batch_jobs R - the jobs run after OLTP round R (pinned to that round's
# time). Every round: a bulk audit import (2k rows with blobs, one
# transaction, ~1.4 MB); every 3rd: a price change of 50k items (~3 MB);
# every 5th: a repricing of 15% of the items (~17 MB); every 4th: the
# archive job, moving one round's oldest orders in one transaction (~3 MB).
batch_jobs() {
  local r=$1 lo=$(($1 * ROUND)) hi=$((($1 + 1) * ROUND))
  local t=$((1704067200 + hi / 25))
  {
    echo "SET timestamp = $t;"
    cat <<SQL
INSERT INTO audit_log (at, actor, action, detail, payload)
SELECT NOW(6) - INTERVAL seq SECOND, 1 + ($lo + seq) * 7919 % $CUSTOMERS, 'import',
       CONCAT('nightly import ', $r, ' row ', seq), REPEAT(UNHEX(MD5($lo + seq)), 8)
  FROM seq_1_to_2000;
SQL
    if ((r % 3 == 2)); then
      local first=$((1 + (r * 50000) % ITEMS))
      cat <<SQL
UPDATE items SET price = price * 1.01, updated_at = NOW(6)
 WHERE id BETWEEN $first AND $((first + 49999));
SQL
    fi
    if ((r % 5 == 4)); then
      # a bigger repricing: 300k items (~17 MB at 1 GiB), one transaction
      local n=$((ITEMS * 3 / 20)) first=$((1 + (r * 137777) % (ITEMS / 2)))
      cat <<SQL
UPDATE items SET price = price * 0.97, weight = weight + 0.1, updated_at = NOW(6)
 WHERE id BETWEEN $first AND $((first + n - 1));
SQL
    fi
    if ((r % 4 == 3)); then
      # archive orders of the round before the previous one
      local a=$(((r - 3) * ROUND)) b=$(((r - 2) * ROUND))
      cat <<SQL
START TRANSACTION;
INSERT INTO orders_archive SELECT * FROM orders WHERE id >= $a AND id < $b;
DELETE FROM order_lines WHERE order_id >= $a AND order_id < $b;
DELETE FROM orders WHERE id >= $a AND id < $b;
COMMIT;
SQL
    fi
  } | sql
}

# The big one: every item (2M at 1 GiB) restocked and repriced in one
# transaction, two row images each.
big_transaction() {
  local round=$1
  log "big transaction: UPDATE of $ITEMS items (binlog at $(binlog_mb) MB)"
  sql <<SQL
SET timestamp = 1704067200 + $(( (round + 1) * ROUND / 25 ));
START TRANSACTION;
UPDATE items SET qty = qty + 100, price = price * 1.02, updated_at = NOW(6);
COMMIT;
SQL
  log "big transaction done (binlog at $(binlog_mb) MB)"
}

# ------------------------------------------------------------ workload
round=0
big_done=0
while ! first_file_done; do
  echo "SET timestamp = $((1704067200 + round * ROUND / 25)); CALL oltp($((round * ROUND)), $(((round + 1) * ROUND)));" | sql
  batch_jobs "$round"
  log "round $round done: binlog at $(binlog_mb) MB"
  round=$((round + 1))
  if ((!big_done)) && (($(binlog_size) >= BIG_AT)) && ! first_file_done; then
    big_transaction "$round"
    big_done=1
  fi
done

# Close the file (its last event is then a ROTATE) unless the server
# already rotated it at max_binlog_size.
if [[ ! -e $NEXT_BINLOG ]]; then
  mariadb --no-defaults --socket="$WORK/sock" --user=root -e 'FLUSH BINARY LOGS'
fi
# Copy under a temporary name, then rename: a previous file of the same
# name may be memory-mapped by a running benchmark, and overwriting it in
# place would truncate it under that reader.
mkdir -p "$OUT_DIR"
cp "$BINLOG" "$OUT_DIR/.mariadb-bin.000001.tmp"
chmod 644 "$OUT_DIR/.mariadb-bin.000001.tmp"
mv -f "$OUT_DIR/.mariadb-bin.000001.tmp" "$OUT_DIR/mariadb-bin.000001"
((big_done)) || log "note: the file filled up before the big transaction could run"
log "wrote $OUT_DIR/mariadb-bin.000001 ($(stat -c %s "$OUT_DIR/mariadb-bin.000001") bytes, $round OLTP rounds)"
