-- One TABLE_METADATA row per table of a workflow, from a JSON array of
-- {"source_identifier", "target_identifier", "configuration"}.
INSERT INTO {{migration}}.TABLE_METADATA (
    WORKFLOW_ID, SOURCE_IDENTIFIER, TARGET_IDENTIFIER, TABLE_CONFIGURATION, HAS_BEEN_ANALYZED,
    CREATED_AT
)
SELECT
    :workflow_id,
    t.value:source_identifier::VARCHAR,
    t.value:target_identifier::VARCHAR,
    t.value:configuration,
    FALSE,
    CAST(:now AS TIMESTAMP_NTZ)
FROM TABLE(FLATTEN(INPUT => PARSE_JSON(CAST(:tables AS VARCHAR)))) t
