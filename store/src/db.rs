//! Opening the database: SQLite in WAL mode with one writer and a pool of readers, or a sized
//! PostgreSQL pool shared by reads and writes. Migrations run through the `migration` crate, one
//! server at a time. Database URLs may carry a password: [`redact_url`] is how they are shown.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait as _,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::error::{Error, Result};

/// How long a request waits for a database connection by default before it fails.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a SQLite statement waits for a lock another process holds (a migration, an import).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The key of the PostgreSQL advisory lock that lets one server at a time migrate.
const MIGRATION_LOCK: i64 = 0x006d_6f6d_656e_7473; // "moments" in ASCII

/// How much of a SQLite database file its readers map into memory by default, in MiB: SQLite's
/// own ceiling (2 GiB less 64 KiB), so a world of a few GB is read from the map for the most part.
pub const DEFAULT_SQLITE_MAP_MIB: u32 = 2048;
/// The most SQLite maps of a file, in bytes (`SQLITE_MAX_MMAP_SIZE` on Linux): a larger setting is
/// cut down to it by SQLite itself.
const SQLITE_MAX_MAP_BYTES: u64 = 0x7fff_0000;

/// How many connections, how long to wait for one, and how SQLite's readers read the file.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    /// Connections in the pool (for SQLite: the readers; there is always one writer).
    pub size: u32,
    /// How long a statement waits for a free connection (or for the server to answer a new one).
    pub acquire_timeout: Duration,
    /// How much of a SQLite file the readers map, in MiB (0: none; they read it into their page
    /// caches instead). Ignored on PostgreSQL.
    pub sqlite_map_mib: u32,
}

impl Default for PoolSettings {
    /// Four connections per core, between 4 and 32, and the default acquire timeout.
    fn default() -> Self {
        let size = std::thread::available_parallelism().map_or(4, |n| n.get() as u32 * 4).clamp(4, 32);
        Self::of_size(size)
    }
}

impl PoolSettings {
    /// A pool of `size` with the default acquire timeout and map.
    pub fn of_size(size: u32) -> Self {
        Self { size, acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT, sqlite_map_mib: DEFAULT_SQLITE_MAP_MIB }
    }

    /// What the readers' `PRAGMA mmap_size` is set to, in bytes.
    fn sqlite_map_bytes(&self) -> u64 {
        (u64::from(self.sqlite_map_mib) * 1024 * 1024).min(SQLITE_MAX_MAP_BYTES)
    }
}

/// The connections of one server: `read` for queries, `write` for anything that changes data.
/// On PostgreSQL both are the same pool; on SQLite the writer is a single connection, so writers
/// queue in the server instead of failing with "database is locked", and readers never wait for it.
#[derive(Clone, Debug)]
pub struct Db {
    /// Connections for reading.
    pub read: DatabaseConnection,
    /// The connection(s) for writing.
    pub write: DatabaseConnection,
}

/// SQLite's page cache of the writer, in KiB: the import writes through it.
const SQLITE_WRITER_CACHE_KIB: u32 = 64 * 1024;
/// SQLite's page cache of all readers together, in KiB, split among them: each reader keeps its
/// own cache, so the server's memory would grow with the pool unless the pool splits one budget.
/// Pages beyond it come from the operating system's file cache. Readers that map the file read
/// its pages from the map instead and keep only pages of the write-ahead log here.
const SQLITE_READERS_CACHE_KIB: u32 = 64 * 1024;
/// The least page cache of one reader, in KiB, however large the pool.
const SQLITE_READER_MIN_CACHE_KIB: u32 = 2 * 1024;

fn sqlite_tuning(opts: SqliteConnectOptions, cache_kib: u32) -> SqliteConnectOptions {
    opts.journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        // A negative cache size is in KiB.
        .pragma("cache_size", format!("-{cache_kib}"))
        .pragma("temp_store", "memory")
}

/// Whether a URL query parameter may carry a credential (`password`, `sslpassword`, `passfile`,
/// `user`…).
fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("pass") || key.contains("secret") || key.contains("token") || key == "user" || key == "username"
}

