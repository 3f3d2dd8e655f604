"""How Snowflake turns a Parquet column into a target column's value in COPY, as SQL over the
column DuckDB reads (DuckDB's read_parquet always honours Parquet logical types, and has no
length limits). Pure functions: the COPY in copy_into.py runs what they return.

Applied in strict mode only (SFEMU_STRICT=1); every rule is listed in emulator/README.md:

* BINARY_AS_TEXT = TRUE (Snowflake's default): a BYTE_ARRAY column without a logical or
  converted type is read as UTF-8 text ("Invalid UTF8 detected while decoding" otherwise); text
  loaded into a BINARY column is then decoded as hex (BINARY_INPUT_FORMAT's default).
* USE_LOGICAL_TYPE = FALSE (Snowflake's default), as live loads report it: a UTC-adjusted
  millisecond or microsecond TIMESTAMP is read as its UTC wall clock (TIMESTAMP_NTZ); loaded
  into TIMESTAMP_TZ/LTZ it takes the session's TIMEZONE offset, which shifts the instant. Any
  other TIMESTAMP (not UTC-adjusted, or nanoseconds) and every TIME is read as its raw INT64
  number and cannot be loaded into a date/time column.
* A Parquet string loaded into a VARIANT column is a VARIANT string, not parsed JSON.
* Values longer than the column allows fail: VARCHAR without a length holds 16,777,216
  characters, BINARY 8,388,608 bytes, a VARIANT value 16 MB.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

VARCHAR_MAX_LENGTH = 16_777_216
BINARY_MAX_LENGTH = 8_388_608
VARIANT_MAX_BYTES = 16_777_216

CONVERSION_ERROR = (100038, "22018")  # Snowflake's code for values that cannot be converted
TOO_LONG_ERROR = (100078, "22000")
LOB_ERROR = (100082, "22000")
CAST_ERROR = (100071, "22000")


@dataclass(frozen=True)
class ParquetColumn:
    """A top-level Parquet column as its footer describes it."""

    name: str
    physical: str  # BYTE_ARRAY, INT64, ...
    logical: str  # NONE, STRING, TIMESTAMP, TIME, DECIMAL, JSON, ...
    converted: str  # NONE, UTF8, TIMESTAMP_MICROS, TIME_MICROS, DECIMAL, ...
    adjusted_to_utc: bool | None = None
    unit: str | None = None  # milliseconds, microseconds, nanoseconds

    @classmethod
    def from_pyarrow(cls, column: Any) -> ParquetColumn:  # noqa: ANN401
        """From a pyarrow.parquet ColumnSchema."""
        logical = column.logical_type
        details: dict[str, Any] = {}
        try:
            details = json.loads(logical.to_json())
        except (ValueError, AttributeError):
            details = {}
        return cls(
            name=column.name,
            physical=str(column.physical_type),
            logical=str(logical.type).upper(),
            converted=str(column.converted_type).upper(),
            adjusted_to_utc=details.get("isAdjustedToUTC"),
            unit=details.get("timeUnit"),
        )

    @property
    def is_string(self) -> bool:
        return self.logical in {"STRING", "JSON", "ENUM"} or self.converted in {"UTF8", "JSON", "ENUM"}

    @property
    def untyped_bytes(self) -> bool:
        return self.physical == "BYTE_ARRAY" and self.logical == "NONE" and self.converted == "NONE"


@dataclass(frozen=True)
class ParquetFormat:
    """The Parquet options of the COPY's effective file format."""

    binary_as_text: bool = True
    use_logical_type: bool = False

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ParquetFormat:
        def flag(name: str, default: bool) -> bool:
            value = options.get(name)
            if value is None:
                return default
            if isinstance(value, bool):
                return value
            return str(value).strip().upper() in {"TRUE", "1"}

        return cls(
            binary_as_text=flag("BINARY_AS_TEXT", True),
            use_logical_type=flag("USE_LOGICAL_TYPE", False),
        )


@dataclass(frozen=True)
class TargetColumn:
    name: str
    position: int  # 1-based, as Snowflake reports it
    duck_type: str  # as DuckDB's DESCRIBE shows it
    max_length: int | None = None  # a VARCHAR(n) length fakesnow recorded

    @property
    def kind(self) -> str:
        """Snowflake's name for the column's type family."""
        upper = self.duck_type.upper()
        if upper == "BLOB":
            return "BINARY"
        if upper == "JSON":
            return "VARIANT"
        if upper.startswith("TIMESTAMP WITH TIME ZONE") or upper == "TIMESTAMPTZ":
            return "TIMESTAMP_TZ"
        if upper.startswith("TIMESTAMP"):
            return "TIMESTAMP_NTZ"
        if upper.startswith("TIME"):
            return "TIME"
        if upper == "DATE":
            return "DATE"
        if upper == "VARCHAR":
            return "VARCHAR"
        return upper


@dataclass
class Check:
    """A condition that fails the COPY when true for some row."""

    condition: str  # SQL over the file's columns
    preview: str  # SQL for the offending value, shown in the error
    error: Callable[[Any], tuple[str, tuple[int, str]]]  # preview -> (message, (errno, sqlstate))


