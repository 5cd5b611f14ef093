//! English words as datatrove's quality filters count them: the reference splits text with
//! spaCy's blank English tokenizer and drops whitespace. This follows that tokenizer's rules —
//! split on white space; peel punctuation, quotes, currency and symbols off both ends (a
//! period only after a lowercase letter, a digit, punctuation or two capitals); keep the
//! exceptions whole or split as spaCy does (abbreviations such as `e.g.`, contractions such
//! as `don't` → `do`, `n't`); then split inside at hyphens, slashes, colons and commas between
//! letters, ellipses and symbols. Differences from spaCy are listed in `benches/README.md`.

/// Appends the words of `text` to `out`.
pub fn split_words<'a>(text: &'a str, out: &mut Vec<&'a str>) {
    for chunk in text.split(char::is_whitespace).filter(|c| !c.is_empty()) {
        split_chunk(chunk, out);
    }
}

/// Appends spaCy's tokens of `text` to `out`: its words, and a token for each run of white
/// space other than one space (the space that ends a word is no token of its own).
pub fn split_tokens<'a>(text: &'a str, out: &mut Vec<&'a str>) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let space = super::is_python_space(c);
        let end = rest
            .find(|c| super::is_python_space(c) != space)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        match (space, run) {
            (true, " ") => {}
            (true, run) => out.push(run.strip_prefix(' ').unwrap_or(run)),
            (false, chunk) => split_chunk(chunk, out),
        }
        rest = tail;
    }
}

/// The words of `text`.
pub fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    split_words(text, &mut out);
    out
}

/// One whitespace-free chunk: prefixes, the core (an exception, or split at infixes),
/// suffixes.
fn split_chunk<'a>(chunk: &'a str, out: &mut Vec<&'a str>) {
    let mut rest = chunk;
    let mut suffixes: Vec<&'a str> = Vec::new();
    while !rest.is_empty() && exception(rest).is_none() {
        let pre = prefix_len(rest);
        let suf = suffix_len(rest);
        if pre == 0 && suf == 0 {
            break;
        }
        if pre > 0 {
            out.push(&rest[..pre]);
            rest = &rest[pre..];
            if exception(rest).is_some() {
                break;
            }
            continue;
        }
        suffixes.push(&rest[rest.len() - suf..]);
        rest = &rest[..rest.len() - suf];
    }
    if !rest.is_empty() {
        match exception(rest) {
            Some(parts) => out.extend(parts),
            None => split_infixes(rest, out),
        }
    }
    out.extend(suffixes.into_iter().rev());
}

/// Punctuation that comes off either end of a word (spaCy's LIST_PUNCT and LIST_QUOTES).
fn is_punct(c: char) -> bool {
    matches!(
        c,
        '…' | ','
            | ':'
            | ';'
            | '!'
            | '?'
            | '¿'
            | '؟'
            | '¡'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '<'
            | '>'
            | '_'
            | '#'
            | '*'
            | '&'
            | '。'
            | '？'
            | '！'
            | '，'
            | '、'
            | '；'
            | '：'
            | '～'
            | '·'
            | '।'
            | '،'
            | '۔'
            | '؛'
            | '٪'
    ) || is_quote(c)
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '\'' | '"'
            | '”'
            | '“'
            | '`'
            | '‘'
            | '´'
            | '’'
            | '‚'
            | '„'
            | '»'
            | '«'
            | '「'
            | '」'
            | '『'
            | '』'
            | '（'
            | '）'
            | '〔'
            | '〕'
            | '【'
            | '】'
            | '《'
            | '》'
            | '〈'
            | '〉'
            | '⟦'
            | '⟧'
    )
}

fn is_currency(c: char) -> bool {
    matches!(c, '$' | '£' | '€' | '¥' | '฿' | '₽' | '﷼' | '₴')
        || ('\u{20A0}'..='\u{20CF}').contains(&c)
}

/// Symbols spaCy splits off as icons (Unicode category So, but `°`), by the common blocks.
fn is_icon(c: char) -> bool {
    matches!(c, '©' | '®' | '¦' | '§' | '¶' | '҂')
        || ('\u{2100}'..='\u{214F}').contains(&c) && !c.is_alphabetic()
        || ('\u{2190}'..='\u{21FF}').contains(&c)
        || ('\u{2300}'..='\u{23FF}').contains(&c)
        || ('\u{2500}'..='\u{27BF}').contains(&c)
        || ('\u{2B00}'..='\u{2BFF}').contains(&c)
        || ('\u{1F000}'..='\u{1FAFF}').contains(&c)
}

