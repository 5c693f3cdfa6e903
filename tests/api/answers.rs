//! Answers as the GraphQL spec writes them, compared as whole texts, byte for byte: failed fields
//! are `null` with their error, a `null` in a non-null place nulls the nearest nullable parent, and
//! keys come in selection-set order. Each operation runs 50 times, since the fields of an object
//! finish in whatever order the database answers.

use serde_json::json;

use crate::helpers::TestApp;

/// `ann` with three moments (the oldest pinned) and her friend `fay`.
const WORLD: &str = r#"{"type":"user","handle":"ann","displayName":"Ann"}
{"type":"user","handle":"fay","displayName":"Fay"}
{"type":"friendship","users":["ann","fay"]}
{"type":"moment","ref":"one","author":"ann","text":"one","images":[{"url":"https://img.example/1.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"two","author":"ann","text":"two","postedAt":"2026-11-21T08:00:00Z"}
{"type":"moment","ref":"three","author":"ann","text":"three","postedAt":"2026-11-22T08:00:00.250Z"}
{"type":"pin","moment":"one","pinnedAt":"2026-11-23T08:00:00Z"}
"#;

async fn world() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.import(WORLD).await;
    let token = app.token(app.id_of("ann").await);
    (app, token)
}

/// Runs `query` 50 times as `token` and checks the whole body each time.
async fn answers(app: &TestApp, token: &str, query: &str, expected: &str) {
    for run in 0..50 {
        let (status, _, body) = app.post_raw(Some(token), None, &json!({ "query": query })).await;
        assert_eq!(status, 200, "run {run}: {body}");
        assert_eq!(body, expected, "run {run}");
    }
}

#[tokio::test]
async fn keys_follow_the_selection_set_with_aliases_fragments_and_typenames() {
    let (app, token) = world().await;
    let one = moments::ids::encode(moments::ids::NodeKind::Moment, 1);
    let query = format!(
        r#"{{ z: viewer {{ __typename handle a: displayName }}
             profile(handle: "ann") {{ __typename ...Page user {{ handle }} }}
             node(id: "{one}") {{ ... on User {{ handle }} ... on Moment {{ postedAt text }} __typename id }} }}
           fragment Page on Profile {{ pinned {{ text kind __typename postedAt }} timeline(first: 2) {{ nodes {{ text }} pageInfo {{ hasNextPage }} }} }}"#
    );
    let expected = format!(
        concat!(
            r#"{{"data":{{"z":{{"__typename":"User","handle":"ann","a":"Ann"}},"#,
            r#""profile":{{"__typename":"Profile","pinned":[{{"text":"one","kind":"IMAGES","__typename":"Moment","postedAt":"2026-11-20T08:00:00.000000Z"}}],"#,
            r#""timeline":{{"nodes":[{{"text":"three"}},{{"text":"two"}}],"pageInfo":{{"hasNextPage":true}}}},"user":{{"handle":"ann"}}}},"#,
            r#""node":{{"postedAt":"2026-11-20T08:00:00.000000Z","text":"one","__typename":"Moment","id":"{one}"}}}}}}"#
        ),
        one = one
    );
    answers(&app, &token, &query, &expected).await;
}

