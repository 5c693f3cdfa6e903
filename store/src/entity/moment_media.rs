//! `moment_media`: a moment's pictures in order, or its one video.

use sea_orm::entity::prelude::*;

/// A picture or video of a moment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moment_media")]
pub struct Model {
    /// The moment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    /// Its place among the moment's pictures, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i16,
    /// Where the file is.
    pub url: String,
    /// Width in pixels, if known.
    pub width: Option<i32>,
    /// Height in pixels, if known.
    pub height: Option<i32>,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
