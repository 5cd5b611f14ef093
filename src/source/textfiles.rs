//! JSONL and CSV sources, plain or compressed (gzip, zstd, bzip2, xz): read in full through
//! the store, since they have no footers, for their sizes, rows and inferred columns, and a
//! decoded sample of their first rows for the what-if of converting them to Parquet.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::reader::Format as CsvFormat;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::json::reader::infer_json_schema;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::error::DataFusionError;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectMeta, ObjectStoreExt};

use super::dataset::none_readable;
use super::sample::{Sample, TEXT_ROW_GROUP_ROWS};
use super::spec::OnError;
use crate::error::{Error, Result, clean, describe};
use crate::model::inspect::{SampleSummary, SkippedFile, TextColumn, TextFilesSummary};
use crate::storage::{self, Location};
use crate::util::units::ratio;

/// Rows per batch when decoding the sample.
const BATCH_ROWS: usize = 8192;
/// Records read to infer the columns of a CSV file.
const CSV_INFER_RECORDS: usize = 10_000;

/// A line-oriented text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma- (or tab-) separated values with a header line.
    Csv { delimiter: u8 },
}

/// How a text file is compressed, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }

    pub fn file_compression_type(self) -> FileCompressionType {
        match self {
            Compression::None => FileCompressionType::UNCOMPRESSED,
            Compression::Gzip => FileCompressionType::GZIP,
            Compression::Zstd => FileCompressionType::ZSTD,
            Compression::Bzip2 => FileCompressionType::BZIP2,
            Compression::Xz => FileCompressionType::XZ,
        }
    }
}

impl TextFormat {
    pub fn name(self) -> &'static str {
        match self {
            TextFormat::Jsonl => "jsonl",
            TextFormat::Csv { .. } => "csv",
        }
    }
}

/// The format and compression of a file, from its name (`x.jsonl.zst`, `y.csv.gz`, `z.tsv`),
/// or `None` when the name is not that of a JSONL or CSV file.
pub fn classify(name: &str) -> Option<(TextFormat, Compression)> {
    let lower = name.to_ascii_lowercase();
    let (stem, compression) = [
        (".gz", Compression::Gzip),
        (".gzip", Compression::Gzip),
        (".zst", Compression::Zstd),
        (".zstd", Compression::Zstd),
        (".bz2", Compression::Bzip2),
        (".xz", Compression::Xz),
    ]
    .into_iter()
    .find_map(|(suffix, c)| lower.strip_suffix(suffix).map(|stem| (stem, c)))
    .unwrap_or((lower.as_str(), Compression::None));
    let format = match stem.rsplit_once('.')?.1 {
        "jsonl" | "ndjson" | "json" => TextFormat::Jsonl,
        "csv" => TextFormat::Csv { delimiter: b',' },
        "tsv" => TextFormat::Csv { delimiter: b'\t' },
        _ => return None,
    };
    Some((format, compression))
}

/// What reading a text dataset found.
pub struct TextDataset {
    pub format: TextFormat,
    pub files: Vec<TextFileFacts>,
    pub skipped: Vec<SkippedFile>,
    pub summary: TextFilesSummary,
    /// The first rows, decoded, for the what-if.
    pub sample: Sample,
}

/// One text file.
#[derive(Debug, Clone)]
pub struct TextFileFacts {
    pub display: String,
    /// Bytes on storage.
    pub bytes: u64,
    pub decompressed_bytes: u64,
    pub rows: u64,
}

/// The JSONL or CSV files at `location` (of the first format found, in lexical order), or
/// `None` when there are none.
pub async fn find(
    location: &Location,
) -> Result<Option<(TextFormat, Vec<(ObjectMeta, Compression)>)>> {
    let objects = storage::list(location).await?;
    let mut format = None;
    let mut files = Vec::new();
    for object in objects {
        let Some((f, compression)) = object.location.filename().and_then(classify) else {
            continue;
        };
        if location.is_hidden(&object.location) {
            continue;
        }
        match format {
            None => format = Some(f),
            Some(known) if known.name() != f.name() => continue,
            Some(_) => {}
        }
        files.push((object, compression));
    }
    Ok(format.map(|f| (f, files)))
}

