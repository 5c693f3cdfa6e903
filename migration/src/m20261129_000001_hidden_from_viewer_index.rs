//! An index on hidden-from lists by the user hidden from, so "who hides from this viewer" is an
//! index range of a few rows: the feed reads it once per page instead of checking each friend
//! (PostgreSQL read the whole table for that, and it grows with the world).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HiddenFrom {
    Table,
    OwnerId,
    HiddenUserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_hidden_from_hidden_user")
                    .table(HiddenFrom::Table)
                    .col(HiddenFrom::HiddenUserId)
                    .col(HiddenFrom::OwnerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_hidden_from_hidden_user").table(HiddenFrom::Table).to_owned()).await
    }
}
