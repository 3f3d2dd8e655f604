"""An independent reader: compares tables in PostgreSQL with their copies in Snowflake (or the
local emulator), value by value.

It shares nothing with the project's Rust code: the source is read with `psql` (text COPY
output), the target through snowflake-connector-python, and both sides are normalised by the
rules written here, from the PostgreSQL column types:

    integers          exact integers
    numeric           exact Decimal values (1.50 equals 1.5; nothing is rounded)
    double precision  repr of the float (shortest text that round-trips)
    real              the float32 value, as the repr of that value widened to a double; a
                      target value that is not exactly a float32 differs
    timestamp         naive date and time to the microsecond; a target value with a zone differs
    timestamptz       the UTC instant to the microsecond; a target value without a zone differs
    date, time        ISO text to the day / microsecond
    text, varchar     the exact string (an empty string is not NULL)
    bytea             lower-case hex; a target value that is text, not bytes, differs
    json, jsonb       parsed and compared as values: keys in any order, numbers as exact
                      decimals (1.0 equals 1); a JSON string holding an object is not the object
    uuid              lower-case canonical text
    boolean           true / false; a target value that is not a boolean differs

Rows are sorted by the table's key and matched key by key, so the report names rows lost,
rows present more than once and rows whose values differ.

    python compare_tables.py SPEC.json

SPEC.json:

    {"postgres":  {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"},
     "snowflake": {"account": "...", "user": "...", "password": "...", "host": "...",
                   "port": 8080, "protocol": "http", "warehouse": "..."},
     "max_differences": 5,
     "tables": [{"source": {"schema": "s", "table": "MixedCase Text"},
                 "target": {"database": "DB", "schema": "S", "table": "MixedCase Text"},
                 "key": ["id"],
                 "columns": {"order": "ORDER"}}]}

`columns` is optional: a source column's target name is by default its name upper-cased when
it is a plain lower-case identifier (letters, digits, `_`, `$`, not starting with a digit), and
the name unchanged otherwise. Target names are always quoted, so they are used exactly.

Exit status: 0 when every table is identical, 1 when one differs, 2 when the comparison could
not be made (a service unreachable, a column type without a rule here).
"""

import concurrent.futures
import datetime
import decimal
import json
import os
import re
import struct
import subprocess
import sys
import uuid

# Exact decimal arithmetic for numeric(38, x) and beyond: the default context has 28 digits and
# would round while normalising.
EXACT = decimal.Context(prec=400, Emax=999999, Emin=-999999)

NULL = (0, "")


class ReaderError(Exception):
    """The comparison could not be made (not: the tables differ)."""


# --- column kinds -------------------------------------------------------------------------


def kind_of(pg_type):
    """The normalisation rule of a PostgreSQL type as `format_type` prints it."""
    base = re.sub(r"\(.*\)", "", pg_type).strip()
    kinds = {
        "smallint": "int",
        "integer": "int",
        "bigint": "int",
        "numeric": "decimal",
        "real": "float4",
        "double precision": "float8",
        "timestamp without time zone": "timestamp",
        "timestamp with time zone": "timestamptz",
        "date": "date",
        "time without time zone": "time",
        "text": "text",
        "character varying": "text",
        "bytea": "bytes",
        "json": "json",
        "jsonb": "json",
        "uuid": "uuid",
        "boolean": "bool",
    }
    if base not in kinds:
        raise ReaderError(
            f"type `{pg_type}` has no normalisation rule in compare_tables.py: add one"
        )
    return kinds[base]


def default_target_name(source_name):
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", source_name):
        return source_name.upper()
    return source_name


def quote(identifier):
    return '"' + identifier.replace('"', '""') + '"'


# --- canonical values ---------------------------------------------------------------------
#
# Every value becomes (1, text), NULL becomes (0, ""): tuples that compare and sort alike on
# both sides. A target value of the wrong Python type gets a text no source value can have
# ("<wrong type ...>"), so it always differs.


def wrong_type(value):
    return (1, f"<wrong type {type(value).__name__}: {value!r}>")


def canonical_decimal(value):
    normal = value.normalize(EXACT)
    return format(normal, "f")


def canonical_float8(value):
    return repr(float(value))


