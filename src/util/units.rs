//! Numbers for people and for machines: sizes (`4GiB` in, `1.5 GiB` out), counts with
//! thousands separators, dollars, seconds, and ratios that do not divide by zero.

/// Parses a size such as `4GiB`, `512MB`, `1.5G` or `1048576` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let size: bytesize::ByteSize = text
        .trim()
        .parse()
        .map_err(|e| format!("'{text}' is not a size such as 4GiB, 512MB or 1048576 ({e})"))?;
    if size.as_u64() == 0 {
        return Err(format!("'{text}' is zero; give a size above zero"));
    }
    Ok(size.as_u64())
}

/// A byte count for people: `1.5 GiB`.
pub fn format_size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `-1234` as `-1,234`.
pub fn signed_count(n: i64) -> String {
    if n < 0 {
        format!("-{}", count(n.unsigned_abs()))
    } else {
        count(n as u64)
    }
}

/// Seconds with three significant digits, at most three decimals: `12.3`, `0.042`.
pub fn seconds(s: f64) -> String {
    match s {
        s if s >= 100.0 => format!("{s:.0}"),
        s if s >= 10.0 => format!("{s:.1}"),
        s if s >= 1.0 => format!("{s:.2}"),
        s => format!("{s:.3}"),
    }
}

/// Dollars: cents for amounts of a dollar or more, three significant digits below;
/// negative amounts with a leading minus.
pub fn usd(amount: f64) -> String {
    if amount < 0.0 {
        return format!("-{}", usd(-amount));
    }
    if amount >= 1.0 || amount == 0.0 {
        format!("${amount:.2}")
    } else {
        let decimals = (2 - amount.log10().floor() as i32).clamp(2, 12) as usize;
        format!("${amount:.decimals$}")
    }
}

/// `a / b`, or 0 when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(signed_count(-1234), "-1,234");
        assert_eq!(seconds(0.0421), "0.042");
        assert_eq!(seconds(4.256), "4.26");
        assert_eq!(seconds(123.4), "123");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.5), "$0.500");
        assert_eq!(usd(0.0000438), "$0.0000438");
        assert_eq!(usd(-0.5), "-$0.500");
        assert_eq!(ratio(1.0, 0.0), 0.0);
    }

    #[test]
    fn sizes_parse_in_common_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size(" 2 KiB "), Ok(2048));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1GB").is_err());
        assert_eq!(format_size(1536), "1.5 KiB");
    }

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// Any text is a size above zero or a message saying what a size is.
        #[test]
        fn any_text_is_a_size_or_says_why(
            text in proptest::prop_oneof![
                proptest::arbitrary::any::<String>(),
                "[ +-]?[0-9]{0,25}(\\.[0-9]{0,5})?[eE]?[0-9]{0,3} ?(B|k|K|KB|KiB|M|MiB|G|GB|GiB|T|TiB|P|PiB|E|EiB|Z|x)?",
            ]
        ) {
            match parse_size(&text) {
                Ok(bytes) => proptest::prop_assert!(bytes > 0),
                Err(message) => proptest::prop_assert!(message.contains(&text)),
            }
        }
    }
}
