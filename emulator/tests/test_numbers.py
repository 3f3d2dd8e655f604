"""NUMBER(38,0) keeps 38 digits: INSERT, CAST, COPY from Parquet, SUM, and the values read back
through snowflake-connector-python and the ADBC Snowflake driver (the one the project uses)."""

from __future__ import annotations

import unittest
from decimal import Decimal
from typing import Any

import pyarrow as pa
import snowflake.connector.errors

import harness

MAX38 = 10**38 - 1
MIN38 = -(10**38 - 1)
TEN37 = 10**37
PARQUET = "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
# Every spelling of NUMBER(38,0) in Snowflake.
SPELLINGS = ["NUMBER(38,0)", "NUMBER", "DECIMAL(38,0)", "NUMERIC", "DECIMAL", "INT", "INTEGER", "BIGINT", "SMALLINT"]


def setUpModule() -> None:
    harness.start()


class Fixture(unittest.TestCase):
    def setUp(self) -> None:
        self.db = harness.unique("NUM")
        self.conn = harness.connect()
        self.cur = self.conn.cursor()
        self.sql(f"CREATE DATABASE {self.db}")
        self.sql(f"CREATE SCHEMA {self.db}.S")
        self.sql(f"USE SCHEMA {self.db}.S")

    def tearDown(self) -> None:
        self.conn.close()

    def sql(self, text: str) -> list[tuple[Any, ...]]:
        self.cur.execute(text)
        return self.cur.fetchall()

    def column_types(self, table: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self.sql(f"DESCRIBE TABLE {table}")]


class StorageTest(Fixture):
    def test_every_spelling_of_number_38_0_holds_38_digits(self) -> None:
        columns = ", ".join(f"C{i} {spelling}" for i, spelling in enumerate(SPELLINGS))
        self.sql(f"CREATE TABLE T (ID NUMBER(38,0), {columns})")
        values = ", ".join(str(MAX38) for _ in SPELLINGS)
        lows = ", ".join(str(MIN38) for _ in SPELLINGS)
        self.sql(f"INSERT INTO T VALUES (1, {values}), (2, {lows}), (3, {', '.join('7' for _ in SPELLINGS)})")
        rows = self.sql("SELECT * FROM T ORDER BY ID")
        self.assertEqual(rows[0][1:], tuple(MAX38 for _ in SPELLINGS))
        self.assertEqual(rows[1][1:], tuple(MIN38 for _ in SPELLINGS))
        self.assertEqual(rows[2][1:], tuple(7 for _ in SPELLINGS))
        self.assertTrue(all(isinstance(v, int) for v in rows[2]), "small values are still integers")
        # Snowflake describes every one of them as NUMBER(38,0)
        self.assertEqual(self.column_types("T"), [("ID", "NUMBER(38,0)")] + [(f"C{i}", "NUMBER(38,0)") for i in range(len(SPELLINGS))])
        info = self.sql(
            f"SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM {self.db}.INFORMATION_SCHEMA.COLUMNS "
            "WHERE TABLE_NAME = 'T' ORDER BY ORDINAL_POSITION"
        )
        self.assertEqual({row[1:] for row in info}, {("NUMBER", 38, 0)})
        # the connector is told FIXED(38,0)
        self.cur.execute("SELECT C0, C5 FROM T")
        self.assertEqual([(d.type_code, d.precision, d.scale) for d in self.cur.description], [(0, 38, 0), (0, 38, 0)])

    def test_a_value_beyond_38_digits_is_refused(self) -> None:
        self.sql("CREATE TABLE T (A NUMBER(38,0))")
        with self.assertRaises(snowflake.connector.errors.ProgrammingError) as raised:
            self.sql(f"INSERT INTO T VALUES ({MAX38 + 1})")
        self.assertIn("Could not cast value", str(raised.exception))  # (Snowflake: 100039 "Numeric value ... is out of range")
        self.assertEqual(self.sql("SELECT COUNT(*) FROM T"), [(0,)])

    def test_precision_above_18_and_scaled_numbers(self) -> None:
        self.sql("CREATE TABLE T (A NUMBER(19,0), B NUMBER(20,0), C NUMBER(37,0), D NUMBER(38,10), E NUMBER(38,37), F NUMBER(38))")
        big_scaled = Decimal("9999999999999999999999999999.9999999999")
        tiny = Decimal("-9.9999999999999999999999999999999999999")
        self.sql(f"INSERT INTO T VALUES ({10**19 - 1}, {-(10**20 - 1)}, {10**37 - 1}, {big_scaled}, {tiny}, {MIN38})")
        self.assertEqual(self.sql("SELECT * FROM T"), [(10**19 - 1, -(10**20 - 1), 10**37 - 1, big_scaled, tiny, MIN38)])
        self.assertEqual(
            self.column_types("T"),
            [("A", "NUMBER(19,0)"), ("B", "NUMBER(20,0)"), ("C", "NUMBER(37,0)"), ("D", "NUMBER(38,10)"), ("E", "NUMBER(38,37)"), ("F", "NUMBER(38,0)")],
        )

    def test_alter_table_add_column_holds_38_digits(self) -> None:
        self.sql("CREATE TABLE T (ID INT)")
        self.sql("ALTER TABLE T ADD COLUMN BIG NUMBER(38,0)")
        self.sql(f"INSERT INTO T VALUES (1, {MIN38})")
        self.assertEqual(self.sql("SELECT BIG FROM T"), [(MIN38,)])
        self.assertEqual(self.column_types("T")[1], ("BIG", "NUMBER(38,0)"))

    def test_ctas_and_update_keep_the_digits(self) -> None:
        self.sql(f"CREATE TABLE T (ID INT, A NUMBER(38,0)) AS SELECT 1, {MAX38}")
        self.sql(f"UPDATE T SET A = A - {TEN37} WHERE ID = 1")
        self.assertEqual(self.sql("SELECT A FROM T"), [(MAX38 - TEN37,)])


