//! An MCP server for the failure cases of the client's end-to-end tests,
//! on the official Rust SDK (`rmcp`):
//!
//! ```text
//! mcp-test-server [--hang] [--http | --sse]
//! ```
//!
//! Over stdio by default; `--http` serves streamable HTTP on a loopback port
//! and `--sse` the legacy HTTP+SSE transport (GET `/sse`, POST `/message`),
//! each printing its URL as the first line of stdout. `--hang` accepts the
//! connection and never answers `initialize`.
//!
//! Its tools, listed two to a page so a client must follow `nextCursor`:
//! `echo {text}`, `pid` (the process id), `big` (1 MiB of text), `boom`
//! (exits with status 1), `sleep {ms}` (notes a cancellation on stderr) and
//! `grow {name}`, which adds a tool of that name and sends
//! `notifications/tools/list_changed`; and one resource, `test://notes/hello`.
//! Everything it does is noted on stderr.

// Its stderr is the log the tests read, and stdout carries its URL.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// Tools per `tools/list` page.
const PAGE: usize = 2;
/// Its one resource.
const NOTE_URI: &str = "test://notes/hello";
const NOTE_TEXT: &str = "# Hello\n\nA resource from mcp-test-server.";

#[derive(Clone, Default)]
struct TestServer {
    /// Tools added by `grow`.
    grown: Arc<Mutex<Vec<String>>>,
}

fn tool(name: &str, description: &str, properties: Value) -> Tool {
    let schema = json!({"type": "object", "properties": properties});
    let Value::Object(schema) = schema else {
        unreachable!("a JSON object literal")
    };
    Tool::new(name.to_string(), description.to_string(), schema)
}

impl TestServer {
    fn tools(&self) -> Vec<Tool> {
        let text = json!({"text": {"type": "string"}});
        let mut tools = vec![
            tool("echo", "Returns its text.", text.clone()),
            tool("pid", "Returns the server's process id.", json!({})),
            tool("big", "Returns 1 MiB of text.", json!({})),
            tool("boom", "Exits the server.", json!({})),
            tool(
                "sleep",
                "Sleeps for `ms` milliseconds.",
                json!({"ms": {"type": "integer"}}),
            ),
            tool(
                "grow",
                "Adds a tool named `name` and announces the change.",
                json!({"name": {"type": "string"}}),
            ),
        ];
        let grown = self.grown.lock().unwrap_or_else(|p| p.into_inner());
        tools.extend(
            grown
                .iter()
                .map(|n| tool(n, "A tool added by grow.", text.clone())),
        );
        tools
    }
}

fn text(s: impl Into<String>) -> Result<CallToolResponse, ErrorData> {
    Ok(CallToolResponse::Complete(CallToolResult::success(vec![
        ContentBlock::text(s.into()),
    ])))
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("mcp-test-server", "1.0.0"))
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let start: usize = request
            .and_then(|r| r.cursor)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let all = self.tools();
        let end = (start + PAGE).min(all.len());
        let mut page = ListToolsResult::with_all_items(all[start.min(end)..end].to_vec());
        if end < all.len() {
            page.next_cursor = Some(end.to_string());
        }
        Ok(page)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut note = Resource::new(NOTE_URI, "note");
        note.mime_type = Some("text/markdown".into());
        Ok(ListResourcesResult::with_all_items(vec![note]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != NOTE_URI {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        Ok(ReadResourceResponse::Complete(ReadResourceResult::new(
            vec![ResourceContents::text(NOTE_TEXT, NOTE_URI).with_mime_type("text/markdown")],
        )))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = Value::Object(request.arguments.unwrap_or_default());
        let name = request.name.to_string();
        eprintln!("call {name}");
        match name.as_str() {
            "echo" => text(args["text"].as_str().unwrap_or_default()),
            "pid" => text(std::process::id().to_string()),
            "big" => text("x".repeat(1 << 20)),
            "boom" => {
                eprintln!("boom");
                std::process::exit(1)
            }
            "sleep" => {
                let ms = args["ms"].as_u64().unwrap_or(60_000);
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(ms)) => text("slept"),
                    () = context.ct.cancelled() => {
                        eprintln!("sleep cancelled");
                        Err(ErrorData::internal_error("cancelled", None))
                    }
                }
            }
            "grow" => {
                let new = args["name"].as_str().unwrap_or("grown").to_string();
                self.grown
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(new.clone());
                if let Err(e) = context.peer.notify_tool_list_changed().await {
                    eprintln!("notify failed: {e}");
                }
                text(format!("added {new}"))
            }
            grown if self.tools().iter().any(|t| t.name == grown) => text(format!(
                "{grown}: {}",
                args["text"].as_str().unwrap_or_default()
            )),
            other => Err(ErrorData::invalid_params(
                format!("no tool named {other}"),
                None,
            )),
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let hang = args.iter().any(|a| a == "--hang");
    let http = args.iter().any(|a| a == "--http");
    let sse = args.iter().any(|a| a == "--sse");
    if let Some(unknown) = args
        .iter()
        .find(|a| !matches!(a.as_str(), "--hang" | "--http" | "--sse"))
    {
        eprintln!(
            "mcp-test-server: unknown argument {unknown}\nusage: mcp-test-server [--hang] [--http | --sse]"
        );
        std::process::exit(2);
    }
    eprintln!("starting");
    if http {
        serve_http(hang).await;
    } else if sse {
        serve_sse(hang).await;
    } else if hang {
        // Read and never answer, until the client goes away.
        let mut sink = tokio::io::sink();
        let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut sink).await;
    } else {
        match TestServer::default().serve(rmcp::transport::stdio()).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => eprintln!("initialize failed: {e}"),
        }
    }
}

