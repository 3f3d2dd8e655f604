"""Statement execution as Snowflake would do it, around fakesnow's cursor:

* a write-write conflict WAITS for the other transaction (like Snowflake's row lock) and runs
  again, up to a lock timeout, instead of failing with HTTP 500 (which drivers retry blindly,
  running a non-idempotent statement twice);
* UPDATE, DELETE, MERGE and TRUNCATE lock their table until the transaction ends; at most 20
  statements wait for one lock in strict mode (the 21st fails at once, as in Snowflake);
* session parameters (LOCK_TIMEOUT, STATEMENT_TIMEOUT_IN_SECONDS, TIMEZONE, ...), session and
  transaction functions (CURRENT_SESSION(), SYSTEM$ABORT_SESSION(id), ...) are answered here;
* in strict mode DDL commits the open transaction first and runs in a transaction of its own;
* any other unhandled engine error is answered as a SQL error (HTTP 200, success false), never
  as HTTP 500.

DuckDB, under fakesnow, detects conflicts optimistically and aborts the losing transaction. To
wait like a lock, this module keeps a log of the statements of each open explicit transaction;
on a conflict it rolls back, sleeps, replays the log and runs the statement again. A replay
whose DML affects a different number of rows than the first time is refused: the transaction is
then aborted and every statement fails until ROLLBACK.

`install()` wraps FakeSnowflakeCursor.execute; every statement that arrives through the server
(`server=True`), including statements a stored procedure runs, goes through `execute`.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import duckdb
import snowflake.connector.errors
import sqlglot
import sqlglot.errors
from fakesnow import info_schema
from fakesnow.cursor import FakeSnowflakeCursor

from sfemu import cross_database, ddl, scripting, sessions, settings, system_functions

BEGIN_RE = re.compile(r"^\s*(BEGIN(\s+(TRANSACTION|WORK))?|START\s+TRANSACTION)\s*;?\s*$", re.IGNORECASE)
END_RE = re.compile(r"^\s*(COMMIT|ROLLBACK)\b", re.IGNORECASE)
ROLLBACK_RE = re.compile(r"^\s*ROLLBACK\b", re.IGNORECASE)
# DDL that Snowflake commits on its own, committing an open transaction first (TRUNCATE is DML).
DDL_RE = re.compile(
    r"^(CREATE|ALTER|DROP|UNDROP)\s+(OR\s+REPLACE\s+)?"
    r"((TEMP|TEMPORARY|TRANSIENT|VOLATILE|SECURE|LOCAL|GLOBAL|MATERIALIZED)\s+)*"
    r"(DATABASE|SCHEMA|TABLE|VIEW|STAGE|FILE\s+FORMAT|PROCEDURE|FUNCTION|SEQUENCE)\b",
    re.IGNORECASE,
)

LOCK_TIMEOUT_CODE = 625  # Snowflake's "statement aborted while waiting for a lock"
STATEMENT_TIMEOUT_CODE = 630  # Snowflake's "statement reached its statement timeout"
CANCELED_CODE = 604  # Snowflake's "SQL execution canceled"
# Snowflake aborts a statement at once when this many already wait for the same lock.
MAX_LOCK_WAITERS = 20

SUCCESS_SQL = "SELECT 'Statement executed successfully.' AS \"status\""

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
    """The lock timeout of the session running on this thread (see sessions.lock_timeout_seconds)."""
    return sessions.lock_timeout_seconds(sessions.current())


# Transaction ids, like Snowflake's 13-digit ones.
_transaction_ids = itertools.count(int(time.time() * 1000))


@dataclass
class Logged:
    command: str
    params: Any
    rowcount: int | None
    # What the statement returned the first time (a pyarrow Table; None for none): a replay
    # that returns something else ran against different data than the client saw.
    result: Any = None


@dataclass
class TransactionLog:
    """Statements of the session's open explicit transaction, in order, BEGIN first."""

    statements: list[Logged] = field(default_factory=list)
    aborted: str | None = None
    # When the session's last statement finished (monotonic seconds).
    last_active: float = field(default_factory=time.monotonic)
    # Held while one of the session's statements runs, so the reaper never touches a busy one.
    busy: threading.RLock = field(default_factory=threading.RLock)
    # CURRENT_TRANSACTION() of the open transaction.
    transaction_id: int | None = None
    # The DuckDB connection of each database the transaction wrote.
    routing: cross_database.Routing = field(default_factory=cross_database.Routing)

    @property
    def open(self) -> bool:
        return bool(self.statements)


