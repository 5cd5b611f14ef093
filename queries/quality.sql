-- quality: FineWeb's quality filtering, in FineWeb's order (datatrove's defaults).
--
-- 1. Language: the text's most likely language, by fastText's lid.176, is `language` with a
--    probability above `language_threshold`.
-- 2. Gopher repetition: not too many repeated lines, paragraphs and n-grams.
-- 3. Gopher quality: word count and length, symbols, bullets, ellipses, stop words.
-- 4. C4, as FineWeb runs it (lines without terminal punctuation are kept): lines with
--    javascript, policies, too few words or an overlong word go; texts with lorem ipsum, a
--    curly bracket or fewer than 5 sentences go. The kept lines replace the text.
-- 5. FineWeb's own filters, on the text C4 kept: line punctuation, short lines, repeated
--    lines, line breaks per word.
--
-- @param language = "en"
-- @param language_threshold = 0.65
SELECT *
FROM (
    SELECT * REPLACE (c4_clean(${text_column}, false) AS ${text_column})
    FROM input
    WHERE lang_filter(${text_column}, ${language}, ${language_threshold})
      AND gopher_repetition(${text_column})
      AND gopher_quality(${text_column})
      AND c4_quality(${text_column}, false)
)
WHERE fineweb_quality(${text_column})
