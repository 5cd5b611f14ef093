-- dedup_exact: keep the first row of each group of rows with identical text.
--
-- "First" is source order: files in lexical path order, rows in file order, as recorded in
-- __source_row. Texts are grouped by their 128-bit xxh3 hash. Rows whose text is NULL are
-- all kept: NULL is not equal to anything.
SELECT *
FROM input
WHERE ${text_column} IS NULL
   OR __source_row IN (
        SELECT min(__source_row) AS first_row
        FROM input
        WHERE ${text_column} IS NOT NULL
        GROUP BY text_hash(${text_column})
   )
