"""The emulator's settings, read from the environment each time they are needed (so a test can
change one without restarting the server). Every setting is listed in emulator/README.md."""

from __future__ import annotations

import os

# Snowflake's defaults for the session parameters the layer honours.
SNOWFLAKE_LOCK_TIMEOUT_SECONDS = 43200
SNOWFLAKE_STATEMENT_TIMEOUT_SECONDS = 172800
SNOWFLAKE_SESSION_IDLE_SECONDS = 14400
SNOWFLAKE_TIMEZONE = "America/Los_Angeles"


def strict() -> bool:
    """SFEMU_STRICT=1: apply Snowflake's behaviour where the lenient default differs (DDL commits
    the open transaction, Parquet defaults of COPY, value size limits, lock waiter limit, no
    reaping of a killed client's transaction, Snowflake's lock timeout)."""
    return os.environ.get("SFEMU_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def default_lock_timeout_seconds() -> float:
    """How long a statement waits for a lock when its session set no LOCK_TIMEOUT: Snowflake's
    43200 s in strict mode, else SFEMU_LOCK_TIMEOUT_SECONDS (default 60)."""
    if strict():
        return float(SNOWFLAKE_LOCK_TIMEOUT_SECONDS)
    return _seconds("SFEMU_LOCK_TIMEOUT_SECONDS", 60)


def abandoned_after_seconds() -> float | None:
    """An open transaction idle this long belongs to a client that died (killed in tests): it is
    rolled back so its locks do not block everyone. Snowflake keeps it until its session is gone,
    and so does strict mode (None: never reaped)."""
    if strict():
        return None
    return _seconds("SFEMU_ABANDONED_TRANSACTION_SECONDS", 30)


def session_idle_seconds() -> float:
    """A session without any request for this long is gone (Snowflake: 4 hours)."""
    return _seconds("SFEMU_SESSION_IDLE_SECONDS", SNOWFLAKE_SESSION_IDLE_SECONDS)
