//! Limits on what one request may ask: depth, complexity, batch size, body size; and internal
//! errors that stay inside.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use moments::MAX_BODY_BYTES;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn six_hundred_aliased_timelines_are_refused_before_any_query_runs() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let fields: String = (0..600).map(|i| format!("t{i}: timeline(first: 100) {{ nodes {{ id }} }}\n")).collect();
    let query = format!(r#"{{ profile(handle: "alice") {{ {fields} }} }}"#);
    let before = app.statement_count();
    let body = app.gql(Some(&token), &query, json!({})).await;
    assert_eq!(body["errors"][0]["message"], "Query is too complex.", "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert!(body.get("data").is_none_or(Value::is_null), "{body:#}");
    // Only the viewer's lookup runs (a primary-key read, before the operation is parsed).
    assert_eq!(app.statement_count(), before + 1, "no statement but the viewer's for a refused operation");
}

#[tokio::test]
async fn many_small_list_fields_are_refused_too() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let fields: String = (0..150).map(|i| format!("t{i}: timeline(first: 0) {{ nodes {{ id }} }}\n")).collect();
    let body = app.gql(Some(&token), &format!(r#"{{ profile(handle: "alice") {{ {fields} }} }}"#), json!({})).await;
    assert_eq!(body["errors"][0]["message"], "Query is too complex.", "{body:#}");
}

#[tokio::test]
async fn an_operation_refused_before_it_runs_lists_at_most_a_hundred_errors() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let unknown = |n: usize| format!("{{ {} }}", "a ".repeat(n));
    let error = |column: usize| json!({"message": "Unknown field \"a\" on type \"Query\".", "locations": [{"line": 1, "column": column}], "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}});
    // A hundred unknown fields: each told.
    let body = app.gql(Some(&token), &unknown(100), json!({})).await;
    let all: Vec<Value> = (0..100).map(|i| error(3 + 2 * i)).collect();
    assert_eq!(body, json!({ "errors": all }));
    // A thousand: the first hundred, and one error for the other nine hundred.
    let body = app.gql(Some(&token), &unknown(1_000), json!({})).await;
    let mut first: Vec<Value> = (0..100).map(|i| error(3 + 2 * i)).collect();
    first.push(json!({"message": "and 900 more errors like these, not listed", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}));
    assert_eq!(body, json!({ "errors": first }));
}

#[tokio::test]
async fn a_deep_query_is_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let mut query = String::from("id");
    for _ in 0..8 {
        query = format!("profile {{ user {{ {query} }} }}");
    }
    let body = app.gql(Some(&token), &format!("{{ viewer {{ {query} }} }}"), json!({})).await;
    assert_eq!(body["errors"][0]["message"], "Query is nested too deep.", "{body:#}");
}

#[tokio::test]
async fn batches_of_up_to_ten_run_and_larger_ones_are_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let op = json!({ "query": "{ viewer { handle } }" });
    let send = |n: usize| {
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(Value::Array(vec![op.clone(); n]).to_string()))
            .unwrap()
    };
    let (status, _, body) = app.send(send(2)).await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!([{ "data": { "viewer": { "handle": "alice" } } }, { "data": { "viewer": { "handle": "alice" } } }])
    );
    let (status, _, body) = app.send(send(11)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["message"], "a batch may hold at most 10 operations, got 11");
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(MAX_BODY_BYTES);
    let body = json!({ "query": format!("{{ __typename {padding} }}") }).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    let (status, _, _) = app.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_internal_error_is_masked_and_coded() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    app.services.db.write.execute_unprepared("DROP TABLE moment_media").await.unwrap();
    let body = app
        .gql(
            Some(&token),
            r#"mutation { postMoment(input: { images: [{ url: "https://img.example/a.jpg" }] }) { moment { id } } }"#,
            json!({}),
        )
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"], json!({ "code": "INTERNAL" }), "{body:#}");
    assert_eq!(error["message"], "internal error: the server could not answer this; it has been logged");
    assert_eq!(app.rows("moments").await, 0, "the failed post left nothing behind");
}

#[test]
fn docs_security_lists_every_bound_as_the_code_holds_it() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md")).unwrap();
    let (begin, end) = ("<!-- moments limits: begin -->\n", "<!-- moments limits: end -->");
    let start = doc.find(begin).expect("docs/security.md has the bounds' table") + begin.len();
    let listed = &doc[start..start + doc[start..].find(end).unwrap()];
    assert!(
        listed == moments::limits::Limits::DEFAULT.table(),
        "docs/security.md's table of bounds differs from the code's; print it with `cargo run -- limits`"
    );
}
