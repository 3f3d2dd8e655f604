"""COPY INTO <table> as Snowflake runs it, in place of fakesnow's copy_into (installed into
fakesnow.cursor, which calls it). fakesnow's helpers still parse the statement, resolve the
stage and read the files; this module decides which files load and records them:

* The load history (Snowflake's load metadata) lives with the target table: it is read and
  written in the target's own database (`<db>._fs_information_schema._fs_load_history`, which
  `<db>.INFORMATION_SCHEMA.LOAD_HISTORY` shows), keyed by schema, table and file, whatever the
  session's current database is. fakesnow used the *current* database: a session without one
  failed ("_fs_information_schema does not exist"), and a session whose current database was
  another one recorded the file where the next COPY did not look, loading it twice.
* Names are quoted wherever they reach DuckDB (fakesnow's DESCRIBE was not): spaces, mixed
  case, reserved words and embedded double quotes work in database, schema, table and column
  names.
* Files the load history skips are not listed; when none is left to load, the answer is one row
  `Copy executed with 0 files processed.`, as Snowflake answers. FORCE = TRUE reloads (FORCE =
  FALSE does not, which fakesnow got wrong). FILES = ('a', 'b') loads exactly those files of the
  location and fails when one is missing (fakesnow refused FILES for internal stages).
* The COPY is one unit: every file's rows and history rows commit together, or none do. Inside
  an explicit transaction they are part of it, so ROLLBACK takes the rows and the history back.
* In strict mode, Parquet values load with Snowflake's file format semantics and size limits
  (parquet_semantics.py).
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import fakesnow.copy_into as fs_copy
import fakesnow.cursor
import fakesnow.transforms.stage as stage
import pyarrow.parquet as pq
import snowflake.connector.errors
from duckdb import DuckDBPyConnection
from fakesnow import info_schema, macros
from fakesnow.transforms.file_format import lookup_file_format
from fakesnow.transforms.options import parse_options
from sqlglot import exp

from sfemu import parquet_semantics as semantics
from sfemu import ddl, sessions, settings, statements
from sfemu.parquet_semantics import literal, quote

ZERO_FILES_SQL = "SELECT 'Copy executed with 0 files processed.' AS \"status\""
RESULT_COLUMNS = (
    "file",
    "status",
    "rows_parsed",
    "rows_loaded",
    "error_limit",
    "errors_seen",
    "first_error",
    "first_error_line",
    "first_error_character",
    "first_error_column_name",
)
LOAD_ERROR_HINT = (
    "If you would like to continue loading when an error is encountered, use other values such as "
    "'SKIP_FILE' or 'CONTINUE' for the ON_ERROR option. For more information on loading options, "
    "please run 'info loading_data' in a SQL client."
)


@dataclass(frozen=True)
class Target:
    """The table a COPY loads, as stored names (not SQL)."""

    database: str
    schema: str
    name: str

    def sql(self) -> str:
        return f"{quote(self.database)}.{quote(self.schema)}.{quote(self.name)}"

    def history_sql(self) -> str:
        return f"{quote(self.database)}._fs_information_schema._fs_load_history"


def target_of(table: exp.Table, current_database: str | None, current_schema: str | None) -> Target:
    database = table.catalog or current_database
    schema = table.db or current_schema
    if not database:
        raise snowflake.connector.errors.ProgrammingError(
            msg="Cannot perform COPY. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.",  # noqa: E501
            errno=90105,
            sqlstate="22000",
        )
    if not schema:
        raise snowflake.connector.errors.ProgrammingError(
            msg="Cannot perform COPY. This session does not have a current schema. Call 'USE SCHEMA', or use a qualified name.",  # noqa: E501
            errno=90106,
            sqlstate="22000",
        )
    return Target(database=database, schema=schema, name=table.name)


@dataclass
class CopyOptions:
    format_options: dict[str, Any]
    files: list[str] | None
    force: bool
    purge: bool


def _flag(param: exp.CopyParameter) -> bool:
    """FORCE = TRUE / FALSE (a bare FORCE means TRUE)."""
    value = param.args.get("expression")
    if value is None:
        return True
    if isinstance(value, exp.Boolean):
        return bool(value.this)
    return str(value.name).strip().upper() in {"TRUE", "1"}


def copy_options(
    expr: exp.Copy, duck_conn: DuckDBPyConnection, current_database: str | None, current_schema: str | None
) -> CopyOptions:
    format_options: dict[str, Any] = {}
    files: list[str] | None = None
    force = purge = False
    for param in expr.args.get("params") or []:
        name = param.this.name.upper()
        if name == "FILE_FORMAT":
            options = parse_options(param.expressions)
            if format_name := options.pop("FORMAT_NAME", None):
                options = {**lookup_file_format(duck_conn, str(format_name), current_database, current_schema), **options}
            format_options = {k.upper(): v for k, v in options.items()}
        elif name == "FILES":
            files = list(dict.fromkeys(lit.name for lit in param.find_all(exp.Literal)))
        elif name == "FORCE":
            force = _flag(param)
        elif name == "PURGE":
            purge = _flag(param)
    return CopyOptions(format_options=format_options, files=files, force=force, purge=purge)


def _missing_file_error(name: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"Remote file '{name}' was not found. There are several potential causes. The file might not exist. "
        "The required credentials may be missing or invalid. If you are running a copy command, please make sure "
        "files are not deleted when they are being loaded or files are not being loaded into two different tables "
        "concurrently with auto purge option.",
        errno=91016,
        sqlstate="22000",
    )


def listed_files(source: str, files: list[str]) -> list[str]:
    """The urls of FILES = (...) inside the COPY's location; every one must exist."""
    if not stage.is_internal(source):
        urls = fs_copy._source_urls(source, files)  # noqa: SLF001
        for url in urls:
            if url.startswith("file://") and not os.path.isfile(stage.file_path(url)[len("file://") :]):
                raise _missing_file_error(url)
        return urls
    base = source if source.endswith("/") else source + "/"
    urls = []
    for name in files:
        path = os.path.normpath(base + name)
        if not path.startswith(os.path.normpath(base)) or not os.path.isfile(path):
            raise _missing_file_error(fs_copy._result_file_name(base + name))  # noqa: SLF001
        urls.append(path)
    return urls


