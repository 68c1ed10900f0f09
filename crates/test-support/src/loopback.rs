//! The HTTP plumbing both servers share: a listener on 127.0.0.1 served by hyper on a
//! thread with its own tokio runtime, so plain synchronous `#[test]`s (and a `claude`
//! subprocess) can talk to it, and dropping the handle stops it.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot};

/// Every response body: either complete, or fed frame by frame (and then sent chunked).
pub(crate) type Body = BoxBody<Bytes, Infallible>;

pub(crate) type Handler = Arc<
    dyn Fn(Request<Bytes>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync,
>;

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A body whose chunks come from `produce`, which runs on the server's runtime and stops
/// when the client goes away (a send fails).
pub(crate) fn streamed<F, Fut>(produce: F) -> Body
where
    F: FnOnce(Sink) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(produce(Sink(tx)));
    ChannelBody(rx).boxed()
}

/// The producing end of a [`streamed`] body.
pub(crate) struct Sink(mpsc::Sender<Bytes>);

impl Sink {
    /// False once the client has gone, so the producer can stop.
    pub(crate) async fn send(&self, bytes: impl Into<Bytes>) -> bool {
        self.0.send(bytes.into()).await.is_ok()
    }
}

struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// A running server; dropping it stops accepting, ends open connections and joins the
/// thread.
pub(crate) struct Loopback {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Loopback {
    pub(crate) fn start(port: u16, handler: Handler) -> io::Result<Self> {
        let listener = StdListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, mut stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("loopback-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    loop {
                        tokio::select! {
                            _ = &mut stopped => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    // Like AWS's front ends: without this, Nagle's algorithm
                                    // holds each small frame for the client's delayed ACK
                                    // (40 ms) once a kept-alive connection is reused.
                                    let _ = stream.set_nodelay(true);
                                    tokio::spawn(serve(stream, handler.clone()));
                                }
                            }
                        }
                    }
                });
            })?;
        Ok(Loopback {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(stream: tokio::net::TcpStream, handler: Handler) {
    let service = service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => Bytes::new(),
            };
            Ok::<_, Infallible>(handler(Request::from_parts(parts, body)).await)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Which API operation a request addressed, as the server routed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Bedrock `POST /model/{id}/invoke`.
    Invoke,
    /// Bedrock `POST /model/{id}/invoke-with-response-stream`.
    InvokeStream,
    /// Bedrock control plane `GET /foundation-models`.
    ListFoundationModels,
    /// Bedrock control plane `GET /foundation-models/{id}`.
    GetFoundationModel,
    /// Bedrock control plane `GET /inference-profiles`.
    ListInferenceProfiles,
    /// Bedrock control plane `GET /inference-profiles/{id}`.
    GetInferenceProfile,
    /// Bedrock control plane `GET /foundation-model-availability/{id}`.
    GetFoundationModelAvailability,
    /// Bedrock control plane `GET /guardrails/{id}`.
    GetGuardrail,
    /// STS `POST /` with `Action=GetCallerIdentity`.
    GetCallerIdentity,
    /// AWS Budgets `POST /` with `X-Amz-Target: AWSBudgetServiceGateway.CreateBudget`.
    CreateBudget,
    /// Anthropic `POST /v1/messages`.
    Messages,
    /// Anything the server does not implement.
    Other,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// The path exactly as sent, still percent-encoded.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The operation the server routed it to.
    pub operation: Operation,
    /// The model: Bedrock's URL-decoded path label or resource id, or the direct API's
    /// body `model`.
    pub model_id: Option<String>,
    /// Headers with lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<serde_json::Value>,
}

impl RecordedRequest {
    pub(crate) fn new(
        req: &Request<Bytes>,
        operation: Operation,
        model_id: Option<String>,
    ) -> Self {
        RecordedRequest {
            method: req.method().to_string(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(str::to_owned),
            operation,
            model_id,
            headers: req
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: req.body().to_vec(),
            json: serde_json::from_slice(req.body()).ok(),
        }
    }

    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn sigv4_request(&self) -> crate::sigv4::Request<'_> {
        crate::sigv4::Request {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref().unwrap_or_default(),
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Locks ignoring poison: a panicking test thread must not take the server down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
