//! Input checks: every refusal says what was wrong, carries `BAD_USER_INPUT`, and writes nothing.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const POST: &str = "mutation($input: PostMomentInput!) { postMoment(input: $input) { moment { kind text media { url width height } article { url title } audience { mode users { handle } tags { name } } } } }";

fn image(n: usize) -> Value {
    json!({ "url": format!("https://img.example/{n}.jpg"), "width": 800, "height": 600 })
}

#[tokio::test]
async fn the_kind_of_a_moment_follows_from_its_content() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    let cases = [
        (json!({ "text": "hello" }), json!({ "kind": "TEXT", "text": "hello", "media": [], "article": null })),
        (
            json!({ "images": [image(1), image(2)] }),
            json!({ "kind": "IMAGES", "text": null, "media": [image(1), image(2)], "article": null }),
        ),
        (
            json!({ "text": "clip", "video": { "url": "https://v.example/a.mp4" } }),
            json!({ "kind": "VIDEO", "text": "clip", "media": [{ "url": "https://v.example/a.mp4", "width": null, "height": null }], "article": null }),
        ),
        (
            json!({ "article": { "url": "https://news.example/x", "title": "X" } }),
            json!({ "kind": "ARTICLE", "text": null, "media": [], "article": { "url": "https://news.example/x", "title": "X" } }),
        ),
    ];
    for (input, expected) in cases {
        let data = app.ok(&token, POST, json!({ "input": input })).await;
        let mut moment = data["postMoment"]["moment"].clone();
        assert_eq!(moment["audience"], json!({ "mode": "PUBLIC", "users": [], "tags": [] }));
        moment.as_object_mut().unwrap().remove("audience");
        assert_eq!(moment, expected);
    }
    assert_eq!(app.rows("moments").await, 4);
}

