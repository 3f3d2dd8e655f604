"""COPY INTO against a running emulator: load history with the target table, quoted names,
Snowflake's answers, FORCE, FILES and transactions."""

from __future__ import annotations

import threading
import unittest

import pyarrow as pa

import harness

PARQUET = "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"


def setUpModule() -> None:
    harness.start()


class Fixture(unittest.TestCase):
    """A metadata database with a stage, and a fresh target database, per test."""

    def setUp(self) -> None:
        self.env = harness.lenient()
        self.env.__enter__()
        self.meta = harness.unique("META")
        self.target = harness.unique("TGT")
        self.conn = harness.connect()
        self.cur = self.conn.cursor()
        for sql in [
            f"CREATE DATABASE {self.meta}",
            f"CREATE SCHEMA {self.meta}.S",
            f"CREATE STAGE {self.meta}.S.ST",
            f"CREATE DATABASE {self.target}",
            f"CREATE SCHEMA {self.target}.S",
            f"CREATE TABLE {self.target}.S.T (ID INT, NAME VARCHAR)",
        ]:
            self.cur.execute(sql)

    def tearDown(self) -> None:
        self.conn.close()
        self.env.__exit__(None, None, None)

    def stage_file(self, path: str, name: str, table: pa.Table) -> None:
        harness.write_parquet(harness.bucket_folder(self.meta, "S", "ST", path), name, table)

    def rows(self, ids: list[int]) -> pa.Table:
        return pa.table({"ID": ids, "NAME": [f"n{i}" for i in ids]})

    def copy(self, cursor: object, folder: str, extra: str = "", table: str | None = None) -> list[tuple]:
        table = table or f"{self.target}.S.T"
        cursor.execute(f"COPY INTO {table} FROM @{self.meta}.S.ST/{folder}/ {PARQUET} {extra}")  # type: ignore[attr-defined]
        return cursor.fetchall()  # type: ignore[attr-defined]

    def count(self, table: str | None = None) -> int:
        self.cur.execute(f"SELECT COUNT(*) FROM {table or f'{self.target}.S.T'}")
        return self.cur.fetchone()[0]

    def history(self, database: str | None = None) -> list[tuple]:
        self.cur.execute(
            f"SELECT SCHEMA_NAME, TABLE_NAME, STATUS, ROW_COUNT FROM {database or self.target}.INFORMATION_SCHEMA.LOAD_HISTORY"
        )
        return self.cur.fetchall()


