"""Sessions as Snowflake keeps them: a numeric id (CURRENT_SESSION()), the session parameters
the layer honours (ALTER SESSION SET ..., SHOW PARAMETERS), and the end of a session: the client
logs out, someone calls SYSTEM$ABORT_SESSION(id), or the session goes without any request for
SFEMU_SESSION_IDLE_SECONDS. An ended session's open transaction is rolled back and its locks
released (by the hooks statements.py registers); its token is forgotten, so its next request is
answered with 390112 (session expired).

fakesnow keeps only token -> connection (fakesnow.server.sessions); this module keeps the rest.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import snowflake.connector.errors

from sfemu import settings

# Snowflake's session ids are 13-digit numbers (docs example: 1065153868222).
_ids = itertools.count(1_065_153_868_001)


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str
    kind: str  # Snowflake's parameter type: STRING, NUMBER, BOOLEAN
    description: str
    # Values the emulator can honour (None: any valid value of the kind).
    allowed: frozenset[str] | None = None


# The session parameters the layer accepts in every mode. Only TIMEZONE (COPY's Parquet
# semantics in strict mode), LOCK_TIMEOUT and STATEMENT_TIMEOUT_IN_SECONDS change behaviour;
# the others are accepted with the one value the emulator implements.
PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in [
        Parameter("ABORT_DETACHED_QUERY", "false", "BOOLEAN", "abort a query whose client is gone (recorded only)"),
        Parameter(
            "LOCK_TIMEOUT",
            str(settings.SNOWFLAKE_LOCK_TIMEOUT_SECONDS),
            "NUMBER",
            "seconds a statement waits for a lock before it is aborted",
        ),
        Parameter("QUERY_TAG", "", "STRING", "a tag for the session's queries (recorded only)"),
        Parameter(
            "QUOTED_IDENTIFIERS_IGNORE_CASE",
            "false",
            "BOOLEAN",
            "if true, the case of quoted identifiers is ignored",
            frozenset({"false"}),
        ),
        Parameter(
            "STATEMENT_TIMEOUT_IN_SECONDS",
            str(settings.SNOWFLAKE_STATEMENT_TIMEOUT_SECONDS),
            "NUMBER",
            "seconds after which a running statement is canceled (0: no limit)",
        ),
        Parameter("TIMESTAMP_INPUT_FORMAT", "AUTO", "STRING", "input format for timestamps", frozenset({"AUTO"})),
        Parameter("TIMEZONE", settings.SNOWFLAKE_TIMEZONE, "STRING", "time zone of the session"),
    ]
}


@dataclass
class Session:
    id: int
    token: str
    conn: Any  # fakesnow's FakeSnowflakeConnection
    parameters: dict[str, str] = field(default_factory=dict)
    last_request: float = field(default_factory=time.monotonic)
    # Why the session ended (None while it is alive).
    gone: str | None = None

    def parameter(self, name: str) -> str:
        return self.parameters.get(name, PARAMETERS[name].default)

    def has(self, name: str) -> bool:
        return name in self.parameters


_lock = threading.RLock()
_by_token: dict[str, Session] = {}
_by_id: dict[int, Session] = {}
_end_hooks: list[Callable[[Session], None]] = []


def on_end(hook: Callable[[Session], None]) -> None:
    """Registers what must happen when a session ends (statements.py: roll back, release locks)."""
    if hook not in _end_hooks:
        _end_hooks.append(hook)


def register(token: str, conn: Any, login_parameters: dict[str, Any] | None = None) -> Session:
    """A session that just logged in; login SESSION_PARAMETERS the layer knows are applied."""
    session = Session(id=next(_ids), token=token, conn=conn)
    for name, value in (login_parameters or {}).items():
        upper = str(name).upper()
        if upper in PARAMETERS:
            session.parameters[upper] = checked_value(upper, value)
    with _lock:
        _by_token[token] = session
        _by_id[session.id] = session
    conn._sfemu_session = session  # noqa: SLF001
    return session


def of_conn(conn: Any) -> Session | None:
    return getattr(conn, "_sfemu_session", None)


def by_token(token: str) -> Session | None:
    with _lock:
        return _by_token.get(token)


def by_id(session_id: int) -> Session | None:
    with _lock:
        return _by_id.get(session_id)


def alive() -> list[Session]:
    with _lock:
        return [s for s in _by_token.values() if s.gone is None]


def touch(token: str) -> None:
    """Any request of the session (queries, heartbeats) keeps it alive."""
    if session := by_token(token):
        session.last_request = time.monotonic()


def end(session: Session, why: str) -> bool:
    """Ends a session: forgets its token, then runs the end hooks. False if it had ended."""
    import fakesnow.server  # noqa: PLC0415 (the live tokens)

    with _lock:
        if session.gone is not None:
            return False
        session.gone = why
        _by_token.pop(session.token, None)
        _by_id.pop(session.id, None)
        if fakesnow.server.sessions.get(session.token) is session.conn:
            del fakesnow.server.sessions[session.token]
    for hook in list(_end_hooks):
        hook(session)
    return True


def end_idle(now: float | None = None, is_busy: Callable[[Session], bool] = lambda _s: False) -> int:
    """Ends sessions without any request for SFEMU_SESSION_IDLE_SECONDS; how many."""
    now = time.monotonic() if now is None else now
    limit = settings.session_idle_seconds()
    ended = 0
    for session in alive():
        if now - session.last_request >= limit and not is_busy(session):
            ended += end(session, f"idle for {now - session.last_request:.0f}s")
    return ended


# --- session parameters -------------------------------------------------------------------


def parameter_error(message: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=message, errno=1008, sqlstate="22023")


def checked_value(name: str, raw: Any) -> str:  # noqa: ANN401
    """The value as Snowflake would store it, or Snowflake's 'invalid value' error."""
    parameter = PARAMETERS[name]
    value = str(raw).strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1].replace("''", "'")
    invalid = parameter_error(f"Invalid value [{value}] for parameter '{name}'")
    if parameter.kind == "NUMBER":
        if not re.fullmatch(r"\d+", value):
            raise invalid
        value = str(int(value))
    elif parameter.kind == "BOOLEAN":
        if value.lower() not in {"true", "false"}:
            raise invalid
        value = value.lower()
    elif name == "TIMEZONE":
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise invalid from None
    elif name == "TIMESTAMP_INPUT_FORMAT":
        value = value.upper()
    if parameter.allowed is not None and value not in parameter.allowed:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"Unsupported feature (by the emulator): {name} = {value} (only {', '.join(sorted(parameter.allowed))})",
            errno=2,
            sqlstate="0A000",
        )
    return value


