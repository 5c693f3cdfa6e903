//! What a deleted moment's audience was, kept for a few minutes after it is deleted: live
//! subscriptions tell a viewer that a moment is gone only when that viewer could see it, and once
//! the moment's rows are deleted nothing else says who could. Only the facts the visibility rules
//! read are kept (author, audience mode, posting time, whether it was pinned, who was listed, by
//! name or through a tag, and the author's settings and a stranger's cap as they stood), never its
//! content.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RemovedMoments {
    Table,
    MomentId,
    AuthorId,
    AudienceMode,
    PostedAt,
    WasPinned,
    VisibleWindow,
    StrangersCanView,
    NewerPublicFillTheCap,
    RemovedAt,
}

#[derive(DeriveIden)]
enum RemovedMomentListed {
    Table,
    MomentId,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RemovedMoments::Table)
                    .col(big_integer(RemovedMoments::MomentId).primary_key())
                    .col(big_integer(RemovedMoments::AuthorId))
                    .col(string_len(RemovedMoments::AudienceMode, 16))
                    .col(timestamp_with_time_zone(RemovedMoments::PostedAt))
                    .col(boolean(RemovedMoments::WasPinned))
                    .col(string_len(RemovedMoments::VisibleWindow, 16))
                    .col(boolean(RemovedMoments::StrangersCanView))
                    .col(boolean(RemovedMoments::NewerPublicFillTheCap))
                    .col(timestamp_with_time_zone(RemovedMoments::RemovedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RemovedMoments::Table, RemovedMoments::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Old removals are purged by age.
        manager
            .create_index(
                Index::create()
                    .name("idx_removed_moments_removed_at")
                    .table(RemovedMoments::Table)
                    .col(RemovedMoments::RemovedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RemovedMomentListed::Table)
                    .col(big_integer(RemovedMomentListed::MomentId))
                    .col(big_integer(RemovedMomentListed::UserId))
                    .primary_key(Index::create().col(RemovedMomentListed::MomentId).col(RemovedMomentListed::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RemovedMomentListed::Table, RemovedMomentListed::MomentId)
                            .to(RemovedMoments::Table, RemovedMoments::MomentId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RemovedMomentListed::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RemovedMoments::Table).to_owned()).await
    }
}
