#!/usr/bin/env bash
# gen-huge-last-txn.sh - make a MariaDB binlog of about 1 GiB whose last
# transaction is about 0.9 GB: the memory check of `binlog-tool flashback`
# (its heap must stay far below the size of that transaction).
#
# Usage:  benches/gen-huge-last-txn.sh OUT_DIR
#
# A private `mariadbd --no-defaults` on a mktemp datadir (own socket, no
# TCP; ROW format, FULL row metadata, CRC32) logs ~120 MB of small InnoDB
# transactions, then one INSERT ... SELECT of 900k rows of ~1 KB into a
# BLACKHOLE table (rows are logged, not stored: fast), and the file is
# copied to OUT_DIR/mariadb-bin.000001. The server and the temp dir are
# removed on exit. Needs mariadbd, mariadb-install-db, mariadb; run as root
# or as a user that may start mariadbd. Takes a few minutes on 2 cores.

set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT_DIR=$1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gen-huge-txn.XXXXXX")
PID=""
cleanup() {
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/binlog" "$OUT_DIR"
mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$WORK/data" \
  --auth-root-authentication-method=normal --skip-test-db >"$WORK/install.log" 2>&1
mariadbd --no-defaults --user="$(id -un)" --datadir="$WORK/data" \
  --socket="$WORK/sock" --pid-file="$WORK/pid" --log-error="$WORK/err.log" \
  --skip-networking --server-id=1 --log-bin="$WORK/binlog/mariadb-bin" \
  --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
  --binlog-checksum=CRC32 --max-binlog-size=1073741824 --sync-binlog=0 \
  --innodb-flush-log-at-trx-commit=0 --max-allowed-packet=64M \
  --plugin-load-add=ha_blackhole &
PID=$!
sql() { mariadb --no-defaults --socket="$WORK/sock" --user=root "$@"; }
for _ in $(seq 1 300); do sql -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done

sql <<'SQL'
SET timestamp = 1893492000;
CREATE DATABASE h;
CREATE TABLE h.small (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;
CREATE TABLE h.sink (id INT PRIMARY KEY, a VARCHAR(500), b VARCHAR(500), n BIGINT) ENGINE=BLACKHOLE;
SQL
# ~120 MB of small transactions: batches of 1000 single-row inserts.
for round in $(seq 0 199); do
  sql -e "SET timestamp = 1893492000 + $round; USE h;
    INSERT INTO small SELECT seq + $round * 1000, REPEAT('s', 150) FROM seq_1_to_1000;
    UPDATE small SET v = REPEAT('u', 180) WHERE id > $round * 1000;
    DELETE FROM small WHERE id > $round * 1000 + 500;"
done
# The big one: one statement, one transaction.
sql -e "SET timestamp = 1893499200; USE h; INSERT INTO h.sink
  SELECT seq, REPEAT('a', 500), REPEAT('b', 480), seq FROM seq_1_to_900000"
sql -e 'FLUSH BINARY LOGS'
cp "$WORK/binlog/mariadb-bin.000001" "$OUT_DIR/"
ls -l "$OUT_DIR/mariadb-bin.000001"