def as_float32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def canonical_json_value(value):
    """A JSON value as canonical text: sorted keys, numbers as exact decimals."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(json_text(k) + ":" + canonical_json_value(v)
                              for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical_json_value(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, decimal.Decimal)):
        return canonical_decimal(decimal.Decimal(value))
    if isinstance(value, str):
        return json_text(value)
    raise ReaderError(f"unexpected JSON value {value!r}")


# A JSON string literal, non-ASCII kept (the C encoder behind json.dumps(ensure_ascii=False)).
json_text = json.encoder.encode_basestring


def parse_json(text):
    return json.loads(text, parse_float=decimal.Decimal, parse_int=int)


def source_value(kind, text):
    """A value of PostgreSQL's text output (COPY TO, unescaped; None for NULL), canonical."""
    if text is None:
        return NULL
    if kind == "int":
        return (1, str(int(text)))
    if kind == "decimal":
        return (1, canonical_decimal(decimal.Decimal(text)))
    if kind == "float8":
        return (1, canonical_float8(float(text)))
    if kind == "float4":
        return (1, canonical_float8(as_float32(float(text))))
    if kind == "timestamp":
        stamp = datetime.datetime.fromisoformat(text)
        return (1, stamp.isoformat(sep=" ", timespec="microseconds"))
    if kind == "timestamptz":
        stamp = datetime.datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            raise ReaderError(f"timestamptz text without an offset: {text!r}")
        return (1, utc_text(stamp))
    if kind == "date":
        return (1, datetime.date.fromisoformat(text).isoformat())
    if kind == "time":
        return (1, datetime.time.fromisoformat(text).isoformat(timespec="microseconds"))
    if kind == "text":
        return (1, text)
    if kind == "bytes":
        if not text.startswith("\\x"):
            raise ReaderError(f"bytea not in hex output: {text[:20]!r} (set bytea_output=hex)")
        return (1, bytes.fromhex(text[2:]).hex())
    if kind == "json":
        return (1, canonical_json_value(parse_json(text)))
    if kind == "uuid":
        return (1, str(uuid.UUID(text)))
    if kind == "bool":
        return (1, {"t": "true", "f": "false"}[text])
    raise ReaderError(f"no source rule for kind {kind}")


def utc_text(stamp):
    return stamp.astimezone(datetime.timezone.utc).isoformat(sep=" ", timespec="microseconds")


def target_value(kind, value):
    """A value as snowflake-connector-python returns it (None for NULL), canonical."""
    if value is None:
        return NULL
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal)):
            return wrong_type(value)
        if isinstance(value, decimal.Decimal) and value != value.to_integral_value():
            return wrong_type(value)
        return (1, str(int(value)))
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, decimal.Decimal)):
            return wrong_type(value)
        return (1, canonical_decimal(decimal.Decimal(value)))
    if kind == "float8":
        if not isinstance(value, float):
            return wrong_type(value)
        return (1, canonical_float8(value))
    if kind == "float4":
        if not isinstance(value, float):
            return wrong_type(value)
        if as_float32(value) != value and value == value:
            return (1, f"<not a float32: {value!r}>")
        return (1, canonical_float8(value))
    if kind == "timestamp":
        if not isinstance(value, datetime.datetime) or value.tzinfo is not None:
            return wrong_type(value)
        return (1, value.isoformat(sep=" ", timespec="microseconds"))
    if kind == "timestamptz":
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            return wrong_type(value)
        return (1, utc_text(value))
    if kind == "date":
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            return wrong_type(value)
        return (1, value.isoformat())
    if kind == "time":
        if not isinstance(value, datetime.time):
            return wrong_type(value)
        return (1, value.isoformat(timespec="microseconds"))
    if kind == "text":
        if not isinstance(value, str):
            return wrong_type(value)
        return (1, value)
    if kind == "bytes":
        if not isinstance(value, (bytes, bytearray)):
            return wrong_type(value)
        return (1, bytes(value).hex())
    if kind == "json":
        if not isinstance(value, str):
            return wrong_type(value)
        try:
            return (1, canonical_json_value(parse_json(value)))
        except ValueError:
            return (1, f"<not JSON: {value!r}>")
    if kind == "uuid":
        if not isinstance(value, str):
            return wrong_type(value)
        try:
            return (1, str(uuid.UUID(value)))
        except ValueError:
            return (1, f"<not a uuid: {value!r}>")
    if kind == "bool":
        if not isinstance(value, bool):
            return wrong_type(value)
        return (1, "true" if value else "false")
    raise ReaderError(f"no target rule for kind {kind}")


def sort_value(kind, canonical):
    """A canonical value as a sort key: numbers in numeric order, the rest by text."""
    flag, text = canonical
    if flag == 0 or text.startswith("<"):
        return (flag, 0, text)
    if kind in ("int", "decimal"):
        return (flag, decimal.Decimal(text), "")
    return (flag, 0, text)


# --- PostgreSQL's text COPY format ----------------------------------------------------------

ESCAPES = {
    ord("b"): b"\b", ord("f"): b"\f", ord("n"): b"\n", ord("r"): b"\r",
    ord("t"): b"\t", ord("v"): b"\v", ord("\\"): b"\\",
}


