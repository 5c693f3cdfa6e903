//! The demo world: loaded once into an empty database, and the README's example queries answer
//! with it.

use moments::demo;
use serde_json::json;

use crate::helpers::{TestApp, texts};

#[tokio::test]
async fn the_demo_loads_into_an_empty_database_only_once() {
    let app = TestApp::spawn().await;
    let demo::DemoStart::Loaded(report) = demo::load_if_empty(&app.services).await.unwrap() else {
        panic!("not loaded into an empty database");
    };
    assert_eq!(report.to_string(), "5 users, 5 friendships, 1 tags, 3 settings, 13 moments, 4 pins");
    // The database is the demo's own from then on: used as it is, never loaded twice.
    let again = demo::load_if_empty(&app.services).await.unwrap();
    assert!(matches!(again, demo::DemoStart::Again { .. }), "{again:?}");
    assert_eq!(app.rows("moments").await, 13);
    assert!(demo::viewer_token(&app.services).await.unwrap().is_some());
}

#[tokio::test]
async fn a_database_with_users_of_its_own_is_never_taken_for_the_demo() {
    let app = TestApp::spawn().await;
    app.import(r#"{"type":"user","handle":"alice","displayName":"The real Alice"}"#).await;
    let start = demo::load_if_empty(&app.services).await.unwrap();
    assert!(matches!(start, demo::DemoStart::NotDemo), "{start:?}");
    assert_eq!((app.rows("users").await, app.rows("moments").await), (1, 0));
}

#[tokio::test]
async fn the_readme_queries_answer_on_the_demo_world() {
    let app = TestApp::spawn().await;
    demo::load_if_empty(&app.services).await.unwrap();
    let alice = app.token(app.id_of("alice").await);
    let bob = app.token(app.id_of("bob").await);
    let erin = app.token(app.id_of("erin").await);
    let dave = app.token(app.id_of("dave").await);

    // carol has a 3-day window; her pinned studio post is 40 days old and friends still see it.
    let carol = app
        .ok(&alice, r#"{ profile(handle: "carol") { pinned { text } timeline { nodes { text } } } }"#, json!({}))
        .await;
    assert_eq!(texts(&carol["profile"]["pinned"]), ["My studio, open for visits"]);
    assert_eq!(texts(&carol["profile"]["timeline"]["nodes"]), ["Busy week"]);

    // alice's private pinned moment is hers alone.
    let own = app.ok(&alice, r#"{ profile(handle: "alice") { pinned { text } } }"#, json!({})).await;
    assert_eq!(
        texts(&own["profile"]["pinned"]),
        ["Our shop's opening hours and how to reach us", "Notes to self: the new flat", "Graduation day"]
    );
    let seen_by_bob = app.ok(&bob, r#"{ profile(handle: "alice") { pinned { text } } }"#, json!({})).await;
    assert_eq!(
        texts(&seen_by_bob["profile"]["pinned"]),
        ["Our shop's opening hours and how to reach us", "Graduation day"]
    );

    // erin is a stranger to alice, who lets strangers see her public moments.
    let stranger = app.ok(&erin, r#"{ profile(handle: "alice") { timeline { nodes { text } } } }"#, json!({})).await;
    assert_eq!(
        texts(&stranger["profile"]["timeline"]["nodes"]),
        [
            "Back from the trip, more pictures soon!",
            "Morning walk by the river",
            "Our shop's opening hours and how to reach us"
        ]
    );
    // bob hides his moments from dave.
    let hidden = app.ok(&dave, r#"{ profile(handle: "bob") { timeline { nodes { text } } } }"#, json!({})).await;
    assert_eq!(hidden["profile"]["timeline"]["nodes"], json!([]));

    // A text moment cannot be pinned, and says why.
    let text_moment = app
        .ok(&alice, r#"{ profile(handle: "alice") { timeline(first: 1) { nodes { id text viewerCanPin viewerCannotPinReasons } } } }"#, json!({}))
        .await;
    let node = &text_moment["profile"]["timeline"]["nodes"][0];
    assert_eq!(node["text"], "Back from the trip, more pictures soon!");
    assert_eq!(
        (node["viewerCanPin"].clone(), node["viewerCannotPinReasons"].clone()),
        (json!(false), json!(["UNSUPPORTED_KIND"]))
    );
    let (code, _) = app
        .fails(
            Some(&alice),
            "mutation($id: ID!) { pin(momentId: $id) { moment { isPinned } } }",
            json!({ "id": node["id"] }),
        )
        .await;
    assert_eq!(code, "PIN_UNSUPPORTED_KIND");
}
