-- The workflows won by one claim, by its token.
SELECT ID, SOURCE_PLATFORM, CONFIGURATION
FROM {{migration}}.WORKFLOW
WHERE CLAIM_TOKEN = CAST(:claim_token AS VARCHAR)
  AND STATUS = 'executing'
ORDER BY ID
