//! The author index of `moments` carries each moment's audience mode: a list's walk of one
//! author's moments (the feed's arms, a timeline, a stranger's ten) then decides the public and
//! friends-only moments from the index alone, reading the table only for the moments it shows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Moments {
    Table,
    AuthorId,
    PostedAt,
    Id,
    AudienceMode,
}

const NAME: &str = "idx_moments_author_posted";

async fn replace_index(manager: &SchemaManager<'_>, with_audience: bool) -> Result<(), DbErr> {
    manager.drop_index(Index::drop().name(NAME).table(Moments::Table).to_owned()).await?;
    let mut index = Index::create();
    index.name(NAME).table(Moments::Table).col(Moments::AuthorId).col(Moments::PostedAt).col(Moments::Id);
    if with_audience {
        index.col(Moments::AudienceMode);
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(manager, false).await
    }
}