/// A database URL as it may be shown: its user name, its password and any query parameter that
/// may hold a credential replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.cannot_be_a_base() => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("***");
                let _ = parsed.set_password(None);
            }
            if parsed.query_pairs().any(|(k, _)| is_secret_parameter(&k)) {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| {
                        let shown = if is_secret_parameter(&k) { "***".to_owned() } else { v.into_owned() };
                        (k.into_owned(), shown)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Ok(parsed) if !url.contains('@') && !parsed.query_pairs().any(|(k, _)| is_secret_parameter(&k)) => {
            url.to_owned()
        }
        // Not a URL we can take apart: show only its scheme.
        _ => match url.split_once(':') {
            Some((scheme, _)) if scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+') => {
                format!("{scheme}:***")
            }
            _ => "***".to_owned(),
        },
    }
}

/// A message about `url` with every form of its password and other credentials taken out.
pub fn scrub(message: &str, url: &str) -> String {
    let mut out = message.replace(url, &redact_url(url));
    if let Ok(parsed) = url::Url::parse(url) {
        let mut secrets: Vec<String> = Vec::new();
        if let Some(password) = parsed.password() {
            secrets.push(password.to_owned());
            if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                secrets.push(decoded.into_owned());
            }
        }
        for (key, value) in parsed.query_pairs() {
            if is_secret_parameter(&key) && key.to_ascii_lowercase().contains("pass") {
                secrets.push(value.into_owned());
            }
        }
        for secret in secrets.into_iter().filter(|s| s.len() >= 3) {
            out = out.replace(&secret, "***");
        }
    }
    out
}

/// Why one direct connection to the PostgreSQL server at `url` fails, if it does.
async fn first_connection_error(url: &str, wait: Duration) -> Option<String> {
    use sea_orm::sqlx::{
        Connection as _,
        postgres::{PgConnectOptions, PgConnection},
    };
    let options: PgConnectOptions = match url.parse() {
        Ok(options) => options,
        Err(e) => return Some(e.to_string()),
    };
    match tokio::time::timeout(wait.max(Duration::from_secs(1)), PgConnection::connect_with(&options)).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            None
        }
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("the server did not answer within {} ms", wait.as_millis())),
    }
}

/// The database kinds this server speaks.
fn backend_of(url: &str) -> Option<DbBackend> {
    let scheme = url.split_once(':')?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => Some(DbBackend::Sqlite),
        "postgres" | "postgresql" => Some(DbBackend::Postgres),
        _ => None,
    }
}

impl Db {
    /// Connects to `url`. Connections are not pinged before each use (a round trip per
    /// statement); a broken one fails its statement and is replaced. Errors never show the URL's
    /// password.
    pub async fn connect(url: &str, pool: PoolSettings) -> Result<Self> {
        let error = match Self::open(url, pool).await {
            Ok(db) => return Ok(db),
            Err(e) => e,
        };
        // A pool that could not connect says only that it timed out; one direct attempt says why
        // (refused, no such host, a role or database that does not exist…).
        let timed_out = matches!(&error, sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
            if matches!(e.as_ref(), sea_orm::sqlx::Error::PoolTimedOut));
        let cause = if timed_out && backend_of(url) == Some(DbBackend::Postgres) {
            first_connection_error(url, pool.acquire_timeout).await
        } else {
            None
        };
        let message = scrub(&cause.unwrap_or_else(|| error.to_string()), url);
        Err(Error::Internal(anyhow::anyhow!("opening the database {}: {message}", redact_url(url))))
    }

    async fn open(url: &str, pool: PoolSettings) -> Result<Self, sea_orm::DbErr> {
        match backend_of(url) {
            Some(DbBackend::Sqlite) => Self::open_sqlite(url, pool).await,
            Some(_) => Self::open_postgres(url, pool).await,
            None => Err(sea_orm::DbErr::Custom(
                "unsupported database: use sqlite://FILE?mode=rwc or postgres://USER@HOST/DB".into(),
            )),
        }
    }

