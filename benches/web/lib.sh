# shellcheck shell=bash
# shellcheck disable=SC2154  # people_bin, rows, flask_workers: set by the sourcing script
# Shared by load.sh and scale_out.sh (sourced, not run): tools, the Flask
# venv, starting and stopping servers, running wrk.
#
# The sourcing script sets, before it starts anything: people_bin, rows
# (seeded ids are 1..rows), flask_workers (load.sh), and calls stop_servers
# from its EXIT trap.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
harness=(python3 "$here/harness.py")
venv=$repo/target/web-venv

script_name=$(basename "$0" .sh)
# Builtins only (no $(...)), so a signal's trap never lands in a half-parsed
# command substitution.
log() { printf '[%s %(%H:%M:%S)T] %s\n' "$script_name" -1 "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
# The sourcing script's header comment, for --help.
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# positive_value OPTION VALUE: prints VALUE if it is a whole number above 0,
# else exits 2 (use as x=$(positive_value --opt "${2-}") under set -e).
positive_value() {
    [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "error: $1 needs a whole number above 0" >&2; exit 2; }
    echo "$2"
}

# --- tools ----------------------------------------------------------------------

# wrk (Debian's package), curl and python3; installs wrk/curl with apt-get when
# they are missing and we are root.
need_tools() {
    command -v python3 >/dev/null 2>&1 || die "python3 is needed"
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]} with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get install -y -qq "${missing[@]}" || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }; } >&2 \
            || die "could not install ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}"
    else
        die "missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}"
    fi
}

# The people binary must have the serve subcommand.
need_people_serve() {
    local bin=$1
    [[ -x $bin ]] || die "no people binary at $bin (build it with: cargo build --release)"
    "$bin" serve --help >/dev/null 2>&1 \
        || die "$bin has no 'serve' subcommand (rebuild it with: cargo build --release)"
}

# target/web-venv with requirements.txt installed; reinstalled when the file
# changes (a copy of it in the venv says what is installed).
ensure_flask_venv() {
    local stamp=$venv/requirements.installed.txt
    if [[ -x $venv/bin/gunicorn ]] && cmp -s "$here/requirements.txt" "$stamp"; then
        return 0
    fi
    log "installing benches/web/requirements.txt into ${venv#"$repo"/}"
    python3 -m venv "$venv" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2 \
        || die "pip install -r benches/web/requirements.txt failed"
    cp "$here/requirements.txt" "$stamp"
}

# --- servers --------------------------------------------------------------------

# Every process started here in its own process group: the servers, and wrk
# when it runs in the background.
group_pids=()

# start_server LOG COMMAND...: starts COMMAND in the background in its own
# process group (so that stopping it stops gunicorn's workers too), stdout
# and stderr to LOG; sets $started_pid.
start_server() {
    local log_file=$1
    shift
    # Without job control a background job is not a group leader, so setsid
    # makes the new group without forking: $! is the server's own pid.
    setsid "$@" >"$log_file" 2>&1 </dev/null &
    started_pid=$!
    group_pids+=("$started_pid")
}

# wait_healthy NAME PORT PID LOG: until GET /healthz answers 200 (30 s).
wait_healthy() {
    local name=$1 port=$2 pid=$3 log_file=$4
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$log_file" >&2
            die "$name exited before answering /healthz (its log is above)"
        fi
        curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        sleep 0.1
    done
    tail -n 20 "$log_file" >&2
    die "$name did not answer http://127.0.0.1:$port/healthz within 30 s (its log is above)"
}

# Stops every server (and background wrk) started here: SIGTERM to its
# process group, then SIGKILL after 10 s.
stop_servers() {
    local pid
    for pid in "${group_pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${group_pids[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    group_pids=()
}

# start_people NAME DATABASE_URL LOG: `people serve` on a free port; sets $started_port.
start_people() {
    local name=$1 url=$2 log_file=$3
    started_port=$("${harness[@]}" free-port)
    # RUST_LOG=warn: no per-request log line, which would cost people time
    # that the Flask side (gunicorn without an access log) does not pay.
    start_server "$log_file" env RUST_LOG=warn \
        "$people_bin" --database-url "$url" serve --addr "127.0.0.1:$started_port"
    wait_healthy "$name" "$started_port" "$started_pid" "$log_file"
}

# start_flask NAME DATABASE_FILE LOG: gunicorn, sync workers; sets $started_port.
start_flask() {
    local name=$1 db=$2 log_file=$3
    started_port=$("${harness[@]}" free-port)
    # --no-control-socket: gunicorn would otherwise leave ~/.gunicorn/gunicorn.ctl.
    # PYTHONDONTWRITEBYTECODE: no __pycache__ left in benches/web.
    start_server "$log_file" env DATABASE="$db" PYTHONDONTWRITEBYTECODE=1 \
        "$venv/bin/gunicorn" --no-control-socket --chdir "$here" \
        -w "$flask_workers" -k sync -b "127.0.0.1:$started_port" flask_app:app
    wait_healthy "$name" "$started_port" "$started_pid" "$log_file"
}

# --- wrk ------------------------------------------------------------------------

# wrk_command WORKLOAD PORT CONNECTIONS SECONDS THREADS NONCE: sets the
# array $wrk_cmd to one bounded wrk run of the workload's script.
wrk_command() {
    local workload=$1 port=$2 connections=$3 seconds=$4 threads=$5 nonce=$6
    # --timeout 5s: a response slower than that is an error (and the latency
    # histogram wrk keeps is sized by it). timeout(1) only guards a hung wrk.
    wrk_cmd=(timeout --kill-after=5 $((seconds + 60))
        wrk -t "$threads" -c "$connections" -d "${seconds}s" --timeout 5s
        -s "$here/wrk/$workload.lua" "http://127.0.0.1:$port" -- "$nonce" "$rows")
}

# run_wrk WORKLOAD PORT CONNECTIONS SECONDS THREADS NONCE OUT: one wrk run in
# the foreground, its output (with the wrk-result line) in OUT. Never fails
# the script: a wrk that failed leaves no wrk-result line, which the harness
# counts as an error.
run_wrk() {
    wrk_command "${@:1:6}"
    "${wrk_cmd[@]}" >"$7" 2>&1 || log "wrk exited with status $? for $1 (see the report)"
}

# start_wrk ...same as run_wrk...: the same in the background, in its own
# process group (stop_servers ends it too if the script stops early); sets
# $started_pid.
start_wrk() {
    wrk_command "${@:1:6}"
    start_server "$7" "${wrk_cmd[@]}"
}

# wait_wrk PID: waits for a start_wrk to end and forgets its group (so that
# stop_servers never signals a process group id the system has reused).
wait_wrk() {
    local pid=$1 kept=() other
    wait "$pid" || log "wrk exited with status $? (see the report)"
    for other in "${group_pids[@]}"; do
        [[ $other == "$pid" ]] || kept+=("$other")
    done
    group_pids=("${kept[@]}")
}
