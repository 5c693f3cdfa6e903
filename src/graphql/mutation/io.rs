//! What mutations take and give: their inputs, checked into the rules' types by the resolvers,
//! and their payloads.

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::{
    context::viewer_record,
    types::{AudienceMode, FriendshipStatus, Moment, Profile, Tag, User, VisibleWindow, profile_of},
};
use crate::limits::STATEMENT_FIELD_COST;

/// A new account.
#[derive(InputObject)]
pub(crate) struct SignUpInput {
    /// The handle to take, `[a-z0-9_]{3,32}`.
    pub handle: String,
    /// The name to show, 1 to 64 characters.
    pub display_name: String,
    /// 8 to 128 characters.
    pub password: String,
}

/// Credentials.
#[derive(InputObject)]
pub(crate) struct SignInInput {
    /// The account's handle.
    pub handle: String,
    /// Its password.
    pub password: String,
}

/// A token and the user it names.
#[derive(SimpleObject)]
pub(crate) struct AuthPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The signed-in user.
    pub user: User,
}

/// A picture or a video to attach.
#[derive(InputObject)]
pub(crate) struct MediaInput {
    /// An http(s) URL.
    pub url: String,
    /// Width in pixels.
    pub width: Option<i32>,
    /// Height in pixels.
    pub height: Option<i32>,
}

/// An article to share.
#[derive(InputObject)]
pub(crate) struct ArticleInput {
    /// An http(s) URL.
    pub url: String,
    /// Its title.
    pub title: String,
}

/// Who may see a new moment.
#[derive(InputObject)]
pub(crate) struct AudienceInput {
    /// The mode.
    pub mode: AudienceMode,
    /// Friends to name (`INCLUDE`/`EXCLUDE` only).
    #[graphql(default)]
    pub user_ids: Vec<ID>,
    /// Own tags to name (`INCLUDE`/`EXCLUDE` only).
    #[graphql(default)]
    pub tag_ids: Vec<ID>,
}

/// A new moment. Give text, 1 to 9 images, a video or an article (at most one of the last three);
/// the kind follows from what is given.
#[derive(InputObject)]
pub(crate) struct PostMomentInput {
    /// Up to 2,000 characters.
    pub text: Option<String>,
    /// 1 to 9 pictures, in order.
    pub images: Option<Vec<MediaInput>>,
    /// One video.
    pub video: Option<MediaInput>,
    /// A shared article.
    pub article: Option<ArticleInput>,
    /// Who may see it; `PUBLIC` when left out.
    pub audience: Option<AudienceInput>,
}

/// The posted moment.
#[derive(SimpleObject)]
pub(crate) struct PostMomentPayload {
    /// The new moment.
    pub moment: Moment,
}

/// What was deleted.
#[derive(SimpleObject)]
pub(crate) struct DeleteMomentPayload {
    /// The id of the deleted moment.
    pub deleted_moment_id: ID,
}

/// The pinned moment, and the page it is pinned on.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct PinPayload {
    /// The moment, now pinned.
    pub moment: Moment,
}

#[ComplexObject]
impl PinPayload {
    /// The viewer's own moments page, as it is now: its `pinned` block holds the moment.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn profile(&self, ctx: &Context<'_>) -> ApiResult<Profile> {
        own_profile(ctx).await
    }
}

/// The unpinned moment, and the page it was pinned on.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct UnpinPayload {
    /// The moment, no longer pinned.
    pub moment: Moment,
}

#[ComplexObject]
impl UnpinPayload {
    /// The viewer's own moments page, as it is now: its `pinned` block no longer holds the moment.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn profile(&self, ctx: &Context<'_>) -> ApiResult<Profile> {
        own_profile(ctx).await
    }
}

/// The viewer's own moments page.
async fn own_profile(ctx: &Context<'_>) -> ApiResult<Profile> {
    Ok(profile_of(ctx, viewer_record(ctx).await?).await?)
}

/// Settings to change; left-out fields stay as they are.
#[derive(InputObject)]
pub(crate) struct MomentsSettingsInput {
    /// How far back others may look.
    pub visible_window: Option<VisibleWindow>,
    /// Whether strangers may see the ten newest public moments.
    pub strangers_can_view: Option<bool>,
}

/// A user and where the viewer now stands with them.
#[derive(SimpleObject)]
pub(crate) struct FriendshipPayload {
    /// The other user.
    pub user: User,
    /// Where the viewer stands with them now.
    pub status: FriendshipStatus,
}

/// A new tag.
#[derive(InputObject)]
pub(crate) struct CreateTagInput {
    /// 1 to 64 characters, unique among the viewer's tags.
    pub name: String,
    /// Friends to put in it.
    #[graphql(default)]
    pub member_ids: Vec<ID>,
}

/// New members for a tag.
#[derive(InputObject)]
pub(crate) struct SetTagMembersInput {
    /// The viewer's tag.
    pub tag_id: ID,
    /// Its members from now on (friends of the viewer).
    pub member_ids: Vec<ID>,
}

/// A tag.
#[derive(SimpleObject)]
pub(crate) struct TagPayload {
    /// The tag.
    pub tag: Tag,
}

/// What was deleted.
#[derive(SimpleObject)]
pub(crate) struct DeleteTagPayload {
    /// The id of the deleted tag.
    pub deleted_tag_id: ID,
}
