-- Files COPY loaded into a target table from paths like the attempt folder: the counts of a
-- COPY whose bookkeeping was lost (crash between COPY and the ledger). {{target_database}} is
-- the target database as it appears in SQL. The caller matches the file names exactly; LIKE
-- only narrows the rows.
SELECT FILE_NAME, ROW_COUNT
FROM {{target_database}}.INFORMATION_SCHEMA.LOAD_HISTORY
WHERE SCHEMA_NAME = CAST(:schema_name AS VARCHAR)
  AND TABLE_NAME = CAST(:table_name AS VARCHAR)
  AND STATUS = 'LOADED'
  AND FILE_NAME LIKE CAST(:file_pattern AS VARCHAR)
