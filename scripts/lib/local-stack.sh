# Shared by scripts/demo and scripts/bench-end-to-end: a whole local stack (the Snowflake
# emulator, an orchestrator, workers) started from the real binaries, and stopped on exit.
# Source it after setting `work` (a folder for logs and generated files) and `root`.
#
# A run either ends with every table complete and verified, or says loudly that it did not and
# exits 1 (stack_watch, stack_require_verified): no number is reported over a broken copy.

# shellcheck source=prerequisites.sh
. "$root/scripts/lib/prerequisites.sh"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

stack_pids=()
# The daemons (orchestrator, workers): pid, label and log, to notice one that exits.
stack_daemon_pids=()
stack_daemon_labels=()
stack_daemon_logs=()

# stack_fail LINE...: says loudly (stderr, in red) that the run did not produce a complete,
# verified copy, and exits 1; the trap stops everything started.
stack_fail() {
    local line
    printf '\n\033[1;31m!!! FAILED: %s\033[0m\n' "$1" >&2
    shift
    for line in "$@"; do printf '\033[1;31m!!!   %s\033[0m\n' "$line" >&2; done
    exit 1
}

stack_track_daemon() {
    stack_pids+=("$1")
    stack_daemon_pids+=("$1")
    stack_daemon_labels+=("$2")
    stack_daemon_logs+=("$3")
}
# Stops what was started, newest first: the daemons finish while the emulator still answers
# them (a daemon whose Snowflake has vanished waits out the driver's network timeouts).
stack_cleanup() {
    local i pid
    for (( i=${#stack_pids[@]}-1; i>=0; i-- )); do
        pid="${stack_pids[$i]}"
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stack_cleanup EXIT INT TERM

# stack_build PROFILE: builds both binaries (debug or release) and sets $bin.
stack_build() {
    local profile="$1"
    say "building orchestrator and worker ($profile)"
    if [ "$profile" = release ]; then
        cargo build -q --release -p orchestrator -p worker
    else
        cargo build -q -p orchestrator -p worker
    fi
    bin="$root/target/$profile"
}

# stack_start_emulator: starts the emulator on a free port, writes $SNOWFLAKE_HOME/connections.toml
# with a connection named `local`, and exports what the binaries need.
stack_start_emulator() {
    say "starting the local Snowflake emulator"
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$root/scripts/snowflake-emulator" --port "$port" >"$work/emulator.log" 2>&1 &
    stack_pids+=($!)
    for _ in $(seq 600); do
        curl -fs "http://127.0.0.1:$port/sfemu/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -fs "http://127.0.0.1:$port/sfemu/health" >/dev/null || { cat "$work/emulator.log"; exit 1; }
    ADBC_SNOWFLAKE_DRIVER="$(prerequisites_driver_path)"
    export ADBC_SNOWFLAKE_DRIVER
    export SNOWFLAKE_HOME="$work/snowflake"
    mkdir -p "$SNOWFLAKE_HOME"
    cat >"$SNOWFLAKE_HOME/connections.toml" <<TOML
[local]
account = "local"
user = "local"
password = "local"
host = "127.0.0.1"
port = $port
protocol = "http"
TOML
    chmod 600 "$SNOWFLAKE_HOME/connections.toml"
    export SNOWFLAKE_CONNECTION_NAME=local
    # The emulator has no stored procedures: both daemons run the queue statements directly.
    export DATA_MIGRATION_QUEUE_TRANSPORT=direct
}

stack_start_orchestrator() {
    say "starting the orchestrator"
    DATA_MIGRATION_ORCHESTRATOR_POLL_INTERVAL_MS="${DATA_MIGRATION_ORCHESTRATOR_POLL_INTERVAL_MS:-500}" \
        "$bin/orchestrator" >"$work/orchestrator.log" 2>&1 &
    stack_track_daemon $! orchestrator "$work/orchestrator.log"
}

# stack_start_worker SLOTS SOURCE_SECTION: SOURCE_SECTION is the TOML of [connections.source.*].
stack_start_worker() {
    local slots="$1" source_section="$2"
    cat >"$work/worker.toml" <<TOML
selected_task_source = "snowflake_direct_sql"

[application]
max_parallel_tasks = $slots
task_fetch_interval = 1

$source_section

[connections.target.snowflake_connection_name]
connection_name = "local"
TOML
    say "starting a worker with $slots task slots"
    "$bin/worker" -c "$work/worker.toml" >"$work/worker.log" 2>&1 &
    stack_track_daemon $! worker "$work/worker.log"
}

# stack_watch NAME TIMEOUT_SECONDS: shows `orchestrator status --watch` until workflow NAME
# completes. Fails loudly when a daemon exits on its own or the workflow is not done in time.
stack_watch() {
    local name="$1" timeout="$2" watcher started i
    "$bin/orchestrator" status --workflow "$name" --watch &
    watcher=$!
    started=$(date +%s)
    while kill -0 "$watcher" 2>/dev/null; do
        for i in "${!stack_daemon_pids[@]}"; do
            if ! kill -0 "${stack_daemon_pids[$i]}" 2>/dev/null; then
                kill "$watcher" 2>/dev/null || true
                tail -n 20 "${stack_daemon_logs[$i]}" >&2 || true
                stack_fail "the ${stack_daemon_labels[$i]} exited before workflow $name completed" \
                    "its log: ${stack_daemon_logs[$i]}"
            fi
        done
        if (( $(date +%s) - started > timeout )); then
            kill "$watcher" 2>/dev/null || true
            stack_fail "workflow $name did not complete within ${timeout}s" "logs in $work"
        fi
        sleep 1
    done
    wait "$watcher" || stack_fail "orchestrator status --workflow $name failed" "logs in $work"
}

# stack_require_verified NAME: runs `orchestrator verify` (row counts and content checksums of
# every table) and prints its report, also to $work/verify.log. Any table that is not complete
# and verified fails the run loudly, with the workflow's status (failed partitions, an example
# error per table).
stack_require_verified() {
    local name="$1"
    if "$bin/orchestrator" verify --workflow "$name" >"$work/verify.log" 2>&1; then
        cat "$work/verify.log"
        return 0
    fi
    cat "$work/verify.log"
    echo
    "$bin/orchestrator" status --workflow "$name" || true
    stack_fail "workflow $name is NOT a complete and verified copy (see the report above)" \
        "logs: $work/orchestrator.log, $work/worker.log"
}

# stack_target_rows SOURCE_SUFFIX: the "N rows in target" of the verify report line whose
# source name ends with SOURCE_SUFFIX (for example `.orders`), from $work/verify.log.
stack_target_rows() {
    local suffix="$1"
    { grep -F -- "$suffix -> " "$work/verify.log" || true; } | head -n 1 \
        | sed -n 's/.* \([0-9][0-9]*\) rows in target.*/\1/p'
}
