//! The HTTP surface: GET for queries only, the playground, the health check and CORS.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use moments::http::{HttpOptions, cors::CorsOrigin};
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

#[tokio::test]
async fn the_playground_and_the_health_check_answer() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(page.contains("graphiql") && page.contains("/graphql"), "{page}");
    let (status, _, body) = app.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok"[..]));
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