# --- the load history ---------------------------------------------------------------------

def ensure_info_schema(duck_conn: DuckDBPyConnection, database: str) -> None:
    """Creates the database's fakesnow info-schema objects (the load history among them) when
    they are missing, in a transaction of their own so no other transaction can hide or undo
    them. fakesnow creates them with CREATE DATABASE, but inside a transaction that is rolled
    back (or not yet committed) they are not there."""
    check = (
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name = '_fs_information_schema' AND table_name = '_fs_load_history'"
    )
    if duck_conn.execute(check, [database]).fetchone()[0]:
        return  # (seen by the session itself, which may have created it in its transaction)
    # ddl.database_lock serialises their creation with CREATE DATABASE (which creates them too)
    # and with other COPYs: DuckDB answers two concurrent CREATE ... IF NOT EXISTS of one object
    # with a write-write conflict.
    with ddl.database_lock, duck_conn.cursor() as own:
        if own.execute(check, [database]).fetchone()[0]:
            return
        for attempt in range(50):
            try:
                own.execute(info_schema.per_db_creation_sql(database))
                own.execute(macros.creation_sql(database))
                return
            except duckdb.TransactionException:
                if attempt == 49:
                    raise
                time.sleep(0.02)


def loaded_before(duck_conn: DuckDBPyConnection, target: Target, url: str) -> bool:
    duck_conn.execute(
        f"SELECT 1 FROM {target.history_sql()} WHERE SCHEMA_NAME = ? AND TABLE_NAME = ? AND FILE_NAME = ? "
        "AND STATUS = 'LOADED' LIMIT 1",
        [target.schema, target.name, url],
    )
    return duck_conn.fetchone() is not None


