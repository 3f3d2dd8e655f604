"""A real emulator for the layer's tests: the sfemu app served by uvicorn on a free port in this
process (started once), reached through snowflake-connector-python like any client.

Stage files are written where PUT would put them (fakesnow's local bucket), so tests do not pay
for an upload per file; one test covers PUT itself.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_port: int | None = None
_lock = threading.Lock()


def start() -> int:
    """The port of this process's emulator, started on first use."""
    global _port  # noqa: PLW0603
    with _lock:
        if _port is not None:
            return _port
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        import uvicorn  # noqa: PLC0415

        from sfemu.app import build_app  # noqa: PLC0415

        logging.getLogger("fakesnow.server").setLevel(logging.WARNING)
        logging.getLogger("snowflake.connector").setLevel(logging.ERROR)
        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        with contextlib.closing(socket.socket()) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(build_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, name="sfemu-test-server", daemon=True).start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start within 30s")
            time.sleep(0.02)
        _port = port
        atexit.register(cleanup)
        return port


def connect(**kwargs: Any) -> Any:  # noqa: ANN401
    """A new session (snowflake-connector-python), any database/schema in kwargs."""
    import snowflake.connector  # noqa: PLC0415

    parameters = {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False, **kwargs.pop("session_parameters", {})}
    return snowflake.connector.connect(
        user="sfemu",
        password="sfemu",
        account="sfemu",
        host="127.0.0.1",
        port=start(),
        protocol="http",
        session_parameters=parameters,
        network_timeout=60,
        **kwargs,
    )


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10].upper()}"


def bucket_folder(database: str, schema: str, stage_name: str, path: str = "") -> str:
    """Where fakesnow keeps an internal stage's files (stored names, as PUT writes them)."""
    import fakesnow.transforms.stage as stage  # noqa: PLC0415

    return os.path.join(stage.LOCAL_BUCKET_PATH, database, schema, stage_name, path)


def write_parquet(folder: str, name: str, table: pa.Table) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    pq.write_table(table, path)
    return path


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Sets environment variables (the emulator reads its settings at each statement)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def strict() -> contextlib.AbstractContextManager[None]:
    return environment(SFEMU_STRICT="1")


def lenient() -> contextlib.AbstractContextManager[None]:
    return environment(SFEMU_STRICT="0")


def cleanup() -> None:
    import fakesnow.transforms.stage as stage  # noqa: PLC0415

    shutil.rmtree(stage.LOCAL_BUCKET_PATH, ignore_errors=True)
