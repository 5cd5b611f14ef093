-- normalise: one canonical form for text that means the same.
--
-- 1. Unicode normalisation: NFKC by default; form = "NFC" selects NFC.
-- 2. Every run of Unicode whitespace other than newline becomes a single space.
-- 3. Leading and trailing whitespace, newlines included, is removed.
--
-- @param form = "NFKC"
-- @allowed form = ["NFKC", "NFC"]
SELECT * REPLACE (
    collapse_whitespace(
        CASE ${form} WHEN 'NFC' THEN nfc(${text_column}) ELSE nfkc(${text_column}) END
    ) AS ${text_column}
)
FROM input
