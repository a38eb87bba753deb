#!/usr/bin/env bash
# Scale-out check: two `people serve` processes on one PostgreSQL database,
# each under its own wrk running the 90% GET / 10% POST mix at the same
# time. Passes when no request failed and the final row count is 100,000 +
# every 201 both wrk runs saw (+ the POSTs they left in flight at their
# deadline that a server committed anyway). See README.md in this folder.
#
# The server is $PEOPLE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432, trust auth); the script creates its
# own database there and drops it on exit.
#
# Usage (from anywhere):
#   bash benches/web/scale_out.sh                # 10 s, 32 connections per server
#   bash benches/web/scale_out.sh --quick        # 2 s (CI smoke)
# Options:
#   --duration S         seconds of load (default 10)
#   --quick              2 s of load
#   --connections N      wrk connections per server (default 32)
#   --wrk-threads N      threads of each wrk (default 1: two wrk share 2 cores)
#   --json FILE          also write the results as JSON
#   --people-bin PATH    the people binary (default target/release/people)
#
# Progress goes to stderr; the table and the check line to stdout. Exits 1
# if the check fails or any request failed, 2 on bad usage.
set -euo pipefail

# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rows=100000
duration=10
duration_given=0
quick=0
conns=32
wrk_threads=1
json_out=
people_bin=$repo/target/release/people
while [[ $# -gt 0 ]]; do
    case $1 in
        --duration)
            duration=$(positive_value --duration "${2-}"); duration_given=1; shift 2 ;;
        --quick) quick=1; shift ;;
        --connections)
            conns=$(positive_value --connections "${2-}"); shift 2 ;;
        --wrk-threads)
            wrk_threads=$(positive_value --wrk-threads "${2-}"); shift 2 ;;
        --json)
            [[ $# -ge 2 && -n $2 ]] || { echo "error: --json needs a file name" >&2; exit 2; }
            json_out=$(realpath -m "$2"); shift 2 ;;
        --people-bin)
            [[ $# -ge 2 ]] || { echo "error: --people-bin needs a path" >&2; exit 2; }
            people_bin=$(realpath -m "$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $quick == 0 || $duration_given == 1 ]] || duration=2
((conns >= wrk_threads)) || { echo "error: --wrk-threads $wrk_threads is more than $conns connections" >&2; exit 2; }

pg_server=${PEOPLE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
pg_server=${pg_server%/}
case $pg_server in
    postgres://*/* | postgresql://*/*)
        die "PEOPLE_TEST_POSTGRES_URL must name a server, not a database: $pg_server" ;;
    postgres://* | postgresql://*) ;;
    *) die "PEOPLE_TEST_POSTGRES_URL is not a postgres:// URL: $pg_server" ;;
esac

# --- setup --------------------------------------------------------------------

need_tools
command -v psql >/dev/null 2>&1 || die "psql is needed (Debian: apt-get install postgresql-client)"
need_people_serve "$people_bin"
psql -X -q -At "$pg_server/postgres" -c 'SELECT 1' >/dev/null 2>&1 \
    || die "cannot reach PostgreSQL at $pg_server (set PEOPLE_TEST_POSTGRES_URL)"

work=$(mktemp -d "${TMPDIR:-/tmp}/people-web-scale.XXXXXX")
pg_db=people_web_scale_$$_$RANDOM
pg_created=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    stop_servers
    if [[ $pg_created == 1 ]]; then
        # FORCE: a connection a killed server left behind must not keep it.
        psql -X -q "$pg_server/postgres" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 \
            || echo "warning: could not drop the database $pg_db" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

db_url=$pg_server/$pg_db
results=$work/results.jsonl
nonce=r$(date +%s)x$RANDOM

# A new database with people's schema and ids 1..rows.
make_seed_database() {
    log "creating the database $pg_db and importing $rows people"
    psql -X -q "$pg_server/postgres" -c "CREATE DATABASE $pg_db" >/dev/null
    pg_created=1
    "${harness[@]}" names "$rows" "$work/names.txt"
    "$people_bin" --database-url "$db_url" migrate >/dev/null
    "$people_bin" --database-url "$db_url" import "$work/names.txt" >/dev/null
    local check
    check=$(psql -X -At -F ' ' "$db_url" -c 'SELECT count(*), min(id), max(id) FROM person')
    [[ $check == "$rows 1 $rows" ]] || die "the seeded table has count, min(id), max(id) = $check, expected $rows 1 $rows"
}

# --- run ----------------------------------------------------------------------

make_seed_database
declare -A port
for server in people-a people-b; do
    start_people "$server" "$db_url" "$work/$server.log"
    port[$server]=$started_port
    log "$server listening on 127.0.0.1:${port[$server]}"
done

log "mixed load, ${duration} s: two wrk at once, $conns connections each"
declare -A wrk_pid
for server in people-a people-b; do
    # A nonce per wrk: both number their POSTs from 1 in each thread.
    start_wrk mixed "${port[$server]}" "$conns" "$duration" "$wrk_threads" "${nonce}${server#people-}" "$work/wrk-$server.txt"
    wrk_pid[$server]=$started_pid
done
for server in people-a people-b; do
    wait_wrk "${wrk_pid[$server]}"
done

status=0
"${harness[@]}" measure --results "$results" --db "$db_url" --base-rows "$rows" \
    --nonce "${nonce}a" --nonce "${nonce}b" --label workload=mixed --label "connections=$conns" \
    --run "people-a=$work/wrk-people-a.txt" --run "people-b=$work/wrk-people-b.txt" >&2 || status=$?
[[ $status == 0 || $status == 10 ]] || die "harness.py measure failed (status $status)"
stop_servers

first_line() { "$@" 2>&1 | head -n 1 || true; }
meta=$("${harness[@]}" meta \
    "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "duration_s=$duration" "connections_per_server=$conns" \
    "rows=$rows" "wrk_threads=$wrk_threads" "cores=$(nproc)" \
    "people_version=$(first_line "$people_bin" --version)" \
    "postgres_version=$(psql -X -At "$pg_server/postgres" -c 'SHOW server_version' 2>/dev/null || echo unknown)" \
    "wrk_version=$(first_line wrk --version)")
echo
status=0
"${harness[@]}" scale-report --results "$results" --meta "$meta" ${json_out:+--json "$json_out"} || status=$?
[[ -z $json_out ]] || log "results written to $json_out"
exit "$status"
