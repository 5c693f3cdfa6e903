//! Reading a GraphQL request off HTTP: `GET` with the query string, `POST` with a JSON body. Every
//! refusal is a JSON body with a coded error and the status that says what went wrong — 413 for a
//! body over the limit (whether it announced its length or was chunked), 408 for a body that does
//! not arrive in time, 415 for a body that is not declared JSON, 400 for one that is not a GraphQL
//! request — and nothing runs.
//!
//! Only `application/json` bodies are read: a browser on another site can send `text/plain` or a
//! form without asking first (no CORS preflight), so accepting those would let any page make a
//! signed-in visitor's browser run mutations against this server.

use crate::limits::Limits;
use std::time::Duration;

use async_graphql::{BatchRequest, Request, Variables};
use axum::{
    Json,
    body::Body,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use crate::{error::code, limits::MAX_BATCH};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = Limits::DEFAULT.max_body_bytes;

/// A request refused before it ran.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// What the client reads.
    pub message: String,
    /// `extensions.code`.
    pub code: &'static str,
}

impl Refusal {
    /// A refusal with this status, message and code.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>, code: &'static str) -> Self {
        Self { status, message: message.into(), code }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, code::BAD_USER_INPUT)
    }
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    errors: [ErrorEntry<'a>; 1],
}

#[derive(serde::Serialize)]
struct ErrorEntry<'a> {
    message: &'a str,
    extensions: ErrorCode<'a>,
}

#[derive(serde::Serialize)]
struct ErrorCode<'a> {
    code: &'a str,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { errors: [ErrorEntry { message: &self.message, extensions: ErrorCode { code: self.code } }] };
        (self.status, Json(body)).into_response()
    }
}

/// The media types an answer can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Media {
    /// `application/json`: every answer to a well-formed request is 200.
    Json,
    /// `application/graphql-response+json`: an operation that never ran is a 4xx.
    GraphqlResponse,
}

impl Media {
    /// The `Content-Type` of an answer in this media type.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json; charset=utf-8",
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// The media type the client's `Accept` asks for (GraphQL over HTTP): the one with the highest
/// `q`; at equal `q` the one named most exactly, then `application/graphql-response+json` when it
/// is named and `application/json` when only a wildcard matches. Without `Accept`, JSON (what
/// clients from before the media type expect). When neither is acceptable: 406.
pub(crate) fn negotiate(headers: &HeaderMap) -> Result<Media, Refusal> {
    let mut ranges = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).peekable();
    if ranges.peek().is_none() {
        return Ok(Media::Json);
    }
    // Per media type: (q, how exactly the range named it) of the most exact range that matched.
    let mut found: [Option<(u16, u8)>; 2] = [None, None];
    for range in ranges.flat_map(|v| v.split(',')) {
        let mut params = range.split(';');
        let essence = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0).round() as u16);
        let matches: &[(usize, u8)] = match essence.as_str() {
            "application/graphql-response+json" => &[(1, 2)],
            "application/json" => &[(0, 2)],
            "application/*" => &[(0, 1), (1, 1)],
            "*/*" => &[(0, 0), (1, 0)],
            _ => &[],
        };
        for &(media, exactness) in matches {
            if found[media].is_none_or(|(_, e)| exactness > e) {
                found[media] = Some((q, exactness));
            }
        }
    }
    let score = |media: usize| {
        found[media].filter(|(q, _)| *q > 0).map(|(q, exactness)| {
            let preferred = if exactness == 2 { media == 1 } else { media == 0 };
            (q, exactness, preferred)
        })
    };
    match (score(0), score(1)) {
        (None, None) => Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "answers are application/graphql-response+json or application/json: accept one of them",
            code::BAD_USER_INPUT,
        )),
        (json, graphql) if graphql > json => Ok(Media::GraphqlResponse),
        _ => Ok(Media::Json),
    }
}

/// Whether the `Content-Type` is JSON (`application/json`, with any parameters such as a charset).
fn is_json(headers: &HeaderMap) -> Option<bool> {
    let value = headers.get(header::CONTENT_TYPE)?;
    let essence = value.to_str().ok().and_then(|v| v.split(';').next()).map(|v| v.trim().to_ascii_lowercase());
    Some(essence.as_deref() == Some("application/json"))
}

fn length_limit_exceeded(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

fn too_large() -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {} KiB", MAX_BODY_BYTES / 1024),
        code::BAD_USER_INPUT,
    )
}

