"""Strict mode: COPY loads Parquet with Snowflake's file format defaults and size limits."""

from __future__ import annotations

import datetime
import unittest

import pyarrow as pa

import harness
from sfemu import parquet_semantics as semantics

UTC = datetime.UTC
TEN_UTC = datetime.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


def setUpModule() -> None:
    harness.start()


class RulesTest(unittest.TestCase):
    """The pure rules, for column shapes pyarrow cannot write (parquet-rs's converted types)."""

    def target(self, duck_type: str) -> semantics.TargetColumn:
        return semantics.TargetColumn("C", 1, duck_type)

    def test_a_naive_timestamp_is_its_number_whatever_its_converted_type(self) -> None:
        # Writers (parquet-rs, pyarrow) give TIMESTAMP(MICROS, isAdjustedToUTC=false) the
        # converted type TIMESTAMP_MICROS too; live loads still report it unbound to NTZ.
        column = semantics.ParquetColumn("C", "INT64", "TIMESTAMP", "TIMESTAMP_MICROS", False, "microseconds")
        loaded = semantics.load_expression(column, '"C"', self.target("TIMESTAMP"), semantics.ParquetFormat(), "UTC")
        self.assertEqual(loaded.sql, 'epoch_us("C")')
        self.assertEqual([c.condition for c in loaded.checks], ['"C" IS NOT NULL'])
        nanos = semantics.ParquetColumn("C", "INT64", "TIMESTAMP", "NONE", True, "nanoseconds")
        self.assertEqual(
            semantics.load_expression(nanos, '"C"', self.target("BIGINT"), semantics.ParquetFormat(), "UTC").sql,
            'epoch_ns("C")',
        )

    def test_an_adjusted_timestamp_into_timestamp_tz_takes_the_session_offset(self) -> None:
        column = semantics.ParquetColumn("C", "INT64", "TIMESTAMP", "TIMESTAMP_MICROS", True, "microseconds")
        fmt = semantics.ParquetFormat()
        loaded = semantics.load_expression(column, '"C"', self.target("TIMESTAMP WITH TIME ZONE"), fmt, "Europe/Paris")
        self.assertEqual(loaded.sql, "timezone('Europe/Paris', timezone('UTC', \"C\"))")
        honoured = semantics.ParquetFormat(use_logical_type=True)
        self.assertEqual(
            semantics.load_expression(column, '"C"', self.target("TIMESTAMP WITH TIME ZONE"), honoured, "Europe/Paris").sql,
            '"C"',
        )

    def test_format_options_default_to_snowflakes(self) -> None:
        self.assertEqual(semantics.ParquetFormat.from_options({"TYPE": "PARQUET"}), semantics.ParquetFormat(True, False))
        named = {"TYPE": "PARQUET", "BINARY_AS_TEXT": False, "USE_LOGICAL_TYPE": True}
        self.assertEqual(semantics.ParquetFormat.from_options(named), semantics.ParquetFormat(False, True))
        self.assertEqual(
            semantics.ParquetFormat.from_options({"BINARY_AS_TEXT": "FALSE", "USE_LOGICAL_TYPE": "TRUE"}),
            semantics.ParquetFormat(False, True),
        )


