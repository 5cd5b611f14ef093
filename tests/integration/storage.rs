//! Object storage: `profile`, `inspect` and `loader` on s3:// and http:// copies of the
//! sample data, served by real servers on 127.0.0.1, against the local copy; request counts
//! against the servers' logs; injected faults; remote output; secrets.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::servers::{ACCESS_KEY, Counts, Faults, SECRET_KEY, Server, copy_tree};
use crate::support::{Run, assert_error, prepcost_env, repo, repo_str};

/// The environment that points prepcost's S3 client at `server`.
pub fn s3_env(server: &Server) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", server.url()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ]
}

pub fn run(args: &[&str], env: &[(&str, String)]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    prepcost_env(args, &env)
}

/// Runs a command with `--format json`, asserts success, returns the report.
pub fn json(args: &[&str], env: &[(&str, String)]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let out = run(&all, env);
    assert_eq!(out.code, 0, "prepcost {all:?} failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("one JSON object")
}

/// A bucket `data` holding the sample data, and a directory of the same for HTTP.
fn sample_copies(root: &Path) {
    copy_tree(&repo("sample-data/en_prose"), &root.join("data/en_prose"));
    std::fs::copy(
        repo("sample-data/fortunes_zh.parquet"),
        root.join("data/fortunes_zh.parquet"),
    )
    .unwrap();
}

/// What must not differ between a local and a remote run of `profile`.
pub fn profile_figures(report: &Value) -> Value {
    let stages: Vec<Value> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            serde_json::json!([
                s["name"],
                s["rows_out"],
                s["text_bytes_out"],
                s["tokens_out"]
            ])
        })
        .collect();
    serde_json::json!({
        "rows": report["source"]["rows"],
        "storage": report["storage"],
        "tokens": [report["tokens"]["source"], report["tokens"]["result"]],
        "stages": stages,
        "totals": [report["totals"]["rows_out"], report["totals"]["text_bytes_out"]],
    })
}

pub fn inspect_figures(report: &Value) -> Value {
    serde_json::json!([
        report["totals"],
        report["columns"],
        report["row_groups"].as_array().map(Vec::len)
    ])
}

pub fn loader_figures(report: &Value) -> Value {
    let source = &report["source"];
    serde_json::json!([
        source["files"],
        source["row_groups"],
        source["rows"],
        source["projected_compressed_bytes"],
        report["loader"]["rows"],
        report["loader"]["tokens_total"]
    ])
}

/// The report's request counts equal those the server logged.
fn assert_counts_match(report: &Value, server: &Server, what: &str) {
    let seen = Counts::of(&server.log());
    let counted = Counts::from_report(&report["requests"]);
    assert_eq!(counted, seen, "{what}: prepcost's counts vs the server's");
    assert!(seen.get > 0, "{what}: the server was read");
}

