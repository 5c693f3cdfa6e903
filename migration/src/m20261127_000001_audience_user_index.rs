//! An index on the friends named in audiences by user, so "moments that name this viewer" is an
//! index range instead of a scan of every audience row (PostgreSQL hashes that set per query).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MomentAudienceUsers {
    Table,
    MomentId,
    UserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_moment_audience_users_user")
                    .table(MomentAudienceUsers::Table)
                    .col(MomentAudienceUsers::UserId)
                    .col(MomentAudienceUsers::MomentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("idx_moment_audience_users_user").table(MomentAudienceUsers::Table).to_owned(),
            )
            .await
    }
}
