//! Bad and hostile input at the edge: control characters, direction overrides and NULs get a coded
//! refusal (the same on SQLite and PostgreSQL, which refuses a NUL in text outright), and HTTP
//! requests that are not JSON GraphQL requests get a coded JSON refusal with the right status.

use axum::{
    body::{Body, Bytes},
    http::{Request, StatusCode, header},
};
use futures_util::stream;
use moments::MAX_BODY_BYTES;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn nuls_and_direction_overrides_are_refused_as_input_on_every_database() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let sign_up = "mutation($h: String!, $n: String!, $p: String!) { signUp(input: { handle: $h, displayName: $n, password: $p }) { token } }";
    for (variables, message) in [
        (
            json!({ "h": "bob", "n": "Bob\u{0}", "p": "correct horse" }),
            "displayName: must not contain control characters (found U+0000)",
        ),
        (
            json!({ "h": "bob\u{0}", "n": "Bob", "p": "correct horse" }),
            "handle: only lower-case letters a-z, digits and '_' are allowed, found '\\0'",
        ),
        (json!({ "h": "bob", "n": "Bob", "p": "correct\u{0}horse" }), "password: must not contain control characters"),
        (
            json!({ "h": "bob", "n": "\u{202E}ecila", "p": "correct horse" }),
            "displayName: must not contain invisible or direction-changing characters (found U+202E)",
        ),
    ] {
        let (code, got) = app.fails(None, sign_up, variables.clone()).await;
        assert_eq!((code.as_str(), got.as_str()), ("BAD_USER_INPUT", message), "{variables}");
    }
    let (code, message) = app
        .fails(
            None,
            r#"mutation($h: String!) { signIn(input: { handle: $h, password: "x" }) { token } }"#,
            json!({ "h": "alice\u{0}" }),
        )
        .await;
    assert_eq!((code.as_str(), message.as_str()), ("UNAUTHENTICATED", "wrong handle or password"));
    let (code, message) = app
        .fails(
            Some(&alice),
            "mutation($t: String!) { postMoment(input: { text: $t }) { moment { id } } }",
            json!({ "t": "hello\u{0}world" }),
        )
        .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("BAD_USER_INPUT", "text: must not contain control characters (found U+0000)")
    );
    let (code, _) = app
        .fails(
            Some(&alice),
            "mutation($n: String!) { createTag(input: { name: $n }) { tag { id } } }",
            json!({ "n": "fam\u{0}" }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    // Looking a handle up with a NUL in it finds no one, without asking the database.
    let found = app
        .ok(
            &alice,
            "query($h: String!) { user(handle: $h) { id } profile(handle: $h) { pinLimit } }",
            json!({ "h": "alice\u{0}" }),
        )
        .await;
    assert_eq!(found, json!({ "user": null, "profile": null }));
    // Line breaks and tabs are text.
    let posted = app
        .ok(
            &alice,
            "mutation($t: String!) { postMoment(input: { text: $t }) { moment { text } } }",
            json!({ "t": "two\nlines\tand a tab" }),
        )
        .await;
    assert_eq!(posted["postMoment"]["moment"]["text"], "two\nlines\tand a tab");
    assert_eq!((app.rows("users").await, app.rows("moments").await, app.rows("tags").await), (1, 1, 0));
    app.still_serves(&alice, "alice").await;
}

fn post(content_type: Option<&str>, body: Body) -> Request<Body> {
    let mut request = Request::post("/graphql");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body).unwrap()
}

async fn refusal(app: &TestApp, request: Request<Body>) -> (StatusCode, Value) {
    let (status, headers, body) = app.send(request).await;
    assert_eq!(headers.get(header::CONTENT_TYPE).unwrap(), "application/json", "{status}");
    (status, serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body))))
}

fn coded(message: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] })
}

#[tokio::test]
async fn requests_that_are_not_json_graphql_get_coded_json_refusals_and_run_nothing() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let mutation = json!({ "query": "mutation { signUp(input: { handle: \"bob\", displayName: \"Bob\", password: \"correct horse\" }) { token } }" }).to_string();
    // A page on any site may send text/plain or a form without a preflight: never run it.
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, body) = refusal(&app, post(Some(content_type), Body::from(mutation.clone()))).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                coded("send the request as JSON, with Content-Type: application/json")
            ),
            "{content_type}"
        );
    }
    let (status, body) = refusal(&app, post(None, Body::from(mutation.clone()))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            coded("the request has no Content-Type: send it as JSON, with Content-Type: application/json")
        )
    );
    // A chunked body over the limit: no length announced, cut while it is read.
    let chunks = (0..(MAX_BODY_BYTES / 4096 + 2)).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 4096])));
    let (status, body) = refusal(&app, post(Some("application/json"), Body::from_stream(stream::iter(chunks)))).await;
    assert_eq!((status, body), (StatusCode::PAYLOAD_TOO_LARGE, coded("the request body is larger than 256 KiB")));
    for (raw, message) in [
        ("[]", "the batch is empty"),
        ("{", "the request body is not JSON: EOF while parsing an object at line 1 column 1"),
        ("42", "the request body must be a JSON object with a \"query\""),
        ("[1]", "operation 0 of the batch must be a JSON object with a \"query\""),
        (r#"{"query": 3}"#, "the request body: \"query\" must be a string"),
        (r#"{"variables": {}}"#, "the request body needs a \"query\" (or a persisted query's hash in \"extensions\")"),
        (
            r#"{"query": "{ __typename }", "variables": [1]}"#,
            "the request body is not a GraphQL request: invalid type: sequence, expected a map",
        ),
    ] {
        let (status, body) = refusal(&app, post(Some("application/json"), Body::from(raw))).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, coded(message)), "{raw}");
    }
    assert_eq!(app.rows("users").await, 1, "no refused request ran");
    // JSON with a charset parameter is JSON.
    let (status, _, _) = app.send(post(Some("application/json; charset=utf-8"), Body::from(mutation))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.rows("users").await, 2);
    app.still_serves(&alice, "alice").await;
}

#[tokio::test]
async fn other_paths_and_methods_get_coded_json_answers() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let (status, body) = refusal(&app, Request::get("/nothing-here").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({ "errors": [{ "message": "no such path: GraphQL is served at /graphql", "extensions": { "code": "NOT_FOUND" } }] })
        )
    );
    // A 405 says which methods the path takes, in its `Allow` header as HTTP requires.
    for (method, path, allow) in [
        ("PUT", "/graphql", "GET, HEAD, POST"),
        ("DELETE", "/graphql", "GET, HEAD, POST"),
        ("PATCH", "/graphql", "GET, HEAD, POST"),
        ("POST", "/healthz", "GET, HEAD"),
        ("DELETE", "/app", "GET, HEAD"),
    ] {
        let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let (status, headers, body) = app.send(request).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        let message =
            format!("this path takes {allow} only; GraphQL is served by POST (or GET, for queries) at /graphql");
        assert_eq!((status, body), (StatusCode::METHOD_NOT_ALLOWED, coded(&message)), "{method} {path}");
        assert_eq!(headers[header::ALLOW], allow, "{method} {path}");
    }
    app.still_serves(&alice, "alice").await;
}
