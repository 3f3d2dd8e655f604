-- Claim the pending data-migration workflows this orchestrator may drive: stamp them with this
-- call's claim token and mark them executing. Runs in the same transaction as the pushes of
-- their first tasks, so a workflow is never executing without tasks.
UPDATE {{migration}}.WORKFLOW
SET STATUS = 'executing',
    CLAIM_TOKEN = CAST(:claim_token AS VARCHAR),
    LEASE_OWNER = CAST(:owner AS VARCHAR),
    STARTED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE STATUS = 'pending'
  -- validation workflows are run by a later release
  AND WORKFLOW_TYPE = 'data-migration'
  -- affinity: the orchestrator takes everything when it has none; otherwise workflows with
  -- the same affinity, without one, or matching its pattern with *
  AND (
    CAST(:affinity AS VARCHAR) IS NULL
    OR AFFINITY IS NULL
    OR AFFINITY = CAST(:affinity AS VARCHAR)
    OR (
      CONTAINS(CAST(:affinity AS VARCHAR), '*')
      AND AFFINITY LIKE REPLACE(REPLACE(REPLACE(REPLACE(CAST(:affinity AS VARCHAR), '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%') ESCAPE '\\'
    )
  )
