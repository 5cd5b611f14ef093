//! The report's examples: the exact similarity of a sample of removed documents to the ones
//! their clusters kept, example pairs spread over that sample, and the largest clusters.

use std::collections::HashMap;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::clusters::Clusters;
use super::params::MinhashParams;
use super::sign::{documents, string_values};
use crate::engine::udf::minhash::{ShingleSpec, Shingler, jaccard};
use crate::model::near_dedup::{Cluster, Pair, SimilaritySample};
use crate::stages::lsh::{self, UnionFind};
use crate::stages::stage::StageError;
use crate::util::percentile::nearest_rank;

/// Removed documents whose similarity to their kept document is measured for the report.
const SAMPLED_PAIRS: usize = 200;
/// Example pairs shown, spread over the sample's similarities.
const EXAMPLE_PAIRS: usize = 5;
const LARGEST_CLUSTERS: usize = 5;
/// Characters of a text shown in the report.
const SNIPPET_CHARS: usize = 160;

/// The report's examples.
pub(super) struct Examples {
    pub(super) largest: Vec<Cluster>,
    pub(super) similarity: Option<SimilaritySample>,
    pub(super) pairs: Vec<Pair>,
}

/// A fetched document: its shingles and the start of its text.
#[derive(Debug, Clone, Default)]
struct Fetched {
    shingles: Vec<u64>,
    snippet: String,
}

/// Measures a sample of removed documents against the ones their clusters kept, and fetches
/// the texts the report shows. `ranks` are the input's source rows by rank.
pub(super) async fn examples(
    ctx: &SessionContext,
    params: &MinhashParams,
    ranks: &[u64],
    sets: &mut UnionFind,
    clusters: &Clusters,
) -> Result<Examples, StageError> {
    let removed = &clusters.removed;
    let sampled: Vec<(u32, u32)> = (0..removed.len().min(SAMPLED_PAIRS))
        .map(|i| {
            let doc = removed[i * removed.len() / removed.len().min(SAMPLED_PAIRS)];
            (sets.find(doc), doc)
        })
        .collect();
    let mut largest = clusters.sizes.clone();
    largest.sort_unstable_by_key(|&(size, root)| (std::cmp::Reverse(size), root));
    largest.truncate(LARGEST_CLUSTERS);

    let mut wanted: HashMap<u64, Option<Fetched>> = HashMap::new();
    let ranks_wanted = sampled
        .iter()
        .flat_map(|&(kept, doc)| [kept, doc])
        .chain(largest.iter().map(|&(_, root)| root));
    for rank in ranks_wanted {
        wanted.insert(ranks[rank as usize], None);
    }
    fetch(ctx, &params.column, params.shingles, &mut wanted).await?;
    let text = |rank: u32| -> Fetched {
        wanted
            .get(&ranks[rank as usize])
            .and_then(Option::clone)
            .unwrap_or_default()
    };

    let mut pairs: Vec<Pair> = sampled
        .iter()
        .map(|&(kept, doc)| {
            let (a, b) = (text(kept), text(doc));
            Pair {
                similarity: jaccard(&a.shingles, &b.shingles),
                kept_row: ranks[kept as usize],
                removed_row: ranks[doc as usize],
                kept_text: a.snippet,
                removed_text: b.snippet,
            }
        })
        .collect();
    pairs.sort_by(|a, b| {
        a.similarity
            .total_cmp(&b.similarity)
            .then(a.removed_row.cmp(&b.removed_row))
    });
    Ok(Examples {
        largest: largest
            .into_iter()
            .map(|(size, root)| Cluster {
                size: u64::from(size),
                kept_row: ranks[root as usize],
                kept_text: text(root).snippet,
            })
            .collect(),
        similarity: similarity_sample(&pairs, lsh::threshold(params.bands, params.rows)),
        pairs: spread_over(&pairs),
    })
}

/// The similarities of `pairs`, which are in increasing order of similarity.
fn similarity_sample(pairs: &[Pair], threshold: f64) -> Option<SimilaritySample> {
    let similarities: Vec<f64> = pairs.iter().map(|p| p.similarity).collect();
    (!pairs.is_empty()).then(|| SimilaritySample {
        pairs: pairs.len() as u64,
        min: similarities[0],
        p10: nearest_rank(&similarities, 0.1).unwrap_or(0.0),
        median: nearest_rank(&similarities, 0.5).unwrap_or(0.0),
        below_threshold: similarities.iter().filter(|&&s| s < threshold).count() as u64,
    })
}

/// [`EXAMPLE_PAIRS`] of `pairs`, evenly spread from the first to the last.
fn spread_over(pairs: &[Pair]) -> Vec<Pair> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut picks: Vec<usize> = (0..EXAMPLE_PAIRS)
        .map(|i| i * (pairs.len() - 1) / (EXAMPLE_PAIRS - 1))
        .collect();
    picks.dedup();
    picks.into_iter().map(|i| pairs[i].clone()).collect()
}

/// Reads the documents whose source rows are keys of `wanted`: their shingles and snippets.
async fn fetch(
    ctx: &SessionContext,
    column: &str,
    spec: ShingleSpec,
    wanted: &mut HashMap<u64, Option<Fetched>>,
) -> Result<(), StageError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let rows: Vec<u64> = wanted.keys().copied().collect();
    let mut stream = documents(ctx, column, &rows).await?;
    let mut shingler = Shingler::new(spec);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let source_rows = batch.column(0).as_primitive::<UInt64Type>();
        for (row, text) in string_values(batch.column(1).as_ref())?.enumerate() {
            if let Some(slot) = wanted.get_mut(&source_rows.value(row)) {
                let text = text.unwrap_or_default();
                let mut shingles = Vec::new();
                shingler.set(text, &mut shingles);
                *slot = Some(Fetched {
                    shingles,
                    snippet: snippet(text),
                });
            }
        }
    }
    Ok(())
}

/// The start of `text` on one line.
fn snippet(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= SNIPPET_CHARS {
            break;
        }
    }
    match out.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_one_line_and_short() {
        assert_eq!(snippet("a\n\n b\tc"), "a b c");
        let long = "word ".repeat(100);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
    }
}
