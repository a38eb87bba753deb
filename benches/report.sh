#!/usr/bin/env bash
# Every benchmark BENCHMARKS.md reports, in one run, and its chart:
#
#   1. cargo bench --bench crud           people vs rusqlite (and the statement log's price)
#      benches/page_cache.sh              SQLite's page caches, shared or one per connection
#      benches/callgrind.sh               the same phases in instructions per operation
#   2. cargo bench --bench crud_postgres  people vs the postgres crate
#      benches/callgrind.sh --postgres    the client's instructions per operation
#      benches/e2e.sh                     people import vs the sqlite3 shell; memory of export/list
#   3. benches/e2e_postgres.sh            people import vs psql \copy, 1,000,000 names, 5 rounds
#      benches/server_callgrind.sh        the same two imports in the server's instructions
#   4. benches/lifecycle.sh               1,000,000-row upgrade; copy vs export | import
#   5. benches/web/load.sh                people serve vs the Flask-SQLAlchemy app under load
#   6. benches/web/scale_out.sh           two people serve processes on one PostgreSQL
#   7. benches/chart.py                   benches/chart.png from 1 and 2's JSON
#
# Usage (from the repo root):
#   bash benches/report.sh            # the sizes BENCHMARKS.md uses (11 to 25 minutes here, as the shared VM allows)
#   bash benches/report.sh --quick    # smoke sizes
#
# Outputs go to target/bench-report/ (one .md per benchmark, the JSON, and
# tree.txt: the commit it ran on) and the chart to benches/chart.png. The run
# stops if the tree changes under it. The PostgreSQL server is
# $PEOPLE_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432.
# matplotlib is installed into a virtualenv under target/ on first use (from
# PyPI).
set -euo pipefail

quick=()
[[ ${1:-} == --quick ]] && quick=(--quick)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=$repo/target/bench-report
mkdir -p "$out"
export PEOPLE_TEST_POSTGRES_URL=${PEOPLE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}

# The steps build as they go: an edit to the tree during the run would give
# later steps other code than earlier ones, and the figures would mix builds.
# Every step first checks that the tree is the one the run started on (the
# chart, which the run writes itself, aside).
tree_state() {
    git rev-parse HEAD
    git diff HEAD --binary -- . ':(exclude)benches/chart.png' | sha1sum
}
start_tree=$(tree_state)
tree=$(git rev-parse --short HEAD)
[[ -z $(git diff HEAD --stat -- . ':(exclude)benches/chart.png') ]] || tree="$tree with uncommitted changes"
log() {
    if [[ $(tree_state) != "$start_tree" ]]; then
        printf 'error: the tree changed during the run (it started on %s); the figures would mix builds: run again, and edit nothing until it is done\n' "$tree" >&2
        exit 1
    fi
    printf '\n[report %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}
log "tree $tree"
echo "$tree" > "$out/tree.txt"

log "crud (SQLite)"
cargo bench -j2 --bench crud -- "${quick[@]}" --json "$out/crud.json" | tee "$out/crud.md"
log "page_cache (shared or one per connection)"
bash benches/page_cache.sh "${quick[@]}" | tee "$out/page_cache.md"
log "callgrind (instructions per operation)"
bash benches/callgrind.sh | tee "$out/callgrind.md"
log "e2e (SQLite import vs the sqlite3 shell; memory)"
bash benches/e2e.sh "${quick[@]}" | tee "$out/e2e.md"
log "crud_postgres"
cargo bench -j2 --bench crud_postgres -- "${quick[@]}" --json "$out/crud_postgres.json" | tee "$out/crud_postgres.md"
log "callgrind on PostgreSQL (the client's instructions per operation)"
bash benches/callgrind.sh --postgres "$PEOPLE_TEST_POSTGRES_URL" | tee "$out/callgrind_postgres.md"
log "e2e_postgres (import vs psql \\copy)"
# Five rounds, not the script's three: the two tools are within this
# machine's run-to-run noise of each other, and a median of five says more.
pg_rounds=(--rounds 5)
[[ ${#quick[@]} -eq 0 ]] || pg_rounds=()
bash benches/e2e_postgres.sh "${quick[@]}" "${pg_rounds[@]}" | tee "$out/e2e_postgres.md"
log "server_callgrind (the server's instructions for the same imports)"
bash benches/server_callgrind.sh "${quick[@]}" | tee "$out/server_callgrind.md"
log "lifecycle (upgrade, copy)"
PEOPLE_BENCH_POSTGRES_URL=$PEOPLE_TEST_POSTGRES_URL bash benches/lifecycle.sh "${quick[@]}" | tee "$out/lifecycle.md"

log "web: people serve vs Flask-SQLAlchemy (wrk)"
cargo build -j2 --release --bin people
bash benches/web/load.sh "${quick[@]}" --json "$out/web.json" | tee "$out/web.md"
log "web: two people serve processes, one PostgreSQL"
bash benches/web/scale_out.sh "${quick[@]}" | tee "$out/scale_out.md"

log "chart"
venv=$repo/target/chart-venv
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'matplotlib>=3.8,<4'
fi
"$venv/bin/python" benches/chart.py benches/chart.png "$out/crud.json" "$out/crud_postgres.json"
log "done: $out/*.md and benches/chart.png"
