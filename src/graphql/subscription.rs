//! `Subscription`: live changes to a profile (SPEC §8). Each change is checked against the
//! viewer's rights when it is delivered, with the same rules as every list: a moment the viewer
//! cannot see now produces no event at all, whatever they could see when they subscribed.

use async_graphql::{
    Context, Enum, ID, SimpleObject, Subscription as SubscriptionRoot,
    futures_util::{self, Stream},
};
use tokio::sync::broadcast::error::RecvError;

use super::{
    STATEMENT_FIELD_COST,
    context::{request, services, viewer_id},
    types::Moment,
};
use crate::{
    domain::input::Handle,
    error::{ApiError, Error},
    ids::{self, NodeKind},
    live::{ChangeKind, Signal},
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
    /// Changes were missed (the connection fell behind): query the profile again.
    Resync,
}

impl From<ChangeKind> for ProfileEventKind {
    fn from(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::Posted => Self::Posted,
            ChangeKind::Pinned => Self::Pinned,
            ChangeKind::Unpinned => Self::Unpinned,
        }
    }
}

/// A change to a profile, with what a client needs to update its cache without another query.
#[derive(SimpleObject)]
pub struct ProfileEvent {
    /// What happened.
    pub kind: ProfileEventKind,
    /// The moment it happened to, as the viewer may see it now (with `isPinned`); `null` for
    /// `RESYNC`.
    pub moment: Option<Moment>,
    /// The id of that moment; `null` for `RESYNC`.
    pub moment_id: Option<ID>,
}

#[SubscriptionRoot]
impl Subscription {
    /// Changes to the moments of the user with this handle that the viewer may see: posted, pinned
    /// and unpinned moments, each rechecked when it is delivered. Query the profile first, then
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
        let author = store::users::by_handle(&services.db.read, handle.as_str()).await?.ok_or_else(no_user)?.id;
        let changes = services.bus.subscribe().await;
        Ok(futures_util::stream::unfold(changes, move |mut changes| async move {
            loop {
                let heard = match changes.recv().await {
                    Ok(Signal::Change(heard)) => heard,
                    Ok(Signal::Missed) | Err(RecvError::Lagged(_)) => {
                        let event = ProfileEvent { kind: ProfileEventKind::Resync, moment: None, moment_id: None };
                        return Some((event, changes));
                    }
                    Err(RecvError::Closed) => return None,
                };
                let change = heard.change;
                if change.author != author {
                    continue;
                }
                let now = services.clock.now();
                owner.begin_event(now);
                // One check per viewer and change, whatever number of subscriptions the viewer has.
                let db = &services.db.read;
                let found =
                    heard.recheck(viewer, || store::lists::visible_moment(db, viewer, change.moment, now, true)).await;
                match found {
                    Ok(Some(record)) => {
                        let event = ProfileEvent {
                            kind: change.kind.into(),
                            moment_id: Some(ID(ids::encode(NodeKind::Moment, record.id))),
                            moment: Some(Moment(record)),
                        };
                        return Some((event, changes));
                    }
                    // Invisible and missing are the same: nothing is said.
                    Ok(None) => continue,
                    Err(e) => {
                        crate::error::log_internal(&e);
                        continue;
                    }
                }
            }
        }))
    }
}
