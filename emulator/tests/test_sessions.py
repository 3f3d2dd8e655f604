"""Sessions, session parameters, lock waits and the end of a session, against a running emulator."""

from __future__ import annotations

import http.client
import threading
import time
import unittest
from typing import Any

import harness
from sfemu import statements

SLOW_QUERY = "SELECT COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 100000000000))"


def setUpModule() -> None:
    harness.start()


def error_of(call: Any) -> Exception:  # noqa: ANN401
    try:
        call()
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("expected an error")


def heartbeat(conn: Any) -> int:  # noqa: ANN401
    """The driver's session heartbeat, sent by hand."""
    client = http.client.HTTPConnection("127.0.0.1", harness.start(), timeout=10)
    client.request(
        "POST", "/session/heartbeat", body="{}", headers={"Authorization": f'Snowflake Token="{conn.rest.token}"'}
    )
    status = client.getresponse().status
    client.close()
    return status


class Tables(unittest.TestCase):
    """A database with table T (one row, ID 1, V 0) per test."""

    def setUp(self) -> None:
        self.database = harness.unique("SESS")
        self.conn = harness.connect()
        self.cur = self.conn.cursor()
        for sql in [
            f"CREATE DATABASE {self.database}",
            f"CREATE SCHEMA {self.database}.S",
            f"CREATE TABLE {self.database}.S.T (ID INT, V INT)",
            f"INSERT INTO {self.database}.S.T VALUES (1, 0)",
        ]:
            self.cur.execute(sql)
        self.table = f"{self.database}.S.T"

    def session(self, **parameters: Any) -> Any:  # noqa: ANN401
        conn = harness.connect(session_parameters=parameters) if parameters else harness.connect()
        self.addCleanup(lambda: conn.close() if not conn.is_closed() else None)
        return conn

    def value(self) -> int:
        cursor = harness.connect().cursor()  # a fresh session: tests let idle ones end
        cursor.execute(f"SELECT V FROM {self.table} WHERE ID = 1")
        value = cursor.fetchone()[0]
        cursor.connection.close()
        return value

    def hold_lock(self) -> Any:  # noqa: ANN401
        """A session in an open transaction that holds T's lock (UPDATE)."""
        holder = self.session()
        cursor = holder.cursor()
        cursor.execute("BEGIN")
        cursor.execute(f"UPDATE {self.table} SET V = 100 WHERE ID = 1")
        return holder


class ParametersTest(Tables):
    def test_session_parameters_the_project_pins_are_accepted(self) -> None:
        conn = self.session()
        cursor = conn.cursor()
        for sql in [
            "ALTER SESSION SET TIMEZONE = 'UTC'",
            "ALTER SESSION SET LOCK_TIMEOUT = 120",
            "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 3600",
            "ALTER SESSION SET QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE",
            "ALTER SESSION SET TIMESTAMP_INPUT_FORMAT = 'AUTO'",
            "ALTER SESSION SET QUERY_TAG = 'migration' ABORT_DETACHED_QUERY = TRUE",
        ]:
            cursor.execute(sql)
            self.assertEqual(cursor.fetchall(), [("Statement executed successfully.",)], sql)
        cursor.execute("SHOW PARAMETERS LIKE 'TIMEZONE' IN SESSION")
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in cursor.fetchall()], [("TIMEZONE", "UTC", "America/Los_Angeles", "SESSION")])
        cursor.execute("SHOW PARAMETERS LIKE '%TIMEOUT%'")
        self.assertEqual({r[0]: r[1] for r in cursor.fetchall()}, {"LOCK_TIMEOUT": "120", "STATEMENT_TIMEOUT_IN_SECONDS": "3600"})
        cursor.execute("ALTER SESSION UNSET TIMEZONE")
        cursor.execute("SHOW PARAMETERS LIKE 'TIMEZONE'")
        self.assertEqual(cursor.fetchone()[1], "America/Los_Angeles")

    def test_login_session_parameters_are_applied(self) -> None:
        cursor = self.session(TIMEZONE="UTC", LOCK_TIMEOUT=7).cursor()
        cursor.execute("SHOW PARAMETERS IN SESSION")
        values = {r[0]: r[1] for r in cursor.fetchall()}
        self.assertEqual((values["TIMEZONE"], values["LOCK_TIMEOUT"]), ("UTC", "7"))

    def test_values_the_emulator_cannot_honour_are_refused(self) -> None:
        cursor = self.session().cursor()
        self.assertIn("Invalid value [Nowhere/City]", str(error_of(lambda: cursor.execute("ALTER SESSION SET TIMEZONE = 'Nowhere/City'"))))
        refused = error_of(lambda: cursor.execute("ALTER SESSION SET QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE"))
        self.assertIn("Unsupported feature", str(refused))

    def test_current_session_is_a_stable_number_per_session(self) -> None:
        one, two = self.session().cursor(), self.session().cursor()
        one.execute("SELECT CURRENT_SESSION()")
        self.assertEqual(one.description[0].name, "CURRENT_SESSION()")
        first = one.fetchone()[0]
        one.execute("SELECT CURRENT_SESSION() AS ID")
        self.assertEqual(one.fetchone()[0], first)
        self.assertTrue(first.isdigit(), first)
        two.execute("SELECT CURRENT_SESSION()")
        self.assertNotEqual(two.fetchone()[0], first)

    def test_current_transaction_is_null_outside_a_transaction(self) -> None:
        cursor = self.session().cursor()
        cursor.execute("SELECT CURRENT_TRANSACTION()")
        self.assertIsNone(cursor.fetchone()[0])
        cursor.execute("BEGIN")
        cursor.execute("SELECT CURRENT_TRANSACTION()")
        inside = cursor.fetchone()[0]
        self.assertTrue(inside.isdigit(), inside)
        cursor.execute("COMMIT")
        cursor.execute("SELECT CURRENT_TRANSACTION()")
        self.assertIsNone(cursor.fetchone()[0])


