//! `Mutation`: signing up and in, posting and deleting, pinning, friends, tags, settings. Inputs
//! are checked into the rules' types first; each change runs in one transaction in the store.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

pub(crate) mod io;

use super::{
    context::{limits, loaded, request, services, viewer_id, viewer_record},
    types::{Moment, MomentsSettings, Tag, User},
};
use crate::limits::MUTATION_FIELD_COST;
use crate::{
    auth,
    bus::{Change, ChangeKind},
    error::{ApiResult, Error, Result},
    ids::{self, NodeKind},
};
use io::{
    AuthPayload, CreateTagInput, DeleteMomentPayload, DeleteTagPayload, FriendshipPayload, MediaInput,
    MomentsSettingsInput, PinPayload, PostMomentInput, PostMomentPayload, SetTagMembersInput, SignInInput, SignUpInput,
    TagPayload, UnpinPayload,
};
use rules::{
    self, UserId,
    content::{GivenContent, GivenMedia},
    input::{DisplayName, Handle, NewPassword, TagName},
};
use store::{friends::FriendState, moments::NewMoment};

/// Changing things.
pub(crate) struct Mutation;

fn user_ids(ids_in: &[ID], field: &str) -> Result<Vec<i64>> {
    ids_in.iter().map(|id| ids::decode_as(NodeKind::User, id, field)).collect()
}

async fn other_user(ctx: &Context<'_>, id: &ID) -> Result<User> {
    let raw = ids::decode_as(NodeKind::User, id, "userId")?;
    loaded(request(ctx)?.users.load_one(raw).await)?
        .map(User::from)
        .ok_or_else(|| Error::NotFound("userId: no user with this id".into()))
}

fn given(m: &MediaInput) -> GivenMedia<'_> {
    GivenMedia { url: &m.url, width: m.width, height: m.height }
}

fn friendship_payload(user: User, state: FriendState) -> FriendshipPayload {
    FriendshipPayload { user, status: state.into() }
}

