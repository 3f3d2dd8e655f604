# What building, testing and the demo need on a Debian machine of the project's kind, in one
# place: sourced by .ci/run, scripts/demo, scripts/bench-* and scripts/snowflake-emulator.
# Every function is idempotent and installs only what is missing.
#
#   prerequisites_packages      Debian packages (build: unixODBC's development files, because
#                               the binaries link -lodbc; sources: the PostgreSQL and SQLite
#                               ODBC drivers; clients: sqlite3, psql; curl, time)
#   prerequisites_emulator      the Snowflake emulator's Python environment in $SFEMU_VENV
#                               (default ~/.cache/sfemu-venv), from emulator/requirements.txt
#   prerequisites_driver_path   prints the ADBC Snowflake driver of that environment
#
# Needs `root` (the repository) to be set.

# The Debian packages, by purpose. unixodbc-dev is a build dependency: without it the link
# step fails with "unable to find library -lodbc".
PREREQUISITE_PACKAGES=(unixodbc unixodbc-dev odbc-postgresql libsqliteodbc sqlite3 postgresql-client curl time)

prerequisites_packages() {
    local missing=() pkg
    for pkg in "${PREREQUISITE_PACKAGES[@]}"; do
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
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
}

prerequisites_driver_path() {
    "$(prerequisites_venv)/bin/python" -c \
        'import adbc_driver_snowflake, glob, os; print(glob.glob(os.path.join(os.path.dirname(adbc_driver_snowflake.__file__), "libadbc_driver_snowflake.so*"))[0])'
}
