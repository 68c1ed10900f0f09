//! Servers' tools as the agent's: `mcp__<server>__<tool>` with the server's
//! input schema, under the same permission rules and hooks as built-in
//! tools; plus `ListMcpResourcesTool` and `ReadMcpResourceTool`.
//!
//! Names and descriptions live as long as the process (the [`Tool`] trait
//! hands out `&'static str`), each kept once however often a server's tool
//! list changes.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use claude_agent::tools::{Tool, ToolCtx, ToolOutput, ToolSource};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::manager::{Manager, Server, env_millis, safe_name};

/// The output cap without `MAX_MCP_OUTPUT_TOKENS`.
pub const DEFAULT_MAX_OUTPUT_TOKENS: usize = 25_000;

/// The MCP tools as a [`ToolSource`]: every connected server's tools, and
/// the resource tools when any server is connected, listed again before a
/// request when a server announced a change or was restarted.
pub fn source(manager: Arc<Manager>) -> Arc<dyn ToolSource> {
    Arc::new(McpTools {
        manager,
        limits: Limits {
            call_timeout: env_millis("MCP_TOOL_TIMEOUT"),
            max_chars: std::env::var("MAX_MCP_OUTPUT_TOKENS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS)
                .saturating_mul(4),
        },
    })
}

struct McpTools {
    manager: Arc<Manager>,
    limits: Limits,
}

impl ToolSource for McpTools {
    fn refresh(&self) -> BoxFuture<'_, u64> {
        Box::pin(self.manager.refresh())
    }

    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let limits = self.limits;
        let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
        let mut any = false;
        for server in &self.manager.servers {
            if server.connection().is_err() {
                continue;
            }
            any = true;
            for t in server.tools() {
                let name = format!("mcp__{}__{}", safe_name(&server.name), safe_name(&t.name));
                tools.push(Arc::new(McpTool {
                    server: server.clone(),
                    tool: t.name.clone(),
                    name: intern(name),
                    description: intern(if t.description.is_empty() {
                        format!("The `{}` tool of the MCP server `{}`.", t.name, server.name)
                    } else {
                        t.description.clone()
                    }),
                    schema: t.input_schema.clone(),
                    read_only: t.read_only,
                    limits,
                }));
            }
        }
        if any {
            let servers: Vec<Arc<Server>> = self.manager.servers.clone();
            tools.push(Arc::new(ListResources {
                servers: servers.clone(),
            }));
            tools.push(Arc::new(ReadResource { servers, limits }));
        }
        tools
    }

    fn owns(&self, name: &str) -> bool {
        name.starts_with("mcp__") || name == LIST_RESOURCES || name == READ_RESOURCE
    }
}

const LIST_RESOURCES: &str = "ListMcpResourcesTool";
const READ_RESOURCE: &str = "ReadMcpResourceTool";

/// A string that lives as long as the process (the [`Tool`] trait hands out
/// `&'static str`), kept once however often a changing tool list is rebuilt.
fn intern(s: String) -> &'static str {
    static SEEN: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&known) = seen.get(s.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    seen.insert(leaked);
    leaked
}

#[derive(Clone, Copy)]
struct Limits {
    call_timeout: Option<Duration>,
    max_chars: usize,
}

struct McpTool {
    server: Arc<Server>,
    tool: String,
    name: &'static str,
    description: &'static str,
    schema: Value,
    read_only: bool,
    limits: Limits,
}

impl Tool for McpTool {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn input_schema(&self) -> Value {
        self.schema.clone()
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn key_arg(&self, input: &Value) -> String {
        let s = input.to_string();
        if s.chars().count() > 80 {
            format!("{}…", s.chars().take(79).collect::<String>())
        } else {
            s
        }
    }

    fn call<'a>(&'a self, input: Value, _ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let call = self.server.call(&self.tool, input);
            let result = match self.limits.call_timeout {
                Some(t) => tokio::time::timeout(t, call).await.unwrap_or_else(|_| {
                    Err(format!(
                        "the MCP tool timed out after {} ms (MCP_TOOL_TIMEOUT)",
                        t.as_millis()
                    ))
                }),
                None => call.await,
            };
            let output = match result {
                Ok(v) => convert(&v, self.limits.max_chars),
                Err(e) => ToolOutput::error(e),
            };
            // A `notifications/tools/list_changed` sent just before the result
            // is handled on another task: let it mark the server stale before
            // the next request is built.
            tokio::task::yield_now().await;
            output
        })
    }
}

