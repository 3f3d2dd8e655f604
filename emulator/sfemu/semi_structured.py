"""VARIANT values as Snowflake reports them. fakesnow stores VARIANT, OBJECT and ARRAY as
DuckDB JSON, whose TYPEOF is always 'JSON'; Snowflake's TYPEOF names the value's own type
('OBJECT', 'ARRAY', 'VARCHAR', 'INTEGER', 'DECIMAL', 'BOOLEAN', 'NULL_VALUE', ...)."""

from __future__ import annotations

from typing import Any

import sqlglot
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

TYPEOF_SQL = """CASE
  WHEN typeof({v}) = 'JSON' THEN CASE json_type({v})
    WHEN 'OBJECT' THEN 'OBJECT' WHEN 'ARRAY' THEN 'ARRAY' WHEN 'VARCHAR' THEN 'VARCHAR'
    WHEN 'BIGINT' THEN 'INTEGER' WHEN 'UBIGINT' THEN 'INTEGER' WHEN 'DOUBLE' THEN 'DECIMAL'
    WHEN 'BOOLEAN' THEN 'BOOLEAN' WHEN 'NULL' THEN 'NULL_VALUE' ELSE json_type({v}) END
  WHEN {v} IS NULL THEN NULL
  WHEN typeof({v}) IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT') THEN 'INTEGER'
  WHEN typeof({v}) LIKE 'DECIMAL%' THEN 'DECIMAL'
  WHEN typeof({v}) IN ('FLOAT', 'DOUBLE') THEN 'DOUBLE'
  WHEN typeof({v}) = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_TZ'
  WHEN typeof({v}) LIKE 'TIMESTAMP%' THEN 'TIMESTAMP_NTZ'
  WHEN typeof({v}) = 'BLOB' THEN 'BINARY'
  ELSE typeof({v}) END"""


def typeof_as_snowflake(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Typeof):
        value = node.this.sql(dialect="duckdb")
        return sqlglot.parse_one(TYPEOF_SQL.format(v=f"({value})"), read="duckdb")
    return node


def install() -> None:
    """Applies the layer's expression fixes after fakesnow's own transforms."""
    original = FakeSnowflakeCursor._transform  # noqa: SLF001
    if getattr(original, "_sfemu", False):
        return

    def transform(self: FakeSnowflakeCursor, expression: exp.Expression, params: Any) -> exp.Expression:  # noqa: ANN401
        return original(self, expression, params).transform(typeof_as_snowflake, copy=False)

    transform._sfemu = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor._transform = transform  # type: ignore[method-assign]  # noqa: SLF001