class CastTest(Fixture):
    def test_casts_to_number_38_0_keep_38_digits(self) -> None:
        for spelling in ["NUMBER(38,0)", "NUMBER", "INT", "INTEGER", "BIGINT", "DECIMAL", "NUMERIC(38,0)"]:
            with self.subTest(spelling=spelling):
                self.assertEqual(self.sql(f"SELECT {MAX38}::{spelling}, CAST('{MIN38}' AS {spelling})"), [(MAX38, MIN38)])
        self.assertEqual(self.sql(f"SELECT TO_NUMBER('{MAX38}'), TRY_TO_NUMBER('{MIN38}')"), [(MAX38, MIN38)])
        self.assertEqual(self.sql(f"SELECT '{-TEN37}'::NUMBER(38,0)"), [(-TEN37,)])

    def test_casting_a_fraction_to_an_integer_rounds_as_snowflake_does(self) -> None:
        self.assertEqual(self.sql("SELECT 12.5::INT, (-12.5)::NUMBER, '2.5'::BIGINT"), [(13, -13, 3)])

    def test_arithmetic_keeps_the_digits(self) -> None:
        self.assertEqual(
            self.sql(f"SELECT {TEN37}::NUMBER(38,0) * 9 + {TEN37 - 1}::NUMBER(38,0), {MAX38}::NUMBER(38,0) - {MAX38}::INT"),
            [(MAX38, 0)],
        )

    def test_integer_arguments_of_functions_take_numbers(self) -> None:
        self.sql("CREATE TABLE T (N INT, S VARCHAR, A ARRAY, O OBJECT, K VARCHAR)")
        self.sql("INSERT INTO T SELECT 2, 'abcdef', ARRAY_CONSTRUCT(10, 20, 30), OBJECT_CONSTRUCT('k', 'v'), 'k'")
        self.assertEqual(self.sql("SELECT A[N], GET(A, N), A[N - 1], O[K], GET(O, K), A[0] FROM T"), [("30", "30", "20", '"v"', '"v"', "10")])
        self.assertEqual(
            self.sql("SELECT SUBSTR(S, N), SUBSTR(S, N, N), LEFT(S, N), RIGHT(S, N), REPEAT('x', N), LPAD('a', N + 1, '0'), SPLIT_PART('a,b,c', ',', N) FROM T"),
            [("bcdef", "bc", "ab", "ef", "xx", "00a", "b")],
        )
        self.assertEqual(self.sql("SELECT BITAND(N, 3), N::INT % 2, CHR(N + 63), INSERT(S, N, N, 'X') FROM T"), [(2, 0, "A", "aXdef")])


