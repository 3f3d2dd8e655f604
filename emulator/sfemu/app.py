"""The ASGI application: fakesnow's server routes, wrapped by the compatibility fixes."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import fakesnow.server as fs_server
from fakesnow import macros
import sqlglot
import sqlglot.errors
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sfemu import arrow_fixes, copy_into, ddl, numbers, protocol, semi_structured, sessions, statements

# Role named at login, per session token (fakesnow does not keep it).
_roles: dict[str, str | None] = {}

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body) if body else {}


def _with_json_body(request: Request, document: dict[str, Any]) -> Request:
    """The same request carrying `document` as a plain (not gzipped) JSON body."""
    body = json.dumps(document).encode()
    headers = [
        (k, v) for k, v in request.scope["headers"] if k.lower() not in (b"content-encoding", b"content-length")
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {**request.scope, "headers": headers}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def _answer(response: Response) -> dict[str, Any]:
    return json.loads(bytes(response.body))


# Accounts registered through /sfemu/users check credentials: {ACCOUNT: {USER: password}}.
# Every other account accepts any user and password, as fakesnow does.
_users: dict[str, dict[str, str]] = {}

BAD_CREDENTIALS = {
    "code": "390100",
    "message": "Incorrect username or password was specified.",
    "success": False,
    "data": {"errorCode": "390100", "age": 0, "internalError": False, "nextAction": None},
}


def credentials_refused(data: dict[str, Any]) -> bool:
    """Whether a login to a registered account names an unknown user or a wrong password."""
    users = _users.get(str(data.get("ACCOUNT_NAME", "")).upper())
    if users is None:
        return False
    return users.get(str(data.get("LOGIN_NAME", "")).upper()) != data.get("PASSWORD")


async def login_request(request: Request) -> Response:
    document = protocol.login_request_body(await _json_body(request))
    if credentials_refused(document.get("data") or {}):
        # Snowflake answers a bad password with HTTP 200 and code 390100.
        return JSONResponse(BAD_CREDENTIALS)
    response = await fs_server.login_request(_with_json_body(request, document))
    answer = _answer(response)
    token = (answer.get("data") or {}).get("token")
    if token and (conn := fs_server.sessions.get(token)) is not None:
        parameters = (document.get("data") or {}).get("SESSION_PARAMETERS") or {}
        try:
            session = sessions.register(token, conn, parameters)
        except Exception as error:  # noqa: BLE001 (an invalid login parameter refuses the login)
            fs_server.sessions.pop(token, None)
            return JSONResponse(unsupported(str(error)))
        answer["data"]["sessionId"] = session.id
    answer = protocol.login_response(answer, document, dict(request.query_params))
    if token:
        _roles[token] = request.query_params.get("roleName")
    return JSONResponse(answer, status_code=response.status_code)


async def session_request(request: Request) -> Response:
    """Heartbeats keep a session alive; `?delete=true` is the client's logout, which ends the
    session (its open transaction is rolled back, its locks released)."""
    token = _token(request)
    session = sessions.by_token(token)
    if session is None:
        return await fs_server.session(request)
    if request.query_params.get("delete", "").lower() in {"true", "1"}:
        await run_in_threadpool(sessions.end, session, "logged out")
    else:
        sessions.touch(token)
    return JSONResponse({"data": None, "code": None, "message": None, "success": True})


SESSION_EXPIRED = {
    "code": "390112",
    "message": "Your session has expired. Please login again.",
    "success": False,
    "data": {"errorCode": "390112", "sqlState": "08001", "age": 0, "internalError": False},
}
MASTER_TOKEN_EXPIRED = {
    "code": "390114",
    "message": "Authentication token has expired.  The user must authenticate again.",
    "success": False,
    "data": {"errorCode": "390114", "age": 0, "internalError": False},
}


def statement_count(sql: str) -> int:
    """How many statements the text holds (fakesnow would run them all, then fail)."""
    if ";" not in sql.strip().rstrip(";"):
        return 1
    try:
        return len([s for s in sqlglot.parse(sql, read="snowflake") if s is not None])
    except sqlglot.errors.ParseError:
        return 1  # fakesnow reports the syntax error


def multi_statement_refused(count: int) -> dict[str, Any]:
    """Snowflake refuses multi-statement text unless MULTI_STATEMENT_COUNT allows it."""
    return protocol.query_response(
        {
            "code": "000008",
            "message": f"Actual statement count {count} did not match the desired statement count 1.",
            "success": False,
            "data": {"errorCode": "000008", "sqlState": "0A000"},
        },
        {},
        None,
    )


def unsupported(message: str) -> dict[str, Any]:
    """A SQL error for what fakesnow cannot run (it would answer HTTP 500)."""
    return protocol.query_response(
        {
            "code": "000002",
            "message": f"Unsupported feature (by the emulator): {message}",
            "success": False,
            "data": {"errorCode": "000002", "sqlState": "0A000"},
        },
        {},
        None,
    )


def _token(request: Request) -> str:
    return request.headers.get("Authorization", "")[17:-1]


async def query_request(request: Request) -> Response:
    # Snowflake answers an unknown or expired session token with HTTP 200 and code 390112,
    # which drivers know (they try to renew the session); fakesnow answers HTTP 401.
    if _token(request) not in fs_server.sessions:
        return JSONResponse(SESSION_EXPIRED)
    sessions.touch(_token(request))
    document = await _json_body(request)
    if (count := statement_count(document.get("sqlText") or "")) > 1:
        return JSONResponse(multi_statement_refused(count))
    try:
        response = await fs_server.query_request(_with_json_body(request, document))
    except Exception as error:  # noqa: BLE001 (fakesnow failed while building its answer)
        return JSONResponse(unsupported(f"{type(error).__name__}: {error}"))
    if response.status_code >= 500:
        # Drivers retry HTTP 5xx blindly, running a statement twice: answer a SQL error instead.
        return JSONResponse(unsupported(_answer(response).get("message") or "internal error"))
    role = _roles.get(_token(request))
    answer = protocol.query_response(_answer(response), document, role)
    return JSONResponse(answer, status_code=response.status_code)


async def token_request(_request: Request) -> Response:
    """Session renewal is not emulated: the master token is reported expired, so the client
    logs in again."""
    return JSONResponse(MASTER_TOKEN_EXPIRED)


async def health(_request: Request) -> Response:
    return JSONResponse({"success": True})


async def create_database(request: Request) -> Response:
    """Test helper: creates a database with its PUBLIC schema (as Snowflake does)."""
    name = request.query_params.get("name", "")
    if not IDENTIFIER_RE.match(name):
        return JSONResponse({"success": False, "message": f"invalid database name {name!r}"}, status_code=400)

    def create() -> None:
        conn = fs_server.shared_fs.connect(None, None)
        cursor = conn.cursor()
        with ddl.database_lock:  # as every CREATE DATABASE (ddl.py)
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {name}")
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {name}.PUBLIC")
        conn.close()

    await run_in_threadpool(create)
    return JSONResponse({"success": True, "database": name.upper()})


async def register_user(request: Request) -> Response:
    """Test helper: from now on, logins to `?account=` need `?user=` with `?password=`."""
    account = request.query_params.get("account", "").upper()
    user = request.query_params.get("user", "").upper()
    if not account or not user:
        return JSONResponse({"success": False, "message": "account and user are required"}, status_code=400)
    _users.setdefault(account, {})[user] = request.query_params.get("password", "")
    return JSONResponse({"success": True})


async def expire_sessions(request: Request) -> Response:
    """Test helper: forgets session tokens, as if they had expired: all of them, or only those
    whose current database is `?database=NAME` (so parallel tests do not disturb each other)."""
    database = request.query_params.get("database")
    expired = [
        token
        for token, conn in list(fs_server.sessions.items())
        if database is None or (conn.database or "").upper() == database.upper()
    ]
    for token in expired:
        fs_server.sessions.pop(token, None)
    return JSONResponse({"success": True, "expired": len(expired)})


def install_default_catalog_macros() -> None:
    """fakesnow creates its helper macros (e.g. `_fs_to_timestamp`, behind TO_TIMESTAMP and
    timestamp casts) only in databases it creates, and calls them unqualified: a session with
    no current database (DuckDB's default catalog `memory`) could not use timestamps at all.
    Snowflake needs no current database for that, so the macros go into the default catalog too."""
    conn = fs_server.shared_fs.connect(None, None)
    conn._duck_conn.execute(macros.creation_sql("memory"))
    numbers.install_macros(conn._duck_conn)
    conn.close()


def build_app() -> Starlette:
    statements.install()
    copy_into.install()
    semi_structured.install()
    numbers.install()
    install_default_catalog_macros()
    original_to_sf = fs_server.to_sf
    if not getattr(original_to_sf, "_sfemu", False):

        def to_sf(table: Any, rowtype: Any) -> Any:
            return arrow_fixes.fix_table(original_to_sf(table, rowtype))

        to_sf._sfemu = True  # type: ignore[attr-defined]
        fs_server.to_sf = to_sf

    replaced = {"/session/v1/login-request", "/queries/v1/query-request", "/session", "/session/heartbeat"}
    routes = [
        Route("/session/v1/login-request", login_request, methods=["POST"]),
        Route("/queries/v1/query-request", query_request, methods=["POST"]),
        Route("/session", session_request, methods=["POST"]),
        Route("/session/heartbeat", session_request, methods=["POST"]),
        Route("/session/token-request", token_request, methods=["POST"]),
        # Drivers post telemetry; accepted and dropped (fakesnow answers 404).
        Route("/telemetry/send", health, methods=["POST"]),
        Route("/sfemu/health", health, methods=["GET", "POST"]),
        Route("/sfemu/databases", create_database, methods=["POST"]),
        Route("/sfemu/expire-sessions", expire_sessions, methods=["POST"]),
        Route("/sfemu/users", register_user, methods=["POST"]),
        *[r for r in fs_server.routes if getattr(r, "path", None) not in replaced],
    ]
    return Starlette(routes=routes)
