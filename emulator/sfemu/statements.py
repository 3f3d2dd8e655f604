"""Statement execution as Snowflake would do it, around fakesnow's cursor:

* a write-write conflict WAITS for the other transaction (like Snowflake's row lock) and runs
  again, up to a lock timeout, instead of failing with HTTP 500 (which drivers retry blindly,
  running a non-idempotent statement twice);
* any other unhandled engine error is answered as a SQL error (HTTP 200, success false), never
  as HTTP 500.

DuckDB, under fakesnow, detects conflicts optimistically and aborts the losing transaction. To
wait like a lock, this module keeps a log of the statements of each open explicit transaction;
on a conflict it rolls back, sleeps, replays the log and runs the statement again. A replay
whose DML affects a different number of rows than the first time is refused: the transaction is
then aborted and every statement fails until ROLLBACK.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import snowflake.connector.errors
import sqlglot
import sqlglot.errors
from fakesnow import info_schema
from fakesnow.cursor import FakeSnowflakeCursor

from sfemu import scripting

BEGIN_RE = re.compile(r"^\s*(BEGIN(\s+(TRANSACTION|WORK))?|START\s+TRANSACTION)\s*;?\s*$", re.IGNORECASE)
END_RE = re.compile(r"^\s*(COMMIT|ROLLBACK)\b", re.IGNORECASE)
ROLLBACK_RE = re.compile(r"^\s*ROLLBACK\b", re.IGNORECASE)

LOCK_TIMEOUT_CODE = 625  # Snowflake's "statement aborted while waiting for a lock"

# Notified whenever a statement finishes (a commit may have released a "lock"), so waiters
# retry at once instead of sleeping out their backoff. A missed notification costs at most
# one backoff step.
_statement_finished = threading.Condition()
# Counts transaction ends; a waiter remembers the count it saw before its attempt, so an end
# that happened between the conflict and the wait is not missed.
_ends = 0


def _ends_seen() -> int:
    with _statement_finished:
        return _ends


def _notify_finished() -> None:
    global _ends  # noqa: PLW0603
    with _statement_finished:
        _ends += 1
        _statement_finished.notify_all()


def _wait_for_release(seen: int, seconds: float) -> None:
    with _statement_finished:
        _statement_finished.wait_for(lambda: _ends != seen, timeout=seconds)


def lock_timeout_seconds() -> float:
    return float(os.environ.get("SFEMU_LOCK_TIMEOUT_SECONDS", "60"))


def abandoned_after_seconds() -> float:
    """An open transaction idle this long belongs to a client that died (killed in tests):
    it is rolled back so its locks do not block everyone. Snowflake waits far longer (until
    the session expires); tests cannot."""
    return float(os.environ.get("SFEMU_ABANDONED_TRANSACTION_SECONDS", "30"))


@dataclass
class Logged:
    command: str
    params: Any
    rowcount: int | None


@dataclass
class TransactionLog:
    """Statements of the session's open explicit transaction, in order, BEGIN first."""

    statements: list[Logged] = field(default_factory=list)
    aborted: str | None = None
    # When the session's last statement finished (monotonic seconds).
    last_active: float = field(default_factory=time.monotonic)
    # Held while one of the session's statements runs, so the reaper never touches a busy one.
    busy: threading.RLock = field(default_factory=threading.RLock)

    @property
    def open(self) -> bool:
        return bool(self.statements)


def _log_of(cursor: FakeSnowflakeCursor) -> TransactionLog:
    conn = cursor._conn  # noqa: SLF001
    log = getattr(conn, "_sfemu_transaction", None)
    if log is None:
        log = TransactionLog()
        conn._sfemu_transaction = log  # noqa: SLF001
    return log


def _others_open(cursor: FakeSnowflakeCursor) -> bool:
    """Whether a session other than this cursor's has an explicit transaction open."""
    import fakesnow.server  # noqa: PLC0415 (the live sessions)

    own = cursor._conn  # noqa: SLF001
    for conn in list(fakesnow.server.sessions.values()):
        log = getattr(conn, "_sfemu_transaction", None)
        if conn is not own and log is not None and log.open:
            return True
    return False


def is_conflict(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, duckdb.TransactionException) and "onflict" in text


def _rollback_quietly(cursor: FakeSnowflakeCursor) -> None:
    try:
        cursor._conn._duck_conn.execute("ROLLBACK")  # noqa: SLF001
    except duckdb.Error:
        pass  # autocommit statements roll back by themselves


def _lock_error(command: str, why: str) -> snowflake.connector.errors.ProgrammingError:
    first = command.strip().splitlines()[0][:200] if command.strip() else command
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Statement '{first}' was aborted because of a lock wait timeout: {why} (emulated by sfemu)",
        errno=LOCK_TIMEOUT_CODE,
        sqlstate="57014",
    )


def _aborted_error(command: str, why: str) -> snowflake.connector.errors.ProgrammingError:
    first = command.strip().splitlines()[0][:200] if command.strip() else command
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Statement '{first}' cannot run: {why} (emulated by sfemu)",
        errno=LOCK_TIMEOUT_CODE,
        sqlstate="57014",
    )