#[test]
fn s3_and_http_copies_report_as_the_local_copy_does() {
    let dir = tempfile::tempdir().unwrap();
    sample_copies(dir.path());
    let s3 = Server::s3(dir.path(), Faults::None);
    let http = Server::http(dir.path(), Faults::None);
    let env = s3_env(&s3);
    let local = repo_str("sample-data/en_prose");
    let remotes = [
        ("s3", "s3://data/en_prose/".to_string(), &s3),
        ("http", format!("{}/data/en_prose/", http.url()), &http),
    ];

    let local_profile = json(&["profile", &local], &[]);
    let local_inspect = json(&["inspect", &local], &[]);
    let local_loader = json(&["loader", &local, "--workers", "2", "-q"], &[]);
    for (name, uri, server) in &remotes {
        server.clear_log();
        let report = json(&["profile", uri], &env);
        assert_eq!(
            profile_figures(&report),
            profile_figures(&local_profile),
            "{name} profile"
        );
        assert_eq!(report["source"]["uri"], uri.as_str());
        assert_counts_match(&report, server, &format!("{name} profile"));
        // The scan does the reading; the stages read intermediates, not the store.
        let scan_gets = report["scan"]["requests"]["get"].as_u64().unwrap();
        let stage_gets: u64 = report["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["requests"]["get"].as_u64().unwrap())
            .sum();
        assert!(scan_gets > 0 && stage_gets == 0, "{name}: gets by step");
        assert!(report["requests"]["bytes_in"].as_u64().unwrap() > 0);

        server.clear_log();
        let report = json(&["inspect", uri], &env);
        assert_eq!(
            inspect_figures(&report),
            inspect_figures(&local_inspect),
            "{name} inspect"
        );
        assert_counts_match(&report, server, &format!("{name} inspect"));

        server.clear_log();
        let report = json(&["loader", uri, "--workers", "2", "-q"], &env);
        assert_eq!(
            loader_figures(&report),
            loader_figures(&local_loader),
            "{name} loader"
        );
        assert_counts_match(&report, server, &format!("{name} loader"));
    }

    // Requests and egress are priced at S3's list prices for s3:// and free for http://.
    let report = json(&["inspect", "s3://data/en_prose/"], &env);
    let cost = &report["cost"];
    assert_eq!(cost["request_pricing"]["provider"], "s3");
    let gets =
        report["requests"]["get"].as_f64().unwrap() + report["requests"]["head"].as_f64().unwrap();
    let puts = report["requests"]["list"].as_f64().unwrap();
    let expected = gets / 1000.0 * 0.0004 + puts / 1000.0 * 0.005;
    assert!((cost["requests_usd"].as_f64().unwrap() - expected).abs() < 1e-12);
    assert!(cost["egress_usd"].as_f64().unwrap() > 0.0);
    let report = json(&["inspect", &format!("{}/data/en_prose/", http.url())], &[]);
    assert_eq!(report["cost"]["requests_usd"], 0.0);

    // A single object, a glob, and a prefix without its trailing slash.
    for uri in [
        "s3://data/fortunes_zh.parquet",
        "s3://data/*.parquet",
        "s3://data/**/part-*.parquet",
        "s3://data/en_prose",
    ] {
        let report = json(&["inspect", uri], &env);
        assert!(report["totals"]["rows"].as_u64().unwrap() > 0, "{uri}");
    }
    let zh = json(&["inspect", "s3://data/*.parquet"], &env);
    assert_eq!(zh["totals"]["files"], 1, "`*` stays within its folder");
}

#[test]
fn huggingface_uris_read_the_resolve_urls() {
    let dir = tempfile::tempdir().unwrap();
    let resolve = dir.path().join("datasets/org/name/resolve/main");
    std::fs::create_dir_all(&resolve).unwrap();
    std::fs::copy(
        repo("sample-data/fortunes_zh.parquet"),
        resolve.join("zh.parquet"),
    )
    .unwrap();
    let http = Server::http(dir.path(), Faults::None);
    let token = "hf_prepcost_test_token_value";
    let env = vec![("HF_ENDPOINT", http.url()), ("HF_TOKEN", token.to_string())];
    let remote = json(&["inspect", "hf://datasets/org/name/zh.parquet"], &env);
    let local = json(
        &["inspect", &repo_str("sample-data/fortunes_zh.parquet")],
        &[],
    );
    assert_eq!(inspect_figures(&remote), inspect_figures(&local));
    assert_eq!(remote["cost"]["request_pricing"]["provider"], "huggingface");
    let paths: Vec<String> = http.log().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .all(|p| p == "/datasets/org/name/resolve/main/zh.parquet"),
        "{paths:?}"
    );
}

