//! The real binary as operators run it: the demo token only for a world it just loaded, CORS
//! settings that can work, no secret in help or errors, replicas starting together, timeouts on
//! slow clients, a database that goes away and comes back, and the memory one request may take.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use moments::db::{DEFAULT_SQLITE_MAP_MIB, Db, PoolSettings};

use crate::{
    binary::{Server, moments, token},
    helpers::{BlankDatabase, TestApp, on_postgres},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_signs_in_only_on_its_own_database_and_again_when_it_restarts() {
    let existing = TestApp::spawn().await;
    existing.import(r#"{"type":"user","handle":"alice","displayName":"The real Alice"}"#).await;
    let server = Server::start(&existing.database_url, &[("MOMENTS_DEMO", "true")]);
    assert_eq!(server.banner, Vec::<String>::new(), "nothing but the address on stdout");
    assert!(
        server
            .stderr()
            .contains("the database already has users of its own, so the demo world was not loaded and no one is signed in; for the demo, start with a new database: DATABASE_URL='sqlite://demo.db?mode=rwc' moments serve --demo"),
        "{}",
        server.stderr()
    );
    let page = server.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"<script id="moments-settings" type="application/json">{}</script>"#),
        "{}",
        page.body
    );
    server.still_serves(&token(&existing.database_url, "alice"), "alice").await;
    drop(server);

    let empty = TestApp::spawn().await;
    let server = Server::start(&empty.database_url, &[("MOMENTS_DEMO", "true")]);
    assert_eq!(server.banner.len(), 2, "{:?}", server.banner);
    assert_eq!(server.banner[0], "Signed in as @alice (password for every demo user: moments-demo).");
    let demo_token = server.banner[1].strip_prefix("Authorization: Bearer ").expect("a ready header");
    let page = server.get("/").await.body;
    let settings = format!(
        r#"<script id="moments-settings" type="application/json">{{"token":"{demo_token}","viewer":"alice"}}</script>"#
    );
    assert!(page.contains(&settings), "{page}");
    server.still_serves(demo_token, "alice").await;
    assert_eq!(server.stop().code(), Some(0));

    // Started again on the demo's own database, it serves the world as it is and signs in again.
    let again = Server::start(&empty.database_url, &[("MOMENTS_DEMO", "true")]);
    assert_eq!(again.banner.len(), 2, "{:?}", again.banner);
    assert_eq!(again.banner[0], "Signed in as @alice (password for every demo user: moments-demo).");
    let demo_token = again.banner[1].strip_prefix("Authorization: Bearer ").expect("a ready header");
    let page = again.get("/").await.body;
    assert!(page.contains(&format!(r#"{{"token":"{demo_token}","viewer":"alice"}}"#)), "{page}");
    assert!(again.stderr().contains("this database holds the demo world loaded at "), "{}", again.stderr());
    again.still_serves(demo_token, "alice").await;
    assert_eq!(empty.rows("users").await, 5, "the world was not loaded twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_takes_a_star_for_any_origin_and_refuses_origins_that_cannot_match() {
    let app = TestApp::spawn().await;
    app.import(r#"{"type":"user","handle":"alice","displayName":"Alice"}"#).await;
    let server = Server::start(&app.database_url, &[("MOMENTS_CORS_ORIGINS", "*")]);
    let preflight = server
        .raw(&format!(
            "OPTIONS /graphql HTTP/1.1\r\nHost: {}\r\nOrigin: https://anywhere.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,content-type\r\nConnection: close\r\n\r\n",
            server.address
        ))
        .await;
    assert_eq!(preflight.headers.get("access-control-allow-origin").map(String::as_str), Some("*"));
    assert!(!preflight.headers.contains_key("access-control-allow-credentials"));
    server.still_serves(&token(&app.database_url, "alice"), "alice").await;
    drop(server);
    for (origins, message) in [
        (
            "https://app.example/",
            "the CORS origin \"https://app.example/\" can never match a browser's Origin: browsers send it as \"https://app.example\" (no path, no trailing slash, lower case)",
        ),
        ("http://localhost:5173,https://App.Example", "the CORS origin \"https://App.Example\" can never match"),
        ("*,https://app.example", "the CORS origin \"*\" allows every origin: give it alone, not in a list"),
    ] {
        let Err((status, stderr)) = Server::try_start(&app.database_url, &[("MOMENTS_CORS_ORIGINS", origins)]) else {
            panic!("{origins}: the server started");
        };
        assert!(!status.success());
        assert!(stderr.contains(message), "{origins}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_of_a_database_url_is_shown_in_help_or_errors() {
    let secret = "s3cr3t-pw";
    let help = moments(&format!("postgres://app:{secret}@127.0.0.1:1/moments"))
        .env("MOMENTS_JWT_SECRET", "a jwt secret that must not be shown either")
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    assert!(text.contains("DATABASE_URL") && !text.contains(secret) && !text.contains("must not be shown"), "{text}");
    for (url, shown) in [
        (format!("mysql://root:{secret}@127.0.0.1/moments"), "mysql://***@127.0.0.1/moments"),
        (format!("postgres://app:{secret}@127.0.0.1:1/moments"), "postgres://***@127.0.0.1:1/moments"),
    ] {
        for command in [&["migrate"][..], &["token", "alice"], &["serve"]] {
            let started = Instant::now();
            let output = moments(&url).env("MOMENTS_DB_ACQUIRE_TIMEOUT_MS", "300").args(command).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{command:?}");
            assert!(!stderr.contains(secret), "{command:?} showed the password: {stderr}");
            assert!(stderr.contains(shown), "{command:?}: {stderr}");
            assert!(started.elapsed() < Duration::from_secs(5), "{command:?} took {:?}", started.elapsed());
        }
    }
}

#[tokio::test]
async fn command_line_errors_say_once_what_failed_and_logs_to_a_file_are_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let run = |command: &mut std::process::Command| {
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    // A secret too short: said once, as it is, and the secret not shown.
    let short = run(moments(&url).env("MOMENTS_JWT_SECRET", "tooshort").args(["token", "alice"]));
    assert_eq!(short, "error: MOMENTS_JWT_SECRET must be at least 32 characters long\n");
    // A database that cannot be reached: why, rather than that a pool timed out.
    let refused = run(moments("postgres://app:pw-not-shown@127.0.0.1:1/moments")
        .env("MOMENTS_DB_ACQUIRE_TIMEOUT_MS", "300")
        .arg("migrate"));
    assert!(refused.starts_with("error: opening the database postgres://***@127.0.0.1:1/moments: "), "{refused}");
    assert!(refused.contains("Connection refused") && !refused.contains("timed out"), "{refused}");
    assert!(!refused.contains("pw-not-shown"), "{refused}");
    // A world that cannot be made: the flags named, no panic, no file.
    let output = dir.path().join("world.jsonl");
    let bad_shape = run(moments(&url).args(["generate", "--users", "3", "--friends", "1", "--output"]).arg(&output));
    assert_eq!(
        bad_shape,
        "error: --friends must be even and smaller than --users (got 1 friends for 3 users): each user's friends \
         are the users nearest to it on a ring, as many on either side\n"
    );
    assert!(!output.exists());
    // The server's log in a file has no colour codes.
    let server = Server::start(&url, &[("RUST_LOG", "moments=info")]);
    server.get("/healthz").await;
    let log = server.stderr();
    assert!(log.contains("listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log:?}");
}

/// `PRAGMA mmap_size` on one connection of `connections`.
async fn map_size(connections: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::ConnectionTrait as _;
    let row =
        connections.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA mmap_size"));
    row.await.unwrap().expect("a row").try_get_by_index(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_readers_map_as_much_of_the_file_as_set_and_the_writer_none() {
    // Mapping the file is SQLite's.
    if on_postgres() {
        return;
    }
    let blank = BlankDatabase::new().await;
    for (mib, bytes) in [(DEFAULT_SQLITE_MAP_MIB, 0x7fff_0000), (16, 16 << 20), (0, 0)] {
        let db =
            Db::connect(&blank.url, PoolSettings { sqlite_map_mib: mib, ..PoolSettings::of_size(2) }).await.unwrap();
        db.migrate().await.unwrap();
        assert_eq!((map_size(&db.read).await, map_size(&db.write).await), (bytes, 0), "{mib} MiB");
        db.close().await;
    }
    // More than SQLite maps is refused by name, before anything is opened.
    let output = moments(&blank.url).env("MOMENTS_SQLITE_MAP_MIB", "4096").arg("migrate").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--sqlite-map-mib") && stderr.contains("4096") && stderr.contains("0..=2048"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_started_together_on_a_new_database_all_come_up() {
    let blank = BlankDatabase::new().await;
    let replicas = if on_postgres() { 6 } else { 5 };
    let started: Vec<_> = (0..replicas)
        .map(|_| {
            let url = blank.url.clone();
            std::thread::spawn(move || Server::try_start(&url, &[]))
        })
        .collect();
    let servers: Vec<Server> = started
        .into_iter()
        .map(|s| s.join().unwrap().unwrap_or_else(|(status, stderr)| panic!("a replica failed, {status}: {stderr}")))
        .collect();
    let alice = {
        let output = moments(&blank.url)
            .args(["import", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(br#"{"type":"user","handle":"alice","displayName":"Alice"}"#)?;
                child.wait()
            })
            .unwrap();
        assert!(output.success());
        token(&blank.url, "alice")
    };
    for server in &servers {
        server.still_serves(&alice, "alice").await;
    }
}

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
