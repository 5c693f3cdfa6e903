//! The first schema: users and their settings, friendships, tags, moments with media and audiences,
//! pins, hidden-from lists and the server secret.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Handle,
    DisplayName,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MomentsSettings {
    Table,
    UserId,
    VisibleWindow,
    StrangersCanView,
}

#[derive(DeriveIden)]
enum HiddenFrom {
    Table,
    OwnerId,
    HiddenUserId,
}

#[derive(DeriveIden)]
enum FriendRequests {
    Table,
    FromUserId,
    ToUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Friendships {
    Table,
    UserId,
    FriendId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    OwnerId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TagMembers {
    Table,
    TagId,
    UserId,
}

#[derive(DeriveIden)]
enum Moments {
    Table,
    Id,
    AuthorId,
    Kind,
    Text,
    ArticleUrl,
    ArticleTitle,
    AudienceMode,
    PostedAt,
}

#[derive(DeriveIden)]
enum MomentMedia {
    Table,
    MomentId,
    Position,
    Url,
    Width,
    Height,
}

#[derive(DeriveIden)]
enum MomentAudienceUsers {
    Table,
    MomentId,
    UserId,
}

#[derive(DeriveIden)]
enum MomentAudienceTags {
    Table,
    MomentId,
    TagId,
}

#[derive(DeriveIden)]
enum Pins {
    Table,
    MomentId,
    AuthorId,
    PinnedAt,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_table, from_col).to(to_table, to_col).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Handle, 32))
                    .col(string_len(Users::DisplayName, 64))
                    .col(text_null(Users::PasswordHash))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MomentsSettings::Table)
                    .col(big_integer(MomentsSettings::UserId).primary_key())
                    .col(string_len(MomentsSettings::VisibleWindow, 16).default("ALL"))
                    .col(boolean(MomentsSettings::StrangersCanView).default(false))
                    .foreign_key(&mut fk(MomentsSettings::Table, MomentsSettings::UserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HiddenFrom::Table)
                    .col(big_integer(HiddenFrom::OwnerId))
                    .col(big_integer(HiddenFrom::HiddenUserId))
                    .primary_key(Index::create().col(HiddenFrom::OwnerId).col(HiddenFrom::HiddenUserId))
                    .foreign_key(&mut fk(HiddenFrom::Table, HiddenFrom::OwnerId, Users::Table, Users::Id))
                    .foreign_key(&mut fk(HiddenFrom::Table, HiddenFrom::HiddenUserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FriendRequests::Table)
                    .col(big_integer(FriendRequests::FromUserId))
                    .col(big_integer(FriendRequests::ToUserId))
                    .col(timestamp_with_time_zone(FriendRequests::CreatedAt))
                    .primary_key(Index::create().col(FriendRequests::FromUserId).col(FriendRequests::ToUserId))
                    .foreign_key(&mut fk(FriendRequests::Table, FriendRequests::FromUserId, Users::Table, Users::Id))
                    .foreign_key(&mut fk(FriendRequests::Table, FriendRequests::ToUserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_friend_requests_to")
                    .table(FriendRequests::Table)
                    .col(FriendRequests::ToUserId)
                    .to_owned(),
            )
            .await?;

        // A friendship is stored once in each direction, so "friends of X" is one index range.
        manager
            .create_table(
                Table::create()
                    .table(Friendships::Table)
                    .col(big_integer(Friendships::UserId))
                    .col(big_integer(Friendships::FriendId))
                    .col(timestamp_with_time_zone(Friendships::CreatedAt))
                    .primary_key(Index::create().col(Friendships::UserId).col(Friendships::FriendId))
                    .foreign_key(&mut fk(Friendships::Table, Friendships::UserId, Users::Table, Users::Id))
                    .foreign_key(&mut fk(Friendships::Table, Friendships::FriendId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(big_pk_auto(Tags::Id))
                    .col(big_integer(Tags::OwnerId))
                    .col(string_len(Tags::Name, 64))
                    .col(timestamp_with_time_zone(Tags::CreatedAt))
                    .foreign_key(&mut fk(Tags::Table, Tags::OwnerId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tags_owner_name")
                    .table(Tags::Table)
                    .col(Tags::OwnerId)
                    .col(Tags::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TagMembers::Table)
                    .col(big_integer(TagMembers::TagId))
                    .col(big_integer(TagMembers::UserId))
                    .primary_key(Index::create().col(TagMembers::TagId).col(TagMembers::UserId))
                    .foreign_key(&mut fk(TagMembers::Table, TagMembers::TagId, Tags::Table, Tags::Id))
                    .foreign_key(&mut fk(TagMembers::Table, TagMembers::UserId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tag_members_user")
                    .table(TagMembers::Table)
                    .col(TagMembers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Moments::Table)
                    .col(big_pk_auto(Moments::Id))
                    .col(big_integer(Moments::AuthorId))
                    .col(string_len(Moments::Kind, 16))
                    .col(text_null(Moments::Text))
                    .col(text_null(Moments::ArticleUrl))
                    .col(text_null(Moments::ArticleTitle))
                    .col(string_len(Moments::AudienceMode, 16))
                    .col(timestamp_with_time_zone(Moments::PostedAt))
                    .foreign_key(&mut fk(Moments::Table, Moments::AuthorId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;
        // A profile lists one author's moments newest first by (posted_at, id): this index serves it
        // (and the keyset cursor) without a sort.
        manager
            .create_index(
                Index::create()
                    .name("idx_moments_author_posted")
                    .table(Moments::Table)
                    .col(Moments::AuthorId)
                    .col(Moments::PostedAt)
                    .col(Moments::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MomentMedia::Table)
                    .col(big_integer(MomentMedia::MomentId))
                    .col(small_integer(MomentMedia::Position))
                    .col(text(MomentMedia::Url))
                    .col(integer_null(MomentMedia::Width))
                    .col(integer_null(MomentMedia::Height))
                    .primary_key(Index::create().col(MomentMedia::MomentId).col(MomentMedia::Position))
                    .foreign_key(&mut fk(MomentMedia::Table, MomentMedia::MomentId, Moments::Table, Moments::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MomentAudienceUsers::Table)
                    .col(big_integer(MomentAudienceUsers::MomentId))
                    .col(big_integer(MomentAudienceUsers::UserId))
                    .primary_key(Index::create().col(MomentAudienceUsers::MomentId).col(MomentAudienceUsers::UserId))
                    .foreign_key(&mut fk(
                        MomentAudienceUsers::Table,
                        MomentAudienceUsers::MomentId,
                        Moments::Table,
                        Moments::Id,
                    ))
                    .foreign_key(&mut fk(
                        MomentAudienceUsers::Table,
                        MomentAudienceUsers::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MomentAudienceTags::Table)
                    .col(big_integer(MomentAudienceTags::MomentId))
                    .col(big_integer(MomentAudienceTags::TagId))
                    .primary_key(Index::create().col(MomentAudienceTags::MomentId).col(MomentAudienceTags::TagId))
                    .foreign_key(&mut fk(
                        MomentAudienceTags::Table,
                        MomentAudienceTags::MomentId,
                        Moments::Table,
                        Moments::Id,
                    ))
                    .foreign_key(&mut fk(MomentAudienceTags::Table, MomentAudienceTags::TagId, Tags::Table, Tags::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moment_audience_tags_tag")
                    .table(MomentAudienceTags::Table)
                    .col(MomentAudienceTags::TagId)
                    .to_owned(),
            )
            .await?;

        // One pin per moment: the primary key is what makes concurrent pins of one moment end in one row.
        manager
            .create_table(
                Table::create()
                    .table(Pins::Table)
                    .col(big_integer(Pins::MomentId).primary_key())
                    .col(big_integer(Pins::AuthorId))
                    .col(timestamp_with_time_zone(Pins::PinnedAt))
                    .foreign_key(&mut fk(Pins::Table, Pins::MomentId, Moments::Table, Moments::Id))
                    .foreign_key(&mut fk(Pins::Table, Pins::AuthorId, Users::Table, Users::Id))
                    .to_owned(),
            )
            .await?;
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

        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(string_len(ServerSecrets::Name, 64).primary_key())
                    .col(text(ServerSecrets::Value))
                    .col(timestamp_with_time_zone(ServerSecrets::CreatedAt))
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ServerSecrets::Table.into_iden(),
            Pins::Table.into_iden(),
            MomentAudienceTags::Table.into_iden(),
            MomentAudienceUsers::Table.into_iden(),
            MomentMedia::Table.into_iden(),
            Moments::Table.into_iden(),
            TagMembers::Table.into_iden(),
            Tags::Table.into_iden(),
            Friendships::Table.into_iden(),
            FriendRequests::Table.into_iden(),
            HiddenFrom::Table.into_iden(),
            MomentsSettings::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
