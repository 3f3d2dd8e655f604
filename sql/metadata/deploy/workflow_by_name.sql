-- The workflow(s) with this name and their claim tokens, oldest first.
SELECT ID, CLAIM_TOKEN
FROM {{migration}}.WORKFLOW
WHERE NAME = CAST(:name AS VARCHAR)
ORDER BY ID
