//! `moments import`: the JSON Lines format, checked line by line, all or nothing.

use std::process::Command;

use serde_json::json;

use crate::helpers::{TestApp, texts};

const WORLD: &str = r#"{"type":"user","handle":"alice","displayName":"Alice"}
{"type":"user","handle":"bob","displayName":"Bob","password":"bob's password"}
{"type":"user","handle":"dave","displayName":"Dave"}
{"type":"friendship","users":["alice","bob"]}
{"type":"tag","owner":"alice","name":"family","members":["bob"]}
{"type":"settings","user":"alice","visibleWindow":"SIX_MONTHS","strangersCanView":true,"hiddenFrom":["dave"]}
{"type":"moment","ref":"a1","author":"alice","text":"hi","images":[{"url":"https://img.example/1.jpg","width":800,"height":600}],"postedAt":"2026-11-01T08:00:00Z","audience":{"mode":"INCLUDE","users":["bob"],"tags":["family"]}}
{"type":"moment","ref":"a2","author":"alice","text":"a clip","video":{"url":"https://img.example/v.mp4"},"postedAt":"2026-11-02T08:00:00Z"}
{"type":"moment","ref":"a3","author":"alice","text":"read this","article":{"url":"https://news.example/x","title":"X"},"postedAt":"2026-11-03T08:00:00Z"}
{"type":"moment","ref":"a4","author":"alice","text":"long ago","images":[{"url":"https://img.example/old.jpg"}],"postedAt":"2025-01-03T08:00:00Z"}
{"type":"pin","moment":"a1"}
{"type":"pin","moment":"a4","pinnedAt":"2025-01-04T08:00:00Z"}
"#;

#[tokio::test]
async fn every_record_type_is_loaded_and_served() {
    let app = TestApp::spawn().await;
    let report = app.import(WORLD).await;
    assert_eq!(report.to_string(), "3 users, 1 friendships, 1 tags, 1 settings, 4 moments, 2 pins");
    let alice = app.id_of("alice").await;
    let token = app.token(alice);
    let data = app
        .ok(
            &token,
            r#"{ profile(handle: "alice") {
                settings { visibleWindow strangersCanView hiddenFrom { handle } }
                pinned(first: 10) { text pinnedAt audience { mode users { handle } tags { name members(first: 10) { handle } } } }
                timeline(first: 10) { nodes { text kind isPinned } }
            } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["profile"]["settings"],
        json!({ "visibleWindow": "SIX_MONTHS", "strangersCanView": true, "hiddenFrom": [{ "handle": "dave" }] })
    );
    assert_eq!(texts(&data["profile"]["pinned"]), ["hi", "long ago"]);
    assert_eq!(data["profile"]["pinned"][1]["pinnedAt"], "2025-01-04T08:00:00.000000Z");
    assert_eq!(
        data["profile"]["pinned"][0]["audience"],
        json!({ "mode": "INCLUDE", "users": [{ "handle": "bob" }], "tags": [{ "name": "family", "members": [{ "handle": "bob" }] }] })
    );
    assert_eq!(
        data["profile"]["timeline"]["nodes"],
        json!([
            { "text": "read this", "kind": "ARTICLE", "isPinned": false },
            { "text": "a clip", "kind": "VIDEO", "isPinned": false },
            { "text": "hi", "kind": "IMAGES", "isPinned": true },
            { "text": "long ago", "kind": "IMAGES", "isPinned": true },
        ])
    );
    let signed_in = app
        .gql(
            None,
            r#"mutation { signIn(input: { handle: "bob", password: "bob's password" }) { user { handle } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(signed_in["data"]["signIn"]["user"]["handle"], "bob", "{signed_in:#}");
}

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in moments::import::TABLES {
        counts.push(app.rows(table).await);
    }
    counts
}

#[tokio::test]
async fn a_bad_second_line_fails_the_command_names_line_2_and_keeps_nothing() {
    let app = TestApp::spawn().await;
    app.import(r#"{"type":"user","handle":"zoe","displayName":"Zoe"}"#).await;
    let before = table_counts(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"Alice\"}\n{\"type\":\"friendship\",\"users\":[\"alice\",\"nobody\"]}\n{\"type\":\"user\",\"handle\":\"bob\",\"displayName\":\"Bob\"}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_moments"))
        .arg("import")
        .arg(&file)
        .env("DATABASE_URL", &app.database_url)
        .env_remove("MOMENTS_JWT_SECRET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 2: no user with handle \"nobody\""),
        "the message must name the line and the problem: {stderr}"
    );
    assert_eq!(table_counts(&app).await, before, "nothing of the file is kept");
}

