//! One run of a `minhash` stage over its input: the row index, the passes over the bands
//! (signing, then clustering each band's buckets), and the report of what it found.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::prelude::SessionContext;

use super::budget::{self, Budget};
use super::clusters::{Clusters, Joiner, TextIndex, removed_bitmap};
use super::distributed;
use super::examples::{Examples, examples};
use super::params::MinhashParams;
use super::sign::{PassState, internal, sign_all, source_rows};
use crate::engine::SOURCE_ROW;
use crate::engine::udf::minhash::{Permutations, ShingleUnit};
use crate::model::near_dedup::{
    CurvePoint, NearDedupMemory, NearDedupReport, NearDedupSeconds, Shingle, VerifiedPairs,
};
use crate::stages::lsh::{self, BandTable, MemoryNeed, RankSet, UnionFind};
use crate::stages::stage::{StageError, StageInput};
use crate::util::resources;
use crate::util::units::{count, format_size};

/// One run of the stage over its input.
pub(super) struct Run<'a> {
    params: &'a MinhashParams,
    rows: usize,
    need: MemoryNeed,
    bands_per_pass: usize,
    passes: usize,
    budget: Budget,
    seconds: NearDedupSeconds,
    /// Executors sign and bucket the documents ([`super::distributed`]).
    distributed: bool,
    /// Resident memory at the start, and the highest seen since.
    rss: (Option<u64>, Option<u64>),
}

/// What a run decided.
pub(super) struct Outcome {
    /// Source rows to remove, as a bitmap over `__source_row`.
    pub(super) removed: BooleanBuffer,
    pub(super) report: NearDedupReport,
}

/// The documents by rank and what the passes build over them.
struct Index {
    /// The input's `__source_row` values, sorted: a document's rank is its position here.
    ranks: Arc<Vec<u64>>,
    /// Documents with nothing to shingle.
    empty: Arc<RankSet>,
    sets: UnionFind,
    /// With verification, the texts by rank (read in the first pass).
    texts: Option<TextIndex>,
    candidate_pairs: u64,
    verified: Option<VerifiedPairs>,
}

impl<'a> Run<'a> {
    /// Forecasts the memory for the input's rows and chooses the bands per pass, or refuses.
    pub(super) fn start(
        ctx: &SessionContext,
        params: &'a MinhashParams,
        input: &StageInput<'_>,
    ) -> Result<Self, StageError> {
        let pool = Arc::clone(&ctx.runtime_env().memory_pool);
        let budget::Plan {
            need,
            bands_per_pass,
        } = budget::plan(&pool, params, input)?;
        let passes = params.bands.div_ceil(bands_per_pass);
        input.progress.step(&format!(
            "  {} rows: forecast {} of memory, {bands_per_pass} of {} bands per pass ({passes} pass{})",
            count(input.stats.rows),
            format_size(need.with_bands(bands_per_pass)),
            params.bands,
            if passes == 1 { "" } else { "es" },
        ));
        Ok(Run {
            params,
            rows: input.stats.rows as usize,
            need,
            bands_per_pass,
            passes,
            budget: Budget::new(&pool, input.distributed),
            seconds: NearDedupSeconds::default(),
            distributed: input.distributed,
            rss: (None, None),
        })
    }

    /// Finds the near duplicates: the rows to remove and the report.
    pub(super) async fn execute(mut self, ctx: &SessionContext) -> Result<Outcome, StageError> {
        let rss_at_start = resources::current_rss();
        self.rss = (rss_at_start, rss_at_start);
        let mut index = self.index(ctx).await?;
        if self.distributed {
            self.on_executors(ctx, &mut index).await?;
        } else {
            let permutations = Arc::new(Permutations::new(
                self.params.permutations(),
                self.params.seed,
            ));
            for pass in 0..self.passes {
                let first = pass * self.bands_per_pass;
                let bands = first..(first + self.bands_per_pass).min(self.params.bands);
                self.pass(ctx, &mut index, &permutations, bands).await?;
            }
        }
        index.texts = None;

        let reporting = Instant::now();
        let clusters = Clusters::of(&mut index.sets, &mut self.budget)?;
        let removed = removed_bitmap(&index.ranks, &clusters.removed);
        let examples = examples(ctx, self.params, &index.ranks, &mut index.sets, &clusters).await?;
        self.seconds.report = reporting.elapsed().as_secs_f64();
        let report = self.report(&index, &clusters, examples);
        Ok(Outcome { removed, report })
    }

    /// Reads the input's source rows and sets up what the passes fill in.
    async fn index(&mut self, ctx: &SessionContext) -> Result<Index, StageError> {
        let n = self.rows;
        self.budget.grow(n * 8, "the row index")?;
        let ranks = Arc::new(source_rows(ctx).await?);
        if ranks.len() != n || ranks.windows(2).any(|w| w[0] == w[1]) {
            return Err(StageError::Refused(format!(
                "its input's {SOURCE_ROW} values are not one per row; a stage before it duplicated rows"
            )));
        }
        let empty = Arc::new(RankSet::new(n));
        self.budget.grow(empty.bytes(), "the empty-document set")?;
        let sets = UnionFind::new(n);
        self.budget.grow(sets.bytes(), "union-find")?;
        self.budget.grow(
            self.need.verify as usize,
            "the texts and text index for verification",
        )?;
        Ok(Index {
            ranks,
            empty,
            sets,
            texts: None,
            candidate_pairs: 0,
            verified: self.params.verify_threshold.map(|_| VerifiedPairs {
                checked: 0,
                rejected: 0,
            }),
        })
    }