def _log_of_conn(conn: Any) -> TransactionLog:  # noqa: ANN401
    log = getattr(conn, "_sfemu_transaction", None)
    if log is None:
        log = TransactionLog()
        conn._sfemu_transaction = log  # noqa: SLF001
    return log


def transaction_open(conn: Any) -> bool:  # noqa: ANN401
    """Whether the session has an explicit transaction open."""
    return _log_of_conn(conn).open


def _log_of(cursor: FakeSnowflakeCursor) -> TransactionLog:
    return _log_of_conn(cursor._conn)  # noqa: SLF001


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


def _rollback_conn(conn: Any) -> None:  # noqa: ANN401
    try:
        conn._duck_conn.execute("ROLLBACK")  # noqa: SLF001
    except duckdb.Error:
        pass  # autocommit statements roll back by themselves
    _log_of_conn(conn).routing.finish(conn, commit=False)


def _interrupt(conn: Any) -> None:  # noqa: ANN401
    """Cancels what the session's connections run (a no-op when they are idle)."""
    try:
        conn._duck_conn.interrupt()  # noqa: SLF001
    except (duckdb.Error, AttributeError):
        pass
    _log_of_conn(conn).routing.interrupt(conn)


def _rollback_quietly(cursor: FakeSnowflakeCursor) -> None:
    _rollback_conn(cursor._conn)  # noqa: SLF001


def _first_line(command: str) -> str:
    return command.strip().splitlines()[0][:200] if command.strip() else command


def _lock_error(command: str, why: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Statement '{_first_line(command)}' was aborted because of a lock wait timeout: {why} (emulated by sfemu)",
        errno=LOCK_TIMEOUT_CODE,
        sqlstate="57014",
    )


def _waiters_error() -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Statement '{uuid.uuid4()}' was aborted because the number of waiters for this lock exceeds "
        f"the {MAX_LOCK_WAITERS} statements limit.",
        errno=LOCK_TIMEOUT_CODE,
        sqlstate="57014",
    )


def _timeout_error(seconds: float) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Statement reached its statement or warehouse timeout of {seconds:g} second(s) and was canceled.",
        errno=STATEMENT_TIMEOUT_CODE,
        sqlstate="57014",
    )


def _canceled_error(why: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL execution canceled: {why}", errno=CANCELED_CODE, sqlstate="57014"
    )


def _aborted_error(command: str, why: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Statement '{_first_line(command)}' cannot run: {why} (emulated by sfemu)",
        errno=LOCK_TIMEOUT_CODE,
        sqlstate="57014",
    )


def _as_sql_error(error: Exception) -> snowflake.connector.errors.ProgrammingError:
    """An engine error fakesnow does not translate, answered as a SQL error."""
    if isinstance(error, duckdb.ConstraintException):
        return snowflake.connector.errors.ProgrammingError(msg=str(error), errno=100072, sqlstate="22000")
    if isinstance(error, duckdb.OutOfRangeException):
        # a NUMBER(38,0) sum or product beyond 38 digits (Snowflake's numeric overflow error)
        return snowflake.connector.errors.ProgrammingError(
            msg=f"Number out of representable range: {error}", errno=100046, sqlstate="22003"
        )
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Unsupported feature (by the emulator): {type(error).__name__}: {error}",
        errno=2,
        sqlstate="0A000",
    )


LEADING_COMMENTS_RE = re.compile(r"^(\s*(--[^\n]*(\n|$)|/\*.*?\*/))*\s*", re.DOTALL)
LOCKING_DML_RE = re.compile(r"^(UPDATE|DELETE|MERGE|TRUNCATE)\b", re.IGNORECASE)


def statement_body(command: str) -> str:
    """The statement without its leading comments."""
    return LEADING_COMMENTS_RE.sub("", command, count=1)


def is_ddl(command: str) -> bool:
    return bool(DDL_RE.match(statement_body(command)))


# Table locks, as Snowflake takes them: UPDATE, DELETE, MERGE and TRUNCATE lock their target
# table until the transaction ends (an autocommit statement: until it finishes); another
# session's UPDATE/DELETE/MERGE/TRUNCATE of that table waits. INSERT and COPY take no lock.
# DuckDB has no locks at all (a second MERGE would insert a duplicate and the first COMMIT
# fail), so the layer keeps them. Guarded by _statement_finished.
_table_locks: dict[tuple[str, str, str], Any] = {}
# How many statements wait for each table lock (guarded by _statement_finished).
_lock_waiters: dict[tuple[str, str, str], int] = {}


