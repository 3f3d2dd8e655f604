-- Per table of one workflow, what `orchestrator verify` compares: the target, the analysis
-- (its plan lists the target columns in extraction order, which the checksum depends on) and,
-- per partition, the rows and content checksum the extract reported. A table whose analysis
-- failed has no partitions: the LEFT JOIN keeps it so it is reported, not skipped.
SELECT
    t.ID, t.SOURCE_IDENTIFIER, t.TARGET_IDENTIFIER, t.ANALYSIS,
    p.PARTITION_NUMBER, p.STATUS, p.ROWS_EXTRACTED, p.CHECKSUM
FROM {{migration}}.TABLE_METADATA t
LEFT JOIN {{migration}}.PARTITION_METADATA p ON p.TABLE_ID = t.ID
WHERE t.WORKFLOW_ID = :workflow_id
ORDER BY t.ID, p.PARTITION_NUMBER