def _as_sql_error(error: Exception) -> snowflake.connector.errors.ProgrammingError:
    """An engine error fakesnow does not translate, answered as a SQL error."""
    if isinstance(error, duckdb.ConstraintException):
        return snowflake.connector.errors.ProgrammingError(msg=str(error), errno=100072, sqlstate="22000")
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Unsupported feature (by the emulator): {type(error).__name__}: {error}",
        errno=2,
        sqlstate="0A000",
    )


LEADING_COMMENTS_RE = re.compile(r"^(\s*(--[^\n]*(\n|$)|/\*.*?\*/))*\s*", re.DOTALL)
LOCKING_DML_RE = re.compile(r"^(UPDATE|DELETE|MERGE)\b", re.IGNORECASE)

# Table locks, as Snowflake takes them: UPDATE, DELETE and MERGE lock their target table until
# the transaction ends (an autocommit statement: until it finishes); another session's
# UPDATE/DELETE/MERGE of that table waits. INSERT and COPY take no lock. DuckDB has no locks
# at all (a second MERGE would insert a duplicate and the first COMMIT fail), so the layer
# keeps them. Guarded by _statement_finished.
_table_locks: dict[tuple[str, str, str], Any] = {}


def locked_table(command: str, database: str | None, schema: str | None) -> tuple[str, str, str] | None:
    """The table an UPDATE, DELETE or MERGE writes, fully qualified and upper case."""
    body = LEADING_COMMENTS_RE.sub("", command, count=1)
    if not LOCKING_DML_RE.match(body):
        return None
    try:
        expression = sqlglot.parse_one(body, read="snowflake")
    except sqlglot.errors.ParseError:
        return None
    table = expression.this
    if not isinstance(table, sqlglot.exp.Table):
        return None
    return (
        (table.catalog or database or "").upper(),
        (table.db or schema or "").upper(),
        table.name.upper(),
    )


def _alive(conn: Any) -> bool:
    import fakesnow.server  # noqa: PLC0415 (the live sessions)

    return any(live is conn for live in list(fakesnow.server.sessions.values()))


def _acquire(conn: Any, table: tuple[str, str, str], command: str, deadline: float) -> None:
    """Waits until no other live session holds `table`, then holds it for `conn`."""
    with _statement_finished:
        while True:
            owner = _table_locks.get(table)
            if owner is None or owner is conn or not _alive(owner):
                _table_locks[table] = conn
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _lock_error(command, f"table {'.'.join(table)} stayed locked for {lock_timeout_seconds():g}s")
            _statement_finished.wait(timeout=min(remaining, 0.2))


def _release_all(conn: Any) -> None:
    with _statement_finished:
        for table in [t for t, owner in _table_locks.items() if owner is conn]:
            del _table_locks[table]
        _statement_finished.notify_all()


# The connection whose statement this thread is running (set for server statements only).
_current = threading.local()


def _outside_transaction(make_sql: Any) -> Any:
    """fakesnow records table metadata (comments, VARCHAR lengths) in the `_fs_global`
    database with the statement's own connection. Inside BEGIN … COMMIT that is a second
    database written by one transaction, which DuckDB refuses, so CREATE TABLE and MERGE (which
    creates a work table) fail in transactions. Write the metadata in a transaction of its own
    instead (as fakesnow already does for file formats) and hand fakesnow a no-op."""

    def run_separately(*args: Any, **kwargs: Any) -> str:
        sql = make_sql(*args, **kwargs)
        conn = getattr(_current, "conn", None)
        if conn is None:
            return sql
        with conn._duck_conn.cursor() as metadata:  # noqa: SLF001
            metadata.execute(sql)
        return "SELECT 1"

    return run_separately


def reap_abandoned_transactions(now: float | None = None) -> int:
    """Rolls back open transactions idle for longer than abandoned_after_seconds(); how many."""
    import fakesnow.server  # noqa: PLC0415 (the live sessions)

    now = time.monotonic() if now is None else now
    reaped = 0
    for conn in list(fakesnow.server.sessions.values()):
        log = getattr(conn, "_sfemu_transaction", None)
        if log is None or not log.open or now - log.last_active < abandoned_after_seconds():
            continue
        if not log.busy.acquire(blocking=False):
            continue
        try:
            try:
                conn._duck_conn.execute("ROLLBACK")  # noqa: SLF001
            except duckdb.Error:
                pass
            idle = now - log.last_active
            log.statements.clear()
            log.aborted = f"the transaction was abandoned (idle for {idle:.0f}s) and rolled back by the emulator"
            reaped += 1
        finally:
            log.busy.release()
        _release_all(conn)
    return reaped


def _start_reaper() -> None:
    def reap_forever() -> None:
        while True:
            time.sleep(1)
            reap_abandoned_transactions()

    threading.Thread(target=reap_forever, name="sfemu-reaper", daemon=True).start()


