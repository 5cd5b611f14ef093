//! The cluster engine: a Ballista scheduler and two executors started as `prepcost cluster`
//! processes, a scheduler and executor inside the run (`ballista-standalone`), a source in the
//! S3 test server, and a plain Ballista executor that lacks prepcost's functions. Each run must
//! give exactly the rows, in order, and the stage counts of the local engine.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::servers::{Faults, Server, copy_tree};
use crate::support::{
    Run, assert_error, command, datasets, free_port, on_free_ports, prepcost_env, read_rows, repo,
    repo_str,
};

/// A `prepcost cluster` node, stopped (killed and reaped) when dropped, also when a test fails.
struct Node {
    child: Child,
    name: String,
}

impl Node {
    fn start(args: &[&str]) -> Node {
        let child = command(env!("CARGO_BIN_EXE_prepcost"))
            .arg("cluster")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prepcost cluster starts");
        Node {
            child,
            name: args.join(" "),
        }
    }

    /// Waits until the node accepts connections on `port`; an error naming how it ended when
    /// it exits first (a port taken by another test: [`on_free_ports`] tries others).
    fn wait_for(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut err) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
                }
                return Err(format!(
                    "`prepcost cluster {}` exited with {status}: {stderr}",
                    self.name
                ));
            }
            assert!(
                Instant::now() < deadline,
                "{} never listened on {port}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scheduler process on a free port, listening; its `df://` address.
fn scheduler() -> (Node, String) {
    on_free_ports(1, |ports| {
        let port = ports[0];
        let mut node = Node::start(&["scheduler", "--bind", &format!("127.0.0.1:{port}")]);
        node.wait_for(port)?;
        Ok((node, format!("df://127.0.0.1:{port}")))
    })
}

/// An executor process of the scheduler at `scheduler` (`HOST:PORT`), listening.
fn executor(scheduler: &str) -> Node {
    on_free_ports(2, |ports| {
        let (port, grpc_port) = (ports[0], ports[1]);
        let mut node = Node::start(&[
            "executor",
            "--scheduler",
            scheduler,
            "--bind",
            "127.0.0.1",
            "--external-host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--grpc-port",
            &grpc_port.to_string(),
            "--concurrency",
            "2",
            "--memory-limit",
            "1GiB",
        ]);
        node.wait_for(port)?;
        Ok(node)
    })
}

/// Runs `profile SOURCE --near-dedup --output OUT` with `extra` arguments and `env`; the
/// process is killed, and the test fails, after `limit`.
fn profile(source: &str, out: &Path, extra: &[&str], env: &[(&str, String)]) -> Run {
    let mut args = vec![
        "profile",
        source,
        "--near-dedup",
        "--output",
        out.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    prepcost_env(&args, &env)
}

fn report(run: &Run) -> Value {
    assert_eq!(run.code, 0, "profile failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("one JSON object")
}

/// What two engines must agree on: what a remote run must agree on with a local one, and
/// each stage's rows in, what each of its conditions removed, and its near-duplicate figures
/// and examples (all but times and memory); the token figures, texts tokenized among them.
fn figures(report: &Value) -> Value {
    let stages: Vec<Value> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut near_dedup = s["near_dedup"].clone();
            if let Some(figures) = near_dedup.as_object_mut() {
                figures.remove("seconds");
                figures.remove("memory");
            }
            serde_json::json!([s["rows_in"], s["conditions"], near_dedup])
        })
        .collect();
    let mut tokens = report["tokens"].clone();
    if let Some(figures) = tokens.as_object_mut() {
        figures.remove("wall_seconds");
        figures.remove("cpu_seconds");
    }
    serde_json::json!({
        "remote": crate::storage::profile_figures(report),
        "tokens": tokens,
        "stages": stages,
        "output_rows": report["output"]["rows"],
    })
}

/// Runs `source` locally and on `engine` (arguments), both with `args`, and checks that both
/// give the same figures and the same output rows, in order.
fn assert_same_as_local(
    source: &str,
    engine: &[&str],
    args: &[&str],
    env: &[(&str, String)],
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (local_out, cluster_out) = (dir.path().join("local"), dir.path().join("cluster"));
    let local = report(&profile(source, &local_out, args, env));
    let cluster_args = [engine, args].concat();
    let cluster = report(&profile(source, &cluster_out, &cluster_args, env));
    assert_eq!(figures(&cluster), figures(&local), "{engine:?}");
    let (local_rows, cluster_rows) = (read_rows(&local_out), read_rows(&cluster_out));
    assert!(local_rows.len() > 100, "{}", local_rows.len());
    assert!(cluster_rows == local_rows, "{engine:?}: output rows differ");
    assert_eq!(cluster["run"]["engine"], engine[1]);
    cluster
}

#[test]
fn a_standalone_cluster_gives_the_local_rows_and_counts() {
    let data = repo_str("sample-data/en_prose");
    let report = assert_same_as_local(&data, &["--engine", "ballista-standalone"], &[], &[]);
    let removed = report["stages"][3]["rows_dropped"].as_u64().unwrap();
    assert!(removed > 100, "near-dedup removed {removed} rows");
}

#[test]
fn near_dedup_with_verification_on_a_cluster_gives_the_local_rows_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("verify.toml");
    std::fs::write(
        &pipeline,
        "[[stages]]\nkind = \"minhash\"\nparams = { bands = 9, rows = 5, ngram = 3, verify = true }\n",
    )
    .unwrap();
    let data = repo_str("sample-data/fortunes_zh.parquet");
    let engine = ["--engine", "ballista-standalone"];
    let pipeline = ["--pipeline", pipeline.to_str().unwrap()];
    let report = assert_same_as_local(&data, &engine, &pipeline, &[]);
    let near_dedup = &report["stages"][0]["near_dedup"];
    assert!(
        near_dedup["verified"]["rejected"].as_u64().unwrap() > 0,
        "{near_dedup}"
    );
}