class TimeoutTest(Tables):
    def test_lock_timeout_of_the_session_bounds_its_lock_waits(self) -> None:
        self.hold_lock()
        waiter = self.session().cursor()
        waiter.execute("ALTER SESSION SET LOCK_TIMEOUT = 1")
        started = time.monotonic()
        error = error_of(lambda: waiter.execute(f"UPDATE {self.table} SET V = 1 WHERE ID = 1"))
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(getattr(error, "errno", None), statements.LOCK_TIMEOUT_CODE, error)

    def test_statement_timeout_cancels_a_lock_wait(self) -> None:
        self.hold_lock()
        waiter = self.session(LOCK_TIMEOUT=60, STATEMENT_TIMEOUT_IN_SECONDS=1).cursor()
        started = time.monotonic()
        error = error_of(lambda: waiter.execute(f"UPDATE {self.table} SET V = 1 WHERE ID = 1"))
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(getattr(error, "errno", None), statements.STATEMENT_TIMEOUT_CODE, error)
        self.assertIn("statement or warehouse timeout of 1 second(s)", str(error))

    def test_statement_timeout_cancels_a_running_statement(self) -> None:
        cursor = self.session(STATEMENT_TIMEOUT_IN_SECONDS=1).cursor()
        started = time.monotonic()
        error = error_of(lambda: cursor.execute(SLOW_QUERY))
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(getattr(error, "errno", None), statements.STATEMENT_TIMEOUT_CODE, error)
        cursor.execute("SELECT 1")  # the session goes on
        self.assertEqual(cursor.fetchone()[0], 1)

    def test_strict_mode_waits_snowflakes_lock_timeout_by_default(self) -> None:
        with harness.strict():
            self.assertEqual(statements.sessions.lock_timeout_seconds(None), 43200)
        with harness.environment(SFEMU_STRICT="0", SFEMU_LOCK_TIMEOUT_SECONDS="60"):
            self.assertEqual(statements.sessions.lock_timeout_seconds(None), 60)


