//! `c4_quality(text [, require_terminal_punct])` and `c4_clean(text [, …])`: C4's line rules
//! (Raffel et al. 2020, as datatrove's C4QualityFilter applies them). Lines are stripped and
//! dropped when a word is over 1,000 characters, when (after removing `[1]`, `[edit]` and
//! `[citation needed]`) they do not end in `. ? ! " '` or end in `...` (unless the second
//! argument is false, as FineWeb runs it), when they have fewer than 3 words, or mention
//! javascript or a cookie or terms-of-use policy; a text is dropped when a kept line says
//! "lorem ipsum" or holds a `{`, or when its kept lines hold fewer than 5 sentences (counted
//! as spaCy's sentencizer counts them). `c4_clean` returns the kept lines of a kept text (and
//! an empty string for a text C4 drops).

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use regex::Regex;

use super::words::split_tokens;
use super::{
    Bound, Judge, Rule, Verdict, chars, is_python_space, python_lines, python_strip, rule,
};
use crate::util::unicode::{class_ranges, in_ranges};

const POLICY: [&str; 6] = [
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
];

/// spaCy's sentencizer's default sentence-ending tokens.
const SENTENCE_STOPS: &str = "!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？𐩖𐩗𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈｡。";

static CITATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[\d*\]|\[edit\]|\[citation needed\]").expect("a valid fixed pattern")
});

/// What C4's rules measure: lines, kept lines, sentences in them, and the kept lines that
/// say "lorem ipsum" or hold a curly bracket.
pub const MEASURES: &[&str] = &[
    "lines",
    "kept_lines",
    "sentences",
    "lorem_ipsum",
    "curly_bracket",
];

/// datatrove's C4QualityFilter defaults for the whole text.
pub const RULES: &[Rule] = &[
    rule(3, Bound::AtMost(0.0), "lorem_ipsum"),
    rule(4, Bound::AtMost(0.0), "curly_bracket"),
    rule(2, Bound::AtLeast(5.0), "too_few_sentences"),
];

/// Takes C4's measures of `text`, appending the kept lines (joined by newlines) to `kept`
/// when given. When judging, a kept line with "lorem ipsum" or a `{` ends it, as it drops the
/// text; when recording, such lines are counted and not kept.
pub fn measure(
    text: &str,
    require_terminal_punct: bool,
    judge: &mut Judge,
    mut kept: Option<&mut String>,
) -> Verdict {
    let [
        mut lines,
        mut kept_lines,
        mut sentence_count,
        mut lorem,
        mut curly,
    ] = [0usize; 5];
    for line in python_lines(text) {
        lines += 1;
        let Some(line) = kept_line(python_strip(line), require_terminal_punct) else {
            continue;
        };
        let lower = line.to_lowercase();
        if lower.contains("lorem ipsum") {
            lorem += 1;
            judge.set(3, lorem as f64)?;
            continue;
        }
        if lower.contains("javascript") {
            continue;
        }
        if line.contains('{') {
            curly += 1;
            judge.set(4, curly as f64)?;
            continue;
        }
        if POLICY.iter().any(|p| lower.contains(p)) {
            continue;
        }
        sentence_count += sentences(&line);
        kept_lines += 1;
        if let Some(out) = kept.as_deref_mut() {
            if kept_lines > 1 {
                out.push('\n');
            }
            out.push_str(&line);
        }
    }
    judge.set(0, lines as f64)?;
    judge.set(1, kept_lines as f64)?;
    judge.set(3, lorem as f64)?;
    judge.set(4, curly as f64)?;
    judge.set(2, sentence_count as f64)
}

/// Applies C4's rules to `text`: `None` when it is kept (with its kept lines appended to
/// `kept`, when given), or the rule that drops it.
pub fn c4_rules(
    text: &str,
    require_terminal_punct: bool,
    kept: Option<&mut String>,
) -> Option<&'static str> {
    let mut judge = Judge::judging(RULES, MEASURES.len());
    measure(text, require_terminal_punct, &mut judge, kept).break_value()
}

