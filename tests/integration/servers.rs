//! Real servers on 127.0.0.1 for the storage tests: an S3-compatible server that checks
//! SigV4 signatures (s3s over a directory, s3s-fs), an HTTP file server that honours range
//! requests and answers WebDAV PROPFIND listings, and a proxy in front of another server (the
//! Azure and GCS emulators). All log every request they receive and can inject faults in
//! front of the real answer: a 503, a connection reset, a body cut off half way, a response
//! slower than the client's timeout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, Error>;
type Handler = Arc<
    dyn Fn(Request<Incoming>) -> futures::future::BoxFuture<'static, Result<Response<Body>, Error>>
        + Send
        + Sync,
>;

/// The credentials the S3 server accepts.
pub const ACCESS_KEY: &str = "prepcost-test-access-key";
pub const SECRET_KEY: &str = "prepcost-test-secret-5ecr3t-value";

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: String,
    pub ranged: bool,
}

/// Requests by kind, counted the way providers bill them, independently of prepcost.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub get: u64,
    pub ranged_get: u64,
    pub head: u64,
    pub list: u64,
    pub put: u64,
    pub multipart_parts: u64,
    pub delete: u64,
}

impl Logged {
    /// Whether the query has parameter `name` (with `value`, when given).
    fn has(&self, name: &str, value: Option<&str>) -> bool {
        self.query.split('&').any(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            k == name && value.is_none_or(|value| v == value)
        })
    }

    /// A multipart part: S3's and GCS's `partNumber`, Azure's `comp=block`.
    fn is_part(&self) -> bool {
        self.method == "PUT" && (self.has("partNumber", None) || self.has("comp", Some("block")))
    }
}

impl Counts {
    pub fn of(log: &[Logged]) -> Self {
        let mut c = Counts::default();
        for r in log {
            let listing = r.has("list-type", None) || r.has("comp", Some("list"));
            match r.method.as_str() {
                "HEAD" => c.head += 1,
                "GET" if listing => c.list += 1,
                "GET" => {
                    c.get += 1;
                    c.ranged_get += u64::from(r.ranged);
                }
                "PROPFIND" => c.list += 1,
                "PUT" if r.is_part() => c.multipart_parts += 1,
                "DELETE" => c.delete += 1,
                "POST" if r.query == "delete" || r.query.starts_with("delete&") => c.delete += 1,
                _ => c.put += 1,
            }
        }
        c
    }

    /// The counts of the report's `requests` object.
    pub fn from_report(requests: &serde_json::Value) -> Self {
        let n = |k: &str| {
            requests[k]
                .as_u64()
                .unwrap_or_else(|| panic!("requests.{k}"))
        };
        Counts {
            get: n("get"),
            ranged_get: n("ranged_get"),
            head: n("head"),
            list: n("list"),
            put: n("put"),
            multipart_parts: n("multipart_parts"),
            delete: n("delete"),
        }
    }
}

/// What goes wrong, and how often.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Faults {
    None,
    /// Every `n`th request fails: in turn a 503, a connection reset, a body cut off half
    /// way (a 503 for requests without an object body), and a response slower than `slow`.
    EveryNth {
        n: u64,
        slow: Duration,
    },
    /// Every request answered 503.
    All,
    /// Every multipart part answered 503.
    FailingParts,
    /// Every PUT and POST answered only after this long (reads are prompt).
    SlowWrites(Duration),
}

#[derive(Debug)]
struct Shared {
    faults: Faults,
    seen: AtomicU64,
    log: Mutex<Vec<Logged>>,
}