def locked_table(command: str, database: str | None, schema: str | None) -> tuple[str, str, str] | None:
    """The table an UPDATE, DELETE, MERGE or TRUNCATE writes, fully qualified and upper case."""
    body = statement_body(command)
    if not LOCKING_DML_RE.match(body):
        return None
    try:
        expression = sqlglot.parse_one(body, read="snowflake")
    except sqlglot.errors.ParseError:
        return None
    table = expression.this
    if isinstance(expression, sqlglot.exp.TruncateTable) and expression.expressions:
        table = expression.expressions[0]
    if not isinstance(table, sqlglot.exp.Table):
        return None
    return (
        (table.catalog or database or "").upper(),
        (table.db or schema or "").upper(),
        table.name.upper(),
    )


def _alive(conn: Any) -> bool:  # noqa: ANN401
    import fakesnow.server  # noqa: PLC0415 (the live sessions)

    session = sessions.of_conn(conn)
    if session is not None and session.gone is not None:
        return False
    return any(live is conn for live in list(fakesnow.server.sessions.values()))


@dataclass
class Deadline:
    """When a statement's waits must end, and which error ends them."""

    lock_at: float
    lock_seconds: float
    statement_at: float | None
    statement_seconds: float | None

    @classmethod
    def start(cls, session: sessions.Session | None) -> Deadline:
        now = time.monotonic()
        lock_seconds = sessions.lock_timeout_seconds(session)
        statement_seconds = sessions.statement_timeout_seconds(session)
        return cls(
            lock_at=now + lock_seconds,
            lock_seconds=lock_seconds,
            statement_at=None if statement_seconds is None else now + statement_seconds,
            statement_seconds=statement_seconds,
        )

    def remaining(self) -> float:
        ends = [self.lock_at] if self.statement_at is None else [self.lock_at, self.statement_at]
        return min(ends) - time.monotonic()

    def statement_remaining(self) -> float | None:
        return None if self.statement_at is None else self.statement_at - time.monotonic()

    def expired_error(self, command: str, lock_why: str) -> snowflake.connector.errors.ProgrammingError:
        if self.statement_at is not None and self.statement_at <= self.lock_at:
            return _timeout_error(self.statement_seconds or 0)
        return _lock_error(command, lock_why)


def _check_alive(conn: Any) -> None:  # noqa: ANN401
    session = sessions.of_conn(conn)
    if session is not None and session.gone is not None:
        raise _canceled_error(f"the session ended ({session.gone})")


def _acquire(conn: Any, table: tuple[str, str, str], command: str, deadline: Deadline) -> None:  # noqa: ANN401
    """Waits until no other live session holds `table`, then holds it for `conn`."""
    with _statement_finished:
        owner = _table_locks.get(table)
        if owner is None or owner is conn or not _alive(owner):
            _table_locks[table] = conn
            return
        if settings.strict() and _lock_waiters.get(table, 0) >= MAX_LOCK_WAITERS:
            raise _waiters_error()
        _lock_waiters[table] = _lock_waiters.get(table, 0) + 1
        try:
            while True:
                _check_alive(conn)
                owner = _table_locks.get(table)
                if owner is None or owner is conn or not _alive(owner):
                    _table_locks[table] = conn
                    return
                remaining = deadline.remaining()
                if remaining <= 0:
                    raise deadline.expired_error(
                        command, f"table {'.'.join(table)} stayed locked for {deadline.lock_seconds:g}s"
                    )
                _statement_finished.wait(timeout=min(remaining, 0.2))
        finally:
            _lock_waiters[table] -= 1
            if not _lock_waiters[table]:
                del _lock_waiters[table]


def _release_all(conn: Any) -> None:  # noqa: ANN401
    with _statement_finished:
        for table in [t for t, owner in _table_locks.items() if owner is conn]:
            del _table_locks[table]
        _statement_finished.notify_all()


