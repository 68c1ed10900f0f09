//! A loopback Amazon Bedrock: the runtime's InvokeModel and InvokeModelWithResponseStream,
//! the control-plane reads a `doctor` makes, STS GetCallerIdentity and AWS Budgets
//! CreateBudget, all on one port (the AWS SDK lets every service's endpoint point at the
//! same URL).
//!
//! It answers with Bedrock's recorded wire format, validates bodies and credentials the
//! way Bedrock does, and records every request for assertions.

mod budgets;
mod control_plane;
mod reply;
mod sts;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response};
use serde_json::{Value, json};

pub use control_plane::{CallerIdentity, ControlPlane};
pub use reply::{DEFAULT_TEXT, Reply};

use crate::loopback::{Body, Loopback, Operation, RecordedRequest, full, lock};
use crate::sigv4::{self, SigV4Error, percent_decode};
use reply::error_response;

/// How the server checks credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// Accept anything; only record.
    #[default]
    Any,
    /// Require a valid SigV4 signature from this key, recomputed from the request.
    SigV4 {
        /// The one access key id the server knows.
        access_key_id: String,
        /// Its secret.
        secret_access_key: String,
        /// When set, `x-amz-security-token` must carry it; when not, must be absent.
        session_token: Option<String>,
        /// The region the credential scope must name.
        region: String,
    },
    /// Require `Authorization: Bearer <token>` (a Bedrock API key). STS, which takes no
    /// bearer tokens, is then not checked.
    Bearer(String),
    /// Require that no `Authorization` header is present, for a gateway that signs itself.
    Unsigned,
}

/// Settings for [`BedrockServer::start`].
#[derive(Debug, Clone, Default)]
pub struct BedrockOptions {
    /// Credential check.
    pub auth: Auth,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Data for the control-plane and STS routes.
    pub control_plane: ControlPlane,
    /// Access key ids whose (temporary) credentials have expired: requests signed with
    /// them get Bedrock's 403 `ExpiredTokenException` (STS: `ExpiredToken`) before any
    /// signature check, as AWS's authentication layer answers.
    pub expired_access_keys: Vec<String>,
}

/// A running loopback Bedrock; dropping it stops the server.
pub struct BedrockServer {
    state: Arc<State>,
    loopback: Loopback,
}

struct State {
    auth: Auth,
    expired_access_keys: Vec<String>,
    control_plane: Mutex<ControlPlane>,
    requests: Mutex<Vec<RecordedRequest>>,
    replies: Mutex<VecDeque<Reply>>,
    /// Replies for one model ID (as in the path), served before the shared queue, each
    /// with the number of invocations that must have arrived before it is sent.
    routed: Mutex<HashMap<String, VecDeque<(Reply, usize)>>>,
    /// Invocations that passed authentication and validation so far.
    invocations: tokio::sync::watch::Sender<usize>,
    /// `(account, name)` of each budget CreateBudget made.
    budgets: Mutex<Vec<(String, String)>>,
}

impl BedrockServer {
    /// Binds 127.0.0.1 and serves on a background thread.
    ///
    /// # Panics
    /// If the port cannot be bound.
    pub fn start(opts: BedrockOptions) -> BedrockServer {
        let state = Arc::new(State {
            auth: opts.auth,
            expired_access_keys: opts.expired_access_keys,
            control_plane: Mutex::new(opts.control_plane),
            requests: Mutex::new(Vec::new()),
            replies: Mutex::new(VecDeque::new()),
            routed: Mutex::new(HashMap::new()),
            invocations: tokio::sync::watch::Sender::new(0),
            budgets: Mutex::new(Vec::new()),
        });
        let handler_state = state.clone();
        let loopback = Loopback::start(
            opts.port,
            Arc::new(move |req| Box::pin(handle(handler_state.clone(), req))),
        )
        .unwrap_or_else(|e| panic!("loopback Bedrock cannot bind 127.0.0.1:{}: {e}", opts.port));
        BedrockServer { state, loopback }
    }

    /// `http://127.0.0.1:PORT`, the endpoint URL for every AWS service the tests use.
    pub fn url(&self) -> String {
        self.loopback.url()
    }

    /// Every request received so far, rejected ones included, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Queues a reply for the next invocation that passes authentication and validation.
    /// With the queue empty, invocations get [`Reply::default`].
    pub fn push(&self, reply: Reply) {
        lock(&self.state.replies).push_back(reply);
    }

    /// Queues a reply for the next invocation of `model_id` (the model or profile ID as
    /// the request path names it), served before the shared queue. Concurrent requests
    /// to different models (subagents) then get their own replies whatever their order.
    pub fn push_for_model(&self, model_id: &str, reply: Reply) {
        self.push_for_model_after(model_id, 0, reply);
    }

    /// Like [`BedrockServer::push_for_model`], but the reply is held until `invocations`
    /// model invocations (this one included) have arrived in all. A client that sends
    /// requests one after another never gets it, so a test of concurrent requests proves
    /// their concurrency without timing anything.
    pub fn push_for_model_after(&self, model_id: &str, invocations: usize, reply: Reply) {
        lock(&self.state.routed)
            .entry(model_id.to_string())
            .or_default()
            .push_back((reply, invocations));
    }

