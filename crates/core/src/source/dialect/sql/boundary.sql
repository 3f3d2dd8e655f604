-- Cut points for {buckets} partitions of the {total_rows} rows the catalog reported.
-- Rows are numbered in key order, row r belongs to bucket floor((r - 1) * buckets / total_rows).
-- The first row of a bucket is the one where ((r - 1) * buckets) mod total_rows < buckets.
-- The last row (r = total_rows) is returned too: it closes the last interior partition.
-- Unlike NTILE this needs no per-bucket aggregation and, over an index on the key, no sort:
-- the rows stream through ROW_NUMBER in index order. A wrong estimate of total_rows only makes
-- the buckets uneven, the partitions built from these rows still cover every row exactly once.
{lock}SELECT row_num, {key_aliases}
FROM (
    SELECT {key_selects},
           ROW_NUMBER() OVER (ORDER BY {order_by}) AS row_num
    FROM {table}
) numbered
WHERE row_num <= {total_rows}
  AND ({bucket_start} < {buckets} OR row_num = {total_rows})
ORDER BY row_num
