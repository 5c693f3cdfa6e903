//! The real binary, for tests of what only a process shows: its command line, its output, its
//! connections, its signals and its memory. Requests go over plain TCP, one connection each.

use std::{
    collections::HashMap,
    io::{BufRead as _, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

/// `moments` with the database and a quiet log, and no configuration from the test's environment.
pub fn moments(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_moments"));
    command
        .env("DATABASE_URL", database_url)
        .env_remove("MOMENTS_JWT_SECRET")
        .env_remove("MOMENTS_PIN_LIMIT")
        .env_remove("MOMENTS_CORS_ORIGINS")
        .env_remove("MOMENTS_DEMO")
        .env("RUST_LOG", "warn");
    command
}

/// `moments token HANDLE`: the token alone on stdout.
pub fn token(database_url: &str, handle: &str) -> String {
    let output = moments(database_url).args(["token", handle]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap();
    assert_eq!(token.lines().count(), 1, "the token alone on stdout");
    token.trim().to_owned()
}

/// An HTTP response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// Headers, by lower-case name.
    pub headers: HashMap<String, String>,
    /// The body as text.
    pub body: String,
}

impl HttpReply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Reads one `Connection: close` response off a stream.
pub async fn read_reply(stream: &mut TcpStream) -> HttpReply {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<HashMap<_, _>>();
    let body =
        if headers.get("transfer-encoding").is_some_and(|t| t == "chunked") { dechunk(body) } else { body.to_owned() };
    HttpReply { status, headers, body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// A running `moments serve`.
pub struct Server {
    child: Child,
    /// `host:port` it serves on.
    pub address: String,
    /// What it printed on stdout before it said where it serves.
    pub banner: Vec<String>,
    stderr: tempfile::NamedTempFile,
}

impl Server {
    /// Starts `moments serve` on a free port; panics when it does not start.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        Self::try_start(database_url, env).unwrap_or_else(|(status, stderr)| panic!("{status}: {stderr}"))
    }

    /// Starts `moments serve`, or returns its exit status and what it wrote on stderr.
    pub fn try_start(database_url: &str, env: &[(&str, &str)]) -> Result<Self, (ExitStatus, String)> {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut command = moments(database_url);
        command
            .arg("serve")
            .env("MOMENTS_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr.reopen().unwrap()));
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("moments serves GraphQL at http://") {
                let address = rest.split('/').next().unwrap().to_owned();
                return Ok(Self { child, address, banner, stderr });
            }
            banner.push(line);
        }
        let status = child.wait().unwrap();
        Err((status, std::fs::read_to_string(stderr.path()).unwrap()))
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends raw bytes and reads the response.
    pub async fn raw(&self, request: &str) -> HttpReply {
        let mut stream = TcpStream::connect(&self.address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        read_reply(&mut stream).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> HttpReply {
        self.raw(&format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address)).await
    }

    /// `POST /graphql` with a JSON body.
    pub async fn post(&self, token: Option<&str>, body: &str) -> HttpReply {
        let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        self.raw(&format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{authorization}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        ))
        .await
    }

    /// A GraphQL operation; the whole JSON answer.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post(Some(token), &json!({ "query": query, "variables": variables }).to_string()).await.json()
    }

    /// Asserts that `/healthz` answers `ok` and that `token` can ask who it is.
    pub async fn still_serves(&self, token: &str, handle: &str) {
        let health = self.get("/healthz").await;
        assert_eq!((health.status, health.body.as_str()), (200, "ok"));
        let me = self.gql(token, "{ viewer { handle } }", json!({})).await;
        assert_eq!(me, json!({ "data": { "viewer": { "handle": handle } } }));
    }

    /// Sends SIGTERM and waits up to thirty seconds for the process to end.
    pub fn stop(self) -> ExitStatus {
        self.terminate();
        self.wait()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }

    /// Waits up to thirty seconds for the process to end (after [`Self::terminate`]).
    pub fn wait(mut self) -> ExitStatus {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!("the server did not stop on SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
