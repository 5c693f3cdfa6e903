//! `moments`: posts; media, audience lists and the pin live in their own tables.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub author_id: i64,
    /// `TEXT`, `IMAGES`, `VIDEO` or `ARTICLE`.
    pub kind: String,
    pub text: Option<String>,
    pub article_url: Option<String>,
    pub article_title: Option<String>,
    /// `PUBLIC`, `PRIVATE`, `INCLUDE` or `EXCLUDE`.
    pub audience_mode: String,
    pub posted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