class StrictCopyTest(unittest.TestCase):
    def setUp(self) -> None:
        self.env = harness.strict()
        self.env.__enter__()
        self.addCleanup(self.env.__exit__, None, None, None)
        self.database = harness.unique("PQ")
        self.conn = harness.connect()
        self.addCleanup(self.conn.close)
        self.cur = self.conn.cursor()
        for sql in [
            f"CREATE DATABASE {self.database}",
            f"CREATE SCHEMA {self.database}.S",
            f"CREATE STAGE {self.database}.S.ST",
            f"CREATE FILE FORMAT {self.database}.S.LOGICAL TYPE = PARQUET BINARY_AS_TEXT = FALSE USE_LOGICAL_TYPE = TRUE",
        ]:
            self.cur.execute(sql)

    def load(self, columns: str, table: pa.Table, file_format: str = "TYPE = PARQUET", cursor: object = None) -> list[tuple]:
        name = harness.unique("T")
        folder = harness.unique("f")
        self.cur.execute(f"CREATE TABLE {self.database}.S.{name} ({columns})")
        harness.write_parquet(harness.bucket_folder(self.database, "S", "ST", folder), "part.parquet", table)
        cursor = cursor or self.cur
        cursor.execute(  # type: ignore[attr-defined]
            f"COPY INTO {self.database}.S.{name} FROM @{self.database}.S.ST/{folder}/ "
            f"FILE_FORMAT = ({file_format}) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
        )
        self.cur.execute(f"SELECT * FROM {self.database}.S.{name}")
        return self.cur.fetchall()

    def test_untyped_bytes_are_text_unless_binary_as_text_is_false(self) -> None:
        raw = pa.table({"B": pa.array([b"\xff\x00\x01"], pa.binary())})
        with self.assertRaisesRegex(Exception, r"Invalid UTF8 detected while decoding '\\xFF\\x00\\x01'"):
            self.load("B BINARY", raw)
        self.assertEqual(self.load("B BINARY", raw, "TYPE = PARQUET BINARY_AS_TEXT = FALSE"), [(b"\xff\x00\x01",)])
        self.assertEqual(self.load("B BINARY", raw, f"FORMAT_NAME = '{self.database}.S.LOGICAL'"), [(b"\xff\x00\x01",)])
        # Valid UTF-8 becomes text, and text into BINARY is read as hex.
        self.assertEqual(self.load("B BINARY", pa.table({"B": pa.array([b"4142"], pa.binary())})), [(b"AB",)])
        with self.assertRaisesRegex(Exception, "not a legal hex-encoded value: 'xyz'"):
            self.load("B BINARY", pa.table({"B": pa.array([b"xyz"], pa.binary())}))

    def test_the_error_names_the_file_row_and_column(self) -> None:
        raw = pa.table({"ID": [1, 2], "B": pa.array([b"ok", b"\xff"], pa.binary())})
        with self.assertRaisesRegex(Exception, r"line 2, character 1\n  Row 2, column \"T_\w+\"\[\"B\":2\]"):
            self.load("ID INT, B VARCHAR", raw)

    def test_an_adjusted_timestamp_into_timestamp_tz_takes_the_session_time_zone(self) -> None:
        data = pa.table({"TS": pa.array([TEN_UTC], pa.timestamp("us", tz="UTC"))})
        shifted = self.load("TS TIMESTAMP_TZ", data)[0][0]
        self.assertEqual(shifted.astimezone(UTC), datetime.datetime(2024, 1, 1, 18, 0, tzinfo=UTC), "Los Angeles by default")
        utc = harness.connect(session_parameters={"TIMEZONE": "UTC"})
        self.addCleanup(utc.close)
        self.assertEqual(self.load("TS TIMESTAMP_TZ", data, cursor=utc.cursor())[0][0].astimezone(UTC), TEN_UTC)
        logical = self.load("TS TIMESTAMP_TZ", data, "TYPE = PARQUET USE_LOGICAL_TYPE = TRUE")
        self.assertEqual(logical[0][0].astimezone(UTC), TEN_UTC)
        self.assertEqual(self.load("TS TIMESTAMP_NTZ", data)[0][0], datetime.datetime(2024, 1, 1, 10, 0))

    def test_times_and_timestamps_without_a_converted_type_need_use_logical_type(self) -> None:
        naive = pa.table({"TS": pa.array([datetime.datetime(2024, 1, 1, 10, 0)], pa.timestamp("us"))})
        with self.assertRaisesRegex(Exception, "Failed to cast variant value 1704103200000000 to TIMESTAMP_NTZ"):
            self.load("TS TIMESTAMP_NTZ", naive)
        self.assertEqual(self.load("TS NUMBER(38, 0)", naive), [(1704103200000000,)])
        logical = self.load("TS TIMESTAMP_NTZ", naive, "TYPE = PARQUET USE_LOGICAL_TYPE = TRUE")
        self.assertEqual(logical, [(datetime.datetime(2024, 1, 1, 10, 0),)])
        times = pa.table({"T": pa.array([datetime.time(10, 0, 0, 5)], pa.time64("us"))})
        with self.assertRaisesRegex(Exception, "Failed to cast variant value 36000000005 to TIME"):
            self.load("T TIME", times)
        self.assertEqual(self.load("T TIME", times, "TYPE = PARQUET USE_LOGICAL_TYPE = TRUE"), [(datetime.time(10, 0, 0, 5),)])

    def test_a_string_loaded_into_variant_is_a_variant_string(self) -> None:
        name = harness.unique("J")
        folder = harness.unique("f")
        self.cur.execute(f"CREATE TABLE {self.database}.S.{name} (ID INT, J VARIANT)")
        harness.write_parquet(
            harness.bucket_folder(self.database, "S", "ST", folder), "p.parquet", pa.table({"ID": [1], "J": ['{"a": 1}']})
        )
        location = f"@{self.database}.S.ST/{folder}/"
        self.cur.execute(f"COPY INTO {self.database}.S.{name} FROM {location} FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE")
        self.cur.execute(
            f'COPY INTO {self.database}.S.{name} (ID, J) FROM (SELECT $1:"ID", PARSE_JSON($1:"J") FROM {location}) '
            "FILE_FORMAT = (TYPE = PARQUET) FORCE = TRUE"
        )
        self.cur.execute(f"SELECT TYPEOF(J) FROM {self.database}.S.{name} ORDER BY 1")
        self.assertEqual(self.cur.fetchall(), [("OBJECT",), ("VARCHAR",)])

    def test_dollar_keys_are_case_sensitive(self) -> None:
        name = harness.unique("K")
        folder = harness.unique("f")
        self.cur.execute(f"CREATE TABLE {self.database}.S.{name} (A INT, B INT)")
        harness.write_parquet(harness.bucket_folder(self.database, "S", "ST", folder), "p.parquet", pa.table({"A": [1], "B": [2]}))
        self.cur.execute(
            f"COPY INTO {self.database}.S.{name} (A, B) FROM (SELECT $1:A, $1:b FROM @{self.database}.S.ST/{folder}/) "
            "FILE_FORMAT = (TYPE = PARQUET)"
        )
        self.cur.execute(f"SELECT A, B FROM {self.database}.S.{name}")
        self.assertEqual(self.cur.fetchall(), [(1, None)])

    def test_values_longer_than_the_column_allows_fail(self) -> None:
        with self.assertRaisesRegex(Exception, "String 'abcdefg' is too long and would be truncated"):
            self.load("S VARCHAR(5)", pa.table({"S": ["abcdefg"]}))
        with self.assertRaisesRegex(Exception, "is too long and would be truncated"):
            self.load("S VARCHAR", pa.table({"S": ["x" * (semantics.VARCHAR_MAX_LENGTH + 1)]}))
        with self.assertRaisesRegex(Exception, "Binary value of 8388609 bytes is too long"):
            self.load(
                "B BINARY",
                pa.table({"B": pa.array([b"\x00" * (semantics.BINARY_MAX_LENGTH + 1)], pa.binary())}),
                "TYPE = PARQUET BINARY_AS_TEXT = FALSE",
            )
        self.assertEqual(self.load("S VARCHAR", pa.table({"S": ["fits"]})), [("fits",)])


