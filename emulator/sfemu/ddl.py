"""CREATE DATABASE and CREATE TABLE IF NOT EXISTS as Snowflake runs them when sessions race:

* `CREATE TABLE IF NOT EXISTS` of a table that exists does nothing (answer `<name> already
  exists, statement succeeded.`). fakesnow ran it and then, believing the table new, deleted
  the table's load history (`<db>._fs_information_schema._fs_load_history`), so the next COPY
  loaded the same files a second time, and a worker that prepared the table just after another
  one had loaded it erased that load from LOAD_HISTORY. The existence check and fakesnow's
  CREATE (with its DELETE) run in one transaction: a table another session creates after the
  check makes the CREATE fail with a write-write conflict (statements.py waits and runs it
  again, and then it finds the table), and the DELETE cannot see history committed after it.
* `CREATE DATABASE` statements run one at a time. fakesnow turns them into `ATTACH [IF NOT
  EXISTS]`, and DuckDB's ATTACH IF NOT EXISTS checks, then attaches: two sessions creating the
  same new database at once both attached it and the second failed ("Failed to attach
  database: database with name ... already exists"). The lock also covers the database's
  info-schema objects fakesnow creates after the ATTACH, and copy_into.ensure_info_schema.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import duckdb
import sqlglot
import sqlglot.errors
from sqlglot import exp

# Held while a CREATE DATABASE runs, and while a COPY creates a database's missing info-schema
# objects (re-entrant: a statement may hold it when it creates them).
database_lock = threading.RLock()

CREATE_DATABASE_RE = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(TRANSIENT\s+)?DATABASE\b", re.IGNORECASE)
CREATE_TABLE_IF_NOT_EXISTS_RE = re.compile(
    r"^\s*CREATE\s+((TEMP|TEMPORARY|TRANSIENT|VOLATILE|LOCAL|GLOBAL)\s+)*TABLE\s+IF\s+NOT\s+EXISTS\b",
    re.IGNORECASE,
)

TABLE_EXISTS_SQL = (
    "SELECT count(*) FROM duckdb_tables() WHERE lower(database_name) = lower(?) "
    "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)"
)


def _stored(identifier: exp.Identifier | None, name: str) -> str:
    """The name as Snowflake stores it: a quoted one as written, a plain one in upper case."""
    return name if identifier is not None and identifier.quoted else name.upper()


def table_if_not_exists(command: str, database: str | None, schema: str | None) -> tuple[str, str, str] | None:
    """The (database, schema, table) of a `CREATE TABLE IF NOT EXISTS`, as stored names; None for
    any other statement, or when a part cannot be resolved (fakesnow then reports it)."""
    if not CREATE_TABLE_IF_NOT_EXISTS_RE.match(command):
        return None
    try:
        expression = sqlglot.parse_one(command, read="snowflake")
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(expression, exp.Create) or not expression.args.get("exists") or expression.args.get("replace"):
        return None
    table = expression.this
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table) or not table.name:
        return None
    catalog = _stored(table.args.get("catalog"), table.catalog) if table.catalog else database
    db = _stored(table.args.get("db"), table.db) if table.db else schema
    if not catalog or not db:
        return None
    return catalog, db, _stored(table.this if isinstance(table.this, exp.Identifier) else None, table.name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run(
    cursor: Any,  # noqa: ANN401 (fakesnow's cursor, on the DuckDB connection the statement runs on)
    command: str,
    in_transaction: bool,
    run_fakesnow: Callable[[], Any],
    answer: Callable[[str], Any],
) -> Any:  # noqa: ANN401
    """Runs the statement through fakesnow (`run_fakesnow`), or answers it (`answer(sql)`)."""
    if CREATE_DATABASE_RE.match(command):
        with database_lock:
            return run_fakesnow()
    conn = cursor._conn  # noqa: SLF001
    names = table_if_not_exists(command, conn.database, conn.schema)
    if names is None:
        return run_fakesnow()
    duck = cursor._duck_conn  # noqa: SLF001
    # An autocommit statement gets a transaction of its own, so that the check and the CREATE
    # see the same tables. (With AUTOCOMMIT = FALSE fakesnow commits before any DDL, which
    # would end it: there the check and the CREATE are two steps, as before.)
    own = not in_transaction and getattr(conn, "_autocommit", True)
    if own:
        duck.execute("BEGIN TRANSACTION")
    try:
        if duck.execute(TABLE_EXISTS_SQL, list(names)).fetchone()[0]:
            if own:
                duck.execute("COMMIT")
                own = False
            return answer(f'SELECT {_literal(names[2] + " already exists, statement succeeded.")} AS "status"')
        result = run_fakesnow()
        if own:
            duck.execute("COMMIT")
            own = False
        return result
    except BaseException:
        if own:
            try:
                duck.execute("ROLLBACK")
            except duckdb.Error:
                pass
        raise