class SumTest(Fixture):
    def setUp(self) -> None:
        super().setUp()
        self.sql("CREATE TABLE T (G VARCHAR, A NUMBER(38,0), S VARCHAR, D NUMBER(38,10))")
        self.sql(
            f"INSERT INTO T VALUES ('x', {TEN37}, '1.5', 1.25), ('x', {2 * TEN37}, '2', 2.5), "
            f"('y', {MIN38}, NULL, NULL), ('y', 1, '0.5', 0.0000000001)"
        )

    def test_sum_over_38_digit_values_is_exact(self) -> None:
        self.assertEqual(self.sql("SELECT G, SUM(A) FROM T GROUP BY G ORDER BY G"), [("x", 3 * TEN37), ("y", MIN38 + 1)])
        self.assertEqual(self.cur.description[1].type_code, 0, "SUM of a NUMBER is a NUMBER (FIXED), not a FLOAT")
        self.assertEqual(self.sql("SELECT SUM(D) FROM T"), [(Decimal("3.7500000001"),)])
        self.assertEqual(self.sql("SELECT MIN(A), MAX(A) FROM T"), [(MIN38, 2 * TEN37)])

    def test_sum_of_small_integers_is_an_integer(self) -> None:
        self.assertEqual(self.sql("SELECT SUM(LENGTH(G)) AS TOTAL, COUNT(*) FROM T"), [(4, 4)])
        self.assertIsInstance(self.sql("SELECT SUM(1) FROM T")[0][0], int)

    def test_sum_of_text_still_casts_it_to_a_number(self) -> None:
        self.assertEqual(self.sql("SELECT SUM(S), AVG(S) FROM T"), [(4.0, 4.0 / 3)])

    def test_sum_beyond_38_digits_fails_as_snowflakes_overflow_error(self) -> None:
        with self.assertRaises(snowflake.connector.errors.ProgrammingError) as raised:
            self.sql(f"SELECT SUM(A) FROM (SELECT {MAX38}::NUMBER(38,0) AS A UNION ALL SELECT 1)")
        self.assertEqual((raised.exception.errno, raised.exception.sqlstate), (100046, "22003"))
        with self.assertRaises(snowflake.connector.errors.ProgrammingError) as raised:
            self.sql(f"SELECT {MAX38}::NUMBER(38,0) + 1")
        self.assertEqual(raised.exception.errno, 100046)


class CopyTest(Fixture):
    def setUp(self) -> None:
        super().setUp()
        self.sql("CREATE STAGE ST")

    def stage(self, name: str, table: pa.Table) -> None:
        harness.write_parquet(harness.bucket_folder(self.db, "S", "ST", "n"), name, table)

    def test_copy_from_parquet_decimal_38_loads_exact_values(self) -> None:
        self.sql("CREATE TABLE T (ID NUMBER(38,0), BIG NUMBER(38,0), INTEGRAL INT, SCALED NUMBER(38,10), MID NUMBER(20,0))")
        scaled = [Decimal("9999999999999999999999999999.9999999999"), Decimal("-0.0000000001"), None]
        self.stage(
            "wide.parquet",
            pa.table(
                {
                    "ID": pa.array([1, 2, 3], type=pa.int64()),
                    "BIG": pa.array([Decimal(MAX38), Decimal(MIN38), None], type=pa.decimal128(38, 0)),
                    "INTEGRAL": pa.array([Decimal(-TEN37), Decimal(0), Decimal(TEN37)], type=pa.decimal128(38, 0)),
                    "SCALED": pa.array(scaled, type=pa.decimal128(38, 10)),
                    "MID": pa.array([Decimal(10**20 - 1), None, Decimal(-5)], type=pa.decimal128(20, 0)),
                }
            ),
        )
        answer = self.sql(f"COPY INTO T FROM @ST/n/ {PARQUET}")
        self.assertEqual([(row[1], row[3]) for row in answer], [("LOADED", 3)])
        self.assertEqual(
            self.sql("SELECT * FROM T ORDER BY ID"),
            [
                (1, MAX38, -TEN37, scaled[0], 10**20 - 1),
                (2, MIN38, 0, scaled[1], None),
                (3, None, TEN37, None, -5),
            ],
        )
        self.assertEqual(
            self.column_types("T"),
            [("ID", "NUMBER(38,0)"), ("BIG", "NUMBER(38,0)"), ("INTEGRAL", "NUMBER(38,0)"), ("SCALED", "NUMBER(38,10)"), ("MID", "NUMBER(20,0)")],
        )

    def test_copy_of_int64_parquet_into_number_still_loads(self) -> None:
        self.sql("CREATE TABLE T (ID NUMBER(38,0), N BIGINT)")
        self.stage("small.parquet", pa.table({"ID": pa.array([1, 2], type=pa.int64()), "N": pa.array([2**63 - 1, -(2**63)], type=pa.int64())}))
        self.sql(f"COPY INTO T FROM @ST/n/ {PARQUET}")
        self.assertEqual(self.sql("SELECT N FROM T ORDER BY ID"), [(2**63 - 1,), (-(2**63),)])


