//! `tags`: a named group of one user's friends, used in audiences.

use sea_orm::entity::prelude::*;

/// A tag.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    /// Its id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose tag.
    pub owner_id: i64,
    /// Its name, unique per owner.
    pub name: String,
    /// When it was made.
    pub created_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
