#!/usr/bin/env bash
# Runs every command that works offline with two builds of binlog-tool on the project's
# fixtures and on the shared corpus (../shared/fixtures, when present), and compares what
# they print (stdout, stderr), their exit statuses and the files they write, byte for byte.
# For refactorings, which must not change any output:
#
#   benches/compare-outputs.sh /path/to/old/binlog-tool target/release/binlog-tool
#
# Exit status 0 when every output is identical, 1 otherwise (the differences are listed).
# KEEP=DIR keeps both sets of outputs in DIR. Times are shown in TZ (default UTC).
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BASE_BIN NEW_BIN" >&2
    exit 2
fi
base_bin=$(realpath "$1")
new_bin=$(realpath "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
shared="$root/../shared/fixtures"
export TZ="${TZ:-UTC}"
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}"

work=$(mktemp -d)
trap 'if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/; fi; rm -rf "$work"' EXIT

# The inputs: every binlog of the fixtures and of the corpus.
inputs=()
while IFS= read -r f; do inputs+=("$f"); done < <(
    find "$root/fixtures" -type f ! -name '*.tsv' ! -name '*.sql' ! -name '*.md' ! -name '*.sh' \
        ! -name '*.py' ! -name '.gitattributes' | sort
    if [ -f "$shared/MANIFEST.tsv" ]; then
        tail -n +2 "$shared/MANIFEST.tsv" | cut -f1 | sed "s|^|$shared/|" | sort
    fi
)

# Cases: one line each, the name and the arguments separated by tabs. Outputs are
# written in the case's own directory, named relative to it.
cases="$work/cases.tsv"
: >"$cases"
add() {
    local IFS=$'\t'
    printf '%s\n' "$*" >>"$cases"
}

index="$work/test.index"
printf '%s\n' "$root/fixtures/row_full/mariadb-bin.000001" "$root/fixtures/row_full/mariadb-bin.000002" >"$index"
bad_index="$work/bad.index"
printf '%s\n' "$root/fixtures/row_full/mariadb-bin.000002" "./missing-bin.000003" "$root/fixtures/row_full/mariadb-bin.000001" >"$bad_index"
schema="$root/fixtures/gen/schema.sql"

n=0
for f in "${inputs[@]}"; do
    n=$((n + 1))
    id="f$(printf '%03d' $n)"
    # Positions, times and a GTID of the file, as the base build reports them.
    json=$("$base_bin" info --format json "$f" 2>/dev/null)
    first_pos=$(jq -r '.[0].first_position // 4' <<<"$json" 2>/dev/null || echo 4)
    end_pos=$(jq -r '.[0].end_position // 4' <<<"$json" 2>/dev/null || echo 4)
    t1=$(jq -r '.[0].first_timestamp // 0' <<<"$json" 2>/dev/null || echo 0)
    t2=$(jq -r '.[0].last_timestamp // 0' <<<"$json" 2>/dev/null || echo 0)
    [[ $first_pos =~ ^[0-9]+$ ]] || first_pos=4
    [[ $end_pos =~ ^[0-9]+$ ]] || end_pos=4
    [[ $t1 =~ ^[0-9]+$ ]] || t1=0
    [[ $t2 =~ ^[0-9]+$ ]] || t2=0
    mid_pos=$(((first_pos + end_pos) / 2))
    mid_time=$(date -d "@$(((t1 + t2) / 2))" '+%Y-%m-%d %H:%M:%S')
    first_time=$(date -d "@$t1" '+%Y-%m-%d %H:%M:%S')
    txns=$("$base_bin" bigtxn --format json --top 0 "$f" 2>/dev/null)
    gtid=$(jq -r 'max_by(.bytes) | .gtid // empty' <<<"$txns" 2>/dev/null)
    # The transaction in the middle of the file: its start and commit time.
    txn_pos=$(jq -r 'sort_by(.start_pos) | .[length / 2 | floor].start_pos // 4' <<<"$txns" 2>/dev/null)
    txn_ts=$(jq -r 'sort_by(.start_pos) | .[length / 2 | floor].last_timestamp // 0' <<<"$txns" 2>/dev/null)
    [[ $txn_pos =~ ^[0-9]+$ ]] || txn_pos=4
    [[ $txn_ts =~ ^[0-9]+$ ]] || txn_ts=0
    txn_time=$(date -d "@$txn_ts" '+%Y-%m-%d %H:%M:%S')

    add "$id.info" info "$f"
    add "$id.info.json" info --format json "$f"
    add "$id.events" events "$f"
    add "$id.events.jsonl" events --format jsonl "$f"
    add "$id.events.range" events --start-position "$mid_pos" --stop-position "$end_pos" "$f"
    add "$id.verify" verify "$f"
    add "$id.verify.q" verify -q "$f"
    add "$id.decode" decode "$f"
    add "$id.decode.jsonl" decode --format jsonl "$f"
    add "$id.decode.schema" decode --schema "$schema" "$f"
    add "$id.decode.o" decode --format jsonl -o out.jsonl "$f"
    add "$id.decode.window" decode --start-position "$mid_pos" --stop-datetime "$mid_time" "$f"
    add "$id.decode.types" decode --sql-type delete,update -d fx "$f"
    add "$id.flashback.dry" flashback --dry-run "$f"
    add "$id.flashback.dry.json" flashback --dry-run --format json --skip-ddl "$f"
    add "$id.flashback.bin" flashback --skip-ddl -o undo.bin "$f"
    add "$id.flashback.bin.noskip" flashback -o undo.bin "$f"
    add "$id.flashback.sql" flashback --skip-ddl --format sql --schema "$schema" -o undo.sql "$f"
    add "$id.flashback.stdout" flashback --skip-ddl -o - "$f"
    add "$id.flashback.table" flashback --skip-ddl -t fx.% --sql-type delete -o undo.bin "$f"
    add "$id.bigtxn" bigtxn "$f"
    add "$id.bigtxn.json" bigtxn --format json --top 0 "$f"
    add "$id.bigtxn.rows" bigtxn --by rows --min-rows 1 "$f"
    add "$id.bigtxn.duration" bigtxn --by duration --min-bytes 1K "$f"
    add "$id.split.dry" split --max-rows 3 --dry-run "$f"
    add "$id.split.rows" split --max-rows 3 -o split.bin "$f"
    add "$id.split.bytes" split --max-bytes 2K -o split.bin "$f"
    add "$id.split.dry.bytes" split --max-bytes 1K --dry-run "$f"
    add "$id.split.drop" split --max-rows 5 --drop-gtids -o split.bin "$f"
    add "$id.locate.first" locate --datetime "$first_time" "$f"
    add "$id.locate.mid" locate --format json --datetime "$mid_time" "$f"
    if [ -n "$gtid" ]; then
        add "$id.locate.gtid" locate --gtid "$gtid" "$f"
        add "$id.locate.gtid.json" locate --format json --gtid "$gtid" "$f"
        add "$id.decode.gtid" decode --include-gtids "$gtid" "$f"
        add "$id.cut.gtid" cut --exclude-gtids "$gtid" -o cut.bin "$f"
    fi
    add "$id.decode.txn" decode --format jsonl --start-position "$txn_pos" --start-datetime "$txn_time" "$f"
    add "$id.flashback.txn" flashback --skip-ddl --stop-datetime "$txn_time" -o undo.bin "$f"
    add "$id.flashback.txn.dry" flashback --skip-ddl --start-position "$txn_pos" --dry-run "$f"
    add "$id.locate.txn" locate --datetime "$txn_time" "$f"
    add "$id.cut.txn" cut --start-datetime "$txn_time" --stop-position "$end_pos" -o cut.bin "$f"
    add "$id.cut.txnpos" cut --start-position "$txn_pos" -o cut.bin "$f"
    add "$id.cut" cut -o cut.bin "$f"
    add "$id.cut.window" cut --start-position "$mid_pos" --stop-datetime "$mid_time" -o cut.bin "$f"
    add "$id.cut.stdout" cut --stop-position "$mid_pos" -o - "$f"