#[test]
fn huggingface_folders_and_globs_are_listed_with_the_tree_api() {
    let dir = tempfile::tempdir().unwrap();
    let resolve = dir.path().join("datasets/org/name/resolve/main");
    copy_tree(
        &repo("sample-data/en_prose"),
        &resolve.join("data/en_prose"),
    );
    std::fs::copy(
        repo("sample-data/fortunes_zh.parquet"),
        resolve.join("data/fortunes_zh.parquet"),
    )
    .unwrap();
    let http = Server::http(dir.path(), Faults::None);
    let env = vec![("HF_ENDPOINT", http.url())];
    let en_prose = json(&["inspect", &repo_str("sample-data/en_prose")], &[]);
    let zh = json(
        &["inspect", &repo_str("sample-data/fortunes_zh.parquet")],
        &[],
    );
    for (uri, local, folders) in [
        ("hf://datasets/org/name/data/en_prose/", &en_prose, 1),
        (
            "hf://datasets/org/name/data/en_prose/*.parquet",
            &en_prose,
            1,
        ),
        // Listing goes below the part before the first wildcard, folder by folder.
        ("hf://datasets/org/name/data/*.parquet", &zh, 2),
        ("hf://datasets/org/name/**/part-*.parquet", &en_prose, 3),
    ] {
        http.clear_log();
        let remote = json(&["inspect", uri], &env);
        assert_eq!(inspect_figures(&remote), inspect_figures(local), "{uri}");
        let files: Vec<&str> = remote["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert!(
            files
                .iter()
                .all(|f| f.starts_with("hf://datasets/org/name/data/")),
            "{uri}: {files:?}"
        );
        // One request of the tree API per folder listed, then the footers' GETs.
        let listings: Vec<String> = http
            .log()
            .into_iter()
            .map(|r| r.path)
            .filter(|p| p.starts_with("/api/datasets/org/name/tree/main"))
            .collect();
        assert_eq!(listings.len(), folders, "{uri}: {listings:?}");
    }
}

#[test]
fn huggingface_folders_of_any_size_are_listed_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("datasets/org/name/resolve/main/shards");
    std::fs::create_dir_all(&folder).unwrap();
    let shard = std::fs::read(repo("sample-data/fortunes_zh.parquet")).unwrap();
    let files = 2_500;
    for i in 0..files {
        std::fs::write(folder.join(format!("shard-{i:05}.parquet")), &shard).unwrap();
    }
    let http = Server::http(dir.path(), Faults::None);
    let env = vec![("HF_ENDPOINT", http.url())];
    let one = json(
        &["inspect", &repo_str("sample-data/fortunes_zh.parquet")],
        &[],
    );
    let report = json(&["inspect", "hf://datasets/org/name/shards/"], &env);
    assert_eq!(report["totals"]["files"], files);
    let rows = one["totals"]["rows"].as_u64().unwrap();
    assert_eq!(report["totals"]["rows"], rows * files);
    // Three pages of the tree API, counted as prepcost counts them.
    let listings = http
        .log()
        .into_iter()
        .filter(|r| {
            r.path
                .starts_with("/api/datasets/org/name/tree/main/shards")
        })
        .count();
    assert_eq!(listings, 3);
    assert_eq!(
        Counts::from_report(&report["requests"]),
        Counts::of(&http.log())
    );
}

#[test]
fn runs_survive_one_failing_request_in_four() {
    let dir = tempfile::tempdir().unwrap();
    sample_copies(dir.path());
    let faults = Faults::EveryNth {
        n: 4,
        slow: Duration::from_secs(3),
    };
    let s3 = Server::s3(dir.path(), faults);
    let http = Server::http(dir.path(), faults);
    let env = s3_env(&s3);
    let options = [
        "--storage-option",
        "timeout=1s",
        "--storage-option",
        "retry_init_backoff=10ms",
    ];
    let local = repo_str("sample-data/en_prose");
    let local_profile = json(&["profile", &local], &[]);
    let local_inspect = json(&["inspect", &local], &[]);
    for (name, uri, server) in [
        ("s3", "s3://data/en_prose/".to_string(), &s3),
        ("http", format!("{}/data/en_prose/", http.url()), &http),
    ] {
        server.clear_log();
        let mut args = vec!["profile", uri.as_str()];
        args.extend_from_slice(&options);
        let report = json(&args, &env);
        assert_eq!(
            profile_figures(&report),
            profile_figures(&local_profile),
            "{name} profile"
        );
        assert_counts_match(&report, server, &format!("{name} profile under faults"));
        assert!(
            report["requests"]["retries"].as_u64().unwrap() > 0,
            "{name}: retries counted"
        );

        server.clear_log();
        let mut args = vec!["inspect", uri.as_str()];
        args.extend_from_slice(&options);
        let report = json(&args, &env);
        assert_eq!(
            inspect_figures(&report),
            inspect_figures(&local_inspect),
            "{name} inspect"
        );
        assert_counts_match(&report, server, &format!("{name} inspect under faults"));
    }
}

