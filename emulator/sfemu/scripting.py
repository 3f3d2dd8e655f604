"""Snowflake Scripting stored procedures in the emulator (fakesnow has none).

What is emulated is the subset the project's generated queue procedures use, and nothing
more; anything else is refused with a SQL error when the procedure is created (or called), so
no construct is ever silently ignored:

* ``CREATE [OR REPLACE] PROCEDURE name(ARG TYPE, ...) RETURNS TABLE (COL TYPE, ...)
  LANGUAGE SQL [EXECUTE AS OWNER] AS $$ ... $$`` stores the procedure per database and schema
  (names case-insensitive unless quoted; overloads by argument types, as in Snowflake);
  ``DROP PROCEDURE [IF EXISTS] name(TYPE, ...)`` removes one signature;
  ``CALL name(expr, ...)`` (arguments usually ``?`` binds) runs it and answers its table.
* In the body: ``DECLARE`` with ``name TYPE [DEFAULT expr];`` and ``name RESULTSET;``, then
  ``BEGIN ... [EXCEPTION WHEN OTHER THEN ...] END``, holding ``BEGIN TRANSACTION;``,
  ``COMMIT;``, ``ROLLBACK;``, SQL statements (SELECT, INSERT, UPDATE, DELETE, MERGE, WITH)
  whose ``:name`` are bound (never pasted) from arguments and variables,
  ``FOR i IN a TO b DO ... END FOR;``, ``IF (condition) THEN ... END IF;``, ``BREAK;``,
  ``name := expr;`` (a ``(SELECT ...)`` is run as a query: a RESULTSET keeps its rows, a scalar
  takes the single value), ``RETURN TABLE(resultset);`` and, in the handler, ``RAISE;``.
  Expressions (DEFAULT, IF, FOR bounds, scalar assignments) are evaluated by the engine, with
  bare variable names bound; ``SYSDATE()`` and ``UUID_STRING()`` are the engine's.
* Statements run through the emulator's normal statement path (``statements.py``: table locks,
  conflict waits, transaction tracking). A CALL runs in the server's thread to its end even if
  the client goes away after sending it, like Snowflake's one server-side round trip.

Transactions follow Snowflake's rules for stored procedures ("Transactions", scoped
transactions):

* A ``BEGIN TRANSACTION`` inside a procedure starts a transaction of the procedure's own
  scope, separate from any transaction the caller has open: it runs on a connection of its
  own, does not see the caller's uncommitted changes, and its COMMIT is not undone by the
  caller's later ROLLBACK (nor does the caller's COMMIT commit a procedure's work). It waits
  for table locks the caller holds like any other transaction; since the caller waits for the
  CALL, that ends in a lock wait timeout (Snowflake would deadlock the same way).
* A procedure must end what it began: if its body ends (or fails) with its transaction still
  open, the transaction is rolled back and the CALL fails. A ``COMMIT``/``ROLLBACK`` in a
  procedure that did not begin a transaction fails if the caller has one open ("a transaction
  that has started at a different scope"); with no transaction at all it does nothing.
* Statements outside the procedure's own transaction run in the caller's session: inside the
  caller's open transaction if there is one, else each on its own (autocommit).
* Unqualified object names resolve in the procedure's own database and schema inside its
  transaction, and in the session's elsewhere; the project's procedures qualify every name.

Differences kept on purpose (also in emulator/README.md): ``EXECUTE AS OWNER`` is accepted but
the emulator has no privileges, so owner's rights are not enforced; procedures live in memory
(lost when the emulator exits, not listed by SHOW); CREATE/DROP PROCEDURE do not commit an
open transaction. Test-only: ``CALL SYSTEM$SFEMU_FREEZE_CLOCK('<timestamp>' | NULL)`` makes
``SYSDATE()`` inside procedures of the session's current database return that timestamp (NULL
thaws it), so tests can move time by hand as the direct transport's manual clock does.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import snowflake.connector.errors

# --------------------------------------------------------------------------------------------
# Errors


def _error(message: str, errno: int, sqlstate: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=message, errno=errno, sqlstate=sqlstate)


def _raw(error: snowflake.connector.errors.Error) -> str:
    """An error's message without the `errno (sqlstate): ` prefix the connector adds."""
    return str(getattr(error, "raw_msg", None) or error.msg)


def syntax_error(message: str) -> snowflake.connector.errors.ProgrammingError:
    return _error(f"SQL compilation error: {message}", 1003, "42000")


def unsupported(message: str) -> snowflake.connector.errors.ProgrammingError:
    return _error(f"Unsupported feature (by the emulator's Snowflake Scripting): {message}", 2, "0A000")


def transaction_error(message: str) -> snowflake.connector.errors.ProgrammingError:
    return _error(f"{message} (emulated by sfemu)", 2, "25000")


# --------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True)
class Token:
    kind: str  # ws, comment, string, dollar, qident, ident, number, bind, op
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.upper() in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.text in ops


_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_NUMBER_RE = re.compile(r"\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?")
_OPS = ("::", ":=", "=>", "<=", ">=", "<>", "!=", "||")


