//! Statement counts: a page costs the same few statements whether it holds 1 moment or 100 —
//! authors, media and pin state come with the page, never one query per moment.

use chrono::{TimeZone as _, Utc};
use sea_orm::EntityTrait as _;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// `ann` with 150 picture moments (three pictures each) and 5 pins; `fay` is her friend.
async fn busy_profile(pin_limit: Option<u32>) -> TestApp {
    let app = TestApp::spawn_with(|c| c.pin_limit = pin_limit).await;
    let mut lines = vec![
        r#"{"type":"user","handle":"ann","displayName":"Ann"}"#.to_owned(),
        r#"{"type":"user","handle":"fay","displayName":"Fay"}"#.to_owned(),
        r#"{"type":"friendship","users":["ann","fay"]}"#.to_owned(),
    ];
    for i in 0..150 {
        lines.push(format!(
            r#"{{"type":"moment","ref":"m{i}","author":"ann","text":"m{i}","images":[{{"url":"https://img.example/{i}a.jpg","width":8,"height":6}},{{"url":"https://img.example/{i}b.jpg"}},{{"url":"https://img.example/{i}c.jpg"}}],"postedAt":"2026-{:02}-{:02}T08:00:00Z"}}"#,
            1 + i / 28,
            1 + i % 28
        ));
    }
    for i in [3, 40, 77, 120, 149] {
        lines.push(format!(r#"{{"type":"pin","moment":"m{i}"}}"#));
    }
    app.import(&lines.join("\n")).await;
    app
}

const PAGE: &str = r#"query($k: Int!) { profile(handle: "ann") {
    user { handle displayName }
    pinned { id text postedAt isPinned author { handle displayName } media { url width height } }
    timeline(first: $k) {
        edges { cursor node { id text kind postedAt isPinned author { handle displayName } media { url width height } } }
        pageInfo { hasNextPage endCursor }
    } } }"#;

async fn statements_of(app: &TestApp, token: &str, query: &str, k: usize) -> (usize, usize) {
    let before = app.statement_count();
    let data = app.ok(token, query, json!({ "k": k })).await;
    let listed = data["profile"]["timeline"]["edges"]
        .as_array()
        .map_or_else(|| data["feed"]["nodes"].as_array().map_or(0, Vec::len), Vec::len);
    (app.statement_count() - before, listed)
}

#[tokio::test]
async fn a_profile_page_costs_four_statements_for_1_or_100_moments() {
    let app = busy_profile(None).await;
    for viewer in ["fay", "ann"] {
        let token = app.token(app.id_of(viewer).await);
        let (one, listed_one) = statements_of(&app, &token, PAGE, 1).await;
        let (hundred, listed_hundred) = statements_of(&app, &token, PAGE, 100).await;
        assert_eq!((listed_one, listed_hundred), (1, 100));
        // The viewer (does the token's user exist?), the user with what the viewer may see of
        // them, the pinned block, the timeline page.
        assert_eq!((one, hundred), (4, 4), "statements for first:1 and first:100, as {viewer}");
    }
}

#[tokio::test]
async fn pin_state_and_reasons_cost_no_statement_per_moment_even_with_a_limit() {
    let app = busy_profile(Some(10)).await;
    let token = app.token(app.id_of("ann").await);
    let query = r#"query($k: Int!) { profile(handle: "ann") { pinLimit timeline(first: $k) { edges { node { isPinned pinnedAt viewerCanPin viewerCannotPinReasons } } } } }"#;
    let (one, _) = statements_of(&app, &token, query, 1).await;
    let (hundred, _) = statements_of(&app, &token, query, 100).await;
    // The viewer, the user and access, the page, and the viewer's pin count for the limit (once per
    // request).
    assert_eq!((one, hundred), (4, 4));
}

