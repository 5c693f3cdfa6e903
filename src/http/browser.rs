//! The browser side, built from `web/` and embedded by `build.rs`: the GraphiQL playground at `/`
//! with its files under `/playground/` (scripts, styles, Monaco's workers and font — nothing from
//! another origin), and the reference web client at `/app` (every path under it is the client's
//! page, which routes in the browser; its files are under `/app/assets/`). Each page carries its
//! settings as JSON: the demo viewer's token, only when this start loaded the demo world.
//! `MOMENTS_PLAYGROUND=false` turns the playground off.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

use crate::demo::DEMO_VIEWER;

/// What the pages need of the server.
#[derive(Clone, Debug)]
pub(crate) struct Pages {
    /// Whether `/` serves the playground (`MOMENTS_PLAYGROUND`).
    pub playground: bool,
    /// The demo viewer's token, when this start loaded the demo world.
    pub demo_token: Option<String>,
}

/// A file of the browser side.
struct Asset {
    /// Its path under the server's root, without the leading `/`.
    path: &'static str,
    /// A quoted hash of its bytes, for `ETag`.
    etag: &'static str,
    /// Its contents.
    bytes: &'static [u8],
}

/// Every file `web/build.mjs` produced.
static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("ttf") => "font/ttf",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Serves the embedded file at `path` (404 when there is none), answering `304` when the client
/// holds it already. Browsers revalidate each time (`no-cache`), so a new binary's files are picked
/// up at once.
async fn serve_file(path: &str, request: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return super::request::no_such_path().await.into_response();
    };
    let etag = HeaderValue::from_static(asset.etag);
    let headers = [(header::ETAG, etag.clone()), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))];
    if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes().split(|b| *b == b',').any(|t| t.trim_ascii() == asset.etag.as_bytes()))
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type(asset.path)))], asset.bytes).into_response()
}

/// Whether the browser side was built into this binary (the default `web` feature).
fn built_in() -> bool {
    !ASSETS.is_empty()
}

/// What `/` and `/app` answer in a binary built without the browser side: that it was not built
/// in, and where the API is.
fn not_built_in() -> Response {
    let html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>moments</title></head><body>\n\
        <p>The playground and the web client were not built into this binary: build it with the default \
        <code>web</code> feature (it needs node and npm). The GraphQL API is at <code>/graphql</code>.</p>\n\
        </body></html>\n";
    (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Html(html)).into_response()
}

/// `GET /playground/{file}`.
pub(super) async fn playground_file(
    State(state): State<Pages>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !state.playground {
        return super::request::no_such_path().await.into_response();
    }
    serve_file(&format!("playground/{file}"), &headers).await
}

/// The settings a page reads from its `moments-settings` script: the demo viewer and their token
/// when this start loaded the demo world, nothing otherwise.
fn settings(state: &Pages) -> String {
    let value = match &state.demo_token {
        Some(token) => json!({ "token": token, "viewer": DEMO_VIEWER }),
        None => json!({}),
    };
    // Inside <script>: no `<` may close the element early.
    value.to_string().replace('<', "\\u003c")
}

/// What the playground may load, enforced by the browser: scripts, styles, fonts, workers and
/// requests (WebSockets included: `'self'` covers `ws:`/`wss:` to the page's own host) from the
/// server itself only; styles may be inline (the editors set them), fonts and the icon may be data
/// URLs. It shows no pictures from elsewhere, so it loads none.
const PLAYGROUND_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' data: blob:; media-src 'none'; worker-src 'self' blob:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// What the web client may load: the same, but moments' pictures and videos, which live wherever
/// their URLs say — over HTTPS only (a page served over HTTPS could not show plain-HTTP ones
/// anyway), and without the page's address (`Referrer-Policy: no-referrer`, set on every answer).
const APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' https: data: blob:; media-src 'self' https:; worker-src 'self' blob:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='6' r='5' fill='%23e64340'/%3E%3Crect x='7' y='10' width='2' height='6' fill='%23555'/%3E%3C/svg%3E";

/// A page: `title`, the stylesheet and module `{files}.css` and `{files}.js`, `body`, and the
/// settings of this start. Never cached (it carries those settings), under its content `policy`.
fn page(state: &Pages, title: &str, files: &str, body: &str, policy: &'static str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{FAVICON}">
<link rel="stylesheet" href="{files}.css">
</head>
<body>
{body}
<script id="moments-settings" type="application/json">{settings}</script>
<script type="module" src="{files}.js"></script>
</body>
</html>
"#,
        settings = settings(state)
    );
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy)),
        ],
        Html(html),
    )
        .into_response()
}

/// `GET /app` and every path under it: the web client's page, or one of its files.
pub(super) async fn app(State(state): State<Pages>, path: Option<Path<String>>, headers: HeaderMap) -> Response {
    if !built_in() {
        return not_built_in();
    }
    if let Some(Path(path)) = &path
        && let Some(file) = path.strip_prefix("assets/")
    {
        return serve_file(&format!("app/{file}"), &headers).await;
    }
    let body = r##"<a class="skip" href="#main">Skip to the content</a>
<nav id="nav" aria-label="Main"></nav>
<main id="main"><p>Loading…</p></main>
<div id="status" role="status" aria-live="polite"></div>
<noscript><p>The moments web client needs JavaScript. The API is at /graphql.</p></noscript>"##;
    page(&state, "moments", "/app/assets/app", body, APP_POLICY)
}

/// `GET /`: the playground page.
pub(super) async fn playground(State(state): State<Pages>) -> Response {
    if !state.playground {
        return super::request::no_such_path().await.into_response();
    }
    if !built_in() {
        return not_built_in();
    }
    page(
        &state,
        "moments · GraphQL playground",
        "/playground/playground",
        r#"<div id="root"></div>"#,
        PLAYGROUND_POLICY,
    )
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn a_binary_without_the_browser_side_says_so_where_the_pages_would_be() {
        let response = not_built_in();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("were not built into this binary"), "{text}");
        assert!(text.contains("<code>/graphql</code>"), "{text}");
        // This build has them exactly when it was built with the feature.
        assert_eq!(built_in(), cfg!(feature = "web"));
    }
}
