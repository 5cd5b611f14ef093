//! The `minhash` stage: near-duplicate removal with MinHash LSH. Documents are cut into
//! shingles, signed with `bands × rows` hash functions on all cores, grouped by band, and
//! joined into clusters with union-find; each cluster keeps its first document in source
//! order. The memory it needs is forecast from the input's row count before anything is
//! allocated: bands are processed in passes when they do not fit at once, and the stage
//! refuses, naming what would fit, when not even one band does.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder, RecordBatch,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryReservation};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{SessionContext, col};
use futures::StreamExt;

use super::lsh::{
    self, BandTable, MAX_PERMUTATIONS, MAX_ROWS_PER_BAND, MemoryNeed, Permutations, RankSet,
    UnionFind,
};
use super::shingles::{ShingleSpec, ShingleUnit, Shingler};
use super::{Planned, SOURCE_ROW, Stage, StageError, StageInput};
use crate::config::ParamValue;
use crate::memory::format_size;
use crate::pipeline::INPUT_TABLE;
use crate::report::near_dedup::{
    Cluster, CurvePoint, NearDedupMemory, NearDedupReport, NearDedupSeconds, Pair,
    SimilaritySample, SizeBin, VerifiedPairs,
};
use crate::report::{count, nearest_rank};
use crate::resources;
use crate::tokenizer::is_text;

/// The parameters a `minhash` stage takes, with their defaults.
pub const PARAMS: [(&str, &str); 10] = [
    ("column", "the source's text column"),
    ("shingle", "\"auto\""),
    ("ngram", "5"),
    ("char_ngram", "5"),
    ("bands", "14"),
    ("rows", "8"),
    ("seed", "42"),
    ("verify", "false"),
    ("verify_threshold", "the LSH threshold"),
    ("bands_per_pass", "as many as the memory limit allows"),
];

/// Removed documents whose similarity to their kept document is measured for the report.
const SAMPLED_PAIRS: usize = 200;
/// Example pairs shown, spread over the sample's similarities.
const EXAMPLE_PAIRS: usize = 5;
const LARGEST_CLUSTERS: usize = 5;
/// Characters of a text shown in the report.
const SNIPPET_CHARS: usize = 160;
/// With `verify`, the most earlier bucket members one document is compared with.
const MAX_CHECKS_PER_DOCUMENT: usize = 64;

/// A `minhash` stage's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MinhashParams {
    pub column: String,
    pub shingles: ShingleSpec,
    pub bands: usize,
    pub rows: usize,
    pub seed: u64,
    pub verify_threshold: Option<f64>,
    pub bands_per_pass: Option<usize>,
}

