#!/usr/bin/env bash
# End-to-end bulk import on PostgreSQL, timed as whole processes:
# `people import names.txt` (the release binary) into a fresh database that
# `people migrate` created, against psql's `\copy person(name) FROM 'names.txt'`
# into a fresh database given the same schema (migrations/postgres/*/up.sql,
# read at run time). Median wall time over alternating rounds, with each
# tool's CPU, the server's CPU (when the server runs on this machine), and
# the seconds of each import the server's CPU does not account for: what the
# tool itself adds, which the server's run-to-run spread does not blur.
#
# Usage (from anywhere in the repo):
#   bash benches/e2e_postgres.sh               # 1,000,000 names, 3 rounds
#   bash benches/e2e_postgres.sh --rounds 5
#   bash benches/e2e_postgres.sh --quick       # 100,000 names, 1 round (smoke run)
#
# The server is $PEOPLE_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432;
# the role needs CREATEDB (and superuser or pg_checkpoint for the CHECKPOINT
# before each timed process, which is skipped with a warning otherwise). As in
# benches/crud_postgres.rs, sslmode=disable is added unless the URL names a mode.
# Every database is dropped and every file removed on exit, also on failure.
# Progress goes to stderr, the markdown table to stdout; the exit status is
# non-zero if the build or any check fails.
set -euo pipefail

rounds=3
rounds_given=0
n=1000000
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "error: --rounds needs a positive integer" >&2; exit 2; }
            rounds=$2; rounds_given=1; shift 2 ;;
        --quick) n=100000; [[ $rounds_given == 1 ]] || rounds=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf '[e2e_postgres %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=benches/import_inputs.sh
source "$repo/benches/import_inputs.sh"
command -v psql >/dev/null 2>&1 || die "psql not found (Debian: apt-get install postgresql-client)"
migration_files postgres
up_sql_args=()
for f in "${MIGRATION_FILES[@]}"; do up_sql_args+=(-f "$f"); done