    /// One pass: signs every document for `bands`, then joins the documents of each band's
    /// buckets, freeing each band table once it is done.
    async fn pass(
        &mut self,
        ctx: &SessionContext,
        index: &mut Index,
        permutations: &Arc<Permutations>,
        bands: Range<usize>,
    ) -> Result<(), StageError> {
        let params = self.params;
        let n = self.rows;
        let signing = Instant::now();
        self.budget
            .grow(n * BandTable::BYTES_PER_ROW * bands.len(), "band tables")?;
        let state = Arc::new(PassState {
            ranks: Arc::clone(&index.ranks),
            empty: Arc::clone(&index.empty),
            permutations: Arc::clone(permutations),
            shingles: params.shingles,
            rows_per_band: params.rows,
            bands: bands.clone(),
            tables: bands.map(|_| BandTable::new(n)).collect(),
        });
        let keep_texts = index.texts.is_none() && params.verify_threshold.is_some();
        let kept = sign_all(ctx, &params.column, &state, keep_texts).await?;
        if keep_texts {
            index.texts = Some(TextIndex::new(kept, n));
        }
        let tables = match Arc::try_unwrap(state) {
            Ok(state) => state.tables,
            Err(_) => return Err(internal("a signature task outlived its pass")),
        };
        self.seconds.signatures += signing.elapsed().as_secs_f64();
        self.rss.1 = self.rss.1.max(resources::current_rss());

        let clustering = Instant::now();
        for table in tables {
            let bytes = table.bytes();
            let mut join = Joiner::new(
                params,
                &mut index.sets,
                index.texts.as_ref(),
                index.verified.as_mut(),
            );
            let candidate_pairs = &mut index.candidate_pairs;
            table.buckets(&index.empty, |members| {
                let k = members.len() as u64;
                *candidate_pairs += k * (k - 1) / 2;
                join.bucket(members);
            });
            drop(join);
            self.budget.shrink(bytes);
        }
        self.seconds.clustering += clustering.elapsed().as_secs_f64();
        Ok(())
    }

    /// All bands in one plan run by the executors; only the buckets' members come back.
    async fn on_executors(
        &mut self,
        ctx: &SessionContext,
        index: &mut Index,
    ) -> Result<(), StageError> {
        let signing = Instant::now();
        let buckets = distributed::buckets(
            ctx,
            self.params,
            &index.ranks,
            &index.empty,
            &mut self.budget,
        )
        .await?;
        if self.params.verify_threshold.is_some() {
            let column = &self.params.column;
            let texts =
                distributed::texts(ctx, column, &index.ranks, &buckets, &mut self.budget).await?;
            index.texts = Some(texts);
        }
        self.seconds.signatures += signing.elapsed().as_secs_f64();
        self.rss.1 = self.rss.1.max(resources::current_rss());

        let clustering = Instant::now();
        let mut join = Joiner::new(
            self.params,
            &mut index.sets,
            index.texts.as_ref(),
            index.verified.as_mut(),
        );
        let candidate_pairs = &mut index.candidate_pairs;
        buckets.each(|members| {
            let k = members.len() as u64;
            *candidate_pairs += k * (k - 1) / 2;
            join.bucket(members);
        });
        self.seconds.clustering += clustering.elapsed().as_secs_f64();
        Ok(())
    }

    /// The stage's report.
    fn report(&self, index: &Index, clusters: &Clusters, examples: Examples) -> NearDedupReport {
        let params = self.params;
        let (rss_at_start, rss_peak) = self.rss;
        NearDedupReport {
            column: params.column.clone(),
            shingle: match params.shingles.unit {
                ShingleUnit::Auto => Shingle::Auto,
                ShingleUnit::Word => Shingle::Word,
                ShingleUnit::Char => Shingle::Char,
            },
            ngram: params.shingles.word_ngram,
            char_ngram: params.shingles.char_ngram,
            bands: params.bands,
            rows_per_band: params.rows,
            permutations: params.permutations(),
            seed: params.seed,
            threshold: lsh::threshold(params.bands, params.rows),
            s_curve: s_curve(params.bands, params.rows),
            verify_threshold: params.verify_threshold,
            memory: NearDedupMemory {
                forecast_bytes: self.need.with_bands(self.bands_per_pass),
                one_pass_bytes: self.need.with_bands(params.bands),
                peak_bytes: self.budget.peak as u64,
                rss_growth_bytes: rss_at_start
                    .zip(rss_peak)
                    .map(|(start, peak)| peak.saturating_sub(start)),
                bands_per_pass: self.bands_per_pass,
                passes: self.passes,
            },
            documents: self.rows as u64,
            empty_documents: index.empty.count() as u64,
            candidate_pairs: index.candidate_pairs,
            verified: index.verified,
            rows_removed: clusters.removed.len() as u64,
            clusters: clusters.sizes.len() as u64,
            documents_in_clusters: clusters
                .sizes
                .iter()
                .map(|&(size, _)| u64::from(size))
                .sum(),
            cluster_sizes: clusters.bins(),
            largest_clusters: examples.largest,
            similarity: examples.similarity,
            example_pairs: examples.pairs,
            seconds: self.seconds,
        }
    }
}

/// The chance of becoming a candidate at similarities 0.5, 0.55, …, 1.
fn s_curve(bands: usize, rows: usize) -> Vec<CurvePoint> {
    (10..=20)
        .map(|i| {
            let similarity = f64::from(i) / 20.0;
            CurvePoint {
                similarity,
                probability: lsh::candidate_probability(similarity, bands, rows),
            }
        })
        .collect()
}
