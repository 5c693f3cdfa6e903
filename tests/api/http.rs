//! The HTTP surface: GET for queries only, the playground, the health check and CORS.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use moments::{CorsOrigin, HttpOptions};
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let get = |query: &str| {
        let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        Request::get(format!("/graphql?query={encoded}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = app.send(get("{ viewer { handle } }")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), json!({ "data": { "viewer": { "handle": "alice" } } }));
    let (status, _, body) =
        app.send(get(r#"mutation { postMoment(input: { text: "via GET" }) { moment { id } } }"#)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["errors"][0]["message"],
        "mutations must be sent with POST"
    );
    assert_eq!(app.rows("moments").await, 0);
}

/// Every `src="…"` and `href="…"` of a page, and every `url(…)` of a stylesheet.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["src=\"", "href=\"", "url("] {
        for (at, _) in text.match_indices(marker) {
            let rest = text[at + marker.len()..].trim_start_matches(['\'', '"']);
            let end = rest.find(['"', '\'', ')']).unwrap_or(rest.len());
            found.push(rest[..end].to_owned());
        }
    }
    found
}

#[tokio::test]
async fn the_playground_and_everything_it_loads_come_from_the_server_itself() {
    let app = TestApp::spawn().await;
    let (status, headers, body) = app.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert_eq!(
        policy,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; \
         img-src 'self' data: blob:; media-src 'none'; worker-src 'self' blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        "requests, sockets included, to the server itself only; no picture from elsewhere"
    );
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(page.contains(r#"<script id="moments-settings" type="application/json">{}</script>"#), "{page}");
    let mut files = references(&page);
    assert_eq!(
        files.iter().filter(|f| !f.starts_with("data:")).collect::<Vec<_>>(),
        ["/playground/playground.js", "/playground/playground.css"]
    );
    let mut seen = Vec::new();
    while let Some(file) = files.pop() {
        if file.starts_with("data:") || seen.contains(&file) {
            continue;
        }
        assert!(file.starts_with('/') || !file.contains(':'), "{file} is on another origin");
        let path =
            if file.starts_with('/') { file.clone() } else { format!("/playground/{}", file.trim_start_matches("./")) };
        let (status, headers, body) = app.send(Request::get(&path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let kind = headers[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        if kind.starts_with("text/css") {
            files.extend(references(std::str::from_utf8(&body).unwrap()));
        }
        seen.push(file);
    }
    // Monaco's font, from the stylesheet; its workers, which the script starts by name.
    assert!(seen.iter().any(|f| f.ends_with("codicon.ttf")), "{seen:?}");
    for worker in ["editor.worker.js", "json.worker.js", "graphql.worker.js"] {
        let (status, headers, _) =
            app.send(Request::get(format!("/playground/{worker}")).body(Body::empty()).unwrap()).await;
        assert_eq!(
            (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
            (StatusCode::OK, "text/javascript; charset=utf-8")
        );
    }

    let (_, headers, _) = app.send(Request::get("/playground/playground.js").body(Body::empty()).unwrap()).await;
    let etag = headers[header::ETAG].clone();
    let again =
        Request::get("/playground/playground.js").header(header::IF_NONE_MATCH, etag).body(Body::empty()).unwrap();
    let (status, _, body) = app.send(again).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    let (status, _, _) = app.send(Request::get("/playground/nothing.js").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _, body) = app.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok"[..]));
}

#[tokio::test]
async fn every_answer_forbids_sniffing_and_sends_no_referrer() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let graphql = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {alice}"))
        .body(Body::from(r#"{"query":"{ viewer { handle } }"}"#))
        .unwrap();
    let refused = Request::post("/graphql").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap();
    for (what, request) in [
        ("an answer", graphql),
        ("a refusal", refused),
        ("a missing path", Request::get("/nothing").body(Body::empty()).unwrap()),
        ("the health check", Request::get("/healthz").body(Body::empty()).unwrap()),
        ("a file", Request::get("/app/assets/app.js").body(Body::empty()).unwrap()),
    ] {
        let (_, headers, _) = app.send(request).await;
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{what}");
    }
}

#[tokio::test]
async fn the_web_client_is_served_at_app_and_every_path_under_it() {
    let app = TestApp::spawn().await;
    let mut pages = Vec::new();
    for path in ["/app", "/app/", "/app/u/carol", "/app/feed"] {
        let (status, headers, body) = app.send(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(
            (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
            (StatusCode::OK, "text/html; charset=utf-8"),
            "{path}"
        );
        pages.push(String::from_utf8(body.to_vec()).unwrap());
    }
    assert!(pages.iter().all(|p| p == &pages[0]), "one page, which routes in the browser");
    let (_, headers, _) = app.send(Request::get("/app").body(Body::empty()).unwrap()).await;
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; \
         img-src 'self' https: data: blob:; media-src 'self' https:; worker-src 'self' blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        "moments' pictures and videos over HTTPS from anywhere; everything else from the server itself"
    );
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    let files: Vec<String> =
        references(&pages[0]).into_iter().filter(|f| !f.starts_with("data:") && f != "#main").collect();
    assert_eq!(files, ["/app/assets/app.js", "/app/assets/app.css"]);
    for file in &files {
        let (status, _, body) = app.send(Request::get(file).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(!body.is_empty());
    }
    let (status, _, _) = app.send(Request::get("/app/assets/nothing.js").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_server_without_the_playground_answers_404_there_and_graphql_as_ever() {
    let options = HttpOptions { playground: false, ..HttpOptions::default() };
    let app = TestApp::spawn_with_options(|_| {}, options).await;
    for path in ["/", "/playground/playground.js"] {
        let (status, _, _) = app.send(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = app.send(Request::get("/app").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "the web client is not the playground");
    let (_, token) = app.user("alice").await;
    app.still_serves(&token, "alice").await;
}

#[tokio::test]
async fn cors_lets_the_configured_origins_call_and_no_others() {
    let options = HttpOptions {
        cors_origins: vec![CorsOrigin::parse("http://localhost:5173").unwrap()],
        ..HttpOptions::default()
    };
    let app = TestApp::spawn_with_options(|_| {}, options).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/graphql")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")
            .body(Body::empty())
            .unwrap()
    };
    let (_, headers, _) = app.send(preflight("http://localhost:5173")).await;
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "http://localhost:5173");
    let allowed = headers.get(header::ACCESS_CONTROL_ALLOW_HEADERS).unwrap().to_str().unwrap().to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let (_, headers, _) = app.send(preflight("https://evil.example")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn cors_preflights_may_ask_for_the_headers_clients_and_tracers_send() {
    let options = HttpOptions { cors_origins: vec![CorsOrigin::Any], ..HttpOptions::default() };
    let app = TestApp::spawn_with_options(|_| {}, options).await;
    let asked = "authorization,content-type,apollographql-client-name,apollographql-client-version,\
                 traceparent,tracestate,baggage,sentry-trace";
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/graphql")
        .header(header::ORIGIN, "https://app.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, asked)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = app.send(preflight).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*");
    let allowed = headers.get(header::ACCESS_CONTROL_ALLOW_HEADERS).unwrap().to_str().unwrap().to_lowercase();
    for wanted in asked.split(',') {
        assert!(allowed.split(',').any(|h| h.trim() == wanted), "{wanted} not in {allowed}");
    }
}

#[tokio::test]
async fn the_answer_comes_in_the_media_type_accept_asks_for() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let good = json!({ "query": "{ viewer { handle } }" });
    let broken = json!({ "query": "{ viewer { handle }" });
    let unknown = json!({ "query": "{ viewer { nope } }" });
    const JSON: &str = "application/json; charset=utf-8";
    const GRAPHQL: &str = "application/graphql-response+json; charset=utf-8";
    let cases: [(Option<&str>, &Value, StatusCode, &str); 10] = [
        (None, &good, StatusCode::OK, JSON),
        (None, &broken, StatusCode::OK, JSON),
        (Some("*/*"), &unknown, StatusCode::OK, JSON),
        (Some("application/json"), &broken, StatusCode::OK, JSON),
        (Some("application/graphql-response+json"), &good, StatusCode::OK, GRAPHQL),
        (Some("application/graphql-response+json"), &broken, StatusCode::BAD_REQUEST, GRAPHQL),
        (Some("application/graphql-response+json"), &unknown, StatusCode::BAD_REQUEST, GRAPHQL),
        (Some("application/graphql-response+json, application/json;q=0.9"), &unknown, StatusCode::BAD_REQUEST, GRAPHQL),
        (Some("application/graphql-response+json;q=0.5, application/json"), &unknown, StatusCode::OK, JSON),
        (Some("text/html, application/*;q=0.1"), &good, StatusCode::OK, JSON),
    ];
    for (accept, body, status, media) in cases {
        let (got, headers, text) = app.post_raw(Some(&token), accept, body).await;
        assert_eq!(
            (got, headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap()),
            (status, media),
            "{accept:?} {body}: {text}"
        );
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer.get("data").is_some(), body == &good, "{accept:?} {body}: {text}");
    }
    let (status, _, text) = app.post_raw(Some(&token), Some("text/html"), &good).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{text}");
    assert_eq!(
        text,
        r#"{"errors":[{"message":"answers are application/graphql-response+json or application/json: accept one of them","extensions":{"code":"BAD_USER_INPUT"}}]}"#
    );
}

/// The SHA-256 of a text, in hex.
fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn persisted_queries_follow_apollos_protocol() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let query = "query Me($n: Int) { viewer { handle friends(first: $n) { handle } } }";
    let hash = sha256_hex(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let not_found =
        r#"{"errors":[{"message":"PersistedQueryNotFound","extensions":{"code":"PERSISTED_QUERY_NOT_FOUND"}}]}"#;
    let answer = r#"{"data":{"viewer":{"handle":"alice","friends":[]}}}"#;
    // The hash alone: not known yet, under either media type.
    let by_hash = json!({ "extensions": extensions, "variables": { "n": 5 } });
    assert_eq!(app.post_raw(Some(&token), None, &by_hash).await.2, not_found);
    let (status, _, text) = app.post_raw(Some(&token), Some("application/graphql-response+json"), &by_hash).await;
    assert_eq!((status, text.as_str()), (StatusCode::NOT_FOUND, not_found));
    // The client sends the text with its hash; then the hash alone is enough, by POST or by GET.
    let with_text = json!({ "query": query, "extensions": extensions, "variables": { "n": 5 } });
    assert_eq!(app.post_raw(Some(&token), None, &with_text).await.2, answer);
    assert_eq!(app.post_raw(Some(&token), None, &by_hash).await.2, answer);
    let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let get = Request::get(format!(
        "/graphql?operationName=Me&variables={}&extensions={}",
        encode(r#"{"n":5}"#),
        encode(&extensions.to_string())
    ))
    .header(header::AUTHORIZATION, format!("Bearer {token}"))
    .body(Body::empty())
    .unwrap();
    let (status, headers, body) = app.send(get).await;
    assert_eq!((status, std::str::from_utf8(&body).unwrap()), (StatusCode::OK, answer));
    assert_eq!(headers.get(header::VARY).unwrap(), "Accept, Authorization");
    // A text whose hash is not the one sent is refused, and not kept under either hash.
    let other = "{ viewer { displayName } }";
    let lying = json!({ "query": other, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ __typename }") } } });
    assert_eq!(
        app.post_raw(Some(&token), None, &lying).await.2,
        r#"{"errors":[{"message":"persistedQuery: sha256Hash is not the SHA-256 of the query","extensions":{"code":"BAD_USER_INPUT"}}]}"#
    );
    let other_by_hash =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(other) } } });
    assert_eq!(app.post_raw(Some(&token), None, &other_by_hash).await.2, not_found);
    // A mutation reached by its hash is still refused over GET.
    let mutation = r#"mutation { postMoment(input: { text: "by hash" }) { moment { id } } }"#;
    let mutation_ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(mutation) } });
    let registered = app.post_raw(Some(&token), None, &json!({ "query": mutation, "extensions": mutation_ext })).await;
    assert_eq!(registered.0, StatusCode::OK);
    let get = Request::get(format!("/graphql?extensions={}", encode(&mutation_ext.to_string())))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(get).await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(app.rows("moments").await, 1);
}
