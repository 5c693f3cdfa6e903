//! What one request may take: lists costed by what they can return, `pinned` bounded and pageable,
//! a budget on the content one request gathers, one password check per request, and rate limits on
//! signing in and up.

use std::net::SocketAddr;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use moments::{HttpOptions, MAX_CONTENT_BYTES, TrustedProxies, config::Config};
use serde_json::{Value, json};

use crate::helpers::{TestApp, texts};

/// `ann` with `n` pinned picture moments, one a day back from 2026-11-25 (`m0` newest), pinned in
/// the opposite order (`m0` pinned first, the oldest last); `fay` is her friend.
pub fn pinned_profile(n: usize, text: &str, url: &str) -> String {
    let mut lines = vec![
        r#"{"type":"user","handle":"ann","displayName":"Ann"}"#.to_owned(),
        r#"{"type":"user","handle":"fay","displayName":"Fay"}"#.to_owned(),
        r#"{"type":"friendship","users":["ann","fay"]}"#.to_owned(),
    ];
    let day = |i: usize| {
        (chrono::DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z").unwrap() - chrono::Duration::days(i as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    for i in 0..n {
        let images: Vec<Value> = (0..9).map(|k| json!({ "url": format!("{url}{i}-{k}") })).collect();
        lines.push(
            json!({ "type": "moment", "ref": format!("m{i}"), "author": "ann", "text": format!("m{i}{text}"),
                    "images": images, "postedAt": day(i) })
            .to_string(),
        );
    }
    // A second apart, the newest posted pinned first: listing by pinning time would put the
    // oldest first.
    let pinned_at = |i: usize| {
        (chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap() + chrono::Duration::seconds(i as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    for i in 0..n {
        lines.push(json!({ "type": "pin", "moment": format!("m{i}"), "pinnedAt": pinned_at(i) }).to_string());
    }
    lines.join("\n")
}

fn names(n: std::ops::Range<usize>) -> Vec<String> {
    n.map(|i| format!("m{i}")).collect()
}

#[tokio::test]
async fn pinned_gives_at_most_a_hundred_newest_posted_and_pages_on_with_a_cursor() {
    let app = TestApp::spawn().await;
    app.import(&pinned_profile(130, "", "https://img.example/")).await;
    let fay = app.token(app.id_of("fay").await);
    let all = app.ok(&fay, r#"{ profile(handle: "ann") { pinned { text } } }"#, json!({})).await;
    assert_eq!(texts(&all["profile"]["pinned"]), names(0..100));

    let page = r#"query($after: String) { profile(handle: "ann") { pinnedConnection(first: 60, after: $after) {
        nodes { text } pageInfo { hasNextPage endCursor } } } }"#;
    let first = app.ok(&fay, page, json!({ "after": null })).await;
    let first = &first["profile"]["pinnedConnection"];
    assert_eq!(texts(&first["nodes"]), names(0..60));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = app.ok(&fay, page, json!({ "after": first["pageInfo"]["endCursor"] })).await;
    let second = &second["profile"]["pinnedConnection"];
    assert_eq!(texts(&second["nodes"]), names(60..120));
    let third = app.ok(&fay, page, json!({ "after": second["pageInfo"]["endCursor"] })).await;
    let third = &third["profile"]["pinnedConnection"];
    assert_eq!(texts(&third["nodes"]), names(120..130));
    assert_eq!(third["pageInfo"]["hasNextPage"], false);

    // The plain list continues from the same cursors.
    let rest = app
        .ok(
            &fay,
            r#"query($after: String) { profile(handle: "ann") { pinned(first: 5, after: $after) { text } } }"#,
            json!({ "after": first["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(texts(&rest["profile"]["pinned"]), names(60..65));
    let (code, message) =
        app.fails(Some(&fay), r#"{ profile(handle: "ann") { pinned(first: 101) { text } } }"#, json!({})).await;
    assert_eq!((code.as_str(), message.as_str()), ("BAD_USER_INPUT", "first: must be between 0 and 100, got 101"));
    app.still_serves(&fay, "fay").await;
}

#[tokio::test]
async fn a_list_is_costed_by_what_it_can_return() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("ann").await;
    // 25 aliases of `media { url }` under the hundred moments `pinned` may return: each moment may
    // hold nine pictures, so that is 22,500 fields, over the limit of 20,000 — though the profile
    // has no moment at all.
    let media: String = (0..25).map(|i| format!("m{i}: media {{ url }} ")).collect();
    let body =
        app.gql(Some(&token), &format!(r#"{{ profile(handle: "ann") {{ pinned {{ {media} }} }} }}"#), json!({})).await;
    assert_eq!(body["errors"][0]["message"], "Query is too complex.", "{body:#}");
    let media: String = (0..20).map(|i| format!("m{i}: media {{ url }} ")).collect();
    let body =
        app.gql(Some(&token), &format!(r#"{{ profile(handle: "ann") {{ pinned {{ {media} }} }} }}"#), json!({})).await;
    assert_eq!(body, json!({ "data": { "profile": { "pinned": [] } } }));
    // Statements cost too: two hundred and one profiles in one operation are refused.
    let profiles: String = (0..201).map(|i| format!(r#"p{i}: profile(handle: "ann") {{ pinLimit }} "#)).collect();
    let body = app.gql(Some(&token), &format!("{{ {profiles} }}"), json!({})).await;
    assert_eq!(body["errors"][0]["message"], "Query is too complex.", "{body:#}");
}

#[tokio::test]
async fn a_request_that_would_gather_too_much_is_cut_at_the_budget_and_the_server_goes_on() {
    let app = TestApp::spawn().await;
    let long_text = "長".repeat(1_990);
    let long_url = format!("https://img.example/{}/", "a".repeat(2_000));
    app.import(&pinned_profile(30, &long_text, &long_url)).await;
    let fay = app.token(app.id_of("fay").await);
    let aliases: String = (0..20).map(|i| format!("p{i}: pinned(first: 30) {{ text media {{ url }} }} ")).collect();
    let query = format!(r#"{{ profile(handle: "ann") {{ {aliases} }} }}"#);
    for batch in [1, 10] {
        let operations = vec![json!({ "query": query }); batch];
        let body = if batch == 1 { operations[0].to_string() } else { Value::Array(operations).to_string() };
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {fay}"))
            .body(Body::from(body))
            .unwrap();
        let (status, _, bytes) = app.send(request).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bytes.len() < MAX_CONTENT_BYTES, "batch of {batch}: a response of {} bytes", bytes.len());
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        let first = if batch == 1 { &body } else { &body[0] };
        let refusal = first["errors"]
            .as_array()
            .and_then(|errors| errors.iter().find(|e| e["extensions"]["code"] == "RESPONSE_TOO_LARGE"))
            .unwrap_or_else(|| panic!("batch of {batch}: no RESPONSE_TOO_LARGE in {}", &first["errors"]));
        assert_eq!(
            refusal["message"],
            "this request asks for more than 8 MiB of content: ask for fewer or smaller pages"
        );
        if batch == 10 {
            // Once the budget is spent, the operations left do not run at all.
            assert_eq!(
                body[9],
                json!({ "errors": [{
                    "message": "this request asks for more than 8 MiB of content: ask for fewer or smaller pages",
                    "extensions": { "code": "RESPONSE_TOO_LARGE" }
                }] })
            );
        }
    }
    app.still_serves(&fay, "fay").await;
}

#[tokio::test]
async fn one_password_check_per_request_whatever_the_aliases_or_the_batch() {
    let app = TestApp::spawn().await;
    let sign_in = r#"signIn(input: { handle: "alice", password: "correct horse" }) { user { handle } }"#;
    app.gql(
        None,
        r#"mutation { signUp(input: { handle: "alice", displayName: "Alice", password: "correct horse" }) { token } }"#,
        json!({}),
    )
    .await;
    let two = app.gql(None, &format!("mutation {{ a: {sign_in} b: {sign_in} }}"), json!({})).await;
    assert_eq!(two["errors"].as_array().unwrap().len(), 1, "{two:#}");
    assert_eq!(two["errors"][0]["message"], "one signIn or signUp per request: send the others separately");
    assert_eq!(two["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(two["errors"][0]["path"], json!(["b"]));
    let many: String = (0..150).map(|i| format!("a{i}: {sign_in} ")).collect();
    let refused = app.gql(None, &format!("mutation {{ {many} }}"), json!({})).await;
    assert_eq!(refused["errors"][0]["message"], "Query is too complex.", "{refused:#}");
    let batch = Value::Array(vec![json!({ "query": format!("mutation {{ {sign_in} }}") }); 2]).to_string();
    let request =
        Request::post("/graphql").header(header::CONTENT_TYPE, "application/json").body(Body::from(batch)).unwrap();
    let (_, _, body) = app.send(request).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body[0]["data"]["signIn"]["user"]["handle"], "alice", "{body:#}");
    assert_eq!(body[1]["errors"][0]["message"], "one signIn or signUp per request: send the others separately");
    let token = app.token(app.id_of("alice").await);
    app.still_serves(&token, "alice").await;
}

fn sign_in_request(handle: &str, forwarded_for: Option<&str>) -> Request<Body> {
    let query =
        format!(r#"mutation {{ signIn(input: {{ handle: "{handle}", password: "not the password" }}) {{ token }} }}"#);
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.body(Body::from(json!({ "query": query }).to_string())).unwrap()
}

async fn attempt(app: &TestApp, peer: &str, handle: &str, xff: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    let (status, headers, body) = app.send_from(peer, sign_in_request(handle, xff)).await;
    let retry = headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    (status, retry, serde_json::from_slice(&body).unwrap())
}

fn assert_rate_limited(reply: &(StatusCode, Option<String>, Value), what: &str) {
    let (status, retry, body) = reply;
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body:#}");
    let seconds: u64 = retry.as_deref().expect("a Retry-After header").parse().unwrap();
    assert!((1..=3_600).contains(&seconds), "Retry-After: {seconds}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"], json!({ "code": "RATE_LIMITED", "retryAfter": seconds }));
    assert_eq!(error["message"], format!("too many {what}: try again in {seconds} s"));
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_client_address_and_per_handle() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    // Ten attempts a minute from one address, at any handles.
    for i in 0..10 {
        let (status, _, body) = attempt(&app, "192.0.2.1", &format!("user{i}"), None).await;
        assert_eq!((status, &body["errors"][0]["extensions"]["code"]), (StatusCode::OK, &json!("UNAUTHENTICATED")));
    }
    assert_rate_limited(&attempt(&app, "192.0.2.1", "user10", None).await, "sign-in attempts from your address");
    // Another address is not held back by the first one's attempts.
    let (status, _, _) = attempt(&app, "192.0.2.2", "user11", None).await;
    assert_eq!(status, StatusCode::OK);
    // Five a minute at one handle, from however many addresses.
    for i in 0..5 {
        let (status, _, _) = attempt(&app, &format!("198.51.100.{i}"), "alice", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_rate_limited(&attempt(&app, "198.51.100.9", "alice", None).await, "sign-in attempts at this handle");
    // X-Forwarded-For from a peer that is not a trusted proxy changes nothing.
    for i in 0..9 {
        attempt(&app, "203.0.113.1", &format!("other{i}"), Some(&format!("192.0.2.{}", 100 + i))).await;
    }
    let (status, _, _) = attempt(&app, "203.0.113.1", "other9", Some("192.0.2.200")).await;
    assert_eq!(status, StatusCode::OK);
    assert_rate_limited(
        &attempt(&app, "203.0.113.1", "other10", Some("192.0.2.201")).await,
        "sign-in attempts from your address",
    );
    app.still_serves(&alice, "alice").await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_clients_are_counted_by_the_address_it_forwards() {
    let options =
        HttpOptions { trusted_proxies: TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]), ..HttpOptions::default() };
    let app = TestApp::spawn_with_options(|_| {}, options).await;
    for i in 0..10 {
        let (status, _, _) = attempt(&app, "10.0.0.2", &format!("user{i}"), Some("192.0.2.7")).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_rate_limited(
        &attempt(&app, "10.0.0.3", "user10", Some("192.0.2.7, 10.0.0.9")).await,
        "sign-in attempts from your address",
    );
    // Another client behind the same proxy.
    let (status, _, _) = attempt(&app, "10.0.0.2", "user11", Some("192.0.2.8")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, alice) = app.user("alice").await;
    app.still_serves(&alice, "alice").await;
}

#[tokio::test]
async fn sign_up_is_rate_limited_per_client_address() {
    let app = TestApp::spawn_with(|c: &mut Config| c.sign_up_rate = 2).await;
    let sign_up = |handle: &str| {
        let query = format!(
            r#"mutation {{ signUp(input: {{ handle: "{handle}", displayName: "X", password: "correct horse" }}) {{ user {{ handle }} }} }}"#
        );
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "query": query }).to_string()))
            .unwrap()
    };
    let peer: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    for handle in ["one", "two"] {
        let (status, _, _) = app.send_from(peer, sign_up(handle)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, body) = app.send_from(peer, sign_up("three")).await;
    let retry = headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    assert_rate_limited(&(status, retry, serde_json::from_slice(&body).unwrap()), "new accounts from your address");
    assert_eq!(app.rows("users").await, 2);
    let (status, _, _) = app.send_from("192.0.2.2:40000".parse().unwrap(), sign_up("three")).await;
    assert_eq!(status, StatusCode::OK);
    let token = app.token(app.id_of("three").await);
    app.still_serves(&token, "three").await;
}

#[tokio::test]
async fn owner_lists_come_a_hundred_at_a_time_by_name_and_page_on() {
    let app = TestApp::spawn().await;
    let mut lines = vec![r#"{"type":"user","handle":"hub","displayName":"Hub"}"#.to_owned()];
    for i in 0..150 {
        lines.push(format!(r#"{{"type":"user","handle":"f{i:03}","displayName":"F"}}"#));
        lines.push(format!(r#"{{"type":"friendship","users":["hub","f{i:03}"]}}"#));
    }
    let members: Vec<String> = (0..120).map(|i| format!("f{i:03}")).collect();
    lines.push(json!({ "type": "tag", "owner": "hub", "name": "many", "members": members }).to_string());
    let hidden: Vec<String> = (0..130).map(|i| format!("f{i:03}")).collect();
    lines.push(json!({ "type": "settings", "user": "hub", "hiddenFrom": hidden }).to_string());
    app.import(&lines.join("\n")).await;
    let hub = app.token(app.id_of("hub").await);
    let handles = |value: &Value| -> Vec<String> {
        value.as_array().unwrap().iter().map(|u| u["handle"].as_str().unwrap().to_owned()).collect()
    };
    let names = |range: std::ops::Range<usize>| -> Vec<String> { range.map(|i| format!("f{i:03}")).collect() };
    let first = app
        .ok(&hub, "{ viewer { friends { handle } tags { name members { handle } } profile { settings { hiddenFrom { handle } } } } }", json!({}))
        .await;
    assert_eq!(handles(&first["viewer"]["friends"]), names(0..100));
    assert_eq!(handles(&first["viewer"]["tags"][0]["members"]), names(0..100));
    assert_eq!(handles(&first["viewer"]["profile"]["settings"]["hiddenFrom"]), names(0..100));
    let next = app
        .ok(
            &hub,
            r#"{ viewer { friends(first: 60, after: "f099") { handle } tags { members(after: "f099") { handle } }
                 profile { settings { hiddenFrom(after: "f099") { handle } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(handles(&next["viewer"]["friends"]), names(100..150));
    assert_eq!(handles(&next["viewer"]["tags"][0]["members"]), names(100..120));
    assert_eq!(handles(&next["viewer"]["profile"]["settings"]["hiddenFrom"]), names(100..130));
    let (code, message) =
        app.fails(Some(&hub), r#"{ viewer { friends(after: "Not A Handle") { handle } } }"#, json!({})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.starts_with("after: not a handle"), "{message}");
    // Costed by their pages: ten aliases of a hundred friends with their profiles are refused.
    let aliases: String = (0..10).map(|i| format!("a{i}: friends {{ profile {{ pinLimit }} }} ")).collect();
    let body = app.gql(Some(&hub), &format!("{{ viewer {{ {aliases} }} }}"), json!({})).await;
    assert_eq!(body["errors"][0]["message"], "Query is too complex.", "{body:#}");
    app.still_serves(&hub, "hub").await;
}

#[tokio::test]
async fn friends_pending_requests_tags_and_audiences_have_a_size_limit() {
    let app = TestApp::spawn().await;
    let mut lines = vec![r#"{"type":"user","handle":"hub","displayName":"Hub"}"#.to_owned()];
    for i in 0..5_001 {
        lines.push(format!(r#"{{"type":"user","handle":"u{i:04}","displayName":"U"}}"#));
    }
    for i in 0..5_000 {
        lines.push(format!(r#"{{"type":"friendship","users":["hub","u{i:04}"]}}"#));
    }
    app.import(&lines.join("\n")).await;
    // The 5,001st friendship is refused, by the importer and by the API.
    let error = moments::import::import_str(
        &app.services.db,
        r#"{"type":"friendship","users":["u5000","hub"]}"#,
        app.clock.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "line 1: users: @hub already has 5000 friends, the most one may have");
    let (hub_id, late) = (app.id_of("hub").await, app.id_of("u5000").await);
    let hub = app.token(hub_id);
    let late_token = app.token(late);
    let hub_gid = moments::ids::encode(moments::ids::NodeKind::User, hub_id);
    let request = "mutation($id: ID!) { sendFriendRequest(userId: $id) { status } }";
    assert_eq!(
        app.ok(&late_token, request, json!({ "id": hub_gid })).await["sendFriendRequest"]["status"],
        "REQUEST_SENT"
    );
    let late_gid = moments::ids::encode(moments::ids::NodeKind::User, late);
    let (code, message) = app
        .fails(
            Some(&hub),
            "mutation($id: ID!) { acceptFriendRequest(userId: $id) { status } }",
            json!({ "id": late_gid }),
        )
        .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("BAD_USER_INPUT", "you have 5000 friends, the most one may have: remove one first")
    );
    // A hundred requests may wait at once.
    let sender = app.token(app.id_of("u4999").await);
    for i in 0..101 {
        let other = moments::ids::encode(moments::ids::NodeKind::User, app.id_of(&format!("u{:04}", 4_000 - i)).await);
        let body = app.gql(Some(&sender), request, json!({ "id": other })).await;
        if i < 100 {
            assert_eq!(body["data"]["sendFriendRequest"]["status"], "REQUEST_SENT", "{i}: {body:#}");
        } else {
            assert_eq!(
                body["errors"][0]["message"],
                "you have 100 friend requests waiting for an answer, the most one may have: withdraw some first"
            );
        }
    }
    // A tag holds at most 1,000 members; an audience names at most 100 friends.
    let members: Vec<String> =
        (0..1_001).map(|i| moments::ids::encode(moments::ids::NodeKind::User, (i + 2) as i64)).collect();
    let (code, message) = app
        .fails(
            Some(&hub),
            "mutation($m: [ID!]!) { createTag(input: { name: \"big\", memberIds: $m }) { tag { id } } }",
            json!({ "m": members }),
        )
        .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("BAD_USER_INPUT", "memberIds: a tag holds at most 1000 members, got 1001")
    );
    let named: Vec<String> = members[..101].to_vec();
    let (code, message) = app
        .fails(
            Some(&hub),
            "mutation($u: [ID!]!) { postMoment(input: { text: \"hi\", audience: { mode: INCLUDE, userIds: $u } }) { moment { id } } }",
            json!({ "u": named }),
        )
        .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("BAD_USER_INPUT", "audience: at most 100 friends by name, got 101; name a tag for a larger group")
    );
    assert_eq!((app.rows("tags").await, app.rows("moments").await), (0, 0));
    app.still_serves(&hub, "hub").await;
}
