//! The stage runner through the library: empty input, stages that remove everything, the
//! spill path, determinism, other text columns and user SQL stages.

use std::path::PathBuf;

use prepcost::config::ProfileRequest;

use crate::support::{profile, read_rows, repo, stage_rows, text_batch, write_parquet};

fn request(source: &str) -> ProfileRequest {
    ProfileRequest {
        source: Some(source.to_string()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_dataset_runs_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.parquet");
    write_parquet(&path, &[text_batch("text", &[], &[])]);
    let out = dir.path().join("out");
    let report = profile(ProfileRequest {
        output: Some(out.to_str().unwrap().into()),
        ..request(path.to_str().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(report.source.rows, 0);
    assert_eq!(
        stage_rows(&report),
        [
            ("clean".into(), 0, 0),
            ("normalise".into(), 0, 0),
            ("dedup_exact".into(), 0, 0)
        ]
    );
    assert!(report.stages.iter().all(|s| s.drop_rate == 0.0));
    assert_eq!(report.output.unwrap().rows, 0);
    assert!(read_rows(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_that_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "[[stages]]\nquery = \"clean\"\nparams = { min_chars = 1000000 }\n[[stages]]\nquery = \"normalise\"\n[[stages]]\nquery = \"dedup_exact\"\n",
    )
    .unwrap();
    let report = profile(ProfileRequest {
        pipeline: Some(pipeline),
        ..request(repo("sample-data/fortunes_zh.parquet").to_str().unwrap())
    })
    .await
    .unwrap();
    let clean = &report.stages[0];
    assert_eq!((clean.rows_in, clean.rows_out), (5671, 0));
    assert_eq!(clean.drop_rate, 1.0);
    assert_eq!(report.stages[2].rows_out, 0);
    assert_eq!(report.totals.rows_out, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn spilling_gives_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let source = repo("sample-data/en_prose");
    let run = |memory_limit: Option<u64>, out: PathBuf| {
        profile(ProfileRequest {
            memory_limit,
            output: Some(out.to_str().unwrap().into()),
            ..request(source.to_str().unwrap())
        })
    };
    let in_memory = run(None, dir.path().join("a")).await.unwrap();
    let spilled = run(Some(24 << 20), dir.path().join("b")).await.unwrap();
    assert!(in_memory.stages.iter().all(|s| !s.spilled));
    assert!(
        spilled.scan.spilled,
        "the limit is below the decoded source"
    );
    assert!(spilled.stages.iter().all(|s| s.spilled));
    assert_eq!(stage_rows(&in_memory), stage_rows(&spilled));
    assert_eq!(
        read_rows(&dir.path().join("a")),
        read_rows(&dir.path().join("b"))
    );
    // No temporary file outlives the run.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let source = repo("sample-data/fortunes_intl.parquet");
    let mut outputs = Vec::new();
    for i in 0..3 {
        let out = dir.path().join(format!("out{i}"));
        profile(ProfileRequest {
            output: Some(out.to_str().unwrap().into()),
            ..request(source.to_str().unwrap())
        })
        .await
        .unwrap();
        outputs.push(read_rows(&out));
    }
    assert_eq!(outputs[0].len(), 9918);
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_text_column_named_content_and_a_user_stage_with_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("code.parquet");
    write_parquet(
        &data,
        &[text_batch(
            "content",
            &[1, 2, 3, 4, 5],
            &[
                Some("fn main() {}"),
                Some("fn  main()\t{}"),
                Some("// a much longer file with many words in it"),
                Some("\u{7}\u{1b}"),
                Some("x"),
            ],
        )],
    );
    std::fs::write(
        dir.path().join("long.sql"),
        "-- @param min_words = 2\nSELECT * FROM input WHERE word_count(${text_column}) >= ${min_words}",
    )
    .unwrap();
    let pipeline = dir.path().join("p.toml");
    std::fs::write(
        &pipeline,
        r#"
[source]
uri = "code.parquet"
text_column = "content"

[[stages]]
name = "clean"
query = "clean"

[[stages]]
name = "normalise"
query = "normalise"

[[stages]]
name = "dedup"
query = "dedup_exact"

[[stages]]
name = "long_enough"
sql = "long.sql"
params = { min_words = 4 }
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let report = profile(ProfileRequest {
        pipeline: Some(pipeline),
        // The command line's source wins over source.uri.
        source: Some(data.to_str().unwrap().into()),
        output: Some(out.to_str().unwrap().into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let rows: Vec<(String, u64)> = report
        .stages
        .iter()
        .map(|s| (s.name.clone(), s.rows_out))
        .collect();
    assert_eq!(
        rows,
        [
            ("clean".into(), 4),
            ("normalise".into(), 4),
            ("dedup".into(), 3),
            ("long_enough".into(), 1)
        ]
    );
    assert_eq!(report.source.text_column, "content");
    assert_eq!(
        read_rows(&out),
        ["3\u{1f}// a much longer file with many words in it"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_udfs_work_from_sql_on_every_string_type() {
    let engine = prepcost::engine::Engine::Local;
    let session = prepcost::engine::Session::new(1 << 30, &engine)
        .await
        .unwrap();
    for string_type in ["Utf8", "LargeUtf8", "Utf8View"] {
        let sql = format!(
            "SELECT nfkc(t) AS a, nfc(t) AS b, collapse_whitespace(t) AS c, strip_control(t) AS d, \
             trim_whitespace(t) AS e, word_count(t) AS f, char_count(t) AS g, \
             arrow_typeof(nfkc(t)) AS h, text_hash(t) = text_hash('ﬁ  x\u{1b}') AS i \
             FROM (SELECT arrow_cast(column1, '{string_type}') AS t FROM (VALUES ('ﬁ  x\u{1b}'), (NULL)))"
        );
        let batches = session
            .ctx
            .sql(&sql)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[3].contains(&format!("| {string_type} ")), "{text}");
        assert!(
            lines[3].starts_with(
                "| fi  x\u{1b} | ﬁ  x\u{1b} | ﬁ x\u{1b} | ﬁ  x | ﬁ  x\u{1b} | 2 | 5 |"
            ),
            "{text}"
        );
        assert!(lines[3].ends_with("| true |"), "{text}");
        assert!(
            lines[4].starts_with("|        |   "),
            "NULL in, NULL out:\n{text}"
        );
    }
}

#[test]
fn a_stage_of_several_conditions_says_what_each_removed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quality.sql"),
        "SELECT * FROM input WHERE char_count(${text_column}) >= 200 \
         AND ${text_column} NOT LIKE '%the%' AND ${text_column} IS NOT NULL",
    )
    .unwrap();
    let pipeline = dir.path().join("pipeline.toml");
    std::fs::write(
        &pipeline,
        "[[stages]]\nname = \"clean\"\nquery = \"clean\"\n\n\
         [[stages]]\nname = \"quality\"\nsql = \"quality.sql\"\n",
    )
    .unwrap();
    let data = crate::support::repo_str("sample-data/en_prose");
    let args = ["profile", &data, "--pipeline", pipeline.to_str().unwrap()];
    let report = crate::support::profile_json(&args[1..]);
    let quality = &report["stages"][1];
    let conditions = quality["conditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 3);
    let removed: u64 = conditions
        .iter()
        .map(|c| c["rows_removed"].as_u64().unwrap())
        .sum();
    assert_eq!(removed, quality["rows_dropped"].as_u64().unwrap());
    let tokens: u64 = conditions
        .iter()
        .map(|c| c["tokens_removed"].as_u64().unwrap())
        .sum();
    assert_eq!(tokens as i64, quality["tokens_removed"].as_i64().unwrap());
    assert!(conditions[0]["rows_removed"].as_u64().unwrap() > 0);
    assert!(conditions[1]["rows_removed"].as_u64().unwrap() > 0);
    assert!(conditions[1]["name"].as_str().unwrap().contains("the"));
    let table = crate::support::prepcost(&args);
    assert!(table.stdout.contains("Conditions"), "{}", table.stdout);
}

#[test]
fn the_quality_functions_filter_in_sql_and_each_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quality.sql"),
        "SELECT * FROM input WHERE gopher_repetition(${text_column}) \
         AND fineweb_quality(${text_column}) AND gopher_quality(${text_column})",
    )
    .unwrap();
    let pipeline = dir.path().join("pipeline.toml");
    std::fs::write(
        &pipeline,
        "[[stages]]\nname = \"quality\"\nsql = \"quality.sql\"\n",
    )
    .unwrap();
    let data = crate::support::repo_str("sample-data/en_prose");
    let report = crate::support::profile_json(&[&data, "--pipeline", pipeline.to_str().unwrap()]);
    let stage = &report["stages"][0];
    let names: Vec<&str> = stage["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    for (name, function) in
        names
            .iter()
            .zip(["gopher_repetition", "fineweb_quality", "gopher_quality"])
    {
        assert!(name.starts_with(function), "{name}");
    }
    let kept = stage["rows_out"].as_u64().unwrap();
    assert!(
        kept > 0 && kept < stage["rows_in"].as_u64().unwrap() / 2,
        "{kept}"
    );
}
