"""Unit tests of the Snowflake Scripting interpreter (sfemu/scripting.py), in process: every
statement goes through the emulator's statement path (statements.install), as the server's do.

Run: PYTHONPATH=emulator $SFEMU_VENV/bin/python -m unittest discover -s emulator/tests
"""

from __future__ import annotations

import datetime
import unittest
import uuid
import warnings
from typing import Any

import fakesnow.server
import snowflake.connector.errors

from sfemu import scripting, statements

warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")

Error = snowflake.connector.errors.ProgrammingError


def session(database: str) -> Any:
    """A logged-in session (registered like the server's, so its locks count)."""
    conn = fakesnow.server.shared_fs.connect(database, "PUBLIC")
    fakesnow.server.sessions[f"test-{uuid.uuid4()}"] = conn
    return conn


def run(conn: Any, sql: str, *params: Any) -> Any:
    cursor = conn.cursor()
    cursor.execute(sql, binding_params=params or None, server=True)
    return cursor


def rows(conn: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return run(conn, sql, *params).fetchall()


def procedure(name: str, arguments: str, returns: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE PROCEDURE {name}({arguments})\n"
        f"RETURNS TABLE ({returns})\nLANGUAGE SQL\nEXECUTE AS OWNER\nAS\n$$\n{body}\n$$"
    )


# The shape of the project's generated procedures (crates/core/src/queue/procedure.rs).
BUMP = """
DECLARE
    kind VARCHAR DEFAULT 'worker';
    now TIMESTAMP_NTZ DEFAULT SYSDATE();
    token VARCHAR DEFAULT UUID_STRING();
    result_rows RESULTSET;
BEGIN
    BEGIN TRANSACTION;
    -- step: bump, repeated until it changes no row
    FOR pass IN 1 TO 100 DO
        UPDATE {db}.PUBLIC.COUNTER
        SET N = N + 1, TAG = :tag, KIND = :kind, TOKEN = :token, STAMPED = :now
        WHERE N < :limit_n;
        IF (SQLROWCOUNT = 0) THEN
            BREAK;
        END IF;
    END FOR;
    -- result
    result_rows := (
        SELECT ID, N, TAG, PARSE_JSON('{{"k": 1}}'), STAMPED
        FROM {db}.PUBLIC.COUNTER
        WHERE TOKEN = :token
        ORDER BY ID
    );
    COMMIT;
    RETURN TABLE(result_rows);
EXCEPTION
    WHEN OTHER THEN
        ROLLBACK;
        RAISE;
END
"""


class ScriptingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        statements.install()

    def setUp(self) -> None:
        self.db = f"SCRIPTING_{uuid.uuid4().hex[:10].upper()}"
        self.conn = session(self.db)
        run(self.conn, f"CREATE TABLE {self.db}.PUBLIC.COUNTER (ID BIGINT, N BIGINT, TAG VARCHAR, KIND VARCHAR, TOKEN VARCHAR, STAMPED TIMESTAMP_NTZ)")
        run(self.conn, f"INSERT INTO {self.db}.PUBLIC.COUNTER (ID, N) VALUES (1, 0), (2, 1), (3, 9)")
        run(self.conn, f"CREATE TABLE {self.db}.PUBLIC.LOG (MESSAGE VARCHAR)")

    def create_bump(self) -> None:
        ddl = procedure(
            f"{self.db}.PUBLIC.BUMP",
            "LIMIT_N BIGINT, TAG VARCHAR",
            "ID BIGINT, N BIGINT, TAG VARCHAR, PAYLOAD VARIANT, STAMPED TIMESTAMP_NTZ",
            BUMP.format(db=self.db),
        )
        self.assertEqual(rows(self.conn, ddl), [("Function BUMP successfully created.",)])

    def counters(self) -> list[tuple[Any, ...]]:
        return rows(self.conn, f"SELECT ID, N, TAG, KIND FROM {self.db}.PUBLIC.COUNTER ORDER BY ID")

    def test_a_call_runs_the_body_and_answers_the_returned_table(self) -> None:
        self.create_bump()
        cursor = run(self.conn, f"CALL {self.db}.public.bump(?, ?)", 3, "x'); DROP TABLE COUNTER; --")
        answer = cursor.fetchall()
        self.assertEqual([row[:3] for row in answer], [(1, 3, "x'); DROP TABLE COUNTER; --"), (2, 3, "x'); DROP TABLE COUNTER; --")])
        self.assertEqual(answer[0][3], '{"k":1}')
        self.assertIsInstance(answer[0][4], datetime.datetime)
        # the declared names and types, as the server describes the answer (BIGINT is NUMBER(38,0))
        described = [(column[0], column[1]) for column in cursor._describe_last_sql()]  # noqa: SLF001
        self.assertEqual(
            described,
            [("ID", "DECIMAL(38,0)"), ("N", "DECIMAL(38,0)"), ("TAG", "VARCHAR"), ("PAYLOAD", "JSON"), ("STAMPED", "TIMESTAMP")],
        )
        # the loop ran until the UPDATE changed no row; values were bound, never pasted
        self.assertEqual(
            self.counters(),
            [(1, 3, "x'); DROP TABLE COUNTER; --", "worker"), (2, 3, "x'); DROP TABLE COUNTER; --", "worker"), (3, 9, None, None)],
        )

    def test_an_empty_result_has_the_declared_columns(self) -> None:
        self.create_bump()
        cursor = run(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?, ?)", 0, "none")
        self.assertEqual(cursor.fetchall(), [])
        self.assertEqual([column[0] for column in cursor._describe_last_sql()], ["ID", "N", "TAG", "PAYLOAD", "STAMPED"])  # noqa: SLF001

    def test_arguments_are_counted_and_names_resolved_per_schema(self) -> None:
        self.create_bump()
        with self.assertRaisesRegex(Error, "called with 1 arguments, the procedure takes 2"):
            run(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?)", 1)
        with self.assertRaisesRegex(Error, "Unknown function"):
            run(self.conn, f"CALL {self.db}.OTHER.BUMP(?, ?)", 1, "a")
        # unqualified: the session's database and schema; literal arguments are evaluated
        self.assertEqual(len(rows(self.conn, "CALL Bump(2, 'lit')")), 2)

    def test_create_without_replace_refuses_an_existing_signature_and_drop_needs_the_signature(self) -> None:
        self.create_bump()
        ddl = procedure(f"{self.db}.PUBLIC.BUMP", "LIMIT_N BIGINT, TAG VARCHAR", "ID BIGINT", "DECLARE r RESULTSET; BEGIN r := (SELECT 1); RETURN TABLE(r); END")
        with self.assertRaisesRegex(Error, "already exists"):
            run(self.conn, ddl.replace("CREATE OR REPLACE", "CREATE"))
        with self.assertRaisesRegex(Error, "does not exist"):
            run(self.conn, f"DROP PROCEDURE {self.db}.PUBLIC.BUMP(VARCHAR)")
        run(self.conn, f"DROP PROCEDURE IF EXISTS {self.db}.PUBLIC.BUMP(VARCHAR)")
        self.assertEqual(rows(self.conn, f"DROP PROCEDURE {self.db}.PUBLIC.BUMP(NUMBER, STRING)"), [("BUMP successfully dropped.",)])
        with self.assertRaisesRegex(Error, "Unknown function"):
            run(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?, ?)", 1, "a")

    def test_overloads_are_separate_procedures(self) -> None:
        self.create_bump()
        body = f"""
DECLARE
    r RESULTSET;
BEGIN
    r := (SELECT COUNT(*) FROM {self.db}.PUBLIC.COUNTER WHERE N < :limit_n);
    RETURN TABLE(r);
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.BUMP", "LIMIT_N BIGINT", "HOW_MANY BIGINT", body))
        self.assertEqual(rows(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?)", 5), [(2,)])
        self.assertEqual(len(rows(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?, ?)", 1, "two")), 1)
        run(self.conn, f"DROP PROCEDURE {self.db}.PUBLIC.BUMP(BIGINT, VARCHAR)")
        self.assertEqual(rows(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?)", 5), [(2,)], "the other overload stays")

    def test_a_failing_statement_rolls_back_and_is_raised_again(self) -> None:
        body = f"""
DECLARE
    r RESULTSET;
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO {self.db}.PUBLIC.LOG (MESSAGE) VALUES ('before the failure');
    UPDATE {self.db}.PUBLIC.COUNTER SET N = CAST(:text AS BIGINT);
    r := (SELECT 1);
    COMMIT;
    RETURN TABLE(r);
EXCEPTION
    WHEN OTHER THEN
        ROLLBACK;
        RAISE;
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.BREAKS", "TEXT VARCHAR", "ONE BIGINT", body))
        with self.assertRaisesRegex(Error, "Uncaught exception of type 'STATEMENT_ERROR' in procedure BREAKS"):
            run(self.conn, f"CALL {self.db}.PUBLIC.BREAKS(?)", "not a number")
        self.assertEqual(rows(self.conn, f"SELECT COUNT(*) FROM {self.db}.PUBLIC.LOG"), [(0,)])
        self.assertEqual(self.counters()[0][1], 0)

    def test_a_procedure_transaction_is_scoped_apart_from_the_callers(self) -> None:
        body = f"""
DECLARE
    r RESULTSET;
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO {self.db}.PUBLIC.LOG (MESSAGE) VALUES (:message);
    r := (SELECT COUNT(*) FROM {self.db}.PUBLIC.LOG);
    COMMIT;
    RETURN TABLE(r);
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.WRITE_LOG", "MESSAGE VARCHAR", "SEEN BIGINT", body))
        run(self.conn, "BEGIN TRANSACTION")
        run(self.conn, f"INSERT INTO {self.db}.PUBLIC.LOG (MESSAGE) VALUES ('caller, rolled back')")
        self.assertEqual(
            rows(self.conn, f"CALL {self.db}.PUBLIC.WRITE_LOG(?)", "procedure, committed"),
            [(1,)],
            "the procedure's transaction does not see the caller's uncommitted row",
        )
        run(self.conn, "ROLLBACK")
        self.assertEqual(
            rows(self.conn, f"SELECT MESSAGE FROM {self.db}.PUBLIC.LOG"),
            [("procedure, committed",)],
            "the caller's ROLLBACK cannot undo what the procedure committed",
        )

    def test_statements_outside_the_procedures_transaction_join_the_callers(self) -> None:
        body = f"""
DECLARE
    r RESULTSET;
BEGIN
    INSERT INTO {self.db}.PUBLIC.LOG (MESSAGE) VALUES ('in the caller''s transaction');
    r := (SELECT COUNT(*) FROM {self.db}.PUBLIC.LOG);
    RETURN TABLE(r);
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.JOIN_CALLER", "", "SEEN BIGINT", body))
        run(self.conn, "BEGIN TRANSACTION")
        self.assertEqual(rows(self.conn, f"CALL {self.db}.PUBLIC.JOIN_CALLER()"), [(1,)])
        run(self.conn, "ROLLBACK")
        self.assertEqual(rows(self.conn, f"SELECT COUNT(*) FROM {self.db}.PUBLIC.LOG"), [(0,)])

    def test_a_procedure_must_end_the_transaction_it_began(self) -> None:
        body = f"""
DECLARE
    r RESULTSET;
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO {self.db}.PUBLIC.LOG (MESSAGE) VALUES ('never committed');
    r := (SELECT 1);
    RETURN TABLE(r);
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.LEAVES_OPEN", "", "ONE BIGINT", body))
        with self.assertRaisesRegex(Error, "Scoped transaction started in stored procedure LEAVES_OPEN is incomplete"):
            run(self.conn, f"CALL {self.db}.PUBLIC.LEAVES_OPEN()")
        self.assertEqual(rows(self.conn, f"SELECT COUNT(*) FROM {self.db}.PUBLIC.LOG"), [(0,)])

    def test_a_procedure_cannot_end_the_callers_transaction(self) -> None:
        body = """
DECLARE
    r RESULTSET;
BEGIN
    COMMIT;
    r := (SELECT 1);
    RETURN TABLE(r);
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.ENDS_CALLERS", "", "ONE BIGINT", body))
        self.assertEqual(rows(self.conn, f"CALL {self.db}.PUBLIC.ENDS_CALLERS()"), [(1,)], "no transaction: COMMIT does nothing")
        run(self.conn, "BEGIN TRANSACTION")
        with self.assertRaisesRegex(Error, "a transaction that has started at a different scope"):
            run(self.conn, f"CALL {self.db}.PUBLIC.ENDS_CALLERS()")
        run(self.conn, "ROLLBACK")

    def test_scalar_assignments_and_conditions_are_evaluated_by_the_engine(self) -> None:
        body = f"""
DECLARE
    total BIGINT DEFAULT 0;
    doubled BIGINT;
    r RESULTSET;
BEGIN
    total := (SELECT SUM(N) FROM {self.db}.PUBLIC.COUNTER WHERE N >= :floor);
    doubled := total * 2 + floor;
    IF (doubled > 10) THEN
        INSERT INTO {self.db}.PUBLIC.LOG (MESSAGE) VALUES ('big');
    END IF;
    r := (SELECT :total, :doubled);
    RETURN TABLE(r);
END"""
        run(self.conn, procedure(f"{self.db}.PUBLIC.SUMS", "FLOOR BIGINT", "TOTAL BIGINT, DOUBLED BIGINT", body))
        self.assertEqual(rows(self.conn, f"CALL {self.db}.PUBLIC.SUMS(?)", 1), [(10, 21)])
        self.assertEqual(rows(self.conn, f"SELECT MESSAGE FROM {self.db}.PUBLIC.LOG"), [("big",)])

    def test_a_frozen_clock_is_what_sysdate_returns_in_procedures(self) -> None:
        self.create_bump()
        frozen = datetime.datetime(2030, 1, 2, 3, 4, 5, 678000)
        run(self.conn, f"CALL {scripting.FREEZE_CLOCK}(?)", "2030-01-02 03:04:05.678000")
        try:
            answer = rows(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?, ?)", 2, "t")
        finally:
            run(self.conn, f"CALL {scripting.FREEZE_CLOCK}(NULL)")
        self.assertEqual({row[4] for row in answer}, {frozen})
        answer = rows(self.conn, f"CALL {self.db}.PUBLIC.BUMP(?, ?)", 4, "u")
        self.assertNotEqual(answer[0][4], frozen, "thawed")


class ServerTest(unittest.TestCase):
    """Through the real server: a CALL whose client goes away still runs to its end."""

    def test_a_call_runs_to_its_end_when_the_client_disconnects(self) -> None:
        import http.client  # noqa: PLC0415
        import json  # noqa: PLC0415
        import socket  # noqa: PLC0415
        import threading  # noqa: PLC0415
        import time  # noqa: PLC0415

        import uvicorn  # noqa: PLC0415

        from sfemu.app import build_app  # noqa: PLC0415

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(build_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            for _ in range(100):
                if server.started:
                    break
                time.sleep(0.05)
            db = f"SCRIPTING_{uuid.uuid4().hex[:10].upper()}"
            fakesnow.server.shared_fs.connect(db, "PUBLIC").close()

            def post(path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                headers = {"Content-Type": "application/json"}
                if token:
                    headers["Authorization"] = f'Snowflake Token="{token}"'
                connection.request("POST", path, json.dumps(body), headers)
                answer = json.loads(connection.getresponse().read())
                connection.close()
                return answer

            login = post(f"/session/v1/login-request?databaseName={db}&schemaName=PUBLIC", {"data": {"LOGIN_NAME": "u"}})
            token = login["data"]["token"]

            def query(sql: str) -> dict[str, Any]:
                answer = post("/queries/v1/query-request", {"sqlText": sql}, token)
                self.assertTrue(answer["success"], answer)
                return answer

            query(f"CREATE TABLE {db}.PUBLIC.STEPS (N BIGINT)")
            body = f"""
DECLARE
    r RESULTSET;
BEGIN
    BEGIN TRANSACTION;
    FOR i IN 1 TO 150 DO
        INSERT INTO {db}.PUBLIC.STEPS (N) VALUES (:i);
    END FOR;
    r := (SELECT COUNT(*) FROM {db}.PUBLIC.STEPS);
    COMMIT;
    RETURN TABLE(r);
END"""
            query(procedure(f"{db}.PUBLIC.SLOW", "", "N BIGINT", body))
            # Send the CALL and hang up at once, without reading the answer.
            with socket.create_connection(("127.0.0.1", port)) as client:
                payload = json.dumps({"sqlText": f"CALL {db}.PUBLIC.SLOW()"}).encode()
                client.sendall(
                    b"POST /queries/v1/query-request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + f'Authorization: Snowflake Token="{token}"\r\nContent-Length: {len(payload)}\r\n\r\n'.encode()
                    + payload
                )
            observer = session(db)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if rows(observer, f"SELECT COUNT(*) FROM {db}.PUBLIC.STEPS") == [(150,)]:
                    break
                time.sleep(0.1)
            self.assertEqual(rows(observer, f"SELECT COUNT(*) FROM {db}.PUBLIC.STEPS"), [(150,)], "committed to its end")
        finally:
            server.should_exit = True
            thread.join(timeout=10)


class RefusalTest(unittest.TestCase):
    """Constructs outside the subset are refused when the procedure is created."""

    @classmethod
    def setUpClass(cls) -> None:
        statements.install()
        cls.conn = session("SCRIPTING_REFUSALS")

    def refused(self, body: str, message: str, header: tuple[str, str] = ("", "ONE BIGINT")) -> None:
        with self.assertRaisesRegex(Error, message):
            run(self.conn, procedure("SCRIPTING_REFUSALS.PUBLIC.P", header[0], header[1], body))

    def test_unknown_constructs_are_named(self) -> None:
        start = "DECLARE r RESULTSET; BEGIN "
        end = " r := (SELECT 1); RETURN TABLE(r); END"
        self.refused(start + "IF (1 = 1) THEN BREAK; END IF;" + end, "BREAK outside a loop")
        self.refused(start + "IF (1 = 1) THEN r := (SELECT 2); ELSE r := (SELECT 3); END IF;" + end, "ELSE")
        self.refused(start + "LET x := 1;" + end, "statement starting with `LET`")
        self.refused(start + "BEGIN r := (SELECT 2); END;" + end, "nested BEGIN")
        self.refused(start + "FOR i IN 1 TO 3 DO r := (SELECT 2); END LOOPX;" + end, "expected FOR, found `LOOPX`")
        self.refused(start + "FOR i IN 1 TO 3 LOOP r := (SELECT 2); END LOOP;" + end, "FOR ... LOOP")
        self.refused(start + "CREATE TABLE X (A INT);" + end, "statement starting with `CREATE`")
        self.refused(start + "UPDATE T SET A = :nowhere;" + end, "`:nowhere` .* is not an argument or a declared variable")
        self.refused(start + "RAISE;" + end, "outside an EXCEPTION handler")
        self.refused("BEGIN RETURN TABLE(r); END", "needs a RESULTSET variable")
        self.refused(start + "r := (SELECT 1); RETURN TABLE(r); EXCEPTION WHEN STATEMENT_ERROR THEN RAISE; END", "WHEN OTHER")

    def test_unsupported_clauses_are_named(self) -> None:
        base = procedure("SCRIPTING_REFUSALS.PUBLIC.P", "", "ONE BIGINT", "DECLARE r RESULTSET; BEGIN r := (SELECT 1); RETURN TABLE(r); END")
        for change, message in [
            (("EXECUTE AS OWNER", "EXECUTE AS CALLER"), "EXECUTE AS CALLER"),
            (("LANGUAGE SQL", "LANGUAGE PYTHON"), "LANGUAGE PYTHON"),
            (("RETURNS TABLE (ONE BIGINT)", "RETURNS VARCHAR"), "RETURNS VARCHAR"),
        ]:
            with self.subTest(change=change[1]), self.assertRaisesRegex(Error, message):
                run(self.conn, base.replace(*change))
        with self.assertRaisesRegex(Error, "anonymous blocks"):
            run(self.conn, "EXECUTE IMMEDIATE $$ BEGIN RETURN 1; END $$")


class TokenizerTest(unittest.TestCase):
    def test_binds_paths_casts_and_strings(self) -> None:
        tokens = scripting.tokenize("SELECT t.value:kind::VARCHAR, :a, (:b), x := 1, '\\\\:c', 'it''s :d', \"Q:e\" -- :f\n")
        binds = [t.text for t in tokens if t.kind == "bind"]
        self.assertEqual(binds, [":a", ":b"])
        self.assertIn("'\\\\:c'", [t.text for t in tokens if t.kind == "string"])
        self.assertIn(":=", [t.text for t in tokens if t.kind == "op"])

    def test_signature_types_fold_synonyms(self) -> None:
        self.assertEqual(scripting.signature_type("varchar(100)"), "VARCHAR")
        self.assertEqual(scripting.signature_type("BIGINT"), scripting.signature_type("NUMBER(38, 0)"))
        self.assertEqual(scripting.signature_type("STRING"), "VARCHAR")


if __name__ == "__main__":
    unittest.main()