done

# Several files at once, index files, and refused arguments.
rf1="$root/fixtures/row_full/mariadb-bin.000001"
rf2="$root/fixtures/row_full/mariadb-bin.000002"
add "multi.info" info "$rf1" "$rf2"
add "multi.info.index" info --index "$index"
add "multi.info.index.json" info --format json --index "$index" "$rf1"
add "multi.verify.index" verify --index "$index"
add "multi.verify.badindex" verify --index "$bad_index"
add "multi.events" events --start-position 1000 --stop-position 2000 "$rf1" "$rf2"
add "multi.decode" decode "$rf1" "$rf2"
add "multi.flashback" flashback --skip-ddl -o undo.bin "$rf1" "$rf2"
add "multi.flashback.dry" flashback --skip-ddl --dry-run "$rf1" "$rf2"
add "multi.cut" cut --start-position 1000 -o cut.bin "$rf1" "$rf2"
add "multi.bigtxn" bigtxn --top 3 "$rf1" "$rf2"
add "multi.locate" locate --datetime 2000-01-01 "$rf1" "$rf2"
add "args.none" info
add "args.missing" info /nonexistent/file
add "args.events.none" events
add "args.split.nolimit" split "$rf1"
add "args.split.zero" split --max-bytes 0 -o x.bin "$rf1"
add "args.flashback.noout" flashback "$rf1"
add "args.flashback.badfmt" flashback --format json -o x.bin "$rf1"
add "args.decode.baddate" decode --start-datetime yesterday "$rf1"
add "args.decode.badgtid" decode --include-gtids nonsense "$rf1"
add "args.decode.badtable" decode -t a.b.c "$rf1"
add "args.locate.both" locate --datetime 2000-01-01 --gtid 0-1-1 "$rf1"
add "args.locate.badgtid" locate --gtid x "$rf1"
add "args.bigtxn.badsize" bigtxn --min-bytes 12Q "$rf1"
add "args.cut.noout" cut "$rf1"
add "args.cut.badout" cut -o /nonexistent/dir/out.bin "$rf1"

run_all() {
    local bin=$1 out=$2
    mkdir -p "$out"
    local name args
    while IFS=$'\t' read -r -a args; do
        name=${args[0]}
        args=("${args[@]:1}")
        local dir="$out/$name"
        mkdir -p "$dir/files"
        (cd "$dir/files" && "$bin" "${args[@]}" >../stdout 2>../stderr </dev/null; echo $? >../rc)
        printf '%s\n' "${args[*]}" >"$dir/cmd"
    done <"$cases"
}

echo "$(wc -l <"$cases") cases on ${#inputs[@]} files" >&2
run_all "$base_bin" "$work/base"
run_all "$new_bin" "$work/new"

if diff -r "$work/base" "$work/new" >"$work/diff.txt"; then
    echo "no difference: stdout, stderr, exit status and written files are identical" >&2
    exit 0
fi
echo "differences:" >&2
head -200 "$work/diff.txt" >&2
exit 1