impl MinhashParams {
    /// Validates a stage's parameters; `text_column` is the default column.
    pub fn parse(params: &BTreeMap<String, ParamValue>, text_column: &str) -> Result<Self, String> {
        for key in params.keys() {
            if !PARAMS.iter().any(|(name, _)| name == key) {
                let known: Vec<&str> = PARAMS.iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "unknown parameter '{key}' (a minhash stage takes: {})",
                    known.join(", ")
                ));
            }
        }
        let int = |name: &str, default: usize, max: usize| -> Result<usize, String> {
            match params.get(name) {
                None => Ok(default),
                Some(ParamValue::Int(v)) if *v >= 1 && (*v as u64) <= max as u64 => Ok(*v as usize),
                Some(ParamValue::Int(v)) => Err(format!(
                    "parameter '{name}' is {v}; it must be between 1 and {max}"
                )),
                Some(other) => Err(format!(
                    "parameter '{name}' is {}; it must be an integer",
                    other.kind()
                )),
            }
        };
        let string = |name: &str| -> Result<Option<&str>, String> {
            match params.get(name) {
                None => Ok(None),
                Some(ParamValue::Str(s)) => Ok(Some(s)),
                Some(other) => Err(format!(
                    "parameter '{name}' is {}; it must be a string",
                    other.kind()
                )),
            }
        };
        let bands = int("bands", 14, MAX_PERMUTATIONS)?;
        let rows = int("rows", 8, MAX_ROWS_PER_BAND)?;
        if bands * rows > MAX_PERMUTATIONS {
            return Err(format!(
                "bands × rows is {bands} × {rows} = {} hash functions; at most {MAX_PERMUTATIONS} are allowed",
                bands * rows
            ));
        }
        let seed = match params.get("seed") {
            None => 42,
            Some(ParamValue::Int(v)) if *v >= 0 => *v as u64,
            Some(other) => {
                return Err(format!(
                    "parameter 'seed' is {other}; it must be an integer of 0 or more"
                ));
            }
        };
        let verify = match params.get("verify") {
            None => false,
            Some(ParamValue::Bool(b)) => *b,
            Some(other) => {
                return Err(format!(
                    "parameter 'verify' is {}; it must be true or false",
                    other.kind()
                ));
            }
        };
        let verify_threshold = match params.get("verify_threshold") {
            None => None,
            Some(_) if !verify => {
                return Err("parameter 'verify_threshold' needs verify = true".to_string());
            }
            Some(ParamValue::Float(t)) if *t > 0.0 && *t <= 1.0 => Some(*t),
            Some(ParamValue::Int(1)) => Some(1.0),
            Some(other) => {
                return Err(format!(
                    "parameter 'verify_threshold' is {other}; it must be a similarity above 0 and at most 1"
                ));
            }
        };
        let bands_per_pass = match params.get("bands_per_pass") {
            None => None,
            Some(_) => Some(int("bands_per_pass", bands, bands)?),
        };
        let column = string("column")?.unwrap_or(text_column).to_string();
        if column.is_empty() {
            return Err("parameter 'column' cannot be empty".to_string());
        }
        Ok(MinhashParams {
            column,
            shingles: ShingleSpec {
                unit: string("shingle")?
                    .unwrap_or("auto")
                    .parse::<ShingleUnit>()
                    .map_err(|e| format!("parameter 'shingle': {e}"))?,
                word_ngram: int("ngram", 5, 1000)?,
                char_ngram: int("char_ngram", 5, 1000)?,
                seed,
            },
            bands,
            rows,
            seed,
            verify_threshold: verify_threshold
                .or_else(|| verify.then(|| lsh::threshold(bands, rows))),
            bands_per_pass,
        })
    }

    pub fn permutations(&self) -> usize {
        self.bands * self.rows
    }
}

/// The `minhash` stage.
#[derive(Debug)]
pub struct MinhashStage {
    name: String,
    params: MinhashParams,
}

impl MinhashStage {
    pub fn new(name: impl Into<String>, params: MinhashParams) -> Self {
        Self {
            name: name.into(),
            params,
        }
    }
}

#[async_trait]
impl Stage for MinhashStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn origin(&self) -> String {
        "kind minhash".to_string()
    }

    async fn plan(
        &self,
        ctx: &SessionContext,
        input: &StageInput<'_>,
    ) -> Result<Planned, StageError> {
        let table = ctx.table(INPUT_TABLE).await?;
        let column = &self.params.column;
        match table.schema().as_arrow().field_with_name(column) {
            Ok(field) if is_text(field.data_type()) => {}
            Ok(field) => {
                return Err(StageError::Refused(format!(
                    "column '{column}' has type {}, not a string type",
                    field.data_type()
                )));
            }
            Err(_) => {
                let columns: Vec<String> = table
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .filter(|n| n != SOURCE_ROW)
                    .collect();
                return Err(StageError::Refused(format!(
                    "column '{column}' is not in its input; its columns are: {}",
                    columns.join(", ")
                )));
            }
        }
        let run = Run::start(ctx, &self.params, input)?;
        let outcome = run.execute(ctx).await?;
        let keep = ScalarUDF::new_from_impl(KeepRows::new(outcome.removed));
        let frame = table.filter(keep.call(vec![col(SOURCE_ROW)]))?;
        Ok(Planned {
            frame,
            near_dedup: Some(Box::new(outcome.report)),
        })
    }
}