    /// Replaces the control-plane and STS data.
    pub fn set_control_plane(&self, control_plane: ControlPlane) {
        *lock(&self.state.control_plane) = control_plane;
    }
}

/// Where a request goes, decided from method, path and (for STS) the form body.
struct Route {
    operation: Operation,
    /// The URL-decoded model id or resource identifier from the path.
    resource: Option<String>,
    service: Service,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Bedrock,
    Sts,
    Budgets,
}

fn route(req: &Request<Bytes>) -> Route {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    if req.method() == Method::POST && budgets::is_budgets_request(target) {
        return Route {
            operation: budgets::operation(target),
            resource: None,
            service: Service::Budgets,
        };
    }
    let segments: Vec<&str> = req.uri().path().split('/').skip(1).collect();
    let label = |s: &str| Some(percent_decode(s));
    let bedrock = |operation, resource| Route {
        operation,
        resource,
        service: Service::Bedrock,
    };
    match (req.method(), segments.as_slice()) {
        (&Method::POST, ["model", id, "invoke"]) => bedrock(Operation::Invoke, label(id)),
        (&Method::POST, ["model", id, "invoke-with-response-stream"]) => {
            bedrock(Operation::InvokeStream, label(id))
        }
        (&Method::GET, ["foundation-models"]) => bedrock(Operation::ListFoundationModels, None),
        (&Method::GET, ["foundation-models", id]) => {
            bedrock(Operation::GetFoundationModel, label(id))
        }
        (&Method::GET, ["inference-profiles"]) => bedrock(Operation::ListInferenceProfiles, None),
        (&Method::GET, ["inference-profiles", id]) => {
            bedrock(Operation::GetInferenceProfile, label(id))
        }
        (&Method::GET, ["foundation-model-availability", id]) => {
            bedrock(Operation::GetFoundationModelAvailability, label(id))
        }
        (&Method::GET, ["guardrails", id]) => bedrock(Operation::GetGuardrail, label(id)),
        (&Method::POST, [""]) if sts::is_query_request(req.body()) => Route {
            operation: sts::operation(req.body()),
            resource: None,
            service: Service::Sts,
        },
        _ => bedrock(Operation::Other, None),
    }
}

