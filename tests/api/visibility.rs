//! One test per visibility rule (docs/rules.md §2, V1–V8), each on a small world and asserting whole lists.

use serde_json::{Value, json};

use crate::helpers::{TestApp, texts};

/// A world: `ann` posts; `fay` and `fox` are her friends (`fox` in her tag `close`), `sam` is a
/// stranger, `hid` a friend she hides from. Times are before the tests' `now`, 2026-11-26T12:00Z.
const WORLD: &str = r#"{"type":"user","handle":"ann","displayName":"Ann"}
{"type":"user","handle":"fay","displayName":"Fay"}
{"type":"user","handle":"fox","displayName":"Fox"}
{"type":"user","handle":"sam","displayName":"Sam"}
{"type":"user","handle":"hid","displayName":"Hid"}
{"type":"friendship","users":["ann","fay"]}
{"type":"friendship","users":["ann","fox"]}
{"type":"friendship","users":["ann","hid"]}
{"type":"friendship","users":["fay","fox"]}
{"type":"tag","owner":"ann","name":"close","members":["fox"]}
{"type":"settings","user":"ann","hiddenFrom":["hid"]}
{"type":"moment","ref":"public","author":"ann","text":"public","images":[{"url":"https://img.example/p.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"private","author":"ann","text":"private","images":[{"url":"https://img.example/q.jpg"}],"postedAt":"2026-11-19T08:00:00Z","audience":{"mode":"PRIVATE"}}
{"type":"moment","ref":"only fay","author":"ann","text":"only fay","postedAt":"2026-11-18T08:00:00Z","audience":{"mode":"INCLUDE","users":["fay"]}}
{"type":"moment","ref":"only close","author":"ann","text":"only close","postedAt":"2026-11-17T08:00:00Z","audience":{"mode":"INCLUDE","tags":["close"]}}
{"type":"moment","ref":"not fay","author":"ann","text":"not fay","postedAt":"2026-11-16T08:00:00Z","audience":{"mode":"EXCLUDE","users":["fay"]}}
{"type":"moment","ref":"not close","author":"ann","text":"not close","postedAt":"2026-11-15T08:00:00Z","audience":{"mode":"EXCLUDE","tags":["close"]}}
{"type":"moment","ref":"old","author":"ann","text":"old","video":{"url":"https://img.example/v.mp4"},"postedAt":"2025-01-01T08:00:00Z"}
{"type":"moment","ref":"fay's","author":"fay","text":"fay's","postedAt":"2026-11-21T08:00:00Z"}
{"type":"pin","moment":"old"}
{"type":"pin","moment":"private"}
"#;

async fn world() -> TestApp {
    let app = TestApp::spawn().await;
    app.import(WORLD).await;
    app
}

async fn token(app: &TestApp, handle: &str) -> String {
    app.token(app.id_of(handle).await)
}

const PROFILE: &str = r#"query($h: String!, $x: Boolean) { profile(handle: $h) {
    timeline(first: 100, excludePinned: $x) { nodes { id text } }
    pinned { id text } } }"#;

/// (timeline, pinned) texts of `author` as `viewer` sees them.
async fn profile(app: &TestApp, viewer: &str, author: &str) -> (Vec<String>, Vec<String>) {
    let data = app.ok(&token(app, viewer).await, PROFILE, json!({ "h": author, "x": false })).await;
    (texts(&data["profile"]["timeline"]["nodes"]), texts(&data["profile"]["pinned"]))
}

async fn feed(app: &TestApp, viewer: &str) -> Vec<String> {
    let data = app.ok(&token(app, viewer).await, "{ feed(first: 100) { nodes { text } } }", json!({})).await;
    texts(&data["feed"]["nodes"])
}

/// Every moment of `author` that `moment(id)` resolves for `viewer`, newest first.
async fn resolvable(app: &TestApp, viewer: &str, author: &str) -> Vec<String> {
    let all = app.ok(&token(app, author).await, PROFILE, json!({ "h": author, "x": false })).await;
    let viewer_token = token(app, viewer).await;
    let mut out = Vec::new();
    for m in all["profile"]["timeline"]["nodes"].as_array().unwrap() {
        let data = app
            .ok(
                &viewer_token,
                "query($id: ID!) { moment(id: $id) { text } node(id: $id) { id } }",
                json!({ "id": m["id"] }),
            )
            .await;
        assert_eq!(data["moment"].is_null(), data["node"].is_null(), "moment and node agree");
        if !data["moment"].is_null() {
            out.push(data["moment"]["text"].as_str().unwrap().to_owned());
        }
    }
    out
}

fn strs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn v1_the_author_sees_every_moment_of_any_audience_and_age() {
    let app = world().await;
    app.import(r#"{"type":"settings","user":"ann","visibleWindow":"THREE_DAYS"}"#).await;
    let all = strs(&["public", "private", "only fay", "only close", "not fay", "not close", "old"]);
    assert_eq!(profile(&app, "ann", "ann").await, (all.clone(), strs(&["private", "old"])));
    assert_eq!(resolvable(&app, "ann", "ann").await, all);
    assert_eq!(
        feed(&app, "ann").await,
        strs(&["fay's", "public", "private", "only fay", "only close", "not fay", "not close", "old"])
    );
}

#[tokio::test]
async fn v2_without_a_valid_token_no_moment_is_listed() {
    let app = world().await;
    for token in [None, Some("garbage")] {
        let body = app.gql(token, PROFILE, json!({ "h": "ann" })).await;
        assert!(body["data"].is_null() || body["data"] == json!({ "profile": null }), "{body:#}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn v3_a_user_hidden_from_sees_nothing_pinned_ones_included() {
    let app = world().await;
    assert_eq!(profile(&app, "hid", "ann").await, (vec![], vec![]));
    assert_eq!(resolvable(&app, "hid", "ann").await, Vec::<String>::new());
    assert_eq!(feed(&app, "hid").await, Vec::<String>::new());
    // Still hidden after the friendship ends, even with strangers allowed.
    app.import(r#"{"type":"settings","user":"ann","strangersCanView":true}"#).await;
    let hid = app.id_of("hid").await;
    let ann_token = token(&app, "ann").await;
    let hid_id = moments::ids::encode(moments::ids::NodeKind::User, hid);
    app.ok(&ann_token, "mutation($u: ID!) { removeFriend(userId: $u) { status } }", json!({ "u": hid_id })).await;
    assert_eq!(profile(&app, "hid", "ann").await, (vec![], vec![]));
    // Unhidden, a stranger again: the public moments only.
    let data = app
        .ok(
            &ann_token,
            "mutation($u: ID!) { unhideMomentsFrom(userId: $u) { hiddenFrom { handle } } }",
            json!({ "u": hid_id }),
        )
        .await;
    assert_eq!(data["unhideMomentsFrom"]["hiddenFrom"], json!([]));
    assert_eq!(profile(&app, "hid", "ann").await, (strs(&["public", "old"]), strs(&["old"])));
}

#[tokio::test]
async fn v4_a_friend_sees_by_audience_with_tags_as_they_are_now() {
    let app = world().await;
    assert_eq!(profile(&app, "fay", "ann").await, (strs(&["public", "only fay", "not close", "old"]), strs(&["old"])));
    assert_eq!(profile(&app, "fox", "ann").await, (strs(&["public", "only close", "not fay", "old"]), strs(&["old"])));
    assert_eq!(resolvable(&app, "fay", "ann").await, strs(&["public", "only fay", "not close", "old"]));
    // fay joins the tag: she now sees "only close" and no longer "not close".
    let ann = token(&app, "ann").await;
    let tags = app.ok(&ann, "{ viewer { tags { id } } }", json!({})).await;
    let (fay, fox) = (app.id_of("fay").await, app.id_of("fox").await);
    let members: Vec<String> =
        [fay, fox].iter().map(|u| moments::ids::encode(moments::ids::NodeKind::User, *u)).collect();
    app.ok(
        &ann,
        "mutation($t: ID!, $m: [ID!]!) { setTagMembers(input: { tagId: $t, memberIds: $m }) { tag { name } } }",
        json!({ "t": tags["viewer"]["tags"][0]["id"], "m": members }),
    )
    .await;
    assert_eq!(profile(&app, "fay", "ann").await, (strs(&["public", "only fay", "only close", "old"]), strs(&["old"])));
}

#[tokio::test]
async fn v5_a_stranger_sees_at_most_the_ten_newest_public_moments_when_allowed() {
    let app = world().await;
    assert_eq!(profile(&app, "sam", "ann").await, (vec![], vec![]));
    let mut lines =
        vec![r#"{"type":"settings","user":"ann","strangersCanView":true,"visibleWindow":"SIX_MONTHS"}"#.to_owned()];
    for day in 1..=12 {
        lines.push(format!(
            r#"{{"type":"moment","ref":"n{day}","author":"ann","text":"n{day}","images":[{{"url":"https://img.example/{day}.jpg"}}],"postedAt":"2026-10-{day:02}T08:00:00Z"}}"#
        ));
    }
    lines.push(r#"{"type":"pin","moment":"n12"}"#.to_owned());
    app.import(&lines.join("\n")).await;
    let newest: Vec<String> =
        ["public", "n12", "n11", "n10", "n9", "n8", "n7", "n6", "n5", "n4"].iter().map(|s| (*s).into()).collect();
    assert_eq!(profile(&app, "sam", "ann").await, (newest.clone(), strs(&["n12", "old"])));
    // The ten are counted before pinned ones are left out.
    let excluded = app.ok(&token(&app, "sam").await, PROFILE, json!({ "h": "ann", "x": true })).await;
    let without_pinned: Vec<String> = newest.iter().filter(|t| *t != "n12").cloned().collect();
    assert_eq!(texts(&excluded["profile"]["timeline"]["nodes"]), without_pinned);
    // moment(id) follows the same ten, and the public pins.
    let mut expected = newest;
    expected.push("old".into());
    assert_eq!(resolvable(&app, "sam", "ann").await, expected);
}

#[tokio::test]
async fn v6_the_window_bounds_what_others_see_with_the_boundary_inside() {
    let app = world().await;
    app.import(
        r#"{"type":"settings","user":"ann","visibleWindow":"THREE_DAYS"}
{"type":"moment","ref":"edge","author":"ann","text":"edge","postedAt":"2026-11-23T12:00:00Z"}
{"type":"moment","ref":"past","author":"ann","text":"past","postedAt":"2026-11-23T11:59:59.999999Z"}"#,
    )
    .await;
    assert_eq!(profile(&app, "fay", "ann").await, (strs(&["edge"]), strs(&["old"])));
    app.import(
        r#"{"type":"settings","user":"ann","visibleWindow":"ONE_MONTH"}
{"type":"moment","ref":"month edge","author":"ann","text":"month edge","postedAt":"2026-10-26T12:00:00Z"}
{"type":"moment","ref":"month past","author":"ann","text":"month past","postedAt":"2026-10-26T11:59:59Z"}"#,
    )
    .await;
    assert_eq!(
        profile(&app, "fay", "ann").await,
        (strs(&["edge", "past", "public", "only fay", "not close", "month edge"]), strs(&["old"]))
    );
    app.import(
        r#"{"type":"settings","user":"ann","visibleWindow":"SIX_MONTHS"}
{"type":"moment","ref":"half edge","author":"ann","text":"half edge","postedAt":"2026-05-26T12:00:00Z"}
{"type":"moment","ref":"half past","author":"ann","text":"half past","postedAt":"2026-05-26T11:59:59Z"}"#,
    )
    .await;
    assert_eq!(
        profile(&app, "fay", "ann").await.0,
        strs(&["edge", "past", "public", "only fay", "not close", "month edge", "month past", "half edge"])
    );
    assert_eq!(
        feed(&app, "fay").await,
        strs(&["edge", "past", "fay's", "public", "only fay", "not close", "month edge", "month past", "half edge"])
    );
}

#[tokio::test]
async fn v7_a_pin_lifts_a_moment_out_of_the_window_but_keeps_its_audience() {
    let app = world().await;
    app.import(r#"{"type":"settings","user":"ann","visibleWindow":"THREE_DAYS","strangersCanView":true}"#).await;
    // "old" is far outside the window and pinned: friends and strangers see it in `pinned` only;
    // "private" is pinned too, and nobody else sees it anywhere.
    assert_eq!(profile(&app, "fay", "ann").await, (vec![], strs(&["old"])));
    assert_eq!(profile(&app, "sam", "ann").await, (vec![], strs(&["old"])));
    assert_eq!(resolvable(&app, "fay", "ann").await, strs(&["old"]));
    assert_eq!(profile(&app, "hid", "ann").await, (vec![], vec![]));
    assert_eq!(profile(&app, "ann", "ann").await.1, strs(&["private", "old"]));
    // The feed is untouched by pins: the window still applies there.
    assert_eq!(feed(&app, "fay").await, strs(&["fay's"]));
}

#[tokio::test]
async fn v8_deleted_moments_and_ended_friendships_take_effect_at_once() {
    let app = world().await;
    let ann = token(&app, "ann").await;
    let all = app.ok(&ann, PROFILE, json!({ "h": "ann", "x": false })).await;
    let old_id =
        all["profile"]["timeline"]["nodes"].as_array().unwrap().iter().find(|m| m["text"] == "old").unwrap()["id"]
            .clone();
    let deleted =
        app.ok(&ann, "mutation($id: ID!) { deleteMoment(id: $id) { deletedMomentId } }", json!({ "id": old_id })).await;
    assert_eq!(deleted["deleteMoment"]["deletedMomentId"], old_id);
    assert_eq!(profile(&app, "fay", "ann").await, (strs(&["public", "only fay", "not close"]), vec![]));
    assert_eq!(profile(&app, "ann", "ann").await.1, strs(&["private"]));
    let gone = app.ok(&ann, "query($id: ID!) { moment(id: $id) { id } }", json!({ "id": old_id })).await;
    assert_eq!(gone, json!({ "moment": null }));
    assert_eq!(app.rows("pins").await, 1, "the deleted moment's pin went with it");
    // fay stops being a friend: a stranger at once, and ann does not let strangers look.
    let fay = moments::ids::encode(moments::ids::NodeKind::User, app.id_of("fay").await);
    app.ok(&ann, "mutation($u: ID!) { removeFriend(userId: $u) { status user { isFriend } } }", json!({ "u": fay }))
        .await;
    assert_eq!(profile(&app, "fay", "ann").await, (vec![], vec![]));
    assert_eq!(feed(&app, "fay").await, strs(&["fay's"]));
    let value: Value = app.ok(&token(&app, "fay").await, r#"{ user(handle: "ann") { isFriend } }"#, json!({})).await;
    assert_eq!(value["user"]["isFriend"], false);
}

#[tokio::test]
async fn owner_only_fields_read_as_null_for_everyone_else_without_errors() {
    let app = world().await;
    let query = r#"{ profile(handle: "ann") { settings { visibleWindow } pinned { text pinnedAt audience { mode } } user { friends { handle } tags { name } incomingFriendRequests { handle } } } }"#;
    let fay = app.ok(&token(&app, "fay").await, query, json!({})).await;
    assert_eq!(
        fay,
        json!({ "profile": { "settings": null, "pinned": [{ "text": "old", "pinnedAt": null, "audience": null }],
                "user": { "friends": null, "tags": null, "incomingFriendRequests": null } } })
    );
    let ann = app.ok(&token(&app, "ann").await, query, json!({})).await;
    assert_eq!(ann["profile"]["settings"], json!({ "visibleWindow": "ALL" }));
    assert_eq!(ann["profile"]["pinned"][0]["audience"], json!({ "mode": "PRIVATE" }));
    assert_eq!(
        ann["profile"]["user"]["friends"],
        json!([{ "handle": "fay" }, { "handle": "fox" }, { "handle": "hid" }])
    );
    assert!(ann["profile"]["pinned"][0]["pinnedAt"].is_string());
}

/// The feed's slice of time (the three days before where a page starts) changes no answer: two
/// moments exactly at the first page's slice start (the later-created first), one a second before
/// it, one in the first year RFC 3339 can write (a friend's window `ALL` has no start), and one
/// posted a minute ahead of the clock, in whole lists and across pages of every size.
#[tokio::test]
async fn the_feed_reads_across_its_slice_of_time_and_back_to_the_first_year() {
    let app = TestApp::spawn().await;
    // The tests' clock reads 2026-11-26T12:00Z: page 1's slice starts at 2026-11-23T12:00Z.
    app.import(
        r#"{"type":"user","handle":"ann","displayName":"Ann"}
{"type":"user","handle":"fay","displayName":"Fay"}
{"type":"friendship","users":["ann","fay"]}
{"type":"moment","ref":"a","author":"ann","text":"at the slice's start","postedAt":"2026-11-23T12:00:00Z"}
{"type":"moment","ref":"b","author":"ann","text":"a second before it","postedAt":"2026-11-23T11:59:59Z"}
{"type":"moment","ref":"c","author":"fay","text":"fay's, the same second","postedAt":"2026-11-23T12:00:00Z"}
{"type":"moment","ref":"d","author":"ann","text":"in year 0","postedAt":"0000-06-01T00:00:00Z"}
{"type":"moment","ref":"e","author":"ann","text":"ahead of the clock","postedAt":"2026-11-26T12:01:00Z"}"#,
    )
    .await;
    let all = strs(&[
        "ahead of the clock",
        "fay's, the same second",
        "at the slice's start",
        "a second before it",
        "in year 0",
    ]);
    assert_eq!(feed(&app, "fay").await, all);
    let fay = token(&app, "fay").await;
    for first in [1, 2, 3] {
        let (mut read, mut after) = (Vec::new(), Value::Null);
        loop {
            let data = app
                .ok(
                    &fay,
                    "query($k: Int!, $a: String) { feed(first: $k, after: $a) { nodes { text } pageInfo { hasNextPage endCursor } } }",
                    json!({ "k": first, "a": after }),
                )
                .await;
            read.extend(texts(&data["feed"]["nodes"]));
            if data["feed"]["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = data["feed"]["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(read, all, "pages of {first}");
    }
}
