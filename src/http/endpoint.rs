//! `/graphql`: GraphQL over HTTP, and the WebSocket upgrade. What a request carries is read by
//! extractors — the client's address, the media type it accepts, its token, its operations — and
//! its answer built by small functions, each operation in the client's turn.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use async_graphql::{BatchRequest, Request, parser::types::OperationType};
use axum::{
    RequestExt as _,
    extract::{ConnectInfo, FromRequest, FromRequestParts, State, WebSocketUpgrade},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response as HttpResponse},
};
use rules::UserId;

use super::{
    codes,
    request::{self, MAX_BODY_BYTES, Media, Refusal},
    serve::ConnectionHold,
    state::HttpState,
    ws,
};
use crate::{
    auth::{Viewer, resolve_viewer},
    error::{self, code},
    graphql::{
        answer::Answer,
        budget::{Owner, RequestLimits},
        checks,
        context::RequestContext,
    },
    rate_limit::address_key,
};

/// The client's address: the peer's, or the one a trusted proxy names.
pub(super) struct ClientAddress(pub(super) Option<IpAddr>);

impl FromRequestParts<HttpState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
        Ok(Self(state.trusted_proxies.client(peer, &parts.headers)))
    }
}

/// The media type the answer is written in (`Accept`), or a 406.
pub(super) struct Accepted(Media);

impl<S: Send + Sync> FromRequestParts<S> for Accepted {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Refusal> {
        request::negotiate(&parts.headers).map(Self)
    }
}

/// Whose token the request carries, checked once (its signature and expiry, no database): it
/// says whose line the request waits in, and then who the viewer is. A bad one is not refused
/// here: it is the operations' `UNAUTHENTICATED`.
pub(super) struct Caller(Result<Option<UserId>, &'static str>);

impl FromRequestParts<HttpState> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, Self::Rejection> {
        let mut authorizations = parts.headers.get_all(header::AUTHORIZATION).iter();
        Ok(Self(match (authorizations.next(), authorizations.next()) {
            (Some(_), Some(_)) => Err("send one Authorization header, not several"),
            (first, _) => state
                .services
                .keys
                .session_of(first.map(|v| v.to_str().unwrap_or("not text")))
                .map(|session| session.map(|(user, _)| user)),
        }))
    }
}

/// The operations of a request: one, or a batch; read from the query string of a `GET` or the
/// JSON body of a `POST`, within the body's deadline.
pub(super) struct Operations {
    method: Method,
    single: bool,
    requests: Vec<Request>,
}

impl FromRequest<HttpState> for Operations {
    type Rejection = Refusal;

    async fn from_request(request: axum::extract::Request, state: &HttpState) -> Result<Self, Refusal> {
        let (parts, body) = request.into_parts();
        let batch = request::read(&parts.method, &parts.uri, &parts.headers, body, state.body_timeout).await?;
        let (single, requests) = match batch {
            BatchRequest::Single(r) => (true, vec![r]),
            BatchRequest::Batch(list) => (false, list),
        };
        Ok(Self { method: parts.method, single, requests })
    }
}

/// `GET /graphql`: a WebSocket upgrade, or a query in the query string.
pub(super) async fn get(
    State(state): State<HttpState>,
    ClientAddress(client): ClientAddress,
    request: axum::extract::Request,
) -> HttpResponse {
    if is_websocket(request.headers()) {
        return upgrade(state, request.into_parts().0, client).await;
    }
    match request.extract_with_state::<(Accepted, Caller, Operations), _, _>(&state).await {
        Ok((Accepted(media), Caller(caller), operations)) => answer(state, client, media, caller, operations).await,
        Err(refusal) => refusal,
    }
}

