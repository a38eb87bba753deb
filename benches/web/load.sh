#!/usr/bin/env bash
# Load benchmark: `people serve` against the Flask-SQLAlchemy app with the
# same routes (flask_app.py under gunicorn, sync workers), both on SQLite,
# driven by wrk on loopback. See README.md in this folder.
#
# For each workload (get_by_id, page_numbered, page_keyset, post, mixed) x
# connections (16, 64) x server it runs wrk for a bounded time,
# each server on its own copy of the same 100,000-row database (made once by
# `people import`). After every cell it checks that server's database: the
# row count equals 100,000 + every 201 wrk saw so far (+ the POSTs wrk left
# in flight at its deadline that the server committed anyway), and
# `PRAGMA integrity_check` is ok. The order people/flask alternates per cell.
#
# Usage (from anywhere):
#   bash benches/web/load.sh                    # 10 s per cell, 16 and 64 connections
#   bash benches/web/load.sh --duration 30
#   bash benches/web/load.sh --quick            # 2 s per cell, 16 connections (CI smoke)
#   bash benches/web/load.sh --json results.json
# Options:
#   --duration S         seconds of wrk per cell (default 10)
#   --quick              2 s per cell and 16 connections only
#   --json FILE          also write the results as JSON
#   --flask-workers N    gunicorn sync workers (default: the number of cores)
#   --wrk-threads N      wrk threads (default 2)
#   --people-bin PATH    the people binary (default target/release/people)
#   --people-stand-in-flask
#                        run a second Flask app on the "people" side: only for
#                        testing this script on a people without `serve`
#
# Progress goes to stderr; the markdown table and one line per check to
# stdout. Exits 1 if any check fails or any cell had errors (an unexpected
# status, a socket error or a timeout), 2 on bad usage.
set -euo pipefail

# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rows=100000
duration=10
duration_given=0
quick=0
json_out=
flask_workers=$(nproc)
wrk_threads=2
people_bin=$repo/target/release/people
stand_in=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --duration)
            duration=$(positive_value --duration "${2-}"); duration_given=1; shift 2 ;;
        --quick) quick=1; shift ;;
        --json)
            [[ $# -ge 2 && -n $2 ]] || { echo "error: --json needs a file name" >&2; exit 2; }
            json_out=$(realpath -m "$2"); shift 2 ;;
        --flask-workers)
            flask_workers=$(positive_value --flask-workers "${2-}"); shift 2 ;;
        --wrk-threads)
            wrk_threads=$(positive_value --wrk-threads "${2-}"); shift 2 ;;
        --people-bin)
            [[ $# -ge 2 ]] || { echo "error: --people-bin needs a path" >&2; exit 2; }
            people_bin=$(realpath -m "$2"); shift 2 ;;
        --people-stand-in-flask) stand_in=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
connections=(16 64)
if [[ $quick == 1 ]]; then
    connections=(16)
    [[ $duration_given == 1 ]] || duration=2
fi
for c in "${connections[@]}"; do
    ((c >= wrk_threads)) || { echo "error: --wrk-threads $wrk_threads is more than $c connections" >&2; exit 2; }
done
workloads=(get_by_id page_numbered page_keyset post mixed)
servers=(people flask)

# --- setup --------------------------------------------------------------------

need_tools
# people makes the seed database even when a stand-in serves its side.
[[ -x $people_bin ]] || die "no people binary at $people_bin (build it with: cargo build --release)"
[[ $stand_in == 1 ]] || need_people_serve "$people_bin"
ensure_flask_venv

work=$(mktemp -d "${TMPDIR:-/tmp}/people-web-load.XXXXXX")
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    stop_servers
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

results=$work/results.jsonl
run_nonce=r$(date +%s)x$RANDOM

# The database both servers start from: people's schema, ids 1..rows.
make_seed_database() {
    local seed=$work/seed.db
    log "seeding $rows people with people import"
    "${harness[@]}" names "$rows" "$work/names.txt"
    "$people_bin" --database-url "$seed" migrate >/dev/null
    "$people_bin" --database-url "$seed" import "$work/names.txt" >/dev/null
    local check
    check=$(python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(*c.execute("SELECT count(*), min(id), max(id) FROM person").fetchone()); c.close()' "$seed")
    [[ $check == "$rows 1 $rows" ]] || die "the seed database has count, min(id), max(id) = $check, expected $rows 1 $rows"
    # people closed it, so its WAL is checkpointed and gone: one file to copy.
    [[ ! -s $seed-wal ]] || die "the seed database still has a WAL after people closed it"
}

declare -A port db
start_both_servers() {
    local server
    for server in "${servers[@]}"; do
        db[$server]=$work/$server.db
        cp "$work/seed.db" "${db[$server]}"
        if [[ $server == people && $stand_in == 0 ]]; then
            start_people people "${db[$server]}" "$work/$server.log"
        else
            start_flask "$server" "${db[$server]}" "$work/$server.log"
        fi
        port[$server]=$started_port
        log "$server listening on 127.0.0.1:${port[$server]}"
    done
}

# A short GET load first, so that no server's first cell pays for cold
# caches (SQLite's page cache, Python's first imports). Reads only: the row
# count stays 100,000.
warm_up() {
    local server
    for server in "${servers[@]}"; do
        run_wrk get_by_id "${port[$server]}" 16 1 "$wrk_threads" "${run_nonce}w" "$work/warmup-$server.txt"
        grep -q '"unexpected":0,' "$work/warmup-$server.txt" \
            || { cat "$work/warmup-$server.txt" >&2; die "$server failed its warm-up (wrk's output is above)"; }
    done
}

# run_cell INDEX WORKLOAD CONNECTIONS: both servers, in an order that
# alternates with INDEX; each run followed by its database check.
run_cell() {
    local index=$1 workload=$2 conns=$3 server order
    if ((index % 2 == 0)); then order=(people flask); else order=(flask people); fi
    for server in "${order[@]}"; do
        local nonce=${run_nonce}c${index}${server}
        local out=$work/wrk-$workload-$conns-$server.txt
        log "$workload, $conns connections, $server: ${duration} s"
        run_wrk "$workload" "${port[$server]}" "$conns" "$duration" "$wrk_threads" "$nonce" "$out"
        # The check line goes to stderr as progress; report repeats them all.
        # A failed check (status 10) is reported at the end; anything else is a crash.
        local status=0
        "${harness[@]}" measure --results "$results" --db "${db[$server]}" --base-rows "$rows" \
            --nonce "$nonce" --label "workload=$workload" --label "connections=$conns" \
            --run "$server=$out" >&2 || status=$?
        [[ $status == 0 || $status == 10 ]] || die "harness.py measure failed (status $status) after $workload/$conns/$server"
    done
}

# --- run ----------------------------------------------------------------------

if [[ $stand_in == 1 ]]; then
    log "WARNING: --people-stand-in-flask: the \"people\" column is a second Flask app, not people serve"
fi
make_seed_database
start_both_servers
warm_up

# Workload by workload, the reads first: every read cell then sees the same
# 100,000 rows on both sides. (Afterwards the tables differ: each grows by
# what its server inserted, and a faster server inserts more. The write
# cells that follow cost O(log n) per request, so that hardly matters; a
# numbered page's count(*) would.)
cell=0
for workload in "${workloads[@]}"; do
    for conns in "${connections[@]}"; do
        run_cell "$cell" "$workload" "$conns"
        cell=$((cell + 1))
    done
done

stop_servers

first_line() { "$@" 2>&1 | head -n 1 || true; }
meta=$("${harness[@]}" meta \
    "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "duration_s=$duration" \
    "connections=[$(IFS=,; echo "${connections[*]}")]" "rows=$rows" \
    "flask_workers=$flask_workers" "wrk_threads=$wrk_threads" "cores=$(nproc)" \
    "people_side=$([[ $stand_in == 1 ]] && echo 'a second Flask app (stand-in)' || echo 'people serve')" \
    "people_version=$(first_line "$people_bin" --version)" \
    "gunicorn_version=$(first_line "$venv/bin/gunicorn" --version)" \
    "wrk_version=$(first_line wrk --version)")
[[ $stand_in == 0 ]] || echo "**Stand-in run: the people columns are a second Flask app, not people serve.**"
echo
status=0
"${harness[@]}" report --results "$results" --meta "$meta" ${json_out:+--json "$json_out"} || status=$?
[[ -z $json_out ]] || log "results written to $json_out"
exit "$status"