/// Memory held by the stage's structures, reserved in the session's pool.
struct Budget {
    reservation: MemoryReservation,
    peak: usize,
}

impl Budget {
    fn grow(&mut self, bytes: usize, what: &str) -> Result<(), StageError> {
        self.reservation.try_grow(bytes).map_err(|_| {
            StageError::Refused(format!(
                "the memory pool could not grant {} for {what} (other work holds the rest of --memory-limit); raise --memory-limit or set bands_per_pass lower",
                format_size(bytes as u64)
            ))
        })?;
        self.peak = self.peak.max(self.reservation.size());
        Ok(())
    }

    fn shrink(&mut self, bytes: usize) {
        self.reservation.shrink(bytes.min(self.reservation.size()));
    }
}

/// One run of the stage over its input.
struct Run<'a> {
    params: &'a MinhashParams,
    rows: usize,
    need: MemoryNeed,
    bands_per_pass: usize,
    passes: usize,
    budget: Budget,
    seconds: NearDedupSeconds,
}

/// What a run decided.
struct Outcome {
    /// Source rows to remove, as a bitmap over `__source_row`.
    removed: BooleanBuffer,
    report: NearDedupReport,
}

impl<'a> Run<'a> {
    /// Forecasts the memory for the input's rows and chooses the bands per pass, or refuses.
    fn start(
        ctx: &SessionContext,
        params: &'a MinhashParams,
        input: &StageInput<'_>,
    ) -> Result<Self, StageError> {
        let rows = input.stats.rows;
        if rows >= u64::from(u32::MAX) {
            return Err(StageError::Refused(format!(
                "its input has {} rows; a minhash stage handles fewer than {}",
                count(rows),
                count(u64::from(u32::MAX))
            )));
        }
        let pool = Arc::clone(&ctx.runtime_env().memory_pool);
        let limit = match pool.memory_limit() {
            MemoryLimit::Finite(limit) => limit as u64,
            _ => u64::MAX,
        };
        let free = limit.saturating_sub(pool.reserved() as u64);
        // Verification holds the texts: shared with an input in memory, read anew from a spilled
        // one (UTF-8 bytes and 4-byte offsets).
        let verify_texts = params.verify_threshold.map(|_| {
            if input.spilled {
                input.stats.text_bytes + rows * 4
            } else {
                0
            }
        });
        let need = MemoryNeed::new(rows, verify_texts);
        let fitting = need.bands_fitting(free, params.bands);
        let bands_per_pass = match params.bands_per_pass {
            None if fitting >= 1 => fitting,
            Some(asked) if asked <= fitting => asked,
            asked => {
                let wanted = asked.unwrap_or(1);
                let needed = need.with_bands(wanted);
                let raise_to = format_size(limit.saturating_add(needed.saturating_sub(free)));
                let advice = if asked.is_some() && fitting >= 1 {
                    format!(
                        "set bands_per_pass = {fitting} (more passes) or raise --memory-limit to at least {raise_to}"
                    )
                } else {
                    format!("raise --memory-limit to at least {raise_to}")
                };
                return Err(StageError::Refused(format!(
                    "needs {} for {} rows with {wanted} band(s) per pass (band tables {} each, row index and union-find {}), but {} of the {} memory limit is free; {advice}",
                    format_size(needed),
                    count(rows),
                    format_size(need.per_band),
                    format_size(need.fixed),
                    format_size(free),
                    format_size(limit),
                )));
            }
        };
        let passes = params.bands.div_ceil(bands_per_pass);
        input.progress.step(&format!(
            "  {} rows: forecast {} of memory, {bands_per_pass} of {} bands per pass ({passes} pass{})",
            count(rows),
            format_size(need.with_bands(bands_per_pass)),
            params.bands,
            if passes == 1 { "" } else { "es" },
        ));
        let reservation = MemoryConsumer::new("minhash stage").register(&pool);
        Ok(Run {
            params,
            rows: rows as usize,
            need,
            bands_per_pass,
            passes,
            budget: Budget {
                reservation,
                peak: 0,
            },
            seconds: NearDedupSeconds::default(),
        })
    }

