//! The HTTP layer: `POST`/`GET /graphql`, the GraphiQL playground at `/`, `/healthz`, CORS and the
//! limits of the edge. It decides the viewer once per request from the `Authorization` header and
//! the client's address (for rate limits) from the connection.

pub(crate) mod browser;
pub(crate) mod client_address;
mod codes;
pub(crate) mod cors;
pub(crate) mod deadlines;
pub(crate) mod persisted;
pub(crate) mod request;
pub mod serve;
pub(crate) mod tally;
pub(crate) mod ws;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{BatchRequest, Request, parser::types::OperationType};
use axum::{
    Router,
    extract::{ConnectInfo, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
    routing::get,
};
use sea_orm::ConnectionTrait as _;
pub(crate) use serve::{ConnectionHold, serve};
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;

pub use self::request::MAX_BODY_BYTES;
use self::{
    client_address::TrustedProxies,
    cors::CorsOrigin,
    persisted::PersistedQueries,
    request::{Media, Refusal},
};
use crate::limits::{ConnectionLimits, DEFAULT_MAX_CONCURRENT_REQUESTS};
use crate::{
    auth::resolve_viewer,
    error::{self, code},
    graphql::{
        MomentsSchema,
        answer::{Answer, Shapes},
        budget::{Owner, RequestLimits, Turns},
        build_live_schema, build_schema, checks,
        context::RequestContext,
    },
    rate_limit::address_key,
    services::Services,
};

/// How long the health check waits for the database before it answers 503.
const HEALTH_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Clone)]
struct HttpState {
    schema: MomentsSchema,
    services: Services,
    trusted_proxies: Arc<TrustedProxies>,
    body_timeout: Duration,
    turns: Turns,
    shapes: Arc<Shapes>,
    persisted: Arc<PersistedQueries>,
    pages: browser::Pages,
    live: ws::Live,
}

impl axum::extract::FromRef<HttpState> for browser::Pages {
    fn from_ref(state: &HttpState) -> Self {
        state.pages.clone()
    }
}

/// How the router is set up beyond the services.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Origins allowed to call from a browser.
    pub cors_origins: Vec<CorsOrigin>,
    /// Whether `/` serves the playground (`MOMENTS_PLAYGROUND`).
    pub playground: bool,
    /// The demo viewer's token, given to the browser pages when this start loaded the demo world,
    /// so that they open signed in.
    pub demo_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// How long a request's body may take to arrive.
    pub body_timeout: Duration,
    /// GraphQL operations executed at once, over HTTP and WebSockets, live events included; the
    /// others wait their turn (each may hold up to the content budget while it runs).
    pub max_concurrent_requests: usize,
    /// Cancelled when the server starts shutting down: open WebSockets close with 1001.
    pub closing: CancellationToken,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            playground: true,
            demo_token: None,
            trusted_proxies: TrustedProxies::default(),
            body_timeout: ConnectionLimits::default().client_timeout,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            closing: CancellationToken::new(),
        }
    }
}