/// Reads every file in full: sizes, rows and, from the first `sample_size` decompressed
/// bytes of the dataset, the columns and a decoded sample.
pub async fn read(
    location: &Location,
    format: TextFormat,
    files: Vec<(ObjectMeta, Compression)>,
    sample_size: u64,
    on_error: OnError,
) -> Result<TextDataset> {
    let compressions: Vec<Compression> = files.iter().map(|(_, c)| *c).collect();
    let mut facts = Vec::new();
    let mut skipped = Vec::new();
    let mut prefix = Vec::new();
    // Bytes on storage of the part of each file that went into the prefix.
    let mut sampled_storage_bytes = 0.0;
    for (object, compression) in files {
        let display = location.show(&object.location);
        let wanted = (sample_size as usize).saturating_sub(prefix.len());
        match read_file(location, &object, compression, format, wanted).await {
            Ok((file_facts, head)) => {
                let share = ratio(head.len() as f64, file_facts.decompressed_bytes as f64);
                sampled_storage_bytes += share * file_facts.bytes as f64;
                prefix.extend_from_slice(&head);
                facts.push(TextFileFacts {
                    display,
                    ..file_facts
                });
            }
            Err(message) if on_error == OnError::Skip => skipped.push(SkippedFile {
                path: display,
                reason: message,
            }),
            Err(message) => {
                return Err(Error::SourceFile {
                    path: display,
                    message,
                });
            }
        }
    }
    if facts.is_empty() {
        return Err(none_readable(location, &skipped));
    }
    let first = &facts[0].display;
    let (schema, batches) =
        decode_sample(format, &prefix).map_err(|message| Error::SourceFile {
            path: first.clone(),
            message,
        })?;
    let rows_sampled: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let decoded_bytes = batches
        .iter()
        .map(|b| b.get_array_memory_size() as u64)
        .sum();
    let summary = summary(&compressions, &facts, &schema);
    Ok(TextDataset {
        format,
        files: facts,
        skipped,
        summary,
        sample: Sample {
            schema,
            batches,
            today_row_group_rows: TEXT_ROW_GROUP_ROWS,
            summary: SampleSummary {
                row_groups: 0,
                rows: rows_sampled,
                bytes: sampled_storage_bytes as u64,
                decoded_bytes,
            },
        },
    })
}

/// The dataset's compression, rows, columns and decompressed size.
fn summary(
    compressions: &[Compression],
    facts: &[TextFileFacts],
    schema: &Schema,
) -> TextFilesSummary {
    let mut names: Vec<&str> = compressions.iter().map(|c| c.name()).collect();
    names.sort_unstable();
    names.dedup();
    TextFilesSummary {
        compression: names.join(","),
        rows: facts.iter().map(|f| f.rows).sum(),
        columns: schema
            .fields()
            .iter()
            .map(|f| TextColumn {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
            })
            .collect(),
        decompressed_bytes: facts.iter().map(|f| f.decompressed_bytes).sum(),
    }
}

/// Streams one file through its decompressor, counting bytes and rows; returns its facts
/// and its first `head_bytes` decompressed bytes (cut after a line end), or why it failed.
async fn read_file(
    location: &Location,
    object: &ObjectMeta,
    compression: Compression,
    format: TextFormat,
    head_bytes: usize,
) -> std::result::Result<(TextFileFacts, Vec<u8>), String> {
    let mut stream = decompressed(location, object, compression).await?;
    let mut counter = RowCounter::new(format);
    let mut head = Vec::new();
    let mut decompressed = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk: Bytes = chunk.map_err(|e| {
            format!(
                "reading it as {} {}: {}",
                compression.name(),
                format.name(),
                describe(&e)
            )
        })?;
        decompressed += chunk.len() as u64;
        if head.len() < head_bytes {
            let take = (head_bytes - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        counter.feed(&chunk);
    }
    let rows = counter.finish()?;
    // The sample ends at a line end, so that no record is cut.
    if (head.len() as u64) < decompressed {
        let end = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        head.truncate(end);
    }
    Ok((
        TextFileFacts {
            display: String::new(),
            bytes: object.size,
            decompressed_bytes: decompressed,
            rows,
        },
        head,
    ))
}

/// A file's decompressed bytes as they arrive, through DataFusion's codecs.
pub async fn decompressed(
    location: &Location,
    object: &ObjectMeta,
    compression: Compression,
) -> std::result::Result<BoxStream<'static, std::result::Result<Bytes, DataFusionError>>, String> {
    let get = location
        .store
        .get(&object.location)
        .await
        .map_err(|e| clean(&e.to_string()))?;
    let raw = get
        .into_stream()
        .map_err(|e| DataFusionError::ObjectStore(Box::new(e)))
        .boxed();
    compression
        .file_compression_type()
        .convert_stream(raw)
        .map_err(|e| describe(&e))
}

/// Counts records: non-blank lines of JSONL; CSV records (quotes may hold line ends) less
/// the header. Delimiters do not matter for counting.
enum RowCounter {
    Jsonl {
        rows: u64,
        line_has_content: bool,
    },
    Csv {
        rows: u64,
        in_quotes: bool,
        record_has_content: bool,
        header_seen: bool,
    },
}