/// A `tools/call` result as a tool result: text and images as blocks
/// (structured content as JSON text when there is no text), cut at
/// `max_chars` characters of text with a note.
fn convert(result: &Value, max_chars: usize) -> ToolOutput {
    let mut blocks = Vec::new();
    let mut texts = 0usize;
    let mut images = 0usize;
    for c in result["content"].as_array().into_iter().flatten() {
        match c["type"].as_str() {
            Some("text") => {
                texts += 1;
                blocks
                    .push(json!({"type": "text", "text": c["text"].as_str().unwrap_or_default()}));
            }
            Some("image") => {
                images += 1;
                blocks.push(json!({
                    "type": "image",
                    "source": {"type": "base64", "media_type": c["mimeType"], "data": c["data"]}
                }));
            }
            Some("resource") => {
                let r = &c["resource"];
                let text = match r["text"].as_str() {
                    Some(t) => format!("[resource {}]\n{t}", r["uri"].as_str().unwrap_or("")),
                    None => format!(
                        "[resource {} ({}), binary, not shown]",
                        r["uri"].as_str().unwrap_or(""),
                        r["mimeType"].as_str().unwrap_or("unknown type")
                    ),
                };
                texts += 1;
                blocks.push(json!({"type": "text", "text": text}));
            }
            Some("resource_link") => {
                texts += 1;
                blocks.push(json!({"type": "text", "text": format!(
                    "[resource link {} {}]",
                    c["uri"].as_str().unwrap_or(""),
                    c["name"].as_str().unwrap_or("")
                )}));
            }
            Some(other) => blocks.push(json!({
                "type": "text",
                "text": format!("[{other} content, not shown]")
            })),
            None => {}
        }
    }
    if texts == 0
        && let Some(s) = result.get("structuredContent").filter(|s| !s.is_null())
    {
        blocks.push(json!({"type": "text", "text": s.to_string()}));
    }
    let cut = cap(&mut blocks, max_chars);
    let is_error = result["isError"].as_bool().unwrap_or(false);
    let chars: usize = blocks
        .iter()
        .filter_map(|b| b["text"].as_str())
        .map(str::len)
        .sum();
    let mut summary = format!("{chars} chars");
    if images > 0 {
        summary.push_str(&format!(
            ", {images} image{}",
            if images == 1 { "" } else { "s" }
        ));
    }
    if cut {
        summary.push_str(" (cut)");
    }
    if is_error {
        summary = format!("error: {summary}");
    }
    let content = match blocks.as_slice() {
        [] => Value::String(String::new()),
        [one] if one["type"] == "text" => one["text"].clone(),
        _ => Value::Array(blocks),
    };
    ToolOutput {
        content,
        is_error,
        summary,
    }
}

/// Cuts the text blocks to `max_chars` characters in all, and says so in
/// the last one kept. True when something was cut.
fn cap(blocks: &mut Vec<Value>, max_chars: usize) -> bool {
    let total: usize = blocks
        .iter()
        .filter_map(|b| b["text"].as_str())
        .map(|t| t.chars().count())
        .sum();
    if total <= max_chars {
        return false;
    }
    let mut left = max_chars;
    for b in blocks.iter_mut() {
        if let Some(t) = b["text"].as_str() {
            let n = t.chars().count();
            let keep = n.min(left);
            if keep < n {
                b["text"] = Value::String(t.chars().take(keep).collect());
            }
            left -= keep;
        }
    }
    blocks.retain(|b| b["type"] != "text" || b["text"].as_str().is_some_and(|t| !t.is_empty()));
    blocks.push(json!({"type": "text", "text": format!(
        "\n[Output cut: the tool returned about {} tokens, more than the {} allowed \
         (MAX_MCP_OUTPUT_TOKENS). Ask for less, e.g. with a narrower query or pagination.]",
        total.div_ceil(4),
        max_chars / 4
    )}));
    true
}

struct ListResources {
    servers: Vec<Arc<Server>>,
}

