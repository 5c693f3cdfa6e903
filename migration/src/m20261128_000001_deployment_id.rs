//! The deployment id: a random value made once, when the database is first migrated, and kept in
//! `server_secrets` under `deployment_id`. Tokens carry it as their audience, so a token is valid only
//! on the deployment that issued it, even where two deployments share `MOMENTS_JWT_SECRET`.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The name of the row in `server_secrets`.
pub const DEPLOYMENT_ID: &str = "deployment_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // The value comes from the database's own random source (on PostgreSQL of any version, no
        // extension needed); the time is written in the form the driver reads back as UTC. It
        // must be unique, not secret: the token secret is what signs.
        let sql = match db.get_database_backend() {
            DbBackend::Postgres => {
                "INSERT INTO server_secrets (name, value, created_at) \
                 VALUES ('deployment_id', md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text), now()) \
                 ON CONFLICT (name) DO NOTHING"
            }
            _ => {
                "INSERT INTO server_secrets (name, value, created_at) \
                 VALUES ('deployment_id', lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) \
                 ON CONFLICT (name) DO NOTHING"
            }
        };
        db.execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DELETE FROM server_secrets WHERE name = 'deployment_id'").await?;
        Ok(())
    }
}