ESCAPE = re.compile(rb"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", re.DOTALL)


def decode_escape(match):
    sequence = match.group(1)
    if sequence[0] in ESCAPES:
        return ESCAPES[sequence[0]]
    if sequence[:1] == b"x" and len(sequence) > 1:
        return bytes([int(sequence[1:], 16)])
    if sequence[:1].isdigit() and sequence[0] < ord("8"):
        return bytes([int(sequence, 8) & 0xFF])
    return sequence


def unescape_copy_field(raw):
    """One field of COPY's text format: `\\N` is NULL, backslash sequences are decoded."""
    if raw == b"\\N":
        return None
    if b"\\" not in raw:
        return raw.decode("utf-8")
    return ESCAPE.sub(decode_escape, raw).decode("utf-8")


def parse_copy_line(line):
    return [unescape_copy_field(field) for field in line.split(b"\t")]


# --- the two readers ------------------------------------------------------------------------


def psql(pg, sql):
    """Runs `sql` with psql; its stdout as bytes. Sessions use UTC and unambiguous formats."""
    env = dict(os.environ)
    env["PGOPTIONS"] = ("-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3 "
                        "-c bytea_output=hex -c IntervalStyle=iso_8601")
    env["PGCLIENTENCODING"] = "UTF8"
    command = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", str(pg["host"]), "-p", str(pg["port"]), "-U", pg["user"], "-d", pg["database"]]
    try:
        done = subprocess.run(command, input=sql.encode("utf-8"), capture_output=True, env=env)
    except FileNotFoundError as error:
        raise ReaderError("psql is not installed: apt-get install postgresql-client") from error
    if done.returncode != 0:
        raise ReaderError(f"psql failed on `{sql[:200]}`: {done.stderr.decode(errors='replace')}"
                          " (is PostgreSQL running on "
                          f"{pg['host']}:{pg['port']}?)")
    return done.stdout


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def source_columns(pg, schema, table):
    """(name, format_type) of each column, in table order."""
    sql = (
        "COPY (SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = {literal(schema)} AND c.relname = {literal(table)} "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) TO STDOUT;\n"
    )
    rows = [parse_copy_line(line) for line in psql(pg, sql).split(b"\n") if line]
    if not rows:
        raise ReaderError(f"PostgreSQL table {schema}.{table} does not exist or has no columns")
    return [(name, pg_type) for name, pg_type in rows]


def source_rows(pg, schema, table, columns, kinds):
    select = ", ".join(quote(name) for name in columns)
    sql = f"COPY (SELECT {select} FROM {quote(schema)}.{quote(table)}) TO STDOUT;\n"
    rows = []
    for line in psql(pg, sql).split(b"\n"):
        if not line:
            continue
        fields = parse_copy_line(line)
        if len(fields) != len(columns):
            raise ReaderError(f"COPY line with {len(fields)} fields, expected {len(columns)}")
        rows.append(tuple(source_value(kind, text) for kind, text in zip(kinds, fields)))
    return rows


def connect_snowflake(sf):
    import snowflake.connector  # imported here so the unit tests need no connector

    try:
        return snowflake.connector.connect(
            account=sf["account"], user=sf["user"], password=sf["password"],
            host=sf["host"], port=sf["port"], protocol=sf.get("protocol", "https"),
            warehouse=sf.get("warehouse"), login_timeout=60, network_timeout=300,
        )
    except Exception as error:  # the connector raises many kinds
        raise ReaderError(f"cannot connect to Snowflake at {sf['host']}:{sf['port']}: {error}")


def target_rows(connection, target, columns, kinds):
    name = ".".join(quote(part) for part in (target["database"], target["schema"], target["table"]))
    select = ", ".join(quote(column) for column in columns)
    cursor = connection.cursor()
    try:
        cursor.execute(f"SELECT {select} FROM {name}")
        fetched = cursor.fetchall()
    except Exception as error:
        raise ReaderError(f"cannot read target table {name}: {error}")
    finally:
        cursor.close()
    return [tuple(target_value(kind, value) for kind, value in zip(kinds, row)) for row in fetched]


# --- the comparison -------------------------------------------------------------------------


