//! `pins`: at most one per moment (the primary key), with the author for counting and the moment's
//! posting time for listing the pinned block in order from an index.

use sea_orm::entity::prelude::*;

/// A pinned moment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pins")]
pub struct Model {
    /// The moment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    /// Its author (who pinned it).
    pub author_id: i64,
    /// When it was pinned.
    pub pinned_at: DateTimeUtc,
    /// The moment's `posted_at` (which never changes).
    pub posted_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
