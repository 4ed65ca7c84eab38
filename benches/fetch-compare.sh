#!/usr/bin/env bash
# fetch-compare.sh - time `binlog-tool fetch` against
# `mariadb-binlog --read-from-remote-server --raw --to-last-log` on the same server: each
# copies every binlog the server has, from its first file to its current end, into an
# empty directory, and the copies are compared with each other byte for byte.
#
# Usage:  benches/fetch-compare.sh [SOCKET]
#         (default /tmp/bt-mdb-corpus/mysqld.sock, the row-heavy corpus server that
#         ../shared/bench/make-rowheavy-corpus.sh starts)
#
# Environment:
#   BINLOG_TOOL  the binlog-tool binary (default target/release/binlog-tool)
#   RUNS         timed runs of each (default 3; the median is reported)
#   DB_USER      user to connect as (default root)
#   TCP          host:port to connect over TCP instead of the socket (both tools)
#   OUT          scratch directory for the copies (default a mktemp dir, removed)
#
# Time is wall time; memory is the peak resident set (/usr/bin/time %M): neither tool
# maps files while copying, so this is their heap, buffers and code.

set -euo pipefail
SOCKET=${1:-/tmp/bt-mdb-corpus/mysqld.sock}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${RUNS:-3}
DB_USER=${DB_USER:-root}
T=${BINLOG_TOOL:-$REPO/target/release/binlog-tool}
[[ -x $T ]] || { echo "$0: no binlog-tool binary at $T (cargo build --release)" >&2; exit 1; }
for tool in mariadb-binlog mariadb /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done
if [[ -n ${TCP:-} ]]; then
  CONN=(--host "${TCP%:*}" --port "${TCP##*:}")
  TOOLCONN=(--host "${TCP%:*}" --port "${TCP##*:}" --ssl-mode DISABLED)
else
  CONN=(--socket "$SOCKET")
  TOOLCONN=(--socket "$SOCKET")
fi
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/fetch-compare.XXXXXX")}
trap 'rm -rf "$OUT"' EXIT

mapfile -t FILES < <(mariadb "${CONN[@]}" -u"$DB_USER" -N -e 'SHOW BINARY LOGS' | awk '{print $1}')
TOTAL=$(mariadb "${CONN[@]}" -u"$DB_USER" -N -e 'SHOW BINARY LOGS' | awk '{s += $2} END {print s}')
echo "server: ${TCP:-$SOCKET}; ${#FILES[@]} binlogs, $TOTAL bytes (${FILES[0]} .. ${FILES[-1]})"

# One timed run: "seconds maxrss_kb".
timed() {
  local log=$OUT/time.log
  /usr/bin/time -o "$log" -f '%e %M' "$@" >/dev/null
  cat "$log"
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Each run starts with no dirty pages left from the previous one (sync is not timed).
run_mariadb_binlog() {
  rm -rf "$OUT/mb" && mkdir -p "$OUT/mb" && sync
  timed mariadb-binlog --read-from-remote-server "${CONN[@]}" -u"$DB_USER" --raw --to-last-log \
    --result-file="$OUT/mb/" "${FILES[0]}"
}

run_fetch() {
  rm -rf "$OUT/bt" && mkdir -p "$OUT/bt" && sync
  timed "$T" fetch "${TOOLCONN[@]}" --user "$DB_USER" --dir "$OUT/bt"
}

# Warm the server's page cache once.
run_mariadb_binlog >/dev/null
declare -a MB_T=() MB_M=() BT_T=() BT_M=()
for ((i = 0; i < RUNS; i++)); do
  read -r t m < <(run_mariadb_binlog); MB_T+=("$t"); MB_M+=("$m")
  read -r t m < <(run_fetch); BT_T+=("$t"); BT_M+=("$m")
done
# The server's open last file has the in-use flag of its FDE set (byte 22); mariadb-binlog
# writes it as sent (clear), fetch as the server has it: that byte may differ there only.
for f in "${FILES[@]}"; do
  d=$(cmp -l "$OUT/mb/$f" "$OUT/bt/$f" || true)
  [[ -z $d || ( $f == "${FILES[-1]}" && $(echo $d) == "22 0 1" ) ]] \
    || { echo "$0: $f differs between the two copies: $d" >&2; exit 1; }
done
mb_t=$(printf '%s\n' "${MB_T[@]}" | median); bt_t=$(printf '%s\n' "${BT_T[@]}" | median)
mb_m=$(printf '%s\n' "${MB_M[@]}" | median); bt_m=$(printf '%s\n' "${BT_M[@]}" | median)
echo "copies identical (${#FILES[@]} files)"
printf '%-70s %8s s %8.1f MB\n' "mariadb-binlog --read-from-remote-server --raw --to-last-log" "$mb_t" "$(bc -l <<<"$mb_m / 1024")"
printf '%-70s %8s s %8.1f MB\n' "binlog-tool fetch --dir DIR" "$bt_t" "$(bc -l <<<"$bt_m / 1024")"
printf 'speed-up %.2fx; runs: mariadb-binlog %s; fetch %s\n' "$(bc -l <<<"$mb_t / $bt_t")" "${MB_T[*]}" "${BT_T[*]}"