def _outside_transaction(make_sql: Any) -> Any:  # noqa: ANN401
    """fakesnow records table metadata (comments, VARCHAR lengths) in the `_fs_global`
    database with the statement's own connection. Inside BEGIN … COMMIT that is a second
    database written by one transaction, which DuckDB refuses, so CREATE TABLE and MERGE (which
    creates a work table) fail in transactions. Write the metadata in a transaction of its own
    instead (as fakesnow already does for file formats) and hand fakesnow a no-op.

    Two sessions creating the same table at once (CREATE TABLE IF NOT EXISTS) both upsert the
    same metadata row, and DuckDB fails the second commit with a constraint violation instead of
    updating: the write is retried, and then finds the row."""

    def run_separately(*args: Any, **kwargs: Any) -> str:
        sql = make_sql(*args, **kwargs)
        conn = sessions.current_conn()
        if conn is None:
            return sql
        for attempt in range(50):
            try:
                with conn._duck_conn.cursor() as metadata:  # noqa: SLF001
                    metadata.execute(sql)
                break
            except (duckdb.TransactionException, duckdb.ConstraintException):
                if attempt == 49:
                    raise
                time.sleep(0.02)
        return "SELECT 1"

    return run_separately


def _abort_open_transaction(conn: Any, why: str) -> bool:  # noqa: ANN401
    """Rolls back the session's open transaction and releases its locks; its next statements
    fail with `why` until ROLLBACK. The caller holds the session's busy lock."""
    log = _log_of_conn(conn)
    if not log.open:
        return False
    _rollback_conn(conn)
    log.statements.clear()
    log.aborted = why
    _release_all(conn)
    _notify_finished()
    return True


def reap_abandoned_transactions(now: float | None = None) -> int:
    """Rolls back open transactions idle for longer than settings.abandoned_after_seconds()
    (never in strict mode); how many."""
    import fakesnow.server  # noqa: PLC0415 (the live sessions)

    limit = settings.abandoned_after_seconds()
    if limit is None:
        return 0
    now = time.monotonic() if now is None else now
    reaped = 0
    for conn in list(fakesnow.server.sessions.values()):
        log = getattr(conn, "_sfemu_transaction", None)
        if log is None or not log.open or now - log.last_active < limit:
            continue
        if not log.busy.acquire(blocking=False):
            continue
        try:
            idle = now - log.last_active
            reaped += _abort_open_transaction(
                conn, f"the transaction was abandoned (idle for {idle:.0f}s) and rolled back by the emulator"
            )
        finally:
            log.busy.release()
    return reaped


def _is_busy(session: sessions.Session) -> bool:
    log = _log_of_conn(session.conn)
    if not log.busy.acquire(blocking=False):
        return True
    log.busy.release()
    return False


def _end_session(session: sessions.Session) -> None:
    """A session ended (logout, SYSTEM$ABORT_SESSION, idle): cancel what it runs, roll back its
    transaction, release its locks."""
    conn = session.conn
    log = _log_of_conn(conn)
    if sessions.current_conn() is not conn:
        _interrupt(conn)
    _notify_finished()  # its own lock waits notice the session is gone
    acquired = log.busy.acquire(timeout=30)
    try:
        _rollback_conn(conn)
        log.statements.clear()
        log.aborted = None
    finally:
        if acquired:
            log.busy.release()
    _release_all(conn)
    _notify_finished()


def abort_session(session_id: int) -> str:
    """SYSTEM$ABORT_SESSION(id)."""
    target = sessions.by_id(session_id)
    if target is None:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"Session {session_id} does not exist or not authorized.", errno=2003, sqlstate="02000"
        )
    sessions.end(target, "aborted by SYSTEM$ABORT_SESSION")
    return f"session [{session_id}] terminated."


def abort_transaction(transaction_id: int) -> str:
    """SYSTEM$ABORT_TRANSACTION(id): rolls back that open transaction and releases its locks; its
    session's next statements fail until it runs ROLLBACK. A transaction that already ended is
    left alone, as in Snowflake."""
    for session in sessions.alive():
        conn = session.conn
        log = _log_of_conn(conn)
        if log.transaction_id != transaction_id or not log.open:
            continue
        if sessions.current_conn() is not conn:
            _interrupt(conn)
        _notify_finished()
        acquired = log.busy.acquire(timeout=30)
        try:
            _abort_open_transaction(conn, f"transaction {transaction_id} was aborted by SYSTEM$ABORT_TRANSACTION")
        finally:
            if acquired:
                log.busy.release()
    return f"transaction [{transaction_id}] terminated."


def _start_reaper() -> None:
    def reap_forever() -> None:
        while True:
            time.sleep(1)
            try:
                reap_abandoned_transactions()
                sessions.end_idle(is_busy=_is_busy)
            except Exception:  # noqa: BLE001, S110 (the reaper must never die)
                pass

    threading.Thread(target=reap_forever, name="sfemu-reaper", daemon=True).start()


