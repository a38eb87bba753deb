#!/usr/bin/env bash
# End-to-end benchmark of the `people` CLI, timed as whole processes.
#
#   1. import: `people import names.txt` into a fresh SQLite file, against the
#      sqlite3 shell loading the same file into the same `person` table (same
#      DDL, copied from migrations/sqlite/*/up.sql at run time) in one
#      transaction. Acceptance bound: people <= 1.5x sqlite3's wall time.
#   2. memory: max RSS of `people export` (lines, csv, json), `people list` and
#      `people list --json` over databases of N/10 and N rows. Acceptance
#      bound: the N-row RSS within 1.2x of the N/10-row RSS.
#
# Usage (from the repo root):
#   bash benches/e2e.sh                 # N = 1,000,000 names, 3 rounds
#   bash benches/e2e.sh --rounds 5
#   bash benches/e2e.sh --quick         # N = 100,000 names, 1 round (smoke run)
#   bash benches/e2e.sh --dir /var/tmp  # where the temp directory goes (default $TMPDIR or /tmp)
#
# Progress goes to stderr, the markdown report to stdout. The exit status is
# non-zero if the build or any correctness check fails; the timing and memory
# bounds are reported as PASS/FAIL but do not change the exit status.
set -euo pipefail

started_ns=$(date +%s%N)

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

rounds=3
rounds_given=0
quick=0
base_dir=${TMPDIR:-/tmp}
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "error: --rounds needs a positive integer" >&2; exit 2; }
            rounds=$2; rounds_given=1; shift 2 ;;
        --quick) quick=1; shift ;;
        --dir)
            [[ $# -ge 2 && -d $2 ]] || { echo "error: --dir needs an existing directory" >&2; exit 2; }
            base_dir=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ $quick == 1 ]]; then
    n=100000
    [[ $rounds_given == 1 ]] || rounds=1
else
    n=1000000
fi
small_n=$((n / 10))

log() { printf '[e2e %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- the repo root -------------------------------------------------------------
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=benches/import_inputs.sh
source "$repo/benches/import_inputs.sh"
[[ -f Cargo.toml && -d migrations/sqlite ]] || die "run from the people repo (no Cargo.toml / migrations/sqlite in $repo)"

# --- tools ---------------------------------------------------------------------
missing=()
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
[[ -x /usr/bin/time ]] || missing+=(time)
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]} (Debian packages) with apt-get"
        apt-get install -y "${missing[@]}" >&2 \
            || { apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; } \
            || die "could not install ${missing[*]}; install them with: sudo apt-get install -y sqlite3 time"
    else
        die "missing ${missing[*]}; install them with: sudo apt-get install -y sqlite3 time"
    fi
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found (a Rust toolchain is needed to build people)"