class LockWaitersTest(Tables):
    def test_at_most_twenty_statements_wait_for_one_lock_in_strict_mode(self) -> None:
        key = (self.database, "S", "T")
        holder = self.hold_lock()
        results: list[str] = []

        def wait() -> None:
            try:
                self.session(LOCK_TIMEOUT=60).cursor().execute(f"UPDATE {self.table} SET V = V + 1 WHERE ID = 1")
                results.append("done")
            except Exception as error:  # noqa: BLE001
                results.append(str(error))

        with harness.strict():
            threads = [threading.Thread(target=wait) for _ in range(statements.MAX_LOCK_WAITERS)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while statements._lock_waiters.get(key, 0) < statements.MAX_LOCK_WAITERS:  # noqa: SLF001
                self.assertLess(time.monotonic(), deadline, f"waiters: {statements._lock_waiters.get(key)}")  # noqa: SLF001
                time.sleep(0.05)
            late = self.session(LOCK_TIMEOUT=60).cursor()
            started = time.monotonic()
            error = error_of(lambda: late.execute(f"UPDATE {self.table} SET V = V + 1 WHERE ID = 1"))
            self.assertLess(time.monotonic() - started, 5, "the 21st fails at once")
            self.assertEqual(getattr(error, "errno", None), statements.LOCK_TIMEOUT_CODE)
            self.assertIn("the number of waiters for this lock exceeds the 20 statements limit", str(error))
            holder.cursor().execute("ROLLBACK")
            for thread in threads:
                thread.join()
        self.assertEqual(results, ["done"] * statements.MAX_LOCK_WAITERS)
        self.assertEqual(self.value(), statements.MAX_LOCK_WAITERS)


class SessionEndTest(Tables):
    def test_abort_session_rolls_back_releases_locks_and_forgets_the_session(self) -> None:
        victim = self.hold_lock()
        victim_cursor = victim.cursor()
        victim_cursor.execute("SELECT CURRENT_SESSION()")
        session_id = victim_cursor.fetchone()[0]
        admin = self.session().cursor()
        admin.execute(f"SELECT SYSTEM$ABORT_SESSION({session_id})")
        self.assertEqual(admin.fetchone()[0], f"session [{session_id}] terminated.")
        other = self.session(LOCK_TIMEOUT=1).cursor()
        other.execute(f"UPDATE {self.table} SET V = V + 5 WHERE ID = 1")  # no wait: the lock is gone
        self.assertEqual(self.value(), 5, "the victim's UPDATE was rolled back")
        error = error_of(lambda: victim_cursor.execute("SELECT 1"))
        self.assertRegex(str(error), "390112|expired|login", "its next request: session expired")

    def test_abort_session_takes_a_bind(self) -> None:
        victim = self.session()
        cursor = victim.cursor()
        cursor.execute("SELECT CURRENT_SESSION()")
        session_id = int(cursor.fetchone()[0])
        admin = harness.connect(paramstyle="qmark")  # a server-side bind
        self.addCleanup(admin.close)
        admin_cursor = admin.cursor()
        admin_cursor.execute("SELECT SYSTEM$ABORT_SESSION(?)", (session_id,))
        self.assertIn("terminated", admin_cursor.fetchone()[0])

    def test_abort_transaction_releases_its_locks(self) -> None:
        victim = self.hold_lock()
        victim_cursor = victim.cursor()
        victim_cursor.execute("SELECT CURRENT_TRANSACTION()")
        transaction_id = victim_cursor.fetchone()[0]
        admin = self.session().cursor()
        admin.execute(f"SELECT SYSTEM$ABORT_TRANSACTION({transaction_id})")
        self.assertEqual(admin.fetchone()[0], f"transaction [{transaction_id}] terminated.")
        self.session(LOCK_TIMEOUT=1).cursor().execute(f"UPDATE {self.table} SET V = V + 5 WHERE ID = 1")
        self.assertEqual(self.value(), 5)
        self.assertIn("aborted by SYSTEM$ABORT_TRANSACTION", str(error_of(lambda: victim_cursor.execute("SELECT 1"))))
        victim_cursor.execute("ROLLBACK")
        victim_cursor.execute("SELECT 1")

    def test_logout_rolls_back_the_open_transaction(self) -> None:
        leaving = self.hold_lock()
        leaving.close()  # the driver's logout: POST /session?delete=true
        self.session(LOCK_TIMEOUT=1).cursor().execute(f"UPDATE {self.table} SET V = V + 5 WHERE ID = 1")
        self.assertEqual(self.value(), 5)

    def test_strict_mode_keeps_a_killed_clients_locks_until_its_session_is_gone(self) -> None:
        with harness.environment(SFEMU_STRICT="1", SFEMU_ABANDONED_TRANSACTION_SECONDS="1"):
            killed = self.hold_lock()  # never used again, never logs out
            time.sleep(2.5)  # the lenient mode would have rolled it back by now
            waiter = self.session(LOCK_TIMEOUT=1).cursor()
            self.assertEqual(
                getattr(error_of(lambda: waiter.execute(f"UPDATE {self.table} SET V = 1 WHERE ID = 1")), "errno", None),
                statements.LOCK_TIMEOUT_CODE,
            )
            with harness.environment(SFEMU_SESSION_IDLE_SECONDS="2"):
                deadline = time.monotonic() + 20
                while True:  # the session goes idle for 2 s: gone, its transaction rolled back
                    try:
                        waiter.execute(f"UPDATE {self.table} SET V = V + 5 WHERE ID = 1")
                        break
                    except Exception:  # noqa: BLE001
                        heartbeat(waiter.connection)
                        self.assertLess(time.monotonic(), deadline)
            self.assertEqual(self.value(), 5)
            self.assertRegex(str(error_of(lambda: killed.cursor().execute("SELECT 1"))), "390112|expired|login")

    def test_lenient_mode_rolls_back_an_abandoned_transaction(self) -> None:
        with harness.environment(SFEMU_STRICT="0", SFEMU_ABANDONED_TRANSACTION_SECONDS="1"):
            self.hold_lock()
            waiter = self.session(LOCK_TIMEOUT=20).cursor()
            waiter.execute(f"UPDATE {self.table} SET V = V + 5 WHERE ID = 1")
            self.assertEqual(self.value(), 5)

    def test_heartbeats_keep_an_idle_session_alive(self) -> None:
        conn = self.session()
        with harness.environment(SFEMU_SESSION_IDLE_SECONDS="2"):
            for _ in range(8):
                self.assertEqual(heartbeat(conn), 200)
                time.sleep(0.5)
            conn.cursor().execute("SELECT 1")


class ReplayTest(Tables):
    def test_a_replay_that_reads_other_ids_aborts_the_transaction(self) -> None:
        # Sequences are not transactional: a replay draws new AUTOINCREMENT ids, while the
        # client already read (and may later bind) the first ones.
        self.cur.execute(f"CREATE TABLE {self.database}.S.P (ID INT AUTOINCREMENT, N INT)")
        cursor = self.session().cursor()
        cursor.execute("BEGIN")
        cursor.execute(f"INSERT INTO {self.database}.S.P (N) VALUES (1)")
        cursor.execute(f"SELECT ID FROM {self.database}.S.P")
        (first_id,) = cursor.fetchone()
        # A change committed after the transaction started: its UPDATE of that row conflicts,
        # and the layer rolls back, replays and runs the UPDATE again.
        self.session().cursor().execute(f"UPDATE {self.table} SET V = 1 WHERE ID = 1")
        error = error_of(lambda: cursor.execute(f"UPDATE {self.table} SET V = 2 WHERE ID = 1"))
        self.assertIn("returned different values than the first time", str(error))
        self.assertIn("run ROLLBACK", str(error_of(lambda: cursor.execute("SELECT 1"))))
        cursor.execute("ROLLBACK")
        self.cur.execute(f"SELECT COUNT(*) FROM {self.database}.S.P")
        self.assertEqual(self.cur.fetchone()[0], 0, f"nothing of the transaction (id {first_id}) is left")
        self.assertEqual(self.value(), 1)

    def test_a_replay_that_reads_the_same_values_goes_on(self) -> None:
        self.cur.execute(f"CREATE TABLE {self.database}.S.P (ID INT, N INT)")
        cursor = self.session().cursor()
        cursor.execute("BEGIN")
        cursor.execute(f"INSERT INTO {self.database}.S.P VALUES (7, 1)")
        cursor.execute(f"SELECT ID FROM {self.database}.S.P")
        self.session().cursor().execute(f"UPDATE {self.table} SET V = 1 WHERE ID = 1")
        cursor.execute(f"UPDATE {self.table} SET V = 2 WHERE ID = 1")
        cursor.execute("COMMIT")
        self.assertEqual(self.value(), 2)


class StrictDdlTest(Tables):
    def test_ddl_commits_the_open_transaction_in_strict_mode(self) -> None:
        with harness.strict():
            cursor = self.session().cursor()
            cursor.execute("BEGIN")
            cursor.execute(f"UPDATE {self.table} SET V = 7 WHERE ID = 1")
            cursor.execute(f"CREATE TABLE {self.database}.S.MADE_INSIDE (X INT)")
            cursor.execute("SELECT CURRENT_TRANSACTION()")
            self.assertIsNone(cursor.fetchone()[0], "no transaction is open after the DDL")
            cursor.execute("ROLLBACK")
            self.assertEqual(self.value(), 7, "the UPDATE before the DDL was committed")
            self.cur.execute(f"SELECT COUNT(*) FROM {self.database}.S.MADE_INSIDE")
            self.assertEqual(self.cur.fetchone()[0], 0, "the table exists")
            # and the lock the UPDATE took was released with the implicit commit
            self.session(LOCK_TIMEOUT=1).cursor().execute(f"UPDATE {self.table} SET V = 8 WHERE ID = 1")

    def test_truncate_is_dml_and_rolls_back(self) -> None:
        with harness.strict():
            cursor = self.session().cursor()
            cursor.execute("BEGIN")
            cursor.execute(f"TRUNCATE TABLE {self.table}")
            cursor.execute("ROLLBACK")
            self.assertEqual(self.value(), 0)

    def test_lenient_mode_rolls_ddl_back_with_the_transaction(self) -> None:
        with harness.lenient():
            cursor = self.session().cursor()
            cursor.execute("BEGIN")
            cursor.execute(f"CREATE TABLE {self.database}.S.GONE (X INT)")
            cursor.execute("ROLLBACK")
            self.assertIn("GONE", str(error_of(lambda: self.cur.execute(f"SELECT * FROM {self.database}.S.GONE"))))


if __name__ == "__main__":
    unittest.main()
