//! `hidden_from`: the owner hides all their moments from the hidden user (rule V3).

use sea_orm::entity::prelude::*;

/// The owner hides their moments from one user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hidden_from")]
pub struct Model {
    /// Whose moments.
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_id: i64,
    /// From whom.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hidden_user_id: i64,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
