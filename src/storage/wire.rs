//! Requests to remote stores counted where they go on the wire: an HTTP client that wraps
//! object_store's own (reqwest) and records every exchange — each attempt of a retried
//! request, each page of a listing, each part of an upload — with its kind, the bytes sent
//! and received (a cut-off body counts what arrived), the time to the response, and whether
//! it failed in a way the client retries (transport errors, timeouts, 408, 429, 5xx, a body
//! cut short). These are the requests a cloud provider bills.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use http::Method;
use http_body::{Body, Frame, SizeHint};
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpResponseBody, HttpService,
    ReqwestConnector,
};

use super::instrumented::{RequestCounter, RequestKind};

/// Connects object_store's stores through [`CountingService`].
#[derive(Debug)]
pub struct CountingConnector {
    counter: Arc<RequestCounter>,
}

impl CountingConnector {
    pub fn new(counter: Arc<RequestCounter>) -> Self {
        CountingConnector { counter }
    }
}

impl HttpConnector for CountingConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let inner = ReqwestConnector::default().connect(options)?;
        Ok(HttpClient::new(CountingService {
            inner,
            counter: Arc::clone(&self.counter),
        }))
    }
}

/// An HTTP client that counts what it sends and receives.
#[derive(Debug)]
struct CountingService {
    inner: HttpClient,
    counter: Arc<RequestCounter>,
}

/// What kind of request a request with this method and query is, in the terms providers
/// bill by.
pub fn classify(method: &Method, query: &str, ranged: bool) -> RequestKind {
    let param = |name: &str| {
        query.split('&').find_map(|p| match p.split_once('=') {
            Some((k, v)) if k == name => Some(v),
            None if p == name => Some(""),
            _ => None,
        })
    };
    let comp = param("comp");
    match *method {
        Method::HEAD => RequestKind::Head,
        Method::GET if param("list-type").is_some() || comp == Some("list") => RequestKind::List,
        Method::GET if ranged => RequestKind::RangedGet,
        Method::GET => RequestKind::Get,
        Method::PUT if param("partNumber").is_some() || comp == Some("block") => {
            RequestKind::MultipartPart
        }
        // DELETE, and S3's DeleteObjects (a POST), which are free.
        Method::DELETE => RequestKind::Delete,
        Method::POST if param("delete").is_some() => RequestKind::Delete,
        _ if method.as_str() == "PROPFIND" => RequestKind::List,
        // PUT, POST (multipart create and complete), MKCOL, COPY.
        _ => RequestKind::Put,
    }
}

#[async_trait]
impl HttpService for CountingService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let ranged = request.headers().contains_key(http::header::RANGE);
        let kind = classify(
            request.method(),
            request.uri().query().unwrap_or(""),
            ranged,
        );
        self.counter
            .record(kind, request.body().content_length() as u64);
        let started = Instant::now();
        let response = self.inner.execute(request).await;
        self.counter.time(started);
        match response {
            Ok(response) => {
                let status = response.status();
                if status.is_server_error()
                    || status == http::StatusCode::TOO_MANY_REQUESTS
                    || status == http::StatusCode::REQUEST_TIMEOUT
                {
                    self.counter.failed();
                }
                let (parts, body) = response.into_parts();
                let body = CountingBody {
                    inner: body,
                    counter: Arc::clone(&self.counter),
                };
                Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
            }
            Err(e) => {
                self.counter.failed();
                Err(e)
            }
        }
    }
}

/// A response body that counts its bytes as they arrive, and a failure if it breaks off.
struct CountingBody {
    inner: HttpResponseBody,
    counter: Arc<RequestCounter>,
}

impl Body for CountingBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.counter.received(data.len() as u64);
                }
            }
            Poll::Ready(Some(Err(_))) => self.counter.failed(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified_as_providers_bill_them() {
        let kind =
            |m: &str, q: &str, r: bool| classify(&Method::from_bytes(m.as_bytes()).unwrap(), q, r);
        assert_eq!(
            kind("GET", "list-type=2&prefix=a%2F", false),
            RequestKind::List
        );
        assert_eq!(
            kind("GET", "restype=container&comp=list", false),
            RequestKind::List
        );
        assert_eq!(kind("PROPFIND", "", false), RequestKind::List);
        assert_eq!(kind("GET", "", true), RequestKind::RangedGet);
        assert_eq!(kind("GET", "", false), RequestKind::Get);
        assert_eq!(kind("HEAD", "", false), RequestKind::Head);
        assert_eq!(
            kind("PUT", "partNumber=2&uploadId=x", false),
            RequestKind::MultipartPart
        );
        assert_eq!(
            kind("PUT", "comp=block&blockid=AAA", false),
            RequestKind::MultipartPart
        );
        assert_eq!(kind("PUT", "comp=blocklist", false), RequestKind::Put);
        assert_eq!(kind("POST", "uploads", false), RequestKind::Put);
        assert_eq!(kind("PUT", "", false), RequestKind::Put);
        assert_eq!(kind("DELETE", "uploadId=x", false), RequestKind::Delete);
        assert_eq!(kind("POST", "delete", false), RequestKind::Delete);
    }
}
