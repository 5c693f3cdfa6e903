//! The real binary: `moments serve` configured from the environment, `moments token`, and a clean
//! stop on SIGTERM.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::helpers::TestApp;

fn moments(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_moments"));
    command
        .env("DATABASE_URL", database_url)
        .env_remove("MOMENTS_JWT_SECRET")
        .env_remove("MOMENTS_PIN_LIMIT")
        .env("RUST_LOG", "warn");
    command
}

fn token(database_url: &str, handle: &str) -> String {
    let output = moments(database_url).args(["token", handle]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap();
    assert_eq!(token.lines().count(), 1, "the token alone on stdout");
    token.trim().to_owned()
}

struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = moments(database_url);
        command.arg("serve").env("MOMENTS_LISTEN", "127.0.0.1:0").stdout(Stdio::piped()).stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut address = None;
        for line in stdout.lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("moments serves GraphQL at http://") {
                address = Some(rest.split('/').next().unwrap().to_owned());
                break;
            }
        }
        Self { child, address: address.expect("the server printed its address") }
    }

    async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut stream = TcpStream::connect(&self.address).await.unwrap();
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!("the server did not stop on SIGTERM");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_of_zero_with_an_allowlist_lets_only_alice_pin_and_others_keep_and_unpin() {
    let app = TestApp::spawn().await;
    // The binary runs on the real clock: post the moments a few days before it.
    let days_ago =
        |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let world = r#"{"type":"user","handle":"alice","displayName":"Alice"}
{"type":"user","handle":"bob","displayName":"Bob"}
{"type":"friendship","users":["alice","bob"]}
{"type":"moment","ref":"a","author":"alice","text":"alice's","images":[{"url":"https://img.example/a.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"b","author":"bob","text":"bob's","images":[{"url":"https://img.example/b.jpg"}],"postedAt":"2026-11-20T08:00:00Z"}
{"type":"moment","ref":"b2","author":"bob","text":"bob's pinned","images":[{"url":"https://img.example/c.jpg"}],"postedAt":"2026-11-19T08:00:00Z"}
{"type":"pin","moment":"b2"}"#
        .replace("2026-11-20T08:00:00Z", &days_ago(2))
        .replace("2026-11-19T08:00:00Z", &days_ago(3));
    app.import(&world).await;
    let url = app.database_url.clone();
    let (alice, bob) = (token(&url, "alice"), token(&url, "bob"));
    let server = Server::start(&url, &[("MOMENTS_PIN_ROLLOUT_PERCENT", "0"), ("MOMENTS_PIN_ALLOWLIST", "alice")]);
    let ids = server
        .gql(&alice, r#"{ a: profile(handle: "alice") { timeline { nodes { id } } } b: profile(handle: "bob") { timeline { nodes { id text } } } }"#, json!({}))
        .await;
    let alices = ids["data"]["a"]["timeline"]["nodes"][0]["id"].clone();
    let bobs = ids["data"]["b"]["timeline"]["nodes"][0]["id"].clone();
    let bobs_pinned = ids["data"]["b"]["timeline"]["nodes"][1]["id"].clone();
    let pin = "mutation($id: ID!) { pin(momentId: $id) { moment { text isPinned } } }";
    let ok = server.gql(&alice, pin, json!({ "id": alices })).await;
    assert_eq!(ok, json!({ "data": { "pin": { "moment": { "text": "alice's", "isPinned": true } } } }));
    let refused = server.gql(&bob, pin, json!({ "id": bobs })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "PINNING_NOT_ENABLED");
    let kept = server
        .gql(&alice, r#"{ profile(handle: "bob") { pinned { text } user { pinningEnabled } } }"#, json!({}))
        .await;
    assert_eq!(
        kept["data"]["profile"],
        json!({ "pinned": [{ "text": "bob's pinned" }], "user": { "pinningEnabled": false } })
    );
    let unpinned = server
        .gql(
            &bob,
            "mutation($id: ID!) { unpin(momentId: $id) { moment { text isPinned } } }",
            json!({ "id": bobs_pinned }),
        )
        .await;
    assert_eq!(unpinned, json!({ "data": { "unpin": { "moment": { "text": "bob's pinned", "isPinned": false } } } }));
    assert!(server.stop().success(), "a clean exit after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_command_prints_the_sdl_and_token_refuses_an_unknown_handle() {
    let app = TestApp::spawn().await;
    let output = moments(&app.database_url).arg("schema").output().unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), moments::graphql::sdl());
    let output = moments(&app.database_url).args(["token", "nobody"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no user with handle \"nobody\""));
}
