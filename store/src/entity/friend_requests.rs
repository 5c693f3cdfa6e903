//! `friend_requests`: pending requests, removed when accepted or declined.

use sea_orm::entity::prelude::*;

/// A friend request waiting for an answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "friend_requests")]
pub struct Model {
    /// Who asked.
    #[sea_orm(primary_key, auto_increment = false)]
    pub from_user_id: i64,
    /// Who is asked.
    #[sea_orm(primary_key, auto_increment = false)]
    pub to_user_id: i64,
    /// When the request was sent.
    pub created_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
