//! `removed_moments`: the facts the visibility rules read about a moment deleted a few minutes
//! ago, so that live subscriptions can tell who could see it. No content.

use sea_orm::entity::prelude::*;

use super::columns::{Audience, Window};

/// A moment deleted lately.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "removed_moments")]
pub struct Model {
    /// The moment's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    /// Who posted it.
    pub author_id: i64,
    /// Its audience mode.
    pub audience_mode: Audience,
    /// When it was posted.
    pub posted_at: DateTimeUtc,
    /// Whether it was pinned when deleted.
    pub was_pinned: bool,
    /// The author's window when it was deleted.
    pub visible_window: Window,
    /// Whether the author let strangers look when it was deleted.
    pub strangers_can_view: bool,
    /// Whether ten newer public moments of the author existed when it was deleted (a stranger's
    /// timeline did not reach it).
    pub newer_public_fill_the_cap: bool,
    /// When it was deleted.
    pub removed_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
