#!/usr/bin/env bash
# Instructions per operation of every crud phase, counted by callgrind
# (stable where wall-clock time is not): each phase runs in a function of its
# own (benches/callgrind.rs) and callgrind collects only inside it.
#
#   bash benches/callgrind.sh                  # people vs rusqlite's fastest form (SQLite)
#   bash benches/callgrind.sh --postgres [URL] # people vs the postgres crate: the
#                                              # client's instructions only (the server
#                                              # is another process); URL names the
#                                              # server without a database (default
#                                              # postgres://postgres@127.0.0.1:5432)
#
# Prints a markdown table on stdout.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
rival=rusqlite server=()
if [[ ${1:-} == --postgres ]]; then
    rival=postgres server=("${2:-postgres://postgres@127.0.0.1:5432}")
fi
command -v valgrind >/dev/null || { echo "error: valgrind is needed" >&2; exit 1; }
cargo bench -j2 --bench callgrind --no-run >&2 2>&1
binary=$(ls -t target/release/deps/callgrind-* | grep -v '\.d$' | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# instructions CONTESTANT PHASE: the instructions collected inside the phase function.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/out" \
        --toggle-collect="callgrind::$1_$2" "$binary" "$1" "$2" "${server[@]}" >/dev/null 2>"$work/err" \
        || { cat "$work/err" >&2; echo "error: $1 $2 failed under callgrind" >&2; exit 1; }
    grep -o 'Collected : [0-9]*' "$work/err" | grep -o '[0-9]*$'
}

echo "| phase | ops | people instr/op | $rival instr/op | people/$rival (instructions) |"
echo "|---|--:|--:|--:|--:|"
for phase in bulk_insert get_by_id get_by_name page insert_single rename delete; do
    ops=10000
    [[ $phase == page ]] && ops=1000
    p=$(instructions people "$phase")
    r=$(instructions "$rival" "$phase")
    awk -v phase="$phase" -v ops="$ops" -v p="$p" -v r="$r" \
        'BEGIN { printf "| %s | %d | %d | %d | %.3fx |\n", phase, ops, p / ops, r / ops, r / p }'
    echo "$phase done" >&2
done
