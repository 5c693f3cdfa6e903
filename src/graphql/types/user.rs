//! `User`: a person with a profile, and the lists of users only their owner reads.

use crate::limits::{MAX_PAGE, OWNER_LIST_COST, STATEMENT_FIELD_COST};
use async_graphql::{Context, ID, Object};

use super::{
    connection::{check_first_or, full_page_cost},
    profile::{Profile, profile_of},
    tag::Tag,
};
use crate::{
    error::{ApiResult, Error, Result},
    graphql::{
        context::{limits, loaded, request, services, viewer_id},
        guards::OwnerOnly,
    },
    ids::{self, NodeKind},
};
use rules::{
    UserId,
    input::{Handle, TagName},
};
use store::{
    self,
    friends::{NamePage, Related},
    tags::TagRecord,
    users::UserRecord,
};

/// A person with a profile.
#[derive(Clone, Debug)]
pub(crate) struct User {
    record: UserRecord,
    /// Whether the user is the viewer's friend, when the query that found them already knows.
    friend_of_viewer: Option<bool>,
}

impl From<UserRecord> for User {
    fn from(record: UserRecord) -> Self {
        Self { record, friend_of_viewer: None }
    }
}

impl User {
    /// A user whose friendship with the viewer is already known.
    pub(crate) fn with_friendship(record: UserRecord, is_friend: bool) -> Self {
        Self { record, friend_of_viewer: Some(is_friend) }
    }

    /// The user's record.
    pub(crate) fn record(&self) -> &UserRecord {
        &self.record
    }

    /// A page of one of the user's lists of users when the viewer is the user; `None` otherwise.
    async fn own_users(
        &self,
        ctx: &Context<'_>,
        related: Related,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Vec<User>>> {
        if !OwnerOnly(self.record.id).admits(ctx)? {
            return Ok(None);
        }
        Ok(Some(owned_users(ctx, self.record.id, related, first, after).await?))
    }
}

/// A person with a profile.
#[Object]
impl User {
    /// An opaque global id.
    pub(super) async fn id(&self) -> ID {
        ID(ids::encode(NodeKind::User, self.record.id))
    }

    /// The unique handle, `[a-z0-9_]{3,32}`.
    async fn handle(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        limits(ctx)?.spend(self.record.handle.len())?;
        Ok(&self.record.handle)
    }

    /// The name shown.
    async fn display_name(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        limits(ctx)?.spend(self.record.display_name.len())?;
        Ok(&self.record.display_name)
    }

    /// The user's moments page as the viewer may see it.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn profile(&self, ctx: &Context<'_>) -> ApiResult<Profile> {
        Ok(profile_of(ctx, self.record.clone()).await?)
    }

    /// Whether this is the viewer.
    async fn is_viewer(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(viewer_id(ctx)? == self.record.id)
    }

    /// Whether this user and the viewer are friends.
    async fn is_friend(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let request = request(ctx)?;
        let viewer = request.viewer.require()?;
        if viewer == self.record.id {
            return Ok(false);
        }
        if let Some(known) = self.friend_of_viewer {
            return Ok(known);
        }
        let loader = request.friends.as_ref().ok_or_else(|| anyhow::anyhow!("no friend loader"))?;
        Ok(loaded(loader.load_one(self.record.id).await)?.unwrap_or(false))
    }

    /// Whether pinning is rolled out to this user.
    async fn pinning_enabled(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(services(ctx)?.pin_policy.enabled_for(self.record.id, &self.record.handle))
    }

    /// The user's friends, by handle, 100 at a time. Only the user reads this; `null` for anyone
    /// else.
    #[graphql(complexity = "OWNER_LIST_COST + full_page_cost(first) * child_complexity")]
    async fn friends(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The handle of the last user of the previous page.")] after: Option<String>,
    ) -> ApiResult<Option<Vec<User>>> {
        Ok(self.own_users(ctx, Related::Friends, first, after).await?)
    }

