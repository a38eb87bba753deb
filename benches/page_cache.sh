#!/usr/bin/env bash
# SQLite's page caches with several connections in one process (BENCHMARKS.md
# §1, "One page cache per connection"): benches/page_cache.c built twice
# against libsqlite3-sys's own amalgamation, once with the crate's bundled
# flags and once with this repository's LIBSQLITE3_FLAGS (.cargo/config.toml).
#
#   bash benches/page_cache.sh          # N = 100,000 rows per connection
#   bash benches/page_cache.sh --quick  # N = 2,000
set -euo pipefail

n=100000
[[ ${1:-} == --quick ]] && n=2000
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=$repo/target/page-cache
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The amalgamation libsqlite3-sys compiles: the locked version, unpacked by the
# cargo build that ran before (report.sh and CI build the benches first).
version=$(awk '/^name = "libsqlite3-sys"$/ { getline; gsub(/[^0-9.]/, ""); print }' Cargo.lock)
amalgamation=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libsqlite3-sys-$version"/sqlite3 2>/dev/null | head -1)
[[ -f $amalgamation/sqlite3.c ]] || {
    echo "page_cache.sh: libsqlite3-sys $version is not unpacked yet; run cargo build first" >&2
    exit 1
}
# The flags libsqlite3-sys's build.rs passes for a bundled build on Linux.
bundled=(-DSQLITE_CORE -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_ENABLE_API_ARMOR
    -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_FTS3
    -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1
    -DSQLITE_ENABLE_LOAD_EXTENSION=1 -DSQLITE_ENABLE_MEMORY_MANAGEMENT -DSQLITE_ENABLE_RTREE
    -DSQLITE_ENABLE_STAT4 -DSQLITE_SOUNDEX -DSQLITE_THREADSAFE=1 -DSQLITE_USE_URI
    -DHAVE_USLEEP=1 -DHAVE_ISNAN -D_POSIX_THREAD_SAFE_FUNCTIONS -DHAVE_LOCALTIME_R)
read -ra ours < <(sed -n 's/^LIBSQLITE3_FLAGS = "\(.*\)"$/\1/p' .cargo/config.toml)
[[ ${#ours[@]} -gt 0 ]] || { echo "page_cache.sh: no LIBSQLITE3_FLAGS in .cargo/config.toml" >&2; exit 1; }

run() { # label, extra flags...
    local label=$1 name=$2
    shift 2
    gcc -O2 -I"$amalgamation" "${bundled[@]}" "$@" -c "$amalgamation/sqlite3.c" -o "$out/$name.o"
    gcc -O2 -I"$amalgamation" benches/page_cache.c "$out/$name.o" -o "$out/$name" -lpthread -lm
    rm -f "$scratch"/*
    printf '\n%s:\n\n' "$label"
    "$out/$name" "$scratch" "$n"
}

echo "SQLite $(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$amalgamation/sqlite3.h") from $(basename "$(dirname "$amalgamation")"), $(date -u '+%Y-%m-%d %H:%M UTC'), 4 connections, N = $n rows each"
run "libsqlite3-sys's bundled flags (SQLITE_ENABLE_MEMORY_MANAGEMENT: one page budget for the process)" shared
run "with this repository's LIBSQLITE3_FLAGS (${ours[*]}: one page cache per connection)" separate "${ours[@]}"
