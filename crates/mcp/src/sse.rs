//! The legacy HTTP+SSE transport (MCP 2024-11-05), which Claude Code still
//! accepts as `"type": "sse"` and rmcp 3 no longer ships: the client opens
//! an event stream with GET, the server's first `endpoint` event names the
//! URL to POST messages to, and every server message arrives as a `message`
//! event on that stream.
//!
//! Built as the sink and stream pair rmcp accepts as a transport; the
//! stream ends when the server closes the event stream, which the session
//! treats as a lost connection.

use std::collections::BTreeMap;
use std::pin::Pin;

use futures_util::{Sink, Stream, StreamExt};
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use sse_stream::SseStream;

/// Messages from the server, in the order they arrived.
pub type Incoming = Pin<Box<dyn Stream<Item = RxJsonRpcMessage<RoleClient>> + Send>>;
/// Messages to the server, each POSTed to the endpoint.
pub type Outgoing = Pin<Box<dyn Sink<TxJsonRpcMessage<RoleClient>, Error = std::io::Error> + Send>>;

/// Opens the event stream at `url` and waits for its `endpoint` event (the
/// caller bounds the wait). `headers` go with every request.
pub async fn connect(
    url: &str,
    headers: &BTreeMap<String, String>,
) -> Result<(Outgoing, Incoming), String> {
    let mut header_map = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        let name = reqwest::header::HeaderName::try_from(k.as_str())
            .map_err(|e| format!("header {k}: {e}"))?;
        let value = reqwest::header::HeaderValue::try_from(v.as_str())
            .map_err(|e| format!("header {k}: {e}"))?;
        header_map.insert(name, value);
    }
    let client = reqwest::Client::builder()
        .default_headers(header_map)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let base = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let response = client
        .get(base.clone())
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("GET {url}: HTTP {status}"));
    }
    let mut events = SseStream::from_bytes_stream(response.bytes_stream());
    let endpoint = loop {
        match events.next().await {
            Some(Ok(e)) if e.event.as_deref() == Some("endpoint") => {
                let data = e.data.unwrap_or_default();
                break base
                    .join(data.trim())
                    .map_err(|err| format!("the server's endpoint `{data}`: {err}"))?;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("the event stream broke: {e}")),
            None => {
                return Err("the server closed the event stream before naming its endpoint".into());
            }
        }
    };

    let (tx, rx) = tokio::sync::mpsc::channel::<RxJsonRpcMessage<RoleClient>>(64);
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = events.next() => event,
                // The connection was dropped: stop reading.
                () = tx.closed() => break,
            };
            let Some(Ok(event)) = event else { break };
            if !matches!(event.event.as_deref(), None | Some("message")) {
                continue;
            }
            let Some(data) = event.data else { continue };
            // A message that is not JSON-RPC is skipped, as rmcp's own transports do.
            if let Ok(message) = serde_json::from_str(&data)
                && tx.send(message).await.is_err()
            {
                break;
            }
        }
    });
    let incoming: Incoming = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }));
    let outgoing: Outgoing = Box::pin(futures_util::sink::unfold(
        (client, endpoint),
        |(client, endpoint), message: TxJsonRpcMessage<RoleClient>| async move {
            let response = client
                .post(endpoint.clone())
                .json(&message)
                .send()
                .await
                .map_err(|e| {
                    std::io::Error::other(format!("POST {endpoint}: {}", error_chain(&e)))
                })?;
            let status = response.status();
            if !status.is_success() {
                return Err(std::io::Error::other(format!(
                    "POST {endpoint}: HTTP {status}"
                )));
            }
            Ok((client, endpoint))
        },
    ));
    Ok((outgoing, incoming))
}

/// An error with its causes, on one line ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