/// Bytes of the prefix at the start of `s`, or 0.
fn prefix_len(s: &str) -> usize {
    let mut chars = s.chars();
    let Some(c) = chars.next() else { return 0 };
    match c {
        '§' | '%' | '=' | '—' | '–' => c.len_utf8(),
        '+' if !chars.next().is_some_and(|n| n.is_ascii_digit()) => 1,
        '.' => dots(s),
        c if is_punct(c) || is_currency(c) || is_icon(c) => c.len_utf8(),
        _ => 0,
    }
}

/// Bytes of the run of two or more periods at the start of `s`, or 0.
fn dots(s: &str) -> usize {
    let n = s.bytes().take_while(|&b| b == b'.').count();
    if n >= 2 { n } else { 0 }
}

/// Bytes of the suffix at the end of `s`, or 0: of the suffixes that match there, the one
/// that starts first (as a regular expression search finds it).
fn suffix_len(s: &str) -> usize {
    let mut from_end = s.char_indices().rev();
    let Some((last_at, last)) = from_end.next() else {
        return 0;
    };
    let b1 = from_end.next().map(|(_, c)| c);
    let b2 = from_end.next().map(|(_, c)| c);
    let mut best = s.len();
    let mut take = |start: usize| best = best.min(start);
    // A run of periods (an ellipsis) at the end.
    let periods = s.bytes().rev().take_while(|&b| b == b'.').count();
    if periods >= 2 {
        take(s.len() - periods);
    }
    for ending in ["'s", "'S", "’s", "’S", "''"] {
        if s.len() > ending.len() && s.ends_with(ending) {
            take(s.len() - ending.len());
        }
    }
    for unit in UNITS {
        let Some(number) = s.strip_suffix(unit) else {
            continue;
        };
        if number.chars().last().is_some_and(|c| c.is_ascii_digit()) {
            take(number.len());
        }
    }
    match last {
        c if is_punct(c) || is_icon(c) || c == '—' || c == '–' => take(last_at),
        '+' | '%' if b1.is_some_and(|b| b.is_ascii_digit()) => take(last_at),
        c if is_currency(c) && b1.is_some_and(|b| b.is_ascii_digit()) => take(last_at),
        '.' if period_ends(b1, b2) => take(last_at),
        _ => {}
    }
    s.len() - best
}

/// Whether a final period after `b1` (and `b2` before it) is its own token.
fn period_ends(b1: Option<char>, b2: Option<char>) -> bool {
    match b1 {
        Some('F' | 'f' | 'C' | 'c' | 'K' | 'k') if b2 == Some('°') => true,
        Some('%' | '²' | '-' | '+') => true,
        Some(c) if c.is_ascii_digit() || c.is_lowercase() || is_punct(c) || c == '.' => true,
        Some(c) if c.is_uppercase() => b2.is_some_and(char::is_uppercase),
        _ => false,
    }
}

/// Splits `s` at its infixes (an infix at its very start is not split off).
fn split_infixes<'a>(s: &'a str, out: &mut Vec<&'a str>) {
    // Every infix is a character that is not a letter or digit.
    if s.chars().all(char::is_alphanumeric) {
        out.push(s);
        return;
    }
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (at, _) = chars[i];
        match infix_at(&chars, i) {
            Some(n) if at > 0 => {
                if at > start {
                    out.push(&s[start..at]);
                }
                let end = chars.get(i + n).map_or(s.len(), |&(b, _)| b);
                out.push(&s[at..end]);
                start = end;
                i += n;
            }
            _ => i += 1,
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
}