class AdbcTest(Fixture):
    """The Go ADBC driver (the Rust client loads the same library, with its default high
    precision) reads the values exactly."""

    def adbc(self, **options: str) -> Any:  # noqa: ANN401
        import adbc_driver_snowflake.dbapi as dbapi  # noqa: PLC0415

        return dbapi.connect(
            db_kwargs={
                "username": "sfemu",
                "password": "sfemu",
                "adbc.snowflake.sql.account": "sfemu",
                "adbc.snowflake.sql.uri.host": "127.0.0.1",
                "adbc.snowflake.sql.uri.port": str(harness.start()),
                "adbc.snowflake.sql.uri.protocol": "http",
                "adbc.snowflake.sql.db": self.db,
                "adbc.snowflake.sql.schema": "S",
                **options,
            }
        )

    def fetch(self, text: str, **options: str) -> pa.Table:
        with self.adbc(**options) as conn, conn.cursor() as cur:
            cur.execute(text)
            return cur.fetch_arrow_table()

    def setUp(self) -> None:
        super().setUp()
        self.sql("CREATE TABLE T (ID INT, BIG NUMBER(38,0))")
        self.sql(f"INSERT INTO T VALUES (1, {MAX38}), (2, {MIN38}), (3, NULL), (4, 42)")

    def test_38_digit_values_arrive_exactly(self) -> None:
        table = self.fetch("SELECT ID, BIG, BIG + 0 AS SAME FROM T ORDER BY ID")
        self.assertEqual(table.schema.field("BIG").type, pa.decimal128(38, 0))
        self.assertEqual(table.column("BIG").to_pylist(), [Decimal(MAX38), Decimal(MIN38), None, Decimal(42)])
        self.assertEqual(table.column("SAME").to_pylist(), [Decimal(MAX38), Decimal(MIN38), None, Decimal(42)])
        self.assertEqual([int(v) for v in table.column("ID").to_pylist()], [1, 2, 3, 4])

    def test_sum_arrives_exactly(self) -> None:
        table = self.fetch("SELECT SUM(BIG) AS TOTAL, SUM(ID) AS IDS FROM T WHERE ID <> 1")
        self.assertEqual(table.to_pylist(), [{"TOTAL": Decimal(MIN38 + 42), "IDS": Decimal(9)}])

    def test_decimal128_encoding_kept_when_asked(self) -> None:
        with harness.environment(SFEMU_FIXED_AS_INT64="0"):
            table = self.fetch("SELECT ID, BIG FROM T ORDER BY ID")
        self.assertEqual(table.column("BIG").to_pylist(), [Decimal(MAX38), Decimal(MIN38), None, Decimal(42)])

    def test_without_high_precision_integers_arrive_as_int64(self) -> None:
        table = self.fetch("SELECT ID, BIG FROM T WHERE ID = 4", **{"adbc.snowflake.sql.client_option.use_high_precision": "false"})
        self.assertEqual(table.schema.field("ID").type, pa.int64())
        self.assertEqual(table.to_pylist(), [{"ID": 4, "BIG": 42}])


if __name__ == "__main__":
    unittest.main()
