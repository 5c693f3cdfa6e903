//! The real binary as operators run it: the demo token only for a world it just loaded, CORS
//! settings that can work, no secret in help or errors, plain-text logs in files, SQLite's memory
//! maps as set, and replicas starting together on a new database.

use std::time::{Duration, Instant};

use store::db::{DEFAULT_SQLITE_MAP_MIB, Db, PoolSettings};

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