/// A server running on its own thread and runtime until dropped.
pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    /// An S3-compatible server whose buckets are the directories of `root`.
    pub fn s3(root: &Path, faults: Faults) -> Server {
        let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs over the root");
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let dir = root.to_path_buf();
        start(
            faults,
            Arc::new(move |request| {
                let service = service.clone();
                // S3 has no directories: a key that is a folder here is no object (s3s-fs
                // answers 500 for it).
                let path = request.uri().path().trim_start_matches('/');
                let folder =
                    request.uri().query().is_none() && !path.is_empty() && dir.join(path).is_dir();
                Box::pin(async move {
                    if folder {
                        return Ok(status(StatusCode::NOT_FOUND, "NoSuchKey"));
                    }
                    let request = request.map(s3s::Body::from);
                    match service.call(request).await {
                        Ok(response) => Ok(response.map(|b| b.map_err(Error::from).boxed())),
                        Err(e) => Err(Error::from(format!("{e:?}"))),
                    }
                })
            }),
        )
    }

    /// A proxy that forwards every request to the server at `upstream` (its Host header
    /// rewritten to it), logging it and injecting `faults` on the way.
    pub fn proxy(upstream: SocketAddr, faults: Faults) -> Server {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<Incoming>();
        start(
            faults,
            Arc::new(move |request| {
                let client = client.clone();
                Box::pin(async move {
                    let (mut parts, body) = request.into_parts();
                    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                    parts.uri = format!("http://{upstream}{path}").parse()?;
                    let host = upstream.to_string().parse()?;
                    parts.headers.insert(hyper::header::HOST, host);
                    let response = client.request(Request::from_parts(parts, body)).await?;
                    Ok(response.map(|b| b.map_err(Error::from).boxed()))
                })
            }),
        )
    }

    /// An HTTP server of the files below `root`, with ranges and PROPFIND.
    pub fn http(root: &Path, faults: Faults) -> Server {
        let dir = root.to_path_buf();
        start(
            faults,
            Arc::new(move |request| {
                let response = serve_file(&dir, &request);
                Box::pin(async move { Ok(response) })
            }),
        )
    }
}

fn start(faults: Faults, handler: Handler) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let shared = Arc::new(Shared {
        faults,
        seen: AtomicU64::new(0),
        log: Mutex::new(Vec::new()),
    });
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let accepting = Arc::clone(&shared);
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let shared = Arc::clone(&accepting);
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    answer(Arc::clone(&shared), request, Arc::clone(&handler))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server {
        addr,
        shared,
        _runtime: runtime,
    }
}

/// Logs the request, then answers it — or fails it, as the fault plan says.
async fn answer(
    shared: Arc<Shared>,
    request: Request<Incoming>,
    handler: Handler,
) -> Result<Response<Body>, Error> {
    let logged = Logged {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: request.uri().query().unwrap_or("").to_string(),
        ranged: request.headers().contains_key(hyper::header::RANGE),
    };
    let object_read = logged.method == "GET"
        && !logged.has("list-type", None)
        && !logged.has("comp", Some("list"));
    let part = logged.is_part();
    shared.log.lock().unwrap().push(logged);
    let seen = shared.seen.fetch_add(1, Ordering::SeqCst) + 1;
    if let Faults::SlowWrites(delay) = shared.faults
        && matches!(request.method(), &Method::PUT | &Method::POST)
    {
        tokio::time::sleep(delay).await;
    }
    let fault = match shared.faults {
        Faults::None | Faults::SlowWrites(_) => None,
        Faults::All => Some(0),
        Faults::FailingParts => part.then_some(0),
        Faults::EveryNth { n, .. } => seen.is_multiple_of(n).then_some((seen / n) % 4),
    };
    match fault {
        None => handler(request).await,
        Some(1) => Err(Error::from("injected connection reset")),
        Some(2) if object_read => {
            let response = handler(request).await?;
            Ok(cut_short(response).await)
        }
        Some(3) => {
            if let Faults::EveryNth { slow, .. } = shared.faults {
                tokio::time::sleep(slow).await;
            }
            handler(request).await
        }
        Some(_) => Ok(status(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected 503 SlowDown",
        )),
    }
}

/// The response with its body cut off half way (its length header promising all of it).
async fn cut_short(response: Response<Body>) -> Response<Body> {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return status(StatusCode::INTERNAL_SERVER_ERROR, "body");
    };
    let half = bytes.slice(..bytes.len() / 2);
    let frames: Vec<Result<Frame<Bytes>, Error>> = vec![
        Ok(Frame::data(half)),
        Err(Error::from("injected truncation")),
    ];
    Response::from_parts(parts, StreamBody::new(stream::iter(frames)).boxed())
}

fn status(code: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from(text.to_string())));
    *response.status_mut() = code;
    response
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|e: Infallible| match e {}).boxed()
}

