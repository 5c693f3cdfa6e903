//! The object types of the schema (SPEC §5) and the enums they share with inputs. Storage records
//! come in from the store; nothing here queries the database except through the store or a loader.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Interface, Object, SimpleObject};

use super::{
    DEFAULT_PAGE, LIST_FIELD_COST, MAX_IMAGES_COST, MAX_PAGE, OWNER_LIST_COST, STATEMENT_FIELD_COST,
    context::{limits, loaded, pin_capability, request, services, viewer_id},
    cursor::{self, Scope},
    guards::OwnerOnly,
    scalars::DateTime,
};
use crate::{
    domain::{
        self, UserId,
        input::{Handle, MAX_AUDIENCE_TAGS, MAX_AUDIENCE_USERS, TagName},
        pinning::PinFacts,
    },
    error::{ApiResult, Error, Result},
    ids::{self, NodeKind},
    store::{
        self,
        moments::{ListQuery, MomentRecord, Pins},
        social::{NamePage, Related, TagRecord},
        users::{SettingsRecord, UserRecord},
        visibility::{self, Access},
    },
};

/// What a moment holds; it follows from the content.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "MomentKind", remote = "crate::domain::MomentKind")]
pub enum MomentKind {
    /// Text only.
    Text,
    /// One to nine pictures, text optional.
    Images,
    /// One video, text optional.
    Video,
    /// A shared link with a title, text optional.
    Article,
}

/// Who among the author's friends may see a moment.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "AudienceMode", remote = "crate::domain::AudienceMode")]
pub enum AudienceMode {
    /// All the author's friends.
    Public,
    /// Only the author.
    Private,
    /// Only the listed friends and the members of the listed tags.
    Include,
    /// All friends except the listed ones and the members of the listed tags.
    Exclude,
}

/// How far back others may look at a user's moments.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "VisibleWindow", remote = "crate::domain::VisibleWindow")]
pub enum VisibleWindow {
    /// Everything.
    All,
    /// The last six calendar months.
    SixMonths,
    /// The last calendar month.
    OneMonth,
    /// The last 72 hours.
    ThreeDays,
}

/// A reason the viewer cannot pin a moment.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "PinBlocker", remote = "crate::domain::pinning::PinBlocker")]
pub enum PinBlocker {
    /// Only the author can pin a moment.
    NotAuthor,
    /// Text and articles cannot be pinned; pictures and videos can.
    UnsupportedKind,
    /// Posted more than six calendar months ago.
    TooOld,
    /// Already pinned.
    AlreadyPinned,
    /// The pin limit of this server is reached.
    LimitReached,
    /// Pinning is not available to the viewer yet.
    PinningNotEnabled,
}

/// Where the viewer stands with another user as friends.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::store::social::FriendState")]
pub enum FriendshipStatus {
    /// Mutual friends.
    Friends,
    /// The viewer asked; no answer yet.
    RequestSent,
    /// The other user asked; the viewer can accept.
    RequestReceived,
    /// Neither.
    None,
}

/// Something with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "An opaque global id."))]
pub enum Node {
    /// A user.
    User(User),
    /// A moment.
    Moment(Moment),
    /// A tag.
    Tag(Tag),
    /// A user's moments page.
    Profile(Profile),
}

/// A person with a profile.
#[derive(Clone, Debug)]
pub struct User {
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
    pub fn with_friendship(record: UserRecord, is_friend: bool) -> Self {
        Self { record, friend_of_viewer: Some(is_friend) }
    }

    /// The user's record.
    pub fn record(&self) -> &UserRecord {
        &self.record
    }
}

/// A person with a profile.
#[Object]
impl User {
    /// An opaque global id.
    async fn id(&self) -> ID {
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
        if !OwnerOnly(self.record.id).admits(ctx)? {
            return Ok(None);
        }
        Ok(Some(owned_users(ctx, self.record.id, Related::Friends, first, after).await?))
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
        if !OwnerOnly(self.record.id).admits(ctx)? {
            return Ok(None);
        }
        Ok(Some(owned_users(ctx, self.record.id, Related::RequestsIn, first, after).await?))
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
        if !OwnerOnly(self.record.id).admits(ctx)? {
            return Ok(None);
        }
        Ok(Some(owned_users(ctx, self.record.id, Related::RequestsOut, first, after).await?))
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
            store::social::tags_of(&services(ctx)?.db.read, self.record.id, &page).await?
        };
        limits(ctx)?.spend(list.iter().map(TagRecord::content_bytes).sum())?;
        Ok(Some(list.into_iter().map(Tag).collect()))
    }
}