/// Characters of the infix starting at `chars[i]`, if one does.
fn infix_at(chars: &[(usize, char)], i: usize) -> Option<usize> {
    let c = chars[i].1;
    let prev = i.checked_sub(1).map(|p| chars[p].1);
    let next = |k: usize| chars.get(i + k).map(|p| p.1);
    let letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
    if c == '.' && next(1) == Some('.') {
        return Some(chars[i..].iter().take_while(|p| p.1 == '.').count());
    }
    if c == '…' || is_icon(c) {
        return Some(1);
    }
    let digit_before = prev.is_some_and(|p| p.is_ascii_digit());
    if digit_before
        && matches!(c, '+' | '-' | '*' | '^')
        && next(1).is_some_and(|n| n.is_ascii_digit() || n == '-')
    {
        return Some(1);
    }
    if c == '.'
        && prev.is_some_and(|p| p.is_lowercase() || is_quote(p))
        && next(1).is_some_and(|n| n.is_uppercase() || is_quote(n))
    {
        return Some(1);
    }
    if c == ',' && letter(prev) && letter(next(1)) {
        return Some(1);
    }
    let alnum_before = prev.is_some_and(|p| p.is_alphabetic() || p.is_ascii_digit());
    if alnum_before && matches!(c, '-' | '–' | '—' | '~') {
        let run = if c == '-' || c == '—' {
            chars[i..].iter().take_while(|p| p.1 == c).count().min(3)
        } else {
            1
        };
        if letter(next(run)) {
            return Some(run);
        }
    }
    if alnum_before && matches!(c, ':' | '<' | '>' | '=' | '/') && letter(next(1)) {
        return Some(1);
    }
    None
}

/// Units spaCy splits from a number before them (`20cm` → `20`, `cm`).
const UNITS: &[&str] = &[
    "km", "km²", "km³", "m", "m²", "m³", "dm", "dm²", "dm³", "cm", "cm²", "cm³", "mm", "mm²",
    "mm³", "ha", "µm", "nm", "yd", "in", "ft", "kg", "g", "mg", "µg", "t", "lb", "oz", "m/s",
    "km/h", "kmh", "mph", "hPa", "Pa", "mbar", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "T",
    "G", "M", "K",
];

/// Words kept whole, or split as spaCy's English exceptions split them.
fn exception(s: &str) -> Option<Vec<&str>> {
    if s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return plain_exception(s);
    }
    if ABBREVIATIONS.contains(&s) || EMOTICONS.contains(&s) || is_initial(s) || is_elided(s) {
        return Some(vec![s]);
    }
    if let Some(parts) = contraction(s) {
        return Some(parts);
    }
    let lower = s.to_lowercase();
    let at = match lower.as_str() {
        "cannot" => 3,
        "gonna" | "wanna" => 3,
        "gotta" => 3,
        _ => return None,
    };
    Some(vec![&s[..at], &s[at..]])
}

/// The exceptions among words of ASCII letters and digits only: `XD`, negations without an
/// apostrophe (`dont`) and `cannot`, `gonna`, `wanna`, `gotta` — without the allocations of
/// the general case.
fn plain_exception(s: &str) -> Option<Vec<&str>> {
    if s == "XD" || s == "xD" {
        return Some(vec![s]);
    }
    let ends_nt = s.len() > 2 && s[s.len() - 2..].eq_ignore_ascii_case("nt");
    if ends_nt {
        return contraction(s);
    }
    let at = match s.len() {
        5 if ["gonna", "wanna", "gotta"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w)) =>
        {
            3
        }
        6 if s.eq_ignore_ascii_case("cannot") => 3,
        _ => return None,
    };
    Some(vec![&s[..at], &s[at..]])
}

/// `'em`, `'cause` and the dropped g of `nothin'`, `goin'`: one word for spaCy.
fn is_elided(s: &str) -> bool {
    let lower = s.to_lowercase().replace('’', "'");
    matches!(
        lower.as_str(),
        "'em" | "'cause" | "'bout" | "'til" | "'till" | "ol'"
    ) || lower
        .strip_suffix("in'")
        .is_some_and(|stem| ["do", "go", "noth", "nuth", "someth"].contains(&stem))
}

/// `x.` for a single letter x.
fn is_initial(s: &str) -> bool {
    let mut chars = s.chars();
    matches!((chars.next(), chars.next(), chars.next()), (Some(c), Some('.'), None) if c.is_alphabetic())
}

/// `do` + `n't`, `I` + `'m`: a verb before a negation, a pronoun before a short verb.
fn contraction(s: &str) -> Option<Vec<&str>> {
    let lower = s.to_lowercase();
    for negation in ["n't", "n’t", "nt"] {
        if let Some(stem) = lower.strip_suffix(negation) {
            let stem_at = s.len() - negation.len();
            let stem_ok = NEGATED.contains(&stem);
            let bare = negation == "nt" && !NEGATED_BARE.contains(&lower.as_str());
            if stem_ok && !bare && s.is_char_boundary(stem_at) {
                return Some(vec![&s[..stem_at], &s[stem_at..]]);
            }
        }
    }
    for short in [
        "'m", "'re", "'ve", "'ll", "'d", "’m", "’re", "’ve", "’ll", "’d",
    ] {
        if let Some(stem) = lower.strip_suffix(short) {
            let stem_at = s.len() - short.len();
            if PRONOUNS.contains(&stem) && s.is_char_boundary(stem_at) {
                return Some(vec![&s[..stem_at], &s[stem_at..]]);
            }
        }
    }
    None
}

