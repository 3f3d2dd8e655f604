-- Files of one attempt folder already recorded as loaded, with COPY's counts.
SELECT FILE_NAME, ROWS_LOADED
FROM {{migration}}.LOADED_FILE
WHERE PARTITION_ID = :partition_id
  AND STAGE_PATH = CAST(:stage_path AS VARCHAR)
