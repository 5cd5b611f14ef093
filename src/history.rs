//! The run history: each run appends one Parquet file below a directory or object-store
//! prefix (one row for the run, one per stage), never rewriting earlier files; reading it
//! back gives trends and the previous run that `--max-growth` compares against.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::budget::Previous;
use crate::error::{Error, Result, one_line};
use crate::model::Report;
use crate::storage::instrumented::RequestCounter;
use crate::storage::{self, Location, StorageOptions};

/// One row of the history: a run (`stage` absent) or one of its stages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryRow {
    /// When the run ended, in microseconds since the Unix epoch (UTC).
    pub recorded_at_us: i64,
    /// `<time>-<pid>`: the rows of one run share it.
    pub run_id: String,
    pub command: String,
    pub dataset: String,
    /// A fingerprint of the pipeline (profile) or of the settings (loader, inspect).
    pub pipeline_hash: String,
    pub prepcost_version: String,
    pub stage: Option<String>,
    /// Rows of the dataset, from its footers (run rows).
    pub dataset_rows: Option<u64>,
    pub rows_in: Option<u64>,
    pub rows_out: Option<u64>,
    pub drop_rate: Option<f64>,
    pub wall_seconds: Option<f64>,
    pub cpu_seconds: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
    pub tokens_out: Option<u64>,
    /// What the run cost: compute, requests and egress.
    pub cost_usd: Option<f64>,
    /// The full run's projected cost, when a sample ran.
    pub projected_cost_usd: Option<f64>,
    pub storage_bytes: Option<u64>,
    pub storage_usd_per_month: Option<f64>,
    pub rows_per_second: Option<f64>,
    pub tokens_per_second: Option<f64>,
    pub budget_breaches: Option<u64>,
    pub sampled: bool,
}

/// Appends `report`'s rows to the history at `uri`, as a new file.
pub async fn append(uri: &str, report: &Report, options: &StorageOptions) -> Result<()> {
    let now = Utc::now();
    let run_id = crate::util::run_id(now);
    let rows = rows_of(report, now, &run_id);
    if rows.is_empty() {
        return Ok(());
    }
    let bytes = encode(&rows).map_err(|e| history_error(uri, e))?;
    let name = format!("{run_id}.parquet");
    let requests = Arc::new(RequestCounter::default());
    match storage::output_location(uri, options, &requests)? {
        Some(remote) => {
            let path = ObjectPath::parse(format!("{}/{name}", remote.path))
                .map_err(|e| history_error(uri, e.to_string()))?;
            remote
                .store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(|e| history_error(uri, one_line(&e.to_string())))?;
        }
        None => {
            let dir = std::path::Path::new(uri.strip_prefix("file://").unwrap_or(uri));
            std::fs::create_dir_all(dir).map_err(|e| history_error(uri, e.to_string()))?;
            crate::output::write_bytes(&dir.join(name), &bytes)?;
        }
    }
    Ok(())
}

/// Every row of the history at `uri` (of `dataset` alone when given), oldest first.
pub async fn read(
    uri: &str,
    dataset: Option<&str>,
    options: &StorageOptions,
) -> Result<Vec<HistoryRow>> {
    let Some((location, files)) = files(uri, options).await? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for file in &files {
        rows.extend(rows_in(&location, file, uri).await?);
    }
    rows.retain(|r| dataset.is_none_or(|d| r.dataset == d));
    rows.sort_by(|a, b| (a.recorded_at_us, &a.run_id).cmp(&(b.recorded_at_us, &b.run_id)));
    Ok(rows)
}

/// The figures of the last run of `command` on `dataset` in the history at `uri`.
pub async fn previous(
    uri: &str,
    command: &str,
    dataset: &str,
    options: &StorageOptions,
) -> Result<Option<Previous>> {
    let Some((location, files)) = files(uri, options).await? else {
        return Ok(None);
    };
    // Files are named by the time they were written: read back from the newest until a run
    // of `command` on `dataset` turns up.
    for file in files.iter().rev() {
        let rows = rows_in(&location, file, uri).await?;
        let last = rows
            .iter()
            .rev()
            .find(|r| r.stage.is_none() && r.command == command && r.dataset == dataset);
        if let Some(r) = last {
            return Ok(Some(Previous {
                rows: r.dataset_rows.unwrap_or(0) as f64,
                file_bytes: r.storage_bytes.unwrap_or(0) as f64,
            }));
        }
    }
    Ok(None)
}