class LoadHistoryTest(Fixture):
    def test_history_lives_with_the_target_whatever_the_current_database(self) -> None:
        self.stage_file("a", "f1.parquet", self.rows([1, 2, 3]))
        first = self.copy(self.cur, "a")  # this session has no current database
        self.assertEqual([(r[1], r[3]) for r in first], [("LOADED", 3)])

        other = harness.connect(database=self.meta, schema="S")
        self.assertEqual(self.copy(other.cursor(), "a"), [("Copy executed with 0 files processed.",)])
        inside = harness.connect(database=self.target, schema="S")
        self.assertEqual(self.copy(inside.cursor(), "a"), [("Copy executed with 0 files processed.",)])

        self.assertEqual(self.count(), 3)
        self.assertEqual(self.history(), [("S", "T", "LOADED", 3)])
        self.assertEqual(self.history(self.meta), [])

    def test_history_is_keyed_by_database_schema_and_table(self) -> None:
        second = harness.unique("TGT")
        for sql in [f"CREATE DATABASE {second}", f"CREATE SCHEMA {second}.S", f"CREATE TABLE {second}.S.T (ID INT, NAME VARCHAR)"]:
            self.cur.execute(sql)
        self.stage_file("a", "f1.parquet", self.rows([1, 2]))
        self.assertEqual(len(self.copy(self.cur, "a")), 1)
        self.assertEqual(len(self.copy(self.cur, "a", table=f"{second}.S.T")), 1)
        self.assertEqual(self.count(f"{second}.S.T"), 2)

    def test_concurrent_copies_into_a_database_created_moments_before(self) -> None:
        # Every worker runs the project's preparation (CREATE ... IF NOT EXISTS of the database,
        # schema and table), then its COPY from another session. Half of them start together
        # (their CREATE DATABASEs race); the other half start once a first COPY has committed,
        # so their DDL runs while, and after, the others load. Nothing may fail and no load
        # history may go missing. Several rounds, each into a new database, because the
        # interleavings depend on the machine's load.
        workers, rounds = 10, 3
        for i in range(workers):
            self.stage_file(f"p{i}", "f.parquet", self.rows([i * 10 + 1, i * 10 + 2]))
        for round_ in range(rounds):
            with self.subTest(round=round_):
                self.concurrent_round(harness.unique("FRESH"), workers)

    def concurrent_round(self, fresh: str, workers: int) -> None:
        errors: list[str] = []
        early = workers // 2
        start = threading.Barrier(early)
        first_copy_done = threading.Event()

        def load(i: int) -> None:
            try:
                conn = harness.connect()  # no current database, like a pooled session
                cursor = conn.cursor()
                if i < early:
                    start.wait(timeout=60)
                elif not first_copy_done.wait(timeout=60):
                    raise RuntimeError("no early worker finished its COPY")
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS {fresh}")
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {fresh}.S")
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {fresh}.S.T (ID INT, NAME VARCHAR)")
                plain = harness.connect().cursor()  # another session that never ran the DDL
                result = self.copy(plain, f"p{i}", table=f"{fresh}.S.T")
                if [r[1] for r in result] != ["LOADED"]:
                    errors.append(f"{i}: {result}")
                conn.close()
            except Exception as error:  # noqa: BLE001
                errors.append(f"{i}: {error}")
            finally:
                if i < early:
                    first_copy_done.set()

        threads = [threading.Thread(target=load, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.count(f"{fresh}.S.T"), 2 * workers)
        self.assertEqual(len(self.history(fresh)), workers)

    def test_create_table_if_not_exists_keeps_the_history_of_the_existing_table(self) -> None:
        # The table is not new, so (as in Snowflake) its load metadata stays: the file is not
        # loaded twice. A table created anew (OR REPLACE, or after DROP) starts without one.
        self.stage_file("a", "f1.parquet", self.rows([1, 2]))
        self.assertEqual(len(self.copy(self.cur, "a")), 1)
        self.cur.execute(f"CREATE TABLE IF NOT EXISTS {self.target}.S.T (ID INT, NAME VARCHAR)")
        self.assertEqual(self.cur.fetchall(), [("T already exists, statement succeeded.",)])
        self.assertEqual(self.copy(self.cur, "a"), [("Copy executed with 0 files processed.",)])
        self.assertEqual(self.count(), 2)
        self.assertEqual(self.history(), [("S", "T", "LOADED", 2)])

        self.cur.execute(f"CREATE OR REPLACE TABLE {self.target}.S.T (ID INT, NAME VARCHAR)")
        self.assertEqual(self.history(), [])
        self.assertEqual(len(self.copy(self.cur, "a")), 1)
        self.cur.execute(f"DROP TABLE {self.target}.S.T")
        self.cur.execute(f"CREATE TABLE IF NOT EXISTS {self.target}.S.T (ID INT, NAME VARCHAR)")
        self.assertEqual(self.cur.fetchall(), [("Table T successfully created.",)])
        self.assertEqual(self.history(), [])

    def test_a_database_without_fakesnow_objects_gets_them_at_its_first_copy(self) -> None:
        import fakesnow.server  # noqa: PLC0415

        bare = harness.unique("BARE")
        duck = fakesnow.server.shared_fs.duck_conn.cursor()
        duck.execute(f"ATTACH ':memory:' AS {bare}")
        duck.execute(f"CREATE SCHEMA {bare}.S")
        duck.execute(f"CREATE TABLE {bare}.S.T (ID INTEGER, NAME VARCHAR)")
        self.stage_file("a", "f1.parquet", self.rows([1]))
        self.assertEqual(len(self.copy(self.cur, "a", table=f"{bare}.S.T")), 1)
        self.assertEqual(self.history(bare), [("S", "T", "LOADED", 1)])


class QuotedNamesTest(Fixture):
    def test_names_of_every_shape(self) -> None:
        for table in ['"MixedCase Text"', '"order"', '"GROUP"', '"we""ird"']:
            with self.subTest(table=table):
                schema = '"Sch ema"'
                self.cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.target}.{schema}")
                self.cur.execute(
                    f'CREATE TABLE {self.target}.{schema}.{table} ("MixedCase Text" VARCHAR, "order" INT, "GROUP" INT, "x""y" INT)'
                )
                folder = harness.unique("q")
                self.stage_file(
                    folder,
                    "f.parquet",
                    pa.table({"MixedCase Text": ["a", "b"], "order": [1, 2], "GROUP": [3, 4], 'x"y': [5, 6]}),
                )
                qualified = f"{self.target}.{schema}.{table}"
                self.assertEqual(len(self.copy(self.cur, folder, table=qualified)), 1)
                self.assertEqual(self.copy(self.cur, folder, table=qualified), [("Copy executed with 0 files processed.",)])
                self.cur.execute(f'SELECT "MixedCase Text", "order", "GROUP", "x""y" FROM {qualified} ORDER BY "order"')
                self.assertEqual(self.cur.fetchall(), [("a", 1, 3, 5), ("b", 2, 4, 6)])

    def test_a_quoted_mixed_case_database(self) -> None:
        database = '"' + harness.unique("Mixed").title() + '"'
        for sql in [f"CREATE DATABASE {database}", f"CREATE SCHEMA {database}.S", f'CREATE TABLE {database}.S."t" (ID INT, NAME VARCHAR)']:
            self.cur.execute(sql)
        self.stage_file("m", "f.parquet", self.rows([1]))
        self.assertEqual(len(self.copy(self.cur, "m", table=f'{database}.S."t"')), 1)
        self.assertEqual(self.copy(self.cur, "m", table=f'{database}.S."t"'), [("Copy executed with 0 files processed.",)])
        self.assertEqual(len(self.history(database)), 1)

    def test_transformation_with_quoted_names_files_and_a_named_format(self) -> None:
        self.cur.execute(f"CREATE FILE FORMAT {self.meta}.S.PQ TYPE = PARQUET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE")
        self.cur.execute(f'CREATE TABLE {self.target}.S."Mixed Case" ("order" INT, "J" VARIANT, "Label" VARCHAR)')
        self.stage_file("t", "a.parquet", pa.table({"order": [1], "J": ['{"k": [1, 2]}'], "Label": ["x"]}))
        self.stage_file("t", "b.parquet", pa.table({"order": [2], "J": ['{"k": 3}'], "Label": ["y"]}))
        self.stage_file("t", "c.parquet", pa.table({"order": [3], "J": ["{}"], "Label": ["z"]}))
        self.cur.execute(
            f'COPY INTO {self.target}.S."Mixed Case" ("order", "J", "Label") '
            f'FROM (SELECT $1:"order", PARSE_JSON($1:"J"), $1:"Label" FROM @{self.meta}.S.ST/t/) '
            f"FILES = ('a.parquet', 'b.parquet') FILE_FORMAT = (FORMAT_NAME = '{self.meta}.S.PQ')"
        )
        self.assertEqual(sorted(r[1] for r in self.cur.fetchall()), ["LOADED", "LOADED"])
        self.cur.execute(f'SELECT "order", TYPEOF("J"), "J":k, "Label" FROM {self.target}.S."Mixed Case" ORDER BY 1')
        rows = self.cur.fetchall()
        self.assertEqual([(r[0], r[1], r[3]) for r in rows], [(1, "OBJECT", "x"), (2, "OBJECT", "y")])


