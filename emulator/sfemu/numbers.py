"""NUMBER(38,0) with all 38 digits.

Snowflake's NUMBER, NUMERIC, DECIMAL, INT, INTEGER, BIGINT, SMALLINT, TINYINT and BYTEINT are
all NUMBER(38,0). fakesnow turned every one of them into DuckDB BIGINT (int64), so a value
beyond 19 digits failed to load, insert or cast ("Conversion Error ... out of range for the
destination type INT64"). The layer maps them to DuckDB DECIMAL(38,0), which holds 38 digits
exactly (HUGEINT underneath) and is still reported as NUMBER(38,0) by DESCRIBE TABLE and
information_schema. NUMBER(p,s) with explicit precision and scale is DuckDB's DECIMAL(p,s)
already.

Two consequences of DECIMAL(38,0) that the layer also handles:

* fakesnow casts every argument of SUM, AVG, MEDIAN, VARIANCE and STDDEV to DOUBLE (so VARCHAR
  arguments work, as Snowflake casts them implicitly); that rounded 38-digit sums and made
  SUM(<integer column>) a FLOAT. The layer casts only VARCHAR and VARIANT arguments (a typed
  macro decides per argument type), so SUM over NUMBER stays an exact NUMBER.
* DuckDB functions that take an integer (SUBSTR's start, LEFT's length, REPEAT's count, an
  array index, ...) do not accept a DECIMAL argument; the layer casts such arguments to an
  integer (a value beyond int64 fails there; Snowflake refuses such an argument as well).

Results are unchanged on the wire: a FIXED column whose values fit int64 goes out as int64
(arrow_fixes.py), otherwise as decimal128(38,0), as Snowflake sends it.
"""

from __future__ import annotations

from typing import Any

import fakesnow.transforms as fs_transforms
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

# Where the macro lives: fakesnow's global database is attached to every connection, so a
# qualified call works whatever the session's current database is (or without one).
NUMERIC_ARGUMENT = "_fs_global.main._sfemu_numeric_argument"
NUMERIC_ARGUMENT_SQL = f"""CREATE OR REPLACE MACRO {NUMERIC_ARGUMENT}
    (x VARCHAR) AS TRY_CAST(x AS DOUBLE),  -- a VARIANT (JSON) takes this one too
    (x) AS x"""
# An index or key: a NUMBER becomes BIGINT (DuckDB's list and JSON access take no DECIMAL), text
# and integers stay as they are (an object's key is text).
INDEX_ARGUMENT = "_fs_global.main._sfemu_index_argument"
INDEX_ARGUMENT_SQL = f"""CREATE OR REPLACE MACRO {INDEX_ARGUMENT}
    (x VARCHAR) AS x,
    (x BIGINT) AS x,
    (x) AS CAST(x AS BIGINT)"""

NUMBER_38_0_TYPES = {
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT,
}


def number_38_0() -> exp.DataType:
    return exp.DataType(
        this=exp.DataType.Type.DECIMAL,
        expressions=[
            exp.DataTypeParam(this=exp.Literal.number(38)),
            exp.DataTypeParam(this=exp.Literal.number(0)),
        ],
        nested=False,
        prefix=False,
    )


def number_precision(expression: exp.Expression) -> exp.Expression:
    """In place of fakesnow's integer_precision (which made all of these BIGINT): every integer
    type, and a DECIMAL without precision, is NUMBER(38,0), which DuckDB holds as DECIMAL(38,0)."""
    if not isinstance(expression, exp.DataType):
        return expression
    if expression.this in NUMBER_38_0_TYPES or (
        expression.this == exp.DataType.Type.DECIMAL and not expression.expressions
    ):
        return number_38_0()
    return expression


_original_numeric_agg_implicit_cast = fs_transforms.numeric_agg_implicit_cast


def numeric_agg_argument(expression: exp.Expression) -> exp.Expression:
    """fakesnow's numeric_agg_implicit_cast (which keeps Snowflake's column name), with the
    argument cast to DOUBLE only when it is text or a VARIANT."""
    if not isinstance(expression, fs_transforms.transforms._NUMERIC_ONLY_AGGS):  # noqa: SLF001
        return expression
    argument = expression.this
    result = _original_numeric_agg_implicit_cast(expression)
    aggregate = result.this if isinstance(result, exp.Alias) else result
    added = aggregate.this
    # (the aliased result holds a copy of the aggregate, so the argument is matched by kind)
    if isinstance(added, exp.TryCast) and not isinstance(argument, (exp.Cast, exp.TryCast)):
        added.replace(_numeric_argument_call(added.this))
    return result


