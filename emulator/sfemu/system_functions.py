"""Snowflake's session and transaction functions, which fakesnow lacks: CURRENT_SESSION(),
CURRENT_TRANSACTION(), SYSTEM$ABORT_SESSION(id) and SYSTEM$ABORT_TRANSACTION(id).

The layer evaluates them before the statement runs and puts their value in its place as a
literal (named like Snowflake's result column, e.g. `CURRENT_SESSION()`), so the rest of the
statement runs through fakesnow unchanged. Their argument is a number or a bind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import snowflake.connector.errors
import sqlglot
import sqlglot.errors
from sqlglot import exp

NAMES_RE = re.compile(r"CURRENT_SESSION|CURRENT_TRANSACTION|SYSTEM\$ABORT_SESSION|SYSTEM\$ABORT_TRANSACTION", re.IGNORECASE)
ABORT_SESSION = "SYSTEM$ABORT_SESSION"
ABORT_TRANSACTION = "SYSTEM$ABORT_TRANSACTION"


@dataclass
class Context:
    """What the functions read and do, supplied by statements.py."""

    session_id: int | None
    transaction_id: int | None
    abort_session: Callable[[int], str]
    abort_transaction: Callable[[int], str]


def argument_error(name: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL compilation error:\nargument of {name} must be a constant number",
        errno=2141,
        sqlstate="22023",
    )


def rewrite(command: str, params: Any, context: Context) -> tuple[str, Any]:  # noqa: ANN401
    """The statement with every such function replaced by its value, and the binds it still
    uses. Unchanged when it calls none of them."""
    if not NAMES_RE.search(command):
        return command, params
    try:
        expression = sqlglot.parse_one(command, read="snowflake")
    except sqlglot.errors.ParseError:
        return command, params  # fakesnow reports the syntax error
    placeholders = list(expression.find_all(exp.Placeholder, bfs=False))
    values = list(params) if isinstance(params, (list, tuple)) else None
    used: set[int] = set()

    def number(name: str, node: exp.Expression) -> int:
        if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
            return int(node.this)
        if isinstance(node, exp.Literal) and node.is_string and re.fullmatch(r"\d+", node.this):
            return int(node.this)
        if isinstance(node, exp.CurrentSession) and context.session_id is not None:
            return context.session_id
        if isinstance(node, exp.CurrentTransaction) and context.transaction_id is not None:
            return context.transaction_id
        if isinstance(node, exp.Placeholder) and values is not None:
            for index, placeholder in enumerate(placeholders):
                if placeholder is node and index < len(values) and re.fullmatch(r"\d+", str(values[index])):
                    used.add(index)
                    return int(values[index])
        raise argument_error(name)

    def value(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.CurrentSession):
            return exp.Null() if context.session_id is None else exp.Literal.string(str(context.session_id))
        if isinstance(node, exp.CurrentTransaction):
            return exp.Null() if context.transaction_id is None else exp.Literal.string(str(context.transaction_id))
        if isinstance(node, exp.Anonymous) and node.name.upper() in (ABORT_SESSION, ABORT_TRANSACTION):
            name = node.name.upper()
            if len(node.expressions) != 1:
                raise argument_error(name)
            target = number(name, node.expressions[0])
            act = context.abort_session if name == ABORT_SESSION else context.abort_transaction
            return exp.Literal.string(act(target))
        return None

    def replace(node: exp.Expression) -> exp.Expression:
        literal = value(node)
        if literal is None:
            return node
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            return exp.alias_(literal, node.sql(dialect="snowflake").upper(), quoted=True)
        return literal

    rewritten = expression.transform(replace, copy=False)
    remaining = [v for i, v in enumerate(values) if i not in used] if values is not None else params
    return rewritten.sql(dialect="snowflake"), remaining