/// A page of a list of users by handle: `first` 0–100 (100 when left out), after a handle.
pub fn handle_page(first: Option<i32>, after: Option<String>) -> Result<NamePage> {
    let after = after
        .map(|a| Handle::parse(&a).map(|h| h.as_str().to_owned()))
        .transpose()
        .map_err(|e| Error::bad_input(format!("after: not a handle ({})", e.0)))?;
    Ok(NamePage { first: check_first_or(first, MAX_PAGE)?, after })
}

/// A page of one of `owner`'s lists of users, in the request's turn, spent from its budget. The
/// caller has checked that the viewer is the owner.
async fn owned_users(
    ctx: &Context<'_>,
    owner: UserId,
    related: Related,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Vec<User>> {
    let page = handle_page(first, after)?;
    let list = {
        let _turn = limits(ctx)?.statement_turn().await?;
        store::social::related_users(&services(ctx)?.db.read, owner, related, &page).await?
    };
    spend_users(ctx, &list)?;
    Ok(list.into_iter().map(User::from).collect())
}

/// The moments page of `user` as the viewer may see it.
pub async fn profile_of(ctx: &Context<'_>, user: UserRecord) -> Result<Profile> {
    let viewer = viewer_id(ctx)?;
    let _turn = limits(ctx)?.statement_turn().await?;
    let access = store::moments::access(&services(ctx)?.db.read, viewer, user.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {} has no settings", user.id))?;
    Ok(Profile { user, access })
}

/// A user's moments page: the pinned block and the timeline, as the viewer may see them.
pub struct Profile {
    /// Whose page.
    pub user: UserRecord,
    /// What the viewer may see of them.
    pub access: Access,
}

/// Whether the selection under one of `paths` asks for `media`.
pub fn wants_media(ctx: &Context<'_>, paths: &[&[&str]]) -> bool {
    paths.iter().any(|path| {
        let mut look = ctx.look_ahead();
        for field in *path {
            look = look.field(field);
        }
        look.field("media").exists()
    })
}

/// How many items a page of `first` counts for in the complexity limit.
pub fn page_cost(first: Option<i32>) -> usize {
    first.unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE) as usize
}

/// How many items a list whose `first` is 100 when left out (`pinned`, the owner's lists) counts
/// for in the complexity limit.
pub fn full_page_cost(first: Option<i32>) -> usize {
    first.unwrap_or(MAX_PAGE).clamp(0, MAX_PAGE) as usize
}

/// Checks `first` (0–100; 20 when left out or null).
pub fn check_first(first: Option<i32>) -> Result<u64> {
    check_first_or(first, DEFAULT_PAGE)
}

/// Checks `first` (0–100; `default` when left out or null).
pub fn check_first_or(first: Option<i32>, default: i32) -> Result<u64> {
    let first = first.unwrap_or(default);
    if (0..=MAX_PAGE).contains(&first) {
        Ok(first as u64)
    } else {
        Err(Error::bad_input(format!("first: must be between 0 and {MAX_PAGE}, got {first}")))
    }
}

/// Spends what a list of users holds from the request's budget.
pub fn spend_users(ctx: &Context<'_>, users: &[UserRecord]) -> Result<()> {
    limits(ctx)?.spend(users.iter().map(UserRecord::content_bytes).sum())
}

/// Spends what a list of moments holds from the request's budget.
pub fn spend_moments(ctx: &Context<'_>, moments: &[MomentRecord]) -> Result<()> {
    limits(ctx)?.spend(moments.iter().map(MomentRecord::content_bytes).sum())
}

/// Runs one list query for this request: after the budget is checked, in the request's turn, and
/// with what the rows hold spent from the budget.
pub async fn list_moments(ctx: &Context<'_>, q: &ListQuery) -> Result<Vec<MomentRecord>> {
    let records = {
        let _turn = limits(ctx)?.statement_turn().await?;
        store::moments::list(&services(ctx)?.db.read, q).await?
    };
    spend_moments(ctx, &records)?;
    Ok(records)
}

/// A page of moments as a connection; `records` holds up to one more than `first`, which tells
/// whether there is a next page without a second query.
pub fn connection(
    ctx: &Context<'_>,
    mut records: Vec<MomentRecord>,
    first: u64,
    scope: Scope,
) -> Result<MomentConnection> {
    let keys = &services(ctx)?.keys;
    let has_next_page = records.len() as u64 > first;
    records.truncate(first as usize);
    let edges: Vec<MomentEdge> = records
        .into_iter()
        .map(|m| MomentEdge { cursor: cursor::encode(keys, scope, (m.posted_at, m.id)), node: Moment(Arc::new(m)) })
        .collect();
    Ok(MomentConnection {
        page_info: PageInfo {
            has_next_page,
            has_previous_page: false,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
    })
}

/// A user's moments page as the viewer may see it: the pinned block on top, then the timeline.
/// Its `id` is the same however it was reached (`profile(handle:)`, `User.profile`, a payload), so
/// a normalized cache holds one copy.
#[Object]
impl Profile {
    /// An opaque global id, one per user's page.
    async fn id(&self) -> ID {
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
        let first = check_first_or(first, MAX_PAGE)?;
        let records = self.pinned_page(ctx, first, after, wants_media(ctx, &[&[]])).await?;
        Ok(records.into_iter().map(|m| Moment(Arc::new(m))).collect())
    }

    /// The same pinned moments as `pinned`, as a connection with cursors and `hasNextPage`.
    #[graphql(complexity = "LIST_FIELD_COST + page_cost(first) * child_complexity")]
    async fn pinned_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many pinned moments, 0 to 100.", default_with = "Some(20)")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> ApiResult<MomentConnection> {
        let first = check_first(first)?;
        let with_media = wants_media(ctx, &[&["nodes"], &["edges", "node"]]);
        let records = self.pinned_page(ctx, first + 1, after, with_media).await?;
        Ok(connection(ctx, records, first, Scope::Author(self.user.id))?)
    }

    /// The moments the viewer may see, newest first, pinned ones in their place (marked
    /// `isPinned`) unless `excludePinned`.
    #[graphql(complexity = "LIST_FIELD_COST + page_cost(first) * child_complexity")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many moments, 0 to 100.", default_with = "Some(20)")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "Leave pinned moments out, for clients that show `pinned` above.",
            default_with = "Some(false)"
        )]
        exclude_pinned: Option<bool>,
    ) -> ApiResult<MomentConnection> {
        let first = check_first(first)?;
        let exclude_pinned = exclude_pinned.unwrap_or(false);
        let services = services(ctx)?;
        let scope = Scope::Author(self.user.id);
        let after = after.map(|c| cursor::decode(&services.keys, scope, &c)).transpose()?;
        let request = request(ctx)?;
        let Some(filter) = visibility::timeline_condition(&self.access, request.now) else {
            return Ok(connection(ctx, Vec::new(), first, scope)?);
        };
        let q = ListQuery {
            viewer: self.access.viewer,
            author: Some(self.access.author),
            filter,
            pins: if exclude_pinned { Pins::Exclude } else { Pins::Any },
            after,
            limit: Some(first + 1),
            with_media: wants_media(ctx, &[&["nodes"], &["edges", "node"]]),
            ids_first: false,
        };
        let list = list_moments(ctx, &q).await?;
        Ok(connection(ctx, list, first, scope)?)
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
    /// Up to `limit` of the pinned moments the viewer may see, after the cursor `after`.
    async fn pinned_page(
        &self,
        ctx: &Context<'_>,
        limit: u64,
        after: Option<String>,
        with_media: bool,
    ) -> Result<Vec<MomentRecord>> {
        let after = after.map(|c| cursor::decode(&services(ctx)?.keys, Scope::Author(self.user.id), &c)).transpose()?;
        let Some(filter) = visibility::pinned_condition(&self.access) else {
            return Ok(Vec::new());
        };
        let q = ListQuery {
            viewer: self.access.viewer,
            author: Some(self.access.author),
            filter,
            pins: Pins::Only,
            after,
            limit: Some(limit),
            with_media,
            ids_first: false,
        };
        list_moments(ctx, &q).await
    }
}