def record_load(duck_conn: DuckDBPyConnection, target: Target, url: str, rows: int, load_time: str) -> None:
    record = fs_copy.LoadHistoryRecord(
        schema_name=target.schema,
        file_name=url,
        table_name=target.name,
        last_load_time=load_time,
        status="LOADED",
        row_count=rows,
        row_parsed=rows,
        first_error_message=None,
        first_error_line_number=None,
        first_error_character_position=None,
        first_error_col_name=None,
        error_count=0,
        error_limit=1,
    )
    duck_conn.execute(f"INSERT INTO {target.history_sql()} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(record))


# --- building the inserts -----------------------------------------------------------------


def describe(duck_conn: DuckDBPyConnection, target: Target) -> list[semantics.TargetColumn]:
    rows = duck_conn.execute(f"DESCRIBE {target.sql()}").fetchall()
    lengths = dict(
        duck_conn.execute(
            "SELECT ext_column_name, ext_character_maximum_length FROM _fs_global._fs_information_schema._fs_columns_ext "
            "WHERE ext_table_catalog = ? AND ext_table_schema = ? AND ext_table_name = ?",
            [target.database, target.schema, target.name],
        ).fetchall()
    )
    return [
        semantics.TargetColumn(name=row[0], position=i + 1, duck_type=row[1], max_length=lengths.get(row[0]))
        for i, row in enumerate(rows)
    ]


def parquet_columns(url: str, duck_conn: DuckDBPyConnection) -> dict[str, semantics.ParquetColumn | None]:
    """The file's top-level columns; their footer description when the file is local."""
    path = stage.file_path(url)
    path = path[len("file://") :] if path.startswith("file://") else path
    if os.path.isfile(path):
        schema = pq.ParquetFile(path).schema
        leaves = {schema.column(i).path: semantics.ParquetColumn.from_pyarrow(schema.column(i)) for i in range(len(schema))}
        return {name: leaves.get(name) for name in schema.to_arrow_schema().names}
    return {name: None for name in fs_copy._get_parquet_column_names(url, duck_conn)}  # noqa: SLF001


def _reader(url: str, row_numbers: bool = False) -> str:
    file_literal = fs_copy.FileTypeHandler.file_literal(url).sql(dialect="duckdb")
    return f"read_parquet({file_literal}, file_row_number = true)" if row_numbers else f"read_parquet({file_literal})"


@dataclass
class Insert:
    sql: str
    checks: list[tuple[semantics.Check, semantics.TargetColumn]]


def _column_value(
    column: semantics.ParquetColumn | None,
    ref: str,
    target: semantics.TargetColumn,
    fmt: semantics.ParquetFormat,
    timezone: str,
) -> semantics.Loaded:
    if column is None or not settings.strict():
        return semantics.Loaded(sql=ref)
    return semantics.load_expression(column, ref, target, fmt, timezone)


def match_by_name_insert(
    target: Target,
    columns: list[semantics.TargetColumn],
    url: str,
    parquet: dict[str, semantics.ParquetColumn | None],
    case_sensitive: bool,
    fmt: semantics.ParquetFormat,
    timezone: str,
) -> Insert:
    lookup = {name: name for name in parquet} if case_sensitive else {name.upper(): name for name in parquet}
    values: list[str] = []
    checks: list[tuple[semantics.Check, semantics.TargetColumn]] = []
    for column in columns:
        source = lookup.get(column.name if case_sensitive else column.name.upper())
        if source is None:
            values.append("NULL")
            continue
        loaded = _column_value(parquet[source], quote(source), column, fmt, timezone)
        values.append(loaded.sql)
        checks.extend((check, column) for check in loaded.checks)
    names = ", ".join(quote(c.name) for c in columns)
    sql = f"INSERT INTO {target.sql()} ({names}) SELECT {', '.join(values)} FROM {_reader(url)}"
    return Insert(sql=sql, checks=checks)


def _dollar_key(node: exp.Expression) -> str | None:
    """The key of `$1:key` (a single-key path on the first column)."""
    if not isinstance(node, exp.JSONExtract):
        return None
    if node.this != exp.Parameter(this=exp.Literal(this="1", is_string=False)):
        return None
    path = node.expression
    if not isinstance(path, exp.JSONPath):
        return None
    keys = [p for p in path.expressions if not isinstance(p, exp.JSONPathRoot)]
    if len(keys) != 1 or not isinstance(keys[0], exp.JSONPathKey):
        return None
    return str(keys[0].this)


def _bare(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Alias, exp.Paren)):
        node = node.this
    return node


