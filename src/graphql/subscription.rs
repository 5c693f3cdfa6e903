//! `Subscription`: live changes to a profile (SPEC §8). Each change is checked against the
//! viewer's rights when it is delivered, with the same rules as every list: a moment the viewer
//! cannot see now produces no event at all, whatever they could see when they subscribed; a
//! deleted moment is told only to viewers who could see it; and a change of rights is told only
//! when it changes what the viewer sees.

use async_graphql::{
    Context, Enum, ID, SimpleObject, Subscription as SubscriptionRoot,
    futures_util::{self, Stream},
};
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::{
    STATEMENT_FIELD_COST,
    context::{request, services, viewer_id},
    types::Moment,
};
use crate::{
    domain::{input::Handle, visibility::View},
    error::{ApiError, Error},
    ids::{self, NodeKind},
    live::{Change, ChangeKind, Found, Signal},
    store,
};

/// Live changes.
pub struct Subscription;

/// What happened on a profile.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileEventKind {
    /// A moment was posted.
    Posted,
    /// A moment was pinned: it joins the pinned block.
    Pinned,
    /// A moment was unpinned: it leaves the pinned block.
    Unpinned,
    /// A moment the viewer could see was deleted: drop it (`momentId`).
    Removed,
    /// What the viewer may see of the profile changed as a whole (its owner's settings, a
    /// friendship, a hide, a tag the viewer joined or left): query the profile again.
    ViewChanged,
    /// Changes were missed (the connection fell behind): query the profile again.
    Resync,
}

impl From<ChangeKind> for ProfileEventKind {
    fn from(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::Posted => Self::Posted,
            ChangeKind::Pinned => Self::Pinned,
            ChangeKind::Unpinned => Self::Unpinned,
            ChangeKind::Removed => Self::Removed,
        }
    }
}

/// A change to a profile, with what a client needs to update its cache without another query.
#[derive(SimpleObject)]
pub struct ProfileEvent {
    /// What happened.
    pub kind: ProfileEventKind,
    /// The moment it happened to, as the viewer may see it now (with `isPinned`); `null` for
    /// `REMOVED`, `VIEW_CHANGED` and `RESYNC`.
    pub moment: Option<Moment>,
    /// The id of that moment (of the deleted one for `REMOVED`); `null` for `VIEW_CHANGED` and
    /// `RESYNC`.
    pub moment_id: Option<ID>,
}

impl ProfileEvent {
    /// An event that names no moment.
    const fn bare(kind: ProfileEventKind) -> Self {
        Self { kind, moment: None, moment_id: None }
    }
}

#[SubscriptionRoot]
impl Subscription {
    /// Changes to the profile of the user with this handle, as the viewer may see them: moments
    /// posted, pinned, unpinned and deleted, and changes to what the viewer may see of the
    /// profile as a whole; each rechecked when it is delivered. Query the profile first, then
    /// subscribe; after a reconnection, query again.
    #[graphql(complexity = "STATEMENT_FIELD_COST + child_complexity")]
    async fn profile_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A handle.")] handle: String,
    ) -> Result<impl Stream<Item = ProfileEvent>, ApiError> {
        let viewer = viewer_id(ctx)?;
        let services = services(ctx)?;
        // Each event is answered like a new request: its own time and budget (the stream lives as
        // long as the subscription's context).
        let owner = request(ctx)?;
        let no_user = || Error::NotFound(format!("handle: no user has the handle {handle:?}"));
        let handle = Handle::parse(&handle).map_err(|_| no_user())?;
        let db = &services.db.read;
        let (_, access) = store::access::profile_by_handle(db, viewer, handle.as_str()).await?.ok_or_else(no_user)?;
        let author = access.author;
        let watch = Watch { changes: services.bus.subscribe().await, view: access.view() };
        Ok(futures_util::stream::unfold(watch, move |mut watch| async move {
            loop {
                let heard = match watch.changes.recv().await {
                    Ok(Signal::Change(heard)) => heard,
                    Ok(Signal::Missed) | Err(RecvError::Lagged(_)) => {
                        return Some((ProfileEvent::bare(ProfileEventKind::Resync), watch));
                    }
                    Err(RecvError::Closed) => return None,
                };
                let change = heard.change;
                let concerns_viewer = match change {
                    Change::Moment { .. } | Change::Access { viewer: None, .. } => true,
                    Change::Access { viewer: Some(who), .. } | Change::Tagged { viewer: who, .. } => who == viewer,
                };
                if change.author() != author || !concerns_viewer {
                    continue;
                }
                let now = services.clock.now();
                owner.begin_event(now);
                // One check per viewer and change, whatever number of subscriptions the viewer has.
                // (Boxed: the statements' futures are large, and a waiting subscription should
                // not carry room for them.)
                let found = Box::pin(heard.recheck(viewer, || async move {
                    Ok(match change {
                        Change::Moment { moment, kind: ChangeKind::Removed, .. } => {
                            Found::Whether(store::removals::was_visible(db, viewer, moment, now).await?)
                        }
                        Change::Moment { moment, .. } => Found::Moment(
                            store::lists::visible_moment(db, viewer, moment, now, true).await?.map(Arc::new),
                        ),
                        Change::Access { .. } => Found::Access(store::access::access(db, viewer, author).await?),
                        Change::Tagged { tag, .. } => {
                            let Some(access) = store::access::access(db, viewer, author).await? else {
                                return Ok(Found::Whether(false));
                            };
                            Found::Whether(store::audiences::tag_changes_view(db, &access, tag, now).await?)
                        }
                    })
                }))
                .await;
                let event = match (change, found) {
                    (Change::Moment { moment, kind: ChangeKind::Removed, .. }, Ok(Found::Whether(true))) => {
                        Some(ProfileEvent {
                            kind: ProfileEventKind::Removed,
                            moment: None,
                            moment_id: Some(ID(ids::encode(NodeKind::Moment, moment))),
                        })
                    }
                    (Change::Moment { kind, .. }, Ok(Found::Moment(Some(record)))) => Some(ProfileEvent {
                        kind: kind.into(),
                        moment_id: Some(ID(ids::encode(NodeKind::Moment, record.id))),
                        moment: Some(Moment(record)),
                    }),
                    (Change::Access { .. }, Ok(Found::Access(Some(access)))) => {
                        let view = access.view();
                        (view != watch.view).then(|| {
                            watch.view = view;
                            ProfileEvent::bare(ProfileEventKind::ViewChanged)
                        })
                    }
                    (Change::Tagged { .. }, Ok(Found::Whether(true))) => {
                        Some(ProfileEvent::bare(ProfileEventKind::ViewChanged))
                    }
                    (_, Err(e)) => {
                        crate::error::log_internal(&e);
                        None
                    }
                    // Invisible and missing are the same, and an unchanged view is no news:
                    // nothing is said.
                    _ => None,
                };
                if let Some(event) = event {
                    return Some((event, watch));
                }
            }
        }))
    }
}

/// What one subscription keeps between events: its changes, and what the viewer could see of the
/// profile when last told (a change of rights that leaves it the same is not news).
struct Watch {
    changes: broadcast::Receiver<Signal>,
    view: View,
}