/// Reads the body of a `POST`: at most [`MAX_BODY_BYTES`], all of it within `timeout`.
async fn read_body(headers: &HeaderMap, body: Body, timeout: Duration) -> Result<axum::body::Bytes, Refusal> {
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Err(_) => Err(Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {} s", timeout.as_secs()),
            code::BAD_USER_INPUT,
        )),
        Ok(Err(e)) if length_limit_exceeded(&e) => Err(too_large()),
        Ok(Err(_)) => Err(Refusal::bad_request("the request body could not be read")),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

fn one_request(value: Value, which: &str) -> Result<Request, Refusal> {
    if !value.is_object() {
        return Err(Refusal::bad_request(format!("{which} must be a JSON object with a \"query\"")));
    }
    match value.get("query") {
        Some(Value::String(_)) => {}
        Some(_) => return Err(Refusal::bad_request(format!("{which}: \"query\" must be a string"))),
        None if value.get("extensions").is_some_and(|e| e.get("persistedQuery").is_some()) => {}
        None => {
            return Err(Refusal::bad_request(format!(
                "{which} needs a \"query\" (or a persisted query's hash in \"extensions\")"
            )));
        }
    }
    serde_json::from_value::<Request>(value)
        .map_err(|e| Refusal::bad_request(format!("{which} is not a GraphQL request: {e}")))
}

/// The operations a JSON body holds: one object, or an array of up to [`MAX_BATCH`].
fn parse_json(bytes: &[u8]) -> Result<BatchRequest, Refusal> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| Refusal::bad_request(format!("the request body is not JSON: {e}")))?;
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(Refusal::bad_request("the batch is empty"));
            }
            if items.len() > MAX_BATCH {
                return Err(Refusal::bad_request(format!(
                    "a batch may hold at most {MAX_BATCH} operations, got {}",
                    items.len()
                )));
            }
            let requests = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| one_request(item, &format!("operation {i} of the batch")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(BatchRequest::Batch(requests))
        }
        other => Ok(BatchRequest::Single(one_request(other, "the request body")?)),
    }
}

/// The operation a `GET` query string holds (`query`, `operationName`, `variables` and
/// `extensions` as JSON).
fn parse_query_string(uri: &Uri) -> Result<Request, Refusal> {
    let mut request = Request::new("");
    let mut has_query = false;
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "query" => {
                request.query = value.into_owned();
                has_query = true;
            }
            "operationName" => request.operation_name = Some(value.into_owned()).filter(|v| !v.is_empty()),
            "variables" if !value.is_empty() => {
                let variables: Value = serde_json::from_str(&value)
                    .map_err(|e| Refusal::bad_request(format!("variables: not JSON ({e})")))?;
                if !variables.is_object() && !variables.is_null() {
                    return Err(Refusal::bad_request("variables: must be a JSON object"));
                }
                request.variables = Variables::from_json(variables);
            }
            "extensions" if !value.is_empty() => {
                request.extensions = serde_json::from_str(&value)
                    .map_err(|e| Refusal::bad_request(format!("extensions: not a JSON object ({e})")))?;
            }
            _ => {}
        }
    }
    if !has_query && !request.extensions.contains_key("persistedQuery") {
        return Err(Refusal::bad_request("a GET request needs a `query` parameter (or a persisted query's hash)"));
    }
    Ok(request)
}

/// The GraphQL request of an HTTP request, or why it was refused.
pub(crate) async fn read(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    body_timeout: Duration,
) -> Result<BatchRequest, Refusal> {
    if method == Method::GET {
        return parse_query_string(uri).map(BatchRequest::Single);
    }
    match is_json(headers) {
        Some(true) => {}
        Some(false) => {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the request as JSON, with Content-Type: application/json",
                code::BAD_USER_INPUT,
            ));
        }
        None => {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request has no Content-Type: send it as JSON, with Content-Type: application/json",
                code::BAD_USER_INPUT,
            ));
        }
    }
    let bytes = read_body(headers, body, body_timeout).await?;
    parse_json(&bytes)
}

/// Any other path: a coded JSON answer, as from `/graphql`.
pub(super) async fn no_such_path() -> Response {
    Refusal::new(StatusCode::NOT_FOUND, "no such path: GraphQL is served at /graphql", code::NOT_FOUND).into_response()
}
