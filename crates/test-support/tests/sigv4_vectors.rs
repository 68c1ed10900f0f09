//! The SigV4 verifier held to signatures botocore produced (fixed key and time), so the
//! server's check is AWS's rule and not our reading of it.

mod common;

use claude_test_support::fixtures;
use claude_test_support::sigv4::{self, Authorization, Key, Request, SigV4Error};
use common::fixture;
use serde_json::Value;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Parts {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Parts {
    fn from_url(method: &str, url: &str, headers: &Value, body: &Value) -> Parts {
        let rest = url.strip_prefix("https://").unwrap();
        let (host, path_query) = rest.split_at(rest.find('/').unwrap());
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        let mut lowered: Vec<(String, String)> = headers
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
            .collect();
        lowered.push(("host".into(), host.into()));
        Parts {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: lowered,
            body: body.as_str().unwrap_or_default().as_bytes().to_vec(),
        }
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

fn key(service: &str) -> Key<'_> {
    Key {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service,
    }
}

fn load(name: &str) -> Option<Vec<Value>> {
    let bytes = fixture(fixtures::vector(name))?;
    Some(serde_json::from_slice::<Vec<Value>>(&bytes).unwrap())
}

#[test]
fn canonical_request_and_string_to_sign_match_botocore() {
    let Some(vectors) = load("sigv4-bedrock-vectors.json") else {
        return;
    };
    for v in vectors {
        let mut parts = Parts::from_url(
            "POST",
            v["url"].as_str().unwrap(),
            &v["request_headers_in"],
            &v["body"],
        );
        parts.headers.push((
            "x-amz-date".into(),
            v["x-amz-date"].as_str().unwrap().into(),
        ));
        let auth = Authorization::parse(v["authorization"].as_str().unwrap()).unwrap();
        let creq = sigv4::canonical_request(&parts.request(), &auth.signed_headers);
        assert_eq!(creq, v["canonical_request"].as_str().unwrap());
        let scope = "20250101/us-east-1/bedrock/aws4_request";
        let sts = sigv4::string_to_sign(v["x-amz-date"].as_str().unwrap(), scope, &creq);
        assert_eq!(sts, v["string_to_sign"].as_str().unwrap());
        let sig = sigv4::signature(SECRET, "20250101", "us-east-1", "bedrock", &sts);
        assert_eq!(sig, auth.signature);
        assert_eq!(
            sigv4::sign(&parts.request(), &key("bedrock")),
            v["authorization"].as_str().unwrap(),
            "signing every header gives botocore's header"
        );
        parts.headers.push((
            "authorization".into(),
            v["authorization"].as_str().unwrap().into(),
        ));
        assert_eq!(sigv4::verify(&parts.request(), &key("bedrock")), Ok(()));
    }
}

#[test]
fn every_botocore_request_verifies_and_tampering_fails() {
    let Some(requests) = load("botocore-requests.json") else {
        return;
    };
    assert!(requests.len() >= 7);
    for r in requests {
        let url = r["url"].as_str().unwrap();
        let parts = Parts::from_url(
            r["method"].as_str().unwrap(),
            url,
            &r["headers"],
            &r["body"],
        );
        let service = if url.contains("://sts.") {
            "sts"
        } else {
            "bedrock"
        };
        assert_eq!(
            sigv4::verify(&parts.request(), &key(service)),
            Ok(()),
            "{url}"
        );

        let other_service = if service == "sts" { "bedrock" } else { "sts" };
        assert!(matches!(
            sigv4::verify(&parts.request(), &key(other_service)),
            Err(SigV4Error::Mismatch(_))
        ));
        let wrong_secret = Key {
            secret_access_key: "not-the-secret",
            ..key(service)
        };
        assert_eq!(
            sigv4::verify(&parts.request(), &wrong_secret),
            Err(SigV4Error::Mismatch(sigv4::SIGNATURE_MISMATCH.into())),
            "{url}"
        );
        let mut tampered = Parts {
            body: [parts.body.as_slice(), b" "].concat(),
            ..parts
        };
        assert!(
            sigv4::verify(&tampered.request(), &key(service)).is_err(),
            "{url}"
        );
        tampered.body.pop();
        tampered.path.push('x');
        assert!(
            sigv4::verify(&tampered.request(), &key(service)).is_err(),
            "{url}"
        );
    }
}
