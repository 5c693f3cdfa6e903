//! `pins`: at most one per moment (the primary key), with the author for counting and the moment's
//! posting time for listing the pinned block in order from an index.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    pub author_id: i64,
    pub pinned_at: DateTimeUtc,
    /// The moment's `posted_at` (which never changes).
    pub posted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