async fn handle(state: Arc<State>, req: Request<Bytes>) -> Response<Body> {
    let started = Instant::now();
    if req.method() == Method::GET && req.uri().path() == "/__admin/requests" {
        return admin_requests(&state);
    }
    let route = route(&req);
    let recorded = RecordedRequest::new(&req, route.operation, route.resource.clone());
    lock(&state.requests).push(recorded.clone());
    if state.signed_with_expired_key(&recorded) {
        return match route.service {
            Service::Sts => sts::expired_token(),
            _ => error_response(
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
        };
    }
    if let Some(refusal) = guardrail_refusal(&recorded, route.operation) {
        return refusal;
    }
    if let Err(refusal) = state.authenticate(&recorded, route.service) {
        return match route.service {
            Service::Sts => sts::error(&refusal),
            Service::Budgets => budgets::sigv4_error(&refusal),
            Service::Bedrock => error_response(403, refusal.shape(), refusal.message()),
        };
    }
    let resource = route.resource.unwrap_or_default();
    match route.operation {
        Operation::Invoke | Operation::InvokeStream => {
            if let Err(message) = validate_body(&recorded.body) {
                return error_response(400, "ValidationException", &message);
            }
            state.invocations.send_modify(|n| *n += 1);
            let routed = lock(&state.routed)
                .get_mut(&resource)
                .and_then(VecDeque::pop_front);
            let reply = match routed {
                Some((reply, after)) => {
                    let mut arrived = state.invocations.subscribe();
                    // The sender lives in `state`, which this handler holds.
                    let _ = arrived.wait_for(|n| *n >= after).await;
                    reply
                }
                None => lock(&state.replies).pop_front().unwrap_or_default(),
            };
            reply
                .respond(
                    &resource,
                    route.operation == Operation::InvokeStream,
                    started,
                )
                .await
        }
        Operation::GetCallerIdentity => sts::caller_identity(&lock(&state.control_plane).caller),
        Operation::CreateBudget => budgets::create_budget(&recorded, &mut lock(&state.budgets)),
        Operation::Other if route.service == Service::Sts => sts::unknown_action(req.body()),
        Operation::Other if route.service == Service::Budgets => budgets::unknown_operation(),
        Operation::Other => error_response(
            404,
            "UnknownOperationException",
            "The requested operation is not recognized by the service.",
        ),
        operation => lock(&state.control_plane).respond(operation, &resource, &recorded),
    }
}

/// Bedrock's checks of the guardrail headers of an invocation: an identifier needs a
/// version and the reverse, and each must have its documented shape.
fn guardrail_refusal(req: &RecordedRequest, operation: Operation) -> Option<Response<Body>> {
    if !matches!(operation, Operation::Invoke | Operation::InvokeStream) {
        return None;
    }
    let id = req.header("x-amzn-bedrock-guardrailidentifier");
    let version = req.header("x-amzn-bedrock-guardrailversion");
    let version_ok = |v: &str| {
        v == "DRAFT"
            || (!v.is_empty()
                && v.len() <= 8
                && !v.starts_with('0')
                && v.bytes().all(|b| b.is_ascii_digit()))
    };
    let problem = match (id, version) {
        (None, None) => return None,
        (Some(_), None) | (None, Some(_)) => {
            "Guardrail identifier and version must both be provided.".to_string()
        }
        (Some(_), Some(v)) if !version_ok(v) => format!(
            "1 validation error detected: Value '{v}' at 'guardrailVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (([1-9][0-9]{{0,7}})|(DRAFT))"
        ),
        _ => return None,
    };
    Some(error_response(400, "ValidationException", &problem))
}

impl State {
    /// Whether the request's SigV4 credential scope names an expired access key.
    fn signed_with_expired_key(&self, req: &RecordedRequest) -> bool {
        let Some(authorization) = req.header("authorization") else {
            return false;
        };
        authorization
            .split("Credential=")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .is_some_and(|key| self.expired_access_keys.iter().any(|k| k == key))
    }

    fn authenticate(&self, req: &RecordedRequest, service: Service) -> Result<(), SigV4Error> {
        let authorization = req.header("authorization");
        match &self.auth {
            Auth::Any => Ok(()),
            Auth::SigV4 {
                access_key_id,
                secret_access_key,
                session_token,
                region,
            } => sigv4::verify(
                &req.sigv4_request(),
                &sigv4::Key {
                    access_key_id,
                    secret_access_key,
                    session_token: session_token.as_deref(),
                    region,
                    service: match service {
                        Service::Bedrock => "bedrock",
                        Service::Sts => "sts",
                        Service::Budgets => "budgets",
                    },
                },
            ),
            Auth::Bearer(_) if service != Service::Bedrock => Ok(()),
            Auth::Bearer(token) => match authorization {
                None => Err(SigV4Error::Missing),
                Some(value) if value.strip_prefix("Bearer ") == Some(token.as_str()) => Ok(()),
                Some(_) => Err(SigV4Error::UnknownAccessKey),
            },
            Auth::Unsigned => match authorization {
                None => Ok(()),
                Some(_) => Err(SigV4Error::Incomplete(
                    "loopback Bedrock (Auth::Unsigned): the request carried an Authorization header, but the gateway in front signs requests itself".into(),
                )),
            },
        }
    }
}

/// Bedrock's JSON-schema check of an Anthropic body, with its wording: required keys,
/// no `model` or `stream`, the one accepted `anthropic_version`.
fn validate_body(body: &[u8]) -> Result<(), String> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err("Malformed input request, please reformat your input and try again.".into());
    };
    let mut problems = String::new();
    for key in ["anthropic_version", "max_tokens", "messages"] {
        if !map.contains_key(key) {
            problems.push_str(&format!("#: required key [{key}] not found"));
        }
    }
    for key in map.keys().filter(|k| *k == "model" || *k == "stream") {
        problems.push_str(&format!("#: extraneous key [{key}] is not permitted"));
    }
    match map.get("anthropic_version") {
        Some(Value::String(v)) if v == "bedrock-2023-05-31" => {}
        Some(Value::String(v)) => {
            problems.push_str(&format!(
                "#/anthropic_version: {v} is not a valid enum value"
            ));
        }
        Some(other) => problems.push_str(&format!(
            "#/anthropic_version: expected type: String, found: {}",
            json_type(other)
        )),
        None => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Malformed input request: {problems}, please reformat your input and try again."
        ))
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

/// For bench scripts that must check "exactly one HTTP request" from outside the process.
fn admin_requests(state: &State) -> Response<Body> {
    let requests = lock(&state.requests);
    let list: Vec<Value> = requests
        .iter()
        .map(|r| json!({ "method": r.method, "path": r.path }))
        .collect();
    Response::builder()
        .header("content-type", "application/json")
        .body(full(
            json!({ "count": list.len(), "requests": list }).to_string(),
        ))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_validation_uses_bedrock_wording() {
        let ok = br#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[]}"#;
        assert_eq!(validate_body(ok), Ok(()));
        assert_eq!(
            validate_body(
                br#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[],"stream":true}"#
            ),
            Err("Malformed input request: #: extraneous key [stream] is not permitted, please reformat your input and try again.".into())
        );
        assert_eq!(
            validate_body(br#"{"model":"x","messages":[]}"#),
            Err("Malformed input request: #: required key [anthropic_version] not found#: required key [max_tokens] not found#: extraneous key [model] is not permitted, please reformat your input and try again.".into())
        );
        let wrong =
            validate_body(br#"{"anthropic_version":"2023-06-01","max_tokens":1,"messages":[]}"#)
                .unwrap_err();
        assert!(wrong.contains("#/anthropic_version: 2023-06-01 is not a valid enum value"));
        assert!(validate_body(b"not json").is_err());
    }
}