def layer_answer(cursor: FakeSnowflakeCursor, command: str, params: Any) -> tuple[str, Any]:  # noqa: ANN401
    """Statements the layer answers itself, rewritten into a query fakesnow can run: session
    parameters (ALTER SESSION, SHOW PARAMETERS) and the session/transaction functions."""
    conn = cursor._conn  # noqa: SLF001
    session = sessions.of_conn(conn)
    if change := sessions.parse_alter_session(command):
        sessions.apply(session, change)
        for other in change.others:  # fakesnow's own (AUTOCOMMIT) or unknown ones it refuses
            verb = "UNSET" if change.unset else "SET"
            original_execute(cursor, f"ALTER SESSION {verb} {other}", server=True)
        return SUCCESS_SQL, None
    if match := sessions.SHOW_PARAMETERS_RE.match(statement_body(command)):
        rows = sessions.show_parameters_rows(session, match.group(1))
        return _rows_sql(["key", "value", "default", "level", "description", "type"], rows), None
    log = _log_of_conn(conn)
    context = system_functions.Context(
        session_id=session.id if session is not None else None,
        transaction_id=log.transaction_id if log.open else None,
        abort_session=abort_session,
        abort_transaction=abort_transaction,
    )
    return system_functions.rewrite(command, params, context)


