"""Transactions that write to several databases, as Snowflake allows and DuckDB does not.

DuckDB refuses a second database in one transaction ("a single transaction can only write to a
single attached database"), so `BEGIN; COPY INTO target_db...; INSERT INTO metadata_db...;
COMMIT` failed. The layer gives such a transaction one DuckDB connection per database it writes:
the session's own connection for the first, another connection (with its own transaction) for
each further one. A statement runs on the connection that wrote the database it writes, or, for
a read, the one that wrote a database it reads (so it sees the transaction's own changes).

Limits (documented in emulator/README.md): one statement cannot read the uncommitted changes
of two of these connections (the layer refuses it with a clear error), and COMMIT commits the
connections one after the other, so a failure between them (DuckDB reports commit-time conflicts
rarely) can leave a partial commit, which Snowflake would not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import snowflake.connector.errors
import sqlglot
import sqlglot.errors
from sqlglot import exp

WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy, exp.TruncateTable, exp.Create, exp.Drop, exp.Alter)


def _catalog(table: exp.Table, current_database: str | None) -> str | None:
    database = table.catalog or current_database
    return database.upper() if database else None


def statement_databases(command: str, current_database: str | None) -> tuple[set[str], set[str]] | None:
    """The databases a statement writes and reads (upper case); None when it is not one the
    layer routes (BEGIN, USE, SHOW, CREATE DATABASE, text sqlglot cannot parse)."""
    try:
        expression = sqlglot.parse_one(command, read="snowflake")
    except sqlglot.errors.ParseError:
        return None
    if expression is None or isinstance(expression, (exp.Command, exp.Use, exp.Transaction, exp.Commit, exp.Rollback)):
        return None
    if isinstance(expression, (exp.Create, exp.Drop, exp.Alter)) and str(expression.args.get("kind", "")).upper() not in {
        "TABLE",
        "VIEW",
        "SEQUENCE",
    }:
        return None
    ctes = {cte.alias_or_name.upper() for cte in expression.find_all(exp.CTE)}
    writes: set[str] = set()
    if isinstance(expression, WRITES):
        target = expression.this
        if isinstance(expression, exp.TruncateTable) and expression.expressions:
            target = expression.expressions[0]
        if isinstance(target, exp.Schema):
            target = target.this
        if isinstance(target, exp.Table) and (database := _catalog(target, current_database)):
            writes.add(database)
    reads: set[str] = set()
    for table in expression.find_all(exp.Table):
        if not table.name or (not table.catalog and not table.db and table.name.upper() in ctes):
            continue
        if table.name.startswith("@") or isinstance(table.this, exp.Var):
            continue  # a stage
        if database := _catalog(table, current_database):
            reads.add(database)
    return writes, reads - writes


def _unsupported(message: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Unsupported feature (by the emulator): {message}", errno=2, sqlstate="0A000"
    )


@dataclass
class Routing:
    """Which DuckDB connection wrote which database in the open transaction."""

    written: dict[str, Any] = field(default_factory=dict)

    def secondaries(self, primary: Any) -> list[Any]:  # noqa: ANN401
        seen: list[Any] = []
        for duck in self.written.values():
            if duck is not primary and not any(duck is s for s in seen):
                seen.append(duck)
        return seen

    def route(self, conn: Any, command: str) -> Any:  # noqa: ANN401
        """The DuckDB connection the statement runs on, inside an explicit transaction."""
        primary = conn._duck_conn  # noqa: SLF001
        databases = statement_databases(command, conn.database)
        if databases is None:
            return primary
        writes, reads = databases
        if len(writes) > 1:
            return primary  # DuckDB reports it
        chosen: Any = None
        if writes:
            (database,) = writes
            chosen = self.written.get(database)
            if chosen is None:
                chosen = primary if not any(d is primary for d in self.written.values()) else self._open(conn)
                self.written[database] = chosen
        owners = [self.written[d] for d in sorted(reads) if d in self.written]
        for owner in owners:
            if chosen is None:
                chosen = owner
            elif owner is not chosen:
                raise _unsupported(
                    "one statement cannot read the uncommitted changes of two databases written by the same "
                    f"transaction ({', '.join(sorted(reads | writes))})"
                )
        return primary if chosen is None else chosen

    def _open(self, conn: Any) -> Any:  # noqa: ANN401
        duck = conn._duck_conn.cursor()  # noqa: SLF001
        duck.execute("BEGIN TRANSACTION")
        return duck

    def sync(self, conn: Any, duck: Any) -> None:  # noqa: ANN401
        """Gives a secondary connection the session's current database and schema."""
        if duck is conn._duck_conn or not conn.database_set:  # noqa: SLF001
            return
        schema = conn._schema if conn.schema_set else "main"  # noqa: SLF001
        duck.execute(f"SET schema='{conn.database}.{schema}'")

    def finish(self, conn: Any, commit: bool) -> None:  # noqa: ANN401
        """Ends the secondary connections' transactions (the session's own ended already)."""
        secondaries = self.secondaries(conn._duck_conn)  # noqa: SLF001
        self.written.clear()
        failure: Exception | None = None
        for duck in secondaries:
            try:
                duck.execute("COMMIT" if commit and failure is None else "ROLLBACK")
            except Exception as error:  # noqa: BLE001
                failure = failure or error
            try:
                duck.close()
            except Exception:  # noqa: BLE001, S110
                pass
        if failure is not None and commit:
            raise _unsupported(f"COMMIT of a transaction that wrote several databases failed part-way: {failure}")

    def interrupt(self, conn: Any) -> None:  # noqa: ANN401
        for duck in self.secondaries(conn._duck_conn):  # noqa: SLF001
            try:
                duck.interrupt()
            except Exception:  # noqa: BLE001, S110
                pass
