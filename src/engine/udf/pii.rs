//! Personal data in text: e-mail addresses and public IPv4 addresses as datatrove's
//! PIIFormatter finds them (its patterns; an IPv4 address counts when Python's `is_global`
//! says so), public IPv6 addresses (global unicast, 2000::/3, outside the documentation and
//! protocol ranges) and phone numbers (North American, or international with a `+`, 10–15
//! digits). Addresses at reserved domains (RFC 2606: example.com/.net/.org, .example, .test,
//! .invalid, .localhost) and the fictional numbers NXX-555-01XX are not personal data.
//! `pii_count(text)` counts them by kind; `pii_redact(text [, email [, ip [, phone]]])`
//! replaces them with values that are none of these — reserved e-mail domains, the IPv4 and
//! IPv6 documentation ranges, fictional phone numbers — unless given its own, and tallies
//! what it replaced for the stage's report. Redacted text counts as clean:
//! `pii_count(pii_redact(x))` is zero for every kind (a replacement glued to the digits
//! beside it can form a new address: redaction repeats until none is left).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Int64Builder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

use super::kernels::{for_each_text, map_strings, shape_like_input, single_argument};

/// The kinds of personal data found, in the order they are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKind {
    Email,
    Ipv4,
    Ipv6,
    Phone,
}

impl PiiKind {
    pub const ALL: [PiiKind; 4] = [Self::Email, Self::Ipv4, Self::Ipv6, Self::Phone];

    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Phone => "phone",
        }
    }

    fn pattern(self) -> &'static Regex {
        static PATTERNS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
            [EMAIL, IPV4, IPV6, PHONE].map(|p| Regex::new(p).expect("a valid fixed pattern"))
        });
        &PATTERNS[self as usize]
    }

    /// Whether a match of the pattern is the real thing.
    fn accepts(self, text: &str, start: usize, found: &str) -> bool {
        match self {
            Self::Email => !is_reserved_domain(found.rsplit('@').next().unwrap_or("")),
            Self::Ipv4 => found.parse::<Ipv4Addr>().is_ok_and(is_global_v4),
            Self::Ipv6 => {
                stands_alone(text, start, found, ':')
                    && found.parse::<Ipv6Addr>().is_ok_and(is_global_v6)
            }
            Self::Phone => {
                let digits = found.chars().filter(char::is_ascii_digit).count();
                stands_alone(text, start, found, '+')
                    && (10..=15).contains(&digits)
                    && !is_fictional_phone(found)
            }
        }
    }
}

/// datatrove's e-mail pattern.
const EMAIL: &str = r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)\])";
/// datatrove's IPv4 pattern.
const IPV4: &str =
    r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)";
/// Candidates for IPv6 addresses: hexadecimal groups with at least two colons (checked by
/// parsing).
const IPV6: &str = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}";
/// North American numbers (area and exchange codes starting 2–9) and international numbers
/// with a country code.
const PHONE: &str = r"(?:\+1[ .-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}|\+[1-9][0-9]{0,2}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){1,4}";

/// RFC 2606's reserved names: example.com, .net and .org (and names below them), and the
/// top-level domains .example, .test, .invalid and .localhost.
fn is_reserved_domain(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    let domain = domain.trim_end_matches('.');
    let below = |name: &str| domain == name || domain.ends_with(&format!(".{name}"));
    ["example.com", "example.net", "example.org"]
        .into_iter()
        .chain(["example", "test", "invalid", "localhost"])
        .any(below)
}

/// The numbers reserved for fiction: 555-0100 to 555-0199 after any North American area
/// code (its last seven digits 55501XX).
fn is_fictional_phone(found: &str) -> bool {
    let digits: Vec<u8> = found.bytes().filter(u8::is_ascii_digit).collect();
    digits.len() >= 7 && digits[digits.len() - 7..digits.len() - 2] == *b"55501"
}

/// Whether the match is not part of a longer word or number.
fn stands_alone(text: &str, start: usize, found: &str, joiner: char) -> bool {
    let glued = |c: char| c.is_alphanumeric() || c == joiner || c == '_';
    let before = text[..start].chars().next_back();
    let after = text[start + found.len()..].chars().next();
    !before.is_some_and(glued) && !after.is_some_and(glued)
}

