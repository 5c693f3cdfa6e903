//! What every resolver reads: the server's services (from the schema) and the request's viewer, its
//! clock reading and loaders (from the request, made once by the HTTP layer).

use std::{sync::Arc, time::Duration};

use async_graphql::{
    Context,
    dataloader::{DataLoader, HashMapCache},
};
use chrono::{DateTime, Utc};

use super::{
    budget::RequestLimits,
    loaders::{AudienceLoader, FriendLoader, LoadError, TagLoader, TagMembersLoader, UserLoader},
};
use crate::{
    auth::Viewer,
    error::{Error, Result},
    services::Services,
};
use rules::UserId;
use store::{pins, users::UserRecord};

/// How long a loader waits for more keys of the same round before it queries. Sibling fields
/// register their keys in the same poll, so a short wait loses no batching.
const LOADER_DELAY: Duration = Duration::from_micros(200);

/// What the viewer of this request may do about pinning (P4, P5), worked out once per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PinCapability {
    /// Pinning is rolled out to the viewer.
    pub enabled: bool,
    /// The viewer has reached the operator's pin limit.
    pub limit_reached: bool,
}

/// Per-request data.
pub(crate) struct RequestContext {
    /// Who is asking.
    pub viewer: Viewer,
    /// The time the whole request (or one subscription event) is answered at.
    now: std::sync::Mutex<DateTime<Utc>>,
    /// Users by id (cached for the request).
    pub users: DataLoader<UserLoader, HashMapCache>,
    /// Friendship with the viewer.
    pub friends: Option<DataLoader<FriendLoader>>,
    /// Audience lists by moment.
    pub audiences: DataLoader<AudienceLoader>,
    /// Tags by id.
    pub tags: DataLoader<TagLoader>,
    /// Tag members by tag.
    pub tag_members: DataLoader<TagMembersLoader>,
    /// What the HTTP request may still take (shared by the operations of a batch).
    pub limits: Arc<RequestLimits>,
    /// Computed once per request (or event), however many moments ask: a new cell per event.
    pin_capability: std::sync::Mutex<Arc<tokio::sync::OnceCell<PinCapability>>>,
}

impl RequestContext {
    /// The context of one operation. `viewer_record`, read when the viewer was decided, is put in
    /// the users loader, so asking for the viewer costs no statement.
    pub(crate) async fn new(
        services: &Services,
        viewer: Viewer,
        viewer_record: Option<UserRecord>,
        limits: Arc<RequestLimits>,
    ) -> Self {
        let read = &services.db.read;
        let friends = match &viewer {
            Viewer::User(id) => {
                Some(DataLoader::new(FriendLoader { db: read.clone(), viewer: *id }, tokio::spawn).delay(LOADER_DELAY))
            }
            _ => None,
        };
        let context = Self {
            now: std::sync::Mutex::new(services.clock.now()),
            users: DataLoader::with_cache(UserLoader(read.clone()), tokio::spawn, HashMapCache::default())
                .delay(LOADER_DELAY),
            friends,
            audiences: DataLoader::new(AudienceLoader(read.clone()), tokio::spawn).delay(LOADER_DELAY),
            tags: DataLoader::new(TagLoader(read.clone()), tokio::spawn).delay(LOADER_DELAY),
            tag_members: DataLoader::new(TagMembersLoader(read.clone()), tokio::spawn).delay(LOADER_DELAY),
            limits,
            pin_capability: std::sync::Mutex::default(),
            viewer,
        };
        if let Some(record) = viewer_record {
            context.users.feed_one(record.id, record).await;
        }
        context
    }

    /// The time the request (or the event being delivered) is answered at.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts answering one event of a subscription as if it were a new request: its own time and
    /// budget, and nothing remembered from earlier events (users, the viewer's pinning).
    pub(crate) fn begin_event(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = now;
        *self.pin_capability.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::default();
        self.users.clear();
        self.limits.renew();
    }
}

/// The server's services.
pub(crate) fn services<'a>(ctx: &Context<'a>) -> Result<&'a Services> {
    ctx.data::<Services>().map_err(|_| anyhow::anyhow!("the schema was built without services").into())
}

/// This request's context.
pub(crate) fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext> {
    ctx.data::<RequestContext>().map_err(|_| anyhow::anyhow!("the request carries no context").into())
}

/// What this request may still take.
pub(crate) fn limits<'a>(ctx: &Context<'a>) -> Result<&'a RequestLimits> {
    Ok(&request(ctx)?.limits)
}

/// The signed-in viewer, or `UNAUTHENTICATED` (V2).
pub(crate) fn viewer_id(ctx: &Context<'_>) -> Result<UserId> {
    request(ctx)?.viewer.require()
}

/// The signed-in viewer's record (read when the request began, so no statement of its own), or
/// `UNAUTHENTICATED`.
pub(crate) async fn viewer_record(ctx: &Context<'_>) -> Result<UserRecord> {
    let viewer = viewer_id(ctx)?;
    loaded(request(ctx)?.users.load_one(viewer).await)?
        .ok_or_else(|| Error::Unauthenticated("the token's user no longer exists".into()))
}

/// Turns a loader's shared error back into one for this field.
pub(crate) fn loaded<T>(result: Result<T, LoadError>) -> Result<T> {
    result.map_err(|e| match Error::clone_for_client(&e) {
        Some(e) => e,
        None => anyhow::anyhow!("loading failed: {e}").into(),
    })
}

/// The viewer's pinning capability, computed on first use and shared by every moment of the request.
pub(crate) async fn pin_capability(ctx: &Context<'_>) -> Result<PinCapability> {
    let request = request(ctx)?;
    let services = services(ctx)?;
    let viewer = request.viewer.require()?;
    let cell = request.pin_capability.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    cell.get_or_try_init(|| async {
        // The viewer was read when the request began: only the pins need counting, and only when
        // the operator set a limit.
        let me = viewer_record(ctx).await?;
        let policy = &services.pin_policy;
        let pinned = match policy.limit {
            Some(_) => pins::count(&services.db.read, viewer).await?,
            None => 0,
        };
        Ok(PinCapability {
            enabled: policy.enabled_for(viewer, &me.handle),
            limit_reached: policy.limit_reached(pinned),
        })
    })
    .await
    .copied()
}
