-- Files of one attempt folder recorded as loaded, with COPY's counts. The ledger commits in the
-- same transaction as the COPY that loaded them: a file listed here is in the target table.
SELECT FILE_NAME, ROWS_LOADED
FROM {{migration}}.LOADED_FILE
WHERE PARTITION_ID = :partition_id
  AND STAGE_PATH = CAST(:stage_path AS VARCHAR)
ORDER BY FILE_NAME