/// Python's `IPv4Address.is_global` (3.11): outside the private, reserved and shared ranges.
fn is_global_v4(ip: Ipv4Addr) -> bool {
    const NOT_GLOBAL: [([u8; 4], u32); 15] = [
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 29),
        ([192, 0, 0, 170], 31),
        ([192, 0, 2, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([240, 0, 0, 0], 4),
        ([255, 255, 255, 255], 32),
    ];
    let ip = u32::from(ip);
    !NOT_GLOBAL.iter().any(|&(net, prefix)| {
        let mask = u32::MAX << (32 - prefix);
        ip & mask == u32::from_be_bytes(net)
    })
}

/// A global unicast IPv6 address (2000::/3) outside 2001::/23 (protocol assignments,
/// including 2001:db8::/32 for documentation).
fn is_global_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    s[0] & 0xE000 == 0x2000
        && !(s[0] == 0x2001 && s[1] < 0x0200)
        && !(s[0] == 0x2001 && s[1] == 0x0db8)
}

/// The personal data of `text`, by kind, in the order of [`PiiKind::ALL`]: what redacting it
/// with the default replacements replaces (later kinds are looked for after the earlier ones
/// are replaced, and a replacement decides whether what follows it stands alone).
pub fn count(text: &str) -> [u64; 4] {
    static DEFAULTS: LazyLock<Replacements> = LazyLock::new(Replacements::default);
    DEFAULTS.redact_once(text, &mut String::new())
}

/// Replaces every accepted match of `kind`, cycling through `replacements`.
fn replace(text: &str, kind: PiiKind, replacements: &[&str]) -> (String, u64) {
    let mut out = String::new();
    let mut last = 0;
    let mut n = 0;
    for found in kind.pattern().find_iter(text) {
        if !kind.accepts(text, found.start(), found.as_str()) {
            continue;
        }
        out.push_str(&text[last..found.start()]);
        out.push_str(replacements[n as usize % replacements.len()]);
        last = found.end();
        n += 1;
    }
    if n > 0 {
        out.push_str(&text[last..]);
    }
    (out, n)
}

/// The replacements for each kind, none of them personal data by [`count`]: datatrove's
/// e-mail addresses (at reserved domains), the IPv4 and IPv6 documentation ranges (RFC 5737,
/// RFC 3849) and a fictional phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Replacements {
    by_kind: [Vec<String>; 4],
}

impl Default for Replacements {
    fn default() -> Self {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Self {
            by_kind: [
                own(&["email@example.com", "firstname.lastname@example.org"]),
                own(&["192.0.2.1", "198.51.100.1", "203.0.113.1"]),
                own(&["2001:db8::1"]),
                own(&["555-0100"]),
            ],
        }
    }
}

impl Replacements {
    /// The defaults with the call's literal arguments (e-mail, IP, phone) in their place.
    fn from_literals(literals: &[Option<&ScalarValue>]) -> Result<Self> {
        let mut replacements = Self::default();
        let slots: [&[usize]; 3] = [&[0], &[1, 2], &[3]];
        for (literal, kinds) in literals.iter().zip(slots) {
            let Some(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
            ) = literal
            else {
                return plan_err!(
                    "pii_redact: its replacements (e-mail, IP, phone) must be string literals"
                );
            };
            for &kind in kinds {
                replacements.by_kind[kind] = vec![s.clone()];
            }
        }
        Ok(replacements)
    }

    /// `text` with its personal data replaced, and what was replaced, by kind. A replacement
    /// can join the characters beside it into a new match (`2` and `58.8.8.8` redacted give
    /// `2192.0.2.1`, in which `219.0.2.1` is public): such matches are replaced too, pass
    /// after pass, but counted only when they were in `text`.
    pub fn redact(&self, text: &str, out: &mut String) -> [u64; 4] {
        let counts = self.redact_once(text, out);
        if counts == [0; 4] {
            return counts;
        }
        // A pass that finds nothing leaves the text clean. Each further pass consumes
        // characters of the text beside a replacement; the bound is a guard, not a limit
        // ever reached.
        for _ in 0..64 {
            let again = std::mem::take(out);
            if self.redact_once(&again, out) == [0; 4] {
                break;
            }
        }
        counts
    }

    /// One pass of [`Self::redact`].
    fn redact_once(&self, text: &str, out: &mut String) -> [u64; 4] {
        let mut counts = [0; 4];
        out.clear();
        out.push_str(text);
        for kind in PiiKind::ALL {
            let replacements: Vec<&str> = self.by_kind[kind as usize]
                .iter()
                .map(String::as_str)
                .collect();
            let (replaced, n) = replace(out, kind, &replacements);
            if n > 0 {
                *out = replaced;
                counts[kind as usize] = n;
            }
        }
        counts
    }
}

