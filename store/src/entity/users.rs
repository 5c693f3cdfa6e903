//! `users`: people with a unique handle.

use sea_orm::entity::prelude::*;

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Its id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The unique handle.
    #[sea_orm(unique)]
    pub handle: String,
    /// The name shown.
    pub display_name: String,
    /// An argon2id PHC string; `None` for users who cannot sign in with a password (imported ones).
    pub password_hash: Option<String>,
    /// When the account was made.
    pub created_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