/// The history's store and its files, oldest first; `None` for a history not written to yet
/// (a missing directory, or a prefix with no object).
async fn files(uri: &str, options: &StorageOptions) -> Result<Option<(Location, Vec<ObjectPath>)>> {
    let location = match storage::resolve(uri, options).await {
        Err(Error::SourceNotFound { .. }) => return Ok(None),
        other => other?,
    };
    let objects = match storage::list(&location).await {
        Err(Error::SourceNotFound { .. }) => return Ok(None),
        other => other?,
    };
    let files = objects
        .into_iter()
        .map(|o| o.location)
        .filter(|path| path.as_ref().ends_with(".parquet"))
        .collect();
    Ok(Some((location, files)))
}

/// The rows of one history file.
async fn rows_in(location: &Location, file: &ObjectPath, uri: &str) -> Result<Vec<HistoryRow>> {
    let failed = |e: object_store::Error| history_error(uri, one_line(&e.to_string()));
    let got = location.store.get(file).await.map_err(failed)?;
    let bytes = got.bytes().await.map_err(failed)?;
    decode(bytes).map_err(|e| history_error(&location.show(file), e))
}

fn history_error(uri: &str, message: impl Into<String>) -> Error {
    Error::Output {
        path: format!("history {uri}"),
        message: message.into(),
    }
}

/// The run row and stage rows of `report`, recorded at `now`.
fn rows_of(report: &Report, now: DateTime<Utc>, run_id: &str) -> Vec<HistoryRow> {
    let base = HistoryRow {
        recorded_at_us: now.timestamp_micros(),
        run_id: run_id.to_string(),
        command: report.command().to_string(),
        dataset: report.dataset().to_string(),
        prepcost_version: env!("CARGO_PKG_VERSION").to_string(),
        budget_breaches: report.budget().map(|b| b.breaches.len() as u64),
        ..HistoryRow::default()
    };
    match report {
        Report::Profile(r) => {
            let t = &r.totals;
            let c = &r.cost;
            let base = HistoryRow {
                pipeline_hash: r.run.pipeline_hash.clone(),
                sampled: r.sample.is_some(),
                ..base
            };
            let mut rows = vec![HistoryRow {
                dataset_rows: Some(r.storage.rows),
                rows_in: Some(t.rows_in),
                rows_out: Some(t.rows_out),
                drop_rate: Some(t.drop_rate),
                wall_seconds: Some(t.run_wall_seconds),
                cpu_seconds: Some(t.run_cpu_seconds),
                peak_memory_bytes: Some(t.peak_rss_bytes),
                tokens_out: r.tokens.as_ref().map(|t| t.result.total),
                cost_usd: Some(c.compute_usd + c.requests_usd + c.egress_usd),
                projected_cost_usd: r.projected.as_ref().map(|p| p.cost_usd.value),
                storage_bytes: Some(r.storage.file_bytes),
                storage_usd_per_month: Some(c.source_storage_usd_per_month),
                ..base.clone()
            }];
            rows.extend(r.stages.iter().map(|s| HistoryRow {
                stage: Some(s.name.clone()),
                rows_in: Some(s.rows_in),
                rows_out: Some(s.rows_out),
                drop_rate: Some(s.drop_rate),
                wall_seconds: Some(s.wall_seconds),
                cpu_seconds: Some(s.cpu_seconds),
                peak_memory_bytes: Some(s.peak_memory_bytes),
                tokens_out: s.tokens_out.as_ref().map(|t| t.total),
                ..base.clone()
            }));
            rows
        }
        Report::Loader(r) => {
            let settings = serde_json::to_string(&r.settings).unwrap_or_default();
            let base = HistoryRow {
                pipeline_hash: fingerprint(&format!("{settings}{:?}", r.source.columns)),
                ..base
            };
            let l = &r.loader;
            let mut rows = vec![HistoryRow {
                dataset_rows: Some(r.source.rows),
                rows_out: Some(l.rows),
                wall_seconds: Some(r.run.wall_seconds),
                cpu_seconds: Some(l.cpu_seconds),
                tokens_out: l.tokens_total,
                cost_usd: Some(r.cost.requests_usd + r.cost.egress_usd),
                storage_bytes: Some(r.source.projected_compressed_bytes),
                rows_per_second: Some(l.rows_per_s),
                tokens_per_second: l.tokens_per_s,
                ..base.clone()
            }];
            rows.extend(r.loader.scaling.iter().map(|s| HistoryRow {
                stage: Some(format!("{} workers", s.workers)),
                rows_out: Some(s.rows),
                wall_seconds: Some(s.wall_seconds),
                rows_per_second: Some(s.rows_per_s),
                tokens_per_second: s.tokens_per_s,
                ..base.clone()
            }));
            rows
        }
        Report::Inspect(r) => vec![HistoryRow {
            pipeline_hash: fingerprint(&format!("{:?}", r.projection.as_ref().map(|p| &p.columns))),
            dataset_rows: Some(r.totals.rows),
            wall_seconds: Some(r.run.wall_seconds),
            cost_usd: Some(r.cost.requests_usd + r.cost.egress_usd),
            storage_bytes: Some(r.totals.file_bytes),
            storage_usd_per_month: Some(r.totals.storage_usd_per_month),
            ..base
        }],
        Report::Estimate(r) => vec![HistoryRow {
            dataset_rows: Some(r.basis.rows),
            rows_out: Some(r.totals.rows_out.value.round() as u64),
            wall_seconds: Some(r.totals.wall_seconds.value),
            cost_usd: Some(r.cost.total_usd.value),
            sampled: true,
            ..base
        }],
        Report::Interrupted(_) | Report::History(_) | Report::Diff(_) => Vec::new(),
    }
}