    async fn execute(mut self, ctx: &SessionContext) -> Result<Outcome, StageError> {
        let params = self.params;
        let n = self.rows;
        let rss_at_start = resources::current_rss();
        let mut rss_peak = rss_at_start;

        self.budget.grow(n * 8, "the row index")?;
        let ranks = Arc::new(source_rows(ctx).await?);
        if ranks.len() != n || ranks.windows(2).any(|w| w[0] == w[1]) {
            return Err(StageError::Refused(format!(
                "its input's {SOURCE_ROW} values are not one per row; a stage before it duplicated rows"
            )));
        }
        let empty = Arc::new(RankSet::new(n));
        self.budget.grow(empty.bytes(), "the empty-document set")?;
        let mut sets = UnionFind::new(n);
        self.budget.grow(sets.bytes(), "union-find")?;
        let mut texts = None;
        self.budget.grow(
            self.need.verify as usize,
            "the texts and text index for verification",
        )?;

        let permutations = Arc::new(Permutations::new(params.permutations(), params.seed));
        let mut candidate_pairs = 0u64;
        let mut verified = params.verify_threshold.map(|_| VerifiedPairs {
            checked: 0,
            rejected: 0,
        });
        for pass in 0..self.passes {
            let first = pass * self.bands_per_pass;
            let bands = first..(first + self.bands_per_pass).min(params.bands);
            let signing = Instant::now();
            let per_band = n * BandTable::BYTES_PER_ROW;
            self.budget.grow(per_band * bands.len(), "band tables")?;
            let state = Arc::new(PassState {
                ranks: Arc::clone(&ranks),
                empty: Arc::clone(&empty),
                permutations: Arc::clone(&permutations),
                shingles: params.shingles,
                rows_per_band: params.rows,
                bands: bands.clone(),
                tables: bands.clone().map(|_| BandTable::new(n)).collect(),
            });
            let keep_texts = texts.is_none() && params.verify_threshold.is_some();
            let kept = sign_all(ctx, &params.column, &state, keep_texts).await?;
            if keep_texts {
                texts = Some(TextIndex::new(kept, n));
            }
            let tables = match Arc::try_unwrap(state) {
                Ok(state) => state.tables,
                Err(_) => return Err(internal("a signature task outlived its pass")),
            };
            self.seconds.signatures += signing.elapsed().as_secs_f64();
            rss_peak = rss_peak.max(resources::current_rss());

            let clustering = Instant::now();
            for table in tables {
                let bytes = table.bytes();
                let mut join = Joiner {
                    sets: &mut sets,
                    threshold: params.verify_threshold,
                    texts: texts.as_ref(),
                    shingler: Shingler::new(params.shingles),
                    cache: HashMap::new(),
                    verified: verified.as_mut(),
                };
                table.buckets(&empty, |members| {
                    let k = members.len() as u64;
                    candidate_pairs += k * (k - 1) / 2;
                    join.bucket(members);
                });
                drop(join);
                self.budget.shrink(bytes);
            }
            self.seconds.clustering += clustering.elapsed().as_secs_f64();
        }
        drop(texts);

        let reporting = Instant::now();
        let clusters = Clusters::of(&mut sets, &mut self.budget)?;
        let removed = removed_bitmap(&ranks, &clusters.removed);
        let examples = self.examples(ctx, &ranks, &mut sets, &clusters).await?;
        self.seconds.report = reporting.elapsed().as_secs_f64();

        let empty_documents = empty.count() as u64;
        let report = NearDedupReport {
            column: params.column.clone(),
            shingle: match params.shingles.unit {
                ShingleUnit::Auto => "auto",
                ShingleUnit::Word => "word",
                ShingleUnit::Char => "char",
            },
            ngram: params.shingles.word_ngram,
            char_ngram: params.shingles.char_ngram,
            bands: params.bands,
            rows_per_band: params.rows,
            permutations: params.permutations(),
            seed: params.seed,
            threshold: lsh::threshold(params.bands, params.rows),
            s_curve: (10..=20)
                .map(|i| {
                    let similarity = f64::from(i) / 20.0;
                    CurvePoint {
                        similarity,
                        probability: lsh::candidate_probability(
                            similarity,
                            params.bands,
                            params.rows,
                        ),
                    }
                })
                .collect(),
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
            documents: n as u64,
            empty_documents,
            candidate_pairs,
            verified,
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
        };
        Ok(Outcome { removed, report })
    }