#[tokio::test]
async fn a_failed_nullable_root_field_is_null_beside_the_others() {
    let (app, token) = world().await;
    answers(
        &app,
        &token,
        r#"{ viewer { handle } moment(id: "garbage") { id } }"#,
        concat!(
            r#"{"errors":[{"message":"id: \"garbage\" is not a valid id","locations":[{"line":1,"column":21}],"#,
            r#""path":["moment"],"extensions":{"code":"BAD_USER_INPUT"}}],"data":{"viewer":{"handle":"ann"},"moment":null}}"#
        ),
    )
    .await;
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nullable_parent() {
    let (app, token) = world().await;
    answers(
        &app,
        &token,
        r#"{ profile(handle: "ann") { user { handle } timeline(after: "bad") { nodes { text } } } viewer { handle } }"#,
        concat!(
            r#"{"errors":[{"message":"after: this cursor is not valid for this list","locations":[{"line":1,"column":44}],"#,
            r#""path":["profile","timeline"],"extensions":{"code":"BAD_USER_INPUT"}}],"data":{"profile":null,"viewer":{"handle":"ann"}}}"#
        ),
    )
    .await;
}

#[tokio::test]
async fn a_non_null_chain_to_the_root_nulls_data() {
    let (app, token) = world().await;
    answers(
        &app,
        &token,
        r#"{ viewer { handle profile { timeline(after: "bad") { nodes { text } } } } }"#,
        concat!(
            r#"{"errors":[{"message":"after: this cursor is not valid for this list","locations":[{"line":1,"column":29}],"#,
            r#""path":["viewer","profile","timeline"],"extensions":{"code":"BAD_USER_INPUT"}}],"data":null}"#
        ),
    )
    .await;
}

#[tokio::test]
async fn errors_inside_list_items_null_each_item_field_in_order() {
    let (app, token) = world().await;
    let error = |i: usize| {
        format!(
            r#"{{"message":"first: must be between 0 and 100, got 1000","locations":[{{"line":1,"column":61}}],"path":["profile","timeline","nodes",{i},"author","friends"],"extensions":{{"code":"BAD_USER_INPUT"}}}}"#
        )
    };
    let expected = format!(
        r#"{{"errors":[{},{},{}],"data":{{"profile":{{"timeline":{{"nodes":[{},{},{}]}}}}}}}}"#,
        error(0),
        error(1),
        error(2),
        r#"{"text":"three","author":{"friends":null}}"#,
        r#"{"text":"two","author":{"friends":null}}"#,
        r#"{"text":"one","author":{"friends":null}}"#,
    );
    answers(
        &app,
        &token,
        r#"{ profile(handle: "ann") { timeline { nodes { text author { friends(first: 1000) { handle } } } } } }"#,
        &expected,
    )
    .await;
}

#[tokio::test]
async fn non_null_errors_in_list_items_null_the_nearest_nullable_ancestor() {
    let (app, token) = world().await;
    let error = |i: usize| {
        format!(
            r#"{{"message":"after: this cursor is not valid for this list","locations":[{{"line":1,"column":84}}],"path":["profile","timeline","nodes",{i},"author","profile","timeline"],"extensions":{{"code":"BAD_USER_INPUT"}}}}"#
        )
    };
    let expected = format!(
        r#"{{"errors":[{},{},{}],"data":{{"viewer":{{"handle":"ann"}},"profile":null}}}}"#,
        error(0),
        error(1),
        error(2)
    );
    answers(
        &app,
        &token,
        r#"{ viewer { handle } profile(handle: "ann") { timeline { nodes { author { profile { timeline(after: "x") { nodes { text } } } } } } } }"#,
        &expected,
    )
    .await;
}

#[tokio::test]
async fn errors_under_aliases_and_fragments_point_at_the_aliases() {
    let (app, token) = world().await;
    answers(
        &app,
        &token,
        concat!(
            r#"query { me: viewer { ...Who } page: profile(handle: "ann") { ...Page } } "#,
            r#"fragment Who on User { name: displayName handle } "#,
            r#"fragment Page on Profile { owner: user { ...Who } bad: timeline(after: "x") { nodes { text } } }"#
        ),
        concat!(
            r#"{"errors":[{"message":"after: this cursor is not valid for this list","locations":[{"line":1,"column":174}],"#,
            r#""path":["page","bad"],"extensions":{"code":"BAD_USER_INPUT"}}],"data":{"me":{"name":"Ann","handle":"ann"},"page":null}}"#
        ),
    )
    .await;
}

#[tokio::test]
async fn a_profile_has_one_identity_and_pin_payloads_carry_it() {
    let (app, token) = world().await;
    let ann = app.id_of("ann").await;
    let profile_id = moments::ids::encode(moments::ids::NodeKind::Profile, ann);
    let data = app
        .ok(
            &token,
            r#"query($id: ID!) { profile(handle: "ann") { id } viewer { profile { id } } node(id: $id) { id ... on Profile { user { handle } } } }"#,
            json!({ "id": profile_id }),
        )
        .await;
    assert_eq!(
        data,
        json!({ "profile": { "id": profile_id }, "viewer": { "profile": { "id": profile_id } }, "node": { "id": profile_id, "user": { "handle": "ann" } } })
    );
    let posted = app
        .ok(
            &token,
            r#"mutation { postMoment(input: { text: "four", images: [{ url: "https://img.example/4.jpg" }] }) { moment { id } } }"#,
            json!({}),
        )
        .await;
    let four = posted["postMoment"]["moment"]["id"].as_str().unwrap().to_owned();
    let change = |verb: &str| {
        format!(
            "mutation($id: ID!) {{ {verb}(momentId: $id) {{ moment {{ text isPinned }} profile {{ id pinned {{ text }} }} }} }}"
        )
    };
    let (_, _, pinned) =
        app.post_raw(Some(&token), None, &json!({ "query": change("pin"), "variables": { "id": four } })).await;
    assert_eq!(
        pinned,
        format!(
            r#"{{"data":{{"pin":{{"moment":{{"text":"four","isPinned":true}},"profile":{{"id":"{profile_id}","pinned":[{{"text":"four"}},{{"text":"one"}}]}}}}}}}}"#
        )
    );
    let (_, _, unpinned) =
        app.post_raw(Some(&token), None, &json!({ "query": change("unpin"), "variables": { "id": four } })).await;
    assert_eq!(
        unpinned,
        format!(
            r#"{{"data":{{"unpin":{{"moment":{{"text":"four","isPinned":false}},"profile":{{"id":"{profile_id}","pinned":[{{"text":"one"}}]}}}}}}}}"#
        )
    );
}
