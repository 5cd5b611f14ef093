//! MinHash signatures: the hash functions, the minimum of each over a document's shingles,
//! the bucket key of each band, and the exact similarity the signatures estimate.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The most permutations (bands × rows) a stage may ask for.
pub const MAX_PERMUTATIONS: usize = 1024;

/// The most rows (permutations) per band.
pub const MAX_ROWS_PER_BAND: usize = 64;

/// The hash functions of a MinHash signature: `h_i(x) = a_i·x + b_i (mod 2^64)` with `a_i` odd,
/// applied to 64-bit shingle hashes.
#[derive(Debug, Clone)]
pub struct Permutations {
    a: Vec<u64>,
    b: Vec<u64>,
}

impl Permutations {
    /// `count` hash functions drawn from `seed` (SplitMix64, stable across versions).
    pub fn new(count: usize, seed: u64) -> Self {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let (mut a, mut b) = (Vec::with_capacity(count), Vec::with_capacity(count));
        for _ in 0..count {
            a.push(next() | 1);
            b.push(next());
        }
        Self { a, b }
    }

    /// The minimum of each hash function in `range` over `shingles` (not empty), into `out`.
    pub fn signature(&self, shingles: &[u64], range: std::ops::Range<usize>, out: &mut [u64]) {
        let (a, b) = (&self.a[range.clone()], &self.b[range]);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512dq") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { signature_avx512(shingles, a, b, out) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { signature_avx2(shingles, a, b, out) };
            }
        }
        signature_portable(shingles, a, b, out)
    }
}

#[inline(always)]
fn signature_portable(shingles: &[u64], a: &[u64], b: &[u64], out: &mut [u64]) {
    out.fill(u64::MAX);
    for &x in shingles {
        for ((min, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *min = (*min).min(a.wrapping_mul(x).wrapping_add(b));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn signature_avx512(shingles: &[u64], a: &[u64], b: &[u64], out: &mut [u64]) {
    signature_portable(shingles, a, b, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn signature_avx2(shingles: &[u64], a: &[u64], b: &[u64], out: &mut [u64]) {
    signature_portable(shingles, a, b, out)
}

/// The bucket key of one band of a signature.
pub fn band_hash(band: &[u64], band_index: usize) -> u64 {
    let mut bytes = [0u8; 8 * MAX_ROWS_PER_BAND];
    for (chunk, value) in bytes.chunks_exact_mut(8).zip(band) {
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    xxh3_64_with_seed(&bytes[..8 * band.len()], band_index as u64)
}

/// The exact Jaccard similarity of two sorted, distinct hash sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn signatures_estimate_jaccard_similarity() {
        let perms = Permutations::new(256, 1);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut errors = Vec::new();
        for shared in [10usize, 50, 100, 150, 190] {
            let common: Vec<u64> = (0..shared).map(|_| rng.random()).collect();
            let mut a = common.clone();
            let mut b = common;
            a.extend((0..200 - shared).map(|_| rng.random::<u64>()));
            b.extend((0..200 - shared).map(|_| rng.random::<u64>()));
            let (mut sa, mut sb) = (vec![0; 256], vec![0; 256]);
            perms.signature(&a, 0..256, &mut sa);
            perms.signature(&b, 0..256, &mut sb);
            let estimate = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
            a.sort_unstable();
            b.sort_unstable();
            let exact = jaccard(&a, &b);
            errors.push(estimate - exact);
            // Standard error at 256 permutations is at most 0.031.
            assert!((estimate - exact).abs() < 0.11, "{estimate} vs {exact}");
        }
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        assert!(mean.abs() < 0.05, "biased: {errors:?}");
    }

    #[test]
    fn every_code_path_computes_the_same_signature() {
        let perms = Permutations::new(112, 9);
        let shingles: Vec<u64> = (0..1000u64).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        let mut fast = vec![0; 40];
        let mut portable = vec![0; 40];
        perms.signature(&shingles, 30..70, &mut fast);
        signature_portable(&shingles, &perms.a[30..70], &perms.b[30..70], &mut portable);
        assert_eq!(fast, portable);
    }

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }
}