class AnswerTest(Fixture):
    def test_a_repeated_copy_answers_one_row_zero_files_processed(self) -> None:
        self.stage_file("a", "f1.parquet", self.rows([1]))
        self.stage_file("a", "f2.parquet", self.rows([2]))
        self.assertEqual(len(self.copy(self.cur, "a")), 2)
        self.cur.execute(f"COPY INTO {self.target}.S.T FROM @{self.meta}.S.ST/a/ {PARQUET}")
        self.assertEqual([d.name for d in self.cur.description], ["status"])
        self.assertEqual(self.cur.fetchall(), [("Copy executed with 0 files processed.",)])

    def test_only_files_not_loaded_before_are_listed(self) -> None:
        self.stage_file("a", "f1.parquet", self.rows([1]))
        self.copy(self.cur, "a")
        self.stage_file("a", "f2.parquet", self.rows([2, 3]))
        self.assertEqual([(r[0], r[1], r[3]) for r in self.copy(self.cur, "a")], [("st/a/f2.parquet", "LOADED", 2)])
        self.assertEqual(self.count(), 3)

    def test_force_true_reloads_and_force_false_does_not(self) -> None:
        self.stage_file("a", "f1.parquet", self.rows([1, 2]))
        self.copy(self.cur, "a")
        self.assertEqual(self.copy(self.cur, "a", "FORCE = FALSE"), [("Copy executed with 0 files processed.",)])
        self.assertEqual([r[3] for r in self.copy(self.cur, "a", "FORCE = TRUE")], [2])
        self.assertEqual(self.count(), 4)

    def test_files_limits_the_copy_to_those_files(self) -> None:
        for name in ["a.parquet", "b.parquet", "c.parquet"]:
            self.stage_file("f", name, self.rows([len(name)]))
        loaded = self.copy(self.cur, "f", "FILES = ('a.parquet', 'c.parquet')")
        self.assertEqual(sorted(r[0] for r in loaded), ["st/f/a.parquet", "st/f/c.parquet"])
        self.assertEqual(self.copy(self.cur, "f", "FILES = ('a.parquet')"), [("Copy executed with 0 files processed.",)])
        self.assertEqual(self.count(), 2)

    def test_a_listed_file_that_is_missing_fails_the_copy(self) -> None:
        self.stage_file("f", "a.parquet", self.rows([1]))
        with self.assertRaisesRegex(Exception, "Remote file .*nope.parquet' was not found"):
            self.copy(self.cur, "f", "FILES = ('a.parquet', 'nope.parquet')")
        self.assertEqual(self.count(), 0)

    def test_a_failing_file_loads_nothing(self) -> None:
        self.stage_file("a", "f1.parquet", self.rows([1]))
        self.stage_file("a", "f2.parquet", pa.table({"ID": ["not a number"], "NAME": ["x"]}))
        with self.assertRaises(Exception):
            self.copy(self.cur, "a")
        self.assertEqual(self.count(), 0)
        self.assertEqual(self.history(), [])

    def test_a_rolled_back_copy_leaves_no_rows_and_no_history(self) -> None:
        self.stage_file("a", "f1.parquet", self.rows([1, 2]))
        self.cur.execute("BEGIN")
        self.assertEqual(len(self.copy(self.cur, "a")), 1)
        self.cur.execute("ROLLBACK")
        self.assertEqual(self.count(), 0)
        self.assertEqual(self.history(), [])
        self.assertEqual(len(self.copy(self.cur, "a")), 1, "the file loads again after the rollback")
        self.assertEqual(self.count(), 2)

    def test_put_then_copy(self) -> None:
        import os  # noqa: PLC0415
        import tempfile  # noqa: PLC0415

        import pyarrow.parquet as pq  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "up.parquet")
            pq.write_table(self.rows([7]), path)
            self.cur.execute(f"PUT 'file://{path}' @{self.meta}.S.ST/put/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        self.assertEqual([r[1] for r in self.copy(self.cur, "put")], ["LOADED"])


if __name__ == "__main__":
    unittest.main()