/// What `pii_redact` replaced in a session, by kind; read by the pipeline around each stage.
#[derive(Debug, Default)]
pub struct PiiTally {
    counts: [AtomicU64; 4],
}

impl PiiTally {
    fn add(&self, counts: [u64; 4]) {
        for (total, n) in self.counts.iter().zip(counts) {
            if n > 0 {
                total.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// The totals so far, by kind.
    pub fn totals(&self) -> [u64; 4] {
        std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed))
    }
}

fn count_fields() -> Fields {
    PiiKind::ALL
        .iter()
        .map(|k| Field::new(k.name(), DataType::Int64, true))
        .collect()
}

/// `pii_count(text)`: `{email, ipv4, ipv6, phone}`, how many of each the text holds.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PiiCount {
    signature: Signature,
}

impl Default for PiiCount {
    fn default() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PiiCount {
    fn name(&self) -> &str {
        "pii_count"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(count_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (array, scalar) = single_argument("pii_count", &args.args)?;
        let mut columns: [Int64Builder; 4] = std::array::from_fn(|_| Int64Builder::new());
        let mut valid = Vec::with_capacity(array.len());
        for_each_text(&array, "pii_count", |text| {
            valid.push(text.is_some());
            let counts = text.map(count).unwrap_or_default();
            for (column, n) in columns.iter_mut().zip(counts) {
                column.append_option(text.map(|_| n as i64));
            }
        })?;
        let columns: Vec<ArrayRef> = columns
            .iter_mut()
            .map(|c| Arc::new(c.finish()) as ArrayRef)
            .collect();
        let out = StructArray::try_new(count_fields(), columns, Some(NullBuffer::from(valid)))?;
        shape_like_input(Arc::new(out), scalar)
    }
}

/// `pii_redact(text [, email [, ip [, phone]]])`: the text with its personal data replaced.
#[derive(Debug)]
pub struct PiiRedact {
    signature: Signature,
    tally: Arc<PiiTally>,
}

impl PiiRedact {
    /// A `pii_redact` that adds what it replaces to `tally`.
    pub fn tallying(tally: Arc<PiiTally>) -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
            tally,
        }
    }
}

impl Default for PiiRedact {
    fn default() -> Self {
        Self::tallying(Arc::default())
    }
}

impl PartialEq for PiiRedact {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.tally, &other.tally)
    }
}

impl Eq for PiiRedact {}

impl std::hash::Hash for PiiRedact {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "pii_redact".hash(state);
    }
}

