-- Largest scale and largest integer-digit count of each unconstrained numeric column (two
-- outputs per column, in column order), to size its Snowflake NUMBER(38,s). scale() is NULL
-- for NaN, which no Snowflake NUMBER can hold anyway.
SELECT {profile_columns}
FROM {table}
