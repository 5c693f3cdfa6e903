//! Pins keep their moment's posting time, indexed by author in that order, so the pinned block is
//! read from an index range in P7 order and stops at its page: a profile with thousands of pins no
//! longer reads (and sorts) every pinned moment to show a hundred. A moment's posting time never
//! changes, so the copy cannot drift.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pins {
    Table,
    MomentId,
    AuthorId,
    PostedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Pins::Table)
                    .add_column(
                        timestamp_with_time_zone(Pins::PostedAt).default(Expr::cust("'1970-01-01T00:00:00+00:00'")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE pins SET posted_at = (SELECT moments.posted_at FROM moments WHERE moments.id = pins.moment_id)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pins_author_posted")
                    .table(Pins::Table)
                    .col(Pins::AuthorId)
                    .col(Pins::PostedAt)
                    .col(Pins::MomentId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name("idx_pins_author").table(Pins::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_pins_author")
                    .table(Pins::Table)
                    .col(Pins::AuthorId)
                    .col(Pins::MomentId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name("idx_pins_author_posted").table(Pins::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Pins::Table).drop_column(Pins::PostedAt).to_owned()).await
    }
}
