//! Who may act: a token names a user this deployment has, was issued by this deployment, is valid
//! now and not for longer than the server gives, and is sent as a bearer credential in any case.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use moments::ids;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::{
    auth::{GUARDED, audience, token_key},
    helpers::TestApp,
};

const SECRET: &str = "a secret two deployments were given by mistake, long enough";

#[tokio::test]
async fn a_token_whose_user_is_gone_is_unauthenticated_for_every_operation() {
    let app = TestApp::spawn().await;
    let (_, bob) = app.user("bob").await;
    let (gone, token) = app.user("gone").await;
    app.befriend(gone, app.id_of("bob").await).await;
    let before = app.rows("moments").await;
    app.services.db.write.execute_unprepared(&format!("DELETE FROM users WHERE id = {gone}")).await.unwrap();
    for (name, query) in GUARDED {
        let body = app.gql(Some(&token), query, json!({})).await;
        assert_eq!(
            body["errors"],
            json!([{
                "message": "the token's user does not exist here: sign in again",
                "locations": body["errors"][0]["locations"],
                "path": body["errors"][0]["path"],
                "extensions": { "code": "UNAUTHENTICATED" }
            }]),
            "{name}: {body:#}"
        );
    }
    assert_eq!(app.rows("moments").await, before, "no write went through");
    app.still_serves(&bob, "bob").await;
}

#[tokio::test]
async fn a_token_of_another_deployment_with_the_same_secret_is_refused() {
    let ours = TestApp::spawn_with(|c| c.jwt_secret = Some(SECRET.into())).await;
    let theirs = TestApp::spawn_with(|c| c.jwt_secret = Some(SECRET.into())).await;
    let (alice_here, alice) = ours.user("alice").await;
    let (mallory_there, _) = theirs.user("mallory").await;
    // The same user id exists on both sides: only the deployment tells the tokens apart.
    assert_eq!(alice_here, mallory_there);
    let foreign = theirs.token(mallory_there);
    let (code, message) = ours.fails(Some(&foreign), "{ viewer { handle } }", json!({})).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("UNAUTHENTICATED", "the token was issued by another deployment: sign in here")
    );
    ours.still_serves(&alice, "alice").await;
}

fn signed(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(&token_key(SECRET))).unwrap()
}

#[tokio::test]
async fn not_before_is_honoured_and_lifetimes_beyond_thirty_days_are_refused() {
    let app = TestApp::spawn_with(|c| c.jwt_secret = Some(SECRET.into())).await;
    let (alice, token) = app.user("alice").await;
    let sub = ids::encode(ids::NodeKind::User, alice);
    let aud = audience(&app).await;
    let now = Utc::now().timestamp();
    let hour = Duration::hours(1).num_seconds();
    let fine = signed(&json!({ "sub": sub, "aud": aud, "iat": now, "exp": now + hour, "nbf": now - hour }));
    assert!(app.gql(Some(&fine), "{ viewer { handle } }", json!({})).await.get("errors").is_none());
    for (what, claims, message) in [
        (
            "nbf in an hour",
            json!({ "sub": sub, "aud": aud, "iat": now, "exp": now + 2 * hour, "nbf": now + hour }),
            "the token is not valid yet",
        ),
        (
            "exp in a century",
            json!({ "sub": sub, "aud": aud, "iat": now, "exp": now + 100 * 365 * 24 * hour }),
            "the token is valid for longer than this server allows",
        ),
        (
            "exp in 31 days",
            json!({ "sub": sub, "aud": aud, "iat": now, "exp": now + 31 * 24 * hour }),
            "the token is valid for longer than this server allows",
        ),
        ("no audience", json!({ "sub": sub, "iat": now, "exp": now + hour }), "the token is not valid"),
    ] {
        let (code, got) = app.fails(Some(&signed(&claims)), "{ viewer { handle } }", json!({})).await;
        assert_eq!((code.as_str(), got.as_str()), ("UNAUTHENTICATED", message), "{what}");
    }
    app.still_serves(&token, "alice").await;
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("{scheme} {token}"))
            .body(Body::from(json!({ "query": "{ viewer { handle } }" }).to_string()))
            .unwrap();
        let (status, _, body) = app.send(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({ "data": { "viewer": { "handle": "alice" } } }),
            "{scheme}"
        );
    }
    for bad in [format!("Basic {token}"), token.clone(), "Bearer".to_owned(), "Bearer    ".to_owned()] {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, bad.clone())
            .body(Body::from(json!({ "query": "{ viewer { handle } }" }).to_string()))
            .unwrap();
        let (_, _, body) = app.send(request).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"][0]["message"], "the Authorization header must be `Bearer <token>`", "{bad}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{bad}");
    }
    app.still_serves(&token, "alice").await;
}

#[tokio::test]
async fn two_authorization_headers_and_a_token_issued_in_the_future_are_refused() {
    let app = TestApp::spawn_with(|c| c.jwt_secret = Some(SECRET.into())).await;
    let (alice, token) = app.user("alice").await;
    let (_, dave) = app.user("dave").await;
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::AUTHORIZATION, format!("Bearer {dave}"))
        .body(Body::from(json!({ "query": "{ viewer { handle } }" }).to_string()))
        .unwrap();
    let (_, _, body) = app.send(request).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errors"][0]["message"], "send one Authorization header, not several");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let now = Utc::now().timestamp();
    let sub = ids::encode(ids::NodeKind::User, alice);
    let later = signed(&json!({ "sub": sub, "aud": audience(&app).await, "iat": now + 3_600, "exp": now + 7_200 }));
    let (code, message) = app.fails(Some(&later), "{ viewer { handle } }", json!({})).await;
    assert_eq!((code.as_str(), message.as_str()), ("UNAUTHENTICATED", "the token is not valid yet"));
    app.still_serves(&token, "alice").await;
}