def tokenize(text: str) -> list[Token]:
    """Snowflake's lexical rules as far as statements and blocks need them: string literals
    (backslash escapes and doubled quotes), ``$$`` strings, quoted identifiers, comments. A
    ``:name`` is a bind unless the colon directly follows an identifier, ``)``, ``]`` or ``"``
    (VARIANT path syntax, ``t.value:kind``); ``::`` is a cast and ``:=`` an assignment."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        start = i
        if c.isspace():
            while i < n and text[i].isspace():
                i += 1
            kind = "ws"
        elif text.startswith("--", i) or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            kind = "comment"
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise syntax_error("a /* comment is not closed")
            i = end + 2
            kind = "comment"
        elif text.startswith("$$", i):
            end = text.find("$$", i + 2)
            if end < 0:
                raise syntax_error("a $$ string is not closed")
            i = end + 2
            kind = "dollar"
        elif c == "'":
            i += 1
            while True:
                if i >= n:
                    raise syntax_error("a string literal is not closed")
                if text[i] == "\\":
                    i += 2
                elif text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
            kind = "string"
        elif c == '"':
            i += 1
            while True:
                if i >= n:
                    raise syntax_error("a quoted identifier is not closed")
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
            kind = "qident"
        elif c == ":" and not text.startswith("::", i) and not text.startswith(":=", i):
            word = _WORD_RE.match(text, i + 1)
            follows_path = i > 0 and (text[i - 1].isalnum() or text[i - 1] in '_$)]"')
            if word and not follows_path:
                i = word.end()
                kind = "bind"
            else:
                i += 1
                kind = "op"
        elif (word := _WORD_RE.match(text, i)) is not None:
            i = word.end()
            kind = "ident"
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            number = _NUMBER_RE.match(text, i)
            assert number is not None
            i = number.end()
            kind = "number"
        else:
            op = next((op for op in _OPS if text.startswith(op, i)), c)
            i += len(op)
            kind = "op"
        tokens.append(Token(kind, text[start:i], start, i))
    return tokens


def significant(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind not in ("ws", "comment")]


def identifier(token: Token) -> str:
    """An identifier as Snowflake stores it: unquoted upper-cased, quoted as written."""
    if token.kind == "qident":
        return token.text[1:-1].replace('""', '"')
    if token.kind == "ident":
        return token.text.upper()
    raise syntax_error(f"expected a name, found `{token.text}`")


# --------------------------------------------------------------------------------------------
# The syntax tree of a procedure body


@dataclass
class Expr:
    """An expression or a query, as the tokens of its text (evaluated by the engine)."""

    tokens: list[Token]

    @property
    def text(self) -> str:
        return "".join(t.text for t in self.tokens).strip()

    def is_query(self) -> bool:
        """A parenthesised SELECT/WITH, or a bare one."""
        inner = _strip_parens(significant(self.tokens))
        return bool(inner) and inner[0].is_word("SELECT", "WITH")


@dataclass
class Declare:
    name: str
    sql_type: str  # RESULTSET, or a SQL type
    default: Expr | None


@dataclass
class Sql:
    tokens: list[Token]
    keyword: str


@dataclass
class Begin:
    pass


@dataclass
class Commit:
    pass


@dataclass
class Rollback:
    pass


@dataclass
class For:
    counter: str
    first: Expr
    last: Expr
    body: list[Any]


@dataclass
class If:
    condition: Expr
    body: list[Any]


@dataclass
class Break:
    pass


@dataclass
class Assign:
    name: str
    value: Expr


@dataclass
class ReturnTable:
    name: str


@dataclass
class Raise:
    pass


@dataclass
class Block:
    declarations: list[Declare]
    statements: list[Any]
    handler: list[Any] | None


SQL_KEYWORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH")
DML_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "MERGE")
# Names Snowflake Scripting defines after each DML statement.
SPECIAL_VARIABLES = {"SQLROWCOUNT": "BIGINT", "SQLFOUND": "BOOLEAN", "SQLNOTFOUND": "BOOLEAN"}


def _strip_parens(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0].is_op("(") and tokens[-1].is_op(")") and _closes_at_end(tokens):
        tokens = tokens[1:-1]
    return tokens


def _inner(tokens: list[Token]) -> list[Token]:
    """Raw tokens without the parentheses around all of them (whitespace kept)."""
    while True:
        positions = [i for i, t in enumerate(tokens) if t.kind not in ("ws", "comment")]
        if len(positions) < 2:
            return tokens
        first, last = positions[0], positions[-1]
        meaningful = [tokens[i] for i in positions]
        if not (tokens[first].is_op("(") and tokens[last].is_op(")") and _closes_at_end(meaningful)):
            return tokens
        tokens = tokens[first + 1 : last]


def _closes_at_end(tokens: list[Token]) -> bool:
    depth = 0
    for index, token in enumerate(tokens):
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
            if depth == 0 and index != len(tokens) - 1:
                return False
    return True


class BodyParser:
    """Recursive descent over the body's tokens; comments and whitespace are kept inside SQL
    statements and expressions (their text is sent as written) but skipped between them."""

    def __init__(self, body: str) -> None:
        self.tokens = tokenize(body)
        self.pos = 0

    # -- token access ---------------------------------------------------------------------
    def _skip(self) -> None:
        while self.pos < len(self.tokens) and self.tokens[self.pos].kind in ("ws", "comment"):
            self.pos += 1

    def peek(self, ahead: int = 0) -> Token | None:
        self._skip()
        index = self.pos
        seen = 0
        while index < len(self.tokens):
            if self.tokens[index].kind not in ("ws", "comment"):
                if seen == ahead:
                    return self.tokens[index]
                seen += 1
            index += 1
        return None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise syntax_error("the procedure body ends too early (missing END?)")
        self.pos = self.tokens.index(token, self.pos) + 1
        return token

    def expect_word(self, *words: str) -> Token:
        token = self.next()
        if not token.is_word(*words):
            raise syntax_error(f"expected {' or '.join(words)}, found `{token.text}`")
        return token

    def expect_op(self, op: str) -> Token:
        token = self.next()
        if not token.is_op(op):
            raise syntax_error(f"expected `{op}`, found `{token.text}`")
        return token

    def until(self, stop: Any) -> list[Token]:
        """Raw tokens up to (not including) the first significant top-level token for which
        `stop` is true; parentheses nest."""
        start = self.pos
        depth = 0
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.kind not in ("ws", "comment"):
                if depth == 0 and stop(token):
                    return self.tokens[start : self.pos]
                if token.is_op("("):
                    depth += 1
                elif token.is_op(")"):
                    depth -= 1
            self.pos += 1
        raise syntax_error("the procedure body ends too early (a statement lacks its `;`?)")

    # -- grammar ---------------------------------------------------------------------------
    def block(self) -> Block:
        declarations: list[Declare] = []
        if (token := self.peek()) is not None and token.is_word("DECLARE"):
            self.next()
            while not (self.peek() or Token("op", "", 0, 0)).is_word("BEGIN"):
                declarations.append(self.declaration())
        self.expect_word("BEGIN")
        statements = self.statements(("END", "EXCEPTION"))
        handler = None
        if self.peek() is not None and self.peek().is_word("EXCEPTION"):  # type: ignore[union-attr]
            self.next()
            self.expect_word("WHEN")
            when = self.next()
            if not when.is_word("OTHER"):
                raise unsupported(f"exception handlers other than WHEN OTHER (found WHEN {when.text})")
            self.expect_word("THEN")
            handler = self.statements(("END",), in_handler=True)
        self.expect_word("END")
        if (token := self.peek()) is not None and token.is_op(";"):
            self.next()
        if (token := self.peek()) is not None:
            raise syntax_error(f"unexpected `{token.text}` after the block's END")
        return Block(declarations, statements, handler)

    def declaration(self) -> Declare:
        name = identifier(self.next())
        type_tokens = self.until(lambda t: t.is_op(";") or t.is_word("DEFAULT") or t.is_op(":="))
        sql_type = "".join(t.text for t in type_tokens).strip().upper()
        if not sql_type:
            raise syntax_error(f"variable {name} needs a type")
        if sql_type in ("CURSOR", "EXCEPTION") or sql_type.startswith("CURSOR "):
            raise unsupported(f"{sql_type} declarations (variable {name})")
        default = None
        token = self.next()
        if token.is_op(":="):
            raise unsupported(f"`:=` in DECLARE (use DEFAULT) for variable {name}")
        if token.is_word("DEFAULT"):
            if sql_type == "RESULTSET":
                raise unsupported(f"a RESULTSET with a DEFAULT query (variable {name})")
            default = Expr(self.until(lambda t: t.is_op(";")))
            self.expect_op(";")
        return Declare(name, sql_type, default)

    def statements(self, ends: tuple[str, ...], in_loop: bool = False, in_handler: bool = False) -> list[Any]:
        body: list[Any] = []
        while True:
            token = self.peek()
            if token is None:
                raise syntax_error(f"the procedure body ends before {' or '.join(ends)}")
            if token.is_word(*ends):
                return body
            body.append(self.statement(in_loop, in_handler))

    def statement(self, in_loop: bool, in_handler: bool) -> Any:
        token = self.peek()
        assert token is not None
        following = self.peek(1)
        if token.is_word("BEGIN"):
            self.next()
            if following is not None and following.is_word("TRANSACTION", "WORK"):
                self.next()
                self.expect_op(";")
                return Begin()
            raise unsupported("nested BEGIN ... END blocks (write BEGIN TRANSACTION to start a transaction)")
        if token.is_word("COMMIT", "ROLLBACK"):
            self.next()
            if (work := self.peek()) is not None and work.is_word("WORK"):
                self.next()
            self.expect_op(";")
            return Commit() if token.is_word("COMMIT") else Rollback()
        if token.is_word("FOR"):
            return self.for_loop(in_handler)
        if token.is_word("IF"):
            return self.if_statement(in_loop, in_handler)
        if token.is_word("BREAK"):
            self.next()
            self.expect_op(";")
            if not in_loop:
                raise syntax_error("BREAK outside a loop")
            return Break()
        if token.is_word("RETURN"):
            self.next()
            self.expect_word("TABLE")
            self.expect_op("(")
            name = identifier(self.next())
            self.expect_op(")")
            self.expect_op(";")
            return ReturnTable(name)
        if token.is_word("RAISE"):
            self.next()
            if not (self.peek() or token).is_op(";"):
                raise unsupported("RAISE of a named exception (only `RAISE;` in a handler)")
            self.expect_op(";")
            if not in_handler:
                raise syntax_error("`RAISE;` outside an EXCEPTION handler has no exception to raise again")
            return Raise()
        if token.kind in ("ident", "qident") and following is not None and following.is_op(":="):
            name = identifier(self.next())
            self.next()
            value = Expr(self.until(lambda t: t.is_op(";")))
            self.expect_op(";")
            return Assign(name, value)
        if token.is_word(*SQL_KEYWORDS):
            tokens = self.until(lambda t: t.is_op(";"))
            self.expect_op(";")
            return Sql(tokens, token.text.upper())
        raise unsupported(f"the statement starting with `{token.text}`")

    def for_loop(self, in_handler: bool) -> For:
        self.expect_word("FOR")
        counter = identifier(self.next())
        self.expect_word("IN")
        if (token := self.peek()) is not None and token.is_word("REVERSE"):
            raise unsupported("FOR ... IN REVERSE")
        first = Expr(self.until(lambda t: t.is_word("TO")))
        if not significant(first.tokens):
            raise unsupported("FOR loops over cursors or resultsets (only FOR i IN a TO b)")
        self.expect_word("TO")
        last = Expr(self.until(lambda t: t.is_word("DO", "LOOP")))
        if self.next().is_word("LOOP"):
            raise unsupported("FOR ... LOOP (write FOR ... DO ... END FOR)")
        body = self.statements(("END",), in_loop=True, in_handler=in_handler)
        self.expect_word("END")
        self.expect_word("FOR")
        self.expect_op(";")
        return For(counter, first, last, body)

    def if_statement(self, in_loop: bool, in_handler: bool) -> If:
        self.expect_word("IF")
        if not (self.peek() or Token("op", "", 0, 0)).is_op("("):
            raise syntax_error("IF needs its condition in parentheses")
        condition = Expr(self.until(lambda t: t.is_word("THEN")))
        self.expect_word("THEN")
        body = self.statements(("END", "ELSE", "ELSEIF"), in_loop=in_loop, in_handler=in_handler)
        token = self.next()
        if token.is_word("ELSE", "ELSEIF"):
            raise unsupported(f"{token.text.upper()} (only IF ... THEN ... END IF)")
        self.expect_word("IF")
        self.expect_op(";")
        return If(condition, body)


# --------------------------------------------------------------------------------------------
# Statements about procedures


@dataclass
class Procedure:
    database: str
    schema: str
    name: str
    arguments: list[tuple[str, str]]
    returns: list[tuple[str, str]]
    body: Block

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.schema}.{self.name}"

    def signature(self) -> tuple[str, ...]:
        return tuple(signature_type(sql_type) for _, sql_type in self.arguments)


_SIGNATURE_TYPES = {
    **dict.fromkeys(("VARCHAR", "STRING", "TEXT", "CHAR", "CHARACTER", "NVARCHAR"), "VARCHAR"),
    **dict.fromkeys(
        ("NUMBER", "NUMERIC", "DECIMAL", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT"),
        "NUMBER",
    ),
    **dict.fromkeys(("FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "REAL"), "FLOAT"),
    **dict.fromkeys(("TIMESTAMP_NTZ", "TIMESTAMP", "DATETIME"), "TIMESTAMP_NTZ"),
}


def signature_type(sql_type: str) -> str:
    """The type as it counts for overloading: synonyms folded, lengths and precision dropped."""
    base = sql_type.split("(")[0].strip().upper()
    return _SIGNATURE_TYPES.get(base, base)


def _qualified_name(tokens: list[Token], pos: int, database: str | None, schema: str | None) -> tuple[list[str], int]:
    parts = [identifier(tokens[pos])]
    pos += 1
    while pos + 1 < len(tokens) and tokens[pos].is_op("."):
        parts.append(identifier(tokens[pos + 1]))
        pos += 2
    if len(parts) > 3:
        raise syntax_error(f"`{'.'.join(parts)}` has too many parts")
    while len(parts) < 3:
        context = database if len(parts) == 2 else schema
        if context is None:
            raise syntax_error(f"`{'.'.join(parts)}` needs a current database and schema, or write it fully qualified")
        parts.insert(0, context)
    return parts, pos


def _type_list(tokens: list[Token], pos: int, named: bool) -> tuple[list[tuple[str, str]], int]:
    """`(name TYPE, ...)` or `(TYPE, ...)` from tokens[pos] (the `(`); position after `)`."""
    if not tokens[pos].is_op("("):
        raise syntax_error(f"expected `(`, found `{tokens[pos].text}`")
    pos += 1
    items: list[tuple[str, str]] = []
    current: list[Token] = []
    depth = 0
    while pos < len(tokens):
        token = tokens[pos]
        if depth == 0 and (token.is_op(",") or token.is_op(")")):
            if current:
                items.append(_typed_item(current, named))
            elif token.is_op(",") or items:
                raise syntax_error("an empty item in a list of arguments or columns")
            current = []
            if token.is_op(")"):
                return items, pos + 1
        else:
            if token.is_op("("):
                depth += 1
            elif token.is_op(")"):
                depth -= 1
            current.append(token)
        pos += 1
    raise syntax_error("a list of arguments or columns is not closed")


def _typed_item(tokens: list[Token], named: bool) -> tuple[str, str]:
    if named:
        if len(tokens) < 2:
            raise syntax_error(f"`{tokens[0].text}` needs a name and a type")
        name = identifier(tokens[0])
        type_tokens = tokens[1:]
    else:
        name = ""
        type_tokens = tokens
    if type_tokens[0].kind != "ident":
        raise syntax_error(f"`{type_tokens[0].text}` is not a type")
    sql_type = "".join(t.text for t in type_tokens).upper()
    if any(t.is_word("DEFAULT", "NOT", "NULL") for t in type_tokens):
        raise unsupported(f"argument options in `{sql_type}` (only NAME TYPE)")
    return name, sql_type


def parse_create(command: str, database: str | None, schema: str | None) -> tuple[Procedure, bool]:
    """A CREATE PROCEDURE statement: the procedure and whether it says OR REPLACE."""
    tokens = significant(tokenize(command))
    pos = 1
    replace = False
    if tokens[pos].is_word("OR"):
        if not tokens[pos + 1].is_word("REPLACE"):
            raise syntax_error(f"expected REPLACE after OR, found `{tokens[pos + 1].text}`")
        replace = True
        pos += 2
    if tokens[pos].is_word("SECURE", "TEMPORARY", "TEMP"):
        raise unsupported(f"{tokens[pos].text.upper()} procedures")
    pos += 1  # PROCEDURE
    if tokens[pos].is_word("IF"):
        raise unsupported("CREATE PROCEDURE IF NOT EXISTS")
    (db, sch, name), pos = _qualified_name(tokens, pos, database, schema)
    arguments, pos = _type_list(tokens, pos, named=True)
    body_text: str | None = None
    returns: list[tuple[str, str]] | None = None
    language = None
    while pos < len(tokens):
        token = tokens[pos]
        if token.is_word("RETURNS"):
            if not tokens[pos + 1].is_word("TABLE"):
                raise unsupported(f"RETURNS {tokens[pos + 1].text} (only RETURNS TABLE (...))")
            returns, pos = _type_list(tokens, pos + 2, named=True)
        elif token.is_word("LANGUAGE"):
            language = tokens[pos + 1].text.upper()
            if language != "SQL":
                raise unsupported(f"LANGUAGE {language} (only Snowflake Scripting, LANGUAGE SQL)")
            pos += 2
        elif token.is_word("EXECUTE"):
            rights = [t.text.upper() for t in tokens[pos + 1 : pos + 3]]
            if rights != ["AS", "OWNER"]:
                raise unsupported(f"EXECUTE AS {' '.join(rights[1:])} (only EXECUTE AS OWNER)")
            pos += 3
        elif token.is_word("AS"):
            body = tokens[pos + 1] if pos + 1 < len(tokens) else None
            if body is None or body.kind != "dollar":
                raise unsupported("a procedure body that is not a $$ ... $$ string")
            body_text = body.text[2:-2]
            pos += 2
        elif token.is_op(";"):
            pos += 1
        else:
            raise unsupported(f"the clause `{token.text}` of CREATE PROCEDURE")
    if returns is None:
        raise syntax_error(f"procedure {name} lacks RETURNS TABLE (...)")
    if language is None:
        raise syntax_error(f"procedure {name} lacks LANGUAGE SQL")
    if body_text is None:
        raise syntax_error(f"procedure {name} lacks its body (AS $$ ... $$)")
    try:
        block = BodyParser(body_text).block()
    except snowflake.connector.errors.ProgrammingError as error:
        raise _error(f"{_raw(error)} (in the body of procedure {name})", error.errno, error.sqlstate) from None
    procedure = Procedure(db, sch, name, arguments, returns, block)
    check_names(procedure)
    return procedure, replace


def check_names(procedure: Procedure) -> None:
    """Every `:name` and `RETURN TABLE(name)` refers to something declared."""
    declared = {name: sql_type for name, sql_type in procedure.arguments}
    for declaration in procedure.body.declarations:
        if declaration.name in declared:
            raise syntax_error(f"{declaration.name} is declared twice in procedure {procedure.name}")
        declared[declaration.name] = declaration.sql_type

    def walk(statements: list[Any], counters: set[str]) -> None:
        for statement in statements:
            if isinstance(statement, Sql):
                for token in statement.tokens:
                    if token.kind != "bind":
                        continue
                    name = token.text[1:].upper()
                    if name in counters:
                        continue
                    if name not in declared:
                        raise syntax_error(f"`{token.text}` in procedure {procedure.name} is not an argument or a declared variable")
                    if declared[name] == "RESULTSET":
                        raise unsupported(f"a RESULTSET ({token.text}) inside a SQL statement")
            elif isinstance(statement, For):
                walk(statement.body, counters | {statement.counter})
            elif isinstance(statement, If):
                walk(statement.body, counters)
            elif isinstance(statement, Assign):
                if statement.name not in declared:
                    raise syntax_error(f"{statement.name} is assigned but not declared in procedure {procedure.name}")
            elif isinstance(statement, ReturnTable):
                if declared.get(statement.name) != "RESULTSET":
                    raise syntax_error(f"RETURN TABLE({statement.name}) needs a RESULTSET variable")

    walk(procedure.body.statements, set())
    walk(procedure.body.handler or [], set())


# Stored procedures: {(DATABASE, SCHEMA, NAME): {signature: Procedure}}. DDL is not
# transactional (Snowflake commits it at once), so neither is this registry.
_procedures: dict[tuple[str, str, str], dict[tuple[str, ...], Procedure]] = {}
_registry_lock = threading.Lock()
# Frozen SYSDATE() per database (test-only, see the module doc).
_frozen_clocks: dict[str, Any] = {}

FREEZE_CLOCK = "SYSTEM$SFEMU_FREEZE_CLOCK"


def create(procedure: Procedure, replace: bool) -> None:
    with _registry_lock:
        overloads = _procedures.setdefault((procedure.database, procedure.schema, procedure.name), {})
        if procedure.signature() in overloads and not replace:
            raise _error(f"SQL compilation error:\nObject '{procedure.qualified}' already exists.", 2002, "42710")
        overloads[procedure.signature()] = procedure


def drop(command: str, database: str | None, schema: str | None) -> str:
    tokens = significant(tokenize(command))
    pos = 2
    if_exists = tokens[pos].is_word("IF")
    if if_exists:
        if not tokens[pos + 1].is_word("EXISTS"):
            raise syntax_error(f"expected EXISTS after IF, found `{tokens[pos + 1].text}`")
        pos += 2
    (db, sch, name), pos = _qualified_name(tokens, pos, database, schema)
    types, pos = _type_list(tokens, pos, named=False)
    if pos < len(tokens) and not tokens[pos].is_op(";"):
        raise unsupported(f"`{tokens[pos].text}` after DROP PROCEDURE's signature")
    signature = tuple(signature_type(sql_type) for _, sql_type in types)
    with _registry_lock:
        overloads = _procedures.get((db, sch, name), {})
        if overloads.pop(signature, None) is None and not if_exists:
            shown = f"{db}.{sch}.{name}({', '.join(sql_type for _, sql_type in types)})"
            raise _error(f"SQL compilation error:\nProcedure '{shown}' does not exist or not authorized.", 2003, "02000")
    return f"{name} successfully dropped."


def resolve(name_parts: list[str], argument_count: int) -> Procedure:
    key = (name_parts[0], name_parts[1], name_parts[2])
    with _registry_lock:
        overloads = list(_procedures.get(key, {}).values())
    qualified = ".".join(name_parts)
    if not overloads:
        raise _error(f"SQL compilation error:\nUnknown function {qualified}", 2140, "42601")
    matching = [p for p in overloads if len(p.arguments) == argument_count]
    if len(matching) == 1:
        return matching[0]
    if not matching:
        counts = sorted({len(p.arguments) for p in overloads})
        raise _error(
            f"SQL compilation error:\nInvalid argument types for function '{qualified}': "
            f"called with {argument_count} arguments, the procedure takes {' or '.join(map(str, counts))}",
            1044,
            "42P13",
        )
    raise unsupported(f"choosing among overloads of {qualified} with {argument_count} arguments by their types")


# --------------------------------------------------------------------------------------------
# Running a procedure


class _Return(Exception):
    def __init__(self, rows: list[tuple[Any, ...]], types: list[str]) -> None:
        super().__init__("RETURN")
        self.rows = rows
        self.types = types


class _Break(Exception):
    pass


@dataclass
class ResultSet:
    rows: list[tuple[Any, ...]]
    # engine type names of the query's columns (JSON tells VARIANT values from text)
    types: list[str]


@dataclass
class Variable:
    sql_type: str
    value: Any


@dataclass
class Run:
    """One CALL: the caller's session, the procedure's own transaction when open, values."""

    procedure: Procedure
    session: Any  # FakeSnowflakeConnection of the caller
    variables: dict[str, Variable] = field(default_factory=dict)
    scoped: Any = None  # the connection of the procedure's own open transaction
    scoped_token: str | None = None
    # Pure expressions run on a connection outside every transaction, so a failing one (a bad
    # cast) cannot abort the caller's or the procedure's transaction in the engine.
    scratch: Any = None
    caught: BaseException | None = None

    @property
    def caller_in_transaction(self) -> bool:
        log = getattr(self.session, "_sfemu_transaction", None)
        return bool(log is not None and log.open)

    @property
    def connection(self) -> Any:
        return self.scoped if self.scoped is not None else self.session

    # -- the engine ----------------------------------------------------------------------
    def run_sql(self, tokens: list[Token]) -> Any:
        """A statement through the normal statement path (locks, transaction tracking)."""
        sql, params = self.render(tokens, bare_names=False)
        cursor = self.connection.cursor()
        cursor.execute(sql, binding_params=params or None, server=True)
        return cursor

    def evaluate(self, expr: Expr, sql_type: str) -> Any:
        """An expression's value, cast to `sql_type`, computed by the engine."""
        if expr.is_query():
            cursor = self.run_sql(_inner(expr.tokens))
            rows = cursor.fetchall()
            if len(rows) > 1:
                raise _error(f"a scalar query returned {len(rows)} rows in procedure {self.procedure.name}", 100183, "P0003")
            value = rows[0][0] if rows else None
            return self.cast(value, sql_type)
        sql, params = self.render(expr.tokens, bare_names=True)
        cursor = self.scratch_cursor()
        cursor.execute(f"SELECT CAST(({sql}) AS {sql_type})", binding_params=params or None)
        return cursor.fetchall()[0][0]

    def cast(self, value: Any, sql_type: str) -> Any:
        cursor = self.scratch_cursor()
        cursor.execute(f"SELECT CAST(? AS {sql_type})", binding_params=(value,))
        return cursor.fetchall()[0][0]

    def scratch_cursor(self) -> Any:
        return self.scratch_connection().cursor()

    def scratch_connection(self) -> Any:
        if self.scratch is None:
            self.scratch = scratch_connection(self.session)
        return self.scratch

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.close()
            self.scratch = None

    def render(self, tokens: list[Token], bare_names: bool) -> tuple[str, list[Any]]:
        """The text with every variable reference as a typed bind (`CAST(? AS T)`), comments
        left out, SYSDATE() bound when the clock is frozen. With `bare_names`, a variable may
        also be written without its colon (expressions of the block)."""
        out: list[str] = []
        params: list[Any] = []
        frozen = _frozen_clocks.get(self.procedure.database)
        meaningful = significant(tokens)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            if token.kind == "comment":
                out.append(" ")
                continue
            name = None
            if token.kind == "bind":
                name = token.text[1:].upper()
            elif bare_names and token.kind == "ident" and self._bare_variable(token, meaningful):
                name = token.text.upper()
            if name is not None:
                variable = self.variable(name)
                out.append(f"CAST(? AS {variable.sql_type})")
                params.append(variable.value)
                continue
            if frozen is not None and token.is_word("SYSDATE") and (after := _after_empty_call(tokens, index)):
                out.append("CAST(? AS TIMESTAMP_NTZ)")
                params.append(frozen)
                index = after
                continue
            out.append(token.text)
        return "".join(out), params

    def _bare_variable(self, token: Token, meaningful: list[Token]) -> bool:
        name = token.text.upper()
        if name not in self.variables and name not in SPECIAL_VARIABLES:
            return False
        position = meaningful.index(token)
        before = meaningful[position - 1] if position > 0 else None
        after = meaningful[position + 1] if position + 1 < len(meaningful) else None
        # not a function name, not a qualified part
        return not (after is not None and after.is_op("(")) and not (before is not None and before.is_op("."))

    def variable(self, name: str) -> Variable:
        variable = self.variables.get(name)
        if variable is None:
            if name in SPECIAL_VARIABLES:
                return Variable(SPECIAL_VARIABLES[name], None)
            raise _error(f"variable {name} is not defined in procedure {self.procedure.name}", 2, "42601")
        if variable.sql_type == "RESULTSET":
            raise unsupported(f"the RESULTSET {name} as a value")
        return variable

    # -- transactions --------------------------------------------------------------------
    def begin(self) -> None:
        if self.scoped is not None:
            return  # Snowflake ignores BEGIN inside an open transaction
        import fakesnow.fakes  # noqa: PLC0415
        import fakesnow.server  # noqa: PLC0415 (the live sessions: locks of others count)

        session = self.session
        scoped = fakesnow.fakes.FakeSnowflakeConnection(
            session._duck_conn.cursor(),  # noqa: SLF001 (a connection of its own to the same engine)
            session.results_cache,
            self.procedure.database,
            self.procedure.schema,
            create_database=False,
            create_schema=False,
            nop_regexes=session.nop_regexes,
        )
        # Registered as a live session, so other sessions respect its table locks.
        self.scoped_token = f"sfemu-procedure-{uuid.uuid4()}"
        fakesnow.server.sessions[self.scoped_token] = scoped
        self.scoped = scoped
        try:
            scoped.cursor().execute("BEGIN TRANSACTION", server=True)
        except BaseException:
            self._close_scoped()
            raise

    def end(self, command: str) -> None:
        if self.scoped is None:
            if self.caller_in_transaction:
                raise transaction_error(
                    f"Modifying a transaction that has started at a different scope is not allowed: "
                    f"{command} in procedure {self.procedure.name}, which did not begin the caller's transaction"
                )
            return  # no transaction at all: nothing to end
        try:
            self.scoped.cursor().execute(command, server=True)
        finally:
            self._close_scoped()

    def abandon(self) -> bool:
        """Rolls back the procedure's transaction if it is still open; whether it was."""
        if self.scoped is None:
            return False
        try:
            self.scoped.cursor().execute("ROLLBACK", server=True)
        finally:
            self._close_scoped()
        return True

    def _close_scoped(self) -> None:
        import fakesnow.server  # noqa: PLC0415

        if self.scoped_token is not None:
            fakesnow.server.sessions.pop(self.scoped_token, None)
        try:
            self.scoped._duck_conn.close()  # noqa: SLF001
        except Exception:  # noqa: BLE001 (closing a connection that is gone)
            pass
        self.scoped = None
        self.scoped_token = None

    # -- statements ----------------------------------------------------------------------
    def execute_block(self) -> _Return:
        block = self.procedure.body
        for declaration in block.declarations:
            if declaration.sql_type == "RESULTSET":
                self.variables[declaration.name] = Variable("RESULTSET", None)
            elif declaration.default is None:
                self.variables[declaration.name] = Variable(declaration.sql_type, None)
            else:
                value = self.evaluate(declaration.default, declaration.sql_type)
                self.variables[declaration.name] = Variable(declaration.sql_type, value)
        try:
            self.execute_all(block.statements)
        except (_Return, _Break):
            raise
        except Exception as error:  # noqa: BLE001 (WHEN OTHER catches every error)
            if block.handler is None:
                raise
            self.caught = error
            self.execute_all(block.handler)
        raise _error(f"procedure {self.procedure.name} ended without RETURN TABLE(...)", 2, "P0004")

    def execute_all(self, statements: list[Any]) -> None:
        for statement in statements:
            self.execute(statement)

    def execute(self, statement: Any) -> None:
        if isinstance(statement, Sql):
            cursor = self.run_sql(statement.tokens)
            if statement.keyword in DML_KEYWORDS:
                count = cursor.rowcount if isinstance(cursor.rowcount, int) else None
                self.variables["SQLROWCOUNT"] = Variable("BIGINT", count)
                self.variables["SQLFOUND"] = Variable("BOOLEAN", bool(count))
                self.variables["SQLNOTFOUND"] = Variable("BOOLEAN", not count)
        elif isinstance(statement, Begin):
            self.begin()
        elif isinstance(statement, Commit):
            self.end("COMMIT")
        elif isinstance(statement, Rollback):
            self.end("ROLLBACK")
        elif isinstance(statement, For):
            # (BIGINT is NUMBER(38,0), which the engine returns as a Decimal)
            first = int(self.evaluate(statement.first, "BIGINT"))
            last = int(self.evaluate(statement.last, "BIGINT"))
            saved = self.variables.get(statement.counter)
            try:
                for counter in range(first, last + 1):
                    self.variables[statement.counter] = Variable("BIGINT", counter)
                    try:
                        self.execute_all(statement.body)
                    except _Break:
                        break
            finally:
                if saved is None:
                    self.variables.pop(statement.counter, None)
                else:
                    self.variables[statement.counter] = saved
        elif isinstance(statement, If):
            if self.evaluate(statement.condition, "BOOLEAN"):
                self.execute_all(statement.body)
        elif isinstance(statement, Break):
            raise _Break()
        elif isinstance(statement, Assign):
            self.assign(statement)
        elif isinstance(statement, ReturnTable):
            result = self.variables[statement.name].value
            if result is None:
                raise _error(f"RESULTSET {statement.name} was never assigned in procedure {self.procedure.name}", 2, "P0004")
            raise _Return(result.rows, result.types)
        elif isinstance(statement, Raise):
            raise self.caught
        else:  # pragma: no cover (the parser builds only the kinds above)
            raise unsupported(type(statement).__name__)

    def assign(self, statement: Assign) -> None:
        target = self.variables[statement.name]
        if target.sql_type != "RESULTSET":
            target.value = self.evaluate(statement.value, target.sql_type)
            return
        if not statement.value.is_query():
            raise unsupported(f"assigning anything but (SELECT ...) to the RESULTSET {statement.name}")
        # Snowflake runs a RESULTSET's query at the assignment, not when it is returned.
        cursor = self.run_sql(_inner(statement.value.tokens))
        rows = cursor.fetchall()
        types = [row[1] for row in cursor._describe_last_sql()]  # noqa: SLF001
        target.value = ResultSet(rows, types)


