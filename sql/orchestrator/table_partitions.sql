-- The partitions already recorded for a table.
SELECT ID, PARTITION_NUMBER
FROM {{migration}}.PARTITION_METADATA
WHERE TABLE_ID = :table_id
ORDER BY PARTITION_NUMBER
