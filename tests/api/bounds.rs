//! The real binary among slow, greedy and failing peers: clients that send nothing or too slowly, a
//! database that goes away, the largest requests one can build, and one client trying to take every
//! connection.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::{
    binary::{Server, token},
    helpers::{TestApp, on_postgres},
};

/// Reads until the server closes the connection; what it sent, and how long that took.
async fn until_closed(stream: &mut TcpStream, patience: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(patience, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the connection open for {patience:?}");
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_timed_out_and_cannot_hold_up_a_shutdown() {
    let app = TestApp::spawn().await;
    app.import(r#"{"type":"user","handle":"alice","displayName":"Alice"}"#).await;
    let alice = token(&app.database_url, "alice");
    let env = [("MOMENTS_CLIENT_TIMEOUT_SECS", "1"), ("MOMENTS_SHUTDOWN_GRACE_SECS", "1")];
    let server = Server::start(&app.database_url, &env);
    let patience = Duration::from_secs(4);

    // Headers that never end.
    let mut stream = TcpStream::connect(&server.address).await.unwrap();
    stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: moments\r\nContent-Type: appl").await.unwrap();
    let (_, took) = until_closed(&mut stream, patience).await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    // A body that never ends.
    let mut stream = TcpStream::connect(&server.address).await.unwrap();
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: moments\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":")
        .await
        .unwrap();
    let (reply, _) = until_closed(&mut stream, patience).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.ends_with(r#"{"errors":[{"message":"the request body did not arrive within 1 s","extensions":{"code":"BAD_USER_INPUT"}}]}"#), "{reply}");

    // A keep-alive connection left idle after its request.
    let mut stream = TcpStream::connect(&server.address).await.unwrap();
    stream.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.address).as_bytes()).await.unwrap();
    let (reply, took) = until_closed(&mut stream, patience).await;
    assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("ok"), "{reply}");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    server.still_serves(&alice, "alice").await;

    // A connection that is never finished does not hold the server up past the grace period.
    let mut stuck = TcpStream::connect(&server.address).await.unwrap();
    stuck.write_all(b"POST /graphql HTTP/1.1\r\nHost: moments\r\nContent-Length: 10\r\n\r\n{").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = Instant::now();
    assert!(server.stop().success(), "a clean exit");
    // The grace is a second: bounded, not held up by the connection (a generous multiple of it).
    assert!(stopping.elapsed() < Duration::from_secs(10), "stopped after {:?}", stopping.elapsed());
}