fn fingerprint(text: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

fn schema() -> SchemaRef {
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let count = |name: &str| Field::new(name, DataType::UInt64, true);
    let float = |name: &str| Field::new(name, DataType::Float64, true);
    Arc::new(Schema::new(vec![
        Field::new("recorded_at", utc, false),
        text("run_id", false),
        text("command", false),
        text("dataset", false),
        text("pipeline_hash", false),
        text("prepcost_version", false),
        text("stage", true),
        count("dataset_rows"),
        count("rows_in"),
        count("rows_out"),
        float("drop_rate"),
        float("wall_seconds"),
        float("cpu_seconds"),
        count("peak_memory_bytes"),
        count("tokens_out"),
        float("cost_usd"),
        float("projected_cost_usd"),
        count("storage_bytes"),
        float("storage_usd_per_month"),
        float("rows_per_second"),
        float("tokens_per_second"),
        count("budget_breaches"),
        Field::new("sampled", DataType::Boolean, false),
    ]))
}

/// `rows` as one Parquet file.
fn encode(rows: &[HistoryRow]) -> std::result::Result<Bytes, String> {
    let strings = |f: &dyn Fn(&HistoryRow) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let counts = |f: &dyn Fn(&HistoryRow) -> Option<u64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<UInt64Array>())
    };
    let floats = |f: &dyn Fn(&HistoryRow) -> Option<f64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Float64Array>())
    };
    let times = TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.recorded_at_us))
        .with_timezone("UTC");
    let columns: Vec<ArrayRef> = vec![
        Arc::new(times),
        strings(&|r| Some(&r.run_id)),
        strings(&|r| Some(&r.command)),
        strings(&|r| Some(&r.dataset)),
        strings(&|r| Some(&r.pipeline_hash)),
        strings(&|r| Some(&r.prepcost_version)),
        strings(&|r| r.stage.as_deref()),
        counts(&|r| r.dataset_rows),
        counts(&|r| r.rows_in),
        counts(&|r| r.rows_out),
        floats(&|r| r.drop_rate),
        floats(&|r| r.wall_seconds),
        floats(&|r| r.cpu_seconds),
        counts(&|r| r.peak_memory_bytes),
        counts(&|r| r.tokens_out),
        floats(&|r| r.cost_usd),
        floats(&|r| r.projected_cost_usd),
        counts(&|r| r.storage_bytes),
        floats(&|r| r.storage_usd_per_month),
        floats(&|r| r.rows_per_second),
        floats(&|r| r.tokens_per_second),
        counts(&|r| r.budget_breaches),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.sampled))
                .collect::<BooleanArray>(),
        ),
    ];
    let batch = RecordBatch::try_new(schema(), columns).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut out, batch.schema(), None).map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    Ok(Bytes::from(out))
}

