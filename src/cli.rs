//! The command line: clap derive structs only, turned into library requests here so that no
//! other module sees a clap type.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::source::SampleBy;

use crate::config::{EstimateRequest, InspectRequest, LoaderRequest, PriceFlags, ProfileRequest};
use crate::render::Format;
use crate::source::OnError;
use crate::storage::options::parse_pair;
use crate::util::units::parse_size;

/// prepcost: what preparing a training dataset costs — time, CPU, memory, storage and money
/// for each stage of a curation pipeline, measured on your data.
#[derive(Debug, Parser)]
#[command(name = "prepcost", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a preprocessing pipeline over a dataset and report what each stage costs.
    Profile(ProfileArgs),
    /// Report a dataset's layout and storage bill from its Parquet footers alone, and what
    /// other layouts would cost (--what-if).
    Inspect(InspectArgs),
    /// Read a dataset the way a training data loader does and report rows/s, MB/s, tokens/s,
    /// time to first batch and batch latency, per worker count, and whether it can feed the
    /// GPUs.
    Loader(LoaderArgs),
    /// Plan the full run from a `profile` report (--format json or --report): time, memory
    /// per stage, core-hours and dollars on a fleet, for the dataset or one of another size,
    /// and what training on the removed tokens would have cost.
    Estimate(EstimateArgs),
}

/// What to do with a file that cannot be read.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnErrorArg {
    /// Stop with an error naming the file.
    Fail,
    /// List the file under "skipped" with its reason and report on the rest.
    Skip,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The dataset: a Parquet file, a directory of Parquet files, or JSONL / CSV files
    /// (plain, .gz or .zst).
    pub source: String,

    /// Columns a loader would read (comma-separated names or dotted paths): reports the
    /// bytes it fetches.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,

    /// Re-encode a sample under other codecs, dictionary settings and row-group sizes, and
    /// report size, speed and monthly bill for each.
    #[arg(long)]
    pub what_if: bool,

    /// Row groups in the what-if sample, spread evenly over the dataset [default: 8].
    #[arg(long, value_name = "N")]
    pub sample_row_groups: Option<u64>,

    /// Decoded size at which the what-if sample stops, e.g. 64MiB [default: 32MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub sample_size: Option<u64>,

    /// The what-if recommends only layouts that decode at least this fast, in MB/s on one
    /// thread [default: 200].
    #[arg(long, value_name = "MB/S")]
    pub min_decode_mb_per_s: Option<f64>,

    /// What to do with a file that cannot be read.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub reporting: ReportArgs,
}

