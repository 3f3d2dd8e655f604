-- Forgets the sessions of one dead process, once they were ended.
DELETE FROM {{migration}}.DAEMON_SESSION
WHERE HOST = CAST(:host AS VARCHAR)
  AND PID = CAST(:pid AS NUMBER(38,0))
