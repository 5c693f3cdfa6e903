//! The HTTP layer: `POST`/`GET /graphql`, the GraphiQL playground at `/`, `/healthz`, CORS, the body
//! limit and request tracing. It decides the viewer once per request from the `Authorization` header.

use std::time::Duration;

use async_graphql::{
    BatchRequest, BatchResponse, Request, Response, http::GraphiQLSource, parser::types::OperationType,
};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{Html, IntoResponse, Response as HttpResponse},
    routing::get,
};
use sea_orm::ConnectionTrait as _;
use serde_json::json;
use tower_http::{cors::CorsLayer, limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::{
    app::Services,
    auth::Viewer,
    error::code,
    graphql::{MAX_BATCH, MomentsSchema, build_schema, context::RequestContext},
};

/// The largest request body accepted; larger ones get `413 Payload Too Large`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
struct HttpState {
    schema: MomentsSchema,
    services: Services,
    playground_token: Option<String>,
}

/// How the router is set up beyond the services.
#[derive(Clone, Debug, Default)]
pub struct HttpOptions {
    /// Origins allowed to call from a browser.
    pub cors_origins: Vec<String>,
    /// A token the playground sends by default (the demo's), so its example queries just work.
    pub playground_token: Option<String>,
}

/// The whole HTTP application; `serve` and the tests use the same one.
pub fn router(services: Services, options: HttpOptions) -> Router {
    let state = HttpState {
        schema: build_schema(Some(services.clone())),
        services,
        playground_token: options.playground_token,
    };
    let mut app = Router::new()
        .route("/", get(playground))
        .route("/graphql", get(graphql).post(graphql))
        .route("/healthz", get(healthz))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    let origins: Vec<HeaderValue> =
        options.cors_origins.iter().filter(|o| !o.trim().is_empty()).filter_map(|o| o.trim().parse().ok()).collect();
    if !origins.is_empty() {
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                .max_age(Duration::from_secs(3600)),
        );
    }
    app
}

fn refusal(status: StatusCode, message: &str, code: &str) -> HttpResponse {
    (status, Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))).into_response()
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

/// Gives every error without a code one: errors async-graphql raises before resolvers run
/// (syntax, unknown fields, limits) are the client's to fix.
fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code::GRAPHQL_VALIDATION_FAILED);
        }
    }
    response
}

async fn graphql(
    State(state): State<HttpState>,
    method: Method,
    headers: HeaderMap,
    request: GraphQLBatchRequest,
) -> HttpResponse {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let viewer: Viewer = state.services.keys.viewer(authorization);
    let mut requests = match request.into_inner() {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(list) => {
            if list.len() > MAX_BATCH {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    &format!("a batch may hold at most {MAX_BATCH} operations, got {}", list.len()),
                    code::BAD_USER_INPUT,
                );
            }
            if list.is_empty() {
                return refusal(StatusCode::BAD_REQUEST, "the batch is empty", code::BAD_USER_INPUT);
            }
            list
        }
    };
    let single = requests.len() == 1;
    if method == Method::GET && requests.iter_mut().any(is_mutation) {
        return refusal(StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST", code::BAD_USER_INPUT);
    }
    let mut responses = Vec::with_capacity(requests.len());
    for r in requests {
        let context = RequestContext::new(&state.services, viewer.clone());
        responses.push(with_codes(state.schema.execute(r.data(context)).await));
    }
    let batch = if single {
        BatchResponse::Single(responses.pop().unwrap_or_default())
    } else {
        BatchResponse::Batch(responses)
    };
    GraphQLResponse::from(batch).into_response()
}

async fn playground(State(state): State<HttpState>) -> Html<String> {
    let bearer = state.playground_token.as_ref().map(|t| format!("Bearer {t}"));
    let mut source = GraphiQLSource::build().endpoint("/graphql").title("moments");
    if let Some(bearer) = bearer.as_deref() {
        source = source.header("Authorization", bearer);
    }
    Html(source.finish())
}

async fn healthz(State(state): State<HttpState>) -> HttpResponse {
    match state.services.db.read.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