impl From<InspectArgs> for InspectRequest {
    fn from(args: InspectArgs) -> Self {
        InspectRequest {
            source: args.source,
            columns: args
                .columns
                .map(|c| c.into_iter().map(|s| s.trim().to_string()).collect()),
            what_if: args.what_if,
            sample_row_groups: args.sample_row_groups,
            sample_size: args.sample_size,
            min_decode_mb_per_s: args.min_decode_mb_per_s,
            on_error: match args.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
            prices: args.store.prices(None),
            storage_options: args.store.storage_options,
        }
    }
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct LoaderArgs {
    /// The dataset: a Parquet file or a directory of Parquet files.
    pub source: String,

    /// Columns to read (comma-separated names or dotted paths) [default: all].
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,

    /// The column the tokenizer reads [default: text].
    #[arg(long, value_name = "NAME", env = "PREPCOST_TEXT_COLUMN")]
    pub text_column: Option<String>,

    /// cl100k_base, o200k_base, a path to a HuggingFace tokenizer.json, or none
    /// [default: cl100k_base, when the text column exists].
    #[arg(long, value_name = "NAME")]
    pub tokenizer: Option<String>,

    /// Rows per batch handed to the training loop [default: 1024].
    #[arg(long, value_name = "ROWS")]
    pub batch_size: Option<usize>,

    /// Decode workers; several (1,2,4,8) run once each and make a scaling table
    /// [default: the machine's cores].
    #[arg(long, value_name = "N[,N…]", value_delimiter = ',')]
    pub workers: Option<Vec<usize>>,

    /// Row groups fetched ahead per worker [default: 2].
    #[arg(long, value_name = "N")]
    pub prefetch: Option<usize>,

    /// Shuffle: a new row-group order every epoch, and rows drawn from a shuffle buffer.
    #[arg(long)]
    pub shuffle: bool,

    /// Rows in the shuffle buffer [default: 10000].
    #[arg(long, value_name = "ROWS")]
    pub shuffle_buffer: Option<usize>,

    /// Seed of the shuffle [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Passes over the dataset [default: 1].
    #[arg(long, value_name = "N")]
    pub epochs: Option<u32>,

    /// Stop after this many rows (100000) or this long (30s, 5m, 1h), per run.
    #[arg(long, value_name = "ROWS|TIME")]
    pub limit: Option<String>,

    /// The token rate the training job consumes: the report says whether the loader keeps up.
    #[arg(long, value_name = "TOKENS/S")]
    pub target_tokens_per_s: Option<f64>,

    /// GPUs of the training job (derives the target with --model-params, --mfu, --gpu-flops).
    #[arg(long, value_name = "N")]
    pub gpus: Option<f64>,

    /// Parameters of the model trained, e.g. 7e9.
    #[arg(long, value_name = "N")]
    pub model_params: Option<f64>,

    /// Model FLOP/s utilisation, a fraction of peak, e.g. 0.4.
    #[arg(long, value_name = "FRACTION")]
    pub mfu: Option<f64>,

    /// Peak FLOP/s of one GPU, e.g. 989e12 (H100 dense BF16).
    #[arg(long, value_name = "FLOP/S")]
    pub gpu_flops: Option<f64>,

    /// What to do with a JSONL line that cannot be read: stop, naming its file and line, or
    /// leave it out and count it. (A CSV record that cannot be read always stops the run.)
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub reporting: ReportArgs,
}

impl From<LoaderArgs> for LoaderRequest {
    fn from(args: LoaderArgs) -> Self {
        LoaderRequest {
            source: args.source,
            columns: args.columns,
            text_column: args.text_column,
            tokenizer: args.tokenizer,
            batch_size: args.batch_size,
            workers: args.workers,
            prefetch: args.prefetch,
            shuffle: args.shuffle,
            shuffle_buffer: args.shuffle_buffer,
            seed: args.seed,
            epochs: args.epochs,
            limit: args.limit,
            target_tokens_per_s: args.target_tokens_per_s,
            gpus: args.gpus,
            model_params: args.model_params,
            mfu: args.mfu,
            gpu_flops: args.gpu_flops,
            prices: args.store.prices(None),
            storage_options: args.store.storage_options,
            on_error: args.on_error.into(),
        }
    }
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct EstimateArgs {
    /// A report of `prepcost profile` in JSON (its --format json output or --report file).
    #[arg(value_name = "REPORT")]
    pub profile_report: PathBuf,

    /// A machine type of the pricing table, e.g. c7i.16xlarge.
    #[arg(long, value_name = "TYPE", conflicts_with_all = ["cores", "memory", "usd_per_vcpu_hour"])]
    pub machine: Option<String>,

    /// Machines the run is spread over [default: 1].
    #[arg(long, value_name = "N")]
    pub machines: Option<u32>,

    /// vCPUs per machine, without --machine [default: the profiled run's threads].
    #[arg(long, value_name = "N")]
    pub cores: Option<u32>,

    /// Memory per machine, without --machine, e.g. 64GiB [default: twice the profiled run's
    /// memory limit].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,

    /// Memory the query engine may hold on each machine [default: half its memory].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,

    /// Compute price per vCPU-hour, without --machine [default: the report's].
    #[arg(long, value_name = "USD")]
    pub usd_per_vcpu_hour: Option<f64>,

    /// Plan for a dataset of this many rows instead of the profiled one.
    #[arg(long, value_name = "N", conflicts_with = "target_bytes")]
    pub target_rows: Option<u64>,

    /// Plan for a dataset of this size on storage, e.g. 20TB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub target_bytes: Option<u64>,

    /// A machine table (TOML, as pricing/machines.toml) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,

    /// Parameters of the model trained on the data, e.g. 7e9: the report says what training
    /// on the removed tokens would have cost (6·N·D FLOPs).
    #[arg(long, value_name = "N", requires_all = ["gpu_flops", "mfu", "gpu_hour_usd"])]
    pub model_params: Option<f64>,

    /// Peak FLOP/s of one GPU, e.g. 989e12 (H100 dense BF16).
    #[arg(long, value_name = "FLOP/S", requires = "model_params")]
    pub gpu_flops: Option<f64>,

    /// Model FLOP/s utilisation, a fraction of peak, e.g. 0.4.
    #[arg(long, value_name = "FRACTION", requires = "model_params")]
    pub mfu: Option<f64>,

    /// Price of a GPU-hour, e.g. 2.5.
    #[arg(long, value_name = "USD", requires = "model_params")]
    pub gpu_hour_usd: Option<f64>,

    #[command(flatten)]
    pub reporting: ReportArgs,
}

impl From<EstimateArgs> for EstimateRequest {
    fn from(args: EstimateArgs) -> Self {
        EstimateRequest {
            report: args.profile_report,
            machine: args.machine,
            machines: args.machines,
            cores: args.cores,
            memory: args.memory,
            memory_limit: args.memory_limit,
            usd_per_vcpu_hour: args.usd_per_vcpu_hour,
            target_rows: args.target_rows,
            target_bytes: args.target_bytes,
            pricing: args.pricing,
            model_params: args.model_params,
            gpu_flops: args.gpu_flops,
            mfu: args.mfu,
            gpu_hour_usd: args.gpu_hour_usd,
        }
    }
}

/// The report formats on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The dataset: a Parquet file or a directory of Parquet files. Overrides source.uri.
    pub source: Option<String>,

