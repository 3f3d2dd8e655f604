-- Exact row count, and the size of the whole database file (SQLite keeps no per-table size
-- without the optional dbstat table): an upper bound.
SELECT (SELECT COUNT(*) FROM {table}) AS row_count,
       (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()) AS size_bytes
