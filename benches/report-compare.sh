#!/usr/bin/env bash
# report-compare.sh - time `binlog-tool report` (HTML and JSON) against `binlog-tool bigtxn`
# on the same binlog files; the target is report within 3x of bigtxn.
#
# Usage:  benches/report-compare.sh FILE...
#   e.g.  benches/gen-big-binlog.sh /tmp/bigbinlog && cp /tmp/bigbinlog/mariadb-bin.000001 /tmp/bigbinlog/copy.000001
#         benches/report-compare.sh /tmp/bigbinlog/mariadb-bin.000001 /tmp/bigbinlog/copy.000001
#
# Environment:
#   BINLOG_TOOL  the binary (default: target/release/binlog-tool of this checkout)
#   RUNS         timed runs per command (default 5); the median is reported
#
# The files are read once first (hot page cache). Each run's wall time comes from
# `date +%s.%N`; peak RSS (KiB, the mapped input's resident pages included) from one
# extra run under /usr/bin/time when it is installed. Exit status 1 when report takes
# more than 3x bigtxn's median.

set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 FILE..." >&2; exit 2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BINLOG_TOOL:-$REPO/target/release/binlog-tool}
RUNS=${RUNS:-5}
[[ -x $BIN ]] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }

total=0
for f in "$@"; do
  [[ -f $f ]] || { echo "$f: no such file" >&2; exit 2; }
  total=$((total + $(stat -c %s "$f")))
  cat "$f" > /dev/null
done
echo "files: $# ($total bytes), $(nproc) cores, RUNS=$RUNS"

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {m=int((NR+1)/2); printf "%.3f", a[m]}'; }

# time_cmd NAME CMD...: prints the median seconds of RUNS runs.
time_cmd() {
  local name=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    local a b
    a=$(date +%s.%N)
    "$@" > /dev/null 2>"$OUT/$name.err" || [[ $? -eq 1 ]]
    b=$(date +%s.%N)
    times+=("$(echo "$b - $a" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | median
}

rss() {
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
  else
    echo "?"
  fi
}

t_big=$(time_cmd bigtxn "$BIN" bigtxn "$@")
t_html=$(time_cmd html "$BIN" report "$@" -o "$OUT/report.html")
t_json=$(time_cmd json "$BIN" report --format json "$@" -o "$OUT/report.json")
r_big=$(rss "$BIN" bigtxn "$@")
r_html=$(rss "$BIN" report "$@" -o "$OUT/report.html")

ratio_html=$(echo "$t_html / $t_big" | bc -l)
ratio_json=$(echo "$t_json / $t_big" | bc -l)
printf '%-34s %8s s  max RSS %s KiB\n' "bigtxn FILES" "$t_big" "$r_big"
printf '%-34s %8s s  max RSS %s KiB  (%.2fx bigtxn)\n' "report FILES -o report.html" "$t_html" "$r_html" "$ratio_html"
printf '%-34s %8s s  (%.2fx bigtxn)\n' "report --format json FILES" "$t_json" "$ratio_json"
printf 'report.html: %s bytes\n' "$(stat -c %s "$OUT/report.html")"
if (( $(echo "$ratio_html > 3" | bc -l) )); then
  echo "report is more than 3x bigtxn's time" >&2
  exit 1
fi
