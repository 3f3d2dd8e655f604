# Shared by scripts/demo and scripts/bench-end-to-end: a whole local stack (the Snowflake
# emulator, an orchestrator, workers) started from the real binaries, and stopped on exit.
# Source it after setting `work` (a folder for logs and generated files) and `root`.

# shellcheck source=prerequisites.sh
. "$root/scripts/lib/prerequisites.sh"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

stack_pids=()
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
    stack_pids+=($!)
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
    stack_pids+=($!)
}
