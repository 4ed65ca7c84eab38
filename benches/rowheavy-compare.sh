#!/usr/bin/env bash
# Issue 16's ratios on the row-heavy corpus (../shared/bench/make-rowheavy-corpus.sh):
# each binlog-tool command and its mariadb-binlog counterpart, alternating, both writing to
# /dev/null; prints the median wall time of RUNS runs of each and their ratio, and the peak
# heap (anonymous memory) of flashback on the single-transaction file.
# usage: benches/rowheavy-compare.sh CORPUS_DIR [BINARY]   (RUNS=3 by default)
set -euo pipefail
dir=${1:?usage: rowheavy-compare.sh CORPUS_DIR [BINARY]}
bt=${2:-$(dirname "$0")/../target/release/binlog-tool}
runs=${RUNS:-3}
f2=$dir/mysql-bin.000002
f3=$dir/mysql-bin.000003

# Median wall seconds of `runs` runs of a shell command.
median() {
    local times=()
    for _ in $(seq "$runs"); do
        local s e
        s=$(date +%s.%N)
        bash -c "$1" > /dev/null 2>&1 || true
        e=$(date +%s.%N)
        times+=("$(echo "$e - $s" | bc)")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

row() {
    local name=$1 ours=$2 theirs=$3 a b
    a=$(median "$ours")
    b=$(median "$theirs")
    printf '| `%s` | %.2f s | %.2f s | %.1fx |\n' "$name" "$a" "$b" "$(echo "$b / $a" | bc -l)"
}

echo "| command | binlog-tool | mariadb-binlog | ratio |"
echo "|---|---|---|---|"
row "decode --format jsonl" "$bt decode --format jsonl $f2" "mariadb-binlog -v $f2"
row "decode --format sql" "$bt decode $f2" "mariadb-binlog -v $f2"
row "flashback --skip-ddl -o -" "$bt flashback --skip-ddl -o - $f2" "mariadb-binlog --flashback $f2"
row "events --format jsonl" "$bt events --format jsonl $f2" "mariadb-binlog $f2"
row "decode --format jsonl (000003)" "$bt decode --format jsonl $f3" "mariadb-binlog -v $f3"

# Peak heap of flashback on the file ending in one 0.9 GB transaction, sampled from /proc.
"$bt" flashback --skip-ddl -o - "$f3" > /dev/null 2>&1 &
pid=$!
peak=0
while kill -0 $pid 2> /dev/null; do
    kb=$(awk '/^RssAnon:/ {print $2}' /proc/$pid/status 2> /dev/null || echo 0)
    [ "${kb:-0}" -gt "$peak" ] && peak=$kb
    sleep 0.05
done
wait $pid || true
echo "flashback heap on $(basename "$f3"): $((peak / 1024)) MB"
