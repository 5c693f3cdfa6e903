//! Rule V2 and the token: who may ask at all.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use moments::{Keys, ids};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::TestApp;

/// One operation per field of `Query` and `Mutation` that needs a viewer.
pub const GUARDED: &[(&str, &str)] = &[
    ("node", r#"{ node(id: "VXNlcjox") { id } }"#),
    ("viewer", "{ viewer { id } }"),
    ("user", r#"{ user(handle: "alice") { id } }"#),
    ("profile", r#"{ profile(handle: "alice") { user { id } } }"#),
    ("moment", r#"{ moment(id: "TW9tZW50OjE") { id } }"#),
    ("feed", "{ feed { nodes { id } } }"),
    ("postMoment", r#"mutation { postMoment(input: { text: "hi" }) { moment { id } } }"#),
    ("deleteMoment", r#"mutation { deleteMoment(id: "TW9tZW50OjE") { deletedMomentId } }"#),
    ("pin", r#"mutation { pin(momentId: "TW9tZW50OjE") { moment { id } } }"#),
    ("unpin", r#"mutation { unpin(momentId: "TW9tZW50OjE") { moment { id } } }"#),
    (
        "updateMomentsSettings",
        "mutation { updateMomentsSettings(input: { strangersCanView: true }) { strangersCanView } }",
    ),
    ("hideMomentsFrom", r#"mutation { hideMomentsFrom(userId: "VXNlcjox") { strangersCanView } }"#),
    ("unhideMomentsFrom", r#"mutation { unhideMomentsFrom(userId: "VXNlcjox") { strangersCanView } }"#),
    ("sendFriendRequest", r#"mutation { sendFriendRequest(userId: "VXNlcjox") { status } }"#),
    ("acceptFriendRequest", r#"mutation { acceptFriendRequest(userId: "VXNlcjox") { status } }"#),
    ("removeFriend", r#"mutation { removeFriend(userId: "VXNlcjox") { status } }"#),
    ("createTag", r#"mutation { createTag(input: { name: "x" }) { tag { id } } }"#),
    ("setTagMembers", r#"mutation { setTagMembers(input: { tagId: "VGFnOjE", memberIds: [] }) { tag { id } } }"#),
    ("deleteTag", r#"mutation { deleteTag(id: "VGFnOjE") { deletedTagId } }"#),
];

#[tokio::test]
async fn every_operation_but_sign_up_and_sign_in_needs_a_token() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let mut covered: Vec<&str> = GUARDED.iter().map(|(name, _)| *name).collect();
    covered.extend(["signUp", "signIn"]);
    let roots = app
        .gql(None, "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }", json!({}))
        .await;
    for root in ["queryType", "mutationType"] {
        for field in roots["data"]["__schema"][root]["fields"].as_array().unwrap() {
            let name = field["name"].as_str().unwrap();
            assert!(covered.contains(&name), "{root}.{name} has no V2 check in this test");
        }
    }
    for (name, query) in GUARDED {
        for bad in [None, Some("not-a-token"), Some(&token[..token.len() - 2])] {
            let body = app.gql(bad, query, json!({})).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{name} with {bad:?}: {body:#}");
            assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{name}: {body:#}");
            let data = &body["data"];
            assert!(data.is_null() || data.as_object().unwrap().values().all(Value::is_null), "{name}: {body:#}");
        }
    }
}

#[tokio::test]
async fn introspection_and_typename_need_no_token() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, "{ __typename __schema { queryType { name } } }", json!({})).await;
    assert_eq!(body, json!({ "data": { "__typename": "Query", "__schema": { "queryType": { "name": "Query" } } } }));
}

#[tokio::test]
async fn a_sign_up_whose_settings_cannot_be_written_leaves_no_user() {
    let app = TestApp::spawn().await;
    {
        use sea_orm::ConnectionTrait as _;
        // The settings row is written after the user's: without its table that write fails.
        app.services.db.write.execute_unprepared("DROP TABLE moments_settings").await.unwrap();
    }
    let (code, message) = app
        .fails(
            None,
            r#"mutation { signUp(input: { handle: "alice", displayName: "Alice", password: "correct horse" }) { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("INTERNAL", "internal error: the server could not answer this; it has been logged")
    );
    assert_eq!(app.rows("users").await, 0, "the user and their settings are written together or not at all");
}

#[tokio::test]
async fn sign_up_gives_a_token_that_names_the_new_user() {
    let app = TestApp::spawn().await;
    let data = app
        .gql(
            None,
            r#"mutation { signUp(input: { handle: "alice", displayName: " Alice ", password: "correct horse" }) { token user { handle displayName } } }"#,
            json!({}),
        )
        .await;
    let token = data["data"]["signUp"]["token"].as_str().expect("a token").to_owned();
    assert_eq!(data["data"]["signUp"]["user"], json!({ "handle": "alice", "displayName": "Alice" }));
    let me = app.ok(&token, "{ viewer { handle isViewer isFriend } }", json!({})).await;
    assert_eq!(me, json!({ "viewer": { "handle": "alice", "isViewer": true, "isFriend": false } }));
    let stored: String = {
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
        store::entity::users::Entity::find()
            .filter(store::entity::users::Column::Handle.eq("alice"))
            .one(&app.services.db.read)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    assert!(stored.starts_with("$argon2id$"), "{stored}");
}

#[tokio::test]
async fn sign_in_accepts_the_password_and_refuses_a_wrong_one_or_handle() {
    let app = TestApp::spawn().await;
    app.gql(
        None,
        r#"mutation { signUp(input: { handle: "alice", displayName: "Alice", password: "correct horse" }) { token } }"#,
        json!({}),
    )
    .await;
    let ok = app
        .gql(
            None,
            r#"mutation { signIn(input: { handle: "alice", password: "correct horse" }) { user { handle } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(ok["data"]["signIn"]["user"]["handle"], "alice", "{ok:#}");
    for (handle, password) in [("alice", "wrong horse!"), ("nobody", "correct horse")] {
        let query =
            format!(r#"mutation {{ signIn(input: {{ handle: "{handle}", password: "{password}" }}) {{ token }} }}"#);
        let (code, message) = app.fails(None, &query, json!({})).await;
        assert_eq!((code.as_str(), message.as_str()), ("UNAUTHENTICATED", "wrong handle or password"));
    }
}

#[tokio::test]
async fn a_taken_handle_and_a_bad_handle_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    let (code, message) = app
        .fails(
            None,
            r#"mutation { signUp(input: { handle: "alice", displayName: "A", password: "12345678" }) { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!((code.as_str(), message.as_str()), ("BAD_USER_INPUT", "handle: \"alice\" is already taken"));
    let (code, message) = app
        .fails(
            None,
            r#"mutation { signUp(input: { handle: "Al", displayName: "A", password: "12345678" }) { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!((code.as_str(), message.as_str()), ("BAD_USER_INPUT", "handle: must be 3 to 32 characters long, got 2"));
    let (code, message) = app
        .fails(
            None,
            r#"mutation { signUp(input: { handle: "bob", displayName: "B", password: "short" }) { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("BAD_USER_INPUT", "password: must be 8 to 128 characters long, got 5")
    );
    assert_eq!(app.rows("users").await, 1);
}

/// The deployment id the migrations made for this test's database.
pub async fn deployment(app: &TestApp) -> String {
    use sea_orm::EntityTrait as _;
    store::entity::server_secrets::Entity::find_by_id("deployment_id".to_owned())
        .one(&app.services.db.read)
        .await
        .unwrap()
        .expect("a deployment id")
        .value
}

/// The audience of this deployment's tokens.
pub async fn audience(app: &TestApp) -> String {
    format!("moments:{}", deployment(app).await)
}

pub fn token_key(secret: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"moments/token");
    mac.finalize().into_bytes().to_vec()
}

const SECRET: &str = "a test secret that is long enough to be accepted";

#[tokio::test]
async fn forged_expired_unsigned_and_other_algorithm_tokens_are_refused() {
    let app = TestApp::spawn_with(|c| c.jwt_secret = Some(SECRET.into())).await;
    let (alice, good) = app.user("alice").await;
    assert!(app.gql(Some(&good), "{ viewer { handle } }", json!({})).await.get("errors").is_none());

    let sub = ids::encode(ids::NodeKind::User, alice);
    let exp = (Utc::now() + Duration::hours(1)).timestamp();
    let aud = audience(&app).await;
    let claims = json!({ "sub": sub, "iat": Utc::now().timestamp(), "exp": exp, "aud": aud });
    let forged =
        Keys::from_secret(b"somebody else's secret, long enough", &deployment(&app).await).issue_now(alice).unwrap();
    let expired = app.services.keys.issue(alice, Utc::now() - Duration::days(31)).unwrap();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let hs512 =
        jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(&token_key(SECRET)))
            .unwrap();
    let right_alg =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&token_key(SECRET)))
            .unwrap();
    let no_exp = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": sub, "aud": aud }),
        &EncodingKey::from_secret(&token_key(SECRET)),
    )
    .unwrap();
    // The hand-made HS256 token proves the refusals below are about the token, not the test's key.
    assert!(app.gql(Some(&right_alg), "{ viewer { handle } }", json!({})).await.get("errors").is_none());
    for (what, token, message) in [
        ("forged", forged, "the token is not valid"),
        ("expired", expired, "the token has expired: sign in again"),
        ("alg none", unsigned, "the token is not valid"),
        ("HS512", hs512, "the token is not valid"),
        ("without exp", no_exp, "the token is not valid"),
    ] {
        let (code, got) = app.fails(Some(&token), "{ viewer { handle } }", json!({})).await;
        assert_eq!((code.as_str(), got.as_str()), ("UNAUTHENTICATED", message), "{what}");
    }
}

#[tokio::test]
async fn a_secret_made_once_is_shared_by_every_server_of_the_database() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.user("alice").await;
    let again = Keys::load(None, &app.services.db.write).await.unwrap();
    let token = again.issue_now(alice).unwrap();
    assert_eq!(app.ok(&token, "{ viewer { handle } }", json!({})).await, json!({ "viewer": { "handle": "alice" } }));
}

#[tokio::test]
async fn a_configured_secret_shorter_than_32_characters_is_refused_at_start() {
    let app = TestApp::spawn().await;
    let error = Keys::load(Some("too short"), &app.services.db.write).await.unwrap_err();
    assert!(error.to_string().contains("at least 32 characters"), "{error}");
}