    /// Measures a sample of removed documents against the ones their clusters kept, and
    /// fetches the texts the report shows.
    async fn examples(
        &self,
        ctx: &SessionContext,
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
        for &(kept, doc) in &sampled {
            wanted.insert(ranks[kept as usize], None);
            wanted.insert(ranks[doc as usize], None);
        }
        for &(_, root) in &largest {
            wanted.insert(ranks[root as usize], None);
        }
        fetch(ctx, &self.params.column, self.params.shingles, &mut wanted).await?;
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
                    similarity: lsh::jaccard(&a.shingles, &b.shingles),
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
        let similarities: Vec<f64> = pairs.iter().map(|p| p.similarity).collect();
        let threshold = lsh::threshold(self.params.bands, self.params.rows);
        let similarity = (!pairs.is_empty()).then(|| SimilaritySample {
            pairs: pairs.len() as u64,
            min: similarities[0],
            p10: nearest_rank(&similarities, 0.1).unwrap_or(0.0),
            median: nearest_rank(&similarities, 0.5).unwrap_or(0.0),
            below_threshold: similarities.iter().filter(|&&s| s < threshold).count() as u64,
        });
        let mut examples: Vec<Pair> = Vec::new();
        if !pairs.is_empty() {
            let mut picks: Vec<usize> = (0..EXAMPLE_PAIRS)
                .map(|i| i * (pairs.len() - 1) / (EXAMPLE_PAIRS - 1))
                .collect();
            picks.dedup();
            examples = picks.into_iter().map(|i| pairs[i].clone()).collect();
        }
        Ok(Examples {
            largest: largest
                .into_iter()
                .map(|(size, root)| Cluster {
                    size: u64::from(size),
                    kept_row: ranks[root as usize],
                    kept_text: text(root).snippet,
                })
                .collect(),
            similarity,
            pairs: examples,
        })
    }
}

/// The report's examples.
struct Examples {
    largest: Vec<Cluster>,
    similarity: Option<SimilaritySample>,
    pairs: Vec<Pair>,
}

/// A fetched document: its shingles and the start of its text.
#[derive(Debug, Clone, Default)]
struct Fetched {
    shingles: Vec<u64>,
    snippet: String,
}

/// What the signature tasks of one pass share.
struct PassState {
    ranks: Arc<Vec<u64>>,
    empty: Arc<RankSet>,
    permutations: Arc<Permutations>,
    shingles: ShingleSpec,
    rows_per_band: usize,
    bands: Range<usize>,
    tables: Vec<BandTable>,
}

impl PassState {
    fn rank_of(&self, source_row: u64) -> DfResult<u32> {
        match self.ranks.binary_search(&source_row) {
            Ok(rank) => Ok(rank as u32),
            Err(_) => exec_err!("{SOURCE_ROW} {source_row} changed between two reads of the input"),
        }
    }

    /// Signs the documents of one batch into the band tables.
    fn sign(&self, batch: &RecordBatch, work: &mut SignWork) -> DfResult<Vec<u32>> {
        let source_rows = batch.column(0).as_primitive::<UInt64Type>();
        let mut ranks = Vec::with_capacity(batch.num_rows());
        let r = self.rows_per_band;
        let permutations = self.bands.start * r..self.bands.end * r;
        for (row, text) in string_values(batch.column(1).as_ref())?.enumerate() {
            let rank = self.rank_of(source_rows.value(row))?;
            ranks.push(rank);
            match text {
                Some(text) => work.shingler.hashes(text, &mut work.hashes),
                None => work.hashes.clear(),
            }
            if work.hashes.is_empty() {
                self.empty.insert(rank);
                continue;
            }
            self.permutations
                .signature(&work.hashes, permutations.clone(), &mut work.signature);
            for (k, table) in self.tables.iter().enumerate() {
                let band = &work.signature[k * r..(k + 1) * r];
                table.set(rank, lsh::band_hash(band, self.bands.start + k));
            }
        }
        Ok(ranks)
    }
}

