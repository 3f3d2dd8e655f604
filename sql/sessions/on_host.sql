-- The registered sessions of every daemon process on one host; the caller decides which of
-- the processes are gone.
SELECT SESSION_ID, PID, CONSUMER_ID
FROM {{migration}}.DAEMON_SESSION
WHERE HOST = CAST(:host AS VARCHAR)
ORDER BY PID, SESSION_ID
