-- Primary-key columns in key order (pk is the 1-based position in the key, 0 = not a key).
-- Parameter: table.
SELECT name AS column_name
FROM pragma_table_info(?)
WHERE pk > 0
ORDER BY pk