def _rows_sql(columns: list[str], rows: list[tuple[str, ...]]) -> str:
    def literal(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    names = ", ".join(f'"{c}"' for c in columns)
    if not rows:
        return "SELECT " + ", ".join(f'NULL::VARCHAR AS "{c}"' for c in columns) + " WHERE FALSE"
    values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"SELECT * FROM (VALUES {values}) AS t({names})"


# fakesnow's own execute, set by install().
original_execute: Any = None


class _Interrupter:
    """Cancels the running engine query when the statement timeout passes."""

    def __init__(self, cursor: FakeSnowflakeCursor, seconds: float | None) -> None:
        self.fired = False
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(max(seconds, 0.0), self._fire, args=(cursor,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, cursor: FakeSnowflakeCursor) -> None:
        self.fired = True
        try:
            cursor._duck_conn.interrupt()  # noqa: SLF001 (the connection the statement runs on)
        except (duckdb.Error, AttributeError):
            pass

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def install() -> None:
    """Wraps FakeSnowflakeCursor.execute for statements that arrive through the server."""
    global original_execute  # noqa: PLW0603
    original = FakeSnowflakeCursor.execute
    if getattr(original, "_sfemu", False):
        return
    original_execute = original
    _start_reaper()
    sessions.on_end(_end_session)
    info_schema.insert_table_comment_sql = _outside_transaction(info_schema.insert_table_comment_sql)
    info_schema.insert_text_lengths_sql = _outside_transaction(info_schema.insert_text_lengths_sql)

    def run(cursor: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        """fakesnow's execute on the DuckDB connection of the database the statement writes
        (cross_database.py); the session's own connection outside explicit transactions."""
        conn = cursor._conn  # noqa: SLF001
        log = _log_of_conn(conn)

        def through_ddl() -> FakeSnowflakeCursor:
            # CREATE DATABASE one at a time, CREATE TABLE IF NOT EXISTS of an existing table a no-op
            return ddl.run(
                cursor,
                statement_body(command),
                in_transaction=log.open or bool(getattr(conn, "_in_transaction", False)),
                run_fakesnow=lambda: original(cursor, command, *args, **kwargs),
                answer=lambda sql: original(cursor, sql, server=True),
            )

        if not log.open or BEGIN_RE.match(command) or END_RE.match(command):
            return through_ddl()
        chosen = log.routing.route(conn, command)
        if chosen is conn._duck_conn:  # noqa: SLF001
            return through_ddl()
        log.routing.sync(conn, chosen)
        saved = cursor._duck_conn  # noqa: SLF001
        cursor._duck_conn = chosen  # noqa: SLF001
        try:
            return through_ddl()
        finally:
            cursor._duck_conn = saved  # noqa: SLF001

    def replay(cursor: FakeSnowflakeCursor, log: TransactionLog) -> None:
        for entry in log.statements:
            run(cursor, entry.command, binding_params=entry.params, server=True)
            if entry.rowcount is not None and cursor.rowcount != entry.rowcount:
                raise _Diverged(entry.command, "affected a different number of rows")
            if entry.result is not None and not _same_result(entry.result, cursor._arrow_table):  # noqa: SLF001
                # For example ids an AUTOINCREMENT column drew again (sequences are not
                # transactional): the client holds the first ones and binds them later.
                raise _Diverged(entry.command, "returned different values")

    def execute(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        if not kwargs.get("server"):
            return original(self, command, *args, **kwargs)
        # A procedure's statements come back through this function one by one.
        if (answered := scripting.run_if_scripting(self, command, kwargs.get("binding_params"))) is not None:
            return answered
        conn = self._conn  # noqa: SLF001
        previous = sessions.set_current(conn)
        log = _log_of(self)
        log.busy.acquire()
        try:
            return execute_waiting(self, command, *args, **kwargs)
        finally:
            sessions.set_current(previous)
            log.last_active = time.monotonic()
            log.busy.release()
            # Only the end of a transaction (or an autocommit statement) releases locks.
            if END_RE.match(command) or not log.open:
                _release_all(conn)
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

    def commit_before_ddl(self: FakeSnowflakeCursor, log: TransactionLog) -> None:
        """Strict mode: DDL commits the open transaction first, as Snowflake does."""
        execute_waiting(self, "COMMIT", server=True)
        _release_all(self._conn)  # noqa: SLF001
        _notify_finished()

    def execute_waiting(self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any) -> FakeSnowflakeCursor:
        log = _log_of(self)
        conn = self._conn  # noqa: SLF001
        _check_alive(conn)
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

        command, params = layer_answer(self, command, kwargs.get("binding_params"))
        kwargs["binding_params"] = params
        if settings.strict() and log.open and is_ddl(command):
            commit_before_ddl(self, log)

        session = sessions.of_conn(conn)
        deadline = Deadline.start(session)
        if table := locked_table(command, conn.database, conn.schema):
            # Nothing ran yet: a lock wait timeout leaves the transaction as it was.
            _acquire(conn, table, command, deadline)
        delay = 0.01
        needs_replay = False
        duplicate_retried = False
        while True:
            seen = _ends_seen()
            interrupter = _Interrupter(self, deadline.statement_remaining())
            try:
                if needs_replay:
                    replay(self._conn.cursor(), log)  # noqa: SLF001
                    needs_replay = False
                run(self, command, *args, **kwargs)
                if END_RE.match(command):
                    log.routing.finish(conn, commit=not ROLLBACK_RE.match(command))
                break
            except _Diverged as diverged:
                _rollback_quietly(self)
                log.aborted = f"after waiting for a lock, '{diverged.command[:80]}' {diverged.why} than the first time"
                raise _lock_error(command, log.aborted) from None
            except duckdb.InterruptException as error:
                _check_alive(conn)  # aborted by SYSTEM$ABORT_SESSION: nothing to restore
                restore(self, log)
                if interrupter.fired:
                    raise _timeout_error(deadline.statement_seconds or 0) from None
                raise _canceled_error(str(error)) from None
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
                if interrupter.fired:
                    raise _timeout_error(deadline.statement_seconds or 0) from None
                raise
            except duckdb.Error as error:
                restore(self, log)
                raise _as_sql_error(error) from error
            finally:
                interrupter.cancel()
            # A conflict: wait for another transaction to end, then run again.
            _rollback_quietly(self)
            needs_replay = log.open
            _check_alive(conn)
            if deadline.remaining() <= 0:
                if log.open:
                    log.aborted = "the transaction lost a write-write conflict"
                raise deadline.expired_error(command, f"waited {deadline.lock_seconds:g}s")
            _wait_for_release(seen, min(delay, max(deadline.remaining(), 0.0)))
            delay = min(delay * 2, 0.2)

        _record(log, command, kwargs.get("binding_params"), self)
        return self

    execute._sfemu = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]


class _Diverged(Exception):
    def __init__(self, command: str, why: str) -> None:
        super().__init__(command)
        self.command = command
        self.why = why


def _same_result(first: Any, again: Any) -> bool:  # noqa: ANN401
    """Whether a replayed statement returned what it returned the first time (pyarrow Tables)."""
    return again is not None and bool(first.equals(again))


def _record(log: TransactionLog, command: str, params: Any, cursor: FakeSnowflakeCursor) -> None:  # noqa: ANN401
    if END_RE.match(command):
        log.statements.clear()
        log.transaction_id = None
    elif BEGIN_RE.match(command):
        if not log.open:
            log.transaction_id = next(_transaction_ids)
        log.statements = [Logged(command, params, None)]
    elif log.open:
        rowcount = cursor.rowcount if isinstance(cursor.rowcount, int) and cursor.rowcount >= 0 else None
        log.statements.append(Logged(command, params, rowcount, cursor._arrow_table))  # noqa: SLF001
