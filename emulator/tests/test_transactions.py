"""Explicit transactions that write to several databases (DuckDB allows one per transaction)."""

from __future__ import annotations

import threading
import time
import unittest

import pyarrow as pa

import harness

COPY = "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"


def setUpModule() -> None:
    harness.start()


class CrossDatabaseTest(unittest.TestCase):
    def setUp(self) -> None:
        self.env = harness.lenient()
        self.env.__enter__()
        self.addCleanup(self.env.__exit__, None, None, None)
        self.meta = harness.unique("META")
        self.target = harness.unique("TGT")
        self.conn = harness.connect()
        self.addCleanup(self.conn.close)
        self.cur = self.conn.cursor()
        for sql in [
            f"CREATE DATABASE {self.meta}",
            f"CREATE SCHEMA {self.meta}.S",
            f"CREATE STAGE {self.meta}.S.ST",
            f"CREATE TABLE {self.meta}.S.LEDGER (FILE VARCHAR, ROWS_LOADED INT)",
            f"CREATE TABLE {self.meta}.S.PARTITION (ID INT, STATUS VARCHAR)",
            f"INSERT INTO {self.meta}.S.PARTITION VALUES (1, 'LOADING')",
            f"CREATE DATABASE {self.target}",
            f"CREATE SCHEMA {self.target}.S",
            f"CREATE TABLE {self.target}.S.T (ID INT)",
        ]:
            self.cur.execute(sql)
        harness.write_parquet(harness.bucket_folder(self.meta, "S", "ST", "p"), "f.parquet", pa.table({"ID": [1, 2, 3]}))

    def load_in_one_transaction(self, cursor: object, end: str) -> None:
        for sql in [
            "BEGIN",
            f"COPY INTO {self.target}.S.T FROM @{self.meta}.S.ST/p/ {COPY}",
            f"INSERT INTO {self.meta}.S.LEDGER VALUES ('f.parquet', 3)",
            f"UPDATE {self.meta}.S.PARTITION SET STATUS = 'COMPLETED' WHERE ID = 1",
        ]:
            cursor.execute(sql)  # type: ignore[attr-defined]
        cursor.execute(f"SELECT COUNT(*) FROM {self.target}.S.T")  # type: ignore[attr-defined]
        self.assertEqual(cursor.fetchone()[0], 3, "the transaction sees its own COPY")  # type: ignore[attr-defined]
        cursor.execute(f"SELECT STATUS FROM {self.meta}.S.PARTITION")  # type: ignore[attr-defined]
        self.assertEqual(cursor.fetchone()[0], "COMPLETED", "and its own UPDATE")  # type: ignore[attr-defined]
        cursor.execute(end)  # type: ignore[attr-defined]

    def state(self) -> tuple[int, int, str, int]:
        other = harness.connect().cursor()
        other.execute(f"SELECT COUNT(*) FROM {self.target}.S.T")
        rows = other.fetchone()[0]
        other.execute(f"SELECT COUNT(*) FROM {self.meta}.S.LEDGER")
        ledger = other.fetchone()[0]
        other.execute(f"SELECT STATUS FROM {self.meta}.S.PARTITION")
        status = other.fetchone()[0]
        other.execute(f"SELECT COUNT(*) FROM {self.target}.INFORMATION_SCHEMA.LOAD_HISTORY")
        history = other.fetchone()[0]
        other.connection.close()
        return rows, ledger, status, history

    def test_a_load_and_its_bookkeeping_commit_together(self) -> None:
        self.load_in_one_transaction(harness.connect().cursor(), "COMMIT")
        self.assertEqual(self.state(), (3, 1, "COMPLETED", 1))

    def test_a_load_and_its_bookkeeping_roll_back_together(self) -> None:
        self.load_in_one_transaction(harness.connect().cursor(), "ROLLBACK")
        self.assertEqual(self.state(), (0, 0, "LOADING", 0))

    def test_a_killed_session_leaves_nothing_behind(self) -> None:
        victim = harness.connect()
        cursor = victim.cursor()
        cursor.execute("BEGIN")
        cursor.execute(f"COPY INTO {self.target}.S.T FROM @{self.meta}.S.ST/p/ {COPY}")
        cursor.execute(f"INSERT INTO {self.meta}.S.LEDGER VALUES ('f.parquet', 3)")
        cursor.execute("SELECT CURRENT_SESSION()")
        session_id = cursor.fetchone()[0]
        self.cur.execute(f"SELECT SYSTEM$ABORT_SESSION({session_id})")
        self.assertEqual(self.state(), (0, 0, "LOADING", 0))

    def test_a_conflict_in_the_second_database_waits_and_replays(self) -> None:
        holder = harness.connect().cursor()
        holder.execute("BEGIN")
        holder.execute(f"UPDATE {self.meta}.S.PARTITION SET STATUS = 'HELD' WHERE ID = 1")
        done: list[str] = []

        def load() -> None:
            try:
                self.load_in_one_transaction(harness.connect().cursor(), "COMMIT")
                done.append("ok")
            except Exception as error:  # noqa: BLE001
                done.append(str(error))

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(1.0)
        self.assertEqual(done, [], "the load waits for the lock")
        holder.execute("COMMIT")
        thread.join(60)
        self.assertEqual(done, ["ok"])
        self.assertEqual(self.state(), (3, 1, "COMPLETED", 1))

    def test_reading_uncommitted_changes_of_two_databases_at_once_is_refused(self) -> None:
        cursor = harness.connect().cursor()
        cursor.execute("BEGIN")
        cursor.execute(f"INSERT INTO {self.target}.S.T VALUES (9)")
        cursor.execute(f"INSERT INTO {self.meta}.S.LEDGER VALUES ('x', 1)")
        with self.assertRaisesRegex(Exception, "cannot read the uncommitted changes of two databases"):
            cursor.execute(f"SELECT * FROM {self.target}.S.T, {self.meta}.S.LEDGER")
        cursor.execute("COMMIT")
        self.assertEqual(self.state()[:2], (1, 1))


if __name__ == "__main__":
    unittest.main()
