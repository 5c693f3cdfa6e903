//! The HTTP layer: the routes — `POST`/`GET /graphql` ([`endpoint`]), the playground at `/` and the
//! web client at `/app`, `/healthz` — with CORS and the limits of the edge.

pub(crate) mod browser;
pub(crate) mod client_address;
mod codes;
pub(crate) mod cors;
pub(crate) mod deadlines;
mod endpoint;
pub(crate) mod persisted;
pub(crate) mod request;
pub mod serve;
mod state;
pub(crate) mod tally;
pub(crate) mod ws;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
    routing::get,
};
use sea_orm::ConnectionTrait as _;
pub(crate) use serve::serve;
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;

pub use self::request::MAX_BODY_BYTES;
use self::{
    client_address::TrustedProxies, cors::CorsOrigin, persisted::PersistedQueries, request::Refusal, state::HttpState,
};
use crate::limits::Limits;
use crate::{
    error::{self, code},
    graphql::{answer::Shapes, budget::Turns, build_live_schema, build_schema},
    services::Services,
};

/// How long the health check waits for the database before it answers 503.
const HEALTH_TIMEOUT: Duration = Duration::from_millis(500);

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
    /// The bounds the router holds requests to: how long a body may take to arrive
    /// (`client_timeout`), and how many operations run at once (`max_concurrent_requests`; the
    /// others wait their turn, each may hold up to the content budget while it runs).
    pub limits: Limits,
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
            limits: Limits::DEFAULT,
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
    let turns = Turns::new(options.limits.max_concurrent_requests, crate::graphql::budget::turns_per_owner());
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
        body_timeout: options.limits.client_timeout,
        turns,
    };
    let mut app = Router::new()
        .route("/", get(browser::playground))
        .route("/playground/{file}", get(browser::playground_file))
        .route("/app", get(browser::app))
        .route("/app/", get(browser::app))
        .route("/app/{*path}", get(browser::app))
        .route("/graphql", get(endpoint::get).post(endpoint::post))
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
