//! `moment_audience_users`: friends named in an `INCLUDE` or `EXCLUDE` audience.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moment_audience_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
