//! `text_hash(text)`: the 128-bit xxh3 hash of the text's UTF-8 bytes, as 16 bytes.

use xxhash_rust::xxh3::xxh3_128;

use super::kernels::map_strings_to_digest;

text_udf! {
    /// `text_hash(text)`: a compact, collision-resistant key for grouping identical texts
    /// (`FixedSizeBinary(16)`, the big-endian xxh3-128 of the UTF-8 bytes).
    TextHash, "text_hash",
    returns: super::digest16,
    invoke: |name, args| map_strings_to_digest(name, args, text_hash),
}

/// The xxh3-128 hash of `s`, big-endian.
pub fn text_hash(s: &str) -> [u8; 16] {
    xxh3_128(s.as_bytes()).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::{as_text, run_all_types};

    #[test]
    fn hashes_match_the_reference_xxh3_128() {
        let got = run_all_types(
            &TextHash::default(),
            &[Some(""), Some("abc"), Some("中文 😀"), None],
            as_text,
        );
        // xxh3-128 of "" and "abc" as published by the xxHash reference implementation.
        assert_eq!(got[0].as_deref(), Some("99aa06d3014798d86001c324468d497f"));
        assert_eq!(got[1].as_deref(), Some("06b05ab6733a618578af5f94892f3950"));
        assert_eq!(got[2].as_deref().map(str::len), Some(32));
        assert_eq!(got[3], None);
    }

    #[test]
    fn identical_texts_have_identical_hashes() {
        assert_eq!(text_hash("same"), text_hash("same"));
        assert_ne!(text_hash("same"), text_hash("same "));
    }
}
