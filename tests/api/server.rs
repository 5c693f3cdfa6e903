//! The real binary: `moments serve` configured from the environment, `moments token`, and a clean
//! stop on SIGTERM.

use serde_json::json;

use crate::{
    binary::{Server, moments, token},
    helpers::TestApp,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_of_zero_with_an_allowlist_lets_only_alice_pin_and_others_keep_and_unpin() {
    let app = TestApp::spawn().await;
    // The binary runs on the real clock: post the moments a few days before it, and import them
    // on that clock too (the test clock stands on one fixed day).
    app.clock.set(chrono::Utc::now());
    let days_ago =
        |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let world = r#"{"type":"user","handle":"alice","displayName":"Alice"}
{"type":"user","handle":"bob","displayName":"Bob"}
{"type":"friendship","users":["alice","bob"]}
{"type":"moment","ref":"a","author":"alice","text":"alice's","images":[{"url":"https://img.example/a.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"b","author":"bob","text":"bob's","images":[{"url":"https://img.example/b.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"b2","author":"bob","text":"bob's pinned","images":[{"url":"https://img.example/c.jpg"}],"postedAt":"2026-11-19T08:00:00Z"}
{"type":"pin","moment":"b2"}"#
        .replace("2026-11-20T08:00:00Z", &days_ago(2))
        .replace("2026-11-19T08:00:00Z", &days_ago(3));
    app.import(&world).await;
    let url = app.database_url.clone();
    let (alice, bob) = (token(&url, "alice"), token(&url, "bob"));
    let server = Server::start(&url, &[("MOMENTS_PIN_ROLLOUT_PERCENT", "0"), ("MOMENTS_PIN_ALLOWLIST", "alice")]);
    let ids = server
        .gql(&alice, r#"{ a: profile(handle: "alice") { timeline { nodes { id } } } b: profile(handle: "bob") { timeline { nodes { id text } } } }"#, json!({}))
        .await;
    let alices = ids["data"]["a"]["timeline"]["nodes"][0]["id"].clone();
    let bobs = ids["data"]["b"]["timeline"]["nodes"][0]["id"].clone();
    let bobs_pinned = ids["data"]["b"]["timeline"]["nodes"][1]["id"].clone();
    let pin = "mutation($id: ID!) { pin(momentId: $id) { moment { text isPinned } } }";
    let ok = server.gql(&alice, pin, json!({ "id": alices })).await;
    assert_eq!(ok, json!({ "data": { "pin": { "moment": { "text": "alice's", "isPinned": true } } } }));
    let refused = server.gql(&bob, pin, json!({ "id": bobs })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "PINNING_NOT_ENABLED");
    let kept = server
        .gql(&alice, r#"{ profile(handle: "bob") { pinned { text } user { pinningEnabled } } }"#, json!({}))
        .await;
    assert_eq!(
        kept["data"]["profile"],
        json!({ "pinned": [{ "text": "bob's pinned" }], "user": { "pinningEnabled": false } })
    );
    let unpinned = server
        .gql(
            &bob,
            "mutation($id: ID!) { unpin(momentId: $id) { moment { text isPinned } } }",
            json!({ "id": bobs_pinned }),
        )
        .await;
    assert_eq!(unpinned, json!({ "data": { "unpin": { "moment": { "text": "bob's pinned", "isPinned": false } } } }));
    assert!(server.stop().success(), "a clean exit after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_command_prints_the_sdl_and_token_refuses_an_unknown_handle() {
    let app = TestApp::spawn().await;
    let output = moments(&app.database_url).arg("schema").output().unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), moments::sdl());
    let output = moments(&app.database_url).args(["token", "nobody"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no user with handle \"nobody\""));
}
