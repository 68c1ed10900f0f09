//! AWS Signature Version 4, checked by recomputation the way AWS does it, so a test proves
//! the client signed what it sent rather than merely that an `Authorization` header exists.
//!
//! Rules followed (non-S3 services, which is what the Rust SDK and botocore use for
//! `bedrock` and `sts`): the canonical URI is the path as received, encoded once more
//! (`%3A` becomes `%253A`, a literal `:` becomes `%3A`); query pairs are decoded,
//! re-encoded and sorted; header values are trimmed with inner runs of spaces collapsed;
//! the payload hash is `x-amz-content-sha256` when present, else SHA-256 of the body.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parts of an HTTP request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, ….
    pub method: &'a str,
    /// The path exactly as received, still percent-encoded.
    pub path: &'a str,
    /// The raw query string without `?`; empty when there is none.
    pub query: &'a str,
    /// Headers with lowercase names, in arrival order; repeated names allowed.
    pub headers: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The credentials and scope a server expects.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    /// Access key id, e.g. `AKIDEXAMPLE`.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Required `x-amz-security-token` value for temporary credentials.
    pub session_token: Option<&'a str>,
    /// Region of the credential scope.
    pub region: &'a str,
    /// Signing name: `bedrock` for both Bedrock planes, `sts` for STS.
    pub service: &'a str,
}

/// The fields of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Access key id from the credential.
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
    /// Lowercase header names, in the order given.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

impl Authorization {
    /// Parses the header value; the error carries AWS's wording for what is missing.
    pub fn parse(value: &str) -> Result<Self, SigV4Error> {
        let rest = value
            .strip_prefix(ALGORITHM)
            .filter(|r| r.starts_with(' '))
            .ok_or_else(|| {
                SigV4Error::Incomplete(format!(
                    "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={value}"
                ))
            })?;
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            match k {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed_headers = Some(v),
                "Signature" => signature = Some(v),
                _ => {}
            }
        }
        let missing: Vec<&str> = [
            ("Credential", credential.is_none()),
            ("Signature", signature.is_none()),
            ("SignedHeaders", signed_headers.is_none()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        if !missing.is_empty() {
            let text: String = missing
                .iter()
                .map(|n| format!("Authorization header requires '{n}' parameter. "))
                .collect();
            return Err(SigV4Error::Incomplete(format!(
                "{text}Authorization={value}"
            )));
        }
        let credential = credential.unwrap_or_default();
        let parts: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, "aws4_request"] = parts[..] else {
            return Err(SigV4Error::Incomplete(format!(
                "Credential should be scoped to a valid region. Credential={credential}"
            )));
        };
        Ok(Authorization {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            signed_headers: signed_headers
                .unwrap_or_default()
                .split(';')
                .map(str::to_owned)
                .collect(),
            signature: signature.unwrap_or_default().to_owned(),
        })
    }

    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Why a request is refused; [`SigV4Error::shape`] and [`SigV4Error::message`] give what
/// AWS answers (all with HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// No `Authorization` header at all.
    Missing,
    /// The header lacks parts AWS requires.
    Incomplete(String),
    /// The access key id is not the configured one.
    UnknownAccessKey,
    /// The session token is absent or different.
    BadSessionToken,
    /// Scope, date or signature do not match; the text is AWS's for the case.
    Mismatch(String),
}

/// AWS's text when the recomputed signature differs.
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl SigV4Error {
    /// The error shape AWS names in `x-amzn-ErrorType` (or `<Code>` for query services).
    pub fn shape(&self) -> &'static str {
        match self {
            SigV4Error::Missing => "MissingAuthenticationTokenException",
            SigV4Error::Incomplete(_) => "IncompleteSignatureException",
            SigV4Error::UnknownAccessKey | SigV4Error::BadSessionToken => {
                "UnrecognizedClientException"
            }
            SigV4Error::Mismatch(_) => "InvalidSignatureException",
        }
    }

    /// The message AWS sends.
    pub fn message(&self) -> &str {
        match self {
            SigV4Error::Missing => "Missing Authentication Token",
            SigV4Error::UnknownAccessKey | SigV4Error::BadSessionToken => {
                "The security token included in the request is invalid."
            }
            SigV4Error::Incomplete(m) | SigV4Error::Mismatch(m) => m,
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.shape(), self.message())
    }
}

impl std::error::Error for SigV4Error {}

/// Checks the request's SigV4 signature against `key` by recomputing it.
pub fn verify(req: &Request<'_>, key: &Key<'_>) -> Result<(), SigV4Error> {
    let header = req.header("authorization").ok_or(SigV4Error::Missing)?;
    let auth = Authorization::parse(header)?;
    if auth.access_key_id != key.access_key_id {
        return Err(SigV4Error::UnknownAccessKey);
    }
    if req.header("x-amz-security-token") != key.session_token {
        return Err(SigV4Error::BadSessionToken);
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    if auth.service != key.service {
        return Err(SigV4Error::Mismatch(format!(
            "Credential should be scoped to correct service: '{}'.",
            key.service
        )));
    }
    if auth.region != key.region {
        return Err(SigV4Error::Mismatch(
            "Credential should be scoped to a valid region.".into(),
        ));
    }
    let amz_date = req.header("x-amz-date").ok_or_else(|| {
        SigV4Error::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    })?;
    if !amz_date.starts_with(&auth.date) {
        return Err(SigV4Error::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            amz_date.get(..8).unwrap_or(amz_date)
        )));
    }
    if let Some(claimed) = req.header("x-amz-content-sha256")
        && claimed.len() == 64
        && claimed != sha256_hex(req.body)
    {
        return Err(SigV4Error::Mismatch(SIGNATURE_MISMATCH.into()));
    }
    let creq = canonical_request(req, &auth.signed_headers);
    let sts = string_to_sign(amz_date, &auth.scope(), &creq);
    let expected = signature(
        key.secret_access_key,
        &auth.date,
        &auth.region,
        &auth.service,
        &sts,
    );
    if expected == auth.signature {
        Ok(())
    } else {
        Err(SigV4Error::Mismatch(SIGNATURE_MISMATCH.into()))
    }
}

