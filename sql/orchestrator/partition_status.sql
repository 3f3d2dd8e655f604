-- The status of one partition: read when its fenced completion updated no row, to tell a
-- partition another load completed from one this load cannot complete.
SELECT STATUS
FROM {{migration}}.PARTITION_METADATA
WHERE ID = :partition_id
