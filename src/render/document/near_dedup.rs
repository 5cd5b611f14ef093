//! The table rendering of a `minhash` stage's findings.

use super::doc::{Doc, Grid, right_align_numbers, table};
use crate::model::near_dedup::{NearDedupReport, Shingle};
use crate::util::units::{count, format_size, seconds};

/// The near-duplicate section of stage `name`.
pub(super) fn render(name: &str, nd: &NearDedupReport) -> Doc {
    let mut out = Doc::new();
    out.push_str(&format!(
        "Near duplicates (stage {name}): {} of {} rows removed, {} clusters holding {} documents\n",
        count(nd.rows_removed),
        count(nd.documents),
        count(nd.clusters),
        count(nd.documents_in_clusters),
    ));
    let shingles = match nd.shingle {
        Shingle::Word => format!("word {}-grams", nd.ngram),
        Shingle::Char => format!("character {}-grams", nd.char_ngram),
        Shingle::Auto => format!(
            "word {}-grams (character {}-grams for unspaced scripts)",
            nd.ngram, nd.char_ngram
        ),
    };
    out.push_str(&format!(
        "{shingles}, {} bands × {} rows, threshold {:.3}{}; {} candidate pairs; {} empty documents\n",
        nd.bands,
        nd.rows_per_band,
        nd.threshold,
        nd.verify_threshold
            .map_or_else(String::new, |t| format!(", verified at Jaccard ≥ {t:.3}")),
        count(nd.candidate_pairs),
        count(nd.empty_documents),
    ));
    let curve: Vec<String> = nd
        .s_curve
        .iter()
        .step_by(2)
        .map(|p| format!("{:.1}→{:.2}", p.similarity, p.probability))
        .collect();
    out.push_str(&format!(
        "S-curve (similarity→chance of becoming a candidate): {}\n",
        curve.join("  ")
    ));
    let m = &nd.memory;
    out.push_str(&format!(
        "memory: forecast {}, held {}{}, {} bands per pass in {} pass(es); signatures {} s, clustering {} s\n",
        format_size(m.forecast_bytes),
        format_size(m.peak_bytes),
        m.rss_growth_bytes
            .map_or_else(String::new, |g| format!(", resident memory grew {}", format_size(g))),
        m.bands_per_pass,
        m.passes,
        seconds(nd.seconds.signatures),
        seconds(nd.seconds.clustering),
    ));
    if let Some(s) = &nd.similarity {
        out.push_str(&format!(
            "exact similarity of {} sampled removed documents to the kept one: min {:.2}, p10 {:.2}, median {:.2}; {} below the threshold\n",
            s.pairs, s.min, s.p10, s.median, s.below_threshold
        ));
    }
    if nd.clusters > 0 {
        out.table(sizes_table(nd));
    }
    if !nd.example_pairs.is_empty() {
        out.heading("Example pairs");
        out.table(pairs_table(nd));
    }
    out.gap();
    out
}

/// Clusters and their documents by cluster size.
fn sizes_table(nd: &NearDedupReport) -> Grid {
    let mut sizes = table(&["cluster size", "clusters", "documents"]);
    for bin in nd.cluster_sizes.iter().filter(|b| b.clusters > 0) {
        let range = match bin.max_size {
            Some(max) if max == bin.min_size => count(max),
            Some(max) => format!("{}–{}", count(bin.min_size), count(max)),
            None => format!("{}+", count(bin.min_size)),
        };
        sizes.add_row(vec![range, count(bin.clusters), count(bin.documents)]);
    }
    right_align_numbers(&mut sizes, 0);
    sizes
}

/// Removed documents beside the ones their clusters kept.
fn pairs_table(nd: &NearDedupReport) -> Grid {
    let mut pairs = table(&[
        "similarity",
        "kept row",
        "kept text",
        "removed row",
        "removed text",
    ]);
    for p in &nd.example_pairs {
        pairs.add_row(vec![
            format!("{:.2}", p.similarity),
            p.kept_row.to_string(),
            short(&p.kept_text),
            p.removed_row.to_string(),
            short(&p.removed_text),
        ]);
    }
    pairs
}

/// The first 40 characters of a snippet.
fn short(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