def _after_empty_call(tokens: list[Token], index: int) -> int | None:
    """When tokens[index:] start with `(` `)` (blanks allowed): the index after the `)`."""
    wanted = ["(", ")"]
    while index < len(tokens) and wanted:
        token = tokens[index]
        index += 1
        if token.kind in ("ws", "comment"):
            continue
        if not token.is_op(wanted.pop(0)):
            return None
    return None if wanted else index


def scratch_connection(session: Any) -> Any:
    """A connection of its own to the session's engine, in the session's database and schema."""
    import fakesnow.fakes  # noqa: PLC0415

    return fakesnow.fakes.FakeSnowflakeConnection(
        session._duck_conn.cursor(),  # noqa: SLF001 (a duplicate connection: its own transactions)
        session.results_cache,
        session.database,
        session.schema,
        create_database=False,
        create_schema=False,
        nop_regexes=session.nop_regexes,
    )


def _call_arguments(tokens: list[Token], pos: int) -> tuple[list[list[Token]], int]:
    if pos >= len(tokens) or not tokens[pos].is_op("("):
        raise syntax_error("CALL needs the procedure's arguments in parentheses")
    pos += 1
    arguments: list[list[Token]] = []
    current: list[Token] = []
    depth = 0
    while pos < len(tokens):
        token = tokens[pos]
        if depth == 0 and (token.is_op(",") or token.is_op(")")):
            if current:
                arguments.append(current)
            elif token.is_op(",") or arguments:
                raise syntax_error("an empty argument in CALL")
            current = []
            if token.is_op(")"):
                return arguments, pos + 1
        else:
            if token.is_op("("):
                depth += 1
            elif token.is_op(")"):
                depth -= 1
            if token.is_op("=>"):
                raise unsupported("named arguments in CALL")
            current.append(token)
        pos += 1
    raise syntax_error("the arguments of CALL are not closed")


