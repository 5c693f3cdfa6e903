//! The test application: every test gets its own database, built through the real migrations —
//! a SQLite file in a temporary directory by default, or a fresh schema on the PostgreSQL server
//! named by `MOMENTS_TEST_DATABASE_URL` (dropped afterwards).

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode, header},
};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt as _;
use moments::{
    Clock, HttpOptions, Services,
    config::Config,
    import::{ImportReport, import_str},
    router,
};
use rules::UserId;
use serde_json::{Value, json};
use store::db::{Db, PoolSettings};
use tower::ServiceExt as _;

/// The time the tests' clock starts at, unless a test sets another.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// Where the test database lives, and how to drop it.
enum Place {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

/// A running application on a fresh database.
pub struct TestApp {
    /// The router `serve` would run.
    pub router: Router,
    /// The services behind it.
    pub services: Services,
    /// SQL statements run so far, on every connection.
    pub statements: Arc<AtomicUsize>,
    /// The clock the rules read.
    pub clock: Clock,
    /// The database URL, for running the binary against the same database.
    pub database_url: String,
    place: Place,
}

/// Whether the suite runs on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("MOMENTS_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

fn unique_name() -> String {
    use rand::Rng as _;
    let n: u64 = rand::rng().random();
    format!("t_{n:016x}")
}

/// A fresh, empty, migrated database.
async fn fresh_database() -> (String, Db, Place) {
    if on_postgres() {
        let admin_url = std::env::var("MOMENTS_TEST_DATABASE_URL").unwrap();
        let schema = unique_name();
        let admin = Db::connect(&admin_url, PoolSettings::of_size(1)).await.expect("connect to the test PostgreSQL");
        use sea_orm::ConnectionTrait as _;
        admin.write.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
        admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}&application_name={schema}");
        let db = Db::connect(&url, PoolSettings::of_size(4)).await.expect("connect to the test schema");
        db.migrate().await.expect("migrations run");
        (url, db, Place::Postgres { admin_url, schema })
    } else {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}/moments.db?mode=rwc", dir.path().display());
        let db = Db::connect(&url, PoolSettings::of_size(4)).await.expect("open the test SQLite file");
        db.migrate().await.expect("migrations run");
        (url, db, Place::Sqlite(dir))
    }
}

/// A fresh database nothing has migrated yet, dropped when this goes out of scope.
pub struct BlankDatabase {
    /// Its URL.
    pub url: String,
    place: Option<Place>,
}

impl BlankDatabase {
    /// An empty SQLite file path, or an empty schema on the test PostgreSQL.
    pub async fn new() -> Self {
        if on_postgres() {
            let admin_url = std::env::var("MOMENTS_TEST_DATABASE_URL").unwrap();
            let schema = unique_name();
            let admin =
                Db::connect(&admin_url, PoolSettings::of_size(1)).await.expect("connect to the test PostgreSQL");
            use sea_orm::ConnectionTrait as _;
            admin.write.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
            admin.close().await;
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}&application_name={schema}");
            Self { url, place: Some(Place::Postgres { admin_url, schema }) }
        } else {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}/moments.db?mode=rwc", dir.path().display());
            Self { url, place: Some(Place::Sqlite(dir)) }
        }
    }
}

impl Drop for BlankDatabase {
    fn drop(&mut self) {
        if let Some(place) = self.place.take() {
            drop_place(place);
        }
    }
}

