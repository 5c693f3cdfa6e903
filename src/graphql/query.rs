//! `Query`: the entry points for reading. Every field needs a signed-in viewer (V2).

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::{
    LIST_FIELD_COST, STATEMENT_FIELD_COST,
    context::{limits, loaded, request, services, viewer_id, viewer_record},
    cursor::{self, Scope},
    types::{
        Moment, MomentConnection, Node, Profile, Tag, User, check_first, connection, list_moments, page_cost,
        profile_of, spend_moments, wants_media,
    },
};
use crate::{
    domain::input::Handle,
    error::{ApiResult, Error, Result},
    ids::{self, NodeKind},
    store::{
        self,
        moments::{ListQuery, Pins},
        visibility,
    },
};

/// Reading.
pub struct Query;

/// A moment the viewer may see, or `None` (missing and invisible are the same).
pub async fn visible_moment(ctx: &Context<'_>, id: i64) -> Result<Option<Moment>> {
    let viewer = viewer_id(ctx)?;
    let now = request(ctx)?.now;
    let found = {
        let _turn = limits(ctx)?.statement_turn().await?;
        store::moments::visible_moment(&services(ctx)?.db.read, viewer, id, now, true).await?
    };
    if let Some(m) = &found {
        spend_moments(ctx, std::slice::from_ref(m))?;
    }
    Ok(found.map(|m| Moment(Arc::new(m))))
}

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
                store::social::owned_tag(db, viewer, raw).await?.map(|t| Node::Tag(Tag(t)))
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
        let found = store::moments::profile_by_handle(&services(ctx)?.db.read, viewer, handle.as_str()).await?;
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
        #[graphql(desc = "How many moments, 0 to 100.", default_with = "Some(20)")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> ApiResult<MomentConnection> {
        let viewer = viewer_id(ctx)?;
        let first = check_first(first)?;
        let services = services(ctx)?;
        let scope = Scope::Feed(viewer);
        let after = after.map(|c| cursor::decode(&services.keys, scope, &c)).transpose()?;
        let friends = {
            let _turn = limits(ctx)?.statement_turn().await?;
            store::moments::friends_access(&services.db.read, viewer).await?
        };
        let q = ListQuery {
            viewer,
            author: None,
            filter: visibility::feed_condition(viewer, &friends, request(ctx)?.now),
            pins: Pins::Any,
            after,
            limit: Some(first + 1),
            with_media: wants_media(ctx, &[&["nodes"], &["edges", "node"]]),
            ids_first: true,
        };
        let list = list_moments(ctx, &q).await?;
        Ok(connection(ctx, list, first, scope)?)
    }
}