/// `POST /graphql`.
pub(super) async fn post(
    State(state): State<HttpState>,
    ClientAddress(client): ClientAddress,
    Accepted(media): Accepted,
    Caller(caller): Caller,
    operations: Operations,
) -> HttpResponse {
    answer(state, client, media, caller, operations).await
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Answers a request's operations, in the client's turn, each under the request's one budget.
async fn answer(
    state: HttpState,
    client: Option<IpAddr>,
    media: Media,
    caller: Result<Option<UserId>, &'static str>,
    Operations { method, single, mut requests }: Operations,
) -> HttpResponse {
    // The turn comes before the operations are parsed: parsing is work a client's text makes the
    // server do.
    let _turn = state.turns.operation(owner(&caller, client)).await;
    let refusals = refusals(&state, &mut requests);
    if method == Method::GET && requests.iter_mut().zip(&refusals).any(|(r, no)| no.is_none() && is_mutation(r)) {
        return Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST", code::BAD_USER_INPUT)
            .into_response();
    }
    let (viewer, record) = match resolve_viewer(&state.services.db.read, caller).await {
        Ok(found) => found,
        Err(e) => return unavailable(&e),
    };
    let limits = Arc::new(RequestLimits::new(client));
    let (mut answers, mut retry, mut status) = (Vec::with_capacity(requests.len()), None, StatusCode::OK);
    for (r, refused) in requests.into_iter().zip(refusals) {
        let answer = match refused {
            Some(answer) => answer,
            None => run(&state, r, &viewer, &record, &limits).await,
        };
        retry = retry.max(retry_after(&answer.errors));
        if single && media == Media::GraphqlResponse && answer.data.is_none() {
            // GraphQL over HTTP: an operation that never ran is the client's to fix.
            let not_found = only_error(&answer, code::PERSISTED_QUERY_NOT_FOUND);
            status = if not_found { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
        }
        let Ok(bytes) = serde_json::to_vec(&answer)
            .map_err(|e| error::log_internal(&anyhow::anyhow!("serialising an answer: {e}").into()))
        else {
            return Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: the server could not answer this; it has been logged",
                code::INTERNAL,
            )
            .into_response();
        };
        // The answers already built count too: a batch cannot pile up ten budgets' worth.
        let _ = limits.spend(bytes.len());
        answers.push(bytes);
    }
    respond(joined(single, answers), status, media, retry)
}

/// Whose line a request waits in: its user's, or its address's when it has no valid token.
fn owner(caller: &Result<Option<UserId>, &'static str>, client: Option<IpAddr>) -> Owner {
    match caller {
        Ok(Some(user)) => Owner::User(*user),
        _ => Owner::Address(client.map_or(IpAddr::from([0, 0, 0, 0]), address_key)),
    }
}

/// What refuses each operation before it runs, if anything: a persisted query's hash it does not
/// know (a known one gets its text here), then the shape of its text or document — so a refused
/// one never reaches the parser's recursion, async-graphql's validation or a resolver.
fn refusals(state: &HttpState, requests: &mut [Request]) -> Vec<Option<Answer>> {
    requests
        .iter_mut()
        .map(|r| {
            if let Err(miss) = state.persisted.resolve(r) {
                let (message, code) = miss.message_and_code();
                return Some(refused(message, code));
            }
            checks::check_request(r).map(|m| refused(m, code::GRAPHQL_VALIDATION_FAILED))
        })
        .collect()
}

/// Runs one operation of the request, unless the request's budget is spent: the operations of a
/// batch share it, and once it is spent the rest do not run.
async fn run(
    state: &HttpState,
    mut r: Request,
    viewer: &Viewer,
    record: &Option<store::users::UserRecord>,
    limits: &Arc<RequestLimits>,
) -> Answer {
    if let Err(e) = limits.check() {
        let extended = error::to_graphql(&e);
        let mut error = async_graphql::ServerError::new(extended.message, None);
        error.extensions = extended.extensions;
        return Answer::refused(vec![error]);
    }
    let context = RequestContext::new(&state.services, viewer.clone(), record.clone(), limits.clone()).await;
    let prepared = state.shapes.prepare(&mut r);
    let response = codes::with_codes(state.schema.execute(r.data(context)).await);
    state.shapes.answer(response, prepared.as_ref())
}

/// The answer's body: the one answer, or the batch's as a JSON array.
fn joined(single: bool, mut answers: Vec<Vec<u8>>) -> Vec<u8> {
    if single {
        return answers.pop().unwrap_or_default();
    }
    let mut joined = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 1);
    joined.push(b'[');
    for (i, answer) in answers.iter().enumerate() {
        if i > 0 {
            joined.push(b',');
        }
        joined.extend_from_slice(answer);
    }
    joined.push(b']');
    joined
}

