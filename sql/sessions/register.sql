-- Registers the session running this statement for the daemon named by the binds.
INSERT INTO {{migration}}.DAEMON_SESSION (SESSION_ID, CONSUMER_ID, HOST, PID, STARTED_AT)
SELECT
    CURRENT_SESSION(),
    CAST(:consumer_id AS VARCHAR),
    CAST(:host AS VARCHAR),
    CAST(:pid AS NUMBER(38,0)),
    SYSDATE()
