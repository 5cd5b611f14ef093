//! Sampled runs: what each sampling mode reads, that a seed fixes the sample, that content
//! sampling keeps copies together and projects duplicates, and the command line's refusals.

use std::path::Path;

use datafusion::parquet::arrow::ArrowWriter;
use prepcost::config::ProfileRequest;
use prepcost::model::ProfileReport;
use prepcost::model::profile::Estimate;
use prepcost::source::SampleBy;

use crate::support::{assert_error, prepcost, profile, text_batch};

/// `groups` row groups of 100 rows: every 7th text empty (`clean` drops it), and texts that
/// repeat across row groups (`dedup_exact` drops the later copies).
fn write_dataset(path: &Path, groups: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = None;
    for g in 0..groups {
        let ids: Vec<i64> = (0..100).map(|i| (g * 100 + i) as i64).collect();
        let texts: Vec<String> = ids
            .iter()
            .map(|&id| match id % 7 {
                0 => String::new(),
                _ => format!("a text about topic number {}", (id * 7919) % 2500),
            })
            .collect();
        let batch = text_batch(
            "text",
            &ids,
            &texts.iter().map(|t| Some(t.as_str())).collect::<Vec<_>>(),
        );
        let writer = writer.get_or_insert_with(|| {
            ArrowWriter::try_new(file.try_clone().unwrap(), batch.schema(), None).unwrap()
        });
        writer.write(&batch).unwrap();
        writer.flush().unwrap();
    }
    writer.unwrap().close().unwrap();
}

