-- What the analysis of a table found, recorded when its plan runs.
UPDATE {{migration}}.TABLE_METADATA
SET ANALYSIS = PARSE_JSON(CAST(:analysis AS VARCHAR)),
    ESTIMATED_ROWS = :estimated_rows,
    TARGET_IDENTIFIER = CAST(:target_identifier AS VARCHAR),
    HAS_BEEN_ANALYZED = TRUE,
    UPDATED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE ID = :table_id