#[test]
fn a_store_failing_beyond_the_retry_budget_fails_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    sample_copies(dir.path());
    let failing = Server::s3(dir.path(), Faults::All);
    let env = s3_env(&failing);
    let budget = [
        "--storage-option",
        "max_retries=2",
        "--storage-option",
        "retry_init_backoff=1ms",
    ];
    let mut args = vec![
        "profile",
        "s3://data/en_prose/part-0.parquet",
        "--format",
        "json",
    ];
    args.extend_from_slice(&budget);
    let out = run(&args, &env);
    assert_error(&out, &["s3://data/en_prose/part-0.parquet", "503"]);
    // Three attempts of the HEAD: the first and two retries.
    assert_eq!(failing.log().len(), 3);

    // Output to a store that fails: nothing is left at the target, not even parts.
    let out_root = tempfile::tempdir().unwrap();
    std::fs::create_dir(out_root.path().join("out")).unwrap();
    let target = Server::s3(out_root.path(), Faults::FailingParts);
    let env = s3_env(&target);
    let mut args = vec![
        "profile",
        "sample-data/en_prose",
        "--output",
        "s3://out/result/",
        "--format",
        "json",
    ];
    args.extend_from_slice(&budget);
    let out = run(&args, &env);
    // The server answers 503 before reading the part, so the client may see either.
    assert_error(
        &out,
        &["output s3://out/result/: uploading part-00000.parquet"],
    );
    assert_eq!(
        files_below(&out_root.path().join("out")),
        Vec::<String>::new()
    );
    let log = target.log();
    let aborted = log
        .iter()
        .filter(|r| r.method == "DELETE" && r.query.contains("uploadId="))
        .count();
    let begun = log
        .iter()
        .filter(|r| r.method == "POST" && r.query.starts_with("uploads"))
        .count();
    assert!(
        begun > 0 && aborted == begun,
        "every upload begun is aborted: {log:?}"
    );
}

#[test]
fn output_to_s3_is_committed_whole_and_replaces_what_was_there() {
    let root = tempfile::tempdir().unwrap();
    // An earlier output of prepcost's: a file its manifest lists.
    std::fs::create_dir_all(root.path().join("out/result")).unwrap();
    std::fs::write(root.path().join("out/result/stale.parquet"), b"old").unwrap();
    std::fs::write(
        root.path().join("out/result/_prepcost_manifest.json"),
        r#"{"prepcost_version": "0.1.0", "run_id": "r", "source": "s", "rows": 1,
            "files": [{"name": "stale.parquet", "bytes": 3}]}"#,
    )
    .unwrap();
    let s3 = Server::s3(root.path(), Faults::None);
    let env = s3_env(&s3);
    let report = json(
        &[
            "profile",
            &repo_str("sample-data/en_prose"),
            "--output",
            "s3://out/result/",
            "--tokenizer",
            "none",
        ],
        &env,
    );
    let output = &report["output"];
    assert_eq!(output["uri"], "s3://out/result/");
    let files = output["files"].as_u64().unwrap();
    assert_eq!(
        files_below(&root.path().join("out")).len() as u64,
        files + 1
    );
    assert!(
        !root.path().join("out/result/stale.parquet").exists(),
        "replaced whole"
    );
    // One multipart upload per file: created, parts, completed.
    let counted = Counts::from_report(&output["requests"]);
    assert_eq!(
        counted.put,
        2 * files + 1,
        "create and complete per file, and the manifest"
    );
    assert!(counted.multipart_parts >= files);
    assert_eq!(counted.delete, 1, "the stale object");
    assert_eq!(
        Counts::of(&s3.log()),
        Counts::from_report(&output["requests"])
    );
    assert!(report["cost"]["requests_usd"].as_f64().unwrap() > 0.0);

    // Reading it back gives the result's rows.
    let back = json(&["inspect", "s3://out/result/"], &env);
    assert_eq!(back["totals"]["rows"], report["totals"]["rows_out"]);
}