async fn run(path: &Path, sample: Option<(&str, SampleBy, u64)>) -> ProfileReport {
    profile(ProfileRequest {
        source: Some(path.to_str().unwrap().to_string()),
        tokenizer: Some("cl100k_base".into()),
        sample: sample.map(|s| s.0.to_string()),
        sample_by: sample.map(|s| s.1),
        seed: sample.map(|s| s.2),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn inside(truth: u64, e: &Estimate) -> bool {
    e.low <= truth as f64 && truth as f64 <= e.high
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_group_sample_reads_its_row_groups_and_projects_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_dataset(&path, 80);
    let full = run(&path, None).await;
    assert!(full.sample.is_none() && full.projected.is_none());
    assert!(full.stages.iter().all(|s| s.projected.is_none()));
    // Every CPU second of the run is in one part.
    let p = full.totals.run_cpu_by_part;
    let parts = p.scan + p.stages + p.tokens + p.output + p.other;
    assert!((parts - full.totals.run_cpu_seconds).abs() < 1e-9, "{p:?}");
    assert!(p.tokens > 0.0 && p.tokens == full.tokens.as_ref().unwrap().cpu_seconds);

    let sampled = run(&path, Some(("0.5", SampleBy::RowGroup, 3))).await;
    let sample = sampled.sample.as_ref().unwrap();
    assert_eq!(
        (sample.mode, sample.row_groups, sample.units),
        ("row-group", 40, 40)
    );
    assert_eq!(sample.rows, 4000);
    assert_eq!(sampled.source.rows, 4000);
    let projected = sampled.projected.as_ref().unwrap();
    assert_eq!(projected.totals.rows_in, Estimate::exact(8000.0));
    // `clean` looks at one row at a time: its projection holds the full run's figures.
    let clean = sampled.stages[0].projected.as_ref().unwrap();
    assert!(
        inside(full.stages[0].rows_out, &clean.rows_out),
        "{clean:?}"
    );
    assert!(
        inside(full.stages[0].rows_dropped, &clean.rows_dropped),
        "{clean:?}"
    );
    assert!(inside(
        full.stages[0].tokens_out.unwrap().total,
        &clean.tokens_out.unwrap()
    ));
    for stage in &sampled.stages {
        let p = stage.projected.as_ref().unwrap();
        for e in [
            p.rows_out,
            p.text_bytes_out,
            p.wall_seconds,
            p.cpu_seconds,
            p.peak_memory_bytes,
        ] {
            assert!(
                e.low <= e.value && e.value <= e.high,
                "{}: {e:?}",
                stage.name
            );
        }
    }
    // Row groups hold copies of texts in other row groups: the duplicates are biased low,
    // and the report says so.
    assert!(
        sample.notes.iter().any(|n| n.contains("biased low")),
        "{:?}",
        sample.notes
    );
    assert!(projected.exact_duplicates.is_some());
    assert!(projected.cost_usd.value > 0.0);
    let p = projected.totals.run_cpu_by_part;
    let parts = [p.scan, p.stages, p.tokens, p.output, p.other];
    let sum = parts.iter().fold(0.0, |a, e| a + e.value);
    assert!((sum - projected.totals.run_cpu_seconds.value).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seed_fixes_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_dataset(&path, 60);
    let rows = |r: &ProfileReport| {
        r.stages
            .iter()
            .map(|s| (s.rows_out, s.text_bytes_out))
            .collect::<Vec<_>>()
    };
    for by in [SampleBy::RowGroup, SampleBy::Content, SampleBy::MinHash] {
        let a = run(&path, Some(("0.5", by, 1))).await;
        let b = run(&path, Some(("0.5", by, 1))).await;
        let c = run(&path, Some(("0.5", by, 2))).await;
        assert_eq!(rows(&a), rows(&b), "{by:?}");
        assert_ne!(rows(&a), rows(&c), "{by:?}");
        assert_eq!(a.sample.as_ref().unwrap().seed, 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn content_sampling_keeps_copies_together_and_projects_the_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_dataset(&path, 60);
    let full = run(&path, None).await;
    let duplicates = full.stages[2].rows_dropped;
    assert!(duplicates > 1000, "{duplicates}");
    let sampled = run(&path, Some(("0.4", SampleBy::Content, 5))).await;
    let sample = sampled.sample.as_ref().unwrap();
    assert_eq!(sample.mode, "content");
    assert_eq!(
        sample.row_groups, 60,
        "content sampling reads every row group"
    );
    // Every copy of a kept text is kept: the sample's texts have all their copies.
    assert!(sample.units < sample.rows);
    let projected = sampled.projected.as_ref().unwrap();
    let exact = projected.exact_duplicates.unwrap();
    assert!(inside(duplicates, &exact), "{duplicates} outside {exact:?}");
    assert!(inside(full.totals.rows_out, &projected.totals.rows_out));
    assert!(!sample.notes.iter().any(|n| n.contains("biased low")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dataset_of_one_row_group_samples_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_dataset(&path, 1);
    let sampled = run(&path, Some(("0.5", SampleBy::RowGroup, 0))).await;
    let sample = sampled.sample.as_ref().unwrap();
    assert_eq!(sample.mode, "row");
    assert!((20..80).contains(&sample.rows), "{}", sample.rows);
    assert!(
        sample
            .notes
            .iter()
            .any(|n| n.contains("rows are sampled inside"))
    );
    let all = run(&path, Some(("1", SampleBy::RowGroup, 0))).await;
    assert_eq!(all.sample.as_ref().unwrap().rows, 100);
    let projected = all.projected.as_ref().unwrap();
    assert_eq!(
        projected.totals.rows_out.low,
        projected.totals.rows_out.high
    );
}

#[test]
fn bad_fractions_are_refused_in_one_line() {
    let data = crate::support::repo_str("sample-data/fortunes_zh.parquet");
    for fraction in ["0", "-0.1", "1.5", "abc", "NaN"] {
        let run = prepcost(&["profile", &data, &format!("--sample={fraction}")]);
        assert_error(&run, &["--sample", "above 0 and at most 1"]);
    }
    for fractions in ["0.1,0", "0.1,abc", "0.1,0.2,0.3,0.4,0.5"] {
        let run = prepcost(&["profile", &data, &format!("--sample={fractions}")]);
        assert_error(&run, &["--sample"]);
    }
    let run = prepcost(&["profile", &data, "--sample-by", "content"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--sample"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn several_sizes_fit_each_stage_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_dataset(&path, 60);
    let sampled = run(&path, Some(("0.5,0.1,0.2", SampleBy::Content, 1))).await;
    assert_eq!(sampled.sample.as_ref().unwrap().fraction, 0.5);
    for stage in &sampled.stages {
        let p = stage.projected.as_ref().unwrap();
        // A size where a step held no memory of its own (or took no CPU time) is left out.
        for model in [p.time_model, p.memory_model] {
            assert!((2..=3).contains(&model.sizes), "{}: {model:?}", stage.name);
            assert!(["linear", "n_log_n", "power"].contains(&model.model));
            assert_eq!(model.rms_log_error.is_some(), model.sizes == 3);
        }
        assert_eq!(p.time_model.sizes, 3, "{}", stage.name);
    }
    let single = run(&path, Some(("0.5", SampleBy::Content, 1))).await;
    let p = single.stages[0].projected.as_ref().unwrap();
    assert_eq!((p.memory_model.model, p.memory_model.sizes), ("linear", 1));
    assert_eq!(p.time_model.rms_log_error, None);
}

/// `bases` texts of 40 words, each also written with its last word changed (a near
/// duplicate, Jaccard 36/44 of word 5-grams) and every fourth copied exactly.
fn write_near_duplicates(path: &Path, bases: usize) {
    let word = |i: usize| format!("w{}", (i * 2_654_435_761) % 9973);
    let mut texts = Vec::new();
    for b in 0..bases {
        let words: Vec<String> = (0..40).map(|i| word(b * 40 + i)).collect();
        texts.push(words.join(" "));
        let mut changed = words.clone();
        changed[39] = format!("changed{b}");
        texts.push(changed.join(" "));
        if b % 4 == 0 {
            texts.push(words.join(" "));
        }
    }
    let ids: Vec<i64> = (0..texts.len() as i64).collect();
    let refs: Vec<Option<&str>> = texts.iter().map(|t| Some(t.as_str())).collect();
    crate::support::write_parquet(path, &[text_batch("text", &ids, &refs)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn minhash_sampling_keeps_near_duplicates_together_and_corrects_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_near_duplicates(&path, 1500);
    let request = |sample: Option<&str>| ProfileRequest {
        source: Some(path.to_str().unwrap().to_string()),
        tokenizer: Some("none".into()),
        near_dedup: true,
        sample: sample.map(str::to_string),
        sample_by: Some(SampleBy::MinHash),
        seed: Some(3),
        ..Default::default()
    };
    let full = profile(request(None)).await.unwrap();
    let near_truth = full.stages.last().unwrap().rows_dropped;
    let exact_truth = full.stages[2].rows_dropped;
    assert!(
        near_truth > 1000 && exact_truth > 300,
        "{near_truth} {exact_truth}"
    );
    let sampled = profile(request(Some("0.4"))).await.unwrap();
    let sample = sampled.sample.as_ref().unwrap();
    assert_eq!(sample.mode, "minhash");
    assert!(
        sample.notes.iter().any(|n| n.contains("median similarity")),
        "{:?}",
        sample.notes
    );
    let projected = sampled.projected.as_ref().unwrap();
    let near = projected.near_duplicates.unwrap();
    assert!(inside(near_truth, &near), "{near_truth} outside {near:?}");
    let exact = projected.exact_duplicates.unwrap();
    assert!(
        inside(exact_truth, &exact),
        "{exact_truth} outside {exact:?}"
    );
}