# --- URLs: scheme://[userinfo@]host[:port][/db][?query] --------------------------
server=${PEOPLE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
query=
[[ $server != *\?* ]] || query=${server#*\?}
[[ $query == *sslmode=* ]] || query=${query:+$query&}sslmode=disable
base=${server%%\?*}
scheme=${base%%://*}
rest=${base#*://}
userinfo=
if [[ $rest == *@* ]]; then userinfo=${rest%@*}@; rest=${rest##*@}; fi
host=${rest%%/*}
db_url() { printf '%s://%s%s/%s?%s' "$scheme" "$userinfo" "$host" "$1" "$query"; }
admin=$(db_url postgres)
# Without the NOTICE of DROP DATABASE IF EXISTS for a database already dropped.
psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$admin" -X -v ON_ERROR_STOP=1 -q -At "$@"; }
psql_admin -c 'SELECT 1' > /dev/null || die "cannot reach PostgreSQL at $host"

# --- scratch space and cleanup ---------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/people-e2e-postgres.XXXXXX")
databases=()
cleanup() {
    local db
    for db in ${databases[@]+"${databases[@]}"}; do
        psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || log "warning: could not drop database $db"
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# new_db SUFFIX: sets DB to a fresh database name (only [a-z0-9_]: it is
# spliced into DDL) and registers it for the cleanup before it exists.
new_db() { DB="people_e2e_$$_$1"; databases+=("$DB"); }
drop_db() { psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }
checkpoint() { psql_admin -c CHECKPOINT 2> /dev/null || log "warning: no CHECKPOINT (needs superuser or pg_checkpoint)"; }

log "cargo build --release -j2 --bin people"
cargo build --release -j2 --bin people >&2
people="${CARGO_TARGET_DIR:-$repo/target}/release/people"
[[ $people == /* ]] || people="$repo/$people"
[[ -x $people ]] || die "no binary at $people after the build"
# The timed processes run in the scratch directory, so that no .env of the
# repo is picked up (the URL is explicit anyway).
cd "$work"

names=$work/names.txt
log "generating $n names in $names"
write_names "$n" "$names"
# What a correct import holds: line i of names.txt has id i.
expected_digest=$(names_digest "$names")

# The server's CPU time, when it runs on this machine and /proc shows it: the
# postmaster's reaped children (a backend, once its client has gone) plus its
# live processes (WAL writer, checkpointer, ...), in clock ticks. Wall time
# on this shared machine moves by several percent from run to run; the CPU
# the server spent on an import says whether the two tools gave it the same
# work.
postmaster_pid=
data_directory=$(psql_admin -c 'SHOW data_directory' 2> /dev/null || true)
if [[ -n $data_directory && -r $data_directory/postmaster.pid ]]; then
    postmaster_pid=$(head -1 "$data_directory/postmaster.pid")
fi
[[ -n $postmaster_pid && -r /proc/$postmaster_pid/stat ]] \
    || { postmaster_pid=; log "the server's CPU is not visible from here: its column stays empty"; }
ticks_per_second=$(getconf CLK_TCK)
server_ticks() {
    local stat total child
    read -r -a stat < "/proc/$postmaster_pid/stat"
    # Fields 14-17: utime, stime, cutime, cstime (the name field has no space).
    total=$((stat[13] + stat[14] + stat[15] + stat[16]))
    for child in $(pgrep -P "$postmaster_pid"); do
        read -r -a stat < "/proc/$child/stat" 2> /dev/null || continue
        total=$((total + stat[13] + stat[14]))
    done
    echo "$total"
}
# no_backend_of DB: waits (up to 5 s) until no backend serves DB, so that the
# import's backend has exited and its CPU is in the postmaster's count.
no_backend_of() {
    local i
    for ((i = 0; i < 50; i++)); do
        [[ $(psql_admin -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1'") == 0 ]] && return
        sleep 0.1
    done
}

# seconds DB CMD...: runs CMD (with the caller's redirections) against the
# database DB, sets SECONDS_TAKEN to its wall time, CLIENT_CPU to its user +
# system seconds and SERVER_CPU to the server's CPU seconds meanwhile (empty
# if not visible), and returns its status.
seconds() {
    local db=$1 t0 t1 s0 s1 status=0
    shift
    [[ -z $postmaster_pid ]] || s0=$(server_ticks)
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$work/time" "$@" || status=$?
    t1=$(date +%s%N)
    SECONDS_TAKEN=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }')
    CLIENT_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$work/time")
    SERVER_CPU=
    if [[ -n $postmaster_pid ]]; then
        no_backend_of "$db"
        s1=$(server_ticks)
        SERVER_CPU=$(awk -v d=$((s1 - s0)) -v hz="$ticks_per_second" 'BEGIN { printf "%.2f", d / hz }')
    fi
    return "$status"
}
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) printf "%.3f", a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# verify DB LABEL: n rows, row id = i holds line i, and the schema of `person`
# (psql's \d) is the same as in the first verified database.
reference_schema=
verify() {
    local url count digest schema
    url=$(db_url "$1")
    count=$(psql "$url" -X -At -c 'SELECT count(*) FROM person')
    [[ $count == "$n" ]] || die "$2: person has $count rows, expected $n"
    digest=$(psql "$url" -X -At -c "SELECT id || '|' || name FROM person ORDER BY id" | rows_digest)
    [[ $digest == "$expected_digest" ]] || die "$2: the (id, name) rows differ from names.txt line by line"
    schema=$(psql "$url" -X -c '\d person')
    [[ -n $reference_schema ]] || reference_schema=$schema
    [[ $schema == "$reference_schema" ]] || die "$2: the person table differs: $schema"
}

run_people() {
    local db url
    new_db "r${1}_people"
    db=$DB
    url=$(db_url "$db")
    "$people" --database-url "$url" migrate > /dev/null 2> "$work/migrate.err" \
        || die "people migrate: $(cat "$work/migrate.err")"
    checkpoint
    seconds "$db" "$people" --database-url "$url" import "$names" > "$work/people.out" 2> "$work/people.err" \
        || die "people import: $(cat "$work/people.err")"
    [[ $(cat "$work/people.out") == "imported $n, skipped 0" ]] \
        || die "people import printed: $(cat "$work/people.out" "$work/people.err")"
    people_times+=("$SECONDS_TAKEN") people_client+=("$CLIENT_CPU") people_server+=("$SERVER_CPU")
    verify "$db" "people round $1"
    drop_db "$db"
}
run_psql() {
    local db url
    new_db "r${1}_psql"
    db=$DB
    url=$(db_url "$db")
    psql_admin -c "CREATE DATABASE $db"
    # One transaction, as people's migration runs.
    psql "$url" -X -v ON_ERROR_STOP=1 -q -1 "${up_sql_args[@]}" \
        || die "applying migrations/postgres/*/up.sql with psql"
    checkpoint
    seconds "$db" psql "$url" -X -v ON_ERROR_STOP=1 -c "\\copy person(name) FROM '$names'" > "$work/psql.out" 2>&1 \
        || die "psql \\copy: $(cat "$work/psql.out")"
    [[ $(cat "$work/psql.out") == "COPY $n" ]] || die "psql \\copy printed: $(cat "$work/psql.out")"
    psql_times+=("$SECONDS_TAKEN") psql_client+=("$CLIENT_CPU") psql_server+=("$SERVER_CPU")
    verify "$db" "psql round $1"
    drop_db "$db"
}

people_times=() psql_times=() people_client=() psql_client=() people_server=() psql_server=()
for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then
        run_people "$r"; run_psql "$r"
    else
        run_psql "$r"; run_people "$r"
    fi
    log "round $r/$rounds: people ${people_times[-1]} s, psql ${psql_times[-1]} s, load $(cut -d' ' -f1 /proc/loadavg)"
done

# median_or_blank VALUES...: the median, or nothing if any value is empty.
median_or_blank() {
    local v
    for v in "$@"; do [[ -n $v ]] || return 0; done
    median "$@"
}
med_people=$(median "${people_times[@]}")
med_psql=$(median "${psql_times[@]}")
version=$(psql_admin -c "SHOW server_version")
echo "PostgreSQL $version ($host, $query), $(date -u '+%Y-%m-%d %H:%M UTC'), $(commas "$n") names, median of $rounds round(s); ratio = seconds / psql's seconds"
echo
# beyond_server WALL SERVER: the seconds of the import the server's CPU does
# not account for (the tool's own start-up and work, the round trips), or
# nothing if the server's CPU is not visible.
beyond_server() {
    [[ -n $2 ]] || return 0
    awk -v w="$1" -v s="$2" 'BEGIN { printf "%.3f", w - s }'
}
# ratio A B: A / B, as the tables print it ("0.96x").
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
}
people_beyond=() psql_beyond=()
for ((r = 0; r < rounds; r++)); do
    people_beyond+=("$(beyond_server "${people_times[r]}" "${people_server[r]}")")
    psql_beyond+=("$(beyond_server "${psql_times[r]}" "${psql_server[r]}")")
done
echo "| tool | seconds | ratio | client CPU s | server CPU s | seconds beyond the server's CPU |"
echo "|---|--:|--:|--:|--:|--:|"
echo "| \`people import names.txt\` | $med_people | $(ratio "$med_people" "$med_psql") | $(median "${people_client[@]}") | $(median_or_blank "${people_server[@]}") | $(median_or_blank "${people_beyond[@]}") |"
echo "| \`psql -c \"\\copy person(name) FROM 'names.txt'\"\` | $med_psql | 1.00x | $(median "${psql_client[@]}") | $(median_or_blank "${psql_server[@]}") | $(median_or_blank "${psql_beyond[@]}") |"
echo
echo "| round | people s | psql s | people/psql | server CPU people s | server CPU psql s | beyond it people s | beyond it psql s |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|"
for ((r = 0; r < rounds; r++)); do
    echo "| $((r + 1)) | ${people_times[r]} | ${psql_times[r]} | $(ratio "${people_times[r]}" "${psql_times[r]}") | ${people_server[r]} | ${psql_server[r]} | ${people_beyond[r]} | ${psql_beyond[r]} |"
done
echo
echo "Every database held the $(commas "$n") names with id = line number, and the same person table."
