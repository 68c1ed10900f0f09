//! AWS Budgets CreateBudget, which speaks `awsJson1_1`: `POST /` with
//! `X-Amz-Target: AWSBudgetServiceGateway.CreateBudget`, a JSON body, and JSON errors
//! whose `__type` names the exception. Budgets are remembered per account, so creating
//! one twice gets Budgets' DuplicateRecordException.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::ids;
use crate::loopback::{Body, Operation, RecordedRequest, full};
use crate::sigv4::SigV4Error;

const TARGET_PREFIX: &str = "AWSBudgetServiceGateway.";

pub(super) fn is_budgets_request(target: Option<&str>) -> bool {
    target.is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

pub(super) fn operation(target: Option<&str>) -> Operation {
    match target.and_then(|t| t.strip_prefix(TARGET_PREFIX)) {
        Some("CreateBudget") => Operation::CreateBudget,
        _ => Operation::Other,
    }
}

/// Validates like Budgets does and records `(account, name)` in `created`.
pub(super) fn create_budget(
    req: &RecordedRequest,
    created: &mut Vec<(String, String)>,
) -> Response<Body> {
    let Some(body) = &req.json else {
        return error(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "Start of structure or map found where not expected.",
        );
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let account = text(&body["AccountId"]);
    let budget = &body["Budget"];
    let missing = [
        ("AccountId", account.is_some()),
        ("Budget.BudgetName", text(&budget["BudgetName"]).is_some()),
        ("Budget.BudgetType", text(&budget["BudgetType"]).is_some()),
        ("Budget.TimeUnit", text(&budget["TimeUnit"]).is_some()),
    ]
    .into_iter()
    .find(|(_, present)| !present);
    if let Some((field, _)) = missing {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            &format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ),
        );
    }
    let account = account.unwrap_or_default();
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            "Account id must be a 12-digit number.",
        );
    }
    let name = text(&budget["BudgetName"]).unwrap_or_default();
    if created.iter().any(|(a, n)| *a == account && *n == name) {
        return error(
            StatusCode::BAD_REQUEST,
            "DuplicateRecordException",
            &format!("Error creating budget: {name} - the budget already exists."),
        );
    }
    created.push((account, name));
    Response::builder()
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-RequestId", ids::uuid())
        .body(full("{}"))
        .expect("static response parts are valid")
}

pub(super) fn sigv4_error(refusal: &SigV4Error) -> Response<Body> {
    let code = match refusal {
        SigV4Error::Missing => "MissingAuthenticationTokenException",
        SigV4Error::UnknownAccessKey | SigV4Error::BadSessionToken => "UnrecognizedClientException",
        SigV4Error::Incomplete(_) => "IncompleteSignatureException",
        SigV4Error::Mismatch(_) => "InvalidSignatureException",
    };
    error(StatusCode::FORBIDDEN, code, refusal.message())
}

pub(super) fn unknown_operation() -> Response<Body> {
    error(
        StatusCode::BAD_REQUEST,
        "UnknownOperationException",
        "The requested operation is not recognized by the loopback Budgets.",
    )
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-RequestId", ids::uuid())
        .body(full(
            json!({ "__type": kind, "Message": message }).to_string(),
        ))
        .expect("static response parts are valid")
}
