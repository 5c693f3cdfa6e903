//! Opening the database: SQLite in WAL mode with one writer and a pool of readers, or a sized
//! PostgreSQL pool shared by reads and writes. Migrations run through the `migration` crate.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::error::Result;

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

fn sqlite_tuning(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
}

impl Db {
    /// Connects to `url` with `pool_size` connections for reading. Connections are not pinged before
    /// each use (a round trip per statement); a broken one fails its statement and is replaced.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let mut write = ConnectOptions::new(url);
            write
                .max_connections(1)
                .min_connections(1)
                .sqlx_logging(false)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(sqlite_tuning);
            if in_memory {
                // An in-memory database lives in its one connection: never close it.
                write.idle_timeout(None).max_lifetime(None);
            }
            let write = Database::connect(write).await?;
            if in_memory {
                return Ok(Self { read: write.clone(), write });
            }
            let mut read = ConnectOptions::new(url);
            read.max_connections(pool_size.max(1))
                .min_connections(1)
                .sqlx_logging(false)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(sqlite_tuning);
            let read = Database::connect(read).await?;
            Ok(Self { read, write })
        } else {
            let mut opts = ConnectOptions::new(url);
            opts.max_connections(pool_size.max(2))
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .sqlx_logging(false)
                .test_before_acquire(false)
                // PostgreSQL's JIT compiles any plan its estimate calls expensive: a feed page
                // estimated at a few thousand rows spent 11 ms compiling to run for 4 ms.
                .map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
            let pool = Database::connect(opts).await?;
            Ok(Self { read: pool.clone(), write: pool })
        }
    }

    /// Applies every migration that has not run yet.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.write, None).await?;
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