/// The HTTP response: its status (429 with `Retry-After` when an operation was rate limited) and
/// its headers.
fn respond(body: Vec<u8>, status: StatusCode, media: Media, retry: Option<u64>) -> HttpResponse {
    let mut response = HttpResponse::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    // The answer depends on who asks and in which media type: a cache keeps them apart.
    headers.insert(header::VARY, HeaderValue::from_static("Accept, Authorization"));
    if let Some(seconds) = retry {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// The viewer could not be read: the database did not answer in time.
fn unavailable(e: &error::Error) -> HttpResponse {
    error::log_internal(e);
    let mut response = Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the service is unavailable: its database did not answer in time; try again shortly",
        code::INTERNAL,
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn is_mutation(request: &mut Request) -> bool {
    let operation_name = request.operation_name.clone();
    match request.parsed_query() {
        Ok(doc) => doc.operations.iter().any(|(name, op)| {
            let selected = operation_name.as_deref().is_none_or(|wanted| name.is_some_and(|n| n.as_str() == wanted));
            selected && op.node.ty == OperationType::Mutation
        }),
        Err(_) => false,
    }
}

/// The longest `retryAfter` of the response's `RATE_LIMITED` errors, if it has any.
fn retry_after(errors: &[async_graphql::ServerError]) -> Option<u64> {
    errors
        .iter()
        .filter_map(|e| e.extensions.as_ref())
        .filter(|ext| matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if c == code::RATE_LIMITED))
        .filter_map(|ext| match ext.get("retryAfter") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        })
        .max()
}

/// An answer of one error: the operation did not run.
fn refused(message: String, code: &'static str) -> Answer {
    let mut error = async_graphql::ServerError::new(message, None);
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    Answer::refused(vec![error])
}

/// Whether an answer's only error is `code`.
fn only_error(answer: &Answer, code: &str) -> bool {
    matches!(&answer.errors[..], [e] if e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&async_graphql::Value::String(code.to_owned())))
}

/// A WebSocket on `/graphql`: the graphql-transport-ws protocol, offered by the client.
async fn upgrade(state: HttpState, mut parts: Parts, client: Option<IpAddr>) -> HttpResponse {
    let offered = parts
        .headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == ws::PROTOCOL);
    if !offered {
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            "GraphQL over WebSocket speaks graphql-transport-ws: offer it in Sec-WebSocket-Protocol",
            code::BAD_USER_INPUT,
        )
        .into_response();
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(waiting) = state.live.edge.admit(client) else {
        let seconds = ws::INIT_TIMEOUT.as_secs();
        let mut response = Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many WebSockets from this address have not sent connection_init yet (at most {}): try again in {seconds} s",
                ws::MAX_WAITING_PER_CLIENT
            ),
            code::RATE_LIMITED,
        )
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    };
    // The socket keeps its connection's place for as long as it is open.
    let hold = parts.extensions.get::<ConnectionHold>().cloned();
    upgrade
        .protocols([ws::PROTOCOL])
        .max_message_size(MAX_BODY_BYTES)
        .read_buffer_size(ws::SOCKET_BUFFER_BYTES)
        .write_buffer_size(ws::SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| ws::serve(socket, state.live, client, hold, waiting))
        .into_response()
}
