//! The answer rebuilt from small schemas: key order, nulls, propagation and error order.

use super::*;

const SDL: &str = r#"
    interface Node { id: ID! }
    type Query { a: A b: B! node: Node list: [B!] }
    type A implements Node { id: ID! x: Int y: Int! b: B }
    type B implements Node { id: ID! x: Int z: [Int!]! }
"#;

fn answer(query: &str, data: serde_json::Value, error_paths: &[&str]) -> String {
    let shapes = Shapes::from_sdl(SDL).unwrap();
    let mut request = async_graphql::Request::new(query);
    let prepared = shapes.prepare(&mut request);
    let mut response = Response::new(Value::from_json(data).unwrap());
    for path in error_paths {
        let mut error = ServerError::new(format!("failed at {path}"), None);
        error.path = path
            .split('/')
            .map(|s| s.parse().map_or_else(|_| PathSegment::Field(s.to_owned()), PathSegment::Index))
            .collect();
        response.errors.push(error);
    }
    serde_json::to_string(&shapes.answer(response, prepared.as_ref())).unwrap()
}

#[test]
fn keys_come_in_selection_order_with_fragments_merged() {
    let data = serde_json::json!({ "b": { "x": 1, "id": "b1" }, "a": { "y": 2, "id": "a1" } });
    assert_eq!(
        answer("{ a { ...F } b { id x } } fragment F on A { id y }", data, &[]),
        r#"{"data":{"a":{"id":"a1","y":2},"b":{"id":"b1","x":1}}}"#
    );
}

#[test]
fn a_failed_nullable_field_is_null_and_a_non_null_one_nulls_its_parent() {
    let data = serde_json::json!({ "a": { "id": "a1" } });
    assert_eq!(
        answer("{ a { id x y } }", data, &["a/y", "a/x"]),
        r#"{"errors":[{"message":"failed at a/x","path":["a","x"]},{"message":"failed at a/y","path":["a","y"]}],"data":{"a":null}}"#
    );
    assert_eq!(
        answer("{ a { id } b { x } }", serde_json::json!({ "a": { "id": "a1" } }), &["b/x"]),
        r#"{"errors":[{"message":"failed at b/x","path":["b","x"]}],"data":{"a":{"id":"a1"},"b":{"x":null}}}"#
    );
    assert_eq!(
        answer("{ b { z } a { id } }", serde_json::json!({ "a": { "id": "a1" } }), &["b/z"]),
        r#"{"errors":[{"message":"failed at b/z","path":["b","z"]}],"data":null}"#
    );
}

#[test]
fn an_object_whose_every_field_failed_keeps_its_nulls() {
    assert_eq!(
        answer("{ a { x } }", serde_json::Value::Null, &["a/x"]),
        r#"{"errors":[{"message":"failed at a/x","path":["a","x"]}],"data":{"a":{"x":null}}}"#
    );
}

#[test]
fn an_interface_answers_by_its_object_type() {
    let data = serde_json::json!({ "node": { "x": 3, "__moments_type": "B", "id": "b1" } });
    assert_eq!(
        answer("{ node { ... on A { x id } ... on B { id x } } }", data, &[]),
        r#"{"data":{"node":{"id":"b1","x":3}}}"#
    );
}

#[test]
fn skip_and_include_follow_their_variables() {
    let data = serde_json::json!({ "a": { "y": 1, "id": "a1" } });
    assert_eq!(
        answer("query($no: Boolean = false) { a { x @include(if: $no) y id @skip(if: $no) } }", data, &[]),
        r#"{"data":{"a":{"y":1,"id":"a1"}}}"#
    );
}

#[test]
fn a_list_item_in_error_nulls_the_list() {
    let data = serde_json::json!({ "a": { "id": "a1" } });
    assert_eq!(
        answer("{ list { id } a { id } }", data, &["list/1/id"]),
        r#"{"errors":[{"message":"failed at list/1/id","path":["list",1,"id"]}],"data":{"list":null,"a":{"id":"a1"}}}"#
    );
}

#[test]
fn an_operation_that_never_ran_has_no_data() {
    let shapes = Shapes::from_sdl(SDL).unwrap();
    let response = Response::from_errors(vec![ServerError::new("unknown field", None)]);
    assert_eq!(
        serde_json::to_string(&shapes.answer(response, None)).unwrap(),
        r#"{"errors":[{"message":"unknown field"}]}"#
    );
}

/// What the walk above is written against: async-graphql 7.2.1, pinned exactly in Cargo.toml. It
/// leaves a failed field's key out of its object (nullable or not) and keeps every other key; the
/// 8.0 release candidates instead null a whole parent, which the walk would read as fields that
/// succeeded with `null`. An upgrade that changes this fails here first.
#[tokio::test]
async fn the_executor_leaves_a_failed_field_out_and_keeps_its_siblings() {
    struct Query;
    struct Thing;
    #[async_graphql::Object]
    impl Query {
        async fn ok(&self) -> i32 {
            1
        }
        async fn fails(&self) -> async_graphql::Result<Option<i32>> {
            Err("no".into())
        }
        async fn thing(&self) -> Thing {
            Thing
        }
    }
    #[async_graphql::Object]
    impl Thing {
        async fn a(&self) -> i32 {
            2
        }
        async fn nullable(&self) -> async_graphql::Result<Option<i32>> {
            Err("no".into())
        }
        async fn required(&self) -> async_graphql::Result<i32> {
            Err("no".into())
        }
    }
    let schema = async_graphql::Schema::new(Query, async_graphql::EmptyMutation, async_graphql::EmptySubscription);
    let keys = |value: &Value| match value {
        Value::Object(map) => {
            let mut keys: Vec<String> = map.keys().map(|k| k.to_string()).collect();
            keys.sort();
            keys
        }
        other => panic!("not an object: {other:?}"),
    };
    let response = schema.execute("{ ok fails thing { a nullable required } }").await;
    assert_eq!(keys(&response.data), ["ok", "thing"], "the failed root field is left out, the others kept");
    let Value::Object(data) = &response.data else { unreachable!() };
    assert_eq!(keys(&data["thing"]), ["a"], "both failed fields left out, nullable or not; the parent kept");
    let mut paths: Vec<String> = response.errors.iter().map(|e| format!("{:?}", e.path)).collect();
    paths.sort();
    assert_eq!(paths.len(), 3, "{paths:?}");
}
