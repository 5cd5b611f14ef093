//! The command line: clap derive structs only, turned into library requests here so that no
//! other module sees a clap type.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{InspectRequest, ProfileRequest};
use crate::dataset::OnError;
use crate::report::ReportFormat;

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
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub sample_size: Option<u64>,

    /// The what-if recommends only layouts that decode at least this fast, in MB/s on one
    /// thread [default: 200].
    #[arg(long, value_name = "MB/S")]
    pub min_decode_mb_per_s: Option<f64>,

    /// What to do with a file that cannot be read.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,

    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,

    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Storage price in USD per GB-month [default: 0.023].
    #[arg(long, value_name = "USD", env = "PREPCOST_USD_PER_GB_MONTH")]
    pub usd_per_gb_month: Option<f64>,

    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
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
            format: args.format.into(),
            report: args.report,
            usd_per_gb_month: args.usd_per_gb_month,
            quiet: args.quiet,
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

    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,

    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write the final result as zstd Parquet to this directory (replaced atomically).
    #[arg(long, value_name = "DIR")]
    pub output: Option<String>,

    /// Memory for the query engine and intermediate results, e.g. 4GiB [default: half of RAM].
    /// Intermediates beyond it spill to local Parquet.
    #[arg(long, value_name = "SIZE", env = "PREPCOST_MEMORY_LIMIT", value_parser = crate::memory::parse_size)]
    pub memory_limit: Option<u64>,

    /// Compute price in USD per vCPU-hour [default: 0.0504].
    #[arg(long, value_name = "USD", env = "PREPCOST_USD_PER_VCPU_HOUR")]
    pub usd_per_vcpu_hour: Option<f64>,

    /// Storage price in USD per GB-month [default: 0.023].
    #[arg(long, value_name = "USD", env = "PREPCOST_USD_PER_GB_MONTH")]
    pub usd_per_gb_month: Option<f64>,

    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl From<FormatArg> for ReportFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Table => ReportFormat::Table,
            FormatArg::Json => ReportFormat::Json,
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
            memory_limit: args.memory_limit,
            format: args.format.into(),
            report: args.report,
            usd_per_vcpu_hour: args.usd_per_vcpu_hour,
            usd_per_gb_month: args.usd_per_gb_month,
            quiet: args.quiet,
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