    /// Users waiting for this user to accept their friend request, by handle, 100 at a time. Only
    /// the user reads this; `null` for anyone else.
    #[graphql(complexity = "OWNER_LIST_COST + full_page_cost(first) * child_complexity")]
    async fn incoming_friend_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The handle of the last user of the previous page.")] after: Option<String>,
    ) -> ApiResult<Option<Vec<User>>> {
        Ok(self.own_users(ctx, Related::RequestsIn, first, after).await?)
    }

    /// Users this user asked to be friends, still waiting, by handle, 100 at a time. Only the user
    /// reads this; `null` for anyone else.
    #[graphql(complexity = "OWNER_LIST_COST + full_page_cost(first) * child_complexity")]
    async fn outgoing_friend_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The handle of the last user of the previous page.")] after: Option<String>,
    ) -> ApiResult<Option<Vec<User>>> {
        Ok(self.own_users(ctx, Related::RequestsOut, first, after).await?)
    }

    /// The user's tags, by name, 100 at a time. Only the user reads this; `null` for anyone else.
    #[graphql(complexity = "OWNER_LIST_COST + full_page_cost(first) * child_complexity")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The name of the last tag of the previous page.")] after: Option<String>,
    ) -> ApiResult<Option<Vec<Tag>>> {
        if !OwnerOnly(self.record.id).admits(ctx)? {
            return Ok(None);
        }
        let after = after
            .map(|a| TagName::parse(&a).map(|n| n.as_str().to_owned()))
            .transpose()
            .map_err(|e| Error::bad_input(format!("after: not a tag name ({})", e.0)))?;
        let page = NamePage { first: check_first_or(first, MAX_PAGE)?, after };
        let list = {
            let _turn = limits(ctx)?.statement_turn().await?;
            store::tags::tags_of(&services(ctx)?.db.read, self.record.id, &page).await?
        };
        limits(ctx)?.spend(list.iter().map(TagRecord::content_bytes).sum())?;
        Ok(Some(list.into_iter().map(Tag).collect()))
    }
}

/// A page of a list of users by handle: `first` 0–100 (100 when left out), after a handle.
pub(super) fn handle_page(first: Option<i32>, after: Option<String>) -> Result<NamePage> {
    let after = after
        .map(|a| Handle::parse(&a).map(|h| h.as_str().to_owned()))
        .transpose()
        .map_err(|e| Error::bad_input(format!("after: not a handle ({})", e.0)))?;
    Ok(NamePage { first: check_first_or(first, MAX_PAGE)?, after })
}

/// A page of one of `owner`'s lists of users, in the request's turn, spent from its budget. The
/// caller has checked that the viewer is the owner.
pub(super) async fn owned_users(
    ctx: &Context<'_>,
    owner: UserId,
    related: Related,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Vec<User>> {
    let page = handle_page(first, after)?;
    let list = {
        let _turn = limits(ctx)?.statement_turn().await?;
        store::friends::related_users(&services(ctx)?.db.read, owner, related, &page).await?
    };
    spend_users(ctx, &list)?;
    Ok(list.into_iter().map(User::from).collect())
}

/// Spends what a list of users holds from the request's budget.
pub(super) fn spend_users(ctx: &Context<'_>, users: &[UserRecord]) -> Result<()> {
    limits(ctx)?.spend(users.iter().map(UserRecord::content_bytes).sum())
}

/// Users by id through the request's loader, by handle.
pub(super) async fn load_users(ctx: &Context<'_>, ids: &[UserId]) -> Result<Vec<User>> {
    limits(ctx)?.check()?;
    let found = loaded(request(ctx)?.users.load_many(ids.iter().copied()).await)?;
    let mut users: Vec<UserRecord> = found.into_values().collect();
    spend_users(ctx, &users)?;
    users.sort_by(|a, b| a.handle.cmp(&b.handle));
    Ok(users.into_iter().map(User::from).collect())
}