def _argument_values(connection: Any, arguments: list[list[Token]], types: list[str], params: Any) -> list[Any]:
    """Each argument expression evaluated by the engine and cast to its declared type; the
    CALL's `?` binds are consumed in order."""
    remaining = list(params or [])
    values = []
    for tokens, sql_type in zip(arguments, types, strict=True):
        count = sum(1 for t in tokens if t.is_op("?"))
        own, remaining = remaining[:count], remaining[count:]
        text = "".join(t.text for t in tokens)
        cursor = connection.cursor()
        cursor.execute(f"SELECT CAST(({text}) AS {sql_type})", binding_params=own or None)
        values.append(cursor.fetchall()[0][0])
    return values


def call(cursor: Any, command: str, params: Any) -> None:
    session = cursor._conn  # noqa: SLF001
    tokens = significant(tokenize(command))
    if len(tokens) > 2 and tokens[1].is_word(FREEZE_CLOCK) and tokens[2].is_op("("):
        arguments, _ = _call_arguments(tokens, 2)
        freeze_clock(cursor, arguments, params)
        return
    parts, pos = _qualified_name(tokens, 1, session.database, session.schema)
    arguments, pos = _call_arguments(tokens, pos)
    if pos < len(tokens) and not tokens[pos].is_op(";"):
        raise unsupported(f"`{tokens[pos].text}` after CALL's arguments (CALL ... INTO is not supported)")
    procedure = resolve(parts, len(arguments))
    run = Run(procedure, session)
    try:
        values = _argument_values(run.scratch_connection(), arguments, [t for _, t in procedure.arguments], params)
        for (name, sql_type), value in zip(procedure.arguments, values, strict=True):
            run.variables[name] = Variable(sql_type, value)
        result = _run_body(cursor, run)
    finally:
        run.close()
    answer_table(cursor, procedure, result)