#[tokio::test]
async fn a_feed_page_costs_the_same_for_1_or_100_moments() {
    let app = busy_profile(None).await;
    let token = app.token(app.id_of("fay").await);
    let query = "query($k: Int!) { feed(first: $k) { nodes { id text isPinned author { handle isFriend } media { url } } pageInfo { hasNextPage } } }";
    let (one, listed_one) = statements_of(&app, &token, query, 1).await;
    let (hundred, listed_hundred) = statements_of(&app, &token, query, 100).await;
    assert_eq!((listed_one, listed_hundred), (1, 100));
    assert_eq!(one, hundred);
    // The viewer; the page's slice (the days before where it starts); then, as ann's newest
    // moment is months old, the rest of the page from before the slice. The friends, their
    // windows and hides, the authors and whether they are friends are read inside each.
    assert_eq!(hundred, 3);

    // A day after ann's newest moment (2026-06-10), three of hers are in the slice: a page of two
    // is filled by it, one statement less; a page of five needs the rest from before it.
    app.clock.set(Utc.with_ymd_and_hms(2026, 6, 11, 0, 0, 0).unwrap());
    let token = app.token(app.id_of("fay").await);
    assert_eq!(statements_of(&app, &token, query, 2).await, (2, 2));
    assert_eq!(statements_of(&app, &token, query, 5).await, (3, 5));
}

#[tokio::test]
async fn a_moment_by_id_is_one_statement_whether_visible_invisible_or_missing() {
    let app = TestApp::spawn().await;
    app.import(
        r#"{"type":"user","handle":"ann","displayName":"Ann"}
{"type":"user","handle":"sam","displayName":"Sam"}
{"type":"settings","user":"ann","strangersCanView":true}
{"type":"moment","ref":"public","author":"ann","text":"public","postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"private","author":"ann","text":"private","postedAt":"2026-11-19T08:00:00Z","audience":{"mode":"PRIVATE"}}"#,
    )
    .await;
    let sam = app.token(app.id_of("sam").await);
    let ann = app.token(app.id_of("ann").await);
    let ids = app.ok(&ann, r#"{ profile(handle: "ann") { timeline { nodes { id } } } }"#, json!({})).await;
    let public = ids["profile"]["timeline"]["nodes"][0]["id"].clone();
    let private = ids["profile"]["timeline"]["nodes"][1]["id"].clone();
    let missing = json!(moments::ids::encode(moments::ids::NodeKind::Moment, 999_999));
    let query = "query($id: ID!) { moment(id: $id) { text } }";
    let mut costs = Vec::new();
    for (id, expected) in [(public, json!({ "text": "public" })), (private, json!(null)), (missing, json!(null))] {
        let before = app.statement_count();
        assert_eq!(app.ok(&sam, query, json!({ "id": id })).await, json!({ "moment": expected }));
        costs.push(app.statement_count() - before);
    }
    // The viewer, then the moment with every fact the rules need: the same work for all three, so
    // the time taken does not tell an invisible moment from a missing one.
    assert_eq!(costs, [2, 2, 2]);
}

#[tokio::test]
async fn an_invisible_moment_is_decided_on_its_facts_and_its_content_is_never_read() {
    let app = TestApp::spawn().await;
    // A moment as large as input allows: the longest text and nine of the longest URLs.
    let text = "長".repeat(2_000);
    let images: Vec<Value> =
        (0..9).map(|i| json!({"url": format!("https://img.example/{}/{i}.jpg", "a".repeat(2_000))})).collect();
    let lines = [
        json!({"type": "user", "handle": "ann", "displayName": "Ann"}),
        json!({"type": "user", "handle": "fay", "displayName": "Fay"}),
        json!({"type": "user", "handle": "sam", "displayName": "Sam"}),
        json!({"type": "friendship", "users": ["ann", "fay"]}),
        json!({"type": "moment", "ref": "big", "author": "ann", "text": text, "images": images,
               "audience": {"mode": "INCLUDE", "users": ["fay"]}}),
    ];
    app.import(&lines.map(|l| l.to_string()).join("\n")).await;
    let (ann, fay, sam) = (app.id_of("ann").await, app.id_of("fay").await, app.id_of("sam").await);
    let db = &app.services.db.read;
    let big = store::entity::moments::Entity::find().one(db).await.unwrap().unwrap().id;
    let now = app.clock.now();
    // Its author and the friend it names read it whole.
    for viewer in [ann, fay] {
        let (record, _) = store::lists::moment_with_facts(db, viewer, big, now, true).await.unwrap().unwrap();
        assert_eq!((record.text.as_deref(), record.media.len()), (Some(text.as_str()), 9));
    }
    // A stranger gets the facts the rules decided on, and not one byte of what the moment says.
    let (record, facts) = store::lists::moment_with_facts(db, sam, big, now, true).await.unwrap().unwrap();
    assert_eq!(facts.relation, rules::visibility::Relation::Stranger);
    assert_eq!((record.text, record.article, record.media.len()), (None, None, 0));
    assert!(!rules::visibility::moment_visible(&facts, now));
}