ALTER_SESSION_RE = re.compile(r"^\s*ALTER\s+SESSION\s+(SET|UNSET)\s+(.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
ASSIGNMENT_RE = re.compile(r"\s*,?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^\s,]+)")
NAME_RE = re.compile(r"\s*,?\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class AlterSession:
    """ALTER SESSION SET/UNSET, split into the parameters the layer keeps and the rest (for
    fakesnow: AUTOCOMMIT, or an unknown parameter it refuses)."""

    unset: bool
    ours: dict[str, str | None]
    others: list[str]  # "NAME = value" (or "NAME" for UNSET) texts


def parse_alter_session(command: str) -> AlterSession | None:
    match = ALTER_SESSION_RE.match(command)
    if not match:
        return None
    unset = match.group(1).upper() == "UNSET"
    rest = match.group(2)
    pattern = NAME_RE if unset else ASSIGNMENT_RE
    ours: dict[str, str | None] = {}
    others: list[str] = []
    position = 0
    while position < len(rest):
        item = pattern.match(rest, position)
        if not item or item.end() == position:
            return None  # not something the layer understands: fakesnow answers it
        position = item.end()
        name = item.group(1).upper()
        value = None if unset else item.group(2)
        if name in PARAMETERS:
            ours[name] = None if value is None else checked_value(name, value)
        else:
            others.append(name if value is None else f"{name} = {value}")
    return AlterSession(unset=unset, ours=ours, others=others)


def apply(session: Session | None, change: AlterSession) -> None:
    if session is None:
        return
    for name, value in change.ours.items():
        if value is None:
            session.parameters.pop(name, None)
        else:
            session.parameters[name] = value


SHOW_PARAMETERS_RE = re.compile(
    r"^\s*SHOW\s+PARAMETERS(?:\s+LIKE\s+'((?:[^']|'')*)')?(?:\s+(?:IN|FOR)\s+SESSION)?\s*;?\s*$",
    re.IGNORECASE,
)


def _like(pattern: str) -> re.Pattern[str]:
    """Snowflake's LIKE (case-insensitive here, as SHOW ... LIKE is) as a regex."""
    out = []
    for char in pattern:
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def show_parameters_rows(session: Session | None, like: str | None) -> list[tuple[str, str, str, str, str, str]]:
    """SHOW PARAMETERS rows: key, value, default, level, description, type."""
    matcher = _like(like.replace("''", "'")) if like is not None else None
    rows = []
    for name in sorted(PARAMETERS):
        if matcher is not None and not matcher.fullmatch(name):
            continue
        parameter = PARAMETERS[name]
        set_here = session is not None and session.has(name)
        value = session.parameter(name) if session is not None else parameter.default
        rows.append((name, value, parameter.default, "SESSION" if set_here else "", parameter.description, parameter.kind))
    return rows


def lock_timeout_seconds(session: Session | None) -> float:
    """LOCK_TIMEOUT of the session if it set one, else the mode's default."""
    if session is not None and session.has("LOCK_TIMEOUT"):
        return float(session.parameter("LOCK_TIMEOUT"))
    return settings.default_lock_timeout_seconds()


def statement_timeout_seconds(session: Session | None) -> float | None:
    """STATEMENT_TIMEOUT_IN_SECONDS of the session (None: no limit the emulator enforces)."""
    if session is None or not session.has("STATEMENT_TIMEOUT_IN_SECONDS"):
        return None
    seconds = float(session.parameter("STATEMENT_TIMEOUT_IN_SECONDS"))
    return seconds or None


def timezone(session: Session | None) -> str:
    return session.parameter("TIMEZONE") if session is not None else settings.SNOWFLAKE_TIMEZONE


# The session whose statement this thread is running (set for server statements only).
_current = threading.local()


def current_conn() -> Any:  # noqa: ANN401
    return getattr(_current, "conn", None)


def current() -> Session | None:
    conn = current_conn()
    return of_conn(conn) if conn is not None else None


def set_current(conn: Any) -> Any:  # noqa: ANN401
    """Marks `conn` as the connection this thread runs a statement for; returns the previous one."""
    previous = getattr(_current, "conn", None)
    _current.conn = conn
    return previous
