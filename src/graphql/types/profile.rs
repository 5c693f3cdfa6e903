//! `Profile`: a user's moments page — the pinned block and the timeline, as the viewer may see them.

use crate::limits::{DEFAULT_PAGE, LIST_FIELD_COST, MAX_PAGE, STATEMENT_FIELD_COST};
use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::{
    connection::{CONNECTION_MEDIA, MomentConnection, connection, full_page_cost, page, page_cost, read_page},
    moment::Moment,
    settings::MomentsSettings,
    user::User,
};
use crate::{
    error::{ApiResult, Result},
    graphql::{
        context::{limits, request, services, viewer_id},
        cursor::Scope,
        guards::OwnerOnly,
    },
    ids::{self, NodeKind},
};
use rules::visibility::Access;
use store::{self, users::UserRecord};

/// The moments page of `user` as the viewer may see it.
pub(crate) async fn profile_of(ctx: &Context<'_>, user: UserRecord) -> Result<Profile> {
    let viewer = viewer_id(ctx)?;
    let _turn = limits(ctx)?.statement_turn().await?;
    let access = store::access::access(&services(ctx)?.db.read, viewer, user.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {} has no settings", user.id))?;
    Ok(Profile { user, access })
}

/// A user's moments page: the pinned block and the timeline, as the viewer may see them.
pub(crate) struct Profile {
    /// Whose page.
    pub user: UserRecord,
    /// What the viewer may see of them.
    pub access: Access,
}

/// A user's moments page as the viewer may see it: the pinned block on top, then the timeline.
/// Its `id` is the same however it was reached (`profile(handle:)`, `User.profile`, a payload), so
/// a normalized cache holds one copy.
#[Object]
impl Profile {
    /// An opaque global id, one per user's page.
    pub(super) async fn id(&self) -> ID {
        ID(ids::encode(NodeKind::Profile, self.user.id))
    }

    /// Whose page this is.
    async fn user(&self) -> User {
        User::from(self.user.clone())
    }

    /// The pinned moments the viewer may see, whatever their age, newest posted first (never by
    /// when they were pinned). At most 100 at a time: with more pins, page on with `after` (the
    /// `endCursor` of `pinnedConnection`, or of the timeline) or read `pinnedConnection`.
    #[graphql(complexity = "LIST_FIELD_COST + full_page_cost(first) * child_complexity")]
    async fn pinned(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many pinned moments, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "A cursor of this profile: continue after that moment.")] after: Option<String>,
    ) -> ApiResult<Vec<Moment>> {
        let page = page(ctx, first, MAX_PAGE, after, self.scope(), &[&[]])?;
        let db = &services(ctx)?.db.read;
        let list = read_page(ctx, store::lists::pinned(db, &self.access, &page)).await?;
        Ok(list.moments.into_iter().map(|m| Moment(Arc::new(m))).collect())
    }

    /// The same pinned moments as `pinned`, as a connection with cursors and `hasNextPage`.
    #[graphql(complexity = "LIST_FIELD_COST + page_cost(first) * child_complexity")]
    async fn pinned_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many pinned moments, 0 to 100.", default_with = "Some(DEFAULT_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> ApiResult<MomentConnection> {
        let page = page(ctx, first, DEFAULT_PAGE, after, self.scope(), CONNECTION_MEDIA)?;
        let db = &services(ctx)?.db.read;
        let list = read_page(ctx, store::lists::pinned(db, &self.access, &page)).await?;
        Ok(connection(ctx, list, self.scope())?)
    }

    /// The moments the viewer may see, newest first, pinned ones in their place (marked
    /// `isPinned`) unless `excludePinned`.
    #[graphql(complexity = "LIST_FIELD_COST + page_cost(first) * child_complexity")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many moments, 0 to 100.", default_with = "Some(DEFAULT_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "Leave pinned moments out, for clients that show `pinned` above.",
            default_with = "Some(false)"
        )]
        exclude_pinned: Option<bool>,
    ) -> ApiResult<MomentConnection> {
        let page = page(ctx, first, DEFAULT_PAGE, after, self.scope(), CONNECTION_MEDIA)?;
        let exclude_pinned = exclude_pinned.unwrap_or(false);
        let db = &services(ctx)?.db.read;
        let now = request(ctx)?.now();
        let list = read_page(ctx, store::lists::timeline(db, &self.access, &page, exclude_pinned, now)).await?;
        Ok(connection(ctx, list, self.scope())?)
    }

    /// The most moments one user may pin on this server; `null` when there is no limit.
    async fn pin_limit(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        Ok(services(ctx)?.pin_policy.limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)))
    }

    /// The owner's moments settings; `null` for anyone else.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn settings(&self, ctx: &Context<'_>) -> ApiResult<Option<MomentsSettings>> {
        if !OwnerOnly(self.user.id).admits(ctx)? {
            return Ok(None);
        }
        let _turn = limits(ctx)?.statement_turn().await?;
        let record = store::users::settings(&services(ctx)?.db.read, self.user.id).await?;
        Ok(Some(MomentsSettings { user: self.user.id, record }))
    }
}

impl Profile {
    /// The cursors of this profile's lists.
    fn scope(&self) -> Scope {
        Scope::Author(self.user.id)
    }
}