/// Answers HEAD, GET (whole or one range) and PROPFIND for the files below `dir`.
fn serve_file(dir: &Path, request: &Request<Incoming>) -> Response<Body> {
    let relative = request.uri().path().trim_start_matches('/');
    let path = dir.join(relative);
    if request.method().as_str() == "PROPFIND" {
        return propfind(dir, &path);
    }
    if let Some(folder) = relative.strip_prefix("api/") {
        let cursor = request
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("cursor="));
        let host = request.headers().get(hyper::header::HOST);
        let base = format!("http://{}/{relative}", host.unwrap().to_str().unwrap());
        return hub_tree(dir, folder, cursor.and_then(|c| c.parse().ok()), &base);
    }
    let Ok(data) = std::fs::read(&path) else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let size = data.len() as u64;
    let etag = format!("\"{size:x}-{}\"", relative.len());
    let range = request
        .headers()
        .get(hyper::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, size));
    let (code, body) = match range {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            data[start as usize..end as usize].to_vec(),
        ),
        None => (StatusCode::OK, data),
    };
    let mut builder = Response::builder()
        .status(code)
        .header("etag", &etag)
        .header("last-modified", "Sun, 29 Nov 2026 08:00:00 GMT")
        .header("accept-ranges", "bytes")
        .header("content-length", body.len());
    if let Some((start, end)) = range {
        builder = builder.header("content-range", format!("bytes {start}-{}/{size}", end - 1));
    }
    let body = if request.method() == Method::HEAD {
        full(Bytes::new())
    } else {
        full(Bytes::from(body))
    };
    builder.body(body).unwrap()
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as a half-open range within `size`.
fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a, b) {
        ("", n) => (size.saturating_sub(n.parse().ok()?), size),
        (a, "") => (a.parse().ok()?, size),
        (a, b) => (a.parse().ok()?, (b.parse::<u64>().ok()? + 1).min(size)),
    };
    (start < end).then_some((start, end))
}

/// A WebDAV multistatus of every file below `path`.
fn propfind(dir: &Path, path: &Path) -> Response<Body> {
    let mut files = Vec::new();
    collect_files(path, &mut files);
    if files.is_empty() {
        return status(StatusCode::NOT_FOUND, "not found");
    }
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><multistatus xmlns=\"DAV:\">");
    for file in files {
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let href = file
            .strip_prefix(dir)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        xml.push_str(&format!(
            "<response><href>/{href}</href><propstat><prop>\
             <getlastmodified>Sun, 29 Nov 2026 08:00:00 GMT</getlastmodified>\
             <getcontentlength>{size}</getcontentlength><resourcetype/>\
             <getetag>\"{size:x}-{}\"</getetag></prop>\
             <status>HTTP/1.1 200 OK</status></propstat></response>",
            href.len()
        ));
    }
    xml.push_str("</multistatus>");
    let mut response = Response::new(full(Bytes::from(xml)));
    *response.status_mut() = StatusCode::MULTI_STATUS;
    response
}

/// Entries of one page of the Hub's tree API.
pub const HUB_PAGE: usize = 1000;

/// The Hugging Face Hub's tree API: `api/datasets/ORG/NAME/tree/REV/PATH` lists the entries
/// of the folder `datasets/ORG/NAME/resolve/REV/PATH`, with paths relative to the repository,
/// [`HUB_PAGE`] at a time from `cursor`; a `Link` header (`<url>; rel="next"`, `url` being
/// `base` with the next cursor) names the next page.
fn hub_tree(dir: &Path, folder: &str, cursor: Option<usize>, base: &str) -> Response<Body> {
    let parts: Vec<&str> = folder.splitn(6, '/').collect();
    let [kind, org, name, "tree", revision, rest @ ..] = parts.as_slice() else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let root = dir.join(format!("{kind}/{org}/{name}/resolve/{revision}"));
    let path = rest.first().map_or(root.clone(), |r| root.join(r));
    let Ok(entries) = std::fs::read_dir(&path) else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let mut listed: Vec<serde_json::Value> = entries
        .flatten()
        .map(|e| {
            let relative = e
                .path()
                .strip_prefix(&root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let directory = e.path().is_dir();
            let size = if directory {
                0
            } else {
                e.metadata().unwrap().len()
            };
            serde_json::json!({
                "type": if directory { "directory" } else { "file" },
                "oid": format!("{size:x}"),
                "size": size,
                "path": relative,
            })
        })
        .collect();
    listed.sort_by_key(|v| v["path"].as_str().unwrap().to_string());
    let from = cursor.unwrap_or(0).min(listed.len());
    let to = (from + HUB_PAGE).min(listed.len());
    let page = serde_json::Value::from(listed[from..to].to_vec());
    let mut response = Response::new(full(Bytes::from(page.to_string())));
    if to < listed.len() {
        let link = format!("<{base}?cursor={to}>; rel=\"next\"");
        response
            .headers_mut()
            .insert(hyper::header::LINK, link.parse().unwrap());
    }
    response
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
    } else if let Ok(entries) = std::fs::read_dir(path) {
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            collect_files(&entry, out);
        }
    }
}

/// Copies the files below `from` into `to` (created).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
