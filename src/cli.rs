//! The command line: clap derive structs only, turned into library requests here so that no
//! other module sees a clap type.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::source::SampleBy;

use crate::budget::{Budget, non_negative, parse_fraction};
use crate::config::{EstimateRequest, InspectRequest, LoaderRequest, PriceFlags, ProfileRequest};
use crate::engine::cluster::{self, ExecutorSettings, Node, SchedulerSettings};
use crate::error::{Error, Result};
use crate::render::Format;
use crate::source::OnError;
use crate::storage::options::parse_pair;
use crate::util::progress::ProgressMode;
use crate::util::resources;
use crate::util::units::parse_size;

/// prepcost: what preparing a training dataset costs — time, CPU, memory, storage and money
/// for each stage of a curation pipeline, measured on your data.
#[derive(Debug, Parser)]
#[command(name = "prepcost", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Invocation,
}

/// A run that reports, or a node of a cluster that serves until it is stopped.
// Parsed once and moved into the run: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Invocation {
    #[command(flatten)]
    Run(Command),
    /// Run a node of an Apache DataFusion Ballista cluster that knows prepcost's functions,
    /// for `profile --engine ballista`.
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

/// `prepcost cluster …`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Run a scheduler: clients send it their queries, it splits them into tasks for the
    /// executors.
    Scheduler(SchedulerArgs),
    /// Run an executor: it registers with the scheduler and runs the tasks it is given.
    Executor(ExecutorArgs),
}

impl TryFrom<ClusterCommand> for Node {
    type Error = Error;

    fn try_from(command: ClusterCommand) -> Result<Self> {
        Ok(match command {
            ClusterCommand::Scheduler(args) => Node::Scheduler(SchedulerSettings {
                bind: args.bind,
                external_host: args.external_host,
            }),
            ClusterCommand::Executor(args) => Node::Executor(ExecutorSettings {
                scheduler: cluster::scheduler_address(&args.scheduler)?,
                bind_host: args.bind,
                external_host: args.external_host,
                port: args.port,
                grpc_port: args.grpc_port,
                concurrency: match args.concurrency {
                    Some(0) => return Err(Error::Usage("--concurrency must be at least 1".into())),
                    Some(n) => n,
                    None => resources::cores(),
                },
                work_dir: args.work_dir,
                memory_limit: match args.memory_limit {
                    Some(0) => return Err(Error::Usage("--memory-limit must be above 0".into())),
                    limit => limit,
                },
            }),
        })
    }
}

/// `prepcost cluster scheduler`.
#[derive(Debug, Clone, Args)]
pub struct SchedulerArgs {
    /// Where to listen for clients and executors.
    #[arg(long, value_name = "HOST:PORT", default_value = "0.0.0.0:50050")]
    pub bind: std::net::SocketAddr,

    /// The host name executors and clients reach this scheduler by [default: the bind
    /// address, or localhost when it is 0.0.0.0].
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
}

/// `prepcost cluster executor`.
#[derive(Debug, Clone, Args)]
pub struct ExecutorArgs {
    /// The scheduler to serve: HOST:PORT or df://HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,

    /// Tasks to run at once [default: the machine's cores].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// The address its services listen on.
    #[arg(long, value_name = "HOST", default_value = "0.0.0.0")]
    pub bind: String,

    /// The host name the scheduler and clients reach this executor by [default: the bind
    /// address, or this machine's host name when it is 0.0.0.0].
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,

    /// Its Arrow Flight port, for results and shuffle data.
    #[arg(long, value_name = "PORT", default_value_t = 50051)]
    pub port: u16,

    /// Its gRPC port, for tasks.
    #[arg(long, value_name = "PORT", default_value_t = 50052)]
    pub grpc_port: u16,

    /// Where it keeps shuffle files [default: a temporary directory].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Memory its tasks' queries may hold, shared by its concurrent tasks; beyond it they
    /// spill to the work directory [default: 70% of the machine's or its cgroup's memory].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
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
    /// Show the runs kept in a --history directory or prefix: trends and each run's change
    /// from the one before.
    History(HistoryArgs),
    /// Compare two JSON reports of the same command and flag the figures that changed by
    /// more than a tolerance (exit code 1 when any did).
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history: a directory or object-store prefix runs were appended to with --history.
    #[arg(value_name = "URI")]
    pub uri: String,

    /// Only the runs on this dataset (as the runs named it).
    #[arg(long, value_name = "DATASET")]
    pub dataset: Option<String>,

    /// A setting of the history's object store (as for profile). Repeatable.
    #[arg(long = "storage-option", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub storage_options: Vec<(String, String)>,

    #[command(flatten)]
    pub reporting: ReportArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (JSON, from --format json or --report).
    #[arg(value_name = "A.json")]
    pub a: PathBuf,

    /// The later report.
    #[arg(value_name = "B.json")]
    pub b: PathBuf,

