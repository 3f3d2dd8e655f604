-- Insert a pending workflow unless the name is taken, in one statement. Snowflake does not
-- enforce UNIQUE on standard tables, so two creations of the same name at the very same
-- moment could both pass the NOT EXISTS check; the caller then sees a rival's CLAIM_TOKEN
-- (which starts as the creation token) and reports the name as taken.
INSERT INTO {{migration}}.WORKFLOW
    (NAME, WORKFLOW_TYPE, SOURCE_PLATFORM, STATUS, AFFINITY, CONFIGURATION, CONNECTION_NAME, CLAIM_TOKEN, CREATED_AT)
SELECT
    CAST(:name AS VARCHAR),
    CAST(:workflow_type AS VARCHAR),
    CAST(:source_platform AS VARCHAR),
    'pending',
    CAST(:affinity AS VARCHAR),
    PARSE_JSON(CAST(:configuration AS VARCHAR)),
    CAST(:connection_name AS VARCHAR),
    CAST(:creation_token AS VARCHAR),
    CAST(:now AS TIMESTAMP_NTZ)
WHERE NOT EXISTS (
    SELECT 1
    FROM {{migration}}.WORKFLOW w
    WHERE w.NAME = CAST(:name AS VARCHAR)
)
