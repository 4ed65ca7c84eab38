#!/usr/bin/env bash
# snapshot-compare.sh - time `binlog-tool snapshot` against
# `mariadb-dump --single-transaction` on the same database of a running server.
#
# Usage:  benches/snapshot-compare.sh SOCKET [DB]
#
# Without DB, creates (once) the database `snapbench`: table `big` with 1,000,000
# rows and tables `t1`..`t3` with 300,000 rows each, six columns of common types
# (INT, INT, VARCHAR(60), DOUBLE, DATETIME(3), DECIMAL(12,2)), InnoDB.
#
# Environment:
#   BINLOG_TOOL  the binlog-tool binary (default target/release/binlog-tool)
#   RUNS         timed runs per command (default 3); the median is printed
#   USER_NAME    user to connect as (default root)
#   OUT          directory for the outputs (default a new mktemp dir, removed)
#
# Commands timed (all write a file in OUT, all against the same socket):
#   mariadb-dump --single-transaction DB > OUT/dump.sql
#   binlog-tool snapshot --db DB --threads 1 -o OUT/snap.bin
#   binlog-tool snapshot --db DB --threads 4 -o OUT/snap.bin
# and, for the several-tables case, the same three on t1,t2,t3 only.

set -euo pipefail

[[ $# -ge 1 && -S $1 ]] || { echo "usage: $0 SOCKET [DB]" >&2; exit 2; }
SOCK=$1
DB=${2:-snapbench}
RUNS=${RUNS:-3}
USER_NAME=${USER_NAME:-root}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TOOL=${BINLOG_TOOL:-$HERE/target/release/binlog-tool}
[[ -x $TOOL ]] || { echo "build first: cargo build --release ($TOOL missing)" >&2; exit 2; }
if [[ -z ${OUT:-} ]]; then
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi
CLIENT=(mariadb --no-defaults -S "$SOCK" -u "$USER_NAME")

if [[ -z ${2:-} ]]; then
    if [[ $("${CLIENT[@]}" -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='snapbench'") != 4 ]]; then
        echo "creating snapbench (1.9 M rows)..." >&2
        "${CLIENT[@]}" -e "
          DROP DATABASE IF EXISTS snapbench; CREATE DATABASE snapbench; USE snapbench;
          CREATE TABLE big (id INT PRIMARY KEY, a INT, b VARCHAR(60), c DOUBLE, d DATETIME(3),
                            e DECIMAL(12,2)) ENGINE=InnoDB;
          INSERT INTO big SELECT seq, seq*7, CONCAT('row-', seq, '-', MD5(seq)), seq/3,
                                 '2024-01-01' + INTERVAL seq SECOND, seq/100 FROM seq_1_to_1000000;
          CREATE TABLE t1 LIKE big; INSERT INTO t1 SELECT * FROM big WHERE id <= 300000;
          CREATE TABLE t2 LIKE big; INSERT INTO t2 SELECT * FROM big WHERE id <= 300000;
          CREATE TABLE t3 LIKE big; INSERT INTO t3 SELECT * FROM big WHERE id <= 300000;
          ANALYZE TABLE big, t1, t2, t3;" >/dev/null
    fi
fi

# median of RUNS wall-clock times of "$@"
time_it() {
    local times=()
    for _ in $(seq "$RUNS"); do
        local s e
        s=$(date +%s.%N)
        "$@"
        e=$(date +%s.%N)
        times+=("$(echo "$e - $s" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

dump() { mariadb-dump --no-defaults -S "$SOCK" -u "$USER_NAME" --single-transaction "$DB" "$@" > "$OUT/dump.sql"; }
snap() { "$TOOL" snapshot --socket "$SOCK" --user "$USER_NAME" --db "$DB" "$@" -o "$OUT/snap.bin" > /dev/null; rm -f "$OUT/snap.bin"; }

printf '%-58s %8s\n' "command ($RUNS runs, median)" "seconds"
printf '%-58s %8.2f\n' "mariadb-dump --single-transaction $DB > file" "$(time_it dump)"
printf '%-58s %8.2f\n' "binlog-tool snapshot --db $DB --threads 1" "$(time_it snap --threads 1)"
printf '%-58s %8.2f\n' "binlog-tool snapshot --db $DB --threads 4" "$(time_it snap --threads 4)"
if [[ -z ${2:-} ]]; then
    printf '%-58s %8.2f\n' "mariadb-dump --single-transaction $DB t1 t2 t3 > file" "$(time_it dump t1 t2 t3)"
    printf '%-58s %8.2f\n' "binlog-tool snapshot --table t1,t2,t3 --threads 1" "$(time_it snap --table t1,t2,t3 --threads 1)"
    printf '%-58s %8.2f\n' "binlog-tool snapshot --table t1,t2,t3 --threads 3" "$(time_it snap --table t1,t2,t3 --threads 3)"
fi