/// Stems spaCy splits `n't` from (`ca` of `can't`, `wo` of `won't`, `ai` of `ain't`).
const NEGATED: &[&str] = &[
    "ca", "could", "did", "does", "do", "had", "has", "have", "is", "might", "must", "need", "sha",
    "should", "was", "were", "wo", "would", "ai", "are", "dare",
];

/// The forms without apostrophe spaCy splits too.
const NEGATED_BARE: &[&str] = &[
    "cant", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt",
    "mustnt", "neednt", "shouldnt", "wasnt", "werent", "wont", "wouldnt", "aint", "arent",
];

/// Pronouns before `'m`, `'re`, `'ve`, `'ll`, `'d`.
const PRONOUNS: &[&str] = &[
    "i", "you", "he", "she", "it", "we", "they", "who", "what", "that", "there", "where", "when",
    "why", "how", "this", "these", "those", "here", "y'all", "let", "would", "could", "should",
    "might", "must",
];

/// Emoticons spaCy keeps whole.
const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":))", ":-))", ":)))", ":(", ":-(", ":((", ";)", ";-)", ":D", ":-D", ":P", ":p",
    ":-P", ":-p", "=)", "=(", "(:", "):", ":/", ":-/", "<3", ":]", ":-]", "[:", ":'(", ":')", "XD",
    "xD", "^_^", "-_-", ":O", ":o", ":-O", ":-o", ":|", ":-|", "8)", "8-)", ":*",
];

/// Abbreviations spaCy's English exceptions keep whole.
const ABBREVIATIONS: &[&str] = &[
    "a.m.", "p.m.", "Adm.", "Bros.", "co.", "Co.", "Corp.", "D.C.", "Dr.", "e.g.", "E.g.", "E.G.",
    "Gen.", "Gov.", "i.e.", "I.e.", "I.E.", "Inc.", "Jr.", "Ltd.", "Md.", "Messrs.", "Mo.",
    "Mont.", "Mr.", "Mrs.", "Ms.", "Ph.D.", "Prof.", "Rep.", "Rev.", "Sen.", "St.", "vs.", "v.s.",
    "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.",
    "Dec.", "Ala.", "Ariz.", "Ark.", "Calif.", "Colo.", "Conn.", "Del.", "Fla.", "Ga.", "Ill.",
    "Ind.", "Kan.", "Kans.", "Ky.", "La.", "Mass.", "Mich.", "Minn.", "Miss.", "N.C.", "N.D.",
    "N.H.", "N.J.", "N.M.", "N.Y.", "Neb.", "Nebr.", "Nev.", "Okla.", "Ore.", "Pa.", "Tenn.",
    "Va.", "Wash.", "Wis.", "Mt.", "U.S.", "U.K.", "etc.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_spacy_english() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello, world!", &["Hello", ",", "world", "!"]),
            ("I don't know.", &["I", "do", "n't", "know", "."]),
            (
                "(e.g. this) and U.S.A.",
                &["(", "e.g.", "this", ")", "and", "U.S.A."],
            ),
            (
                "well-known 3-4 and/or",
                &["well", "-", "known", "3", "-", "4", "and", "/", "or"],
            ),
            (
                "John's \"quoted\" text...",
                &["John", "'s", "\"", "quoted", "\"", "text", "..."],
            ),
            ("$5 costs 10%", &["$", "5", "costs", "10", "%"]),
            ("adds 20cm or 5kg", &["adds", "20", "cm", "or", "5", "kg"]),
            (
                "called ``x'' here",
                &["called", "`", "`", "x", "''", "here"],
            ),
            ("end.The next", &["end", ".", "The", "next"]),
            ("It's I'm we'll", &["It", "'s", "I", "'m", "we", "'ll"]),
            ("Mr. Smith cannot", &["Mr.", "Smith", "can", "not"]),
            ("a,b wait...what", &["a", ",", "b", "wait", "...", "what"]),
            ("give 'em nothin' :-)", &["give", "'em", "nothin'", ":-)"]),
            ("up by 80%. Then", &["up", "by", "80", "%", ".", "Then"]),
        ];
        for (text, expected) in cases {
            assert_eq!(words(text), *expected, "{text}");
        }
    }
}
