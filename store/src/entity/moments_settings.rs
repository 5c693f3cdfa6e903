//! `moments_settings`: one row per user, made with the user.

use sea_orm::entity::prelude::*;

use super::columns::Window;

/// A user's moments settings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moments_settings")]
pub struct Model {
    /// The user whose settings these are.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// How far back others may look.
    pub visible_window: Window,
    /// Whether strangers may see the ten newest public moments.
    pub strangers_can_view: bool,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
