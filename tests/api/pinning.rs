//! One test per pinning rule (docs/rules.md §3, P1–P11) with the whole answer, and the races.

use chrono::{Duration, TimeZone, Utc};
use moments::ids::{self, NodeKind};
use rules::pinning::rollout_bucket;
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_now, texts};

/// `ann` (author) and `fay` (friend) with moments of every kind and age, posted before the tests'
/// now (2026-11-26T12:00Z); `sam` is a stranger.
const WORLD: &str = r#"{"type":"user","handle":"ann","displayName":"Ann"}
{"type":"user","handle":"fay","displayName":"Fay"}
{"type":"user","handle":"sam","displayName":"Sam"}
{"type":"friendship","users":["ann","fay"]}
{"type":"moment","ref":"pics","author":"ann","text":"pics","images":[{"url":"https://img.example/1.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"clip","author":"ann","text":"clip","video":{"url":"https://img.example/v.mp4"},"postedAt":"2026-11-10T08:00:00Z"}
{"type":"moment","ref":"words","author":"ann","text":"words","postedAt":"2026-11-21T08:00:00Z"}
{"type":"moment","ref":"link","author":"ann","text":"link","article":{"url":"https://news.example/x","title":"X"},"postedAt":"2026-11-22T08:00:00Z"}
{"type":"moment","ref":"secret","author":"ann","text":"secret","images":[{"url":"https://img.example/2.jpg"}],"postedAt":"2026-11-19T08:00:00Z","audience":{"mode":"PRIVATE"}}
{"type":"moment","ref":"edge","author":"ann","text":"edge","images":[{"url":"https://img.example/3.jpg"}],"postedAt":"2026-05-26T12:00:00Z"}
{"type":"moment","ref":"ancient","author":"ann","text":"ancient","images":[{"url":"https://img.example/4.jpg"}],"postedAt":"2026-05-26T11:59:59Z"}
{"type":"moment","ref":"fays","author":"fay","text":"fays","images":[{"url":"https://img.example/5.jpg"}],"postedAt":"2026-11-23T08:00:00Z"}
"#;

const PIN: &str = "mutation($id: ID!) { pin(momentId: $id) { moment { text isPinned pinnedAt } } }";
const UNPIN: &str = "mutation($id: ID!) { unpin(momentId: $id) { moment { text isPinned pinnedAt } } }";

struct World {
    app: TestApp,
}

impl World {
    async fn new() -> Self {
        Self::with(|_| {}).await
    }

    async fn with(adjust: impl FnOnce(&mut moments::config::Config)) -> Self {
        let app = TestApp::spawn_with(adjust).await;
        app.import(WORLD).await;
        Self { app }
    }

    async fn token(&self, handle: &str) -> String {
        self.app.token(self.app.id_of(handle).await)
    }

    /// The global id of the moment with this text.
    async fn id(&self, text: &str) -> String {
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
        let row = store::entity::moments::Entity::find()
            .filter(store::entity::moments::Column::Text.eq(text))
            .one(&self.app.services.db.read)
            .await
            .unwrap()
            .unwrap();
        ids::encode(NodeKind::Moment, row.id)
    }

    async fn pin(&self, who: &str, text: &str) -> Value {
        let id = self.id(text).await;
        self.app.gql(Some(&self.token(who).await), PIN, json!({ "id": id })).await
    }

    async fn unpin(&self, who: &str, text: &str) -> Value {
        let id = self.id(text).await;
        self.app.gql(Some(&self.token(who).await), UNPIN, json!({ "id": id })).await
    }

    async fn pinned(&self, viewer: &str, author: &str) -> Vec<String> {
        let data = self
            .app
            .ok(
                &self.token(viewer).await,
                "query($h: String!) { profile(handle: $h) { pinned { text } } }",
                json!({ "h": author }),
            )
            .await;
        texts(&data["profile"]["pinned"])
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("no error")
}

fn pinned_ok(body: &Value, text: &str) -> String {
    assert!(body.get("errors").is_none(), "{body:#}");
    let moment = &body["data"]["pin"]["moment"];
    assert_eq!((moment["text"].as_str(), moment["isPinned"].as_bool()), (Some(text), Some(true)), "{body:#}");
    moment["pinnedAt"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn p1_only_the_author_pins_forbidden_when_visible_not_found_otherwise() {
    let w = World::new().await;
    let body = w.pin("fay", "pics").await;
    assert_eq!(
        (code(&body), body["errors"][0]["message"].as_str().unwrap()),
        ("FORBIDDEN", "only the author can do this to a moment")
    );
    let body = w.pin("fay", "secret").await;
    assert_eq!(
        (code(&body), body["errors"][0]["message"].as_str().unwrap()),
        ("NOT_FOUND", "momentId: no moment with this id")
    );
    let missing =
        w.app.gql(Some(&w.token("ann").await), PIN, json!({ "id": ids::encode(NodeKind::Moment, 9_999) })).await;
    assert_eq!(missing["errors"][0]["message"], body["errors"][0]["message"], "invisible and missing read the same");
    assert_eq!(code(&w.unpin("fay", "pics").await), "FORBIDDEN");
    assert_eq!(code(&w.unpin("sam", "pics").await), "NOT_FOUND");
    assert_eq!(w.app.rows("pins").await, 0);
    pinned_ok(&w.pin("ann", "pics").await, "pics");
    assert_eq!(w.pinned("fay", "ann").await, ["pics"]);
}

#[tokio::test]
async fn p2_text_and_articles_cannot_be_pinned_pictures_and_video_can() {
    let w = World::new().await;
    for text in ["words", "link"] {
        let body = w.pin("ann", text).await;
        assert_eq!(code(&body), "PIN_UNSUPPORTED_KIND");
        assert_eq!(
            body["errors"][0]["message"],
            "only moments with pictures or a video can be pinned; text and articles cannot"
        );
    }
    pinned_ok(&w.pin("ann", "pics").await, "pics");
    pinned_ok(&w.pin("ann", "clip").await, "clip");
    assert_eq!(w.pinned("ann", "ann").await, ["pics", "clip"]);
}

#[tokio::test]
async fn p3_only_the_last_six_calendar_months_and_a_pin_stays_as_its_moment_ages() {
    let w = World::new().await;
    assert_eq!(code(&w.pin("ann", "ancient").await), "PIN_TOO_OLD");
    pinned_ok(&w.pin("ann", "edge").await, "edge");
    // A year later the pin is still there, and pinning again is still fine (P6).
    w.app.clock.set(test_now() + Duration::days(365));
    assert_eq!(w.pinned("ann", "ann").await, ["edge"]);
    assert_eq!(w.pinned("fay", "ann").await, ["edge"]);
    pinned_ok(&w.pin("ann", "edge").await, "edge");
    assert_eq!(code(&w.pin("ann", "pics").await), "PIN_TOO_OLD");
}

#[tokio::test]
async fn p4_rollout_lets_the_allowlist_pin_and_others_keep_and_unpin_their_pins() {
    // fay pinned before the rollout shrank to 0% with only ann allowed.
    let w = World::with(|c| {
        c.pin_rollout_percent = 0;
        c.pin_allowlist = vec!["ann".into()];
    })
    .await;
    w.app.import(r#"{"type":"moment","ref":"old pin","author":"fay","text":"old pin","images":[{"url":"https://img.example/9.jpg"}],"postedAt":"2026-11-01T08:00:00Z"}
{"type":"pin","moment":"old pin"}"#).await;
    pinned_ok(&w.pin("ann", "pics").await, "pics");
    let body = w.pin("fay", "fays").await;
    assert_eq!(
        (code(&body), body["errors"][0]["message"].as_str().unwrap()),
        ("PINNING_NOT_ENABLED", "pinning is not available to you yet")
    );
    assert_eq!(w.pinned("ann", "fay").await, ["old pin"], "fay keeps her pin");
    let enabled = w
        .app
        .ok(
            &w.token("fay").await,
            r#"{ ann: user(handle: "ann") { pinningEnabled } fay: user(handle: "fay") { pinningEnabled } }"#,
            json!({}),
        )
        .await;
    assert_eq!(enabled, json!({ "ann": { "pinningEnabled": true }, "fay": { "pinningEnabled": false } }));
    let body = w.unpin("fay", "old pin").await;
    assert_eq!(body["data"]["unpin"]["moment"], json!({ "text": "old pin", "isPinned": false, "pinnedAt": null }));
    assert_eq!(w.pinned("ann", "fay").await, Vec::<String>::new());
}

#[tokio::test]
async fn p4_the_bucket_decides_at_a_partial_rollout() {
    let w = World::with(|c| c.pin_rollout_percent = 50).await;
    let mut lines = Vec::new();
    for i in 0..24 {
        lines.push(format!(r#"{{"type":"user","handle":"user{i:02}","displayName":"U"}}"#));
        lines.push(format!(
            r#"{{"type":"moment","ref":"r{i}","author":"user{i:02}","text":"m{i}","images":[{{"url":"https://img.example/{i}.jpg"}}],"postedAt":"2026-11-20T08:00:00Z"}}"#
        ));
    }
    w.app.import(&lines.join("\n")).await;
    let (mut allowed, mut refused) = (0, 0);
    for i in 0..24 {
        let handle = format!("user{i:02}");
        let id = w.app.id_of(&handle).await;
        let body = w.pin(&handle, &format!("m{i}")).await;
        if rollout_bucket(id) < 50 {
            pinned_ok(&body, &format!("m{i}"));
            allowed += 1;
        } else {
            assert_eq!(code(&body), "PINNING_NOT_ENABLED");
            refused += 1;
        }
    }
    assert!(allowed > 0 && refused > 0, "24 users should fall on both sides: {allowed} / {refused}");
}

#[tokio::test]
async fn p5_an_operator_limit_refuses_the_next_pin_and_shows_itself() {
    let w = World::with(|c| c.pin_limit = Some(2)).await;
    pinned_ok(&w.pin("ann", "pics").await, "pics");
    pinned_ok(&w.pin("ann", "clip").await, "clip");
    let body = w.pin("ann", "edge").await;
    assert_eq!(
        (code(&body), body["errors"][0]["message"].as_str().unwrap()),
        ("PIN_LIMIT_REACHED", "you have reached the limit of 2 pinned moments; unpin one first")
    );
    let limit = w.app.ok(&w.token("fay").await, r#"{ profile(handle: "ann") { pinLimit } }"#, json!({})).await;
    assert_eq!(limit, json!({ "profile": { "pinLimit": 2 } }));
    // Pinning one already pinned is no new pin; unpinning makes room.
    pinned_ok(&w.pin("ann", "pics").await, "pics");
    w.unpin("ann", "clip").await;
    pinned_ok(&w.pin("ann", "edge").await, "edge");
    assert_eq!(w.pinned("ann", "ann").await, ["pics", "edge"]);
    let unlimited = World::new().await;
    let none =
        unlimited.app.ok(&unlimited.token("fay").await, r#"{ profile(handle: "ann") { pinLimit } }"#, json!({})).await;
    assert_eq!(none, json!({ "profile": { "pinLimit": null } }));
}

#[tokio::test]
async fn p6_pin_and_unpin_are_idempotent_and_keep_the_first_pinned_at() {
    let w = World::new().await;
    let first = pinned_ok(&w.pin("ann", "pics").await, "pics");
    assert_eq!(first, "2026-11-26T12:00:00.000000Z");
    w.app.clock.set(test_now() + Duration::hours(5));
    assert_eq!(pinned_ok(&w.pin("ann", "pics").await, "pics"), first);
    assert_eq!(w.app.rows("pins").await, 1);
    for _ in 0..2 {
        let body = w.unpin("ann", "clip").await;
        assert_eq!(
            body,
            json!({ "data": { "unpin": { "moment": { "text": "clip", "isPinned": false, "pinnedAt": null } } } })
        );
    }
}

#[tokio::test]
async fn p7_pinned_is_ordered_by_posting_time_never_by_pinning_time() {
    let w = World::new().await;
    for (hours, text) in [(0, "edge"), (1, "clip"), (2, "secret"), (3, "pics")] {
        w.app.clock.set(test_now() + Duration::hours(hours));
        pinned_ok(&w.pin("ann", text).await, text);
    }
    assert_eq!(w.pinned("ann", "ann").await, ["pics", "secret", "clip", "edge"]);
    assert_eq!(w.pinned("fay", "ann").await, ["pics", "clip", "edge"]);
    // Equal posting times: the moment created later comes first.
    w.app.import(r#"{"type":"moment","ref":"twin a","author":"ann","text":"twin a","images":[{"url":"https://img.example/a.jpg"}],"postedAt":"2026-11-25T08:00:00Z"}
{"type":"moment","ref":"twin b","author":"ann","text":"twin b","images":[{"url":"https://img.example/b.jpg"}],"postedAt":"2026-11-25T08:00:00Z"}"#).await;
    pinned_ok(&w.pin("ann", "twin b").await, "twin b");
    pinned_ok(&w.pin("ann", "twin a").await, "twin a");
    assert_eq!(w.pinned("fay", "ann").await, ["twin b", "twin a", "pics", "clip", "edge"]);
}

#[tokio::test]
async fn p8_the_feed_shows_a_pinned_moment_only_where_its_time_puts_it() {
    let w = World::new().await;
    pinned_ok(&w.pin("ann", "clip").await, "clip");
    let data = w.app.ok(&w.token("fay").await, "{ feed(first: 100) { nodes { text isPinned } } }", json!({})).await;
    assert_eq!(
        data["feed"]["nodes"],
        json!([
            { "text": "fays", "isPinned": false },
            { "text": "link", "isPinned": false },
            { "text": "words", "isPinned": false },
            { "text": "pics", "isPinned": false },
            { "text": "clip", "isPinned": true },
            { "text": "edge", "isPinned": false },
            { "text": "ancient", "isPinned": false },
        ])
    );
}

#[tokio::test]
async fn p9_the_timeline_keeps_pinned_moments_in_place_unless_excluded() {
    let w = World::new().await;
    pinned_ok(&w.pin("ann", "clip").await, "clip");
    pinned_ok(&w.pin("ann", "edge").await, "edge");
    let query = r#"{ profile(handle: "ann") { all: timeline { nodes { text isPinned } } rest: timeline(excludePinned: true) { nodes { text } } } }"#;
    let data = w.app.ok(&w.token("fay").await, query, json!({})).await;
    assert_eq!(
        data["profile"]["all"]["nodes"],
        json!([
            { "text": "link", "isPinned": false },
            { "text": "words", "isPinned": false },
            { "text": "pics", "isPinned": false },
            { "text": "clip", "isPinned": true },
            { "text": "edge", "isPinned": true },
            { "text": "ancient", "isPinned": false },
        ])
    );
    assert_eq!(texts(&data["profile"]["rest"]["nodes"]), ["link", "words", "pics", "ancient"]);
}

#[tokio::test]
async fn p10_unpinning_is_always_allowed_to_the_author_and_deleting_removes_the_pin() {
    let w = World::with(|c| {
        c.pin_rollout_percent = 0;
        c.pin_limit = Some(0);
    })
    .await;
    // An old pin from before: the moment has since grown older than six months.
    {
        use sea_orm::{ActiveValue::Set, EntityTrait as _};
        let moment = ids::decode(&w.id("ancient").await).unwrap().1;
        let author = w.app.id_of("ann").await;
        let posted_at = store::entity::moments::Entity::find_by_id(moment)
            .one(&w.app.services.db.read)
            .await
            .unwrap()
            .unwrap()
            .posted_at;
        store::entity::pins::Entity::insert(store::entity::pins::ActiveModel {
            moment_id: Set(moment),
            author_id: Set(author),
            pinned_at: Set(Utc.with_ymd_and_hms(2026, 5, 27, 8, 0, 0).unwrap()),
            posted_at: Set(posted_at),
        })
        .exec_without_returning(&w.app.services.db.write)
        .await
        .unwrap();
    }
    w.app.import(r#"{"type":"moment","ref":"x","author":"ann","text":"to delete","images":[{"url":"https://img.example/x.jpg"}],"postedAt":"2026-11-01T08:00:00Z"}
{"type":"pin","moment":"x"}"#).await;
    assert_eq!(w.pinned("fay", "ann").await, ["to delete", "ancient"]);
    // Not enabled, over the limit, and too old: unpinning still works.
    let body = w.unpin("ann", "ancient").await;
    assert_eq!(body["data"]["unpin"]["moment"]["isPinned"], false, "{body:#}");
    let id = w.id("to delete").await;
    w.app
        .ok(
            &w.token("ann").await,
            "mutation($id: ID!) { deleteMoment(id: $id) { deletedMomentId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(w.pinned("ann", "ann").await, Vec::<String>::new());
    assert_eq!(w.app.rows("pins").await, 0);
}

#[tokio::test]
async fn p11_every_reason_a_moment_cannot_be_pinned_is_listed() {
    let w = World::with(|c| c.pin_limit = Some(1)).await;
    pinned_ok(&w.pin("ann", "clip").await, "clip");
    let query =
        r#"{ profile(handle: "ann") { timeline(first: 100) { nodes { text viewerCanPin viewerCannotPinReasons } } } }"#;
    let own = w.app.ok(&w.token("ann").await, query, json!({})).await;
    assert_eq!(
        own["profile"]["timeline"]["nodes"],
        json!([
            { "text": "link", "viewerCanPin": false, "viewerCannotPinReasons": ["UNSUPPORTED_KIND", "LIMIT_REACHED"] },
            { "text": "words", "viewerCanPin": false, "viewerCannotPinReasons": ["UNSUPPORTED_KIND", "LIMIT_REACHED"] },
            { "text": "pics", "viewerCanPin": false, "viewerCannotPinReasons": ["LIMIT_REACHED"] },
            { "text": "secret", "viewerCanPin": false, "viewerCannotPinReasons": ["LIMIT_REACHED"] },
            { "text": "clip", "viewerCanPin": false, "viewerCannotPinReasons": ["ALREADY_PINNED", "LIMIT_REACHED"] },
            { "text": "edge", "viewerCanPin": false, "viewerCannotPinReasons": ["LIMIT_REACHED"] },
            { "text": "ancient", "viewerCanPin": false, "viewerCannotPinReasons": ["TOO_OLD", "LIMIT_REACHED"] },
        ])
    );
    let friend = w.app.ok(&w.token("fay").await, query, json!({})).await;
    assert_eq!(
        friend["profile"]["timeline"]["nodes"][0],
        json!({ "text": "link", "viewerCanPin": false, "viewerCannotPinReasons": ["NOT_AUTHOR", "UNSUPPORTED_KIND"] })
    );
    let fays = w
        .app
        .ok(
            &w.token("fay").await,
            r#"{ profile(handle: "fay") { timeline { nodes { viewerCanPin viewerCannotPinReasons } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(fays["profile"]["timeline"]["nodes"], json!([{ "viewerCanPin": true, "viewerCannotPinReasons": [] }]));
}

async fn concurrently(app: &TestApp, token: &str, ops: Vec<(&'static str, String)>) -> Vec<Value> {
    let mut tasks = Vec::new();
    for (query, id) in ops {
        let router = app.router.clone();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            use axum::{
                body::Body,
                http::{Request, header},
            };
            use http_body_util::BodyExt as _;
            use tower::ServiceExt as _;
            let request = Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(json!({ "query": query, "variables": { "id": id } }).to_string()))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_pins_and_unpins_of_one_moment_leave_zero_or_one_pin_and_no_error() {
    let w = World::new().await;
    let id = w.id("pics").await;
    let ops = (0..40).map(|i| (if i % 2 == 0 { PIN } else { UNPIN }, id.clone())).collect();
    let answers = concurrently(&w.app, &w.token("ann").await, ops).await;
    for a in &answers {
        assert!(a.get("errors").is_none(), "{a:#}");
    }
    let pins = w.app.rows("pins").await;
    assert!(pins <= 1, "{pins} pins");
    let shown = w.pinned("ann", "ann").await;
    assert_eq!(shown, if pins == 1 { vec!["pics".to_owned()] } else { vec![] });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_pins_of_one_moment_both_succeed_with_one_row() {
    let w = World::new().await;
    let id = w.id("clip").await;
    let answers = concurrently(&w.app, &w.token("ann").await, vec![(PIN, id.clone()), (PIN, id)]).await;
    let at: Vec<&Value> = answers.iter().map(|a| &a["data"]["pin"]["moment"]["pinnedAt"]).collect();
    assert!(answers.iter().all(|a| a.get("errors").is_none()), "{answers:#?}");
    assert_eq!(at[0], at[1], "both see the one pin");
    assert_eq!(w.app.rows("pins").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_limit_holds_under_concurrent_pins_of_different_moments() {
    let w = World::with(|c| c.pin_limit = Some(3)).await;
    let mut lines = Vec::new();
    for i in 0..40 {
        lines.push(format!(
            r#"{{"type":"moment","ref":"c{i}","author":"ann","text":"c{i}","images":[{{"url":"https://img.example/c{i}.jpg"}}],"postedAt":"2026-11-2{}T08:00:00Z"}}"#,
            i % 5
        ));
    }
    w.app.import(&lines.join("\n")).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(w.id(&format!("c{i}")).await);
    }
    let token = w.token("ann").await;
    for round in 0..5 {
        let answers = concurrently(&w.app, &token, ids.iter().map(|id| (PIN, id.clone())).collect()).await;
        let ok = answers.iter().filter(|a| a.get("errors").is_none()).count();
        let refused = answers.iter().filter(|a| code(a) == "PIN_LIMIT_REACHED").count();
        assert_eq!((ok, refused), (3, 37), "round {round}: {answers:#?}");
        assert_eq!(w.app.rows("pins").await, 3, "round {round}");
        let answers = concurrently(&w.app, &token, ids.iter().map(|id| (UNPIN, id.clone())).collect()).await;
        assert!(answers.iter().all(|a| a.get("errors").is_none()), "round {round}: {answers:#?}");
        assert_eq!(w.app.rows("pins").await, 0, "round {round}");
    }
}
