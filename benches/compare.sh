#!/usr/bin/env bash
# compare.sh - time binlog-tool against mariadb-binlog on the same binlog file.
#
# Usage:  benches/compare.sh FILE
#
# Environment:
#   BINLOG_TOOL  the binlog-tool binary (default: target/release/binlog-tool under
#                $CARGO_TARGET_DIR, or ./target, whichever exists)
#   RUNS         timed runs per command (default 3)
#   OUT          directory for raw results (default: a new mktemp dir, kept)
#   HYPERFINE    set to 0 to time with the /usr/bin/time loop even when
#                hyperfine is installed
#
# Pairs measured (each tool command next to its mariadb-binlog counterpart):
#   verify            binlog-tool verify FILE
#                     vs mariadb-binlog FILE > /dev/null
#   events            binlog-tool events --format jsonl FILE > /dev/null
#                     vs mariadb-binlog FILE > /dev/null
#   flashback         binlog-tool flashback --skip-ddl FILE -o - > /dev/null
#                     vs mariadb-binlog --flashback FILE > /dev/null
#                     (both to /dev/null; --skip-ddl because flashback refuses
#                     a range holding DDL, which mariadb-binlog ignores)
#   bigtxn            binlog-tool bigtxn FILE
#                     vs mariadb-binlog FILE | python3 benches/checkBigTran.py
#                     and vs mariadb-binlog FILE > /dev/null
#   decode            binlog-tool decode FILE > /dev/null
#                     vs mariadb-binlog -v FILE > /dev/null
# A pair whose binlog-tool subcommand does not exist yet (per `binlog-tool
# help`) is skipped. Each distinct command is timed once even when it is the
# counterpart of several pairs.
#
# The file is read once before anything is timed so both tools start from a
# hot page cache. Timing uses hyperfine when installed (mean of RUNS runs),
# else a loop of /usr/bin/time. Peak memory (max RSS) always comes from
# /usr/bin/time, in one extra run; for a pipeline it is the largest process
# of the pipeline, not their sum.

set -euo pipefail

[[ $# -eq 1 && -f $1 ]] || { echo "usage: $0 FILE" >&2; exit 2; }
FILE=$(realpath "$1")
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${RUNS:-3}

if [[ -z ${BINLOG_TOOL:-} ]]; then
  for t in "${CARGO_TARGET_DIR:-/nonexistent}/release/binlog-tool" "$REPO/target/release/binlog-tool"; do
    if [[ -x $t ]]; then BINLOG_TOOL=$t; break; fi
  done
fi
[[ -n ${BINLOG_TOOL:-} && -x $BINLOG_TOOL ]] \
  || { echo "$0: no binlog-tool binary; build one or set BINLOG_TOOL" >&2; exit 1; }
for tool in mariadb-binlog python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "$0: /usr/bin/time (GNU time) not found" >&2; exit 1; }

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/binlog-compare.XXXXXX")}
mkdir -p "$OUT"
FLASHBACK_OUT=$OUT/flashback.bin   # binlog-tool flashback writes here (removed at exit)
trap 'rm -f "$FLASHBACK_OUT"' EXIT

# Quoted once here so the command strings below survive `bash -c`.
printf -v T '%q' "$BINLOG_TOOL"
printf -v F '%q' "$FILE"
printf -v PY '%q' "$BENCH_DIR/checkBigTran.py"
printf -v FB '%q' "$FLASHBACK_OUT"

# Subcommands this build has (first word of each line of the command list).
SUBCOMMANDS=$("$BINLOG_TOOL" help | awk '/^Commands:/ {on = 1; next} on && NF {print $1} /^$/ && on {on = 0}')
has() { grep -qx "$1" <<<"$SUBCOMMANDS"; }

# Each timed command gets a short label. PAIRS lists "label-of-tool label-of-baseline".
declare -A CMD=()
ORDER=()
PAIRS=()
add() { CMD[$1]=$2; ORDER+=("$1"); }

add mariadb-binlog "mariadb-binlog $F > /dev/null"
add verify "$T verify $F"
add events-jsonl "$T events --format jsonl $F > /dev/null"
PAIRS+=("verify mariadb-binlog" "events-jsonl mariadb-binlog")
if has flashback; then
  add flashback "$T flashback --skip-ddl $F -o - > /dev/null"
  add mariadb-binlog--flashback "mariadb-binlog --flashback $F > /dev/null"
  PAIRS+=("flashback mariadb-binlog--flashback")
else
  echo "skipping flashback: no such subcommand yet" >&2
fi
if has bigtxn; then
  add bigtxn "$T bigtxn $F > /dev/null"
  add mariadb-binlog+checkBigTran "mariadb-binlog $F | python3 $PY > /dev/null"
  PAIRS+=("bigtxn mariadb-binlog+checkBigTran" "bigtxn mariadb-binlog")
else
  echo "skipping bigtxn: no such subcommand yet" >&2
fi
if has decode; then
  add decode "$T decode $F > /dev/null"
  add mariadb-binlog-v "mariadb-binlog -v $F > /dev/null"
  PAIRS+=("decode mariadb-binlog-v")
else
  echo "skipping decode: no such subcommand yet" >&2
fi

echo "file:        $FILE ($(stat -c %s "$FILE") bytes)"
echo "binlog-tool: $BINLOG_TOOL"
mariadb-binlog --version
echo "runs:        $RUNS per command; raw results in $OUT"
echo

# Warm-up: one read of the whole file, so every command finds it in memory.
cat "$FILE" >/dev/null

# Results, per label: mean wall seconds, stddev, mean CPU seconds (user + system,
# less disturbed than wall time on a shared machine), max RSS and peak
# anonymous RSS in KB.
declare -A MEAN=() SD=() CPU=() RSS=() ANON=()

# memory LABEL - one untimed run under /usr/bin/time: sets RSS[LABEL] (max RSS
# in KB, what GNU time reports) and ANON[LABEL] (peak anonymous RSS in KB,
# i.e. memory the process allocated, sampled from /proc every 20 ms; "-"
# for pipelines). The two differ for binlog-tool because it maps the file:
# the mapped pages count in its RSS although they are the shared page cache.
# A failed command stops the script: timings of a failing command are noise.
memory() {
  local label=$1 log=$OUT/$1.time cmd=${CMD[$1]} tp child="" peak=0 a
  case $cmd in *"|"*) ;; *) cmd="exec $cmd" ;; esac
  /usr/bin/time -f '%e %M' -o "$log" bash -c "set -o pipefail; $cmd" >/dev/null 2>"$OUT/$label.stderr" &
  tp=$!
  while kill -0 "$tp" 2>/dev/null; do
    [[ -n $child ]] || child=$(pgrep -P "$tp" | head -n 1) || true
    if [[ -n $child ]]; then
      a=$(awk '/^RssAnon:/ {print $2}' "/proc/$child/status" 2>/dev/null) || true
      ((${a:-0} > peak)) && peak=$a
    fi
    sleep 0.02
  done
  if ! wait "$tp"; then
    echo "$0: '${CMD[$label]}' failed (stderr in $OUT/$label.stderr)" >&2
    tail -n 5 "$OUT/$label.stderr" >&2
    exit 1
  fi
  RSS[$label]=$(tail -n 1 "$log" | awk '{print $2}')
  case ${CMD[$label]} in *"|"*) ANON[$label]=- ;; *) ANON[$label]=$peak ;; esac
}