def _numeric_argument_call(argument: exp.Expression, macro: str = NUMERIC_ARGUMENT) -> exp.Expression:
    catalog, schema, name = macro.split(".")
    call = exp.Anonymous(this=name, expressions=[argument])
    return exp.Dot.build([exp.to_identifier(catalog), exp.to_identifier(schema), call])


# Arguments DuckDB takes as they are: literals, NULL, a negated literal, a bind.
LITERALS = (exp.Literal, exp.Null, exp.Neg, exp.Placeholder)


def _as_integer(argument: exp.Expression, kind: exp.DataType.Type) -> exp.Expression:
    """The argument cast to an integer type, unless it is a literal, NULL or a bind (DuckDB takes
    those as they are) or already an integer cast."""
    if isinstance(argument, LITERALS):
        return argument
    if isinstance(argument, exp.Cast) and argument.to.this in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT):
        return argument
    return exp.Cast(this=argument, to=exp.DataType(this=kind, nested=False, prefix=False))


def _as_index(argument: exp.Expression) -> exp.Expression:
    if isinstance(argument, LITERALS):
        return argument
    return _numeric_argument_call(argument, INDEX_ARGUMENT)


BIGINT, INT = exp.DataType.Type.BIGINT, exp.DataType.Type.INT
# Functions whose listed arguments DuckDB takes only as integers (INTEGER for LPAD/RPAD and CHR).
INTEGER_ARGUMENTS: dict[type[exp.Expression], tuple[tuple[str, ...], exp.DataType.Type]] = {
    exp.Substring: (("start", "length"), BIGINT),
    exp.Left: (("expression",), BIGINT),
    exp.Right: (("expression",), BIGINT),
    exp.Repeat: (("times",), BIGINT),
    exp.Pad: (("expression",), INT),
    exp.SplitPart: (("part_index",), BIGINT),
    exp.Chr: (("expressions",), INT),
    exp.Stuff: (("start", "length"), BIGINT),
    exp.GenerateSeries: (("start", "end", "step"), BIGINT),
    exp.BitwiseAnd: (("this", "expression"), BIGINT),
    exp.BitwiseOr: (("this", "expression"), BIGINT),
    exp.BitwiseXor: (("this", "expression"), BIGINT),
    exp.BitwiseNot: (("this",), BIGINT),
    exp.BitwiseLeftShift: (("this", "expression"), BIGINT),
    exp.BitwiseRightShift: (("this", "expression"), BIGINT),
}


def integer_arguments(expression: exp.Expression) -> exp.Expression:
    """Casts a NUMBER that reaches a DuckDB integer parameter to an integer (DuckDB does not cast
    a DECIMAL to an integer implicitly; with fakesnow's BIGINT columns it never had to)."""
    if isinstance(expression, (exp.Bracket, exp.GetExtract)):
        # `A[N]`, GET(A, N): an array index, or an object's key, known only by its type
        name = "expressions" if isinstance(expression, exp.Bracket) else "expression"
        value = expression.args.get(name)
        if isinstance(value, exp.Expression):
            expression.set(name, _as_index(value))
        elif isinstance(value, list):
            expression.set(name, [_as_index(v) if isinstance(v, exp.Expression) else v for v in value])
        return expression
    if (spec := INTEGER_ARGUMENTS.get(type(expression))) is not None:
        names, kind = spec
        for name in names:
            value = expression.args.get(name)
            if isinstance(value, exp.Expression):
                expression.set(name, _as_integer(value, kind))
            elif isinstance(value, list):
                expression.set(name, [_as_integer(v, kind) if isinstance(v, exp.Expression) else v for v in value])
    return expression


_installed = False


def install() -> None:
    """Replaces fakesnow's integer and aggregate transforms (looked up on its transforms package
    at each statement), and adds the integer-argument casts after fakesnow's transforms."""
    fs_transforms.integer_precision = number_precision  # type: ignore[assignment]
    fs_transforms.numeric_agg_implicit_cast = numeric_agg_argument  # type: ignore[assignment]
    global _installed  # noqa: PLW0603
    if _installed:
        return
    _installed = True
    original = FakeSnowflakeCursor._transform  # noqa: SLF001

    def transform(self: FakeSnowflakeCursor, expression: exp.Expression, params: Any) -> exp.Expression:  # noqa: ANN401
        return original(self, expression, params).transform(integer_arguments, copy=False)

    FakeSnowflakeCursor._transform = transform  # type: ignore[method-assign]  # noqa: SLF001


def install_macros(duck_conn: Any) -> None:  # noqa: ANN401
    duck_conn.execute(NUMERIC_ARGUMENT_SQL)
    duck_conn.execute(INDEX_ARGUMENT_SQL)
