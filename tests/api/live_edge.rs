//! The live edge held to the bounds of the HTTP edge, against a real server process: an upgraded
//! socket keeps its connection's place, sockets that have not signed in are capped per client,
//! operations and events wait for the server's turns, a user's subscriptions share one budget, a
//! subscription is one stream, an id is freed only by its own operation, a change that changes
//! nothing tells no one anything, and closing is a handshake both ways.

use std::time::Duration;

use futures_util::StreamExt as _;
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{
    Message,
    client::IntoClientRequest as _,
    protocol::{CloseFrame, frame::coding::CloseCode},
};

use crate::{
    binary::{Server, token},
    helpers::{TestApp, on_postgres},
    socket::{Live, event, pin, removed, world_with, world_with_an_old_moment},
};

/// What a server answers a `GET /healthz` on a new connection within `patience`: the whole reply,
/// or nothing when it closed the connection, or `None` when it has not answered yet.
async fn health_reply(address: &str, patience: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let mut reply = Vec::new();
    match tokio::time::timeout(patience, stream.read_to_end(&mut reply)).await {
        Ok(_) => Some(String::from_utf8_lossy(&reply).into_owned()),
        Err(_) => None,
    }
}

/// Closes a socket from the client's side, and returns the close frame the server answers with.
async fn close_from_the_client(live: &mut Live) -> Option<(u16, String)> {
    let frame = CloseFrame { code: CloseCode::Normal, reason: "done".into() };
    live.socket.close(Some(frame)).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), live.socket.next()).await.ok()? {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| (f.code.into(), f.reason.to_string())),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