impl TestApp {
    /// An application with the default configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An application whose configuration the test adjusts first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_options(adjust, HttpOptions::default()).await
    }

    /// An application with adjusted configuration and HTTP options.
    pub async fn spawn_with_options(adjust: impl FnOnce(&mut Config), options: HttpOptions) -> Self {
        let (database_url, mut db, place) = fresh_database().await;
        let mut config = Config::for_database(&database_url);
        adjust(&mut config);
        let statements = Arc::new(AtomicUsize::new(0));
        for conn in [&mut db.read, &mut db.write] {
            let counter = statements.clone();
            conn.set_metric_callback(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            });
        }
        let clock = Clock::fixed(test_now());
        let services = Services::with_db(&config, db, clock.clone()).await.expect("services start");
        let router = router(services.clone(), options).expect("the router is built");
        Self { router, services, statements, clock, database_url, place }
    }

    /// Sends one HTTP request through the whole router.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("a body").to_bytes();
        (status, headers, body)
    }

    /// Sends one HTTP request as if it came over a connection from `peer`.
    pub async fn send_from(
        &self,
        peer: std::net::SocketAddr,
        mut request: Request<Body>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.send(request).await
    }

    /// Asserts that `/healthz` answers `ok` and that `token` can still ask who it is: what every
    /// refusal must leave working.
    pub async fn still_serves(&self, token: &str, handle: &str) {
        let (status, _, body) = self.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok"[..]));
        let me = self.gql(Some(token), "{ viewer { handle } }", json!({})).await;
        assert_eq!(me, json!({ "data": { "viewer": { "handle": handle } } }));
    }

    /// Posts a GraphQL operation and returns the whole JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, _, bytes) = self.send(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "body: {}", String::from_utf8_lossy(&bytes));
        serde_json::from_slice(&bytes).expect("a JSON body")
    }

    /// Posts a GraphQL request body as it is, with an `Accept` header when given; returns the
    /// status, the headers and the whole body as text.
    pub async fn post_raw(
        &self,
        token: Option<&str>,
        accept: Option<&str>,
        body: &Value,
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let (status, headers, bytes) = self.send(request.body(Body::from(body.to_string())).unwrap()).await;
        (status, headers, String::from_utf8(bytes.to_vec()).expect("a UTF-8 body"))
    }

    /// Posts an operation that must succeed; returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Posts an operation that must fail with one error; returns its `extensions.code` and message.
    pub async fn fails(&self, token: Option<&str>, query: &str, variables: Value) -> (String, String) {
        let body = self.gql(token, query, variables).await;
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected an error: {body:#}"));
        assert_eq!(errors.len(), 1, "expected one error: {body:#}");
        (
            errors[0]["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
            errors[0]["message"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Creates a user directly in the store (no password) and returns the id and a token.
    pub async fn user(&self, handle: &str) -> (UserId, String) {
        let user =
            store::users::create(&self.services.db.write, handle, &handle.to_uppercase(), None, self.clock.now())
                .await
                .expect("user created");
        (user.id, self.token(user.id))
    }

    /// A valid token for a user.
    pub fn token(&self, user: UserId) -> String {
        self.services.keys.issue_now(user).expect("token")
    }

    /// Makes two users friends.
    pub async fn befriend(&self, a: UserId, b: UserId) {
        store::friends::befriend(&self.services.db.write, a, b, self.clock.now()).await.expect("friends");
    }

    /// Loads JSON Lines through the importer.
    pub async fn import(&self, text: &str) -> ImportReport {
        import_str(&self.services.db, text, self.clock.now()).await.expect("import succeeds")
    }

    /// The id of the user with this handle.
    pub async fn id_of(&self, handle: &str) -> UserId {
        store::users::by_handle(&self.services.db.read, handle).await.unwrap().expect("user exists").id
    }

    /// Statements counted so far.
    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    /// Rows in a table.
    pub async fn rows(&self, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait as _, Statement};
        let backend = self.services.db.read.get_database_backend();
        let row = self
            .services
            .db
            .read
            .query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Place::Postgres { admin_url, schema } = &self.place {
            drop_place(Place::Postgres { admin_url: admin_url.clone(), schema: schema.clone() });
        }
    }
}

fn drop_place(place: Place) {
    if let Place::Postgres { admin_url, schema } = place {
        // The drop runs on a runtime of its own, as the test's runtime is blocked here; the
        // test's idle connections hold no locks, so the schema can go while they linger.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(admin) = Db::connect(&admin_url, PoolSettings::of_size(1)).await {
                    use sea_orm::ConnectionTrait as _;
                    // A transaction the test left open would hold its locks until its runtime
                    // sends the rollback, which cannot happen while this drop blocks it.
                    let _ = admin
                        .write
                        .execute_unprepared(&format!(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{schema}'"
                        ))
                        .await;
                    let _ = admin.write.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The `data` list under a JSON pointer, as texts of the moments (`text` field).
pub fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value:#}"))
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}
