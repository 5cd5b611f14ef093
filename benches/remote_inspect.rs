//! `inspect` on a prefix of many small Parquet objects in an S3-compatible server on
//! 127.0.0.1 (s3s over a directory, SigV4 checked — the test server), against `inspect` of the
//! same files on local disk: wall time of each (median and min–max of `--repeat` runs), and
//! the requests the server received per object. Prints one JSON object.
//!
//! cargo build --release --bench remote_inspect
//! target/release/deps/remote_inspect-* [--objects 1000] [--repeat 5]

#[path = "../tests/integration/servers.rs"]
#[allow(dead_code)]
mod servers;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use servers::{ACCESS_KEY, Counts, Faults, SECRET_KEY, Server};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut objects, mut repeat) = (1000usize, 5usize);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (arg.as_str(), value) {
            ("--objects", Some(n)) => objects = n,
            ("--repeat", Some(n)) => repeat = n,
            _ => panic!("usage: remote_inspect [--objects N] [--repeat N]"),
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = dir.path().join("data/many");
    std::fs::create_dir_all(&prefix).expect("the prefix");
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/fortunes_zh.parquet");
    for i in 0..objects {
        std::fs::copy(&small, prefix.join(format!("f{i:05}.parquet"))).expect("a copy");
    }
    let server = Server::s3(dir.path(), Faults::None);
    let local = prefix.to_str().expect("UTF-8").to_string();

    let mut remote_s = Vec::new();
    let mut local_s = Vec::new();
    let mut per_object = 0.0;
    for _ in 0..repeat {
        server.clear_log();
        remote_s.push(inspect("s3://data/many/", &server));
        let seen = Counts::of(&server.log());
        per_object = (seen.get + seen.head + seen.list) as f64 / objects as f64;
        local_s.push(inspect(&local, &server));
    }
    let (remote, local) = (summary(&mut remote_s), summary(&mut local_s));
    println!(
        "{}",
        serde_json::json!({
            "bench": "remote_inspect",
            "objects": objects,
            "repeat": repeat,
            "requests_per_object": per_object,
            "s3_wall_seconds": remote,
            "local_wall_seconds": local,
            "s3_over_local": remote[0] / local[0],
        })
    );
}

/// Runs `prepcost inspect SOURCE --format json` against the server; its wall time.
fn inspect(source: &str, server: &Server) -> f64 {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_prepcost"))
        .args(["inspect", source, "--format", "json"])
        .env("AWS_ENDPOINT_URL", server.url())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("prepcost runs");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seconds
}

/// `[median, min, max]`.
fn summary(values: &mut [f64]) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    [
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    ]
}