#[tokio::test]
async fn each_kind_of_bad_line_is_refused_with_its_line_number() {
    let app = TestApp::spawn().await;
    let head = "{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"Alice\"}\n";
    let cases = [
        (
            "{\"type\":\"user\",\"handle\":\"Alice\",\"displayName\":\"A\"}",
            "line 2: handle: only lower-case letters a-z, digits and '_' are allowed, found 'A'",
        ),
        (
            "{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"A\"}",
            "line 2: handle: \"alice\" is already taken",
        ),
        ("{\"type\":\"comment\"}", "line 2: not a valid record: unknown variant `comment`"),
        (
            "{\"type\":\"user\",\"handle\":\"bob\",\"displayName\":\"B\",\"age\":3}",
            "line 2: not a valid record: unknown field `age`",
        ),
        ("not json", "line 2: not a valid record: expected ident"),
        (
            "{\"type\":\"moment\",\"author\":\"alice\",\"text\":\"t\",\"postedAt\":\"yesterday\"}",
            "line 2: postedAt: \"yesterday\" is not an RFC 3339 date and time",
        ),
        (
            "{\"type\":\"moment\",\"ref\":\"x\",\"author\":\"alice\",\"text\":\"t\"}\n{\"type\":\"pin\",\"moment\":\"x\"}",
            "line 3: moment \"x\" is TEXT: only moments with pictures or a video can be pinned",
        ),
        ("{\"type\":\"pin\",\"moment\":\"nope\"}", "line 2: moment: no moment with ref \"nope\" earlier in this file"),
        (
            "{\"type\":\"settings\",\"user\":\"alice\",\"visibleWindow\":\"WEEK\"}",
            "line 2: visibleWindow: \"WEEK\" is not one of ALL, SIX_MONTHS, ONE_MONTH, THREE_DAYS",
        ),
        (
            "{\"type\":\"user\",\"handle\":\"bob\",\"displayName\":\"B\"}\n{\"type\":\"moment\",\"author\":\"alice\",\"text\":\"t\",\"audience\":{\"mode\":\"INCLUDE\",\"users\":[\"bob\"]}}",
            "line 3: audience.userIds: @bob is not your friend",
        ),
        (
            "{\"type\":\"moment\",\"author\":\"alice\",\"images\":[{\"url\":\"file:///etc/passwd\"}]}",
            "line 2: images[0].url: only http and https URLs are allowed, got a file: URL",
        ),
    ];
    for (tail, expected) in cases {
        let error = moments::import::import_str(&app.services.db, &format!("{head}{tail}\n"), app.clock.now())
            .await
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(expected), "expected {expected:?}, got {error:?}");
        assert_eq!(app.rows("users").await, 0, "after {tail}");
    }
}

#[tokio::test]
async fn future_times_bad_bytes_and_a_byte_order_mark() {
    let app = TestApp::spawn().await;
    // The tests' clock reads 2026-11-26T12:00Z; five minutes of skew are allowed.
    let head = "{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"Alice\"}\n";
    for (tail, expected) in [
        (
            "{\"type\":\"moment\",\"author\":\"alice\",\"text\":\"t\",\"postedAt\":\"2999-01-01T00:00:00Z\"}",
            "line 2: postedAt: \"2999-01-01T00:00:00Z\" is in the future (the import runs at 2026-11-26T12:00:00Z); times must not be later than now",
        ),
        (
            "{\"type\":\"moment\",\"ref\":\"a\",\"author\":\"alice\",\"images\":[{\"url\":\"https://img.example/a.jpg\"}]}\n{\"type\":\"pin\",\"moment\":\"a\",\"pinnedAt\":\"2026-11-26T12:06:00Z\"}",
            "line 3: pinnedAt: \"2026-11-26T12:06:00Z\" is in the future",
        ),
        (
            "{\"type\":\"moment\",\"author\":\"alice\",\"text\":\"nul \\u0000 inside\"}",
            "line 2: text: must not contain control characters (found U+0000)",
        ),
        (
            "{\"type\":\"user\",\"handle\":\"bob\",\"displayName\":\"\\u202Eevil\"}",
            "line 2: displayName: must not contain invisible or direction-changing characters (found U+202E)",
        ),
    ] {
        let error = moments::import::import_str(&app.services.db, &format!("{head}{tail}\n"), app.clock.now())
            .await
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(expected), "expected {expected:?}, got {error:?}");
    }
    let mut bad_bytes = head.as_bytes().to_vec();
    bad_bytes.extend_from_slice(b"{\"type\":\"user\",\"handle\":\"bob\",\"displayName\":\"B\"}\n");
    bad_bytes.extend_from_slice(b"{\"type\":\"user\",\"handle\":\"carol\",\"displayName\":\"Caf\xe9\"}\n");
    let error = moments::import::import(&app.services.db, std::io::Cursor::new(bad_bytes), app.clock.now())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(error, "line 3: not UTF-8 text (an invalid byte at column 51)");
    assert_eq!(app.rows("users").await, 0);
    // Just within the skew, and a file saved with a byte-order mark.
    let report = app
        .import(&format!(
            "\u{FEFF}{head}{{\"type\":\"moment\",\"author\":\"alice\",\"text\":\"soon\",\"postedAt\":\"2026-11-26T12:04:59Z\"}}\n"
        ))
        .await;
    assert_eq!(report.to_string(), "1 users, 0 friendships, 0 tags, 0 settings, 1 moments, 0 pins");
}

