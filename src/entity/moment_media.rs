//! `moment_media`: a moment's pictures in order, or its one video.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moment_media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub moment_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i16,
    pub url: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
