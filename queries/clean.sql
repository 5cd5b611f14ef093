-- clean: drop rows without usable text and strip control characters.
--
-- 1. Rows whose text is NULL are dropped.
-- 2. Every character of Unicode general category Cc is removed, except newline and tab.
-- 3. Rows whose remaining text, trimmed of Unicode whitespace, has fewer than min_chars
--    characters (code points) are dropped.
--
-- @param min_chars = 1
SELECT *
FROM (
    SELECT * REPLACE (strip_control(${text_column}) AS ${text_column})
    FROM input
    WHERE ${text_column} IS NOT NULL
)
WHERE char_count(trim_whitespace(${text_column})) >= ${min_chars}
