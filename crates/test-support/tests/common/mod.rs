//! A minimal HTTP/1.1 client over hyper's connection API, so the servers are checked by a
//! real parser (chunked bodies included) without pulling reqwest into this crate.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("response body is JSON")
    }
}

/// Sends one request; `None` if no complete response arrives within `timeout`.
pub fn send_within(
    timeout: Duration,
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Resp> {
    let authority = url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut req = http::Request::builder()
                .method(method)
                .uri(path)
                .header("host", &authority);
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            let req = req.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
            let resp = sender.send_request(req).await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            let body = resp
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec();
            Resp {
                status,
                headers,
                body,
            }
        };
        tokio::time::timeout(timeout, exchange).await.ok()
    })
}

pub fn send(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    send_within(Duration::from_secs(20), url, method, path, headers, body)
        .expect("the server answered within 20 s")
}

/// Reads a fixture, or prints why the test is skipped (tests may print; the library may not).
#[allow(clippy::print_stderr)]
pub fn fixture(path: Option<std::path::PathBuf>) -> Option<Vec<u8>> {
    match path {
        Some(path) => Some(std::fs::read(path).unwrap()),
        None => {
            eprintln!("skipping: ../shared not present");
            None
        }
    }
}

/// Splits an SSE body into `(event, data)` pairs.
pub fn sse_events(body: &str) -> Vec<(String, String)> {
    body.split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = v.to_owned();
                }
            }
            (event, data)
        })
        .collect()
}
