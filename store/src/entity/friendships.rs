//! `friendships`: a mutual friendship, stored once in each direction.

use sea_orm::entity::prelude::*;

/// One direction of a mutual friendship.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "friendships")]
pub struct Model {
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// Their friend.
    #[sea_orm(primary_key, auto_increment = false)]
    pub friend_id: i64,
    /// When they became friends.
    pub created_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