def install() -> None:
    """Wraps FakeSnowflakeCursor.execute for statements that arrive through the server."""
    original = FakeSnowflakeCursor.execute
    if getattr(original, "_sfemu", False):
        return
    _start_reaper()
    info_schema.insert_table_comment_sql = _outside_transaction(info_schema.insert_table_comment_sql)
    info_schema.insert_text_lengths_sql = _outside_transaction(info_schema.insert_text_lengths_sql)

    def replay(cursor: FakeSnowflakeCursor, log: TransactionLog) -> None:
        for entry in log.statements:
            original(cursor, entry.command, binding_params=entry.params, server=True)
            if entry.rowcount is not None and cursor.rowcount != entry.rowcount:
                raise _Diverged(entry.command)

    def execute(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        if not kwargs.get("server"):
            return original(self, command, *args, **kwargs)
        if (answered := scripting.run_if_scripting(self, command, kwargs.get("binding_params"))) is not None:
            return answered
        _current.conn = self._conn  # noqa: SLF001
        log = _log_of(self)
        log.busy.acquire()
        try:
            return execute_waiting(self, command, *args, **kwargs)
        finally:
            _current.conn = None
            log.last_active = time.monotonic()
            log.busy.release()
            # Only the end of a transaction (or an autocommit statement) releases locks.
            if END_RE.match(command) or not log.open:
                _release_all(self._conn)  # noqa: SLF001
                _notify_finished()

    def restore(cursor: FakeSnowflakeCursor, log: TransactionLog) -> None:
        """After a failed statement DuckDB has aborted the whole transaction, where Snowflake
        only undoes the statement: roll back and replay the transaction's earlier work."""
        _rollback_quietly(cursor)
        if not log.open:
            return
        try:
            replay(cursor._conn.cursor(), log)  # noqa: SLF001
        except Exception as error:  # noqa: BLE001 (any failure leaves the transaction unusable)
            _rollback_quietly(cursor)
            log.aborted = f"the emulator could not restore the transaction after a failed statement ({error})"

    def execute_waiting(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        log = _log_of(self)
        if log.aborted is not None:
            why = log.aborted
            if END_RE.match(command):
                log.aborted = None
                log.statements.clear()
                _rollback_quietly(self)
                if ROLLBACK_RE.match(command):
                    return original(self, "ROLLBACK", server=True)
                raise _aborted_error(command, why + "; nothing was committed")
            raise _aborted_error(command, why + "; run ROLLBACK")

        deadline = time.monotonic() + lock_timeout_seconds()
        conn = self._conn  # noqa: SLF001
        if table := locked_table(command, conn.database, conn.schema):
            # Nothing ran yet: a lock wait timeout leaves the transaction as it was.
            _acquire(conn, table, command, deadline)
        delay = 0.01
        needs_replay = False
        duplicate_retried = False
        while True:
            seen = _ends_seen()
            try:
                if needs_replay:
                    replay(self._conn.cursor(), log)  # noqa: SLF001
                    needs_replay = False
                original(self, command, *args, **kwargs)
                break
            except _Diverged as diverged:
                _rollback_quietly(self)
                log.aborted = f"after waiting for a lock, '{diverged.command[:80]}' affected different rows"
                raise _lock_error(command, log.aborted) from None
            except duckdb.TransactionException as error:
                if not is_conflict(error):
                    restore(self, log)
                    raise _as_sql_error(error) from error
            except duckdb.ConstraintException as error:
                # Two transactions inserting the same key: Snowflake would have made the second
                # wait for the first (MERGE and UPDATE lock), then re-evaluate. Wait while
                # another transaction is open; once none is, re-evaluate once, then report.
                if "Duplicate key" not in str(error) or (duplicate_retried and not _others_open(self)):
                    restore(self, log)
                    raise _as_sql_error(error) from error
                duplicate_retried = duplicate_retried or not _others_open(self)
            except (snowflake.connector.errors.Error, NotImplementedError):
                restore(self, log)
                raise
            except duckdb.Error as error:
                restore(self, log)
                raise _as_sql_error(error) from error
            # A conflict: wait for another transaction to end, then run again.
            _rollback_quietly(self)
            needs_replay = log.open
            if time.monotonic() > deadline:
                if log.open:
                    log.aborted = "the transaction lost a write-write conflict"
                raise _lock_error(command, f"waited {lock_timeout_seconds():g}s")
            _wait_for_release(seen, delay)
            delay = min(delay * 2, 0.2)

        _record(log, command, kwargs.get("binding_params"), self)
        return self

    execute._sfemu = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]


class _Diverged(Exception):
    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


def _record(log: TransactionLog, command: str, params: Any, cursor: FakeSnowflakeCursor) -> None:
    if END_RE.match(command):
        log.statements.clear()
    elif BEGIN_RE.match(command):
        log.statements = [Logged(command, params, None)]
    elif log.open:
        rowcount = cursor.rowcount if isinstance(cursor.rowcount, int) and cursor.rowcount >= 0 else None
        log.statements.append(Logged(command, params, rowcount))
