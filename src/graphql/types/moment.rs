//! `Moment` and what it holds: media, the shared article, and (for its author) the audience.

use crate::limits::MAX_IMAGES_COST;
use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};

use super::{
    AudienceMode, MomentKind, PinBlocker,
    connection::spend_moments,
    tag::Tag,
    user::{User, load_users},
};
use crate::{
    error::{ApiResult, Result},
    graphql::{
        context::{limits, loaded, pin_capability, request, services, viewer_id},
        guards::OwnerOnly,
        scalars::DateTime,
    },
    ids::{self, NodeKind},
};
use rules::{
    self, UserId,
    input::{MAX_AUDIENCE_TAGS, MAX_AUDIENCE_USERS},
    model::{MomentId, TagId},
    pinning::PinFacts,
};
use store::{self, records::MomentRecord, tags::TagRecord};

/// A moment the viewer may see, or `None` (missing and invisible are the same).
pub(crate) async fn visible_moment(ctx: &Context<'_>, id: MomentId) -> Result<Option<Moment>> {
    let viewer = viewer_id(ctx)?;
    let now = request(ctx)?.now();
    let found = {
        let _turn = limits(ctx)?.statement_turn().await?;
        store::lists::visible_moment(&services(ctx)?.db.read, viewer, id, now, true).await?
    };
    if let Some(m) = &found {
        spend_moments(ctx, std::slice::from_ref(m))?;
    }
    Ok(found.map(|m| Moment(Arc::new(m))))
}

/// A post: text, pictures, a video or a shared article.
#[derive(Clone, Debug)]
pub(crate) struct Moment(pub Arc<MomentRecord>);

/// A post: text, pictures, a video or a shared article. Only viewers allowed to see it ever
/// reach it.
#[Object]
impl Moment {
    /// An opaque global id.
    pub(super) async fn id(&self) -> ID {
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
    async fn blockers(&self, ctx: &Context<'_>) -> Result<Vec<rules::pinning::PinBlocker>> {
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
        Ok(rules::pinning::pin_blockers(&facts, request(ctx)?.now()))
    }
}

/// A picture or a video.
#[derive(Clone, Debug)]
pub(crate) struct Media {
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
pub(crate) struct Article {
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
pub(crate) struct Audience {
    /// The mode.
    pub mode: AudienceMode,
    /// The friends named, by id.
    #[graphql(skip)]
    pub user_ids: Vec<UserId>,
    /// The tags named, by id.
    #[graphql(skip)]
    pub tag_ids: Vec<TagId>,
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