/// A signature task's buffers.
struct SignWork {
    shingler: Shingler,
    hashes: Vec<u64>,
    signature: Vec<u64>,
}

/// Signs every document of the input on all partitions; with `keep_texts`, returns the text
/// arrays read and the ranks of their rows.
async fn sign_all(
    ctx: &SessionContext,
    column: &str,
    state: &Arc<PassState>,
    keep_texts: bool,
) -> Result<Vec<(ArrayRef, Vec<u32>)>, StageError> {
    let streams = ctx
        .table(INPUT_TABLE)
        .await?
        .select_columns(&[SOURCE_ROW, column])?
        .execute_stream_partitioned()
        .await?;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(sign_partition(stream, Arc::clone(state), keep_texts)))
        .collect();
    let mut kept = Vec::new();
    for task in tasks {
        let partition = task
            .await
            .map_err(|e| internal(&format!("a signature task failed: {e}")))??;
        kept.extend(partition);
    }
    Ok(kept)
}

async fn sign_partition(
    mut stream: SendableRecordBatchStream,
    state: Arc<PassState>,
    keep_texts: bool,
) -> DfResult<Vec<(ArrayRef, Vec<u32>)>> {
    let mut work = SignWork {
        shingler: Shingler::new(state.shingles),
        hashes: Vec::new(),
        signature: vec![0; state.bands.len() * state.rows_per_band],
    };
    let mut kept = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let ranks = state.sign(&batch, &mut work)?;
        if keep_texts {
            kept.push((Arc::clone(batch.column(1)), ranks));
        }
    }
    Ok(kept)
}

/// The sorted `__source_row` values of the input: a document's rank is its position here.
async fn source_rows(ctx: &SessionContext) -> Result<Vec<u64>, StageError> {
    let batches = ctx
        .table(INPUT_TABLE)
        .await?
        .select_columns(&[SOURCE_ROW])?
        .collect()
        .await?;
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in &batches {
        rows.extend_from_slice(batch.column(0).as_primitive::<UInt64Type>().values());
    }
    drop(batches);
    rows.sort_unstable();
    Ok(rows)
}

/// The text of each document by rank, for verification: the arrays read in the first pass
/// (shared with the input when it is in memory) and where each rank's text is.
struct TextIndex {
    arrays: Vec<ArrayRef>,
    at: Vec<(u32, u32)>,
}

impl TextIndex {
    fn new(kept: Vec<(ArrayRef, Vec<u32>)>, rows: usize) -> Self {
        let mut at = vec![(u32::MAX, 0); rows];
        let mut arrays = Vec::with_capacity(kept.len());
        for (i, (array, ranks)) in kept.into_iter().enumerate() {
            for (row, rank) in ranks.into_iter().enumerate() {
                at[rank as usize] = (i as u32, row as u32);
            }
            arrays.push(array);
        }
        Self { arrays, at }
    }

    fn text(&self, rank: u32) -> Option<&str> {
        let (array, row) = self.at[rank as usize];
        string_value(self.arrays.get(array as usize)?.as_ref(), row as usize)
    }
}

/// Joins the documents of each bucket, checking their exact similarity when asked.
struct Joiner<'a> {
    sets: &'a mut UnionFind,
    threshold: Option<f64>,
    texts: Option<&'a TextIndex>,
    shingler: Shingler,
    /// Shingles of the current bucket's documents.
    cache: HashMap<u32, Vec<u64>>,
    verified: Option<&'a mut VerifiedPairs>,
}

