-- Per unconstrained numeric column (three outputs each, in column order): the largest scale,
-- the largest integer-digit count and the number of NaN/infinity values (scale() is NULL for
-- them), to size its Snowflake NUMBER(38,s) or fall back to VARCHAR.
SELECT {profile_columns}
FROM {table}