#[tokio::test]
async fn bad_moments_are_refused_with_the_reason_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    app.befriend(alice, bob).await;
    let bob_id = moments::ids::encode(moments::ids::NodeKind::User, bob);
    let carol_id = moments::ids::encode(moments::ids::NodeKind::User, carol);
    let ten: Vec<Value> = (0..10).map(image).collect();
    let cases = [
        (json!({ "images": ten }), "images: a moment holds 1 to 9 pictures, got 10"),
        (json!({ "images": [] }), "images: a moment holds 1 to 9 pictures, got 0"),
        (json!({ "text": "x".repeat(2001) }), "text: at most 2000 characters, got 2001"),
        (json!({}), "a moment needs text, pictures, a video or an article"),
        (json!({ "text": "   " }), "a moment needs text, pictures, a video or an article"),
        (
            json!({ "images": [image(1)], "video": { "url": "https://v.example/a.mp4" } }),
            "a moment holds pictures, a video or an article: not more than one of them",
        ),
        (
            json!({ "images": [{ "url": "javascript:alert(1)" }] }),
            "images[0].url: only http and https URLs are allowed, got a javascript: URL",
        ),
        (
            json!({ "video": { "url": "ftp://v.example/a.mp4" } }),
            "video.url: only http and https URLs are allowed, got a ftp: URL",
        ),
        (
            json!({ "images": [{ "url": "https://img.example/a.jpg", "width": 0 }] }),
            "images[0].width: must be between 1 and 100000 pixels, got 0",
        ),
        (json!({ "article": { "url": "https://news.example/x", "title": " " } }), "article.title: must not be empty"),
        (
            json!({ "text": "hi", "audience": { "mode": "INCLUDE" } }),
            "audience: INCLUDE needs at least one friend or tag",
        ),
        (
            json!({ "text": "hi", "audience": { "mode": "PUBLIC", "userIds": [bob_id] } }),
            "audience: userIds and tagIds go with INCLUDE or EXCLUDE, not with PUBLIC",
        ),
        (
            json!({ "text": "hi", "audience": { "mode": "INCLUDE", "userIds": [carol_id] } }),
            "audience.userIds: @carol is not your friend",
        ),
        (
            json!({ "text": "hi", "audience": { "mode": "EXCLUDE", "tagIds": ["VGFnOjk5"] } }),
            "audience.tagIds: you can only name your own tags",
        ),
        (
            json!({ "text": "hi", "audience": { "mode": "EXCLUDE", "userIds": ["TW9tZW50OjE"] } }),
            "audience.userIds: expected the id of a User, got the id of a Moment",
        ),
    ];
    for (input, message) in cases {
        let (code, got) = app.fails(Some(&token), POST, json!({ "input": input })).await;
        assert_eq!((code.as_str(), got.as_str()), ("BAD_USER_INPUT", message));
    }
    for table in ["moments", "moment_media", "moment_audience_users", "moment_audience_tags"] {
        assert_eq!(app.rows(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn an_audience_of_friends_and_own_tags_is_kept_and_shown_to_the_author() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    app.befriend(alice, bob).await;
    app.befriend(alice, carol).await;
    let id = |u| moments::ids::encode(moments::ids::NodeKind::User, u);
    let tag = app
        .ok(&token, "mutation($m: [ID!]!) { createTag(input: { name: \"family\", memberIds: $m }) { tag { id name members { handle } } } }", json!({ "m": [id(carol)] }))
        .await;
    assert_eq!(tag["createTag"]["tag"]["members"], json!([{ "handle": "carol" }]));
    let tag_id = tag["createTag"]["tag"]["id"].clone();
    let data = app
        .ok(&token, POST, json!({ "input": { "text": "hi", "audience": { "mode": "EXCLUDE", "userIds": [id(bob)], "tagIds": [tag_id] } } }))
        .await;
    assert_eq!(
        data["postMoment"]["moment"]["audience"],
        json!({ "mode": "EXCLUDE", "users": [{ "handle": "bob" }], "tags": [{ "name": "family" }] })
    );
}

#[tokio::test]
async fn first_must_be_between_0_and_100_and_ids_must_be_ours() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("alice").await;
    for first in [-1, 101] {
        let query = format!(r#"{{ profile(handle: "alice") {{ timeline(first: {first}) {{ nodes {{ id }} }} }} }}"#);
        let (code, message) = app.fails(Some(&token), &query, json!({})).await;
        assert_eq!(
            (code.as_str(), message),
            ("BAD_USER_INPUT", format!("first: must be between 0 and 100, got {first}"))
        );
        let (code, _) =
            app.fails(Some(&token), &format!("{{ feed(first: {first}) {{ nodes {{ id }} }} }}"), json!({})).await;
        assert_eq!(code, "BAD_USER_INPUT");
    }
    let (code, message) = app.fails(Some(&token), r#"{ moment(id: "garbage") { id } }"#, json!({})).await;
    assert_eq!((code.as_str(), message.as_str()), ("BAD_USER_INPUT", "id: \"garbage\" is not a valid id"));
    let zero = app
        .ok(
            &token,
            r#"{ profile(handle: "alice") { timeline(first: 0) { nodes { id } pageInfo { hasNextPage } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(zero["profile"]["timeline"], json!({ "nodes": [], "pageInfo": { "hasNextPage": false } }));
}

#[tokio::test]
async fn a_tampered_cursor_or_one_of_another_list_is_refused() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user("alice").await;
    let (bob, _) = app.user("bob").await;
    app.befriend(alice, bob).await;
    for n in 0..3 {
        app.ok(&token, POST, json!({ "input": { "text": format!("m{n}") } })).await;
    }
    let page = app
        .ok(&token, r#"{ profile(handle: "alice") { timeline(first: 1) { pageInfo { endCursor } } } feed(first: 1) { pageInfo { endCursor } } }"#, json!({}))
        .await;
    let timeline_cursor = page["profile"]["timeline"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let feed_cursor = page["feed"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let mut tampered = timeline_cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (handle, cursor) in
        [("alice", tampered.as_str()), ("bob", timeline_cursor.as_str()), ("alice", feed_cursor.as_str())]
    {
        let query = r#"query($h: String!, $c: String) { profile(handle: $h) { timeline(first: 5, after: $c) { nodes { text } } } }"#;
        let (code, message) = app.fails(Some(&token), query, json!({ "h": handle, "c": cursor })).await;
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("BAD_USER_INPUT", "after: this cursor is not valid for this list")
        );
    }
    let next = app
        .ok(
            &token,
            r#"query($c: String) { profile(handle: "alice") { timeline(first: 5, after: $c) { nodes { text } } } }"#,
            json!({ "c": timeline_cursor }),
        )
        .await;
    assert_eq!(next["profile"]["timeline"]["nodes"], json!([{ "text": "m1" }, { "text": "m0" }]));
}