/// A TCP relay to PostgreSQL that can be cut and restored, as a network or a database would fail.
struct Relay {
    port: u16,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16, target: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>> = Default::default();
        let registry = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap().push(relay);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { port, tasks }
    }

    /// Closes the listener and every relayed connection.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_is_answered_at_once_and_comes_back_cleanly() {
    if !on_postgres() {
        eprintln!("skipped on SQLite: a file the server opens itself; only a database server can go away");
        return;
    }
    let app = TestApp::spawn().await;
    app.import(r#"{"type":"user","handle":"alice","displayName":"Alice"}"#).await;
    let alice = token(&app.database_url, "alice");
    let mut direct = url::Url::parse(&app.database_url).unwrap();
    let target = format!("{}:{}", direct.host_str().unwrap(), direct.port().unwrap_or(5432));
    let relay = Relay::start(0, target.clone()).await;
    direct.set_port(Some(relay.port)).unwrap();
    let env = [("MOMENTS_DB_ACQUIRE_TIMEOUT_MS", "500")];
    let server = Server::start(direct.as_str(), &env);
    server.still_serves(&alice, "alice").await;

    relay.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The health check gives the database half a second, a request the acquire timeout's: both
    // answer within ten times that, and neither waits for a connection that will not come.
    let started = Instant::now();
    let health = server.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (503, "database unavailable"));
    assert!(started.elapsed() < Duration::from_secs(5), "healthz took {:?}", started.elapsed());
    for _ in 0..20 {
        let started = Instant::now();
        let reply = server.post(Some(&alice), &json!({ "query": "{ viewer { handle } }" }).to_string()).await;
        assert!(started.elapsed() < Duration::from_secs(5), "a request took {:?}", started.elapsed());
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(reply.headers.get("retry-after").map(String::as_str), Some("1"));
        assert_eq!(
            reply.json(),
            json!({ "errors": [{
                "message": "the service is unavailable: its database did not answer in time; try again shortly",
                "extensions": { "code": "INTERNAL" }
            }] })
        );
    }
    let logged = server.stderr().matches("the database is unavailable").count();
    assert!((1..=3).contains(&logged), "{logged} log lines for 20 failed requests:\n{}", server.stderr());

    let _back = Relay::start(relay.port, target).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.get("/healthz").await.status != 200 {
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.still_serves(&alice, "alice").await;
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_requests_one_can_build_stay_within_64_mib_of_server_memory() {
    let app = TestApp::spawn().await;
    let text = "長".repeat(1_990);
    let url = format!("https://img.example/{}/", "a".repeat(2_000));
    app.import(&crate::exhaustion::pinned_profile(100, &text, &url)).await;
    // `wide` has the longest display name (64 four-byte characters) and a hundred moments.
    let mut wide = vec![json!({ "type": "user", "handle": "wide", "displayName": "𝕎".repeat(64) }).to_string()];
    for i in 0..100 {
        wide.push(
            json!({ "type": "moment", "author": "wide", "text": format!("w{i}"), "postedAt": "2026-11-01T08:00:00Z" })
                .to_string(),
        );
    }
    app.import(&wide.join("\n")).await;
    let fay = token(&app.database_url, "fay");
    let server = Server::start(&app.database_url, &[]);
    // Warm the server up with a normal page first: what counts is what the hostile requests add.
    let page =
        server.gql(&fay, r#"{ profile(handle: "ann") { pinned(first: 10) { text media { url } } } }"#, json!({})).await;
    assert_eq!(page["data"]["profile"]["pinned"].as_array().unwrap().len(), 10);
    let pid = server.pid();
    let measure = |what: &str, idle: u64| {
        let added_mib = status_kib(pid, "VmHWM:").saturating_sub(idle) / 1024;
        eprintln!("{what}: {added_mib} MiB above idle ({} MiB)", idle / 1024);
        assert!(added_mib <= 64, "{what} took {added_mib} MiB above the idle {} MiB", idle / 1024);
    };
    let reset = || {
        let idle = status_kib(pid, "VmRSS:");
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        idle
    };

    // Ten operations, each with as many aliases of the pinned block, with all its text and media,
    // as the complexity limit lets through: about 1 GB of answer without a budget.
    let idle = reset();
    let aliases: String = (0..16).map(|i| format!("p{i}: pinned {{ text media {{ url }} }} ")).collect();
    let operation = json!({ "query": format!(r#"{{ profile(handle: "ann") {{ {aliases} }} }}"#) });
    let reply = server.post(Some(&fay), &Value::Array(vec![operation; 10]).to_string()).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("RESPONSE_TOO_LARGE"), "the budget stopped it");
    measure("the pinned blocks", idle);

    // Ten operations, each writing the longest display name under 190 aliases for each of a
    // hundred moments: 50 MB of answer without a budget on names.
    let idle = reset();
    let names: String = (0..190).map(|i| format!("a{i}: displayName ")).collect();
    let operation = json!({
        "query": format!(r#"{{ profile(handle: "wide") {{ timeline(first: 100) {{ nodes {{ author {{ ...F }} }} }} }} }} fragment F on User {{ {names} }}"#)
    });
    let wide = token(&app.database_url, "wide");
    let reply = server.post(Some(&wide), &Value::Array(vec![operation; 10]).to_string()).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("RESPONSE_TOO_LARGE"), "the budget stopped it");
    assert!(reply.body.len() < 16 << 20, "an answer of {} bytes", reply.body.len());
    measure("the names", idle);

    // Twenty password checks at once (each argon2 computation takes 19 MiB while it runs).
    let idle = reset();
    let attempts = (0..20).map(|i| {
        let query = if i % 2 == 0 {
            format!(r#"mutation {{ signIn(input: {{ handle: "nobody{i}", password: "not the password" }}) {{ token }} }}"#)
        } else {
            format!(r#"mutation {{ signUp(input: {{ handle: "new{i}", displayName: "N", password: "a fine password" }}) {{ token }} }}"#)
        };
        let body = json!({ "query": query }).to_string();
        let server = &server;
        async move { server.post(None, &body).await.status }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    measure("the password checks", idle);
    server.still_serves(&fay, "fay").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_nested_thousands_deep_is_refused_before_it_is_parsed() {
    let app = TestApp::spawn().await;
    app.import(r#"{"type":"user","handle":"alice","displayName":"Alice"}"#).await;
    let alice = token(&app.database_url, "alice");
    let server = Server::start(&app.database_url, &[]);
    let refused = json!({ "errors": [{
        "message": "the query nests brackets more than 64 deep",
        "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
    }] });
    for query in [
        format!("{{ user(handle: {}\"a\"{}) {{ id }} }}", "[".repeat(2_000), "]".repeat(2_000)),
        format!("{{ user(handle: {}1{}) {{ id }} }}", "{a:".repeat(2_000), "}".repeat(2_000)),
        format!("query($v: String = {}\"a\"{}) {{ __typename }}", "[".repeat(2_000), "]".repeat(2_000)),
    ] {
        let reply = server.post(None, &json!({ "query": query }).to_string()).await;
        assert_eq!(reply.json(), refused);
    }
    // The same over GET, within what a request line may hold.
    let query = format!("{{ user(handle: {}\"a\"{}) {{ id }} }}", "[".repeat(1_000), "]".repeat(1_000));
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    assert_eq!(server.get(&format!("/graphql?query={encoded}")).await.json(), refused);
    server.still_serves(&alice, "alice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_take_every_connection_nor_hold_a_response_it_does_not_read() {
    let app = TestApp::spawn().await;
    let text = "長".repeat(1_990);
    let url = format!("https://img.example/{}/", "a".repeat(2_000));
    app.import(&crate::exhaustion::pinned_profile(60, &text, &url)).await;
    let fay = token(&app.database_url, "fay");
    let env = [("MOMENTS_MAX_CONNECTIONS_PER_CLIENT", "3"), ("MOMENTS_CLIENT_TIMEOUT_SECS", "1")];
    let server = Server::start(&app.database_url, &env);

    // Three kept-alive connections are this client's share (each answered once, so the server has
    // taken it); a fourth is closed at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(&server.address).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut answer = [0u8; 256];
        let read = stream.read(&mut answer).await.unwrap();
        assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..read]));
        held.push(stream);
    }
    let mut fourth = TcpStream::connect(&server.address).await.unwrap();
    let _ = fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (reply, took) = until_closed(&mut fourth, Duration::from_secs(2)).await;
    assert_eq!(reply, "", "closed without an answer, after {took:?}");
    drop(held);
    // Their places come back once the server has seen them close.
    for attempt in 0.. {
        let mut stream = TcpStream::connect(&server.address).await.unwrap();
        let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        if until_closed(&mut stream, Duration::from_secs(2)).await.0.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(attempt < 250, "the closed connections' places never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A client that asks for large answers and never reads them is cut off, and the answers freed:
    // six pipelined requests whose answers far exceed what the sockets can buffer.
    let query = json!({ "query": r#"{ profile(handle: "ann") { pinned { text media { url } } } }"# }).to_string();
    let full = server.post(Some(&fay), &query).await;
    assert_eq!(full.status, 200);
    assert!(full.body.len() > 1 << 20, "a large answer: {} bytes", full.body.len());
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut greedy = socket.connect(server.address.parse().unwrap()).await.unwrap();
    let one = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {fay}\r\nContent-Length: {}\r\n\r\n{query}",
        query.len()
    );
    greedy.write_all(one.repeat(6).as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), greedy.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the connection was still open");
    assert!(
        received.len() < 6 * full.body.len(),
        "the unread answers were cut: {} of {} bytes",
        received.len(),
        6 * full.body.len()
    );
    server.still_serves(&fay, "fay").await;
}