def transform_insert(
    expr: exp.Copy,
    target: Target,
    columns: list[semantics.TargetColumn],
    url: str,
    parquet: dict[str, semantics.ParquetColumn | None],
    fmt: semantics.ParquetFormat,
    timezone: str,
) -> Insert:
    """COPY INTO t (cols) FROM (SELECT $1:a, PARSE_JSON($1:b) FROM @stage): `$1:key` reads the
    file's column `key` (case-sensitive in strict mode: a missing key is NULL, as in Snowflake)."""
    select = expr.args["files"][0].this.copy()
    schema = expr.this
    if isinstance(schema, exp.Schema) and schema.expressions:
        by_name = {c.name.upper(): c for c in columns}
        wanted = [by_name.get(str(i.name).upper()) for i in schema.expressions]
        names = [str(i.name) for i in schema.expressions]
    else:
        wanted = list(columns)
        names = [c.name for c in columns]
    if len(select.expressions) != len(names):
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\nInsert value list does not match column list expecting {len(names)} "
            f"but got {len(select.expressions)}",
            errno=2020,
            sqlstate="21S01",
        )
    lookup_exact = {name: name for name in parquet}
    lookup_upper = {name.upper(): name for name in parquet}
    checks: list[tuple[semantics.Check, semantics.TargetColumn]] = []
    values = []
    for expression, column in zip(select.expressions, wanted, strict=True):
        bare = _bare(expression)

        def replace(node: exp.Expression, column: semantics.TargetColumn | None = column, bare: exp.Expression = bare) -> exp.Expression:
            key = _dollar_key(node)
            if key is None:
                return node
            source = lookup_exact.get(key) if settings.strict() else lookup_upper.get(key.upper())
            if source is None:
                return exp.Null()
            if column is None:
                return exp.column(source, quoted=True)
            # Only a bare `$1:key` loads with the column's own semantics into the target type;
            # inside an expression (PARSE_JSON($1:j), a cast) the value is used as read.
            target_for = column if node is bare else semantics.TargetColumn(source, column.position, "VARCHAR", None)
            loaded = _column_value(parquet[source], quote(source), target_for, fmt, timezone)
            if node is bare:
                checks.extend((check, column) for check in loaded.checks)
            return exp.maybe_parse(loaded.sql, dialect="duckdb")

        values.append(expression.transform(replace, copy=False).sql(dialect="duckdb"))
    column_list = ", ".join(quote(n) for n in names)
    sql = f"INSERT INTO {target.sql()} ({column_list}) SELECT {', '.join(values)} FROM {_reader(url)}"
    return Insert(sql=sql, checks=checks)


def run_checks(duck_conn: DuckDBPyConnection, insert: Insert, url: str, target: Target) -> None:
    """Fails the COPY, as Snowflake does, at the first row a check rejects."""
    if not insert.checks:
        return
    conditions = [f"({check.condition})" for check, _ in insert.checks]
    flags = ", ".join(f"coalesce({c}, false) AS c{i}" for i, c in enumerate(conditions))
    found = duck_conn.execute(
        f"SELECT * FROM (SELECT file_row_number, {flags} FROM {_reader(url, row_numbers=True)}) "
        f"WHERE {' OR '.join(f'c{i}' for i in range(len(conditions)))} ORDER BY file_row_number LIMIT 1"
    ).fetchone()
    if found is None:
        return
    row = found[0]
    index = next(i for i, flag in enumerate(found[1:]) if flag)
    check, column = insert.checks[index]
    preview = duck_conn.execute(
        f"SELECT {check.preview} FROM {_reader(url, row_numbers=True)} WHERE file_row_number = ?", [row]
    ).fetchone()
    message, (errno, sqlstate) = check.error(preview[0] if preview else None)
    raise snowflake.connector.errors.ProgrammingError(
        msg=f"{message}\n  File '{fs_copy._result_file_name(url)}', line {row + 1}, character 1\n"  # noqa: SLF001
        f"  Row {row + 1}, column {quote(target.name)}[{quote(column.name)}:{column.position}]\n  {LOAD_ERROR_HINT}",
        errno=errno,
        sqlstate=sqlstate,
    )


def fakesnow_inserts(expr: exp.Copy, cparams: fs_copy.CopyParams, urls: list[str], duck_conn: DuckDBPyConnection,
                     target: Target, columns: list[semantics.TargetColumn]) -> list[str]:
    """CSV, JSON and a Parquet load into a single VARIANT column: fakesnow's own inserts."""
    parquet_info = None
    if isinstance(cparams.file_format, fs_copy.ReadParquet):
        if not (len(columns) == 1 and columns[0].kind == "VARIANT"):
            raise snowflake.connector.errors.ProgrammingError(
                msg="SQL compilation error:\nPARQUET file format can produce one and only one column of type variant, object, or array. Load data into separate columns using the MATCH_BY_COLUMN_NAME copy option or copy with transformation.",  # noqa: E501
                errno=2019,
                sqlstate="0A000",
            )
        names = {url: fs_copy._get_parquet_column_names(url, duck_conn) for url in urls}  # noqa: SLF001
        parquet_info = fs_copy.ParquetLoadInfo(names, is_single_variant=True)
    return [i.sql(dialect="duckdb") for i in fs_copy._inserts(expr, cparams, urls, parquet_info)]  # noqa: SLF001


