"""Arrow result fixes: NULL timestamps and FIXED numbers encoded as Snowflake encodes them."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fixed_as_int64_enabled() -> bool:
    """SFEMU_FIXED_AS_INT64=0 keeps fakesnow's decimal128 encoding (to exercise that path)."""
    return os.environ.get("SFEMU_FIXED_AS_INT64", "1") != "0"


def null_aware_timestamp(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """fakesnow sends a NULL timestamp as a *valid* struct with null children, which clients
    read as 1970-01-01. Snowflake marks the struct itself null."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count > 0 or len(column) == 0:
        return column
    epoch = column.field("epoch")
    if epoch.null_count == 0:
        return column
    mask = pc.is_null(epoch)
    children = [pc.fill_null(column.field(i), 0) for i in range(column.type.num_fields)]
    fields = [column.type.field(i) for i in range(column.type.num_fields)]
    return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


def fixed_as_scaled_int64(column: pa.Array | pa.ChunkedArray, scale: int) -> pa.Array | pa.ChunkedArray:
    """Snowflake sends NUMBER as scaled integers (the unscaled value, scale in the field
    metadata) and only uses decimal128 when a value needs it; fakesnow always sends decimal128."""
    values: list[Any] = column.to_pylist()
    unscaled: list[int | None] = []
    for value in values:
        if value is None:
            unscaled.append(None)
            continue
        shifted = Decimal(value).scaleb(scale)
        if shifted != shifted.to_integral_value():
            return column
        as_int = int(shifted)
        if not INT64_MIN <= as_int <= INT64_MAX:
            return column
        unscaled.append(as_int)
    return pa.array(unscaled, type=pa.int64())


def fix_table(table: pa.Table) -> pa.Table:
    """Applies both fixes to a table produced by fakesnow.arrow.to_sf."""
    arrays = []
    fields = []
    for field, column in zip(table.schema, table.columns):
        metadata = field.metadata or {}
        logical = metadata.get(b"logicalType", b"").decode()
        if pa.types.is_struct(field.type) and logical.startswith("TIMESTAMP"):
            column = null_aware_timestamp(column)
        elif pa.types.is_decimal(field.type) and logical == "FIXED" and fixed_as_int64_enabled():
            column = fixed_as_scaled_int64(column, int(metadata.get(b"scale", b"0")))
        arrays.append(column)
        fields.append(field.with_type(column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