    /// Pipeline file (TOML). Without one: clean → normalise → dedup_exact.
    #[arg(long, value_name = "FILE")]
    pub pipeline: Option<PathBuf>,

    /// The column holding the text [default: text].
    #[arg(long, value_name = "NAME", env = "PREPCOST_TEXT_COLUMN")]
    pub text_column: Option<String>,

    #[command(flatten)]
    pub reporting: ReportArgs,

    /// Write the final result as zstd Parquet to this directory (replaced atomically).
    #[arg(long, value_name = "DIR")]
    pub output: Option<String>,

    /// Ends the pipeline with MinHash LSH near-duplicate removal (a `kind = "minhash"` stage
    /// named near_dedup with default parameters), unless it has a minhash stage already.
    #[arg(long)]
    pub near_dedup: bool,

    /// Memory for the query engine and intermediate results, e.g. 4GiB [default: half of RAM].
    /// Intermediates beyond it spill to local Parquet.
    #[arg(long, value_name = "SIZE", env = "PREPCOST_MEMORY_LIMIT", value_parser = parse_size)]
    pub memory_limit: Option<u64>,

    /// Compute price in USD per vCPU-hour [default: 0.0504].
    #[arg(long, value_name = "USD", env = "PREPCOST_USD_PER_VCPU_HOUR")]
    pub usd_per_vcpu_hour: Option<f64>,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Counts tokens of the source and of every stage's result: cl100k_base, o200k_base, a
    /// path to a HuggingFace tokenizer.json, or none [default: cl100k_base].
    #[arg(long, value_name = "NAME")]
    pub tokenizer: Option<String>,

    /// Runs on this fraction of the dataset (0 < FRACTION ≤ 1) and projects every figure to
    /// the whole of it, each with a 95% interval.
    #[arg(long, value_name = "FRACTION")]
    pub sample: Option<String>,

    /// What the sample draws: row groups (reads only those), texts (every copy of a text
    /// together) or MinHash values (near duplicates mostly together); the last two read every
    /// row group [default: row-group].
    #[arg(long, value_name = "HOW", requires = "sample")]
    pub sample_by: Option<SampleByArg>,