/// A post: text, pictures, a video or a shared article.
#[derive(Clone, Debug)]
pub struct Moment(pub Arc<MomentRecord>);

/// A post: text, pictures, a video or a shared article. Only viewers allowed to see it ever
/// reach it.
#[Object]
impl Moment {
    /// An opaque global id.
    async fn id(&self) -> ID {
        ID(ids::encode(NodeKind::Moment, self.0.id))
    }

    /// Who posted it.
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<User> {
        if let Some(author) = &self.0.author {
            return Ok(User::with_friendship(author.clone(), self.0.author_is_friend.unwrap_or(false)));
        }
        let user = loaded(request(ctx)?.users.load_one(self.0.author_id).await)?
            .ok_or_else(|| anyhow::anyhow!("moment {} has no author", self.0.id))?;
        Ok(User::from(user))
    }

    /// What it holds.
    async fn kind(&self) -> MomentKind {
        self.0.kind.into()
    }

    /// Its text, if any.
    async fn text(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        if let Some(text) = &self.0.text {
            limits(ctx)?.spend(text.len())?;
        }
        Ok(self.0.text.as_deref())
    }

    /// Its pictures in order, or its one video; empty for text and articles.
    #[graphql(complexity = "MAX_IMAGES_COST * child_complexity")]
    async fn media(&self) -> Vec<Media> {
        self.0.media.iter().map(|m| Media { url: m.url.clone(), width: m.width, height: m.height }).collect()
    }