#[test]
fn secrets_appear_in_no_output() {
    let dir = tempfile::tempdir().unwrap();
    sample_copies(dir.path());
    let s3 = Server::s3(dir.path(), Faults::None);
    let mut env = s3_env(&s3);
    env.push(("RUST_LOG", "trace".to_string()));
    let report_file = dir.path().join("report.json");
    let runs = [
        run(
            &[
                "profile",
                "s3://data/en_prose/",
                "--report",
                report_file.to_str().unwrap(),
                "--format",
                "json",
            ],
            &env,
        ),
        run(&["inspect", "s3://data/en_prose/"], &env),
        // A wrong secret given as an option: the failure must not show it either.
        run(
            &[
                "inspect",
                "s3://data/en_prose/",
                "--storage-option",
                "secret_access_key=wrong-secret-value-42",
            ],
            &env[..env.len() - 1],
        ),
        run(
            &["inspect", "https://h/x.parquet?sig=signed-query-secret"],
            &[],
        ),
    ];
    assert_eq!(runs[0].code, 0, "{}", runs[0].stderr);
    assert_eq!(runs[2].code, 2, "a wrong secret is refused");
    let report = std::fs::read_to_string(&report_file).unwrap();
    for secret in [SECRET_KEY, "wrong-secret-value-42", "signed-query-secret"] {
        for (i, out) in runs.iter().enumerate() {
            assert!(
                !out.stdout.contains(secret),
                "run {i} stdout shows {secret}"
            );
            assert!(
                !out.stderr.contains(secret),
                "run {i} stderr shows {secret}"
            );
        }
        assert!(!report.contains(secret), "the report file shows {secret}");
    }
    assert!(runs[0].stderr.len() > 1000, "trace logging was on");
}

#[test]
fn storage_options_are_checked_against_the_stores_keys() {
    let out = run(
        &[
            "inspect",
            "s3://data/x/",
            "--storage-option",
            "regoin=eu-west-1",
        ],
        &[],
    );
    assert_error(
        &out,
        &[
            "--storage-option regoin",
            "not a setting of s3 stores",
            "did you mean region",
        ],
    );
    let out = run(
        &["inspect", "gs://b/x/", "--storage-option", "max_retry=3"],
        &[],
    );
    assert_error(&out, &["did you mean max_retries"]);
    let out = run(
        &["inspect", "s3://data/x/", "--storage-option", "novalue"],
        &[],
    );
    assert_eq!(out.code, 2);
    let out = run(
        &[
            "inspect",
            "s3://data/x/",
            "--storage-option",
            "max_retries=many",
        ],
        &[],
    );
    assert_error(&out, &["max_retries=many", "expected a count"]);
}

#[test]
fn inspecting_a_thousand_objects_takes_at_most_two_requests_each() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("data/many");
    std::fs::create_dir_all(&prefix).unwrap();
    let small = repo("sample-data/fortunes_zh.parquet");
    for i in 0..1000 {
        std::fs::copy(&small, prefix.join(format!("f{i:04}.parquet"))).unwrap();
    }
    let s3 = Server::s3(dir.path(), Faults::None);
    let report = json(&["inspect", "s3://data/many/"], &s3_env(&s3));
    assert_eq!(report["totals"]["files"], 1000);
    let requests = Counts::of(&s3.log());
    let total = requests.get + requests.head + requests.list;
    assert!(
        total <= 2000,
        "{total} requests for 1,000 objects: {requests:?}"
    );
    assert_eq!(Counts::from_report(&report["requests"]), requests);
}

/// The visible files below `dir`, relative to it (hidden ones, such as an S3 server's
/// upload state, left out).
fn files_below(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if entry.path().is_dir() {
            found.extend(
                files_below(&entry.path())
                    .into_iter()
                    .map(|f| format!("{name}/{f}")),
            );
        } else {
            found.push(name);
        }
    }
    found.sort();
    found
}

