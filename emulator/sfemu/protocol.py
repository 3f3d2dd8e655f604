"""Protocol fields that real Snowflake drivers read and fakesnow leaves out.

Pure functions over the JSON documents of the login and query endpoints, so they can be read
(and tested) without a server.
"""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Any

_session_ids = itertools.count(1)

# statementTypeId values of DML statements, as Snowflake reports them.
INSERT, UPDATE, DELETE, MERGE, MULTI_INSERT = 0x3100, 0x3200, 0x3300, 0x3400, 0x3500


def nop_regexes_from_env() -> list[str]:
    """FAKESNOW_NOP_REGEXES: regexes separated by ';;' whose statements succeed without running."""
    raw = os.environ.get("FAKESNOW_NOP_REGEXES", "")
    return [r for r in raw.split(";;") if r.strip()]


def login_request_body(body: dict[str, Any]) -> dict[str, Any]:
    """Defaults SESSION_PARAMETERS (fakesnow answers 500 without it) and injects nop regexes."""
    data = body.setdefault("data", {})
    params = data.get("SESSION_PARAMETERS") or {}
    data["SESSION_PARAMETERS"] = params
    regexes = nop_regexes_from_env()
    if regexes and "nop_regexes" not in params:
        params["nop_regexes"] = regexes
    return body


def login_response(answer: dict[str, Any], request_body: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """Adds the session fields drivers expect: master token, session id, validities, context."""
    data = answer.get("data") or {}
    if not answer.get("success") or "token" not in data:
        return answer
    login = request_body.get("data", {})
    data.setdefault("masterToken", data["token"])
    data.setdefault("sessionId", next(_session_ids))
    data.setdefault("validityInSeconds", 3600)
    data.setdefault("masterValidityInSeconds", 14400)
    data.setdefault("idToken", None)
    data.setdefault("idTokenValidityInSeconds", 0)
    data.setdefault("mfaToken", None)
    data.setdefault("mfaTokenValidityInSeconds", 0)
    data.setdefault("remMeToken", None)
    data.setdefault("remMeValidityInSeconds", 0)
    data.setdefault("healthCheckInterval", 45)
    data.setdefault("newClientForUpgrade", None)
    data.setdefault("displayUserName", login.get("LOGIN_NAME", "SFEMU"))
    data.setdefault("firstLogin", False)
    info = data.setdefault("sessionInfo", {})
    info.setdefault("warehouseName", query.get("warehouse"))
    info.setdefault("roleName", query.get("roleName") or "SYSADMIN")
    return answer


def _dml_stats(type_id: int | None, rowset: list[list[Any]] | None) -> dict[str, int] | None:
    """Snowflake's per-operation counts, derived from the rowset fakesnow returns for DML."""
    if type_id is None or not rowset:
        return None
    counts = [int(v) for v in rowset[0] if v is not None and str(v).lstrip("-").isdigit()]
    stats = {"numRowsInserted": 0, "numRowsUpdated": 0, "numRowsDeleted": 0, "numDmlDuplicates": 0}
    if type_id in (INSERT, MULTI_INSERT) and counts:
        stats["numRowsInserted"] = sum(counts)
    elif type_id == UPDATE and counts:
        stats["numRowsUpdated"] = counts[0]
    elif type_id == DELETE and counts:
        stats["numRowsDeleted"] = counts[0]
    elif type_id == MERGE and counts:
        keys = ["numRowsInserted", "numRowsUpdated", "numRowsDeleted"]
        for key, count in zip(keys, counts):
            stats[key] = count
    else:
        return None
    return stats


def query_response(answer: dict[str, Any], request_body: dict[str, Any], role: str | None) -> dict[str, Any]:
    """Adds the result fields drivers read; gives errors a query id, SQL state and age."""
    data = answer.get("data")
    if answer.get("success") and isinstance(data, dict):
        data.setdefault("returned", data.get("total", 0))
        data.setdefault("version", 1)
        data.setdefault("finalRoleName", role or "SYSADMIN")
        data.setdefault("finalWarehouseName", None)
        data.setdefault("numberOfBinds", len(request_body.get("bindings") or {}))
        if "stats" not in data and (stats := _dml_stats(data.get("statementTypeId"), data.get("rowset"))):
            data["stats"] = stats
        return answer
    if not answer.get("success"):
        data = data if isinstance(data, dict) else {}
        data.setdefault("errorCode", answer.get("code"))
        data.setdefault("sqlState", data.get("sqlState") or "P0000")
        data.setdefault("queryId", str(uuid.uuid4()))
        data.setdefault("age", 0)
        data.setdefault("internalError", False)
        answer["data"] = data
    return answer
