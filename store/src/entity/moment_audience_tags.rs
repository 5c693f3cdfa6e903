//! `moment_audience_tags`: the author's tags named in an `INCLUDE` or `EXCLUDE` audience.

use sea_orm::entity::prelude::*;

/// A tag named in a moment's audience.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moment_audience_tags")]
pub struct Model {
    /// The moment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    /// The tag (the author's own).
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i64,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