#[tokio::test]
async fn a_failed_import_into_a_new_sqlite_file_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("new.db");
    let file = dir.path().join("bad.jsonl");
    std::fs::write(&file, "{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"Alice\"}\n{\"type\":\"nope\"}\n")
        .unwrap();
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let output = crate::binary::moments(&url).arg("import").arg(&file).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 2: not a valid record: unknown variant `nope`"));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("bad.jsonl")], "only the input is left");
    // A file that existed before keeps existing, with nothing of the failed import in it.
    std::fs::write(&file, "{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"Alice\"}\n").unwrap();
    assert!(crate::binary::moments(&url).arg("import").arg(&file).output().unwrap().status.success());
    std::fs::write(&file, "{\"type\":\"user\",\"handle\":\"bob\",\"displayName\":\"Bob\"}\n{\"type\":\"nope\"}\n")
        .unwrap();
    assert!(!crate::binary::moments(&url).arg("import").arg(&file).output().unwrap().status.success());
    assert!(database.exists());
}

#[tokio::test]
async fn a_failed_import_never_removes_a_database_another_process_made_meanwhile() {
    if crate::helpers::on_postgres() {
        eprintln!("skipped on PostgreSQL: only a SQLite import makes (and would remove) a file");
        return;
    }
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("moments.db").display());
    // An import from standard input into a file that does not exist yet, waiting for more lines…
    let mut import = crate::binary::moments(&url)
        .args(["import", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = import.stdin.take().unwrap();
    writeln!(input, "{}", json!({"type": "user", "handle": "zed", "displayName": "Zed"})).unwrap();
    input.flush().unwrap();
    // (Once the import has opened its database, whatever file that is.)
    let opened = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with("moments.db"))
    };
    for _ in 0..1_000 {
        if opened() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(opened(), "the import never opened its database");
    // …while a server makes that file and loads the demo world into it.
    let server = crate::binary::Server::start(&url, &[("MOMENTS_DEMO", "true")]);
    let alice = crate::binary::token(&url, "alice");
    // The import then fails.
    writeln!(input, "{}", json!({"type": "nope"})).unwrap();
    drop(input);
    let output = import.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2: not a valid record"), "{stderr}");
    // The server's database is where it was, whole: the server still serves from it, and a new
    // process reads the same world.
    server.still_serves(&alice, "alice").await;
    // (`token` asserts that the command finds the user.)
    crate::binary::token(&url, "alice");
    let left: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|name| name.starts_with("moments.db") && !name.contains("importing")), "{left:?}");
    assert!(left.contains(&"moments.db".to_owned()));
}

/// A file of more moments than one batch of the importer holds: refs of written batches are looked
/// up in the import's table of refs, not in memory.
fn beyond_one_batch(first: &str, last: &str) -> String {
    let mut text = String::from("{\"type\":\"user\",\"handle\":\"alice\",\"displayName\":\"Alice\"}\n");
    text.push_str(first);
    text.push('\n');
    for i in 0..25_000 {
        text.push_str(&format!(
            "{{\"type\":\"moment\",\"author\":\"alice\",\"text\":\"m{i}\",\"postedAt\":\"2026-01-01T00:00:00Z\"}}\n"
        ));
    }
    text.push_str(last);
    text.push('\n');
    text
}

