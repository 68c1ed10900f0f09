//! STS GetCallerIdentity, which speaks the `query` protocol: a form body in, XML out,
//! and XML errors with STS's own codes.

use http::{Response, StatusCode};

use super::control_plane::CallerIdentity;
use crate::ids;
use crate::loopback::{Body, Operation, full};
use crate::sigv4::{SigV4Error, percent_decode};

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn form_value<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

pub(super) fn is_query_request(body: &[u8]) -> bool {
    form_value(body, "Action").is_some()
}

pub(super) fn operation(body: &[u8]) -> Operation {
    match form_value(body, "Action") {
        Some("GetCallerIdentity") => Operation::GetCallerIdentity,
        _ => Operation::Other,
    }
}

pub(super) fn caller_identity(caller: &CallerIdentity) -> Response<Body> {
    let request_id = ids::uuid();
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"{XMLNS}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        xml_escape(&caller.arn),
        xml_escape(&caller.user_id),
        xml_escape(&caller.account),
    );
    xml(StatusCode::OK, &request_id, body)
}

pub(super) fn error(refusal: &SigV4Error) -> Response<Body> {
    let code = match refusal {
        SigV4Error::Missing => "MissingAuthenticationToken",
        SigV4Error::Incomplete(_) => "IncompleteSignature",
        SigV4Error::UnknownAccessKey | SigV4Error::BadSessionToken => "InvalidClientTokenId",
        SigV4Error::Mismatch(_) => "SignatureDoesNotMatch",
    };
    error_xml(StatusCode::FORBIDDEN, code, refusal.message())
}

/// STS's answer to an expired session token.
pub(super) fn expired_token() -> Response<Body> {
    error_xml(
        StatusCode::FORBIDDEN,
        "ExpiredToken",
        "The security token included in the request is expired",
    )
}

pub(super) fn unknown_action(body: &[u8]) -> Response<Body> {
    let action = percent_decode(form_value(body, "Action").unwrap_or_default());
    error_xml(
        StatusCode::BAD_REQUEST,
        "InvalidAction",
        &format!("Could not find operation {action} for version 2011-06-15"),
    )
}

fn error_xml(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let request_id = ids::uuid();
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        xml_escape(message)
    );
    xml(status, &request_id, body)
}

fn xml(status: StatusCode, request_id: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-RequestId", request_id)
        .body(full(body))
        .expect("static response parts are valid")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