#[test]
fn hive_partition_folders_become_columns() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/hive");
    let sample = repo("sample-data/en_prose");
    for (folder, file) in [
        ("year=2024/split=train", "part-0.parquet"),
        ("year=2025/split=a%20b", "part-1.parquet"),
        (
            "year=__HIVE_DEFAULT_PARTITION__/split=train",
            "part-1.parquet",
        ),
    ] {
        std::fs::create_dir_all(data.join(folder)).unwrap();
        std::fs::copy(sample.join(file), data.join(folder).join(file)).unwrap();
    }
    std::fs::write(
        dir.path().join("only_2025.sql"),
        "SELECT * FROM input WHERE year = '2025' AND split = 'a b'",
    )
    .unwrap();
    let pipeline = dir.path().join("p.toml");
    std::fs::write(&pipeline, "[[stages]]\nsql = \"only_2025.sql\"\n").unwrap();
    // Hive's default partition is NULL.
    std::fs::write(
        dir.path().join("no_year.sql"),
        "SELECT * FROM input WHERE year IS NULL AND split = 'train'",
    )
    .unwrap();
    let no_year = dir.path().join("no_year.toml");
    std::fs::write(&no_year, "[[stages]]\nsql = \"no_year.sql\"\n").unwrap();
    let s3 = Server::s3(dir.path(), Faults::None);
    let env = s3_env(&s3);
    let part_1 = json(
        &["inspect", &repo_str("sample-data/en_prose/part-1.parquet")],
        &[],
    );
    for source in [data.to_str().unwrap(), "s3://data/hive/"] {
        let out = dir.path().join("out");
        let report = json(
            &[
                "profile",
                source,
                "--pipeline",
                pipeline.to_str().unwrap(),
                "--tokenizer",
                "none",
                "--output",
                out.to_str().unwrap(),
            ],
            &env,
        );
        assert_eq!(
            report["stages"][0]["rows_out"], part_1["totals"]["rows"],
            "{source}"
        );
        let written = json(&["inspect", out.to_str().unwrap()], &[]);
        let columns: Vec<&str> = written["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap())
            .collect();
        assert!(
            columns.contains(&"year") && columns.contains(&"split"),
            "{columns:?}"
        );

        let report = json(
            &[
                "profile",
                source,
                "--pipeline",
                no_year.to_str().unwrap(),
                "--tokenizer",
                "none",
                "--output",
                out.to_str().unwrap(),
            ],
            &env,
        );
        let rows = &part_1["totals"]["rows"];
        assert_eq!(&report["stages"][0]["rows_out"], rows, "{source}");
        let written = json(&["inspect", out.to_str().unwrap()], &[]);
        let year = written["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == "year")
            .unwrap();
        assert_eq!(&year["null_count"], rows, "{source}: every year is NULL");
    }
}

#[test]
fn jsonl_and_csv_in_object_storage_read_as_local_files_do() {
    use datafusion::common::parsers::CompressionTypeVariant::{GZIP, UNCOMPRESSED};
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("data/text");
    std::fs::create_dir_all(&text).unwrap();
    // Written before the server starts: it runs its own runtime.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        crate::inspect::fortunes_zh_as(&text.join("zh.jsonl"), UNCOMPRESSED).await;
        crate::inspect::fortunes_zh_as(&text.join("zh.csv.gz"), GZIP).await;
    });
    let s3 = Server::s3(dir.path(), Faults::None);
    let env = s3_env(&s3);
    for name in ["zh.jsonl", "zh.csv.gz"] {
        let local = json(&["inspect", text.join(name).to_str().unwrap()], &[]);
        s3.clear_log();
        let remote = json(&["inspect", &format!("s3://data/text/{name}")], &env);
        assert_eq!(
            remote["source"]["text_files"], local["source"]["text_files"],
            "{name}"
        );
        assert_eq!(remote["totals"], local["totals"], "{name}");
        assert_counts_match(&remote, &s3, name);
    }
}