/// A stripped line without its citations, unless its length, ending or words drop it.
fn kept_line(line: &str, require_terminal_punct: bool) -> Option<Cow<'_, str>> {
    let mut n_words = 0;
    for word in line.split(is_python_space).filter(|w| !w.is_empty()) {
        if chars(word) > 1000 {
            return None;
        }
        n_words += 1;
    }
    let line = if line.contains('[') {
        CITATION.replace_all(line, "")
    } else {
        Cow::Borrowed(line)
    };
    let ends_well = line.ends_with(['.', '?', '!', '"', '\'']) && !line.ends_with("...");
    if require_terminal_punct && !ends_well {
        return None;
    }
    (n_words >= 3).then_some(line)
}

/// Sentences in `line`, as spaCy's sentencizer splits its tokens: a sentence ends at a
/// sentence-stop token, and the next starts at the first token after it that is not
/// punctuation.
fn sentences(line: &str) -> usize {
    let mut tokens = Vec::new();
    split_tokens(line, &mut tokens);
    let mut count = usize::from(!tokens.is_empty());
    let mut after_stop = false;
    for token in tokens {
        let stop = is_sentence_stop(token);
        if after_stop && !stop && !is_all_punctuation(token) {
            count += 1;
            after_stop = false;
        } else if stop {
            after_stop = true;
        }
    }
    count
}

fn is_sentence_stop(token: &str) -> bool {
    let mut chars = token.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => SENTENCE_STOPS.contains(c),
        _ => false,
    }
}

/// spaCy's `is_punct`: every character in a Unicode punctuation category.
fn is_all_punctuation(token: &str) -> bool {
    static PUNCTUATION: OnceLock<Vec<(char, char)>> = OnceLock::new();
    let ranges = class_ranges(&PUNCTUATION, r"\p{P}");
    token.chars().all(|c| in_ranges(ranges, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> Option<&'static str> {
        c4_rules(text, true, None)
    }

    fn recorded(text: &str, require: bool) -> Vec<f64> {
        let mut judge = Judge::recording(RULES, MEASURES.len());
        let _ = measure(text, require, &mut judge, None);
        judge.values().to_vec()
    }

    const FIVE: &str = "One sentence is here. Two sentences are here. Three is here.\n\
                        Four is a line. And five is too.";

    #[test]
    fn five_sentences_in_kept_lines_are_needed() {
        assert_eq!(verdict(FIVE), None);
        assert_eq!(
            verdict("One sentence is here. Two are here.\nFour is a line. Five is not."),
            Some("too_few_sentences")
        );
        // Abbreviations and ellipses inside a line end no sentence.
        assert_eq!(sentences("Mr. Smith went to Washington... and back."), 1);
        assert_eq!(sentences("It works!! Really. \"Yes.\" Done"), 4);
    }

    #[test]
    fn line_rules_drop_lines_and_document_rules_drop_texts() {
        let mut kept = String::new();
        let text = format!(
            "{FIVE}\nno terminal punctuation here\nTwo words.\nEnable JavaScript to see this.\n\
             We use cookies on this site.\nWikipedia says so.[1][citation needed]"
        );
        assert_eq!(c4_rules(&text, true, Some(&mut kept)), None);
        assert_eq!(kept, format!("{FIVE}\nWikipedia says so."));
        assert_eq!(recorded(&text, true), [7.0, 3.0, 6.0, 0.0, 0.0]);
        let lorem = format!("{FIVE}\nLorem ipsum dolor sit amet.");
        assert_eq!(verdict(&lorem), Some("lorem_ipsum"));
        assert_eq!(recorded(&lorem, true), [3.0, 2.0, 5.0, 1.0, 0.0]);
        let curly = format!("{FIVE}\nfunction f() {{ return 1; }}.");
        assert_eq!(verdict(&curly), Some("curly_bracket"));
        // A curly bracket on a line dropped earlier does not count.
        assert_eq!(verdict(&format!("{FIVE}\n{{ no end")), None);
        let long = format!("{FIVE}\nA {} word.", "x".repeat(1001));
        assert_eq!(recorded(&long, true)[1], 2.0);
    }

    #[test]
    fn terminal_punctuation_can_be_not_required() {
        let text = format!("{FIVE}\nthis line has no end");
        assert_eq!(recorded(&text, true)[1], 2.0);
        assert_eq!(recorded(&text, false)[1], 3.0);
        assert_eq!(recorded("Wait for it...", true)[1], 0.0);
        assert_eq!(recorded("Wait for it...", false)[1], 1.0);
    }
}