/// The rows of one history file; columns found by name, so that files written by other
/// versions (with fewer or more columns) read too.
fn decode(bytes: Bytes) -> std::result::Result<Vec<HistoryRow>, String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .map_err(|e| format!("not a history file: {e}"))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let column = |name: &str| batch.column_by_name(name);
        let text = |name: &str, i: usize| -> Option<String> {
            let array = column(name)?.as_any().downcast_ref::<StringArray>()?;
            array.is_valid(i).then(|| array.value(i).to_string())
        };
        let count = |name: &str, i: usize| -> Option<u64> {
            let array = column(name)?.as_any().downcast_ref::<UInt64Array>()?;
            array.is_valid(i).then(|| array.value(i))
        };
        let float = |name: &str, i: usize| -> Option<f64> {
            let array = column(name)?.as_any().downcast_ref::<Float64Array>()?;
            array.is_valid(i).then(|| array.value(i))
        };
        let times = column("recorded_at")
            .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
            .ok_or("not a history file: no recorded_at column")?;
        for i in 0..batch.num_rows() {
            rows.push(HistoryRow {
                recorded_at_us: times.value(i),
                run_id: text("run_id", i).unwrap_or_default(),
                command: text("command", i).unwrap_or_default(),
                dataset: text("dataset", i).unwrap_or_default(),
                pipeline_hash: text("pipeline_hash", i).unwrap_or_default(),
                prepcost_version: text("prepcost_version", i).unwrap_or_default(),
                stage: text("stage", i),
                dataset_rows: count("dataset_rows", i),
                rows_in: count("rows_in", i),
                rows_out: count("rows_out", i),
                drop_rate: float("drop_rate", i),
                wall_seconds: float("wall_seconds", i),
                cpu_seconds: float("cpu_seconds", i),
                peak_memory_bytes: count("peak_memory_bytes", i),
                tokens_out: count("tokens_out", i),
                cost_usd: float("cost_usd", i),
                projected_cost_usd: float("projected_cost_usd", i),
                storage_bytes: count("storage_bytes", i),
                storage_usd_per_month: float("storage_usd_per_month", i),
                rows_per_second: float("rows_per_second", i),
                tokens_per_second: float("tokens_per_second", i),
                budget_breaches: count("budget_breaches", i),
                sampled: column("sampled")
                    .and_then(|c| c.as_any().downcast_ref::<BooleanArray>())
                    .is_some_and(|a| a.is_valid(i) && a.value(i)),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_a_round_trip_through_parquet() {
        let rows = vec![
            HistoryRow {
                recorded_at_us: 1_700_000_000_000_000,
                run_id: "r1".into(),
                command: "profile".into(),
                dataset: "data/".into(),
                pipeline_hash: "abc".into(),
                prepcost_version: "0.1.0".into(),
                dataset_rows: Some(10),
                cost_usd: Some(0.5),
                budget_breaches: Some(1),
                sampled: true,
                ..HistoryRow::default()
            },
            HistoryRow {
                stage: Some("clean".into()),
                rows_in: Some(10),
                rows_out: Some(9),
                drop_rate: Some(0.1),
                ..HistoryRow::default()
            },
        ];
        let bytes = encode(&rows).unwrap();
        assert_eq!(decode(bytes).unwrap(), rows);
    }

    #[test]
    fn a_file_that_is_not_history_is_named_as_such() {
        let e = decode(Bytes::from_static(b"not parquet")).unwrap_err();
        assert!(e.starts_with("not a history file"), "{e}");
    }
}