impl ScalarUDFImpl for PiiRedact {
    fn name(&self) -> &str {
        "pii_redact"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(t @ (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)) => Ok(t.clone()),
            Some(DataType::Null) => Ok(DataType::Utf8),
            Some(other) => plan_err!("pii_redact expects a string, got {other}"),
            None => plan_err!("pii_redact takes a text and up to three replacements"),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.len() > 4 {
            return plan_err!("pii_redact takes a text and up to three replacements");
        }
        Replacements::from_literals(args.scalar_arguments.get(1..).unwrap_or_default())?;
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        Ok(Field::new("pii_redact", self.return_type(&types)?, true).into())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let literals: Vec<Option<&ScalarValue>> = args.args[1..]
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => Some(s),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let replacements = Replacements::from_literals(&literals)?;
        let totals = std::cell::Cell::new([0u64; 4]);
        let out = map_strings("pii_redact", &args.args[..1], |s, out| {
            let counts = replacements.redact(s, out);
            totals.set(std::array::from_fn(|i| totals.get()[i] + counts[i]));
            counts.iter().any(|&n| n > 0)
        });
        self.tally.add(totals.get());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> (String, [u64; 4]) {
        let mut out = String::new();
        let counts = Replacements::default().redact(text, &mut out);
        (out, counts)
    }

    #[test]
    fn emails_and_public_ipv4_as_datatrove_replaces_them() {
        let (out, counts) = redacted("Write to jane.doe@mail.ex.net or bob@x.io from 8.8.8.8.");
        assert_eq!(
            out,
            "Write to email@example.com or firstname.lastname@example.org from 192.0.2.1."
        );
        assert_eq!(counts, [2, 1, 0, 0]);
        // Reserved domains are not anyone's address.
        for kept in [
            "a@example.com",
            "b@mail.example.org",
            "c@host.test",
            "d@x.invalid",
        ] {
            assert_eq!(redacted(kept).1, [0; 4], "{kept}");
        }
        // Private, reserved and leading-zero addresses stay.
        for kept in [
            "10.0.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "100.64.0.1",
            "198.18.0.1",
            "01.2.3.4",
        ] {
            assert_eq!(redacted(kept).1, [0; 4], "{kept}");
        }
        for public in ["172.32.0.1", "192.0.0.9", "224.0.0.1"] {
            assert_eq!(redacted(public).1, [0, 1, 0, 0], "{public}");
        }
    }

    #[test]
    fn public_ipv6_and_phone_numbers() {
        assert_eq!(
            redacted("host 2a00:1450:4001:81b::200e up").0,
            "host 2001:db8::1 up"
        );
        for kept in ["::1", "fe80::1", "2001:db8::5", "12:30:45", "dead::beef"] {
            assert_eq!(redacted(kept).1, [0; 4], "{kept}");
        }
        let (out, counts) = redacted("Call (415) 555-2671 or +44 20 7946 0958 now.");
        assert_eq!(out, "Call 555-0100 or 555-0100 now.");
        assert_eq!(counts, [0, 0, 0, 2]);
        for kept in [
            "2019 2020 2021",
            "10.000.000",
            "123-45-6789",
            "ISBN 978-3-16-148410-0",
        ] {
            assert_eq!(redacted(kept).1, [0; 4], "{kept}");
        }
    }

    /// The defaults are no one's by themselves, so one pass over text whose personal data
    /// stands apart leaves it clean (the passes after the first only undo gluing).
    #[test]
    fn every_default_replacement_is_no_ones() {
        let defaults = Replacements::default();
        for (kind, values) in PiiKind::ALL.iter().zip(&defaults.by_kind) {
            for value in values {
                assert_eq!(count(value), [0; 4], "{}: {value}", kind.name());
            }
        }
        let text = "a@b.io 8.8.8.8 1.1.1.1 9.9.9.9 2a00:1450::1 (415) 555-2671 c@d.io";
        let mut once = String::new();
        assert_eq!(defaults.redact_once(text, &mut once), [2, 3, 1, 1]);
        assert_eq!(count(&once), [0; 4], "{once}");
    }

    #[test]
    fn replacements_glued_to_digits_are_redacted_again() {
        // `2` + `192.0.2.1` holds the public 219.0.2.1; `+1 800 ` + `555-0100` is fictional.
        for text in ["258.8.8.8", "+1 800 (415) 555-2671", "1.2.3.4.8.8.8.8"] {
            let (out, counts) = redacted(text);
            assert_eq!(count(&out), [0; 4], "{text} → {out}");
            assert_eq!(counts, count(text), "{text}");
        }
    }

    #[test]
    fn counting_agrees_with_redacting() {
        let text = "a@b.co 8.8.8.8 (212) 555-2671 2a00:1450::1";
        assert_eq!(count(text), redacted(text).1);
        assert_eq!(count(text), [1, 1, 1, 1]);
    }

    /// Pieces texts are made of: personal data of every kind, the replacements themselves,
    /// and the digits, dots, signs and letters that can glue onto them.
    fn piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            prop::sample::select(vec![
                "jane.doe@mail.ex.net",
                "bob@x.io",
                "a@[8.8.8.8]",
                "email@example.com",
                "8.8.8.8",
                "58.8.8.8",
                "192.0.2.1",
                "1.2.3.4",
                "10.0.0.1",
                "2a00:1450:4001:81b::200e",
                "2001:db8::1",
                "(415) 555-2671",
                "+44 20 7946 0958",
                "555-0100",
                "+1 ",
                "800 ",
                "212-",
                "+49 (30) ",
            ])
            .prop_map(String::from),
            "[0-9]{1,4}",
            "[ .:@+()-]{1,2}",
            "[a-z]{1,5}",
            any::<char>().prop_map(String::from),
        ]
    }

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// Redacted text is clean: `pii_count(pii_redact(x))` is zero for every kind, and
        /// what redacting counts is what counting finds.
        #[test]
        fn redacted_text_holds_no_personal_data(
            pieces in proptest::collection::vec(piece(), 0..12)
        ) {
            let text = pieces.concat();
            let (out, counts) = redacted(&text);
            proptest::prop_assert_eq!(count(&out), [0; 4], "{:?} → {:?}", text, out);
            proptest::prop_assert_eq!(counts, count(&text));
        }
    }
}