impl Tool for ListResources {
    fn name(&self) -> &'static str {
        LIST_RESOURCES
    }

    fn description(&self) -> &'static str {
        "Lists the resources the connected MCP servers offer (uri, name, description, mimeType, and the server they come from). Give `server` to list one server's resources only. Read one with ReadMcpResourceTool."
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "server": {"type": "string", "description": "Only this server's resources"}
            },
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        input["server"].as_str().unwrap_or_default().to_string()
    }

    fn call<'a>(&'a self, input: Value, _ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let only = input["server"].as_str();
            if let Some(name) = only
                && !self.servers.iter().any(|s| s.name == name)
            {
                return ToolOutput::error(format!("No MCP server named `{name}`."));
            }
            let mut all = Vec::new();
            for s in &self.servers {
                if only.is_some_and(|n| n != s.name) {
                    continue;
                }
                let Ok(conn) = s.connection() else { continue };
                match conn.list_resources().await {
                    Ok(list) => all.extend(list.into_iter().map(|mut r| {
                        r["server"] = Value::String(s.name.clone());
                        r
                    })),
                    Err(e) => return ToolOutput::error(format!("{}: {e}", s.name)),
                }
            }
            let n = all.len();
            ToolOutput::ok(
                Value::Array(all).to_string(),
                format!("{n} resource{}", if n == 1 { "" } else { "s" }),
            )
        })
    }
}

struct ReadResource {
    servers: Vec<Arc<Server>>,
    limits: Limits,
}

impl Tool for ReadResource {
    fn name(&self) -> &'static str {
        READ_RESOURCE
    }

    fn description(&self) -> &'static str {
        "Reads one resource of an MCP server by its URI (as ListMcpResourcesTool lists it). Text comes back as text, images as images."
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "server": {"type": "string", "description": "The MCP server's name"},
                "uri": {"type": "string", "description": "The resource's URI"}
            },
            "required": ["server", "uri"],
            "additionalProperties": false
        })
    }

    fn read_only(&self) -> bool {
        true
    }

    fn key_arg(&self, input: &Value) -> String {
        input["uri"].as_str().unwrap_or_default().to_string()
    }

    fn call<'a>(&'a self, input: Value, _ctx: &'a ToolCtx) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let (Some(name), Some(uri)) = (input["server"].as_str(), input["uri"].as_str()) else {
                return ToolOutput::error("ReadMcpResourceTool needs `server` and `uri`.");
            };
            let Some(server) = self.servers.iter().find(|s| s.name == name) else {
                return ToolOutput::error(format!("No MCP server named `{name}`."));
            };
            let conn = match server.connection() {
                Ok(c) => c,
                Err(e) => return ToolOutput::error(format!("{name}: {e}")),
            };
            match conn.read_resource(uri).await {
                Ok(v) => {
                    // The contents as tool content: text, or images from blobs.
                    let content: Vec<Value> = v["contents"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| match (c["text"].as_str(), c["blob"].as_str()) {
                            (Some(t), _) => json!({"type": "text", "text": t}),
                            (None, Some(b))
                                if c["mimeType"]
                                    .as_str()
                                    .is_some_and(|m| m.starts_with("image/")) =>
                            {
                                json!({"type": "image", "data": b, "mimeType": c["mimeType"]})
                            }
                            _ => json!({"type": "resource", "resource": c}),
                        })
                        .collect();
                    convert(&json!({"content": content}), self.limits.max_chars)
                }
                Err(e) => ToolOutput::error(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_image_and_structured_results_become_blocks() {
        let out = convert(
            &json!({"content": [{"type": "text", "text": "hi"}, {"type": "image", "data": "AAA", "mimeType": "image/png"}]}),
            1000,
        );
        assert_eq!(out.content[0]["text"], "hi");
        assert_eq!(out.content[1]["source"]["media_type"], "image/png");
        let out = convert(
            &json!({"content": [], "structuredContent": {"sum": 3}}),
            1000,
        );
        assert_eq!(out.content, json!("{\"sum\":3}"));
        let out = convert(
            &json!({"content": [{"type": "text", "text": "bad"}], "isError": true}),
            1000,
        );
        assert!(out.is_error);
    }

    #[test]
    fn long_output_is_cut_with_a_note() {
        let out = convert(
            &json!({"content": [{"type": "text", "text": "x".repeat(5000)}]}),
            400,
        );
        let blocks = out.content.as_array().expect("blocks");
        assert_eq!(blocks[0]["text"].as_str().unwrap().len(), 400);
        assert!(
            blocks[1]["text"]
                .as_str()
                .unwrap()
                .contains("MAX_MCP_OUTPUT_TOKENS")
        );
    }
}