#[test]
fn a_cluster_of_prepcost_processes_gives_the_local_rows_and_counts() {
    let Some(shared) = datasets("a_cluster_of_prepcost_processes_gives_the_local_rows_and_counts")
    else {
        return;
    };
    let (_scheduler, address) = scheduler();
    let host_port = address.trim_start_matches("df://");
    let _executors = [executor(host_port), executor(host_port)];
    let data = shared.join("text/llm_mix");
    let engine = ["--engine", "ballista", "--scheduler", &address];
    assert_same_as_local(data.to_str().unwrap(), &engine, &[], &[]);
}

#[test]
fn a_source_in_object_storage_runs_on_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &repo("sample-data/en_prose"),
        &dir.path().join("data/en_prose"),
    );
    let s3 = Server::s3(dir.path(), Faults::None);
    let env = crate::storage::s3_env(&s3);
    let engine = ["--engine", "ballista-standalone"];
    let cluster = assert_same_as_local("s3://data/en_prose/", &engine, &[], &env);
    assert!(cluster["scan"]["requests"]["get"].as_u64().unwrap() > 0);
}

#[test]
fn a_plain_ballista_executor_fails_the_run_naming_the_function() {
    let (_scheduler, address) = scheduler();
    let scheduler_port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    // An executor with Ballista's own functions only, in this process.
    let runtime = Background(Some(tokio::runtime::Runtime::new().unwrap()));
    on_free_ports(2, |ports| {
        let (port, grpc_port) = (ports[0], ports[1]);
        let executor = runtime.0.as_ref().unwrap().spawn(async move {
            use ballista_executor::executor_process::{
                ExecutorProcessConfig, start_executor_process,
            };
            let config = ExecutorProcessConfig {
                bind_host: "127.0.0.1".into(),
                external_host: Some("127.0.0.1".into()),
                port,
                grpc_port,
                scheduler_host: "127.0.0.1".into(),
                scheduler_port,
                vcores: 1,
                ..ExecutorProcessConfig::default()
            };
            start_executor_process(Arc::new(config)).await
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if executor.is_finished() {
                return Err(format!(
                    "the plain executor stopped before listening on {port}"
                ));
            }
            assert!(
                Instant::now() < deadline,
                "the plain executor never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    });
    // Counting the source's tokens is the first work executors are given; without it, the
    // first SQL stage is.
    for (extra, expected) in [
        (&[][..], ["stage 'scan'", "token_count", "prepcost cluster"]),
        (
            &["--tokenizer", "none"][..],
            ["stage 'clean'", "strip_control", "prepcost cluster"],
        ),
    ] {
        let started = Instant::now();
        let run = profile_on(&address, extra, Duration::from_secs(300));
        assert_error(&run, &expected);
        eprintln!(
            "the run failed after {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
}

/// A runtime whose tasks are abandoned, not awaited, when it is dropped.
struct Background(Option<tokio::runtime::Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

#[test]
fn a_node_that_cannot_listen_says_so() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let run = bounded(
        &["cluster", "scheduler", "--bind", &bind],
        Duration::from_secs(60),
    );
    assert_error(&run, &["scheduler", &port.to_string()]);
    let zero = prepcost_env(
        &[
            "cluster",
            "executor",
            "--scheduler",
            "h:1",
            "--concurrency",
            "0",
        ],
        &[],
    );
    assert_error(&zero, &["--concurrency must be at least 1"]);
}

#[test]
fn no_scheduler_is_one_line_before_the_scan() {
    let port = free_port().to_string();
    let run = profile_on(
        &format!("df://127.0.0.1:{port}"),
        &[],
        Duration::from_secs(120),
    );
    assert_error(
        &run,
        &[
            "connecting to the scheduler",
            &port,
            "prepcost cluster scheduler",
        ],
    );
    let data = repo_str("sample-data/en_prose");
    let bad = prepcost_env(&["profile", &data, "--engine", "ballista"], &[]);
    assert_error(&bad, &["--engine ballista needs --scheduler"]);
}

/// Runs `profile` on the sample data with `--engine ballista --scheduler SCHEDULER`, within
/// `limit`.
fn profile_on(scheduler: &str, extra: &[&str], limit: Duration) -> Run {
    let data = repo_str("sample-data/en_prose");
    let mut args = vec![
        "profile",
        &data,
        "--engine",
        "ballista",
        "--scheduler",
        scheduler,
    ];
    args.extend_from_slice(extra);
    bounded(&args, limit)
}

/// Runs prepcost with `args`, killing it (and failing the test) if it runs past `limit`.
fn bounded(args: &[&str], limit: Duration) -> Run {
    let mut child = command(env!("CARGO_BIN_EXE_prepcost"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("prepcost {args:?} ran past {limit:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