impl Joiner<'_> {
    /// `members` share a bucket and are in source order.
    fn bucket(&mut self, members: &[u32]) {
        let (Some(threshold), Some(texts)) = (self.threshold, self.texts) else {
            for &doc in &members[1..] {
                self.sets.union(members[0], doc);
            }
            return;
        };
        self.cache.clear();
        for (i, &doc) in members.iter().enumerate().skip(1) {
            let mut checks = 0;
            for &earlier in &members[..i] {
                if checks == MAX_CHECKS_PER_DOCUMENT {
                    break;
                }
                if self.sets.find(earlier) == self.sets.find(doc) {
                    continue;
                }
                checks += 1;
                self.load_shingles(texts, earlier);
                self.load_shingles(texts, doc);
                let similarity = lsh::jaccard(&self.cache[&earlier], &self.cache[&doc]);
                if let Some(v) = self.verified.as_deref_mut() {
                    v.checked += 1;
                    v.rejected += u64::from(similarity < threshold);
                }
                if similarity >= threshold {
                    self.sets.union(earlier, doc);
                }
            }
        }
    }

    /// Puts the shingle set of document `rank` in the bucket's cache.
    fn load_shingles(&mut self, texts: &TextIndex, rank: u32) {
        let shingler = &mut self.shingler;
        self.cache.entry(rank).or_insert_with(|| {
            let mut hashes = Vec::new();
            if let Some(text) = texts.text(rank) {
                shingler.set(text, &mut hashes);
            }
            hashes
        });
    }
}

/// The clusters union-find found.
struct Clusters {
    /// Size and root (first document) of every cluster of two or more documents.
    sizes: Vec<(u32, u32)>,
    /// Ranks of the documents that are not their cluster's first, in source order.
    removed: Vec<u32>,
}

impl Clusters {
    fn of(sets: &mut UnionFind, budget: &mut Budget) -> Result<Self, StageError> {
        let n = sets.documents();
        budget.grow(n * 4, "cluster sizes")?;
        let mut size = vec![0u32; n];
        let mut removed = Vec::new();
        for doc in 0..n as u32 {
            let root = sets.find(doc);
            size[root as usize] += 1;
            if root != doc {
                removed.push(doc);
            }
        }
        let sizes = size
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s > 1)
            .map(|(root, &s)| (s, root as u32))
            .collect();
        drop(size);
        budget.shrink(n * 4);
        Ok(Self { sizes, removed })
    }

    /// Cluster counts by size: 2, 3–5, 6–10, 11–100, 101–1,000, more.
    fn bins(&self) -> Vec<SizeBin> {
        const BOUNDS: [(u64, Option<u64>); 6] = [
            (2, Some(2)),
            (3, Some(5)),
            (6, Some(10)),
            (11, Some(100)),
            (101, Some(1000)),
            (1001, None),
        ];
        BOUNDS
            .iter()
            .map(|&(min_size, max_size)| {
                let within = |s: u64| s >= min_size && max_size.is_none_or(|m| s <= m);
                let sizes = self
                    .sizes
                    .iter()
                    .map(|&(s, _)| u64::from(s))
                    .filter(|&s| within(s));
                SizeBin {
                    min_size,
                    max_size,
                    clusters: sizes.clone().count() as u64,
                    documents: sizes.sum(),
                }
            })
            .collect()
    }
}

/// A bitmap over source rows with the removed documents set.
fn removed_bitmap(ranks: &[u64], removed: &[u32]) -> BooleanBuffer {
    let len = ranks.last().map_or(0, |&last| last as usize + 1);
    let mut bits = BooleanBufferBuilder::new(len);
    bits.append_n(len, false);
    for &rank in removed {
        bits.set_bit(ranks[rank as usize] as usize, true);
    }
    bits.finish()
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
    let mut stream = ctx
        .table(INPUT_TABLE)
        .await?
        .select_columns(&[SOURCE_ROW, column])?
        .execute_stream()
        .await?;
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

/// The values of a string array of any string type.
fn string_values(array: &dyn Array) -> DfResult<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match array.data_type() {
        DataType::Utf8 => Box::new(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => Box::new(array.as_string::<i64>().iter()),
        DataType::Utf8View => Box::new(array.as_string_view().iter()),
        other => return exec_err!("expected a string column, found {other}"),
    })
}