# kb_to_mb KB - KB as MB with one decimal ("-" stays "-").
kb_to_mb() { awk -v k="$1" 'BEGIN {if (k == "-") print "-"; else printf "%.1f", k / 1024}'; }

for label in "${ORDER[@]}"; do
  echo "== $label: ${CMD[$label]}"
  memory "$label"
  if [[ ${HYPERFINE:-1} != 0 ]] && command -v hyperfine >/dev/null; then
    hyperfine --style basic --runs "$RUNS" --shell bash \
      --export-json "$OUT/$label.json" -n "$label" "set -o pipefail; ${CMD[$label]}" >&2
    read -r "MEAN[$label]" "SD[$label]" "CPU[$label]" < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.3f %.3f %.3f" % (r["mean"], r["stddev"] or 0, r["user"] + r["system"]))' "$OUT/$label.json")
  else
    # No hyperfine: time RUNS runs with GNU time (10 ms resolution).
    : >"$OUT/$label.times"
    for ((i = 0; i < RUNS; i++)); do
      /usr/bin/time -f '%e %U %S' -a -o "$OUT/$label.times" bash -c "set -o pipefail; ${CMD[$label]}" >/dev/null
    done
    read -r "MEAN[$label]" "SD[$label]" "CPU[$label]" < <(awk '{s += $1; q += $1 * $1; c += $2 + $3; n++}
      END {m = s / n; v = q / n - m * m; printf "%.3f %.3f %.3f\n", m, (v > 0 ? sqrt(v) : 0), c / n}' "$OUT/$label.times")
  fi
  echo "   mean ${MEAN[$label]} s ± ${SD[$label]}, CPU ${CPU[$label]} s, max RSS ${RSS[$label]} KB, peak anon RSS ${ANON[$label]} KB"
done

# ------------------------------------------------------------ summary
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.3f", x / y; else print "n/a"}'; }
row() { # LABEL: the label's own columns
  printf '%-28s %8s %7s %8s %9s %9s' "$1" "${MEAN[$1]}" "${SD[$1]}" "${CPU[$1]}" \
    "$(kb_to_mb "${RSS[$1]}")" "$(kb_to_mb "${ANON[$1]}")"
}
echo
echo "Summary ($(basename "$FILE"), $(($(stat -c %s "$FILE") / 1048576)) MiB, mean of $RUNS runs, hot cache)"
printf '%-28s %8s %7s %8s %9s %9s   %-28s %8s %8s %7s %9s\n' \
  command mean_s stddev cpu_s maxRSS_MB anonRSS_MB counterpart mean_s cpu_s ratio cpu_ratio
for pair in "${PAIRS[@]}"; do
  read -r a b <<<"$pair"
  printf '%s   %-28s %8s %8s %7s %9s\n' "$(row "$a")" "$b" "${MEAN[$b]}" "${CPU[$b]}" \
    "$(ratio "${MEAN[$a]}" "${MEAN[$b]}")" "$(ratio "${CPU[$a]}" "${CPU[$b]}")"
done
echo
echo "Counterparts:"
for label in "${ORDER[@]}"; do
  case $label in mariadb-binlog*) printf '%s\n' "$(row "$label")" ;; esac
done
echo
echo "ratio = binlog-tool mean / counterpart mean (below 1: binlog-tool is faster);"
echo "cpu_ratio the same for CPU time (user + system), steadier on a busy machine."
echo "maxRSS = GNU time's max RSS; for binlog-tool it includes the pages of the mapped file"
echo "(shared page cache). anonRSS = peak anonymous memory (sampled; '-' for pipelines)."