def _run_body(cursor: Any, run: Run) -> _Return:
    procedure = run.procedure

    from sfemu import statements  # noqa: PLC0415 (statements imports this module)

    log = statements._log_of(cursor)  # noqa: SLF001
    # The caller's session is busy for the whole CALL: its idle transaction is not reaped meanwhile.
    with log.busy:
        try:
            result = run.execute_block()
        except _Return as returned:
            result = returned
        except snowflake.connector.errors.Error as error:
            run.abandon()
            raise _error(
                f"Uncaught exception of type 'STATEMENT_ERROR' in procedure {procedure.name}: {_raw(error)}",
                error.errno or 2,
                error.sqlstate or "P0001",
            ) from None
        except Exception as error:
            run.abandon()
            raise _error(
                f"Uncaught exception of type 'STATEMENT_ERROR' in procedure {procedure.name}: "
                f"{type(error).__name__}: {error}",
                2,
                "P0001",
            ) from None
        finally:
            log.last_active = time.monotonic()
        if run.abandon():
            raise transaction_error(
                f"Scoped transaction started in stored procedure {procedure.name} is incomplete and it was rolled back"
            )
    return result


def answer_table(cursor: Any, procedure: Procedure, result: _Return) -> None:
    """Leaves the procedure's table as the cursor's result: a query of bound values with the
    declared column names and types (Snowflake casts RETURN TABLE's rows to RETURNS TABLE)."""
    columns = procedure.returns
    width = len(result.types)
    if width != len(columns):
        raise _error(
            f"procedure {procedure.name} returned {width} columns, RETURNS TABLE declares {len(columns)}",
            2,
            "P0004",
        )
    names = ", ".join('"' + name.replace('"', '""') + '"' for name, _ in columns)
    if not result.rows:
        nulls = ", ".join(f"CAST(NULL AS {sql_type}) AS {_quoted(name)}" for name, sql_type in columns)
        cursor.execute(f"SELECT {nulls} WHERE 1 = 0")
        return
    params: list[Any] = []
    tuples = []
    for row in result.rows:
        cells = []
        for (_, sql_type), value, source_type in zip(columns, row, result.types, strict=True):
            if signature_type(sql_type) == "VARIANT" and value is not None and source_type != "JSON":
                value = json.dumps(value, default=str)  # a VARCHAR (or number) becomes a JSON value
            cells.append(f"CAST(? AS {sql_type})")
            params.append(value)
        tuples.append(f"({', '.join(cells)})")
    cursor.execute(f"SELECT * FROM (VALUES {', '.join(tuples)}) AS RESULT({names})", binding_params=params)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def freeze_clock(cursor: Any, arguments: list[list[Token]], params: Any) -> None:
    database = (cursor._conn.database or "").upper()  # noqa: SLF001
    if len(arguments) != 1 or not database:
        raise syntax_error(f"{FREEZE_CLOCK}(timestamp | NULL) takes one argument and needs a current database")
    scratch = scratch_connection(cursor._conn)  # noqa: SLF001
    try:
        (value,) = _argument_values(scratch, arguments, ["TIMESTAMP_NTZ"], params)
    finally:
        scratch.close()
    if value is None:
        _frozen_clocks.pop(database, None)
    else:
        _frozen_clocks[database] = value
    cursor.execute(f"SELECT CAST(? AS VARCHAR) AS {_quoted(FREEZE_CLOCK)}", binding_params=(str(value),))


