#!/usr/bin/env bash
# The life of a big database, timed as whole `people` processes (release
# build), with peak memory from GNU time:
#
#   1. upgrade: a v1 database of N people (made by running only the first
#      migration, then one INSERT … SELECT) is upgraded to v2 by `people
#      migrate`, on SQLite and on PostgreSQL. Checks every id is kept, and
#      reports the -wal file's size afterwards.
#   2. copy: `people copy` of those N people SQLite → PostgreSQL and back,
#      against `people export --format json | people import --format json`
#      for the same moves, in the same run. Checks both ends give a
#      byte-identical `export --format json` after the copies.
#
# Usage (from the repo root):
#   bash benches/lifecycle.sh                    # N = 1,000,000, 3 rounds
#   bash benches/lifecycle.sh --quick            # N = 100,000, 1 round
#   PEOPLE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432 bash benches/lifecycle.sh
#
# Progress goes to stderr, the markdown report to stdout. Non-zero exit if a
# check fails; nothing about time is asserted.
set -euo pipefail

rounds=3
n=1000000
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) n=100000; rounds=1; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "error: unknown argument $1" >&2; exit 2 ;;
    esac
done
server=${PEOPLE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}

log() { printf '[lifecycle %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
for tool in sqlite3 psql; do command -v $tool >/dev/null || die "$tool is needed"; done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is needed"

log "cargo build --release -j2 --bin people"
cargo build --release -j2 --bin people >&2
people=$repo/target/release/people

work=$(mktemp -d)
databases=()
cleanup() {
    for db in "${databases[@]}"; do
        psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

v1_sqlite=$(ls -d migrations/sqlite/*/ | head -1)
v1_postgres=$(ls -d migrations/postgres/*/ | head -1)
v1_version=$(basename "$v1_sqlite" | cut -d_ -f1 | tr -d -)

# pg_database SUFFIX: creates a fresh PostgreSQL database and sets PG_URL to
# its URL. Not called in $(...): the name must reach the cleanup's list in
# this shell, not a subshell's copy of it.
pg_database() {
    local name="people_lifecycle_$$_$1"
    databases+=("$name")
    psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
    psql "$server/postgres" -qc "CREATE DATABASE $name" >/dev/null
    PG_URL="$server/$name"
}

# Runs a command under GNU time; prints "seconds max_rss_kib" on fd 3.
measure() {
    local report=$work/time.txt
    /usr/bin/time -o "$report" -f '%e %M' "$@"
    tail -1 "$report" >&3
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

bookkeeping="CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP); INSERT INTO __diesel_schema_migrations (version) VALUES ('$v1_version');"

# A v1 SQLite file of N people at $1, as people's first migration makes it.
make_v1_sqlite() {
    rm -f "$1" "$1-wal" "$1-shm"
    sqlite3 "$1" "PRAGMA journal_mode = WAL;" >/dev/null
    sqlite3 "$1" <<SQL
$(cat "$v1_sqlite/up.sql")
$bookkeeping
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < $n)
INSERT INTO person (name) SELECT 'person-' || x FROM i;
SQL
}

make_v1_postgres() {
    psql "$1" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
$(cat "$v1_postgres/up.sql")
$bookkeeping
INSERT INTO person (name) SELECT 'person-' || x FROM generate_series(1, $n) AS x;
SQL
}

# Checks that $1 holds people 1..N named person-1..person-N (after a copy,
# any name: the ids and the count).
check_all() {
    local count max
    count=$("$people" --database-url "$1" count)
    [[ $count == "$n" ]] || die "$1 holds $count people, not $n"
    max=$("$people" --database-url "$1" list --after $((n - 1)))
    [[ $max == "$n	person-$n" ]] || die "$1: the last person is '$max'"
}

declare -A samples
add() { samples[$1]+="$2 "; }

for round in $(seq 1 "$rounds"); do
    log "round $round of $rounds, N = $n"

    # 1. Upgrade in place.
    make_v1_sqlite "$work/v1.db"
    read -r secs rss < <(measure "$people" --database-url "$work/v1.db" migrate 3>&1 >/dev/null)
    check_all "$work/v1.db"
    wal=$(stat -c %s "$work/v1.db-wal" 2>/dev/null || echo 0)
    add upgrade_sqlite_s "$secs"; add upgrade_sqlite_rss "$rss"; add upgrade_sqlite_wal "$wal"

    pg_database "v1_$round"; pg=$PG_URL
    make_v1_postgres "$pg"
    read -r secs rss < <(measure "$people" --database-url "$pg" migrate 3>&1 >/dev/null)
    check_all "$pg"
    add upgrade_pg_s "$secs"; add upgrade_pg_rss "$rss"

    # 2. Moving between backends: copy against export | import.
    source=$work/v1.db
    pg_database "copy_$round"; to_pg=$PG_URL
    read -r secs rss < <(measure "$people" copy "$source" "$to_pg" 3>&1 >/dev/null)
    add copy_to_pg_s "$secs"; add copy_to_pg_rss "$rss"
    back=$work/back-$round.db
    read -r secs rss < <(measure "$people" copy "$to_pg" "$back" 3>&1 >/dev/null)
    add copy_to_sqlite_s "$secs"; add copy_to_sqlite_rss "$rss"
    "$people" --database-url "$source" export --format json > "$work/a.json"
    "$people" --database-url "$back" export --format json > "$work/b.json"
    cmp -s "$work/a.json" "$work/b.json" || die "the JSON exports differ after SQLite → PostgreSQL → SQLite"
    "$people" --database-url "$to_pg" export --format json > "$work/m.json"
    cmp -s "$work/a.json" "$work/m.json" || die "the JSON exports differ after SQLite → PostgreSQL"
    next=$("$people" --database-url "$back" add "newcomer-$round" | cut -f1)
    [[ $next -gt $n ]] || die "the copy's next id is $next"

    pg_database "pipe_$round"; pipe_pg=$PG_URL
    "$people" --database-url "$pipe_pg" migrate >/dev/null
    start=$(date +%s%N)
    "$people" --database-url "$source" export --format json | "$people" --database-url "$pipe_pg" import --format json >/dev/null
    add pipe_to_pg_s "$(awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN {printf "%.2f", ns / 1e9}')"
    pipe_back=$work/pipe-back-$round.db
    start=$(date +%s%N)
    "$people" --database-url "$pipe_pg" export --format json | "$people" --database-url "$pipe_back" import --format json >/dev/null
    add pipe_to_sqlite_s "$(awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN {printf "%.2f", ns / 1e9}')"
    rm -f "$back" "$back-wal" "$back-shm" "$pipe_back" "$pipe_back-wal" "$pipe_back-shm"
done

m() { echo "${samples[$1]}" | tr ' ' '\n' | grep . | median; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
echo "N = $n people, median of $rounds round(s), $(date -u '+%Y-%m-%d %H:%M') UTC, release build"
echo
echo "| upgrade v1 → v2 | wall time | peak RSS | -wal after |"
echo "|---|--:|--:|--:|"
echo "| SQLite (table rebuild in one transaction) | $(m upgrade_sqlite_s) s | $(mib "$(m upgrade_sqlite_rss)") MiB | $(m upgrade_sqlite_wal) B |"
echo "| PostgreSQL (ADD COLUMN, stored default) | $(m upgrade_pg_s) s | $(mib "$(m upgrade_pg_rss)") MiB | – |"
echo
echo "| move | \`people copy\` | peak RSS | \`export --format json \\| import --format json\` | copy / pipe |"
echo "|---|--:|--:|--:|--:|"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
echo "| SQLite → PostgreSQL | $(m copy_to_pg_s) s | $(mib "$(m copy_to_pg_rss)") MiB | $(m pipe_to_pg_s) s | $(ratio "$(m copy_to_pg_s)" "$(m pipe_to_pg_s)") |"
echo "| PostgreSQL → SQLite | $(m copy_to_sqlite_s) s | $(mib "$(m copy_to_sqlite_rss)") MiB | $(m pipe_to_sqlite_s) s | $(ratio "$(m copy_to_sqlite_s)" "$(m pipe_to_sqlite_s)") |"
echo
echo "Checked: every id and name kept by both upgrades; byte-identical JSON exports at both ends of the copies; the next id after a copy is above N."
