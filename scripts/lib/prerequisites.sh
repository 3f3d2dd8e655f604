# What building, testing and the demo need on a Debian machine of the project's kind, in one
# place: sourced by .ci/run, scripts/demo, scripts/bench-* and scripts/snowflake-emulator.
# Every function is idempotent and installs only what is missing.
#
#   prerequisites_packages      Debian packages (build: unixODBC's development files, because
#                               the binaries link -lodbc; sources: the PostgreSQL and SQLite
#                               ODBC drivers; clients: sqlite3, psql; curl, time)
#   prerequisites_emulator      the Snowflake emulator's Python environment in $SFEMU_VENV
#                               (default ~/.cache/sfemu-venv), from emulator/requirements.txt;
#                               python3-venv first where python3 cannot create one
#   prerequisites_driver_path   prints the ADBC Snowflake driver of that environment
#   prerequisites_postgres      PostgreSQL listening on 127.0.0.1:5432 (started when it is not)
#
# Needs `root` (the repository) to be set.

# The Debian packages, by purpose. unixodbc-dev is a build dependency: without it the link
# step fails with "unable to find library -lodbc".
PREREQUISITE_PACKAGES=(unixodbc unixodbc-dev odbc-postgresql libsqliteodbc sqlite3 postgresql-client curl time)

# With arguments: those packages instead of PREREQUISITE_PACKAGES.
prerequisites_packages() {
    local missing=() pkg wanted=("$@")
    [ ${#wanted[@]} -gt 0 ] || wanted=("${PREREQUISITE_PACKAGES[@]}")
    for pkg in "${wanted[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    printf 'installing Debian packages: %s\n' "${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        echo "cannot install ${missing[*]}: run as root or install them with apt-get" >&2
        return 1
    fi
    local as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

prerequisites_venv() {
    printf '%s' "${SFEMU_VENV:-$HOME/.cache/sfemu-venv}"
}

# Creates the environment, or reinstalls it when emulator/requirements.txt changed since (the
# environment keeps a copy of the requirements it was built from).
prerequisites_emulator() {
    local venv requirements stamp
    venv="$(prerequisites_venv)"
    requirements="$root/emulator/requirements.txt"
    stamp="$venv/.requirements.txt"
    if "$venv/bin/python" -c 'import fakesnow, adbc_driver_snowflake' >/dev/null 2>&1 \
        && cmp -s "$requirements" "$stamp"; then
        return 0
    fi
    printf 'creating the emulator environment in %s (from PyPI)\n' "$venv" >&2
    # Debian's own python3 creates environments only with python3-venv (ensurepip) installed.
    if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        prerequisites_packages python3-venv
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
}

# The same lookup as crates/core/src/snowflake/driver_library.rs: the package's folder (found
# without importing it) holds libadbc_driver_snowflake.so.
prerequisites_driver_path() {
    local folder
    folder="$("$(prerequisites_venv)/bin/python" -c \
        "import importlib.util as u; s = u.find_spec('adbc_driver_snowflake'); print(s.submodule_search_locations[0] if s else '')")"
    if [ -z "$folder" ] || [ ! -f "$folder/libadbc_driver_snowflake.so" ]; then
        echo "the ADBC Snowflake driver is not in $(prerequisites_venv): run prerequisites_emulator" >&2
        return 1
    fi
    printf '%s\n' "$folder/libadbc_driver_snowflake.so"
}

# The same start command the tests print when they cannot reach PostgreSQL
# (crates/test-support/src/postgres_server.rs).
prerequisites_postgres() {
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    printf 'starting PostgreSQL\n' >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    local _
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
    echo "PostgreSQL did not start listening on 127.0.0.1:5432 within 30s" >&2
    return 1
}
