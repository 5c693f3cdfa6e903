//! `Tag`: a named group of the owner's friends, used in audiences.

use crate::limits::MAX_PAGE;
use async_graphql::{Context, ID, Object};

use super::{
    connection::full_page_cost,
    user::{User, handle_page, load_users},
};
use crate::{
    error::ApiResult,
    graphql::context::{limits, loaded, request},
    ids::{self, NodeKind},
};
use store::tags::TagRecord;

/// A named group of the owner's friends, used in audiences. Only its owner sees it.
#[derive(Clone, Debug)]
pub(crate) struct Tag(pub TagRecord);

/// A named group of the owner's friends, used in audiences. Only its owner sees it.
#[Object]
impl Tag {
    /// An opaque global id.
    pub(super) async fn id(&self) -> ID {
        ID(ids::encode(NodeKind::Tag, self.0.id))
    }

    /// Its name.
    async fn name(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        limits(ctx)?.spend(self.0.name.len())?;
        Ok(&self.0.name)
    }

    /// Its members, by handle, 100 at a time.
    #[graphql(complexity = "full_page_cost(first) * child_complexity")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The handle of the last member of the previous page.")] after: Option<String>,
    ) -> ApiResult<Vec<User>> {
        let page = handle_page(first, after)?;
        let ids = loaded(request(ctx)?.tag_members.load_one(self.0.id).await)?.unwrap_or_default();
        let users = load_users(ctx, &ids).await?;
        Ok(users
            .into_iter()
            .filter(|u| page.after.as_deref().is_none_or(|after| u.record().handle.as_str() > after))
            .take(page.first as usize)
            .collect())
    }
}
