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
from fakesnow.cursor import FakeSnowflakeCursor

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


def _as_sql_error(error: Exception) -> snowflake.connector.errors.ProgrammingError:
    """An engine error fakesnow does not translate, answered as a SQL error."""
    if isinstance(error, duckdb.ConstraintException):
        return snowflake.connector.errors.ProgrammingError(msg=str(error), errno=100072, sqlstate="22000")
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Unsupported feature (by the emulator): {type(error).__name__}: {error}",
        errno=2,
        sqlstate="0A000",
    )


def install() -> None:
    """Wraps FakeSnowflakeCursor.execute for statements that arrive through the server."""
    original = FakeSnowflakeCursor.execute
    if getattr(original, "_sfemu", False):
        return

    def replay(cursor: FakeSnowflakeCursor, log: TransactionLog) -> None:
        for entry in log.statements:
            original(cursor, entry.command, binding_params=entry.params, server=True)
            if entry.rowcount is not None and cursor.rowcount != entry.rowcount:
                raise _Diverged(entry.command)

    def execute(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        if not kwargs.get("server"):
            return original(self, command, *args, **kwargs)
        try:
            return execute_waiting(self, command, *args, **kwargs)
        finally:
            # Only the end of a transaction (or an autocommit statement) releases "locks".
            if END_RE.match(command) or not _log_of(self).open:
                _notify_finished()

    def execute_waiting(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        log = _log_of(self)
        if log.aborted is not None:
            if END_RE.match(command):
                log.aborted = None
                log.statements.clear()
                _rollback_quietly(self)
                return original(self, "ROLLBACK", server=True)
            raise _lock_error(command, log.aborted + "; the transaction was rolled back, run ROLLBACK")

        deadline = time.monotonic() + lock_timeout_seconds()
        delay = 0.01
        needs_replay = False
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
                    raise _as_sql_error(error) from error
                _rollback_quietly(self)
                needs_replay = log.open
                if time.monotonic() > deadline:
                    if log.open:
                        log.aborted = "the transaction lost a write-write conflict"
                    raise _lock_error(command, f"waited {lock_timeout_seconds():g}s") from None
                _wait_for_release(seen, delay)
                delay = min(delay * 2, 0.2)
            except (snowflake.connector.errors.Error, NotImplementedError):
                raise
            except duckdb.Error as error:
                raise _as_sql_error(error) from error

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
