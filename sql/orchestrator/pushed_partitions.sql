-- Partitions of a table that already have their extract task: a repeated plan pushes only
-- the others (with the procedure transport each push commits on its own).
SELECT DISTINCT q.PARTITION_ID
FROM {{migration}}.TASK_QUEUE q
WHERE q.TABLE_ID = :table_id
  AND q.KIND = 'extract'
  AND q.PARTITION_ID IS NOT NULL