# --- build ---------------------------------------------------------------------
log "cargo build --release -j2 --bin people"
cargo build --release -j2 --bin people >&2
people="${CARGO_TARGET_DIR:-$repo/target}/release/people"
[[ $people == /* ]] || people="$repo/$people"
[[ -x $people ]] || die "no binary at $people after the build"

# --- the schema, copied from the migrations at run time -------------------------
migration_files sqlite
ddl=$(cat "${MIGRATION_FILES[@]}")

# --- scratch space -------------------------------------------------------------
work=$(mktemp -d "$base_dir/people-e2e.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The timed processes run in the scratch directory, so no .env of the repo
# (dotenvy searches the current directory and its parents) is picked up.
cd "$work"
names=$work/names.txt

log "generating $n distinct names in $names"
write_names "$n" "$names"
[[ $(wc -l < "$names") == "$n" ]] || die "names.txt does not have $n lines"
# Strictly increasing (sort -c -u) means all distinct.
LC_ALL=C sort -c -u "$names" || die "names.txt is not strictly increasing, so not all distinct"
# What a correct import holds: line i of names.txt has id i.
expected_digest=$(names_digest "$names")

# The sqlite3 side. Same per-connection pragmas as people (src/connection.rs:
# busy_timeout, foreign_keys, synchronous=NORMAL) and the same WAL file mode
# (src/migrations.rs), the schema created in its own transaction as people's
# migration is, then ONE transaction that .imports the file into a TEMP
# staging table and copies it into person in file order. The temp table lives
# in the temp database (not in the WAL), with SQLite's default temp_store and
# cache size; person keeps its AUTOINCREMENT id, UNIQUE name and both CHECKs.
sqlite_script=$work/sqlite3-import.sql
cat > "$sqlite_script" <<EOF
.bail on
PRAGMA busy_timeout = 5000;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = NORMAL;
PRAGMA journal_mode = WAL;
BEGIN IMMEDIATE;
$ddl
COMMIT;
CREATE TEMP TABLE person_import(name TEXT);
BEGIN IMMEDIATE;
.import --csv --schema temp "$names" person_import
INSERT INTO person(name) SELECT name FROM temp.person_import ORDER BY rowid;
COMMIT;
EOF

# --- helpers -------------------------------------------------------------------
# timed OUT_PREFIX CMD...: runs CMD (with the caller's redirections) under
# /usr/bin/time; sets WALL (seconds, from date +%s%N around it), USER_S, SYS_S, RSS_KB.
timed() {
    local t0 t1 status=0
    t0=$(date +%s%N)
    /usr/bin/time -o "$work/time.out" -f '%e %U %S %M' "$@" || status=$?
    t1=$(date +%s%N)
    if [[ $status != 0 ]]; then
        echo "error: command failed (exit $status): $*" >&2
        sed 's/^/  /' "$work/time.out" >&2 || true
        return "$status"
    fi
    WALL=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }')
    read -r _ USER_S SYS_S RSS_KB < <(tail -n 1 "$work/time.out")
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) printf "%.3f", a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
rmdb() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

# verify DB LABEL: the row count, every (id, name) pair, the schema and WAL mode.
person_sql=$(printf '%s\n' "$ddl" "SELECT sql FROM sqlite_master WHERE name = 'person';" | sqlite3 -batch ':memory:')
verify() {
    local db=$1 label=$2 count digest sql mode
    count=$(sqlite3 "$db" 'SELECT count(*) FROM person')
    [[ $count == "$n" ]] || die "$label: person has $count rows, expected $n"
    digest=$(sqlite3 "$db" "SELECT id || '|' || name FROM person ORDER BY id" | rows_digest)
    [[ $digest == "$expected_digest" ]] || die "$label: the (id, name) rows differ from names.txt line by line"
    sql=$(sqlite3 "$db" "SELECT sql FROM sqlite_master WHERE name = 'person'")
    [[ $sql == "$person_sql" ]] || die "$label: the person table is not the migration's"
    mode=$(sqlite3 "$db" 'PRAGMA journal_mode')
    [[ $mode == wal ]] || die "$label: journal_mode is $mode, not wal"
}

# --- 1. import race ------------------------------------------------------------
people_walls=() sqlite_walls=() round_ratios=()
people_user=() people_sys=() people_rss=()
sqlite_user=() sqlite_sys=() sqlite_rss=()
round_rows=()

run_people() {
    rmdb "$work/fresh.db"
    timed "$people" --database-url "$work/fresh.db" import "$names" > "$work/people.out" 2> "$work/people.err"
    [[ $(cat "$work/people.out") == "imported $n, skipped 0" ]] \
        || die "people import printed: $(cat "$work/people.out" "$work/people.err")"
    people_walls+=("$WALL"); people_user+=("$USER_S"); people_sys+=("$SYS_S"); people_rss+=("$RSS_KB")
    P_WALL=$WALL
}
run_sqlite() {
    rmdb "$work/fresh2.db"
    timed sqlite3 -batch "$work/fresh2.db" < "$sqlite_script" > "$work/sqlite3.out" 2> "$work/sqlite3.err"
    [[ ! -s $work/sqlite3.err ]] || die "sqlite3 wrote to stderr: $(head -5 "$work/sqlite3.err")"
    sqlite_walls+=("$WALL"); sqlite_user+=("$USER_S"); sqlite_sys+=("$SYS_S"); sqlite_rss+=("$RSS_KB")
    S_WALL=$WALL
}

for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then
        order="people, sqlite3"; run_people; run_sqlite
    else
        order="sqlite3, people"; run_sqlite; run_people
    fi
    log "round $r/$rounds ($order): people ${P_WALL}s, sqlite3 ${S_WALL}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
    verify "$work/fresh.db" "people round $r"
    verify "$work/fresh2.db" "sqlite3 round $r"
    round_ratios+=("$(ratio "$P_WALL" "$S_WALL")")
    round_rows+=("| $r | $order | $P_WALL | $S_WALL | ${round_ratios[-1]}x |")
done

med_people=$(median "${people_walls[@]}")
med_sqlite=$(median "${sqlite_walls[@]}")
import_ratio=$(ratio "$med_people" "$med_sqlite")
import_verdict=$(awk -v r="$import_ratio" 'BEGIN { print (r <= 1.5 ? "PASS" : "FAIL") }')

# --- 2. memory of export / list --------------------------------------------------
# The N-row database is people's own import from the last round; the N/10-row
# one is imported from the first N/10 names (untimed).
for suffix in "" -wal -shm; do
    [[ ! -e $work/fresh.db$suffix ]] || mv "$work/fresh.db$suffix" "$work/big.db$suffix"
done
rmdb "$work/fresh2.db"
head -n "$small_n" "$names" > "$work/small-names.txt"
"$people" --database-url "$work/small.db" import "$work/small-names.txt" > /dev/null
[[ $("$people" --database-url "$work/small.db" count) == "$small_n" ]] || die "small.db does not have $small_n rows"
[[ $("$people" --database-url "$work/big.db" count) == "$n" ]] || die "big.db does not have $n rows"

commands=("export" "export --format csv" "export --format json" "list" "list --json")
# Every command writes every row (checked once per database before measuring).
for db in small big; do
    want=$([[ $db == small ]] && echo "$small_n" || echo "$n")
    for cmd in "${commands[@]}"; do
        # shellcheck disable=SC2086
        got=$("$people" --database-url "$work/$db.db" $cmd | wc -l)
        case $cmd in
            "export --format csv") got=$((got - 1)) ;;   # header
            *json*) got=$((got - 2)) ;;                    # [ and ]
        esac
        [[ $got == "$want" ]] || die "people $cmd on $db.db wrote $got rows, expected $want"
    done
done

declare -A rss_med
mem_rows=()
mem_verdict=PASS
for cmd in "people count" "${commands[@]/#/people }"; do
    sub=${cmd#people }
    for db in small big; do
        samples=()
        for ((r = 1; r <= rounds; r++)); do
            # shellcheck disable=SC2086
            timed "$people" --database-url "$work/$db.db" $sub > /dev/null
            samples+=("$RSS_KB")
        done
        rss_med[$db]=$(median "${samples[@]}" | cut -d. -f1)
    done
    rr=$(ratio "${rss_med[big]}" "${rss_med[small]}")
    if [[ $cmd == "people count" ]]; then
        verdict="(baseline)"
    elif [[ $quick == 1 ]]; then
        verdict="not judged (--quick)"
    else
        verdict=$(awk -v r="$rr" 'BEGIN { print (r <= 1.2 ? "PASS" : "FAIL") }')
        [[ $verdict == PASS ]] || mem_verdict=FAIL
    fi
    log "max RSS $cmd: ${rss_med[small]} KB / ${rss_med[big]} KB"
    mem_rows+=("| \`$cmd\` | $(commas "${rss_med[small]}") KB ($(mb "${rss_med[small]}") MB) | $(commas "${rss_med[big]}") KB ($(mb "${rss_med[big]}") MB) | ${rr}x | $verdict |")
done

# --- 3. report -----------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mhz=$(awk -F': *' '/^cpu MHz/ { printf "%.0f MHz", $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
# The first bare "3.x.y" string in the binary is the bundled sqlite_version().
bundled=$(strings -n 6 "$people" 2>/dev/null | awk '/^3\.[0-9]+\.[0-9]+$/ && !found { print; found = 1 }' || true)
bundled=${bundled:-unknown}
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=
[[ -z $(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null || true) ]] || dirty=" (with uncommitted changes)"
fs=$(df -PT "$work" | awk 'NR == 2 { print $2 }')
elapsed=$(awk -v d=$(( $(date +%s%N) - started_ns )) 'BEGIN { printf "%.0f", d / 1e9 }')

cat <<EOF
# people end-to-end benchmark

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| nproc | $(nproc) |
| CPU | ${cpu:-unknown}${mhz:+ ($mhz)} |
| memory | $mem_total |
| load average (1/5/15 min, at the end) | $(cut -d' ' -f1-3 /proc/loadavg) |
| sqlite3 (shell) | $(sqlite3 --version | cut -d' ' -f1-3) |
| people's SQLite (bundled) | $bundled |
| people | commit $commit$dirty, \`cargo build --release\` |
| names | $(commas "$n") (\`person-0000001\` …), rounds: $rounds$([[ $quick == 1 ]] && echo " (--quick)") |
| scratch | \`mktemp -d\` under $base_dir ($fs) |

## Import: $(commas "$n") names into a fresh SQLite file

Wall time of the whole process, median over $rounds round(s) (alternating order);
user/sys CPU seconds and max RSS are medians from \`/usr/bin/time\`.

| command | median wall s | min s | max s | user s | sys s | max RSS |
|---|--:|--:|--:|--:|--:|--:|
| \`people --database-url fresh.db import names.txt\` | $med_people | $(minimum "${people_walls[@]}") | $(maximum "${people_walls[@]}") | $(median "${people_user[@]}") | $(median "${people_sys[@]}") | $(mb "$(median "${people_rss[@]}")") MB |
| \`sqlite3 fresh2.db < sqlite3-import.sql\` | $med_sqlite | $(minimum "${sqlite_walls[@]}") | $(maximum "${sqlite_walls[@]}") | $(median "${sqlite_user[@]}") | $(median "${sqlite_sys[@]}") | $(mb "$(median "${sqlite_rss[@]}")") MB |

**people / sqlite3 = ${import_ratio}x** (ratio of the medians; median of the per-round ratios: $(median "${round_ratios[@]}" | awk '{ printf "%.2f", $1 }')x). Bound ≤ 1.5x: **$import_verdict**.

| round | order | people s | sqlite3 s | people/sqlite3 |
|--:|---|--:|--:|--:|
$(printf '%s\n' "${round_rows[@]}")

Checked after every round, on both files: $(commas "$n") rows, row \`id = i\` holds line \`i\`
of names.txt (an md5 over every \`id|name\`), the \`person\` DDL is the migration's, journal_mode is wal.

people validates every name as it reads it (1 to 80 characters, no control characters,
no leading or trailing whitespace); sqlite3 does not (the table's CHECK only bounds the length).

The sqlite3 side (\`sqlite3 -batch fresh2.db < sqlite3-import.sql\`; the DDL is copied from
$(printf '`%s` ' "${MIGRATION_FILES[@]#"$repo/"}")at run time):

\`\`\`sql
$(sed "s|$work/||" "$sqlite_script")
\`\`\`

## Max RSS of streaming reads (\`/usr/bin/time -f %M\`, output to /dev/null)

Median over $rounds run(s) each. \`people count\` is the process baseline (open, migrate check, one query).

| command | max RSS $(commas "$small_n") rows ($(mb $(( $(stat -c %s "$work/small.db") / 1024 ))) MB file) | max RSS $(commas "$n") rows ($(mb $(( $(stat -c %s "$work/big.db") / 1024 ))) MB file) | ratio | bound ≤ 1.2x |
|---|--:|--:|--:|---|
$(printf '%s\n' "${mem_rows[@]}")

$(if [[ $quick == 1 ]]; then
    echo "Memory bound: not judged in a --quick run. The bound is for 100,000 vs 1,000,000 rows: the"
    echo "$(commas "$small_n")-row file is smaller than SQLite's default page cache (2 MB), so here RSS grows with the file until the cache is full."
else
    echo "Memory bound: **$mem_verdict**."
fi)

Script runtime: ${elapsed} s (build included).
EOF