@dataclass
class Loaded:
    """The SQL that loads one Parquet column into one target column, and its checks."""

    sql: str
    checks: list[Check] = field(default_factory=list)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _preview_text(value: Any, limit: int = 20) -> str:  # noqa: ANN401
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _raw_integer(column: ParquetColumn, ref: str) -> str:
    """The INT64 a TIMESTAMP or TIME column stores, in its own unit."""
    unit = {"milliseconds": "ms", "microseconds": "us", "nanoseconds": "ns"}.get(column.unit or "", "us")
    if column.logical == "TIME":
        name = {"ms": "millisecond", "us": "microsecond", "ns": "nanosecond"}[unit]
        return f"datediff('{name}', TIME '00:00:00', {ref})"
    return f"epoch_{unit}({ref})"


def load_expression(
    column: ParquetColumn,
    ref: str,
    target: TargetColumn,
    fmt: ParquetFormat,
    timezone: str,
) -> Loaded:
    """What Snowflake would load from `column` (read by DuckDB as `ref`) into `target`."""
    kind = target.kind
    checks: list[Check] = []
    value = ref

    if column.untyped_bytes and fmt.binary_as_text:
        checks.append(
            Check(
                condition=f"{ref} IS NOT NULL AND try(decode({ref})) IS NULL",
                preview=f"left(hex({ref}), 32)",
                error=lambda hexed: (
                    "Invalid UTF8 detected while decoding '"
                    + "".join(f"\\x{hexed[i:i + 2]}" for i in range(0, len(hexed or ""), 2))
                    + "'",
                    CONVERSION_ERROR,
                ),
            )
        )
        text = f"try(decode({ref}))"
        if kind == "BINARY":
            checks.append(
                Check(
                    condition=f"{text} IS NOT NULL AND NOT regexp_full_match({text}, '([0-9A-Fa-f]{{2}})*')",
                    preview=f"left({text}, 40)",
                    error=lambda shown: (
                        f"The following string is not a legal hex-encoded value: '{_preview_text(shown, 40)}'",
                        CONVERSION_ERROR,
                    ),
                )
            )
            value = f"unhex({text})"
        elif kind == "VARIANT":
            value = f"to_json({text})"
        else:
            value = text
    elif column.logical in {"TIMESTAMP", "TIME"} and not fmt.use_logical_type:
        readable = (
            column.logical == "TIMESTAMP"
            and bool(column.adjusted_to_utc)
            and column.unit in {"milliseconds", "microseconds"}
        )
        if not readable:
            raw = _raw_integer(column, ref)
            if kind in {"TIMESTAMP_TZ", "TIMESTAMP_NTZ", "TIME", "DATE"}:
                checks.append(
                    Check(
                        condition=f"{ref} IS NOT NULL",
                        preview=raw,
                        error=lambda number, kind=kind: (
                            f"Failed to cast variant value {number} to {kind} (this Parquet {column.logical} "
                            "is read as its number unless USE_LOGICAL_TYPE = TRUE)",
                            CAST_ERROR,
                        ),
                    )
                )
            value = raw
        else:
            # The UTC wall clock, as a TIMESTAMP_NTZ.
            wall = f"timezone('UTC', {ref})"
            value = f"timezone({literal(timezone)}, {wall})" if kind == "TIMESTAMP_TZ" else wall
    elif column.is_string and kind == "VARIANT":
        value = f"to_json({ref})"

    checks.extend(_size_checks(value, target))
    return Loaded(sql=value, checks=checks)


def _size_checks(loaded: str, target: TargetColumn) -> list[Check]:
    # try(): the checks run together, before the load; a value another check rejects must not
    # fail this one's query.
    value = f"try({loaded})"
    kind = target.kind
    if kind == "VARCHAR":
        limit = target.max_length or VARCHAR_MAX_LENGTH
        return [
            Check(
                condition=f"length(CAST({value} AS VARCHAR)) > {limit}",
                preview=f"left(CAST({value} AS VARCHAR), 20)",
                error=lambda shown: (f"String '{_preview_text(shown)}' is too long and would be truncated", TOO_LONG_ERROR),
            )
        ]
    if kind == "BINARY":
        return [
            Check(
                condition=f"octet_length({value}) > {BINARY_MAX_LENGTH}",
                preview=f"octet_length({value})",
                error=lambda size: (
                    f"Binary value of {size} bytes is too long and would be truncated "
                    f"(BINARY holds at most {BINARY_MAX_LENGTH} bytes)",
                    TOO_LONG_ERROR,
                ),
            )
        ]
    if kind == "VARIANT":
        return [
            Check(
                condition=f"strlen(CAST({value} AS VARCHAR)) > {VARIANT_MAX_BYTES}",
                preview=f"strlen(CAST({value} AS VARCHAR))",
                error=lambda size: (
                    f"Max LOB size ({VARIANT_MAX_BYTES}) exceeded, actual size of parsed column is {size}.",
                    LOB_ERROR,
                ),
            )
        ]
    return []
