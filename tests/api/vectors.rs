//! The shared visibility vectors (copied into `tests/vectors/`): worlds whose every listing was computed by an independent
//! implementation of docs/rules.md §2. Each world is imported at its `now`, then every listing the API
//! gives is compared with the vector's answer — and with our own reference, so a disagreement
//! tells which side is wrong.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{helpers::TestApp, reference_from_import, world::name_of};

fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/visibility")
}

fn refs(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(name_of).collect()
}

fn expected(entry: &Value, at: usize) -> Vec<String> {
    entry[at].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect()
}

async fn whole_feed(app: &TestApp, token: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .ok(token, "query($a: String) { feed(first: 100, after: $a) { nodes { text } pageInfo { hasNextPage endCursor } } }", json!({ "a": after }))
            .await;
        out.extend(refs(&page["feed"]["nodes"]));
        if page["feed"]["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = page["feed"]["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn every_listing_matches_the_shared_vectors() {
    let mut files: Vec<_> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors/visibility is there")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "expected the shared worlds, found {}", files.len());
    for file in files {
        let world: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let now: DateTime<Utc> = world["now"].as_str().unwrap().parse().unwrap();
        let app = TestApp::spawn().await;
        app.clock.set(now);
        let lines: Vec<String> = world["records"].as_array().unwrap().iter().map(Value::to_string).collect();
        app.import(&lines.join("\n")).await;
        let reference = reference_from_import(&app, &lines).await;
        let name = file.file_name().unwrap().to_string_lossy().to_string();

        let mut tokens = HashMap::new();
        for user in world["records"].as_array().unwrap().iter().filter(|r| r["type"] == "user") {
            let handle = user["handle"].as_str().unwrap();
            tokens.insert(handle.to_owned(), app.token(app.id_of(handle).await));
        }
        let expect = &world["expect"];
        let lookup = |key: &str| -> HashMap<(String, String), Vec<String>> {
            expect[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| ((e[0].as_str().unwrap().to_owned(), e[1].as_str().unwrap().to_owned()), expected(e, 2)))
                .collect()
        };
        let (timeline, excluded, pinned) = (lookup("timeline"), lookup("timelineExcludePinned"), lookup("pinned"));
        for ((viewer, author), want) in &timeline {
            let page = app
                .ok(
                    &tokens[viewer],
                    r#"query($h: String!) { profile(handle: $h) {
                        timeline(first: 100) { nodes { text } }
                        excluded: timeline(first: 100, excludePinned: true) { nodes { text } }
                        pinned { text } } }"#,
                    json!({ "h": author }),
                )
                .await;
            let profile = &page["profile"];
            let what = format!("{name}: {viewer} looking at {author}");
            assert_eq!(&refs(&profile["timeline"]["nodes"]), want, "timeline, {what}");
            assert_eq!(
                &refs(&profile["excluded"]["nodes"]),
                &excluded[&(viewer.clone(), author.clone())],
                "excludePinned, {what}"
            );
            assert_eq!(&refs(&profile["pinned"]), &pinned[&(viewer.clone(), author.clone())], "pinned, {what}");
            assert_eq!(&reference.timeline(viewer, author, now, false), want, "our reference's timeline, {what}");
            assert_eq!(
                &reference.pinned(viewer, author),
                &pinned[&(viewer.clone(), author.clone())],
                "our reference's pinned, {what}"
            );
        }
        for entry in expect["feed"].as_array().unwrap() {
            let viewer = entry[0].as_str().unwrap();
            let want = expected(entry, 1);
            assert_eq!(whole_feed(&app, &tokens[viewer]).await, want, "{name}: feed of {viewer}");
            assert_eq!(reference.feed(viewer, now), want, "{name}: our reference's feed of {viewer}");
        }
        for entry in expect["visible"].as_array().unwrap() {
            let viewer = entry[0].as_str().unwrap();
            let mut want = expected(entry, 1);
            want.sort();
            let mut seen = reference.visible_by_moment_query(&app, &tokens[viewer]).await;
            seen.sort();
            assert_eq!(seen, want, "{name}: moment(id) for {viewer}");
            assert_eq!(reference.visible(viewer, now), want, "{name}: our reference's moment(id) for {viewer}");
        }
    }
}
