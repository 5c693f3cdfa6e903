//! The database schema of moments, as sea-orm-migration migrations. Every database the server or
//! the tests use is built by running these, on SQLite and on PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_tables;
mod m20261127_000001_audience_user_index;
mod m20261128_000001_deployment_id;
mod m20261128_000002_pins_in_posting_order;
mod m20261128_000003_removed_moments;
mod m20261128_000004_moments_index_covers_audience;
mod m20261129_000001_hidden_from_viewer_index;

pub use m20261128_000001_deployment_id::DEPLOYMENT_ID;

/// Applies the migrations of this crate in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_tables::Migration),
            Box::new(m20261127_000001_audience_user_index::Migration),
            Box::new(m20261128_000001_deployment_id::Migration),
            Box::new(m20261128_000002_pins_in_posting_order::Migration),
            Box::new(m20261128_000003_removed_moments::Migration),
            Box::new(m20261128_000004_moments_index_covers_audience::Migration),
            Box::new(m20261129_000001_hidden_from_viewer_index::Migration),
        ]
    }
}
