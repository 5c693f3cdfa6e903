//! `moment_audience_users`: friends named in an `INCLUDE` or `EXCLUDE` audience.

use sea_orm::entity::prelude::*;

/// A friend named in a moment's audience.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moment_audience_users")]
pub struct Model {
    /// The moment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    /// The friend.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