#[tokio::test]
async fn refs_reach_across_batches_and_a_ref_used_again_is_refused_at_its_second_use() {
    let app = TestApp::spawn().await;
    let pinned = r#"{"type":"moment","ref":"p","author":"alice","text":"first","images":[{"url":"https://img.example/p.jpg"}],"postedAt":"2025-06-01T00:00:00Z"}"#;
    // Line 25,003 uses the ref of line 2, written with the first batch long before.
    let again = r#"{"type":"moment","ref":"p","author":"alice","text":"again"}"#;
    let error = moments::import::import_str(&app.services.db, &beyond_one_batch(pinned, again), app.clock.now())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(error, "line 25003: ref: \"p\" is used by an earlier moment of this file");
    assert_eq!(table_counts(&app).await, vec![0; moments::import::TABLES.len()]);

    // A ref used again comes before a later bad line of the same batch.
    let text = format!("{}{{\"type\":\"pin\",\"moment\":\"nope\"}}\n", beyond_one_batch(pinned, again));
    let error = moments::import::import_str(&app.services.db, &text, app.clock.now()).await.unwrap_err().to_string();
    assert_eq!(error, "line 25003: ref: \"p\" is used by an earlier moment of this file");

    // A pin names a moment of a batch written long before.
    let report = app.import(&beyond_one_batch(pinned, r#"{"type":"pin","moment":"p"}"#)).await;
    assert_eq!(report.to_string(), "1 users, 0 friendships, 0 tags, 0 settings, 25001 moments, 1 pins");
    let alice = app.id_of("alice").await;
    let data =
        app.ok(&app.token(alice), r#"{ profile(handle: "alice") { pinned(first: 5) { text } } }"#, json!({})).await;
    assert_eq!(texts(&data["profile"]["pinned"]), ["first"]);
}

/// Every foreign key and index of the database, one line each: for a key its table, name or
/// columns and what it refers to; for an index its definition.
async fn keys_and_indexes(app: &TestApp) -> Vec<String> {
    use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
    let sql = match app.services.db.backend() {
        DbBackend::Postgres => {
            "SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) AS k \
             FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY k"
        }
        _ => {
            "SELECT m.name || ' ' || p.\"from\" || ' ' || p.\"table\" || ' ' || p.\"to\" || ' ' || p.on_delete AS k \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) p WHERE m.type = 'table' \
             UNION ALL SELECT name || ' ' || tbl_name || ' ' || COALESCE(sql, '') FROM sqlite_master \
             WHERE type = 'index' ORDER BY k"
        }
    };
    let db = &app.services.db.read;
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "k").unwrap()).collect()
}

#[tokio::test]
async fn an_import_into_an_empty_database_keeps_every_key_and_index_whether_it_loads_or_fails() {
    use sea_orm::ConnectionTrait as _;
    let app = TestApp::spawn().await;
    let keys = keys_and_indexes(&app).await;
    assert!(keys.iter().any(|k| k.contains("idx_moments_author_posted")), "{keys:#?}");
    assert!(keys.iter().any(|k| k.starts_with("moments ") && k.contains("author_id")), "{keys:#?}");
    // A file that fails at its last line, after a batch was written into the empty database.
    let bad_end = format!("{}{{\"type\":\"pin\",\"moment\":\"nope\"}}\n", beyond_one_batch("", ""));
    let error = moments::import::import_str(&app.services.db, &bad_end, app.clock.now()).await.unwrap_err();
    assert_eq!(error.to_string(), "line 25004: moment: no moment with ref \"nope\" earlier in this file");
    assert_eq!(keys_and_indexes(&app).await, keys);
    assert_eq!(table_counts(&app).await, vec![0; moments::import::TABLES.len()]);

    app.import(WORLD).await;
    assert_eq!(keys_and_indexes(&app).await, keys);
    // The keys hold the rows the import wrote, and the rows written after it.
    let orphan = "INSERT INTO moments (author_id, kind, audience_mode, posted_at) \
                  VALUES (999999, 'TEXT', 'PUBLIC', '2026-01-01T00:00:00Z')";
    let refused = app.services.db.write.execute_unprepared(orphan).await.unwrap_err().to_string();
    assert!(refused.to_lowercase().contains("foreign key"), "{refused}");
}
