//! `Query`: the entry points for reading. Every field needs a signed-in viewer (V2).

use async_graphql::{Context, ID, Object};

use super::{
    context::{limits, loaded, request, services, viewer_id, viewer_record},
    cursor::Scope,
    types::{
        CONNECTION_MEDIA, Moment, MomentConnection, Node, Profile, Tag, User, connection, page, page_cost, profile_of,
        read_page, visible_moment,
    },
};
use crate::limits::{DEFAULT_PAGE, LIST_FIELD_COST, STATEMENT_FIELD_COST};
use rules::input::Handle;

use crate::{
    error::{ApiResult, Error},
    ids::{self, NodeKind},
};

/// Reading.
pub(crate) struct Query;

#[Object]
impl Query {
    /// Anything with a global id the viewer may see; `null` otherwise.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn node(&self, ctx: &Context<'_>, #[graphql(desc = "A global id.")] id: ID) -> ApiResult<Option<Node>> {
        let viewer = viewer_id(ctx)?;
        let Some((kind, raw)) = ids::decode(&id) else {
            return Err(Error::bad_input(format!("id: {:?} is not a valid id", id.as_str())).into());
        };
        let db = &services(ctx)?.db.read;
        Ok(match kind {
            NodeKind::User => loaded(request(ctx)?.users.load_one(raw).await)?.map(|u| Node::User(User::from(u))),
            NodeKind::Moment => visible_moment(ctx, raw).await?.map(Node::Moment),
            NodeKind::Profile => match loaded(request(ctx)?.users.load_one(raw).await)? {
                Some(user) => Some(Node::Profile(profile_of(ctx, user).await?)),
                None => None,
            },
            NodeKind::Tag => {
                let _turn = limits(ctx)?.statement_turn().await?;
                store::tags::owned_tag(db, viewer, raw).await?.map(|t| Node::Tag(Tag(t)))
            }
        })
    }

    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<User> {
        Ok(User::from(viewer_record(ctx).await?))
    }

    /// The user with this handle; `null` when there is none.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn user(&self, ctx: &Context<'_>, #[graphql(desc = "A handle.")] handle: String) -> ApiResult<Option<User>> {
        viewer_id(ctx)?;
        // No user can have a handle of another form: no need to ask the database.
        let Ok(handle) = Handle::parse(&handle) else {
            return Ok(None);
        };
        let _turn = limits(ctx)?.statement_turn().await?;
        Ok(store::users::by_handle(&services(ctx)?.db.read, handle.as_str()).await?.map(User::from))
    }

    /// The moments page of the user with this handle; `null` when there is none.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A handle.")] handle: String,
    ) -> ApiResult<Option<Profile>> {
        let viewer = viewer_id(ctx)?;
        let Ok(handle) = Handle::parse(&handle) else {
            return Ok(None);
        };
        let _turn = limits(ctx)?.statement_turn().await?;
        let found = store::access::profile_by_handle(&services(ctx)?.db.read, viewer, handle.as_str()).await?;
        Ok(found.map(|(user, access)| Profile { user, access }))
    }

    /// A moment by id; `null` when it does not exist or the viewer may not see it.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn moment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A moment's global id.")] id: ID,
    ) -> ApiResult<Option<Moment>> {
        viewer_id(ctx)?;
        let raw = ids::decode_as(NodeKind::Moment, &id, "id")?;
        Ok(visible_moment(ctx, raw).await?)
    }

    /// The viewer's own moments and their friends' moments the viewer may see, newest first. Pins
    /// play no part here: a pinned moment appears where its posting time puts it.
    #[graphql(complexity = "LIST_FIELD_COST + page_cost(first) * child_complexity")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many moments, 0 to 100.", default_with = "Some(DEFAULT_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> ApiResult<MomentConnection> {
        let viewer = viewer_id(ctx)?;
        let scope = Scope::Feed(viewer);
        let page = page(ctx, first, DEFAULT_PAGE, after, scope, CONNECTION_MEDIA)?;
        let db = &services(ctx)?.db.read;
        let list = read_page(ctx, store::lists::feed(db, viewer, &page, request(ctx)?.now())).await?;
        Ok(connection(ctx, list, scope)?)
    }
}