impl RowCounter {
    fn new(format: TextFormat) -> Self {
        match format {
            TextFormat::Jsonl => RowCounter::Jsonl {
                rows: 0,
                line_has_content: false,
            },
            TextFormat::Csv { .. } => RowCounter::Csv {
                rows: 0,
                in_quotes: false,
                record_has_content: false,
                header_seen: false,
            },
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        match self {
            RowCounter::Jsonl {
                rows,
                line_has_content,
            } => {
                for &b in bytes {
                    if b == b'\n' {
                        *rows += u64::from(*line_has_content);
                        *line_has_content = false;
                    } else if !b.is_ascii_whitespace() {
                        *line_has_content = true;
                    }
                }
            }
            RowCounter::Csv {
                rows,
                in_quotes,
                record_has_content,
                header_seen,
            } => {
                for &b in bytes {
                    match b {
                        b'"' => {
                            // A doubled quote inside quotes toggles twice: no change.
                            *in_quotes = !*in_quotes;
                            *record_has_content = true;
                        }
                        b'\n' if !*in_quotes => {
                            if *record_has_content {
                                if *header_seen {
                                    *rows += 1;
                                } else {
                                    *header_seen = true;
                                }
                            }
                            *record_has_content = false;
                        }
                        b'\r' => {}
                        _ => *record_has_content = true,
                    }
                }
            }
        }
    }

    fn finish(mut self) -> std::result::Result<u64, String> {
        self.feed(b"\n");
        match self {
            RowCounter::Jsonl { rows, .. } => Ok(rows),
            RowCounter::Csv {
                rows, in_quotes, ..
            } => {
                if in_quotes {
                    Err("ends inside a quoted CSV field".into())
                } else {
                    Ok(rows)
                }
            }
        }
    }
}

/// Infers the columns of the sample and decodes it.
fn decode_sample(
    format: TextFormat,
    sample: &[u8],
) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), String> {
    let fail = |e: &dyn std::fmt::Display| format!("decoding its first rows: {e}");
    match format {
        TextFormat::Jsonl => {
            let (schema, _) = infer_json_schema(Cursor::new(sample), None).map_err(|e| fail(&e))?;
            let schema = Arc::new(schema);
            let reader = datafusion::arrow::json::ReaderBuilder::new(Arc::clone(&schema))
                .with_batch_size(BATCH_ROWS)
                .build(Cursor::new(sample))
                .map_err(|e| fail(&e))?;
            let batches = reader
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| fail(&e))?;
            Ok((schema, batches))
        }
        TextFormat::Csv { delimiter } => {
            let csv_format = CsvFormat::default()
                .with_header(true)
                .with_delimiter(delimiter);
            let (schema, _) = csv_format
                .infer_schema(Cursor::new(sample), Some(CSV_INFER_RECORDS))
                .map_err(|e| fail(&e))?;
            let decode = |schema: SchemaRef| {
                datafusion::arrow::csv::ReaderBuilder::new(schema)
                    .with_format(csv_format.clone())
                    .with_batch_size(BATCH_ROWS)
                    .build(Cursor::new(sample))
                    .and_then(|r| r.collect::<std::result::Result<Vec<_>, _>>())
            };
            let schema = Arc::new(schema);
            match decode(Arc::clone(&schema)) {
                Ok(batches) => Ok((schema, batches)),
                // Types inferred from the first records may not hold for later ones: read
                // every column as text then.
                Err(_) => {
                    let text = Arc::new(Schema::new(
                        schema
                            .fields()
                            .iter()
                            .map(|f| Field::new(f.name(), DataType::Utf8, true))
                            .collect::<Vec<_>>(),
                    ));
                    let batches = decode(Arc::clone(&text)).map_err(|e| fail(&e))?;
                    Ok((text, batches))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_format_and_compression() {
        assert_eq!(
            classify("corpus.jsonl.zst"),
            Some((TextFormat::Jsonl, Compression::Zstd))
        );
        assert_eq!(
            classify("a.CSV.gz"),
            Some((TextFormat::Csv { delimiter: b',' }, Compression::Gzip))
        );
        assert_eq!(
            classify("t.tsv"),
            Some((TextFormat::Csv { delimiter: b'\t' }, Compression::None))
        );
        assert_eq!(classify("x.parquet"), None);
        assert_eq!(classify("README"), None);
        assert_eq!(classify("data.gz"), None);
    }

    fn count(format: TextFormat, chunks: &[&str]) -> std::result::Result<u64, String> {
        let mut counter = RowCounter::new(format);
        for c in chunks {
            counter.feed(c.as_bytes());
        }
        counter.finish()
    }

    #[test]
    fn records_are_counted_across_chunks() {
        let jsonl = TextFormat::Jsonl;
        assert_eq!(
            count(jsonl, &["{\"a\":1}\n{\"a\"", ":2}\n\n  \n{\"a\":3}"]),
            Ok(3)
        );
        assert_eq!(count(jsonl, &[""]), Ok(0));
        let csv = TextFormat::Csv { delimiter: b',' };
        assert_eq!(
            count(
                csv,
                &["a,b\r\n1,\"x\ny\"\r\n2,", "\"he said \"\"hi\"\"\"\n"]
            ),
            Ok(2)
        );
        assert_eq!(count(csv, &["a,b\n"]), Ok(0));
        assert!(count(csv, &["a,b\n1,\"open"]).is_err());
    }

    #[test]
    fn samples_decode_with_inferred_types() {
        let (schema, batches) = decode_sample(
            TextFormat::Jsonl,
            b"{\"id\":1,\"text\":\"a\"}\n{\"id\":2}\n",
        )
        .unwrap();
        assert_eq!(
            schema.field_with_name("id").unwrap().data_type(),
            &DataType::Int64
        );
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
        let (schema, batches) = decode_sample(
            TextFormat::Csv { delimiter: b',' },
            b"id,text\n1,a\n2,\"b,c\"\n",
        )
        .unwrap();
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(batches[0].num_rows(), 2);
    }
}