/// Signs a request with every header it carries (which must include `host` and
/// `x-amz-date`), returning the `Authorization` header value.
pub fn sign(req: &Request<'_>, key: &Key<'_>) -> String {
    let mut names: Vec<String> = req.headers.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    let amz_date = req.header("x-amz-date").unwrap_or_default();
    let date = amz_date.get(..8).unwrap_or_default();
    let scope = format!("{date}/{}/{}/aws4_request", key.region, key.service);
    let sts = string_to_sign(amz_date, &scope, &canonical_request(req, &names));
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
        key.access_key_id,
        names.join(";"),
        signature(key.secret_access_key, date, key.region, key.service, &sts)
    )
}

/// The canonical request over the given signed headers (lowercase names).
pub fn canonical_request(req: &Request<'_>, signed_headers: &[String]) -> String {
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| trim_all(v))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = req
        .header("x-amz-content-sha256")
        .map_or_else(|| sha256_hex(req.body), str::to_owned);
    format!(
        "{}\n{}\n{}\n{headers}\n{}\n{payload_hash}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query),
        signed_headers.join(";"),
    )
}

/// The string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The hex signature: HMAC chain over date, region, service and `aws4_request`.
pub fn signature(
    secret_access_key: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k_date = hmac(format!("AWS4{secret_access_key}").as_bytes(), date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, service);
    let k_signing = hmac(&k_service, "aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    uri_encode(&remove_dot_segments(path), false)
}

/// The Rust SDK normalizes dot segments and empty segments before signing; clients never
/// send them to Bedrock, but a signature over a hand-written path should still agree.
fn remove_dot_segments(path: &str) -> String {
    if !(path.contains('.') || path.contains("//")) {
        return path.to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut joined = format!("/{}", out.join("/"));
    if ["/", "/.", "/..", "/./", "/../"]
        .iter()
        .any(|s| path.ends_with(s))
        && !joined.ends_with('/')
    {
        joined.push('/');
    }
    joined
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&form_decode(k), true),
                uri_encode(&form_decode(v), true),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Decodes `%XX` escapes; malformed escapes are kept literally, as AWS does.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (b == b'/' && !encode_slash) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_encoded_a_second_time() {
        assert_eq!(
            canonical_uri("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"),
            "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%253A0/invoke"
        );
        assert_eq!(
            canonical_uri("/model/anthropic.claude-3-haiku-20240307-v1:0/invoke"),
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke"
        );
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
    }

    #[test]
    fn query_is_sorted_and_reencoded() {
        assert_eq!(
            canonical_query("type=SYSTEM_DEFINED&maxResults=1000"),
            "maxResults=1000&type=SYSTEM_DEFINED"
        );
        assert_eq!(canonical_query("a=x+y&b=%7e&c"), "a=x%20y&b=~&c=");
    }

    #[test]
    fn header_values_collapse_spaces() {
        assert_eq!(trim_all("  attempt=1;   max=3 "), "attempt=1; max=3");
    }

    #[test]
    fn authorization_parses_and_reports_missing_parts() {
        let auth = Authorization::parse(
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(auth.scope(), "20250101/us-east-1/bedrock/aws4_request");
        assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
        let err = Authorization::parse("AWS4-HMAC-SHA256 Credential=AKID/x").unwrap_err();
        assert!(err.message().contains("requires 'Signature'"), "{err}");
        assert_eq!(err.shape(), "IncompleteSignatureException");
    }

    #[test]
    fn sign_then_verify_and_detect_tampering() {
        let headers = vec![
            ("host".to_owned(), "127.0.0.1:9".to_owned()),
            ("x-amz-date".to_owned(), "20250101T000000Z".to_owned()),
            ("x-amz-security-token".to_owned(), "tok".to_owned()),
        ];
        let key = Key {
            access_key_id: "AKID",
            secret_access_key: "secret",
            session_token: Some("tok"),
            region: "us-west-2",
            service: "bedrock",
        };
        let mut req = Request {
            method: "POST",
            path: "/model/a%3Ab/invoke",
            query: "",
            headers: &headers,
            body: b"{}",
        };
        let mut signed = headers.clone();
        signed.push(("authorization".into(), sign(&req, &key)));
        req.headers = &signed;
        assert_eq!(verify(&req, &key), Ok(()));
        req.body = b"{ }";
        assert_eq!(
            verify(&req, &key),
            Err(SigV4Error::Mismatch(SIGNATURE_MISMATCH.into()))
        );
        req.body = b"{}";
        let wrong_region = Key {
            region: "us-east-1",
            ..key
        };
        assert_eq!(
            verify(&req, &wrong_region).unwrap_err().shape(),
            "InvalidSignatureException"
        );
        let other_key = Key {
            access_key_id: "AKOTHER",
            ..key
        };
        assert_eq!(verify(&req, &other_key), Err(SigV4Error::UnknownAccessKey));
        let other_token = Key {
            session_token: Some("other"),
            ..key
        };
        assert_eq!(verify(&req, &other_token), Err(SigV4Error::BadSessionToken));
        req.headers = &headers;
        assert_eq!(verify(&req, &key), Err(SigV4Error::Missing));
    }
}