    /// Largest relative change not flagged: 10% or 0.1 [default: 10%].
    #[arg(long, value_name = "PERCENT")]
    pub tolerance: Option<String>,

    #[command(flatten)]
    pub reporting: ReportArgs,
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

    #[command(flatten)]
    pub budget: BudgetArgs,
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
            budget: args.budget.into(),
        }
    }
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct LoaderArgs {
    /// The dataset: a Parquet, JSONL or CSV file, a folder or glob of them, local or at an
    /// s3://, gs://, az://, http(s):// or hf:// URI.
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

    #[command(flatten)]
    pub budget: BudgetArgs,
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
            budget: args.budget.into(),
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

    #[command(flatten)]
    pub budget: BudgetArgs,
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
            budget: args.budget.into(),
        }
    }
}

/// The report formats on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The dataset: a Parquet, JSONL or CSV file, a folder or glob of them, local or at an
    /// s3://, gs://, az://, http(s):// or hf:// URI. Overrides source.uri.
    pub source: Option<String>,

    /// Pipeline file (TOML). Without one: clean → normalise → dedup_exact.
    #[arg(long, value_name = "FILE")]
    pub pipeline: Option<PathBuf>,

    /// The column holding the text [default: text].
    #[arg(long, value_name = "NAME", env = "PREPCOST_TEXT_COLUMN")]
    pub text_column: Option<String>,

    #[command(flatten)]
    pub reporting: ReportArgs,

    #[command(flatten)]
    pub budget: BudgetArgs,

    /// Write the final result as zstd Parquet to this folder or object-store prefix, with a
    /// manifest of its files. An earlier output of prepcost's there is replaced atomically; the
    /// source, a folder inside or around it, and a folder of other files are refused.
    #[arg(long, value_name = "DIR")]
    pub output: Option<String>,

    /// Let --output write into a folder that holds files prepcost did not write: its files go
    /// beside them, and those files are kept (a name prepcost writes is still refused).
    #[arg(long, requires = "output")]
    pub overwrite: bool,

    /// Ends the pipeline with MinHash LSH near-duplicate removal (a `kind = "minhash"` stage
    /// named near_dedup with default parameters), unless it has a minhash stage already.
    #[arg(long)]
    pub near_dedup: bool,

    /// Memory for the query engine and intermediate results, e.g. 4GiB [default: half of RAM].
    /// Intermediates beyond it spill to local Parquet.
    #[arg(long, value_name = "SIZE", env = "PREPCOST_MEMORY_LIMIT", value_parser = parse_size)]
    pub memory_limit: Option<u64>,

    /// Where the stages run: local (this process), ballista (the cluster of --scheduler) or
    /// ballista-standalone (a scheduler and executor started in this process)
    /// [default: local, or the pipeline file's [run] engine].
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,

    /// The Ballista scheduler of --engine ballista: df://HOST:PORT.
    #[arg(long, value_name = "URL")]
    pub scheduler: Option<String>,

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

    /// Also write the report to FILE, in the format its name asks for: .html (a page with
    /// charts), .md (Markdown), .txt (tables), anything else JSON. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,

    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,

    /// Progress on stderr: bars with rate and ETA on a terminal (auto), one line per step
    /// for logs (plain), or none (off).
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressArg,

    /// Also write the run's figures as Prometheus metrics to FILE (text exposition format,
    /// written atomically, for node_exporter's textfile collector); also when the run fails.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,

    /// Append the run's figures to the history at URI (a directory or object-store prefix;
    /// one new Parquet file per run). --max-growth compares against its previous run.
    #[arg(long, value_name = "URI")]
    pub history: Option<String>,

    /// Logs on stderr as text, or as one JSON object per line for log collectors (progress
    /// lines of --progress plain, budget breaches and errors included).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormatArg,

    /// Hold this lock file while running: a second run with the same lock exits with code 1
    /// and names the holder.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

/// `--progress`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Plain,
    Off,
}

impl From<ProgressArg> for ProgressMode {
    fn from(arg: ProgressArg) -> Self {
        match arg {
            ProgressArg::Auto => ProgressMode::Auto,
            ProgressArg::Plain => ProgressMode::Plain,
            ProgressArg::Off => ProgressMode::Off,
        }
    }
}

