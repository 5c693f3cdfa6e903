//! `Subscription`: live changes to a profile (docs/rules.md §7). Each change is checked against the
//! viewer's rights when it is delivered, with the same rules as every list: a moment the viewer
//! cannot see now produces no event at all, whatever they could see when they subscribed; a
//! deleted moment is told only to viewers who could see it; and a change of rights is told only
//! when it changes what the viewer sees.

use async_graphql::{
    Context, Enum, ID, SimpleObject, Subscription as SubscriptionRoot,
    futures_util::{self, Stream},
};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{
    context::{request, services, viewer_id},
    types::Moment,
};
use crate::limits::STATEMENT_FIELD_COST;
use rules::{
    input::Handle,
    visibility::{Access, MomentFacts, moment_visible},
};

use crate::{
    bus::{Change, ChangeKind, Found, Heard, Signal},
    error::{ApiError, Error, Result},
    ids::{self, NodeKind},
};

/// Live changes.
pub(crate) struct Subscription;

/// Told once a subscription listens (its changes are heard from then on), when the request's data
/// holds one: the WebSocket handles a connection's next message only then. Dropped untold when the
/// subscription fails to start.
pub(crate) struct Listening(pub std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl Listening {
    /// A new one, and what it tells.
    pub(crate) fn new() -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (tell, told) = tokio::sync::oneshot::channel();
        (Self(std::sync::Mutex::new(Some(tell))), told)
    }

    /// Tells it (once; later calls do nothing).
    pub(crate) fn tell(&self) {
        if let Some(tell) = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            let _ = tell.send(());
        }
    }
}

/// What happened on a profile.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileEventKind {
    /// A moment was posted.
    Posted,
    /// A moment was pinned: it joins the pinned block.
    Pinned,
    /// A moment was unpinned: it leaves the pinned block.
    Unpinned,
    /// A moment the viewer could see is gone from what they see: deleted, or unpinned when only its
    /// pin showed it (the two look the same, as invisible and missing do). Drop it (`momentId`).
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
pub(crate) struct ProfileEvent {
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
        // Listening first: a change of rights made while the access is read is heard, and compared
        // with it.
        let changes = services.bus.subscribe().await;
        let (_, access) = store::access::profile_by_handle(db, viewer, handle.as_str()).await?.ok_or_else(no_user)?;
        // The operation's turn (taken before it was read and validated) ends with its start: from
        // here each event takes one of its own.
        owner.limits.end_turn();
        if let Some(listening) = ctx.data_opt::<Listening>() {
            listening.tell();
        }
        let watch = Watch { changes, access };
        Ok(futures_util::stream::unfold(watch, move |mut watch| async move {
            loop {
                let heard = match watch.changes.recv().await {
                    Ok(Signal::Change(heard)) => heard,
                    Ok(Signal::Missed) | Err(RecvError::Lagged(_)) => {
                        return Some((ProfileEvent::bare(ProfileEventKind::Resync), watch));
                    }
                    Err(RecvError::Closed) => return None,
                };
                if !watch.concerns(heard.change) {
                    continue;
                }
                // Each delivery runs in a turn of the server's, kept until its answer is handed to
                // the connection.
                let turn = owner.limits.event_turn().await;
                let now = services.clock.now();
                owner.begin_event(now);
                // Boxed: the statements' futures are large, and a waiting subscription should not
                // carry room for them.
                match Box::pin(watch.event(&heard, db, now)).await {
                    Ok(Some(event)) => {
                        owner.limits.keep_turn(turn);
                        return Some((event, watch));
                    }
                    // Invisible and missing are the same, and an unchanged view is no news: nothing
                    // is said.
                    Ok(None) => {}
                    Err(e) => crate::error::log_internal(&e),
                }
            }
        }))
    }
}

/// What one subscription keeps between events: its changes, and the viewer's rights to the
/// author when last told (a change of rights that shows the viewer nothing new is not news).
struct Watch {
    changes: broadcast::Receiver<Signal>,
    access: Access,
}

impl Watch {
    /// Whether a change is about this profile and may concern this viewer.
    fn concerns(&self, change: Change) -> bool {
        let viewer = self.access.viewer;
        change.author() == self.access.author
            && match change {
                Change::Moment { .. } | Change::Access { viewer: None, .. } => true,
                Change::Access { viewer: Some(who), .. } | Change::Tagged { viewer: who, .. } => who == viewer,
            }
    }

    /// The event `heard` makes for this viewer now, if any. Each check is made once per viewer
    /// and change, whatever number of subscriptions the viewer has.
    async fn event(
        &mut self,
        heard: &Heard,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<Option<ProfileEvent>> {
        let Access { viewer, author, .. } = self.access;
        let encoded = |id| Some(ID(ids::encode(NodeKind::Moment, id)));
        let gone = |id| ProfileEvent { kind: ProfileEventKind::Removed, moment: None, moment_id: encoded(id) };
        let view_changed = Some(ProfileEvent::bare(ProfileEventKind::ViewChanged));
        Ok(match heard.change {
            Change::Moment { moment, kind: ChangeKind::Removed, .. } => {
                let check = || async move {
                    Ok(Found::Whether(store::removals::was_visible(db, viewer, author, moment, now).await?))
                };
                matches!(heard.recheck(viewer, None, check).await?, Found::Whether(true)).then(|| gone(moment))
            }
            Change::Moment { moment, kind, .. } => {
                let check = || async move {
                    let Some((record, facts)) = store::lists::moment_with_facts(db, viewer, moment, now, true).await?
                    else {
                        return Ok(Found::Moment(None));
                    };
                    Ok(if record.author_id != author {
                        Found::Moment(None)
                    } else if moment_visible(&facts, now) {
                        Found::Moment(Some(Arc::new(record)))
                    } else {
                        // Unpinned, and shown before only by its pin: it is gone from the viewer's
                        // view, as a deleted one is.
                        Found::Whether(
                            kind == ChangeKind::Unpinned && moment_visible(&MomentFacts { pinned: true, ..facts }, now),
                        )
                    })
                };
                match heard.recheck(viewer, None, check).await? {
                    Found::Moment(Some(record)) => Some(ProfileEvent {
                        kind: kind.into(),
                        moment_id: encoded(record.id),
                        moment: Some(Moment(record)),
                    }),
                    Found::Whether(true) => Some(gone(moment)),
                    _ => None,
                }
            }
            Change::Access { .. } => {
                let check = || async move { Ok(Found::Access(store::access::access(db, viewer, author).await?)) };
                let Found::Access(Some(now_access)) = heard.recheck(viewer, None, check).await? else {
                    return Ok(None);
                };
                if now_access == self.access {
                    return Ok(None);
                }
                let before = std::mem::replace(&mut self.access, now_access);
                let check = || async move {
                    Ok(Found::Whether(store::lists::view_differs(db, &before, &now_access, now).await?))
                };
                matches!(heard.recheck(viewer, Some(before), check).await?, Found::Whether(true))
                    .then_some(view_changed)
                    .flatten()
            }
            Change::Tagged { tag, .. } => {
                let check = || async move {
                    let Some(access) = store::access::access(db, viewer, author).await? else {
                        return Ok(Found::Whether(false));
                    };
                    Ok(Found::Whether(store::audiences::tag_changes_view(db, &access, tag, now).await?))
                };
                matches!(heard.recheck(viewer, None, check).await?, Found::Whether(true))
                    .then_some(view_changed)
                    .flatten()
            }
        })
    }
}