    /// The shared article, for `ARTICLE` moments.
    async fn article(&self) -> Option<Article> {
        self.0.article.as_ref().map(|(url, title)| Article { url: url.clone(), title: title.clone() })
    }

    /// When it was posted.
    async fn posted_at(&self) -> DateTime {
        self.0.posted_at.into()
    }

    /// Whether its author pinned it to their profile.
    async fn is_pinned(&self) -> bool {
        self.0.pinned_at.is_some()
    }

    /// When it was pinned. Only the author reads this; `null` for anyone else.
    async fn pinned_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime>> {
        if !OwnerOnly(self.0.author_id).admits(ctx)? {
            return Ok(None);
        }
        Ok(self.0.pinned_at.map(Into::into))
    }

    /// Who may see it. Only the author reads this; `null` for anyone else.
    async fn audience(&self, ctx: &Context<'_>) -> ApiResult<Option<Audience>> {
        if !OwnerOnly(self.0.author_id).admits(ctx)? {
            return Ok(None);
        }
        let (users, tags) = loaded(request(ctx)?.audiences.load_one(self.0.id).await)?.unwrap_or_default();
        Ok(Some(Audience { mode: self.0.audience.into(), user_ids: users, tag_ids: tags }))
    }

    /// Whether the viewer can pin it now.
    async fn viewer_can_pin(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(self.blockers(ctx).await?.is_empty())
    }

    /// Every reason the viewer cannot pin it now; empty when they can.
    async fn viewer_cannot_pin_reasons(&self, ctx: &Context<'_>) -> ApiResult<Vec<PinBlocker>> {
        Ok(self.blockers(ctx).await?.into_iter().map(Into::into).collect())
    }
}

impl Moment {
    async fn blockers(&self, ctx: &Context<'_>) -> Result<Vec<domain::pinning::PinBlocker>> {
        let viewer = viewer_id(ctx)?;
        let capability = pin_capability(ctx).await?;
        let facts = PinFacts {
            is_author: viewer == self.0.author_id,
            kind: self.0.kind,
            posted_at: self.0.posted_at,
            is_pinned: self.0.pinned_at.is_some(),
            limit_reached: capability.limit_reached,
            enabled: capability.enabled,
        };
        Ok(domain::pinning::pin_blockers(&facts, request(ctx)?.now))
    }
}

/// A picture or a video.
#[derive(Clone, Debug)]
pub struct Media {
    /// Where the file is.
    pub url: String,
    /// Width in pixels, if known.
    pub width: Option<i32>,
    /// Height in pixels, if known.
    pub height: Option<i32>,
}

/// A picture or a video.
#[Object]
impl Media {
    /// Where the file is.
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        limits(ctx)?.spend(self.url.len())?;
        Ok(&self.url)
    }

    /// Width in pixels, if known.
    async fn width(&self) -> Option<i32> {
        self.width
    }

    /// Height in pixels, if known.
    async fn height(&self) -> Option<i32> {
        self.height
    }
}