/// The whole HTTP application; `serve` and the tests use the same one. Fails when the CORS
/// origins cannot work together.
pub fn router(services: Services, options: HttpOptions) -> Result<Router, String> {
    let cors = cors::layer(&options.cors_origins)?;
    let schema = build_schema(Some(services.clone()));
    let shapes = Shapes::from_sdl(&schema.sdl()).map_err(|e| format!("the schema's own SDL does not parse: {e}"))?;
    let shapes = Arc::new(shapes);
    let turns = Turns::new(options.max_concurrent_requests, crate::graphql::budget::turns_per_owner());
    let state = HttpState {
        live: ws::Live {
            schema: schema.clone(),
            live_schema: build_live_schema(services.clone()),
            shapes: shapes.clone(),
            services: services.clone(),
            turns: turns.clone(),
            edge: ws::LiveEdge::default(),
            closing: options.closing,
        },
        schema,
        shapes,
        persisted: Arc::new(PersistedQueries::new()),
        services,
        pages: browser::Pages { playground: options.playground, demo_token: options.demo_token },
        trusted_proxies: Arc::new(options.trusted_proxies),
        body_timeout: options.body_timeout,
        turns,
    };
    let mut app = Router::new()
        .route("/", get(browser::playground))
        .route("/playground/{file}", get(browser::playground_file))
        .route("/app", get(browser::app))
        .route("/app/", get(browser::app))
        .route("/app/{*path}", get(browser::app))
        .route("/graphql", get(graphql).post(graphql))
        .route("/healthz", get(healthz))
        .fallback(request::no_such_path)
        .method_not_allowed_fallback(method_not_allowed)
        // On every answer: no browser guesses another type than the one declared (an answer is
        // never run as a script or a page), and no page's address goes to the hosts it links to.
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    if let Some(cors) = cors {
        app = app.layer(cors);
    }
    Ok(app)
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

async fn graphql(State(state): State<HttpState>, request: axum::extract::Request) -> HttpResponse {
    let (mut parts, body) = request.into_parts();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    let client = state.trusted_proxies.client(peer, &parts.headers);
    if parts.headers.get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket")) {
        return upgrade(state, &mut parts, client).await;
    }
    let media = match request::negotiate(&parts.headers) {
        Ok(media) => media,
        Err(refusal) => return refusal.into_response(),
    };
    let batch = match request::read(&parts.method, &parts.uri, &parts.headers, body, state.body_timeout).await {
        Ok(batch) => batch,
        Err(refusal) => return refusal.into_response(),
    };
    let (single, mut requests) = match batch {
        BatchRequest::Single(r) => (true, vec![r]),
        BatchRequest::Batch(list) => (false, list),
    };
    // The token is checked once: it says whose line the request waits in (a client without a
    // valid one waits in its address's), then who the viewer is.
    let mut authorizations = parts.headers.get_all(header::AUTHORIZATION).iter();
    let session = match (authorizations.next(), authorizations.next()) {
        (Some(_), Some(_)) => Err("send one Authorization header, not several"),
        (first, _) => state
            .services
            .keys
            .session_of(first.map(|v| v.to_str().unwrap_or("not text")))
            .map(|session| session.map(|(user, _)| user)),
    };
    let owner = match session {
        Ok(Some(user)) => Owner::User(user),
        _ => Owner::Address(client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), address_key)),
    };
    // Wait for a turn before the operations are parsed, touch the database or build an answer:
    // parsing is work a client's text makes the server do.
    let _turn = state.turns.operation(owner).await;
    // A query named by its hash gets its text first. Then what is refused by the shape of its text
    // or document never reaches the parser's recursion, async-graphql's validation or a resolver.
    let refusals: Vec<Option<Answer>> = requests
        .iter_mut()
        .map(|r| {
            if let Err(miss) = state.persisted.resolve(r) {
                let (message, code) = miss.message_and_code();
                return Some(refused(message, code));
            }
            checks::check_request(r).map(|m| refused(m, code::GRAPHQL_VALIDATION_FAILED))
        })
        .collect();
    if parts.method == Method::GET
        && requests.iter_mut().zip(&refusals).any(|(r, refused)| refused.is_none() && is_mutation(r))
    {
        return Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST", code::BAD_USER_INPUT)
            .into_response();
    }
    let (viewer, viewer_record) = match resolve_viewer(&state.services.db.read, session).await {
        Ok(found) => found,
        Err(e) => {
            error::log_internal(&e);
            let mut response = Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is unavailable: its database did not answer in time; try again shortly",
                code::INTERNAL,
            )
            .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    let limits = Arc::new(RequestLimits::new(client));
    let mut answers: Vec<Vec<u8>> = Vec::with_capacity(requests.len());
    let mut retry = None;
    let mut status = StatusCode::OK;
    for (mut r, refused) in requests.into_iter().zip(refusals) {
        let answer = if let Some(answer) = refused {
            answer
        } else if let Err(e) = limits.check() {
            // The operations of a batch share the budget: once it is spent, the rest do not run.
            let extended = error::to_graphql(&e);
            let mut error = async_graphql::ServerError::new(extended.message, None);
            error.extensions = extended.extensions;
            Answer::refused(vec![error])
        } else {
            let context =
                RequestContext::new(&state.services, viewer.clone(), viewer_record.clone(), limits.clone()).await;
            let prepared = state.shapes.prepare(&mut r);
            let response = codes::with_codes(state.schema.execute(r.data(context)).await);
            state.shapes.answer(response, prepared.as_ref())
        };
        retry = retry.max(retry_after(&answer.errors));
        if single && media == Media::GraphqlResponse && answer.data.is_none() {
            // GraphQL over HTTP: an operation that never ran is the client's to fix.
            status = if only_error(&answer, code::PERSISTED_QUERY_NOT_FOUND) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
        }
        match serde_json::to_vec(&answer) {
            Ok(bytes) => {
                // The answers already built count too: a batch cannot pile up ten budgets' worth.
                let _ = limits.spend(bytes.len());
                answers.push(bytes);
            }
            Err(e) => {
                error::log_internal(&anyhow::anyhow!("serialising an answer: {e}").into());
                return Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error: the server could not answer this; it has been logged",
                    code::INTERNAL,
                )
                .into_response();
            }
        }
    }
    let body = if single {
        answers.pop().unwrap_or_default()
    } else {
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
    };
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

/// A method a path does not take: a coded JSON answer, with the `Allow` header HTTP requires of a
/// 405 (`/graphql` takes `POST` too; every other path is read with `GET` or `HEAD`).
async fn method_not_allowed(uri: axum::http::Uri) -> HttpResponse {
    let allow = if uri.path() == "/graphql" { "GET, HEAD, POST" } else { "GET, HEAD" };
    let mut response = Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("this path takes {allow} only; GraphQL is served by POST (or GET, for queries) at /graphql"),
        code::BAD_USER_INPUT,
    )
    .into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// A WebSocket on `/graphql`: the graphql-transport-ws protocol, offered by the client.
async fn upgrade(
    state: HttpState,
    parts: &mut axum::http::request::Parts,
    client: Option<std::net::IpAddr>,
) -> HttpResponse {
    use axum::extract::{FromRequestParts as _, WebSocketUpgrade};
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
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &state).await {
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

/// `ok` when the database answers within half a second; 503 at once when it does not (the pool
/// would otherwise wait its whole acquire timeout for a server that is down).
async fn healthz(State(state): State<HttpState>) -> HttpResponse {
    let probe = state.services.db.read.execute_unprepared("SELECT 1");
    match tokio::time::timeout(HEALTH_TIMEOUT, probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok").into_response(),
        Ok(Err(e)) => {
            error::log_internal(&e.into());
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}