def compare_rows(names, kinds, key, source, target, limit):
    """Differences between two lists of canonical rows, matched by the key columns.

    Returns (counts, examples): counts of keys missing in the target, extra in the target,
    present more than once, and changed; up to `limit` example lines in key order.
    """
    counts = {"missing": 0, "extra": 0, "repeated": 0, "changed": 0}
    # The common case first: the same rows (as a multiset) on both sides.
    if len(source) == len(target) and sorted(source) == sorted(target):
        return counts, []
    positions = [names.index(column) for column in key]

    def sort_key(row):
        return (tuple(sort_value(kinds[i], row[i]) for i in positions), row)

    def groups(rows):
        rows = sorted(rows, key=sort_key)
        i = 0
        while i < len(rows):
            j = i + 1
            keyed = tuple(rows[i][p] for p in positions)
            while j < len(rows) and tuple(rows[j][p] for p in positions) == keyed:
                j += 1
            yield keyed, sort_key(rows[i])[0], rows[i:j]
            i = j

    examples = []

    def note(what, text):
        counts[what] += 1
        if len(examples) < limit:
            examples.append(text)

    def show_key(keyed):
        return ", ".join(f"{column}={show(value)}" for column, value in zip(key, keyed))

    left, right = groups(source), groups(target)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[1] < b[1]):
            note("missing", f"missing in target: {show_key(a[0])} ({len(a[2])} row(s))")
            a = next(left, None)
        elif a is None or b[1] < a[1]:
            note("extra", f"not in source: {show_key(b[0])} ({len(b[2])} row(s)): "
                          f"{show_row(names, b[2][0])}")
            b = next(right, None)
        else:
            src, tgt = a[2], b[2]
            if len(tgt) > len(src):
                note("repeated", f"{show_key(a[0])}: {len(src)} row(s) in source, "
                                 f"{len(tgt)} in target")
            elif len(tgt) < len(src):
                note("missing", f"{show_key(a[0])}: {len(src)} row(s) in source, "
                                f"{len(tgt)} in target")
            elif src != tgt:
                for s_row, t_row in zip(src, tgt):
                    if s_row != t_row:
                        diffs = [f"{name}: source {show(s)} target {show(t)}"
                                 for name, s, t in zip(names, s_row, t_row) if s != t]
                        note("changed", f"{show_key(a[0])}: " + "; ".join(diffs))
                        break
            a, b = next(left, None), next(right, None)
    return counts, examples


def show(canonical):
    flag, text = canonical
    if flag == 0:
        return "NULL"
    if len(text) > 120:
        text = text[:120] + "..."
    return repr(text)


def show_row(names, row):
    return ", ".join(f"{name}={show(value)}" for name, value in zip(names, row))


def compare_table(pg, connection, table, limit):
    """(identical, report line(s)) for one table of the spec, over `connection`."""
    source, target = table["source"], table["target"]
    label = (f"{source['schema']}.{source['table']} -> "
             f"{target['database']}.{target['schema']}.{target['table']}")
    described = source_columns(pg, source["schema"], source["table"])
    names = [name for name, _ in described]
    kinds = [kind_of(pg_type) for _, pg_type in described]
    renames = table.get("columns", {})
    target_names = [renames.get(name, default_target_name(name)) for name in names]
    key = table["key"]
    unknown = [column for column in key if column not in names]
    if unknown:
        raise ReaderError(f"{label}: key column(s) {unknown} are not columns of the source")
    src = source_rows(pg, source["schema"], source["table"], names, kinds)
    try:
        tgt = target_rows(connection, target, target_names, kinds)
    except ReaderError as error:
        # A target that is missing or lacks a column is a difference, not a failure to compare.
        return False, f"{label}: DIFFERS: {len(src)} rows in source; {error}"
    counts, examples = compare_rows(names, kinds, key, src, tgt, limit)
    if not any(counts.values()):
        return True, f"{label}: identical, {len(src)} rows, {len(names)} columns compared"
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    lines = [f"{label}: DIFFERS: {len(src)} rows in source, {len(tgt)} in target; "
             f"keys {summary}"]
    lines += [f"    {example}" for example in examples]
    return False, "\n".join(lines)


def compare_in_process(spec, table):
    """compare_table in a process of its own, with its own Snowflake session."""
    connection = connect_snowflake(spec["snowflake"])
    try:
        return compare_table(spec["postgres"], connection, table, spec.get("max_differences", 5))
    finally:
        connection.close()


def main(argv):
    if len(argv) != 2:
        print("usage: compare_tables.py SPEC.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as file:
        spec = json.load(file)
    # Normalising is CPU-bound Python: two tables at a time, one process each.
    workers = max(1, min(int(spec.get("processes", 2)), len(spec["tables"])))
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(compare_in_process, spec, table) for table in spec["tables"]]
            identical = 0
            for future in futures:
                same, report = future.result()
                identical += same
                print(report, flush=True)
    except ReaderError as error:
        print(f"compare_tables: cannot compare: {error}", file=sys.stderr)
        return 2
    total = len(spec["tables"])
    print(f"{identical} of {total} table(s) identical")
    return 0 if identical == total else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