fn string_value(array: &dyn Array, row: usize) -> Option<&str> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(array.as_string_view().value(row)),
        _ => None,
    }
}

fn internal(message: &str) -> StageError {
    StageError::Engine(DataFusionError::Internal(message.to_string()))
}

/// The filter of the stage's result: true for the rows whose `__source_row` is not removed.
#[derive(Debug)]
struct KeepRows {
    removed: BooleanBuffer,
    signature: Signature,
}

impl KeepRows {
    fn new(removed: BooleanBuffer) -> Self {
        Self {
            removed,
            signature: Signature::exact(vec![DataType::UInt64], Volatility::Immutable),
        }
    }
}

impl PartialEq for KeepRows {
    fn eq(&self, other: &Self) -> bool {
        self.removed == other.removed
    }
}

impl Eq for KeepRows {}

impl std::hash::Hash for KeepRows {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.removed.len().hash(state);
        self.removed.count_set_bits().hash(state);
    }
}

impl ScalarUDFImpl for KeepRows {
    fn name(&self) -> &str {
        "minhash_keep"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = match &args.args[..] {
            [ColumnarValue::Array(rows)] => Arc::clone(rows),
            [ColumnarValue::Scalar(row)] => row.to_array()?,
            _ => return exec_err!("minhash_keep takes one argument"),
        };
        let rows = rows.as_primitive::<UInt64Type>();
        let keep: BooleanArray = rows
            .values()
            .iter()
            .map(|&row| {
                let row = row as usize;
                Some(row >= self.removed.len() || !self.removed.value(row))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(keep)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, ParamValue)]) -> Result<MinhashParams, String> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        MinhashParams::parse(&map, "text")
    }

    #[test]
    fn defaults_follow_common_practice() {
        let p = params(&[]).unwrap();
        assert_eq!((p.bands, p.rows, p.permutations()), (14, 8, 112));
        assert_eq!(p.shingles.word_ngram, 5);
        assert_eq!(p.shingles.unit, ShingleUnit::Auto);
        assert_eq!(p.column, "text");
        assert_eq!(p.verify_threshold, None);
        let v = params(&[("verify", ParamValue::Bool(true))]).unwrap();
        assert!((v.verify_threshold.unwrap() - 0.7190).abs() < 1e-4);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let cases: [(&[(&str, ParamValue)], &str); 9] = [
            (&[("bands", ParamValue::Int(0))], "'bands' is 0"),
            (&[("rows", ParamValue::Int(0))], "'rows' is 0"),
            (&[("ngram", ParamValue::Int(0))], "'ngram' is 0"),
            (
                &[
                    ("bands", ParamValue::Int(100)),
                    ("rows", ParamValue::Int(20)),
                ],
                "at most 1024",
            ),
            (&[("band", ParamValue::Int(3))], "unknown parameter 'band'"),
            (
                &[("shingle", ParamValue::Str("token".into()))],
                "unknown shingle unit",
            ),
            (
                &[("verify_threshold", ParamValue::Float(0.8))],
                "needs verify = true",
            ),
            (
                &[
                    ("verify", ParamValue::Bool(true)),
                    ("verify_threshold", ParamValue::Float(1.5)),
                ],
                "at most 1",
            ),
            (
                &[("bands_per_pass", ParamValue::Int(15))],
                "between 1 and 14",
            ),
        ];
        for (given, expected) in cases {
            let e = params(given).unwrap_err();
            assert!(e.contains(expected), "{given:?}: {e}");
        }
    }

    #[test]
    fn snippets_are_one_line_and_short() {
        assert_eq!(snippet("a\n\n b\tc"), "a b c");
        let long = "word ".repeat(100);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
    }
}