impl Command {
    /// `profile`, `inspect`, `loader` or `estimate`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Profile(_) => "profile",
            Command::Inspect(_) => "inspect",
            Command::Loader(_) => "loader",
            Command::Estimate(_) => "estimate",
            Command::History(_) => "history",
            Command::Diff(_) => "diff",
        }
    }

    /// The dataset as given on the command line (for a profile without one, its pipeline
    /// file; for estimate, the report it reads).
    pub fn dataset(&self) -> String {
        match self {
            Command::Profile(args) => match (&args.source, &args.pipeline) {
                (Some(source), _) => source.clone(),
                (None, Some(pipeline)) => pipeline.display().to_string(),
                (None, None) => String::new(),
            },
            Command::Inspect(args) => args.source.clone(),
            Command::Loader(args) => args.source.clone(),
            Command::Estimate(args) => args.profile_report.display().to_string(),
            Command::History(args) => args.uri.clone(),
            Command::Diff(args) => args.b.display().to_string(),
        }
    }

    /// The source named on the command line, for the commands that read one.
    pub fn source(&self) -> Option<&str> {
        match self {
            Command::Profile(args) => args.source.as_deref(),
            Command::Inspect(args) => Some(&args.source),
            Command::Loader(args) => Some(&args.source),
            Command::Estimate(_) | Command::History(_) | Command::Diff(_) => None,
        }
    }

    /// The `--storage-option` pairs given, for the history's store.
    pub fn storage_options(&self) -> Vec<(String, String)> {
        match self {
            Command::Profile(args) => args.store.storage_options.clone(),
            Command::Inspect(args) => args.store.storage_options.clone(),
            Command::Loader(args) => args.store.storage_options.clone(),
            Command::History(args) => args.storage_options.clone(),
            Command::Estimate(_) | Command::Diff(_) => Vec::new(),
        }
    }

    /// How the command's report is given.
    pub fn reporting(&self) -> &ReportArgs {
        match self {
            Command::Profile(args) => &args.reporting,
            Command::Inspect(args) => &args.reporting,
            Command::Loader(args) => &args.reporting,
            Command::Estimate(args) => &args.reporting,
            Command::History(args) => &args.reporting,
            Command::Diff(args) => &args.reporting,
        }
    }
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
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
            overwrite: args.overwrite,
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
            on_error: args.on_error.into(),
            budget: args.budget.into(),
            engine: args.engine,
            scheduler: args.scheduler,
        }
    }
}

/// Limits the run is held to; a breach writes every report and exits with code 1.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Budgets (a breach exits with code 1, reports written)")]
pub struct BudgetArgs {
    /// Most the run may cost in USD (compute, requests and egress); with --sample, the
    /// projected full run; for estimate, the plan.
    #[arg(long, value_name = "USD", value_parser = parse_limit)]
    pub max_cost_usd: Option<f64>,

    /// Most wall time the run may take: seconds, or 90s, 30m, 2h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_seconds: Option<f64>,

    /// Largest share of the source's rows the pipeline may drop: 0.3 or 30%.
    #[arg(long, value_name = "FRACTION", value_parser = parse_rate)]
    pub max_drop_rate: Option<f64>,

    /// Fewest tokens per second the loader must deliver.
    #[arg(long, value_name = "TOKENS/S", value_parser = parse_limit)]
    pub min_loader_tokens_per_s: Option<f64>,

    /// Most the source's rows or its bytes may grow over the previous run
    /// of the dataset in --history: 20% or 0.2.
    #[arg(long, value_name = "PERCENT", value_parser = parse_fraction)]
    pub max_growth: Option<f64>,
}

impl From<BudgetArgs> for Budget {
    fn from(args: BudgetArgs) -> Self {
        Budget {
            max_cost_usd: args.max_cost_usd,
            max_seconds: args.max_seconds,
            max_drop_rate: args.max_drop_rate,
            min_loader_tokens_per_s: args.min_loader_tokens_per_s,
            max_growth: args.max_growth,
            stages: Default::default(),
        }
    }
}

fn parse_limit(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    non_negative(value)
}

/// Seconds, or a number with `s`, `m` or `h`.
fn parse_duration(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, unit) = match trimmed.char_indices().last() {
        Some((i, 's')) => (&trimmed[..i], 1.0),
        Some((i, 'm')) => (&trimmed[..i], 60.0),
        Some((i, 'h')) => (&trimmed[..i], 3600.0),
        _ => (trimmed, 1.0),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 90, 90s, 30m or 2h"))?;
    non_negative(value * unit)
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match parse_fraction(text)? {
        rate if rate > 1.0 => Err(format!("'{text}' is above 1 (100%): a drop rate is 0–1")),
        rate => Ok(rate),
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

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// Budget limits and durations: finite numbers of zero or more, or a message.
        #[test]
        fn any_text_is_a_limit_or_a_duration_or_says_why(
            text in proptest::prop_oneof![
                proptest::arbitrary::any::<String>(),
                "[ +-]?([0-9]{0,8}|inf|NaN)(\\.[0-9]{0,4})?([eE][+-]?[0-9]{1,4})? ?[smhx]?",
            ]
        ) {
            for parsed in [parse_limit(&text), parse_duration(&text)] {
                match parsed {
                    Ok(value) => proptest::prop_assert!(value.is_finite() && value >= 0.0),
                    Err(message) => proptest::prop_assert!(!message.is_empty()),
                }
            }
        }
    }
}