#[Object]
impl Mutation {
    /// Creates an account and signs it in.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> ApiResult<AuthPayload> {
        let limits = limits(ctx)?;
        limits.password_check()?;
        let handle = Handle::parse(&input.handle)?;
        let display_name = DisplayName::parse(&input.display_name)?;
        let password = NewPassword::parse(&input.password)?;
        let services = services(ctx)?;
        services.auth_limiter.sign_up_from(limits.client)?;
        // A cheap look before the costly hash, so a taken handle costs no hashing; the unique key
        // that `create` maps to the same error is what holds under concurrent sign-ups.
        if store::users::by_handle(&services.db.read, handle.as_str()).await?.is_some() {
            return Err(Error::handle_taken(handle.as_str()).into());
        }
        let hash = auth::hash_password(password.expose().to_owned()).await?;
        let now = request(ctx)?.now();
        let user =
            store::users::create(&services.db.write, handle.as_str(), display_name.as_str(), Some(hash), now).await?;
        let token = services.keys.issue_now(user.id)?;
        Ok(AuthPayload { token, user: User::from(user) })
    }

    /// Signs in with a handle and password.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> ApiResult<AuthPayload> {
        let limits = limits(ctx)?;
        limits.password_check()?;
        let services = services(ctx)?;
        services.auth_limiter.sign_in_from(limits.client)?;
        let refused = || Error::Unauthenticated("wrong handle or password".into());
        // No account has a handle of another form, and the rule is public: refuse at once.
        let Ok(handle) = Handle::parse(&input.handle) else {
            return Err(refused().into());
        };
        services.auth_limiter.sign_in_at(handle.as_str())?;
        let found = store::users::credentials(&services.db.read, handle.as_str()).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let ok = auth::verify_password(input.password, hash).await?;
        match user {
            Some(user) if ok => {
                let token = services.keys.issue_now(user.id)?;
                Ok(AuthPayload { token, user: User::from(user) })
            }
            _ => Err(refused().into()),
        }
    }

    /// Posts a moment now.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn post_moment(&self, ctx: &Context<'_>, input: PostMomentInput) -> ApiResult<PostMomentPayload> {
        let viewer = viewer_id(ctx)?;
        let content = GivenContent {
            text: input.text.as_deref(),
            images: input.images.as_ref().map(|list| list.iter().map(given).collect()),
            video: input.video.as_ref().map(given),
            article: input.article.as_ref().map(|a| (a.url.as_str(), a.title.as_str())),
        }
        .parse()?;
        let (audience, audience_users, audience_tags) = match &input.audience {
            None => (rules::AudienceMode::Public, Vec::new(), Vec::new()),
            Some(a) => (
                a.mode.into(),
                user_ids(&a.user_ids, "audience.userIds")?,
                a.tag_ids
                    .iter()
                    .map(|id| ids::decode_as(NodeKind::Tag, id, "audience.tagIds"))
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        let moment = NewMoment { content, audience, audience_users, audience_tags };
        let services = services(ctx)?;
        let record = store::moments::post(&services.db.write, viewer, &moment, request(ctx)?.now()).await?;
        services.bus.publish(Change::Moment { author: viewer, moment: record.id, kind: ChangeKind::Posted }).await;
        Ok(PostMomentPayload { moment: Moment(Arc::new(record)) })
    }

    /// Deletes one of the viewer's moments, with its pin.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn delete_moment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The moment.")] id: ID,
    ) -> ApiResult<DeleteMomentPayload> {
        let viewer = viewer_id(ctx)?;
        let raw = ids::decode_as(NodeKind::Moment, &id, "id")?;
        let services = services(ctx)?;
        store::moments::delete(&services.db.write, viewer, raw, request(ctx)?.now()).await?;
        services.bus.publish(Change::Moment { author: viewer, moment: raw, kind: ChangeKind::Removed }).await;
        Ok(DeleteMomentPayload { deleted_moment_id: id })
    }

    /// Pins one of the viewer's moments to the top of their profile. Pinning a pinned moment
    /// succeeds and keeps when it was first pinned.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn pin(&self, ctx: &Context<'_>, #[graphql(desc = "The moment.")] moment_id: ID) -> ApiResult<PinPayload> {
        let viewer = viewer_id(ctx)?;
        let raw = ids::decode_as(NodeKind::Moment, &moment_id, "momentId")?;
        let request = request(ctx)?;
        let me = viewer_record(ctx).await?;
        let services = services(ctx)?;
        let pinning =
            store::pins::pin(&services.db.write, viewer, &me.handle, &services.pin_policy, raw, request.now()).await?;
        // A pin kept as it was is no news: only a change is published.
        if pinning.changed {
            services.bus.publish(Change::Moment { author: viewer, moment: raw, kind: ChangeKind::Pinned }).await;
        }
        Ok(PinPayload { moment: Moment(Arc::new(pinning.moment)) })
    }

    /// Unpins one of the viewer's moments; always allowed to the author, and fine when not pinned.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn unpin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The moment.")] moment_id: ID,
    ) -> ApiResult<UnpinPayload> {
        let viewer = viewer_id(ctx)?;
        let raw = ids::decode_as(NodeKind::Moment, &moment_id, "momentId")?;
        let services = services(ctx)?;
        let pinning = store::pins::unpin(&services.db.write, viewer, raw, request(ctx)?.now()).await?;
        // Unpinning a moment that was not pinned changes nothing and tells no one anything: its
        // `REMOVED` would reach viewers who never saw it.
        if pinning.changed {
            services.bus.publish(Change::Moment { author: viewer, moment: raw, kind: ChangeKind::Unpinned }).await;
        }
        Ok(UnpinPayload { moment: Moment(Arc::new(pinning.moment)) })
    }

    /// Changes the viewer's moments settings.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn update_moments_settings(
        &self,
        ctx: &Context<'_>,
        input: MomentsSettingsInput,
    ) -> ApiResult<MomentsSettings> {
        let viewer = viewer_id(ctx)?;
        let services = services(ctx)?;
        let record = store::users::update_settings(
            &services.db.write,
            viewer,
            input.visible_window.map(Into::into),
            input.strangers_can_view,
        )
        .await?;
        services.bus.publish(Change::Access { author: viewer, viewer: None }).await;
        Ok(MomentsSettings { user: viewer, record })
    }

    /// Hides all the viewer's moments, pinned ones included, from a user.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn hide_moments_from(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] user_id: ID,
    ) -> ApiResult<MomentsSettings> {
        Ok(self.set_hidden(ctx, &user_id, true).await?)
    }

    /// Shows the viewer's moments again to a user they were hidden from.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn unhide_moments_from(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] user_id: ID,
    ) -> ApiResult<MomentsSettings> {
        Ok(self.set_hidden(ctx, &user_id, false).await?)
    }

    /// Asks a user to be friends; if they had asked the viewer already, the two become friends.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn send_friend_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] user_id: ID,
    ) -> ApiResult<FriendshipPayload> {
        let viewer = viewer_id(ctx)?;
        let other = other_user(ctx, &user_id).await?;
        let services = services(ctx)?;
        let state =
            store::friends::request_friend(&services.db.write, viewer, other.record().id, request(ctx)?.now()).await?;
        if state == FriendState::Friends {
            services.bus.publish_all(&each_others_view(viewer, other.record().id)).await;
        }
        Ok(friendship_payload(other, state))
    }

    /// Accepts a user's friend request.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn accept_friend_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who asked.")] user_id: ID,
    ) -> ApiResult<FriendshipPayload> {
        let viewer = viewer_id(ctx)?;
        let other = other_user(ctx, &user_id).await?;
        let services = services(ctx)?;
        store::friends::accept_friend(&services.db.write, viewer, other.record().id, request(ctx)?.now()).await?;
        services.bus.publish_all(&each_others_view(viewer, other.record().id)).await;
        Ok(friendship_payload(other, FriendState::Friends))
    }

    /// Ends a friendship, declines a request or withdraws one. The other user becomes a stranger
    /// at once.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn remove_friend(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] user_id: ID,
    ) -> ApiResult<FriendshipPayload> {
        let viewer = viewer_id(ctx)?;
        let other = other_user(ctx, &user_id).await?;
        let services = services(ctx)?;
        store::friends::remove_friend(&services.db.write, viewer, other.record().id).await?;
        services.bus.publish_all(&each_others_view(viewer, other.record().id)).await;
        Ok(friendship_payload(other, FriendState::None))
    }

    /// Creates a tag of the viewer's friends.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn create_tag(&self, ctx: &Context<'_>, input: CreateTagInput) -> ApiResult<TagPayload> {
        let viewer = viewer_id(ctx)?;
        let name = TagName::parse(&input.name)?;
        let members = user_ids(&input.member_ids, "memberIds")?;
        let tag =
            store::tags::create_tag(&services(ctx)?.db.write, viewer, &name, &members, request(ctx)?.now()).await?;
        Ok(TagPayload { tag: Tag(tag) })
    }

    /// Replaces the members of one of the viewer's tags.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn set_tag_members(&self, ctx: &Context<'_>, input: SetTagMembersInput) -> ApiResult<TagPayload> {
        let viewer = viewer_id(ctx)?;
        let tag = ids::decode_as(NodeKind::Tag, &input.tag_id, "tagId")?;
        let members = user_ids(&input.member_ids, "memberIds")?;
        let services = services(ctx)?;
        let (tag, joined_or_left) =
            store::tags::update_tag(&services.db.write, viewer, tag, None, Some(&members)).await?;
        let changes: Vec<_> =
            joined_or_left.into_iter().map(|who| Change::Tagged { author: viewer, viewer: who, tag: tag.id }).collect();
        services.bus.publish_all(&changes).await;
        Ok(TagPayload { tag: Tag(tag) })
    }

    /// Deletes one of the viewer's tags. Moments that named it keep the audience they had: its
    /// members are written into them by name.
    #[graphql(complexity = "MUTATION_FIELD_COST + child_complexity")]
    async fn delete_tag(&self, ctx: &Context<'_>, #[graphql(desc = "The tag.")] id: ID) -> ApiResult<DeleteTagPayload> {
        let viewer = viewer_id(ctx)?;
        let tag = ids::decode_as(NodeKind::Tag, &id, "id")?;
        store::tags::delete_tag(&services(ctx)?.db.write, viewer, tag).await?;
        Ok(DeleteTagPayload { deleted_tag_id: id })
    }
}

impl Mutation {
    async fn set_hidden(&self, ctx: &Context<'_>, user_id: &ID, hidden: bool) -> Result<MomentsSettings> {
        let viewer = viewer_id(ctx)?;
        let other = other_user(ctx, user_id).await?;
        let services = services(ctx)?;
        let db = &services.db.write;
        store::friends::set_hidden(db, viewer, other.record().id, hidden).await?;
        services.bus.publish(Change::Access { author: viewer, viewer: Some(other.record().id) }).await;
        let record = store::users::settings(db, viewer).await?;
        Ok(MomentsSettings { user: viewer, record })
    }
}

/// A friendship began or ended: what each of the two may see of the other may have changed.
fn each_others_view(a: UserId, b: UserId) -> [Change; 2] {
    [Change::Access { author: a, viewer: Some(b) }, Change::Access { author: b, viewer: Some(a) }]
}
