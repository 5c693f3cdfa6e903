//! `moments`: posts; media, audience lists and the pin live in their own tables.

use sea_orm::entity::prelude::*;

use super::columns::{Audience, Kind};

/// A posted moment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moments")]
pub struct Model {
    /// Its id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who posted it.
    pub author_id: i64,
    /// What it holds.
    pub kind: Kind,
    /// Its text, if any.
    pub text: Option<String>,
    /// The shared article's URL, for `ARTICLE` moments.
    pub article_url: Option<String>,
    /// The shared article's title, for `ARTICLE` moments.
    pub article_title: Option<String>,
    /// Who among the author's friends may see it.
    pub audience_mode: Audience,
    /// When it was posted.
    pub posted_at: DateTimeUtc,
}

/// No relations: the store joins tables itself.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