class LenientCopyTest(unittest.TestCase):
    def test_lenient_mode_loads_what_duckdb_reads(self) -> None:
        with harness.lenient():
            conn = harness.connect()
            self.addCleanup(conn.close)
            cur = conn.cursor()
            database = harness.unique("PQL")
            for sql in [f"CREATE DATABASE {database}", f"CREATE SCHEMA {database}.S", f"CREATE STAGE {database}.S.ST",
                        f"CREATE TABLE {database}.S.T (B BINARY, TS TIMESTAMP_TZ, J VARIANT)"]:
                cur.execute(sql)
            data = pa.table(
                {"B": pa.array([b"\xff"], pa.binary()), "TS": pa.array([TEN_UTC], pa.timestamp("us", tz="UTC")), "J": ['{"a": 1}']}
            )
            harness.write_parquet(harness.bucket_folder(database, "S", "ST", "f"), "p.parquet", data)
            cur.execute(f"COPY INTO {database}.S.T FROM @{database}.S.ST/f/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE")
            cur.execute(f"SELECT B, TS, TYPEOF(J) FROM {database}.S.T")
            b, ts, kind = cur.fetchone()
            self.assertEqual((b, ts.astimezone(UTC), kind), (b"\xff", TEN_UTC, "OBJECT"))


if __name__ == "__main__":
    unittest.main()
