//! `removed_moment_listed`: who was listed in a deleted moment's audience when it was deleted,
//! by name or as a member of a named tag.

use sea_orm::entity::prelude::*;

/// A user listed in a deleted moment's audience.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "removed_moment_listed")]
pub struct Model {
    /// The moment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