/// Streamable HTTP at `/mcp` on a loopback port; with `hang`, every
/// request is accepted and never answered.
async fn serve_http(hang: bool) {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a local address");
    println!("http://{addr}/mcp");
    let service = StreamableHttpService::new(
        || Ok(TestServer::default()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let handler = hyper::service::service_fn(move |req| {
                let mut service = service.clone();
                async move {
                    if hang {
                        std::future::pending::<()>().await;
                    }
                    tower_service::Service::call(&mut service, req).await
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, handler)
                .await;
        });
    }
}

type Sessions =
    Arc<Mutex<HashMap<String, tokio::sync::mpsc::Sender<RxJsonRpcMessage<RoleServer>>>>>;

/// The legacy HTTP+SSE transport at `/sse`, as MCP 2024-11-05 defines it:
/// GET opens a session whose first event, `endpoint`, names the URL to POST
/// messages to; the server's messages are `message` events. With `hang`,
/// the stream opens and names no endpoint.
async fn serve_sse(hang: bool) {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
    use hyper::body::Frame;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a local address");
    println!("http://{addr}/sse");
    let sessions: Sessions = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(1));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let sessions = sessions.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let handler =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let sessions = sessions.clone();
                    let next = next.clone();
                    async move {
                        let status = |code: u16| {
                            hyper::Response::builder().status(code).body(BoxBody::new(
                                Full::new(Bytes::new()).map_err(|never| match never {}),
                            ))
                        };
                        match (req.method().as_str(), req.uri().path()) {
                            ("GET", "/sse") => {
                                let id = next
                                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                                    .to_string();
                                let (to_client, from_server) =
                                    tokio::sync::mpsc::channel::<String>(64);
                                if !hang {
                                    let _ = to_client
                                        .send(format!(
                                            "event: endpoint\ndata: /message?sessionId={id}\n\n"
                                        ))
                                        .await;
                                    let (to_server, incoming) = tokio::sync::mpsc::channel(64);
                                    sessions
                                        .lock()
                                        .unwrap_or_else(|p| p.into_inner())
                                        .insert(id, to_server);
                                    let outgoing = futures_util::sink::unfold(
                                        to_client.clone(),
                                        |tx, message: TxJsonRpcMessage<RoleServer>| async move {
                                            let json = serde_json::to_string(&message)
                                                .map_err(std::io::Error::other)?;
                                            tx.send(format!("event: message\ndata: {json}\n\n"))
                                                .await
                                                .map_err(std::io::Error::other)?;
                                            Ok::<_, std::io::Error>(tx)
                                        },
                                    );
                                    let incoming = futures_util::stream::unfold(
                                        incoming,
                                        |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
                                    );
                                    tokio::spawn(async move {
                                        let transport = (Box::pin(outgoing), Box::pin(incoming));
                                        if let Ok(running) =
                                            TestServer::default().serve(transport).await
                                        {
                                            let _ = running.waiting().await;
                                        }
                                    });
                                }
                                // Keep the stream open for as long as the session lives.
                                let keep = to_client;
                                let events = futures_util::stream::unfold(
                                    (from_server, keep),
                                    |(mut rx, keep)| async move {
                                        let event = rx.recv().await?;
                                        Some((
                                            Ok::<_, std::convert::Infallible>(Frame::data(
                                                Bytes::from(event),
                                            )),
                                            (rx, keep),
                                        ))
                                    },
                                );
                                hyper::Response::builder()
                                    .header("content-type", "text/event-stream")
                                    .header("cache-control", "no-cache")
                                    .body(BoxBody::new(StreamBody::new(events)))
                            }
                            ("POST", "/message") => {
                                let id = req
                                    .uri()
                                    .query()
                                    .and_then(|q| q.strip_prefix("sessionId="))
                                    .unwrap_or_default()
                                    .to_string();
                                let sender = sessions
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get(&id)
                                    .cloned();
                                let Some(sender) = sender else {
                                    return status(404);
                                };
                                let Ok(body) = req.into_body().collect().await else {
                                    return status(400);
                                };
                                let Ok(message) = serde_json::from_slice(&body.to_bytes()) else {
                                    return status(400);
                                };
                                if sender.send(message).await.is_err() {
                                    return status(410);
                                }
                                status(202)
                            }
                            _ => status(404),
                        }
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, handler)
                .await;
        });
    }
}