def _begin(duck_conn: DuckDBPyConnection) -> bool:
    """Starts a transaction unless the session has one open (an explicit BEGIN); whether it did.
    (Asking DuckDB by trying BEGIN would abort the open transaction.)"""
    conn = sessions.current_conn()
    if conn is not None and (statements.transaction_open(conn) or getattr(conn, "_in_transaction", False)):
        return False
    duck_conn.execute("BEGIN TRANSACTION")
    return True


def copy_into(
    duck_conn: DuckDBPyConnection,
    current_database: str | None,
    current_schema: str | None,
    expr: exp.Copy,
    table_stages: stage.TableStages,
    params: Sequence[Any] | dict[Any, Any] | None = None,
) -> str:
    # fakesnow's parser validates the options (ON_ERROR, MATCH_BY_COLUMN_NAME, format type).
    cparams = fs_copy._params(  # noqa: SLF001
        expr, params, duck_conn=duck_conn, current_database=current_database, current_schema=current_schema
    )
    options = copy_options(expr, duck_conn, current_database, current_schema)
    table = fs_copy._extract_table(expr.this)  # noqa: SLF001
    target = target_of(table, current_database, current_schema)
    from_source = fs_copy._from_source(expr)  # noqa: SLF001
    source = (
        fs_copy.stage_url_from_var(from_source[1:], duck_conn, current_database, current_schema, table_stages, table)
        if from_source.startswith("@")
        else from_source
    )
    urls = listed_files(source, options.files) if options.files is not None else sorted(fs_copy._source_glob(source, duck_conn))  # noqa: SLF001, E501
    ensure_info_schema(duck_conn, target.database)
    columns = describe(duck_conn, target)
    fmt = semantics.ParquetFormat.from_options(options.format_options)
    timezone = sessions.timezone(sessions.current())
    subquery = isinstance(expr.args["files"][0], exp.Subquery)
    is_parquet = isinstance(cparams.file_format, fs_copy.ReadParquet)

    own = _begin(duck_conn)
    loaded: list[tuple[str, int]] = []
    try:
        pending = [url for url in urls if options.force or not loaded_before(duck_conn, target, url)]
        if is_parquet and (subquery or cparams.match_by_column_name != fs_copy.MatchByColumnName.NONE):
            for url in pending:
                parquet = parquet_columns(url, duck_conn)
                if subquery:
                    insert = transform_insert(expr, target, columns, url, parquet, fmt, timezone)
                else:
                    case_sensitive = cparams.match_by_column_name == fs_copy.MatchByColumnName.CASE_SENSITIVE
                    insert = match_by_name_insert(target, columns, url, parquet, case_sensitive, fmt, timezone)
                run_checks(duck_conn, insert, url, target)
                (count,) = duck_conn.execute(insert.sql).fetchone()
                loaded.append((url, count))
        elif pending:
            for url, sql in zip(pending, fakesnow_inserts(expr, cparams, pending, duck_conn, target, columns), strict=True):
                (count,) = duck_conn.execute(sql, params or None).fetchone()
                loaded.append((url, count))
        load_time = datetime.datetime.now(datetime.UTC).isoformat()
        for url, count in loaded:
            record_load(duck_conn, target, url, count, load_time)
        if own:
            duck_conn.execute("COMMIT")
    except BaseException as error:
        if own:
            try:
                duck_conn.execute("ROLLBACK")
            except duckdb.Error:
                pass
        if isinstance(error, duckdb.HTTPException):
            raise snowflake.connector.errors.ProgrammingError(msg=error.args[0], errno=91016, sqlstate="22000") from None
        if isinstance(error, duckdb.ConversionException):
            raise snowflake.connector.errors.ProgrammingError(msg=error.args[0], errno=100038, sqlstate="22018") from None
        raise

    if options.purge:
        for url, _ in loaded:
            path = stage.file_path(url)
            if stage.is_internal(path) and os.path.isfile(path):
                os.remove(path)
    if not loaded:
        duck_conn.execute(ZERO_FILES_SQL)
        return ZERO_FILES_SQL
    rows = ", ".join(
        f"({literal(fs_copy._result_file_name(url))}, 'LOADED', {count}, {count}, 1, 0, NULL, NULL, NULL, NULL)"  # noqa: SLF001
        for url, count in loaded
    )
    sql = f"SELECT * FROM (VALUES {rows}) AS t({', '.join(RESULT_COLUMNS)})"
    duck_conn.execute(sql)
    return sql


def install() -> None:
    """fakesnow's cursor calls copy_into by the name it imported: replace it there."""
    fakesnow.cursor.copy_into = copy_into  # type: ignore[assignment]
