#!/usr/bin/env bash
# check-100k.sh - time `binlog-tool flashback --check` on a 100,000-row selection (or
# ROWS rows), with each --check-memory budget asked for.
#
# Usage:  benches/check-100k.sh [ROWS [MEMORY...]]
#         benches/check-100k.sh 1000000 64M 8M 1G
#
# Starts a private MariaDB (temporary datadir and socket, no network, ROW format with FULL
# metadata), fills a table of ROWS rows (default 100000; INT key and six columns of
# common types), makes a mistake that touches every row (an UPDATE of all, then a DELETE
# of every tenth), changes 3 rows since, and times, with peak memory (/usr/bin/time), for
# each MEMORY (default: 64M, the default budget, and 8M; past the budget the touched rows
# are spilled to sorted runs in a temporary file, and stderr says how many):
#   flashback FILE --check --check-memory MEMORY --dry-run                 (exit 1, 3 conflicts)
#   flashback FILE --check --check-memory MEMORY --on-conflict skip -o undo.bin
#
# Environment:
#   BINLOG_TOOL  the binlog-tool binary (default target/release/binlog-tool)

set -euo pipefail

ROWS=${1:-100000}
shift || true
MEMORY=("$@")
[[ ${#MEMORY[@]} -gt 0 ]] || MEMORY=(64M 8M)
HERE=$(cd "$(dirname "$0")/.." && pwd)
TOOL=${BINLOG_TOOL:-$HERE/target/release/binlog-tool}
[[ -x $TOOL ]] || { echo "build first: cargo build --release ($TOOL missing)" >&2; exit 2; }
DIR=$(mktemp -d)
SOCK=$DIR/mysqld.sock
cleanup() {
    mariadb-admin --no-defaults -S "$SOCK" -u root shutdown 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
ROOT_USER=()
[[ $(id -u) == 0 ]] && ROOT_USER=(--user=root)

mariadb-install-db --no-defaults --datadir="$DIR/data" --auth-root-authentication-method=normal \
    --skip-test-db "${ROOT_USER[@]}" >/dev/null 2>&1
mariadbd --no-defaults --datadir="$DIR/data" --socket="$SOCK" --skip-networking \
    --log-bin="$DIR/bin" --server-id=1 --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
    --sync-binlog=0 --log-error="$DIR/error.log" --pid-file="$DIR/pid" "${ROOT_USER[@]}" >/dev/null 2>&1 &
for _ in $(seq 600); do
    mariadb --no-defaults -S "$SOCK" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
done
SQL=(mariadb --no-defaults -S "$SOCK" -u root)

"${SQL[@]}" -e "CREATE DATABASE cb; USE cb; CREATE TABLE cb.t (id INT NOT NULL PRIMARY KEY, a INT,
    b VARCHAR(40), c DOUBLE, d DECIMAL(12,3), f FLOAT, e DATETIME(6)) ENGINE=InnoDB;
    INSERT INTO cb.t SELECT seq, seq, CONCAT('row ', seq), seq / 7, seq + 0.125, seq / 3,
    '2026-11-21 10:00:00.5' + INTERVAL seq SECOND FROM seq_1_to_$ROWS;"
"${SQL[@]}" -e "FLUSH BINARY LOGS"
FILE=$("${SQL[@]}" -N -e "SHOW MASTER STATUS" | cut -f1)
"${SQL[@]}" -e "UPDATE cb.t SET a = a + 1, b = CONCAT(b, '!'); DELETE FROM cb.t WHERE id % 10 = 0;"
"${SQL[@]}" -e "FLUSH BINARY LOGS"
"${SQL[@]}" -e "UPDATE cb.t SET a = -1 WHERE id IN (1, 2, 3)"

CONN=(--socket "$SOCK" --user root --mycnf /dev/null)
echo "rows: $ROWS; binlog: $(stat -c %s "$DIR/$FILE") bytes"
export TMPDIR=$DIR
for mem in "${MEMORY[@]}"; do
    for args in "--dry-run" "--on-conflict skip -o $DIR/undo.bin"; do
        echo "--check-memory $mem $args:"
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e s, %M KB peak RSS" "$TOOL" flashback "$DIR/$FILE" --check "${CONN[@]}" \
            --check-memory "$mem" $args || echo "(exit status $?)"
    done
done