/// Polls `/healthz` on new connections until it answers 200 (the server gives a connection's place
/// back once its socket has closed).
async fn until_served(address: &str) {
    for _ in 0..250 {
        if health_reply(address, Duration::from_secs(5)).await.is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server never served another connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_socket_keeps_its_clients_place_until_it_closes() {
    let (app, server, _) = world_with(&[("MOMENTS_MAX_CONNECTIONS_PER_CLIENT", "3")]).await;
    let fay = token(&app.database_url, "fay");
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Live::init(&server, &fay).await);
    }
    // The address holds its three connections: a fourth is closed as it arrives, unanswered.
    assert_eq!(health_reply(&server.address, Duration::from_secs(5)).await.as_deref(), Some(""));
    let mut last = open.pop().unwrap();
    assert_eq!(close_from_the_client(&mut last).await, Some((1000, "done".to_owned())));
    until_served(&server.address).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_socket_keeps_its_slot_among_all_connections_until_it_closes() {
    let (app, server, _) = world_with(&[("MOMENTS_MAX_CONNECTIONS", "3")]).await;
    let fay = token(&app.database_url, "fay");
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Live::init(&server, &fay).await);
    }
    // Every slot is taken: a fourth connection waits in the listen queue, unanswered…
    let address = server.address.clone();
    let waiting = tokio::spawn(async move { health_reply(&address, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a fourth connection was served while three sockets held every slot");
    // …until a socket closes.
    let mut last = open.pop().unwrap();
    assert_eq!(close_from_the_client(&mut last).await, Some((1000, "done".to_owned())));
    let reply = waiting.await.unwrap().expect("served once a slot was free");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_have_not_signed_in_are_capped_per_client() {
    let (app, server, _) = world_with(&[]).await;
    let mut unsigned = Vec::new();
    for _ in 0..moments::MAX_WAITING_PER_CLIENT {
        unsigned.push(Live::connect(&server).await);
    }
    let upgrade = || {
        let mut request = format!("ws://{}/graphql", server.address).into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    let Err(tokio_tungstenite::tungstenite::Error::Http(refused)) = upgrade().await else {
        panic!("a ninth socket that has not signed in was upgraded");
    };
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "10");
    let body: Value = serde_json::from_slice(refused.body().as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"errors": [{"message": "too many WebSockets from this address have not sent connection_init yet (at most 8): try again in 10 s", "extensions": {"code": "RATE_LIMITED"}}]})
    );
    // Once one signs in, another may come.
    let fay = token(&app.database_url, "fay");
    unsigned[0].send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {fay}")}})).await;
    assert_eq!(unsigned[0].text().await, r#"{"type":"connection_ack"}"#);
    Live::init(&server, &fay).await;
}

/// The name PostgreSQL shows for the test's connections (the test database's `application_name`).
fn application_name(database_url: &str) -> String {
    database_url.split("application_name=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

/// Waits until one of the server's statements waits for a lock the test holds.
async fn until_a_statement_waits_for_a_lock(app: &TestApp) {
    until_statements_wait_for_a_lock(app, 1).await;
}

/// Waits until `n` of the server's statements wait for a lock the test holds.
async fn until_statements_wait_for_a_lock(app: &TestApp, n: i64) {
    let name = application_name(&app.database_url);
    let sql = format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = '{name}' AND wait_event_type = 'Lock'"
    );
    let admin = store::db::Db::connect(
        &std::env::var("MOMENTS_TEST_DATABASE_URL").unwrap(),
        store::db::PoolSettings::of_size(1),
    )
    .await
    .unwrap();
    for _ in 0..500 {
        let row = admin.read.query_one_raw(sea_orm::Statement::from_string(admin.backend(), sql.clone())).await;
        if row.unwrap().unwrap().try_get::<i64>("", "n").unwrap() >= n {
            admin.close().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} statements of the server wait for the lock");
}

/// `POST /graphql` on a connection of its own, answered whenever the server answers.
fn post_later(server: &Server, token: &str, query: &str) -> tokio::task::JoinHandle<String> {
    let (address, token) = (server.address.clone(), token.to_owned());
    let body = json!({ "query": query }).to_string();
    tokio::spawn(async move {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        crate::binary::read_reply(&mut stream).await.body
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_over_a_socket_wait_for_a_turn_as_http_requests_do() {
    if !on_postgres() {
        eprintln!("skipped on SQLite: the test holds the server's one turn with a PostgreSQL lock it can watch");
        return;
    }
    let (app, server, _) = world_with(&[("MOMENTS_MAX_CONCURRENT_REQUESTS", "1")]).await;
    let gus = token(&app.database_url, "gus");
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    // The test holds every row of `users`: the next HTTP request waits for it inside the one turn.
    let txn = app.services.db.write.begin().await.unwrap();
    txn.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let http = post_later(&server, &gus, "{ viewer { handle } }");
    until_a_statement_waits_for_a_lock(&app).await;
    // An operation over the socket that needs no database waits for the turn all the same.
    fay.start("q", "{ __typename }").await;
    assert_eq!(fay.sync().await, Vec::<String>::new());
    fay.silent().await;
    txn.rollback().await.unwrap();
    assert_eq!(http.await.unwrap(), r#"{"data":{"viewer":{"handle":"gus"}}}"#);
    assert_eq!(fay.text().await, r#"{"id":"q","type":"next","payload":{"data":{"__typename":"Query"}}}"#);
    assert_eq!(fay.text().await, r#"{"id":"q","type":"complete"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_flood_holds_at_most_its_share_of_the_turns_and_the_others_go_past() {
    if !on_postgres() {
        eprintln!("skipped on SQLite: the test holds a user's requests with a PostgreSQL row lock it can watch");
        return;
    }
    // One turn more than one user may hold, and one request of gus's more than that.
    let share = moments::turns_per_owner();
    let most = (share + 1).to_string();
    let env = [("MOMENTS_MAX_CONCURRENT_REQUESTS", most.as_str())];
    let (app, server, id_of) = world_with(&env).await;
    let (gus, fay) = (token(&app.database_url, "gus"), token(&app.database_url, "fay"));
    // Gus's pins wait for his row, which the test holds, each on a connection of its own.
    let txn = app.services.db.write.begin().await.unwrap();
    let gus_id = app.id_of("gus").await;
    txn.execute_unprepared(&format!("SELECT id FROM users WHERE id = {gus_id} FOR UPDATE")).await.unwrap();
    let pin = format!(r#"mutation {{ pin(momentId: "{}") {{ moment {{ id }} }} }}"#, id_of("more"));
    let blocked: Vec<_> = (0..=share).map(|_| post_later(&server, &gus, &pin)).collect();
    // His share holds turns and waits for the row; the one more waits in gus's own line, not for
    // a turn…
    until_statements_wait_for_a_lock(&app, share as i64).await;
    // …so a turn is left, and fay is answered while all of gus's wait.
    let answer =
        tokio::time::timeout(Duration::from_secs(10), post_later(&server, &fay, "{ viewer { handle } }")).await;
    assert_eq!(answer.expect("fay waited behind gus's flood").unwrap(), r#"{"data":{"viewer":{"handle":"fay"}}}"#);
    txn.rollback().await.unwrap();
    for request in blocked {
        let refused: Value = serde_json::from_str(&request.await.unwrap()).unwrap();
        assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_event_waits_for_a_turn_as_requests_do() {
    if !on_postgres() {
        eprintln!("skipped on SQLite: it takes a second server on one database, and a lock the test can watch");
        return;
    }
    let (app, one, id_of) = world_with(&[("MOMENTS_MAX_CONCURRENT_REQUESTS", "1")]).await;
    let other = Server::start(&app.database_url, &[]);
    let (ann, gus) = (token(&app.database_url, "ann"), token(&app.database_url, "gus"));
    let mut fay = Live::init(&one, &token(&app.database_url, "fay")).await;
    fay.subscribe("1", "ann").await;
    assert_eq!(fay.sync().await, Vec::<String>::new());
    // Gus's pin on the first server waits for his row, which the test holds, inside that server's
    // one turn.
    let txn = app.services.db.write.begin().await.unwrap();
    let gus_id = app.id_of("gus").await;
    txn.execute_unprepared(&format!("SELECT id FROM users WHERE id = {gus_id} FOR UPDATE")).await.unwrap();
    let blocked =
        post_later(&one, &gus, &format!(r#"mutation {{ pin(momentId: "{}") {{ moment {{ id }} }} }}"#, id_of("more")));
    until_a_statement_waits_for_a_lock(&app).await;
    // Ann pins through the other server: the first hears it, and its event waits for the turn.
    pin(&other, &ann, &id_of("public")).await;
    fay.silent().await;
    txn.rollback().await.unwrap();
    let refused: Value = serde_json::from_str(&blocked.await.unwrap()).unwrap();
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(fay.text().await, event("1", "PINNED", &id_of("public"), "public", true));
}

/// A subscription costing 12,602: four aliased timelines of 100 moments with their pictures under
/// the moment's author.
const HEAVY: &str = r#"subscription { profileChanged(handle: "ann") { moment { author { profile {
  a: timeline(first: 100) { nodes { text media { url width height } } }
  b: timeline(first: 100) { nodes { text media { url width height } } }
  c: timeline(first: 100) { nodes { text media { url width height } } }
  d: timeline(first: 100) { nodes { text media { url width height } } } } } } } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_live_subscriptions_share_one_budget_across_connections() {
    let (app, server, _) = world_with(&[]).await;
    let fay = token(&app.database_url, "fay");
    let (mut first, mut second) = (Live::init(&server, &fay).await, Live::init(&server, &fay).await);
    first.start("a", HEAVY).await;
    assert_eq!(first.sync().await, Vec::<String>::new(), "the first fits");
    second.start("b", HEAVY).await;
    assert_eq!(
        second.sync().await,
        [
            r#"{"id":"b","type":"error","payload":[{"message":"your live subscriptions may cost 20000 together and hold 12602 now; this one costs 12602: complete one first","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#
        ]
    );
    // Small ones fit beside it; once the heavy one completes, its cost is free again.
    second.subscribe("small", "ann").await;
    assert_eq!(second.sync().await, Vec::<String>::new());
    first.send(json!({"id": "a", "type": "complete"})).await;
    assert_eq!(first.sync().await, Vec::<String>::new());
    second.start("b", HEAVY).await;
    assert_eq!(second.sync().await, Vec::<String>::new());
    // Another user has a budget of their own.
    let mut gus = Live::init(&server, &token(&app.database_url, "gus")).await;
    gus.start("g", HEAVY).await;
    assert_eq!(gus.sync().await, Vec::<String>::new());
    // A connection that closes takes its operations with it, and their cost is given back.
    close_from_the_client(&mut second).await;
    for attempt in 0.. {
        first.start(&format!("again-{attempt}"), HEAVY).await;
        if first.sync().await.is_empty() {
            break;
        }
        assert!(attempt < 250, "the closed connection's subscriptions still hold their cost");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_selects_one_root_field_and_is_one_stream() {
    let (app, server, id_of) = world_with(&[]).await;
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let many: String =
        (0..190).map(|i| format!(r#"a{i}: profileChanged(handle: "ann") {{ kind }} "#)).collect::<String>();
    fay.start("many", &format!("subscription {{ {many} }}")).await;
    fay.start("typename", "subscription { __typename }").await;
    assert_eq!(
        fay.sync().await,
        [
            r#"{"id":"many","type":"error","payload":[{"message":"An anonymous subscription must select exactly one top level field","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#,
            r#"{"id":"typename","type":"error","payload":[{"message":"An anonymous subscription must not select an introspection top level field","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#,
        ]
    );
    // One field written twice under its one key, or inside fragments, is one field as the spec
    // reads it: one stream, its selections merged.
    let twice = r#"subscription { profileChanged(handle: "ann") { kind } profileChanged(handle: "ann") { momentId } }"#;
    let fragment = r#"subscription { ...F } fragment F on Subscription { ... on Subscription { p: profileChanged(handle: "ann") { kind } } }"#;
    fay.start("twice", twice).await;
    fay.start("fragment", fragment).await;
    assert_eq!(fay.sync().await, Vec::<String>::new());
    let ann = token(&app.database_url, "ann");
    pin(&server, &ann, &id_of("public")).await;
    let mut heard = vec![fay.text().await, fay.text().await];
    heard.sort();
    let public = id_of("public");
    assert_eq!(
        heard,
        [
            r#"{"id":"fragment","type":"next","payload":{"data":{"p":{"kind":"PINNED"}}}}"#.to_owned(),
            format!(
                r#"{{"id":"twice","type":"next","payload":{{"data":{{"profileChanged":{{"kind":"PINNED","momentId":"{public}"}}}}}}}}"#
            ),
        ]
    );
    // Nothing more of that pin: the next two are a later change's.
    let unpin = "mutation($m: ID!) { unpin(momentId: $m) { moment { isPinned } } }";
    server.gql(&ann, unpin, json!({"m": public})).await;
    let mut heard = vec![fay.text().await, fay.text().await];
    heard.sort();
    assert!(heard[0].contains(r#""kind":"UNPINNED""#) && heard[1].contains(r#""kind":"UNPINNED""#), "{heard:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_longer_than_64_kib_or_10000_tokens_is_refused_before_it_is_parsed_and_a_syntax_error_is_short() {
    let (app, server, _) = world_with(&[]).await;
    let fay = token(&app.database_url, "fay");
    let long = format!("{{ {} }}", "a ".repeat(100_000));
    let refused = server.post(Some(&fay), &json!({ "query": long }).to_string()).await;
    assert_eq!(
        refused.json(),
        json!({"errors": [{"message": "the query's text is longer than 64 KiB (its variables do not count): send a shorter one", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})
    );
    let mut live = Live::init(&server, &fay).await;
    live.start("long", &long).await;
    assert_eq!(
        live.text().await,
        r#"{"id":"long","type":"error","payload":[{"message":"the query's text is longer than 64 KiB (its variables do not count): send a shorter one","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#
    );
    // 40 KB, but 20,002 tokens.
    let many = format!("{{ {} }}", "a ".repeat(20_000));
    let answer = server.post(Some(&fay), &json!({ "query": many }).to_string()).await;
    assert_eq!(
        answer.json(),
        json!({"errors": [{"message": "the query holds more than 10000 tokens: send a shorter one", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})
    );
    // A syntax error says what was expected and where, without the line it is on.
    let broken = format!("{{ viewer {{ handle }} {}", "b ".repeat(9_000));
    let answer = server.post(Some(&fay), &json!({ "query": broken }).to_string()).await;
    assert_eq!(
        answer.json(),
        json!({"errors": [{"message": "syntax error: expected selection_set, selection, directive, or arguments", "locations": [{"line": 1, "column": 18021}], "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_used_again_frees_only_its_own_operation_and_the_count_holds() {
    let (app, server, _) = world_with(&[]).await;
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let most = moments::MAX_OPERATIONS;
    let too_many = |id: &str| {
        format!(
            r#"{{"id":"{id}","type":"error","payload":[{{"message":"too many operations on this connection: complete one first","extensions":{{"code":"BAD_USER_INPUT"}}}}]}}"#
        )
    };
    for round in 0..3 {
        // Each id first runs a query that ends by itself; as its answer arrives, the client
        // completes it and names a subscription with the id again: the query's end, told to the
        // connection just then, must not free the subscription's place.
        for i in 0..most {
            let id = format!("{round}-{i}");
            fay.start(&id, "{ viewer { handle } }").await;
            let answer =
                format!(r#"{{"id":"{id}","type":"next","payload":{{"data":{{"viewer":{{"handle":"fay"}}}}}}}}"#);
            loop {
                let said = fay.text().await;
                if said == answer {
                    break;
                }
                assert!(said.ends_with(r#""type":"complete"}"#), "{said}");
            }
            fay.send(json!({"id": id, "type": "complete"})).await;
            fay.subscribe(&id, "ann").await;
        }
        let said = fay.sync().await;
        assert!(said.iter().all(|m| m.ends_with(r#""type":"complete"}"#)), "{said:?}");
        fay.subscribe("extra", "ann").await;
        assert_eq!(fay.sync().await, [too_many("extra")], "round {round}");
        for i in 0..most {
            fay.send(json!({"id": format!("{round}-{i}"), "type": "complete"})).await;
        }
        assert_eq!(fay.sync().await, Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_or_unpin_that_changes_nothing_tells_no_one_anything() {
    let (app, server, id_of) = world_with_an_old_moment().await;
    let ann = token(&app.database_url, "ann");
    // The old moment is outside fay's window: she sees it only while it is pinned.
    let settings = "mutation($i: MomentsSettingsInput!) { updateMomentsSettings(input: $i) { visibleWindow } }";
    server.gql(&ann, settings, json!({"i": {"visibleWindow": "ONE_MONTH"}})).await;
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    fay.subscribe("1", "ann").await;
    assert_eq!(fay.sync().await, Vec::<String>::new());
    let unpin = "mutation($m: ID!) { unpin(momentId: $m) { moment { isPinned } } }";
    // Unpinning what is not pinned, and pinning what is, change nothing: no event, no id.
    let answer = server.gql(&ann, unpin, json!({"m": id_of("old")})).await;
    assert_eq!(answer, json!({"data": {"unpin": {"moment": {"isPinned": false}}}}));
    // Each change is awaited before the next, since an event is read as it stands when it is
    // delivered (a pin already undone is told as a removal). A stray event of the second pin or
    // the second unpin would come before the next change's, or before the last sync's pong.
    pin(&server, &ann, &id_of("old")).await;
    pin(&server, &ann, &id_of("old")).await;
    assert_eq!(fay.text().await, event("1", "PINNED", &id_of("old"), "old", true));
    server.gql(&ann, unpin, json!({"m": id_of("old")})).await;
    server.gql(&ann, unpin, json!({"m": id_of("old")})).await;
    assert_eq!(fay.text().await, removed("1", &id_of("old")));
    assert_eq!(fay.sync().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_is_a_handshake_both_ways_and_shutdown_closes_with_1001() {
    let (app, server, _) = world_with(&[]).await;
    let fay = token(&app.database_url, "fay");
    // The client closes after the acknowledgement: the server answers its close frame.
    let mut leaving = Live::init(&server, &fay).await;
    leaving.subscribe("1", "ann").await;
    assert_eq!(leaving.sync().await, Vec::<String>::new());
    assert_eq!(close_from_the_client(&mut leaving).await, Some((1000, "done".to_owned())));
    // The server shuts down: open sockets are told why, with 1001, before it exits.
    let mut staying = Live::init(&server, &fay).await;
    staying.subscribe("1", "ann").await;
    assert_eq!(staying.sync().await, Vec::<String>::new());
    server.terminate();
    assert_eq!(staying.closed().await, (1001, "the server is shutting down".to_owned()));
    assert_eq!(server.wait().code(), Some(0));
}
