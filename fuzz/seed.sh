#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (git-ignored) with seeds, at run time:
#   - event_walker, round_trip: the project's fixtures/*/mariadb-bin.* binlogs and, when
#     ../shared/fixtures is there, the binlogs its MANIFEST.tsv lists (never committed:
#     they carry their sources' licenses);
#   - row_decoder, jsonb: rows events (with their table maps) and JSON values taken from
#     those same binlogs by the make_seeds helper.
# Binlogs larger than SEED_MAX_BYTES (default 1 MiB) are left out: libFuzzer mutates
# small inputs much faster, and the big files only repeat what the small ones hold.
#
# Usage: fuzz/seed.sh   (from anywhere; running it again adds the same seeds again and
#                       keeps whatever the fuzzers added)
set -euo pipefail

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz_dir")
shared="$root/../shared/fixtures"
max_bytes=${SEED_MAX_BYTES:-1048576}
corpus="$fuzz_dir/corpus"

binlogs=()
add() {
    local f=$1
    [ -f "$f" ] || return 0
    if [ "$(stat -c %s "$f")" -gt "$max_bytes" ]; then
        echo "skipping $f (larger than $max_bytes bytes)"
        return 0
    fi
    binlogs+=("$f")
}

for f in "$root"/fixtures/*/mariadb-bin.*; do
    case "$f" in *.tsv) continue ;; esac
    add "$f"
done
if [ -f "$shared/MANIFEST.tsv" ]; then
    # The first column of the manifest is each binlog's path under shared/fixtures.
    while IFS=$'\t' read -r path _; do
        add "$shared/$path"
    done < <(tail -n +2 "$shared/MANIFEST.tsv")
else
    echo "note: $shared is absent; seeding from the project's fixtures only"
fi

mkdir -p "$corpus/event_walker" "$corpus/round_trip" "$corpus/row_decoder" "$corpus/jsonb"
for f in "${binlogs[@]}"; do
    # Name each copy after its path, so that files of the same name do not collide.
    rel=${f#"$root"/}
    rel=${rel#../}
    name=$(printf '%s' "$rel" | tr '/' '_')
    cp "$f" "$corpus/event_walker/$name"
    cp "$f" "$corpus/round_trip/$name"
done
echo "event_walker, round_trip: ${#binlogs[@]} binlogs"

# make_seeds is an ordinary (uninstrumented) build of an example of this crate. The binlog
# seeds above are useful without it, so a failed build is only a warning.
log="$corpus/make_seeds.log"
if ! cargo run --quiet --manifest-path "$fuzz_dir/Cargo.toml" --example make_seeds -- \
    "$corpus" "${binlogs[@]}" 2>"$log"; then
    echo "warning: make_seeds failed (see $log): row_decoder and jsonb got no new seeds" >&2
fi