/// A shared link.
#[derive(Clone, Debug)]
pub struct Article {
    /// Where the article is.
    pub url: String,
    /// Its title.
    pub title: String,
}

/// A shared link.
#[Object]
impl Article {
    /// Where the article is.
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        limits(ctx)?.spend(self.url.len())?;
        Ok(&self.url)
    }

    /// Its title.
    async fn title(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        limits(ctx)?.spend(self.title.len())?;
        Ok(&self.title)
    }
}

/// Who may see a moment.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Audience {
    /// The mode.
    pub mode: AudienceMode,
    #[graphql(skip)]
    pub user_ids: Vec<UserId>,
    #[graphql(skip)]
    pub tag_ids: Vec<i64>,
}

#[ComplexObject]
impl Audience {
    /// Friends named in an `INCLUDE` or `EXCLUDE` audience, by handle.
    #[graphql(complexity = "MAX_AUDIENCE_USERS * child_complexity")]
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        Ok(load_users(ctx, &self.user_ids).await?)
    }

    /// Tags named in an `INCLUDE` or `EXCLUDE` audience, by name.
    #[graphql(complexity = "MAX_AUDIENCE_TAGS * child_complexity")]
    async fn tags(&self, ctx: &Context<'_>) -> ApiResult<Vec<Tag>> {
        limits(ctx)?.check()?;
        let found = loaded(request(ctx)?.tags.load_many(self.tag_ids.iter().copied()).await)?;
        limits(ctx)?.spend(found.values().map(TagRecord::content_bytes).sum())?;
        let mut tags: Vec<TagRecord> = found.into_values().collect();
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tags.into_iter().map(Tag).collect())
    }
}

/// Users by id through the request's loader, by handle.
pub async fn load_users(ctx: &Context<'_>, ids: &[UserId]) -> Result<Vec<User>> {
    limits(ctx)?.check()?;
    let found = loaded(request(ctx)?.users.load_many(ids.iter().copied()).await)?;
    let mut users: Vec<UserRecord> = found.into_values().collect();
    spend_users(ctx, &users)?;
    users.sort_by(|a, b| a.handle.cmp(&b.handle));
    Ok(users.into_iter().map(User::from).collect())
}

/// A named group of the owner's friends, used in audiences. Only its owner sees it.
#[derive(Clone, Debug)]
pub struct Tag(pub TagRecord);

/// A named group of the owner's friends, used in audiences. Only its owner sees it.
#[Object]
impl Tag {
    /// An opaque global id.
    async fn id(&self) -> ID {
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

/// A user's moments settings.
pub struct MomentsSettings {
    /// Whose.
    pub user: UserId,
    /// The values.
    pub record: SettingsRecord,
}

/// A user's moments settings: how far back others may look, and whether strangers may look.
#[Object]
impl MomentsSettings {
    /// How far back others may look.
    async fn visible_window(&self) -> VisibleWindow {
        self.record.visible_window.into()
    }

    /// Whether strangers may see the ten newest public moments.
    async fn strangers_can_view(&self) -> bool {
        self.record.strangers_can_view
    }

    /// Users from whom all the owner's moments are hidden, pinned ones included, by handle, 100 at
    /// a time.
    #[graphql(complexity = "OWNER_LIST_COST + full_page_cost(first) * child_complexity")]
    async fn hidden_from(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The handle of the last user of the previous page.")] after: Option<String>,
    ) -> ApiResult<Vec<User>> {
        Ok(owned_users(ctx, self.user, Related::HiddenFrom, first, after).await?)
    }
}

/// A page of moments.
#[derive(SimpleObject)]
pub struct MomentConnection {
    /// The moments with their cursors.
    pub edges: Vec<MomentEdge>,
    /// The moments.
    pub nodes: Vec<Moment>,
    /// Where the page is.
    pub page_info: PageInfo,
}

/// A moment and its cursor.
#[derive(SimpleObject)]
pub struct MomentEdge {
    /// Pass as `after` to continue after this moment.
    pub cursor: String,
    /// The moment.
    pub node: Moment,
}

/// Where a page is in its list.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether more moments follow.
    pub has_next_page: bool,
    /// Always `false`: lists are read forward only.
    pub has_previous_page: bool,
    /// The cursor of the first edge.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}