    async fn open_sqlite(url: &str, pool: PoolSettings) -> Result<Self, sea_orm::DbErr> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut write = ConnectOptions::new(url);
        write
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(pool.acquire_timeout.max(SQLITE_BUSY_TIMEOUT))
            .sqlx_logging(false)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|opts| sqlite_tuning(opts, SQLITE_WRITER_CACHE_KIB));
        if in_memory {
            // An in-memory database lives in its one connection: never close it.
            write.idle_timeout(None).max_lifetime(None);
        }
        let write = Database::connect(write).await?;
        if in_memory {
            return Ok(Self { read: write.clone(), write });
        }
        let mut read = ConnectOptions::new(url);
        let readers = pool.size.max(1);
        let map_bytes = pool.sqlite_map_bytes();
        read.max_connections(readers)
            .min_connections(1)
            .acquire_timeout(pool.acquire_timeout)
            .sqlx_logging(false)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(move |opts| {
                sqlite_tuning(opts, (SQLITE_READERS_CACHE_KIB / readers).max(SQLITE_READER_MIN_CACHE_KIB))
                    // Every reader reads the one copy of a page the operating system caches, with
                    // no system call and no copy into a cache of its own (docs/decisions.md,
                    // "SQLite's readers map the file"). The writer copies each page it changes
                    // anyway, so it reads as before.
                    .pragma("mmap_size", map_bytes.to_string())
            });
        let read = Database::connect(read).await?;
        Ok(Self { read, write })
    }

    async fn open_postgres(url: &str, pool: PoolSettings) -> Result<Self, sea_orm::DbErr> {
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(pool.size.max(2))
            .min_connections(1)
            .acquire_timeout(pool.acquire_timeout)
            .connect_timeout(pool.acquire_timeout)
            .sqlx_logging(false)
            .test_before_acquire(false)
            // PostgreSQL's JIT compiles any plan its estimate calls expensive: a feed page
            // estimated at a few thousand rows spent 11 ms compiling to run for 4 ms.
            // Generic plans: a prepared statement is planned once per connection, not on every
            // run. PostgreSQL otherwise plans again with each run's values for as long as it
            // guesses those plans cheaper, which a feed page's slice made it do on every request
            // (1.6 ms of planning to run for 1.3 ms). Our lists reach their tables through one
            // index by design, whatever the values, as SQLite's plans do (QPSG).
            .map_sqlx_postgres_opts(|o| o.options([("jit", "off"), ("plan_cache_mode", "force_generic_plan")]));
        let pool = Database::connect(opts).await?;
        Ok(Self { read: pool.clone(), write: pool })
    }

    /// Applies every migration that has not run yet, one server at a time: on PostgreSQL under an
    /// advisory lock, on SQLite in an exclusive transaction (others wait for it up to the busy
    /// timeout). Any number of servers may start together on a new database; the first migrates,
    /// the others find nothing left to do.
    pub async fn migrate(&self) -> Result<()> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Exclusive),
            ..Default::default()
        };
        let txn = self.write.begin_with_options(options).await?;
        if self.backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await?;
        }
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Closes every connection.
    pub async fn close(self) {
        let _ = self.read.close().await;
        let _ = self.write.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_user_and_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/moments"),
            "postgres://***@db.example:5432/moments"
        );
        assert_eq!(redact_url("mysql://root:hunter2@localhost/x"), "mysql://***@localhost/x");
        assert_eq!(redact_url("sqlite://moments.db?mode=rwc"), "sqlite://moments.db?mode=rwc");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1/postgres"), "postgres://***@127.0.0.1/postgres");
        assert_eq!(redact_url("weird:thing@with:secret"), "weird:***");
        assert_eq!(
            redact_url("postgres://db.example/moments?user=app&password=s3cret&sslmode=require"),
            "postgres://db.example/moments?user=***&password=***&sslmode=require"
        );
        assert_eq!(
            scrub("password s3cret refused", "postgres://db.example/moments?password=s3cret"),
            "password *** refused"
        );
        let url = "postgres://app:p%40ss%20word@db.example/moments";
        assert_eq!(
            scrub(&format!("failed to connect to {url} with p@ss word"), url),
            "failed to connect to postgres://***@db.example/moments with ***"
        );
    }
}
