"""Unit tests of the compatibility layer's pure parts.

Run: PYTHONPATH=emulator $SFEMU_VENV/bin/python -m unittest discover -s emulator/tests
(cargo test -p test-support runs them too).
"""

from __future__ import annotations

import os
import time
import unittest
from decimal import Decimal

import pyarrow as pa

import harness
from sfemu import arrow_fixes, protocol, statements


class LoginTest(unittest.TestCase):
    def test_missing_session_parameters_default_to_empty(self) -> None:
        body = protocol.login_request_body({"data": {"LOGIN_NAME": "u"}})
        self.assertIsInstance(body["data"]["SESSION_PARAMETERS"], dict)

    def test_nop_regexes_come_from_the_environment(self) -> None:
        os.environ["FAKESNOW_NOP_REGEXES"] = "CALL .*;;ALTER SESSION SET QUERY_TAG.*"
        try:
            body = protocol.login_request_body({"data": {}})
        finally:
            del os.environ["FAKESNOW_NOP_REGEXES"]
        self.assertEqual(body["data"]["SESSION_PARAMETERS"]["nop_regexes"], ["CALL .*", "ALTER SESSION SET QUERY_TAG.*"])

    def test_login_answer_gets_session_fields(self) -> None:
        answer = {"data": {"token": "t", "sessionInfo": {"databaseName": "D"}}, "success": True}
        filled = protocol.login_response(answer, {"data": {"LOGIN_NAME": "loader"}}, {"roleName": "R", "warehouse": "W"})
        data = filled["data"]
        self.assertEqual(data["masterToken"], "t")
        self.assertEqual(data["displayUserName"], "loader")
        self.assertEqual(data["sessionInfo"], {"databaseName": "D", "warehouseName": "W", "roleName": "R"})
        self.assertIn("validityInSeconds", data)


class QueryTest(unittest.TestCase):
    def test_merge_answer_gets_per_operation_stats(self) -> None:
        answer = {"data": {"statementTypeId": protocol.MERGE, "rowset": [["2", "3"]], "total": 1}, "success": True}
        data = protocol.query_response(answer, {"bindings": {"1": {}}}, None)["data"]
        self.assertEqual(data["stats"]["numRowsInserted"], 2)
        self.assertEqual(data["stats"]["numRowsUpdated"], 3)
        self.assertEqual(data["numberOfBinds"], 1)

    def test_error_gets_query_id_and_sql_state(self) -> None:
        answer = {"data": {"errorCode": "002003"}, "code": "002003", "message": "x", "success": False}
        data = protocol.query_response(answer, {}, None)["data"]
        self.assertIn("queryId", data)
        self.assertIn("sqlState", data)


class ArrowFixesTest(unittest.TestCase):
    def _timestamp_struct(self) -> pa.StructArray:
        epoch = pa.array([1704103200, None], type=pa.int64())
        fraction = pa.array([0, None], type=pa.int32())
        return pa.StructArray.from_arrays([epoch, fraction], names=["epoch", "fraction"])

    def test_null_timestamp_struct_becomes_null(self) -> None:
        fixed = arrow_fixes.null_aware_timestamp(self._timestamp_struct())
        self.assertEqual(fixed.null_count, 1)
        self.assertTrue(fixed[0].is_valid)
        self.assertFalse(fixed[1].is_valid)

    def test_fixed_fitting_int64_becomes_scaled_int64(self) -> None:
        column = pa.array([Decimal("12.34"), None], type=pa.decimal128(12, 2))
        fixed = arrow_fixes.fixed_as_scaled_int64(column, 2)
        self.assertEqual(fixed.type, pa.int64())
        self.assertEqual(fixed.to_pylist(), [1234, None])

    def test_fixed_beyond_int64_stays_decimal128(self) -> None:
        column = pa.array([Decimal("123456789012.5")], type=pa.decimal128(38, 10))
        fixed = arrow_fixes.fixed_as_scaled_int64(column, 10)
        self.assertEqual(fixed.type, pa.decimal128(38, 10))

    def test_fix_table_reads_the_logical_type_from_metadata(self) -> None:
        field = pa.field("D", pa.decimal128(12, 2)).with_metadata({"logicalType": "FIXED", "scale": "2"})
        table = pa.Table.from_arrays([pa.array([Decimal("1.50")], type=pa.decimal128(12, 2))], schema=pa.schema([field]))
        fixed = arrow_fixes.fix_table(table)
        self.assertEqual(fixed.schema.field("D").type, pa.int64())
        self.assertEqual(fixed.schema.field("D").metadata[b"scale"], b"2")