# --------------------------------------------------------------------------------------------
# The hook


def _leading_words(command: str, count: int) -> list[str]:
    words = []
    for token in tokenize(command):
        if token.kind in ("ws", "comment"):
            continue
        if token.kind != "ident":
            break
        words.append(token.text.upper())
        if len(words) == count:
            break
    return words


# Statements that may concern procedures start with one of these words (after comments).
_CANDIDATE_RE = re.compile(r"^(\s|--[^\n]*(\n|$)|/\*.*?\*/)*(CALL|CREATE|DROP|DECLARE|EXECUTE)\b", re.IGNORECASE | re.DOTALL)


def _kind(command: str) -> str | None:
    if not _CANDIDATE_RE.match(command):
        return None  # the common case, decided without tokenizing the statement
    try:
        words = _leading_words(command, 4)
    except snowflake.connector.errors.ProgrammingError:
        return None  # not ours to judge: the engine reports the syntax error
    if words[:1] == ["CALL"]:
        return "call"
    if words[:1] == ["CREATE"]:
        rest = words[1:]
        if rest[:2] == ["OR", "REPLACE"]:
            rest = rest[2:]
        if rest[:1] in (["SECURE"], ["TEMPORARY"], ["TEMP"]):
            rest = rest[1:]
        return "create" if rest[:1] == ["PROCEDURE"] else None
    if words[:2] == ["DROP", "PROCEDURE"]:
        return "drop"
    if words[:1] == ["DECLARE"] or words[:2] == ["EXECUTE", "IMMEDIATE"]:
        return "anonymous"
    return None


def run_if_scripting(cursor: Any, command: str, params: Any) -> Any:
    """The hook of the statement path: runs `command` when it is about procedures (CREATE,
    DROP, CALL) and returns the cursor holding its answer, else returns None."""
    kind = _kind(command)
    if kind is None:
        return None
    session = cursor._conn  # noqa: SLF001
    if any(re.match(pattern, command, re.IGNORECASE) for pattern in session.nop_regexes or []):
        return None  # FAKESNOW_NOP_REGEXES: the statement succeeds without running, as configured
    if kind == "anonymous":
        raise unsupported("anonymous blocks and EXECUTE IMMEDIATE (create a procedure and CALL it)")
    if kind == "create":
        procedure, replace = parse_create(command, session.database, session.schema)
        create(procedure, replace)
        status = f"Function {procedure.name} successfully created."
        cursor.execute('SELECT CAST(? AS VARCHAR) AS "status"', binding_params=(status,))
    elif kind == "drop":
        message = drop(command, session.database, session.schema)
        cursor.execute('SELECT CAST(? AS VARCHAR) AS "status"', binding_params=(message,))
    else:
        call(cursor, command, params)
    return cursor