    /// Seed of the sample [default: 0].
    #[arg(long, value_name = "N", requires = "sample")]
    pub seed: Option<u64>,

    /// What to do with a JSONL line that cannot be read: stop, naming its file and line, or
    /// leave it out and count it. (A CSV record that cannot be read always stops the run.)
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
}

impl From<OnErrorArg> for OnError {
    fn from(arg: OnErrorArg) -> Self {
        match arg {
            OnErrorArg::Fail => OnError::Fail,
            OnErrorArg::Skip => OnError::Skip,
        }
    }
}

/// `--sample-by`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SampleByArg {
    RowGroup,
    Content,
    /// Texts by their MinHash value: near duplicates mostly kept together.
    Minhash,
}

/// Where the data is kept: the store's settings and prices. Shared by every command.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// A setting of the source's object store, as object_store names it (region, endpoint,
    /// access_key_id, timeout, …) or prepcost's client settings (max_retries, retry_timeout,
    /// retry_init_backoff, max_concurrent_requests). Repeatable.
    #[arg(long = "storage-option", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub storage_options: Vec<(String, String)>,

    /// Storage price in USD per GB-month [default: 0.023, S3 Standard].
    #[arg(long, value_name = "USD", env = "PREPCOST_USD_PER_GB_MONTH")]
    pub usd_per_gb_month: Option<f64>,

    /// Price of 1,000 GET or HEAD requests [default: the provider's list price].
    #[arg(
        long = "usd-per-1000-get",
        value_name = "USD",
        env = "PREPCOST_USD_PER_1000_GET"
    )]
    pub usd_per_1000_get: Option<f64>,

    /// Price of 1,000 PUT, LIST, COPY or multipart-part requests [default: the provider's
    /// list price].
    #[arg(
        long = "usd-per-1000-put",
        value_name = "USD",
        env = "PREPCOST_USD_PER_1000_PUT"
    )]
    pub usd_per_1000_put: Option<f64>,

    /// Price of a GB read out of the store; 0 for reads within its region [default: the
    /// provider's internet egress price].
    #[arg(long, value_name = "USD", env = "PREPCOST_USD_PER_GB_EGRESS")]
    pub usd_per_gb_egress: Option<f64>,
}

impl StoreArgs {
    fn prices(&self, usd_per_vcpu_hour: Option<f64>) -> PriceFlags {
        PriceFlags {
            usd_per_vcpu_hour,
            usd_per_gb_month: self.usd_per_gb_month,
            usd_per_1000_get: self.usd_per_1000_get,
            usd_per_1000_put: self.usd_per_1000_put,
            usd_per_gb_egress: self.usd_per_gb_egress,
        }
    }
}

/// Where the report goes and what is said while the command runs. Shared by every command.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,

    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Command {
    /// How the command's report is given.
    pub fn reporting(&self) -> &ReportArgs {
        match self {
            Command::Profile(args) => &args.reporting,
            Command::Inspect(args) => &args.reporting,
            Command::Loader(args) => &args.reporting,
            Command::Estimate(args) => &args.reporting,
        }
    }
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
        }
    }
}

impl From<ProfileArgs> for ProfileRequest {
    fn from(args: ProfileArgs) -> Self {
        ProfileRequest {
            source: args.source,
            pipeline: args.pipeline,
            text_column: args.text_column,
            output: args.output,
            near_dedup: args.near_dedup,
            memory_limit: args.memory_limit,
            prices: args.store.prices(args.usd_per_vcpu_hour),
            storage_options: args.store.storage_options,
            tokenizer: args.tokenizer,
            sample: args.sample,
            sample_by: args.sample_by.map(|by| match by {
                SampleByArg::RowGroup => SampleBy::RowGroup,
                SampleByArg::Content => SampleBy::Content,
                SampleByArg::Minhash => SampleBy::MinHash,
            }),
            seed: args.seed,
            on_error: match args.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
