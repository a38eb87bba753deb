#!/usr/bin/env bash
# The PostgreSQL server's instructions for a bulk import, counted by callgrind:
# `people import names.txt` against `psql \copy person(name) FROM 'names.txt'`,
# each into a fresh database of a private server that runs under callgrind.
# Each tool runs under callgrind too, so the table also shows what the client
# itself does (people checks every name and encodes binary rows; psql sends
# the file's bytes on).
#
# The wall-clock race of the same two imports (benches/e2e_postgres.sh) is
# decided by the server, whose speed on this shared VM moves by up to 30%
# from one minute to the next. The server's instructions do not move: they
# say whether the two tools give it the same work.
#
# Usage (from anywhere in the repo):
#   bash benches/server_callgrind.sh            # 200,000 names
#   bash benches/server_callgrind.sh --quick    # 20,000 names (smoke run)
#
# Needs valgrind and PostgreSQL's server binaries (initdb, postgres: Debian's
# postgresql package). As root, the server runs as the postgres user. The
# private server listens on 127.0.0.1 at a free port, with autovacuum off so
# that no worker's instructions mix in, and is stopped and removed on exit,
# also on failure. Progress goes to stderr, the markdown table to stdout.
set -euo pipefail

n=200000
case ${1:-} in
    "") ;;
    --quick) n=20000 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac

log() { printf '[server_callgrind %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=benches/import_inputs.sh
source "$repo/benches/import_inputs.sh"
command -v valgrind >/dev/null || die "valgrind is needed (Debian: apt-get install valgrind)"
command -v psql >/dev/null || die "psql is needed (Debian: apt-get install postgresql-client)"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bindir/initdb && -x $bindir/postgres ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
migration_files postgres
up_sql_args=()
for f in "${MIGRATION_FILES[@]}"; do up_sql_args+=(-f "$f"); done

log "cargo build --release -j2 --bin people"
cargo build --release -j2 --bin people >&2
people="${CARGO_TARGET_DIR:-$repo/target}/release/people"
[[ $people == /* ]] || people="$repo/$people"

# --- the private server --------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/people-server-callgrind.XXXXXX")
chmod 755 "$work"
as_server=()
if [[ $(id -u) == 0 ]]; then
    as_server=(runuser -u postgres --) # PostgreSQL refuses to run as root
    chown postgres "$work"
fi
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        # pg_ctl, not a signal to $server_pid: that is runuser, which does not
        # pass signals on. Fast shutdown: the sessions are over.
        "${as_server[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w -t 120 stop > /dev/null 2>&1 \
            || kill -KILL "$(head -1 "$work/data/postmaster.pid" 2>/dev/null)" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "initdb (private server under $work)"
"${as_server[@]}" "$bindir/initdb" -D "$work/data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 \
    > "$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; die "initdb failed"; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# One callgrind output per process (%p): each backend writes its own when it exits.
"${as_server[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.%p" \
    "$bindir/postgres" -D "$work/data" -p "$port" -c listen_addresses=127.0.0.1 -k "$work" \
    -c autovacuum=off -c huge_pages=off -c log_connections=on -c log_line_prefix='%p ' \
    > "$work/server.log" 2>&1 &
server_pid=$!
url() { printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable' "$port" "$1"; }
for _ in $(seq 1 120); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    kill -0 "$server_pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; die "the server did not start"; }
    sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "the server did not accept connections within 120 s"
version=$(psql "$(url postgres)" -X -At -c 'SHOW server_version')

names=$work/names.txt
write_names "$n" "$names"
chmod 644 "$names"
expected_digest=$(names_digest "$names")

# backend_instructions DB CMD...: runs CMD under callgrind against the
# database DB and prints the instructions of the backends that served it
# (every session the server log shows it authorized for DB meanwhile:
# log_connections), each counted in the callgrind output its process writes
# when it exits; then how many sessions; then CMD's own instructions.
backend_instructions() {
    local db=$1 from pids pid total=0 i client
    shift
    from=$(($(wc -l < "$work/server.log") + 1))
    valgrind --tool=callgrind --callgrind-out-file="$work/client.$db.callgrind" "$@" \
        > "$work/client.out" 2> "$work/client.err" \
        || { cat "$work/client.out" "$work/client.err" >&2; die "$1 failed"; }
    client=$(grep '^totals:' "$work/client.$db.callgrind" | grep -o '[0-9]*$') \
        || die "callgrind wrote no totals for $1"
    pids=$(tail -n "+$from" "$work/server.log" \
        | sed -n "s/^\([0-9]*\) LOG:  connection authorized: user=postgres database=$db\b.*/\1/p")
    [[ -n $pids ]] || die "the server log shows no session of $1"
    for pid in $pids; do
        for ((i = 0; i < 600; i++)); do
            grep -qs '^totals:' "$work/callgrind.$pid" && break
            sleep 0.5
        done
        grep -qs '^totals:' "$work/callgrind.$pid" || die "backend $pid wrote no callgrind totals within 300 s"
        total=$((total + $(grep '^totals:' "$work/callgrind.$pid" | grep -o '[0-9]*$')))
        echo "$pid" >> "$work/$db.pids"
    done
    echo "$total $(echo "$pids" | wc -w) $client"
}
# Where a backend's instructions go: PostgreSQL's functions that an import
# spends them in, inclusive of what they call (so they nest: nextval_internal
# is inside NextCopyFrom), and what each stands for.
stages=(
    "CopyFrom|the COPY as a whole"
    "NextCopyFrom|reading each row, and its defaults"
    "nextval_internal|the id's nextval (a default)"
    "ExecConstraints|the CHECK and NOT NULL constraints"
    "heap_multi_insert|writing the rows to the table"
    "ExecInsertIndexTuples|inserting into the two unique indexes"
)
# stage_instructions DB FUNCTION: FUNCTION's inclusive instructions in the
# sessions that served DB.
stage_instructions() {
    local sum=0 pid value
    for pid in $(cat "$work/$1.pids"); do
        value=$(callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.$pid" \
            | sed -n "s/^ *\([0-9,]*\) .*???:$2 \[.*/\1/p" | tr -d , | head -1)
        sum=$((sum + ${value:-0}))
    done
    echo "$sum"
}
# verify DB LABEL: n rows, row id = i holds line i.
verify() {
    local digest
    digest=$(psql "$(url "$1")" -X -At -c "SELECT id || '|' || name FROM person ORDER BY id" | rows_digest)
    [[ $digest == "$expected_digest" ]] || die "$2: the (id, name) rows differ from names.txt line by line"
}

log "people import of $n names"
psql "$(url postgres)" -X -q -c 'CREATE DATABASE import_people'
"$people" --database-url "$(url import_people)" migrate > /dev/null
psql "$(url postgres)" -X -q -c CHECKPOINT
counted=$(backend_instructions import_people "$people" --database-url "$(url import_people)" import "$names")
read -r people_instructions people_sessions people_client <<< "$counted"
[[ $(cat "$work/client.out") == "imported $n, skipped 0" ]] || die "people import printed: $(cat "$work/client.out")"
verify import_people people

log "psql \\copy of $n names"
psql "$(url postgres)" -X -q -c 'CREATE DATABASE import_psql'
psql "$(url import_psql)" -X -v ON_ERROR_STOP=1 -q -1 "${up_sql_args[@]}" > /dev/null
psql "$(url postgres)" -X -q -c CHECKPOINT
# PostgreSQL's own psql, not Debian's wrapper script that execs it: callgrind
# would count the wrapper.
counted=$(backend_instructions import_psql "$bindir/psql" "$(url import_psql)" -X -v ON_ERROR_STOP=1 -c "\\copy person(name) FROM '$names'")
read -r psql_instructions psql_sessions psql_client <<< "$counted"
[[ $(cat "$work/client.out") == "COPY $n" ]] || die "psql \\copy printed: $(cat "$work/client.out")"
verify import_psql psql

echo "PostgreSQL $version under callgrind, $(date -u '+%Y-%m-%d %H:%M UTC'), $n names; the instructions of the backend that served the import (its whole session)"
echo
echo "| tool | sessions | server instructions | per name | people/psql | the tool's own instructions | per name |"
echo "|---|--:|--:|--:|--:|--:|--:|"
awk -v n="$n" -v p="$people_instructions" -v q="$psql_instructions" \
    -v ps="$people_sessions" -v qs="$psql_sessions" -v pc="$people_client" -v qc="$psql_client" 'BEGIN {
    printf "| `people import names.txt` | %d | %d | %d | %.3fx | %d | %d |\n", ps, p, p / n, p / q, pc, pc / n
    printf "| `psql -c \"\\copy person(name) FROM '"'"'names.txt'"'"'\"` | %d | %d | %d | 1.000x | %d | %d |\n", qs, q, q / n, qc, qc / n
}'
echo
echo "Where the server's instructions go, per name (inclusive: a function counts what it calls, so the rows nest):"
echo
echo "| inside PostgreSQL's | what it is | people | psql | people/psql |"
echo "|---|---|--:|--:|--:|"
for stage in "${stages[@]}"; do
    function=${stage%%|*}
    p=$(stage_instructions import_people "$function")
    q=$(stage_instructions import_psql "$function")
    [[ $p -gt 0 && $q -gt 0 ]] || die "callgrind_annotate found no $function in a backend's profile"
    awk -v f="$function" -v what="${stage#*|}" -v n="$n" -v p="$p" -v q="$q" \
        'BEGIN { printf "| `%s` | %s | %d | %d | %.3fx |\n", f, what, p / n, q / n, p / q }'
done
