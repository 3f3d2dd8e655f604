"""Runs the emulator: python -m sfemu [--host H] [--port N] [--exit-on-stdin-eof].

Prints `sfemu listening on http://HOST:PORT` once the socket is bound (port 0 picks a free
one), then serves until interrupted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading


def _private_stage_dir() -> str:
    """fakesnow keeps stage files under $TMPDIR (read at import): give it a private folder."""
    folder = tempfile.mkdtemp(prefix="sfemu-stages-")
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = None
    return folder


def _watch_stdin(cleanup: callable) -> None:  # type: ignore[valid-type]
    """Exits when stdin closes: the parent (a test binary) is gone, so must we be."""

    def watch() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        cleanup()
        os._exit(0)

    threading.Thread(target=watch, name="sfemu-stdin-watch", daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(prog="sfemu", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--remove-on-exit",
        metavar="DIR",
        help="a folder to delete when the emulator stops (the test harness's work folder)",
    )
    args = parser.parse_args()

    stage_dir = _private_stage_dir()

    def cleanup() -> None:
        shutil.rmtree(stage_dir, ignore_errors=True)
        if args.remove_on_exit:
            shutil.rmtree(args.remove_on_exit, ignore_errors=True)

    import uvicorn  # noqa: PLC0415 (after TMPDIR is set)

    from sfemu.app import build_app  # noqa: PLC0415

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it every answer waits ~40 ms for the
    # client's delayed ACK (Nagle), which made each statement five times slower.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    if args.exit_on_stdin_eof:
        _watch_stdin(cleanup)

    # uvicorn re-raises SIGTERM once it has shut down; make that an orderly exit so the stage
    # folder is removed (as it is on Ctrl-C).
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))

    config = uvicorn.Config(build_app(), log_level=args.log_level, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    print(f"sfemu listening on http://{host}:{port}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