class StatementsTest(unittest.TestCase):
    def test_transaction_boundaries_are_recognised(self) -> None:
        for sql in ["BEGIN", "begin transaction", " BEGIN WORK;", "START TRANSACTION"]:
            self.assertTrue(statements.BEGIN_RE.match(sql), sql)
        self.assertFalse(statements.BEGIN_RE.match("BEGIN SELECT 1; END"))
        for sql in ["COMMIT", "rollback"]:
            self.assertTrue(statements.END_RE.match(sql), sql)

    def test_locked_table_is_the_dml_target_fully_qualified(self) -> None:
        self.assertEqual(statements.locked_table("UPDATE T SET A = 1", "db", "s"), ("DB", "S", "T"))
        self.assertEqual(
            statements.locked_table("-- why\nMERGE INTO X.Y.Z t USING S s ON t.A = s.A WHEN MATCHED THEN DELETE", "D", "P"),
            ("X", "Y", "Z"),
        )
        self.assertEqual(statements.locked_table("DELETE FROM S2.T2", "D", "P"), ("D", "S2", "T2"))
        self.assertIsNone(statements.locked_table("INSERT INTO T VALUES (1)", "D", "P"))
        self.assertIsNone(statements.locked_table("SELECT * FROM T", "D", "P"))

    def test_lock_error_is_snowflakes_lock_timeout(self) -> None:
        error = statements._lock_error("UPDATE T SET A = 1\nWHERE B = 2", "waited 60s")  # noqa: SLF001
        self.assertEqual(error.errno, statements.LOCK_TIMEOUT_CODE)
        self.assertIn("lock wait timeout", error.msg)
        self.assertIn("UPDATE T SET A = 1", error.msg)


class ReaperTest(unittest.TestCase):
    def test_an_idle_open_transaction_is_rolled_back_and_its_locks_released(self) -> None:
        import fakesnow.server  # noqa: PLC0415

        class Duck:
            def __init__(self) -> None:
                self.executed: list[str] = []

            def execute(self, sql: str) -> None:
                self.executed.append(sql)

        class Conn:
            pass

        conn = Conn()
        conn._duck_conn = Duck()  # type: ignore[attr-defined]
        # Idle since "now" on the real clock, so the emulator's own reaper (running when another
        # test module started a server) leaves it alone; the test moves its clock by hand.
        base = time.monotonic()
        log = statements.TransactionLog(statements=[statements.Logged("BEGIN", None, None)], last_active=base)
        conn._sfemu_transaction = log  # type: ignore[attr-defined]
        statements._table_locks[("D", "S", "T")] = conn  # noqa: SLF001
        fakesnow.server.sessions["reaper-test"] = conn  # type: ignore[assignment]
        try:
            with harness.lenient():
                self.assertEqual(statements.reap_abandoned_transactions(now=base + 10.0), 0, "not idle long enough")
                self.assertEqual(statements.reap_abandoned_transactions(now=base + 1000.0), 1)
        finally:
            del fakesnow.server.sessions["reaper-test"]
        self.assertEqual(conn._duck_conn.executed, ["ROLLBACK"])  # type: ignore[attr-defined]
        self.assertFalse(log.open)
        self.assertIn("abandoned", log.aborted or "")
        self.assertNotIn(("D", "S", "T"), statements._table_locks)  # noqa: SLF001


class MultiStatementTest(unittest.TestCase):
    def test_statements_are_counted_without_running_them(self) -> None:
        from sfemu import app  # noqa: PLC0415 (imports fakesnow's server)

        self.assertEqual(app.statement_count("SELECT 1;"), 1)
        self.assertEqual(app.statement_count("SELECT 'a;b'"), 1)
        self.assertEqual(app.statement_count("INSERT INTO T VALUES (1); INSERT INTO T VALUES (2)"), 2)



class CredentialsTest(unittest.TestCase):
    def test_only_registered_accounts_check_passwords(self) -> None:
        from sfemu import app

        app._users.clear()
        anyone = {"ACCOUNT_NAME": "open", "LOGIN_NAME": "x", "PASSWORD": "y"}
        self.assertFalse(app.credentials_refused(anyone))
        app._users["LOCKED"] = {"MIGRATOR": "secret"}
        login = {"ACCOUNT_NAME": "locked", "LOGIN_NAME": "migrator", "PASSWORD": "secret"}
        self.assertFalse(app.credentials_refused(login))
        self.assertTrue(app.credentials_refused({**login, "PASSWORD": "nope"}))
        self.assertTrue(app.credentials_refused({**login, "LOGIN_NAME": "intruder"}))
        app._users.clear()


if __name__ == "__main__":
    unittest.main()
